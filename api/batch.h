/* batch.h - group commit of verified PTR sets across rdns-api's worker threads. */
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

#define API_BATCH_MAX 64

#endif
