/* batch.h - group commit of verified PTR sets, grouped token and address lookups and
 * grouped write rate takes, across rdns-api's worker threads. */
#ifndef RDNS_API_BATCH_H
#define RDNS_API_BATCH_H

#include "db/db.h"
#include "db/ptr.h"

/* Apply one PTR set (c->hostname not NULL) as db_ptr_apply would, together with the
 * sets other workers have ready at the same moment: the first worker to arrive
 * applies everything queued (distinct addresses, up to API_BATCH_MAX) with one call on
 * its own connection, the others wait for their outcome. A lone change, or a batch
 * that fails as a whole, is applied by itself. Returns c->err's value: RDNS_OK
 * (c->out filled), RDNS_ENOTFOUND or another rdns_err_t, as db_ptr_apply. */
int api_batch_apply(db_t *db, db_ptr_change_t *c);

/* Authenticate a parsed token and look an address up (l->key and l->ip set) as
 * db_ptr_auth_context_key would, together with the lookups other workers have ready at
 * the same moment: one statement (db_ptr_auth_context_batch) for all of them, one batch
 * at a time. Each lookup still gets only its own row: its token's account, its
 * address. Returns l->err: RDNS_OK (l->who, l->ctx filled), RDNS_EDENIED or RDNS_EDB. */
int api_batch_lookup(db_t *db, db_ptr_lookup_t *l);

/* Take one write from account's rate bucket as db_rate_hit would (limit 0: none is
 * taken), together with the takes other workers have ready at the same moment: one
 * statement (db_rate_hit_many) for up to API_BATCH_MAX accounts, one batch at a time, an
 * account at most once in a batch. RDNS_OK, RDNS_ELIMIT (*retry_after: seconds until the
 * next write) or another rdns_err_t. */
int api_batch_rate(db_t *db, long long account, long limit, int *retry_after);

/* Close the connections the groups opened; once no worker runs (after MHD stopped). */
void api_batch_close(void);

#define API_BATCH_MAX 64

#endif
