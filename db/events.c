/* events.c - the event feed: parameterised SQL only. */
#include "events.h"

#include <stdio.h>

/* clang-format off */
#define TS(x) "to_char(" x " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* A page of the feed from the cursor: the rows of cond, which bounds e.id by it. */
#define EVENTS_PAGE(cond, after, limit)                                                                      \
	"WITH page AS (SELECT * FROM events e WHERE " cond " ORDER BY e.id LIMIT " limit "::int + 1)"           \
	" SELECT coalesce((SELECT json_agg(json_build_object('id', x.id, 'at', " TS("x.at") ","               \
	"   'account_id', x.account_id, 'kind', x.kind, 'ip', host(x.ip), 'request_id', x.request_id,"         \
	"   'detail', x.detail) ORDER BY x.id) FROM (SELECT * FROM page ORDER BY id LIMIT " limit "::int) x),"  \
	"   '[]'::json),"                                                                                       \
	" coalesce((SELECT max(id) FROM (SELECT id FROM page ORDER BY id LIMIT " limit "::int) y), " after     \
	"::bigint), (SELECT count(*) FROM page) > " limit "::int"
/* By (account_id, id) for a customer, by id for staff: both an index range scan from the
 * cursor, however long the feed. (One statement for both, "$1 = 0 OR account_id = $1",
 * has a generic plan that walks every account's events by id for one customer's.) */
DB_STMT(st_events_account, EVENTS_PAGE("e.account_id = $1::bigint AND e.id > $2::bigint", "$2", "$3"), 3);
DB_STMT(st_events_all, EVENTS_PAGE("e.id > $1::bigint", "$1", "$2"), 2);
/* clang-format on */

PGresult *db_events_list(db_t *db, long long account, long long after, int limit, int *err)
{
	char acct[24], after_s[24], limit_s[16];
	snprintf(acct, sizeof(acct), "%lld", account);
	snprintf(after_s, sizeof(after_s), "%lld", after);
	snprintf(limit_s, sizeof(limit_s), "%d", limit);
	if (account) {
		const char *p[3] = {acct, after_s, limit_s};
		return db_exec(db, &st_events_account, p, err);
	}
	const char *p[2] = {after_s, limit_s};
	return db_exec(db, &st_events_all, p, err);
}
