/* routes_core.c - health, readiness, the API document and the caller's identity. */
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "api/metrics.h"
#include "api/routes.h"
#include "api/rows.h"
#include "core/err.h"
#include "db/staff.h"

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

/* The caller, the allocations they hold (a customer can list theirs nowhere else) and how
 * long a PUT's verification may take (the panel's progress state). */
static void me(api_req_t *r)
{
	int err;
	PGresult *res = db_staff_allocation_list(
	    r->db, &(db_alloc_filter_t){.account_id = r->caller.account_id, .limit = API_EMBED_ALLOCS + 1},
	    &err);
	if (!res) {
		api_db_error(r, err);
		return;
	}
	json_t *body = json_pack("{s:I, s:s, s:s, s:I, s:I}", "account_id", (json_int_t)r->caller.account_id,
	                         "name", r->caller.name, "role", r->caller.staff ? "staff" : "customer",
	                         "token_id", (json_int_t)r->caller.token_id, "verify_deadline_ms",
	                         (json_int_t)r->conf->verify_deadline_ms);
	api_embed_allocations(body, res);
	api_json(r, 200, body);
	PQclear(res);
}

/* Prometheus text: to metrics_allow without a token, else to staff (API_AUTH_NONE: the
 * address decides first, so a scraper on loopback needs no token). */
static void metrics(api_req_t *r)
{
	if (!api_metrics_on()) {
		api_problem(r, 404, "metrics-off", "Not Found", NULL, "%s", "metrics = off on this server");
		return;
	}
	if (!api_metrics_allowed(r->client)) {
		if (!api_req_header(r, "Authorization")) {
			api_problem(
			    r, 403, "metrics-forbidden", "Forbidden", NULL,
			    "GET /metrics is for addresses in metrics_allow (%s is not) or a staff token",
			    r->client);
			return;
		}
		if (!r->db || db_ensure(r->db) != RDNS_OK) {
			api_db_error(r, RDNS_EDB);
			return;
		}
		if (!api_auth(r))
			return; /* 401 or 503 */
		if (!r->caller.staff) {
			api_problem(r, 403, "metrics-forbidden", "Forbidden", NULL, "%s",
			            "GET /metrics is for addresses in metrics_allow or a staff token");
			return;
		}
	}
	core_strbuf_t b = {0};
	if (!api_metrics_expose(&b)) {
		free(b.p);
		api_problem(r, 500, NULL, "Internal Server Error", NULL, "%s", "out of memory");
		return;
	}
	api_raw(r, 200, CORE_METRICS_CONTENT_TYPE, b.p, b.len);
	free(b.p);
}

const api_route_t api_routes_core[] = {
    {"GET", "/healthz", API_AUTH_NONE, false, healthz},
    {"GET", "/readyz", API_AUTH_NONE, false, readyz},
    {"GET", "/v1/openapi.yaml", API_AUTH_NONE, false, openapi},
    {"GET", "/v1/me", API_AUTH_ANY, false, me},
    {"GET", "/metrics", API_AUTH_NONE, false, metrics},
    {NULL, NULL, 0, false, NULL},
};
