/* diag.h - what the deliverability diagnostics read and count in PostgreSQL (issue #18). */
#ifndef RDNS_DB_DIAG_H
#define RDNS_DB_DIAG_H

#include "db/db.h"

/* Take one token of the account's diagnostics bucket (diag_buckets, rdns_diag_take):
 * at most limit a minute, refilled continuously, shared by every instance. RDNS_OK,
 * RDNS_ELIMIT (*retry_after: whole seconds until the next one, at least 1) or a
 * db_exec() error. limit <= 0: no limit, nothing asked. */
int db_diag_rate_hit(db_t *db, long long account, long limit, int *retry_after);

#endif
