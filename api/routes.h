/* routes.h - the API's route tables, in the order the router tries them, and what the
 * route modules share. */
#ifndef RDNS_API_ROUTES_H
#define RDNS_API_ROUTES_H

#include "api/http.h"
#include "db/ptr.h"

/* The tables of the route modules, each ending with a NULL method. A module serves the
 * resource it is named after. */
extern const api_route_t api_routes_core[];        /* /healthz, /readyz, /v1/openapi.yaml, /v1/me */
extern const api_route_t api_routes_ptr[];         /* /v1/ptr */
extern const api_route_t api_routes_requests[];    /* /v1/requests, the review queue */
extern const api_route_t api_routes_accounts[];    /* /v1/accounts, /v1/tokens */
extern const api_route_t api_routes_allocations[]; /* /v1/allocations */
extern const api_route_t api_routes_zones[];       /* /v1/zones */
extern const api_route_t api_routes_audit[];       /* /v1/audit */
/* the web panel (issue 15) */
extern const api_route_t api_routes_addresses[]; /* /v1/addresses: every address of a block */
extern const api_route_t api_routes_panel[];     /* /, /panel/: the panel's files */
extern const api_route_t api_routes_events[];    /* /v1/events (the worker's feed, issue 18) */
extern const api_route_t api_routes_diag[];      /* /v1/ptr/{ip}/diagnostics (issue #18) */
/* delegations (issue 16) */
extern const api_route_t api_routes_delegations[]; /* /v1/delegations */
extern const api_route_t api_routes_batch[];       /* POST /v1/ptr:batch, bulk changes */

/* Every table above, in that order, then NULL: what the router walks (the first route
 * whose pattern and method match wins; the others of a matching pattern make the Allow
 * header of a 405). */
extern const api_route_t *const api_route_tables[];

/* Answer status with request id as GET /v1/requests/{id} shows it (routes_requests.c;
 * the PTR routes answer a request queued for review with it). */
void api_request_answer(api_req_t *r, unsigned status, long long id);

/* The record of ip as GET /v1/ptr/{ip} shows it: custom, the zone's default, or none
 * (routes_ptr.c; GET /v1/addresses lists the same for every address of a block). */
json_t *api_ptr_record_json(const char *ip, const core_addr_t *a, const db_ptr_ctx_t *ctx);

#endif
