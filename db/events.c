/* events.c - the event feed: parameterised SQL only. */
#include "events.h"

#include <stdio.h>

/* clang-format off */
#define TS(x) "to_char(" x " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* By (account_id, id) for a customer, by id for staff: both an index range scan from the
 * cursor, however long the feed. */
DB_STMT(st_events,
	"WITH page AS (SELECT * FROM events e WHERE e.id > $2::bigint"
	" AND ($1::bigint = 0 OR e.account_id = $1::bigint) ORDER BY e.id LIMIT $3::int + 1)"
	" SELECT coalesce((SELECT json_agg(json_build_object('id', x.id, 'at', " TS("x.at") ","
	"   'account_id', x.account_id, 'kind', x.kind, 'ip', host(x.ip), 'request_id', x.request_id,"
	"   'detail', x.detail) ORDER BY x.id) FROM (SELECT * FROM page ORDER BY id LIMIT $3::int) x), '[]'::json),"
	" coalesce((SELECT max(id) FROM (SELECT id FROM page ORDER BY id LIMIT $3::int) y), $2::bigint),"
	" (SELECT count(*) FROM page) > $3::int",
	3);
/* clang-format on */

PGresult *db_events_list(db_t *db, long long account, long long after, int limit, int *err)
{
	char acct[24], after_s[24], limit_s[16];
	snprintf(acct, sizeof(acct), "%lld", account);
	snprintf(after_s, sizeof(after_s), "%lld", after);
	snprintf(limit_s, sizeof(limit_s), "%d", limit);
	const char *p[3] = {acct, after_s, limit_s};
	return db_exec(db, &st_events, p, err);
}
