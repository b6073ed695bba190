/* ptr.h - PTR records, requests and rate limits in PostgreSQL. */
#ifndef RDNS_DB_PTR_H
#define RDNS_DB_PTR_H

#include <stdbool.h>

#include "db/accounts.h"
#include "db/db.h"
#include "db/deleg.h"

/* What the database knows about one address. */
typedef struct {
	bool in_zone; /* some reverse zone contains the address */
	long long zone_id;
	char zone[80];         /* zone name, no trailing dot */
	char default_ptr[256]; /* template, "" if none */
	long long owner;       /* account whose allocation contains it, 0 if none */
	bool has_record;       /* a custom PTR exists */
	char hostname[256];
	char verified_at[40]; /* "" if null */
	char updated_at[40];
	/* the delegation that holds the address (migration 009): its prefix and name
	 * servers ("ns1.example.net, ns2.example.net"); "" when none */
	char delegation[50];
	char delegation_ns[1024];
} db_ptr_ctx_t;

/* Look up an address (canonical text). RDNS_OK (ctx filled; in_zone may be false) or an error. */
int db_ptr_context(db_t *db, const char *ip, db_ptr_ctx_t *ctx);

/* Authenticate a parsed token (db_token_parse) and look up ip in one statement (see
 * db_token_check_key). RDNS_OK, RDNS_EDENIED or RDNS_EDB. */
int db_ptr_auth_context_key(db_t *db, const db_token_key_t *k, const char *ip, db_principal_t *who,
                            db_ptr_ctx_t *ctx);

/* One lookup of db_ptr_auth_context_batch: a parsed token and an address (canonical
 * text) in, and what db_ptr_auth_context_key would have answered out. */
typedef struct {
	const db_token_key_t *key;
	const char *ip;
	int err;    /* RDNS_OK (who, ctx and stale filled) or RDNS_EDENIED */
	bool stale; /* the token's last_used_at wants a refresh (db_token_touch) */
	db_principal_t who;
	db_ptr_ctx_t ctx;
} db_ptr_lookup_t;

/* n lookups in one statement. RDNS_OK: each has its err; otherwise (RDNS_EDB, ...)
 * none was made. The caller refreshes stale tokens. */
int db_ptr_auth_context_batch(db_t *db, db_ptr_lookup_t *const *q, size_t n);

/* What db_ptr_apply wrote. */
typedef struct {
	long long request_id;
	char updated_at[40];       /* of the record as written; "" after a delete */
	char verified_at[40];      /* "" when forced (or after a delete) */
	db_deleg_ref_t delegation; /* with RDNS_EDELEGATED: the delegation that holds the address */
} db_ptr_applied_t;

/* Apply a change in one transaction (rdns_ptr_apply: upsert or delete the
 * record, supersede pending requests, mark the zone dirty and NOTIFY
 * rdns_changes when the name changes, audit): hostname NULL removes the
 * custom record. owner: the customer whose allocation must contain ip, or 0
 * for staff. Returns RDNS_OK with *out filled, RDNS_ENOTFOUND when the
 * address is not (or no longer) the owner's or in a zone, RDNS_EDELEGATED
 * (out->delegation filled) when it is inside a delegation: checked under the
 * lock that holds a new delegation back until this commits. */
int db_ptr_apply(db_t *db, const char *ip, const char *hostname, long long owner, long long actor,
                 const char *actor_name, bool forced, const char *checks_json, const char *reason,
                 db_ptr_applied_t *out);

/* One PTR set for db_ptr_apply_batch: the arguments of db_ptr_apply (hostname not
 * NULL) and, after the call, its outcome. */
typedef struct {
	const char *ip;
	const char *hostname;
	long long owner;
	long long actor;
	const char *actor_name;
	bool forced;
	const char *checks_json;
	const char *reason;
	int err; /* RDNS_OK (out filled), RDNS_ENOTFOUND or RDNS_EDELEGATED, as db_ptr_apply */
	db_ptr_applied_t out;
} db_ptr_change_t;

/* Apply n sets to distinct addresses in one transaction (rdns_ptr_apply_batch): each
 * change as db_ptr_apply would apply it. RDNS_OK: every change has its err and out.
 * Otherwise (the batch failed as a whole and nothing was applied) an rdns_err_t. */
int db_ptr_apply_batch(db_t *db, db_ptr_change_t *const *c, size_t n);

/* Record a request that was not applied (state "failed_checks" or "pending_review"). */
int db_ptr_request(db_t *db, const char *ip, const char *hostname, long long account, const char *actor_name,
                   const char *state, const char *checks_json, const char *reason, long long *request_id);

/* One request as JSON text in a PGresult (column 0), visible to account
 * (0: any). NULL with *err == RDNS_OK when not found/visible. */
PGresult *db_request_json(db_t *db, long long id, long long account, int *err);

/* Requests as a JSON array text (column 0) and the next cursor (column 1,
 * NULL at the end). account 0: all (staff); state NULL: any. */
PGresult *db_request_list(db_t *db, long long account, const char *state, const char *ip, long long before,
                          int limit, int *err);

/* Custom records as a JSON array text (column 0) and next cursor (column 1):
 * those inside prefix (NULL: all) and, when account != 0, inside that
 * account's allocations, with ip > after (NULL: from the start); drifted: only
 * those that re-verification found drifted. Each with its re-verification state. */
PGresult *db_ptr_list(db_t *db, long long account, const char *prefix, const char *after, bool drifted,
                      int limit, int *err);

/* Staff decision on a pending request, applying the PTR on approval, all
 * audited, in one transaction. RDNS_ENOTFOUND (no such request),
 * RDNS_EEXIST (not pending any more), RDNS_EDENIED (approval of a request
 * whose address is no longer the requester's or in a zone), RDNS_EDELEGATED
 * (approval of one whose address is inside a delegation now: *deleg filled,
 * nothing decided). */
int db_request_decide(db_t *db, long long id, long long staff, const char *staff_name, bool approve,
                      const char *note, db_deleg_ref_t *deleg);

/* Take one write from account's token bucket (rdns_rate_take: at most limit at once,
 * refilled at limit a minute, shared by all instances); RDNS_ELIMIT with *retry_after
 * seconds until the next write when the bucket is empty (limit 0: unlimited). */
int db_rate_hit(db_t *db, long long account, long limit, int *retry_after);

/* One take of db_rate_hit, as rdns-api's rate group gathers them (api/batch.c). */
typedef struct {
	long long account;
	long limit; /* > 0 */
	int err;    /* RDNS_OK, RDNS_ELIMIT (retry_after set) or another rdns_err_t */
	int retry_after;
} db_rate_take_t;

/* n takes for distinct accounts with one limit in one statement (rdns_rate_take_many),
 * each with what db_rate_hit would give it. RDNS_OK: each has its err (RDNS_EDB for an
 * account whose bucket could not be found); otherwise nothing was taken. */
int db_rate_hit_many(db_t *db, db_rate_take_t *const *q, size_t n);

#endif
