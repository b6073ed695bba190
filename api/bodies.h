/* bodies.h - what each route that takes a JSON body checks about it before it touches the
 * database: one function per route, and the table of them that tests/fuzz/fuzz_json.c walks.
 *
 * Each function reads r->json (an object), and r->caller and r->conf where the route's rules
 * depend on them; none uses r->db. On success it fills *out (strings point into r->json) and
 * answers nothing; on failure it answers a 4xx problem, exactly as the handler does, and
 * returns false. The handlers call them, so the fuzzer checks the code that runs. */
#ifndef RDNS_API_BODIES_H
#define RDNS_API_BODIES_H

#include <stdbool.h>
#include <stddef.h>

#include "api/http.h"
#include "core/addr.h"
#include "core/endpoint.h"
#include "core/hostname.h"
#include "core/revname.h"

/* PUT /v1/ptr/{ip}. force only from staff (else 403); reason NULL or 1 to 2000 characters.
 * The hostname is the verifier's to judge. wait: "wait_for_forward" (not with force). */
typedef struct {
	const char *hostname, *reason;
	bool force;
	bool wait;
} api_ptr_put_t;
bool api_ptr_put_body(api_req_t *r, api_ptr_put_t *out);

/* POST /v1/requests/{id}/approve and /reject: note NULL or at most 2000 characters. */
typedef struct {
	const char *note;
} api_decide_t;
bool api_decide_body(api_req_t *r, api_decide_t *out);

/* POST /v1/accounts: a name core_text_name_problem() accepts (200 characters), role
 * "customer" or "staff". */
typedef struct {
	const char *name, *role;
} api_account_new_t;
bool api_account_body(api_req_t *r, api_account_new_t *out);

/* POST /v1/accounts/{id}/tokens: an empty object. */
bool api_token_body(api_req_t *r);

/* POST /v1/allocations: account_id > 0, a prefix without host bits. */
typedef struct {
	long long account_id;
	core_prefix_t prefix;
} api_allocation_new_t;
bool api_allocation_body(api_req_t *r, api_allocation_new_t *out);

#define API_ZONE_MAX_NS       13  /* what fits a classic 512-octet referral */
#define API_ZONE_TEMPLATE_MAX 255 /* bytes of a default_ptr template */

/* A zone's configuration while it is validated: names normalised (core_hostname_normalize),
 * NOTIFY targets canonical (core_endpoint_format), SOA timers within 0/1 to INT32_MAX. */
typedef struct {
	core_prefix_t prefix;
	char ns[API_ZONE_MAX_NS][CORE_HOSTNAME_MAX];
	size_t n_ns;
	char notify[CORE_NOTIFY_MAX_TARGETS][CORE_ENDPOINT_STRLEN];
	size_t n_notify;
	char default_ptr[API_ZONE_TEMPLATE_MAX + 1];
	bool has_default_ptr;
	char mname[CORE_HOSTNAME_MAX], rname[CORE_HOSTNAME_MAX]; /* "" until defaulted */
	long long refresh, retry, expire, minimum, ttl;
	char classless_label[8]; /* "range" or "slash" ("": range); delegations (issue 16) */
} api_zone_spec_t;

/* POST /v1/zones: the defaults, then the body applied (api_zone_apply); the prefix on a
 * reverse-zone cut (else 400 not-a-zone-cut, naming the zones to create). */
bool api_zone_create_body(api_req_t *r, api_zone_spec_t *out);

/* PATCH /v1/zones/{zone}: the fields, the zone named by r->params[0] (else 404) into name
 * (canonical, no trailing dot), at least one field. The fields are applied to the stored
 * configuration in the database's transaction, with api_zone_apply(). */
bool api_zone_update_body(api_req_t *r, char name[CORE_REVNAME_MAX]);

/* Apply and validate the zone fields present in body to z (the defaults or the stored
 * configuration; z->prefix is the zone's). Answers 400 and returns false on the first bad
 * field. */
bool api_zone_apply(api_req_t *r, const json_t *body, api_zone_spec_t *z);

/* PUT /v1/delegations/{address}/{length} (routes_delegations.c; issue 16): nameservers, 1
 * to API_DELEG_MAX_NS host names, normalised (core_hostname_normalize), outside the
 * special-use names (special_names), no repeats; force only from staff (else 403). The
 * prefix of the path is the handler's to check. */
#define API_DELEG_MAX_NS 13
typedef struct {
	char ns[API_DELEG_MAX_NS][CORE_HOSTNAME_MAX];
	size_t n_ns;
	bool force;
} api_deleg_put_t;
bool api_deleg_put_body(api_req_t *r, api_deleg_put_t *out);

/* POST /v1/ptr:batch (routes_batch.c; issue 16): either "items", 1 to API_BATCH_ITEMS
 * objects {"ip": string, "hostname": string} or {"ip": string, "reset": true} (nothing
 * else), or the generated form "prefix" (IPv4, at most API_BATCH_ITEMS addresses, inside
 * no other check) with "template" (core_zonefile_template's placeholders, valid on the
 * first address); "atomic" optional. A malformed item is a 400 naming it; an address that
 * does not parse is the item's own 400, in its place, later. */
#define API_BATCH_ITEMS 1000
typedef struct {
	size_t n;            /* items, or addresses of the prefix */
	bool atomic;         /* all or none */
	const json_t *items; /* r->json's "items", or NULL for the generated form */
	core_prefix_t prefix;
	const char *tmpl;
} api_batch_t;
bool api_batch_body(api_req_t *r, api_batch_t *out);

/* What a check fills. */
typedef union {
	api_ptr_put_t ptr_put;
	api_decide_t decide;
	api_account_new_t account;
	api_allocation_new_t allocation;
	api_zone_spec_t zone;             /* POST /v1/zones */
	char zone_name[CORE_REVNAME_MAX]; /* PATCH /v1/zones/{zone} */
	api_deleg_put_t deleg_put;        /* PUT /v1/delegations/{address}/{length} */
	api_batch_t batch;                /* POST /v1/ptr:batch */
} api_body_t;

typedef enum {
	API_BODY_PTR_PUT,
	API_BODY_DECIDE,
	API_BODY_ACCOUNT,
	API_BODY_TOKEN, /* fills nothing */
	API_BODY_ALLOCATION,
	API_BODY_ZONE_CREATE,
	API_BODY_ZONE_UPDATE,
	API_BODY_DELEG_PUT,
	API_BODY_BATCH,
} api_body_kind_t;

/* One route that takes a body (method and pattern as in its api_route_t). */
typedef struct {
	const char *method, *pattern;
	api_body_kind_t kind; /* which member of api_body_t check fills */
	const char *param;    /* a '*' segment the route accepts, for callers without a request */
	bool (*check)(api_req_t *r, api_body_t *out);
} api_body_check_t;

/* Every route that takes a body, ending with a NULL method. */
extern const api_body_check_t api_body_checks[];

/* Whether api_body_checks and the routes with body = true in api_route_tables are the
 * same set. If not, *missing is a body route without an entry (else NULL) and *stale an
 * entry without such a route (else NULL). */
bool api_body_checks_cover(const api_route_t **missing, const api_body_check_t **stale);

#endif
