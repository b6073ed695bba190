/* delegcheck.h - the periodic re-check of delegations (delegation_checks, migration 013):
 * scheduling, claims within the budget PTR re-verifications share, and the batch of
 * outcomes (db/functions/262 ... 264). */
#ifndef RDNS_DB_DELEGCHECK_H
#define RDNS_DB_DELEGCHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "db/db.h"

/* Schedule every re-check row not scheduled yet (new delegations) at a random point of the
 * next interval_s seconds (rdns_delegation_recheck_discover). RDNS_OK with *added. */
int db_delegcheck_discover(db_t *db, long interval_s, long *added);

/* One claimed re-check, and its outcome once checked. */
typedef enum { DB_DELEGCHECK_PASS, DB_DELEGCHECK_LAME, DB_DELEGCHECK_UNKNOWN } db_delegcheck_result_t;
typedef struct {
	long long id;
	char prefix[50];         /* the delegation, cidr as PostgreSQL prints it */
	char ns[1024];           /* its name servers, space-separated, as claimed */
	char zone_prefix[50];    /* its reverse zone's prefix */
	char classless_label[8]; /* "range" or "slash" */
	db_delegcheck_result_t result;
	char *checks_json; /* the findings of a PASS or LAME (malloc()ed, the caller's), else NULL */
} db_delegcheck_t;

/* Claim at most n due delegations for lease_ms within the budget qps (0: none) shared
 * with PTR re-verifications (rdns_delegation_recheck_claim). RDNS_OK with *got in out,
 * and *spent true when some were due but the budget allowed none now. */
int db_delegcheck_claim(db_t *db, size_t n, double qps, long lease_ms, db_delegcheck_t *out, size_t *got,
                        bool *spent);

/* What one finish did, counted per outcome (rdns_delegation_recheck_finish's words). */
typedef struct {
	size_t pass, lame, still_lame, recovered, unknown, changed;
} db_delegcheck_counts_t;

/* Record the outcomes of n claimed re-checks in one transaction
 * (rdns_delegation_recheck_finish): next check interval_s from now, an unknown one
 * retry_ms from now; becoming lame and recovering audited (actor worker) and told as
 * events. RDNS_OK with *counts and, when outcomes is not NULL (n entries, NULL-filled by
 * the caller), outcomes[i] "lame" or "recovered" for those that changed state; or an
 * rdns_err_t (nothing recorded: due again after the lease). */
int db_delegcheck_finish(db_t *db, const db_delegcheck_t *x, size_t n, long interval_s, long retry_ms,
                         const char *worker, db_delegcheck_counts_t *counts, const char **outcomes);

#endif
