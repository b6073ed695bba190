/* bulk.h - bulk PTR changes (POST /v1/ptr:batch) in PostgreSQL: the items' addresses looked
 * up in one statement, the verified items applied in one transaction, the rate limit taken
 * by items. */
#ifndef RDNS_DB_BULK_H
#define RDNS_DB_BULK_H

#include <stdbool.h>
#include <stddef.h>

#include "db/db.h"
#include "db/deleg.h"

/* What the database knows about one item's address. */
typedef struct {
	bool in_zone;
	char zone[80];
	char default_ptr[256];
	long long owner;         /* account whose allocation holds it, 0: none */
	char delegation[50];     /* the delegation holding it, "" if none */
	char delegation_ns[512]; /* its name servers, ", "-separated */
} db_bulk_ctx_t;

/* Look ips[0..n) (canonical text) up in one statement into ctx[0..n). RDNS_OK or an error. */
int db_bulk_context(db_t *db, const char *const *ips, size_t n, db_bulk_ctx_t *ctx);

/* One item to apply: hostname NULL resets the address. After db_bulk_apply: applied, and
 * then request_id and (for a set) the record's timestamps. */
typedef struct {
	const char *ip;
	const char *hostname;
	const char *checks_json; /* the verifier's findings (NULL: none) */
	bool applied;
	db_deleg_ref_t delegation; /* not applied because the address is delegated: prefix "" if not */
	long long request_id;
	char updated_at[40];
	char verified_at[40];
} db_bulk_item_t;

/* Apply it[0..n) (distinct addresses) in one transaction (rdns_ptr_bulk_apply). owner 0:
 * staff. RDNS_OK: each item says whether it was applied (not: no longer the owner's or in no
 * zone; or delegated, with delegation set); RDNS_EDENIED when atomic and one of them could not be (nothing is
 * applied); another rdns_err_t when the batch failed as a whole. */
int db_bulk_apply(db_t *db, db_bulk_item_t *it, size_t n, long long owner, long long actor,
                  const char *actor_name, bool atomic);

/* Take n writes at once from account's token bucket (rdns_rate_take_n). RDNS_OK, or
 * RDNS_ELIMIT with *retry_after (seconds; -1 when n exceeds limit and never fits); limit 0:
 * unlimited. */
int db_rate_hit_n(db_t *db, long long account, long limit, size_t n, int *retry_after);

#endif
