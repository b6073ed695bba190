/* routes_audit.c - the staff route for the append-only audit log (/v1/audit). */
#include "api/respond.h"
#include "api/routes.h"
#include "api/rows.h"
#include "core/addr.h"
#include "core/err.h"
#include "db/staff.h"

static void audit_list(api_req_t *r)
{
	db_audit_filter_t f = {0};
	const char *ip = api_query(r, "ip");
	char ip_text[CORE_ADDR_STRLEN];
	core_addr_t a;
	if (ip) {
		if (core_addr_parse(ip, &a) != RDNS_OK) {
			api_bad_param(r, API_PROBLEM_NAMED, "ip", ip, "an IP address");
			return;
		}
		core_addr_format(&a, ip_text, sizeof(ip_text));
		f.ip = ip_text;
	}
	if (!api_query_id(r, API_PROBLEM_NAMED, "account", "an account id", &f.actor_id) ||
	    !api_query_id(r, API_PROBLEM_NAMED, "before", "an audit entry id", &f.before_id) ||
	    !api_query_limit(r, API_PROBLEM_NAMED, &f.limit))
		return;
	f.action = api_query(r, "action");
	int want = f.limit, err;
	f.limit++; /* one more tells whether there is a next page */
	PGresult *res = db_staff_audit_list(r->db, &f, &err);
	if (!res) {
		api_db_error(r, err);
		return;
	}
	json_t *items = json_array();
	int n = PQntuples(res);
	for (int i = 0; i < n && i < want; i++)
		json_array_append_new(items, api_audit_json(res, i));
	json_t *next = n > want ? api_row_int(res, want - 1, DB_AUDIT_ID) : json_null();
	api_json(r, 200, json_pack("{s:o, s:o}", "items", items, "next", next));
	PQclear(res);
}

const api_route_t api_routes_audit[] = {
    {"GET", "/v1/audit", API_AUTH_STAFF, false, audit_list},
    {NULL, NULL, 0, false, NULL},
};
