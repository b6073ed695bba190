/* routes_addresses.c - every address of an IPv4 block with its PTR, a page at a time
 * (/v1/addresses): what the web panel lists for a customer's block (issue 15). */
#include <stdint.h>
#include <stdio.h>

#include "api/respond.h"
#include "api/routes.h"
#include "core/addr.h"
#include "core/err.h"
#include "db/addresses.h"

static uint32_t v4(const core_addr_t *a)
{
	return (uint32_t)a->b[0] << 24 | (uint32_t)a->b[1] << 16 | (uint32_t)a->b[2] << 8 | a->b[3];
}

static void addresses_list(api_req_t *r)
{
	const char *prefix_q = api_query(r, "prefix"), *after_q = api_query(r, "after");
	core_prefix_t p;
	core_addr_t after;
	int limit;
	if (!api_query_limit(r, API_PROBLEM_SENTENCE, &limit))
		return;
	if (!prefix_q) {
		api_bad_param(r, API_PROBLEM_SENTENCE, "prefix", "", "an IPv4 address/length");
		return;
	}
	if (core_prefix_parse(prefix_q, &p) != RDNS_OK || p.addr.family != CORE_AF_INET) {
		api_bad_param(r, API_PROBLEM_SENTENCE, "prefix", prefix_q,
		              "an IPv4 address/length without host bits (an IPv6 prefix lists its custom "
		              "records: GET /v1/ptr?prefix=)");
		return;
	}
	uint64_t size = (uint64_t)1 << (32 - p.len), first = 0;
	if (after_q) {
		if (core_addr_parse(after_q, &after) != RDNS_OK || !core_prefix_contains(&p, &after)) {
			api_bad_param(r, API_PROBLEM_SENTENCE, "after", after_q,
			              "an address inside the prefix");
			return;
		}
		first = (uint64_t)(v4(&after) - v4(&p.addr)) + 1;
	}
	char prefix[CORE_PREFIX_STRLEN], base[CORE_ADDR_STRLEN];
	core_prefix_format(&p, prefix, sizeof(prefix));
	core_addr_format(&p.addr, base, sizeof(base));
	if (!r->caller.staff) {
		int rc = db_allocation_holds(r->db, r->caller.account_id, prefix);
		if (rc == RDNS_ENOTFOUND) {
			api_problem(r, 404, "not-your-address", "Not Found", NULL,
			            "%s is not inside one of your allocations", prefix);
			return;
		}
		if (rc != RDNS_OK) {
			api_db_error(r, rc);
			return;
		}
	}
	json_t *items = json_array();
	uint64_t last = first + (uint64_t)limit < size ? first + (uint64_t)limit - 1 : size - 1;
	if (first < size) {
		int err;
		PGresult *res = db_addresses_page(r->db, base, (long long)first, (long long)last, &err);
		if (!res) {
			json_decref(items);
			api_db_error(r, err);
			return;
		}
		for (int i = 0; i < PQntuples(res); i++) {
			db_ptr_ctx_t ctx;
			core_addr_t a;
			const char *ip = PQgetvalue(res, i, DB_ADDR_IP);
			db_addresses_ctx(res, i, &ctx);
			if (core_addr_parse(ip, &a) != RDNS_OK)
				continue;
			json_t *o = api_ptr_record_json(ip, &a, &ctx);
			if (!ctx.in_zone)
				json_object_set_new(o, "zone", json_null());
			json_array_append_new(items, o);
		}
		PQclear(res);
	}
	json_t *next = json_null();
	if (first < size && last + 1 < size) {
		core_addr_t n = p.addr;
		uint32_t v = v4(&p.addr) + (uint32_t)last;
		n.b[0] = (uint8_t)(v >> 24), n.b[1] = (uint8_t)(v >> 16), n.b[2] = (uint8_t)(v >> 8),
		n.b[3] = (uint8_t)v;
		char t[CORE_ADDR_STRLEN];
		core_addr_format(&n, t, sizeof(t));
		next = json_string(t);
	}
	api_json(r, 200,
	         json_pack("{s:o, s:o, s:s, s:I}", "items", items, "next", next, "prefix", prefix, "total",
	                   (json_int_t)size));
}

const api_route_t api_routes_addresses[] = {
    {"GET", "/v1/addresses", API_AUTH_ANY, false, addresses_list},
    {NULL, NULL, 0, false, NULL},
};
