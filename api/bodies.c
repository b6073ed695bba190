/* bodies.c - the table of what each route that takes a JSON body checks about it before it
 * touches the database (the checks live with their routes, in api/routes_*.c). */
#include "bodies.h"

#include <string.h>

#include "api/routes.h"

static bool ptr_put(api_req_t *r, api_body_t *out)
{
	return api_ptr_put_body(r, &out->ptr_put);
}

static bool decide(api_req_t *r, api_body_t *out)
{
	return api_decide_body(r, &out->decide);
}

static bool account(api_req_t *r, api_body_t *out)
{
	return api_account_body(r, &out->account);
}

static bool token(api_req_t *r, api_body_t *out)
{
	return api_token_body(r);
}

static bool allocation(api_req_t *r, api_body_t *out)
{
	return api_allocation_body(r, &out->allocation);
}

static bool zone_create(api_req_t *r, api_body_t *out)
{
	return api_zone_create_body(r, &out->zone);
}

static bool zone_update(api_req_t *r, api_body_t *out)
{
	return api_zone_update_body(r, out->zone_name);
}

static bool deleg_put(api_req_t *r, api_body_t *out)
{
	return api_deleg_put_body(r, &out->deleg_put);
}

static bool batch(api_req_t *r, api_body_t *out)
{
	return api_batch_body(r, &out->batch);
}

const api_body_check_t api_body_checks[] = {
    {"PUT", "/v1/ptr/*", API_BODY_PTR_PUT, "192.0.2.10", ptr_put},
    {"POST", "/v1/requests/*/approve", API_BODY_DECIDE, "1", decide},
    {"POST", "/v1/requests/*/reject", API_BODY_DECIDE, "1", decide},
    {"POST", "/v1/accounts", API_BODY_ACCOUNT, NULL, account},
    {"POST", "/v1/accounts/*/tokens", API_BODY_TOKEN, "1", token},
    {"POST", "/v1/allocations", API_BODY_ALLOCATION, NULL, allocation},
    {"POST", "/v1/zones", API_BODY_ZONE_CREATE, NULL, zone_create},
    {"PATCH", "/v1/zones/*", API_BODY_ZONE_UPDATE, "2.0.192.in-addr.arpa", zone_update},
    {"PUT", "/v1/delegations/*/*", API_BODY_DELEG_PUT, "192.0.2.64", deleg_put}, /* issue 16 */
    {"POST", "/v1/ptr:batch", API_BODY_BATCH, NULL, batch},                      /* issue 16 */
    {NULL, NULL, 0, NULL, NULL},
};

static bool same(const char *method, const char *pattern, const api_body_check_t *c)
{
	return strcmp(method, c->method) == 0 && strcmp(pattern, c->pattern) == 0;
}

bool api_body_checks_cover(const api_route_t **missing, const api_body_check_t **stale)
{
	*missing = NULL;
	*stale = NULL;
	for (const api_route_t *const *t = api_route_tables; *t && !*missing; t++)
		for (const api_route_t *rt = *t; rt->method && !*missing; rt++) {
			const api_body_check_t *c = api_body_checks;
			while (c->method && !same(rt->method, rt->pattern, c))
				c++;
			if (rt->body && !c->method)
				*missing = rt;
			else if (!rt->body && c->method)
				*stale = c; /* an entry for a route that takes no body */
		}
	for (const api_body_check_t *c = api_body_checks; c->method && !*stale; c++) {
		bool found = false;
		for (const api_route_t *const *t = api_route_tables; *t && !found; t++)
			for (const api_route_t *rt = *t; rt->method && !found; rt++)
				found = rt->body && same(rt->method, rt->pattern, c);
		if (!found)
			*stale = c;
	}
	return !*missing && !*stale;
}
