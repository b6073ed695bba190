/* routes_core.c - health, readiness, the API document and the caller's identity. */
#include <string.h>

#include "api/routes.h"
#include "core/err.h"

extern const char api_openapi_yaml[];
extern const unsigned long api_openapi_yaml_len;

static void healthz(api_req_t *r)
{
	api_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

static void readyz(api_req_t *r)
{
	if (!r->db || db_ensure(r->db) != RDNS_OK || db_simple(r->db, "SELECT 1") != RDNS_OK) {
		/* One retry on a fresh connection: the old one may have died with the server. */
		if (!r->db || db_ensure(r->db) != RDNS_OK || db_simple(r->db, "SELECT 1") != RDNS_OK) {
			api_problem(r, 503, "database-unavailable", "Service Unavailable", NULL, "%s",
			            "the database is not reachable");
			api_header(r, "Retry-After", "1");
			return;
		}
	}
	api_json(r, 200, json_pack("{s:s, s:s}", "status", "ready", "database", "ok"));
}

static void openapi(api_req_t *r)
{
	api_raw(r, 200, "application/yaml", api_openapi_yaml, api_openapi_yaml_len);
}

static void me(api_req_t *r)
{
	api_json(r, 200,
	         json_pack("{s:I, s:s, s:s, s:I}", "account_id", (json_int_t)r->caller.account_id, "name",
	                   r->caller.name, "role", r->caller.staff ? "staff" : "customer", "token_id",
	                   (json_int_t)r->caller.token_id));
}

const api_route_t api_routes_core[] = {
    {"GET", "/healthz", API_AUTH_NONE, false, healthz},
    {"GET", "/readyz", API_AUTH_NONE, false, readyz},
    {"GET", "/v1/openapi.yaml", API_AUTH_NONE, false, openapi},
    {"GET", "/v1/me", API_AUTH_ANY, false, me},
    {NULL, NULL, 0, false, NULL},
};
