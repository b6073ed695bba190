/* routes_events.c - the event feed (/v1/events): requests applied, rejected or expired
 * and records drifted or reset, oldest first, for panels and scripts that poll. */
#include <stdlib.h>
#include <string.h>

#include "api/respond.h"
#include "api/routes.h"
#include "core/err.h"
#include "db/events.h"

/* GET /v1/events?after=<cursor>&limit=: the caller's events (staff: everyone's) with an id
 * above the cursor. "next" is always the cursor to poll with (the last id given, or the
 * one asked with when nothing is new); "more" says a full page left events behind. */
static void events_list(api_req_t *r)
{
	long long after = 0;
	int limit;
	const char *after_q = api_query(r, "after");
	if (!api_query_limit(r, API_PROBLEM_SENTENCE, &limit))
		return;
	if (after_q && strcmp(after_q, "0") != 0 &&
	    !api_query_id(r, API_PROBLEM_SENTENCE, "after",
	                  "an event id (the \"next\" of the last page) or 0", &after))
		return;
	int err;
	PGresult *res = db_events_list(r->db, r->caller.staff ? 0 : r->caller.account_id, after, limit, &err);
	if (!res) {
		api_db_error(r, err);
		return;
	}
	json_t *items = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	json_t *o =
	    json_pack("{s:o, s:I, s:b}", "items", items ? items : json_array(), "next",
	              (json_int_t)atoll(PQgetvalue(res, 0, 1)), "more", PQgetvalue(res, 0, 2)[0] == 't');
	PQclear(res);
	api_json(r, 200, o);
}

const api_route_t api_routes_events[] = {
    {"GET", "/v1/events", API_AUTH_ANY, false, events_list},
    {NULL, NULL, 0, false, NULL},
};
