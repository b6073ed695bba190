/* events.h - the event feed (GET /v1/events): what happened to an account's requests and
 * records without a client waiting for it, oldest first, by cursor. */
#ifndef RDNS_DB_EVENTS_H
#define RDNS_DB_EVENTS_H

#include "db/db.h"

/* Events with id > after, oldest first, at most limit: column 0 a JSON array text,
 * column 1 the cursor to ask with next (the last id given, or after when none),
 * column 2 't' when more are waiting. account 0: every account's (staff). */
PGresult *db_events_list(db_t *db, long long account, long long after, int limit, int *err);

#endif
