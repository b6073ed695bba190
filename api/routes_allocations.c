/* routes_allocations.c - IP allocations, who holds which prefix (/v1/allocations): staff
 * routes, and the list for customers too (their own). */
#include <stdio.h>

#include "api/bodies.h"
#include "api/respond.h"
#include "api/routes.h"
#include "api/rows.h"
#include "core/addr.h"
#include "core/err.h"
#include "db/addresses.h"
#include "db/staff.h"

/* 409 for a prefix that overlaps existing allocations, naming them. Call
 * after the failed transaction is rolled back. */
static void allocation_overlap(api_req_t *r, const char *prefix)
{
	int err;
	PGresult *res = db_staff_allocation_overlapping(r->db, prefix, &err);
	if (!res || PQntuples(res) == 0) {
		api_problem(r, 409, "overlap", "Conflict", NULL, "%s overlaps an existing allocation",
		            prefix);
		PQclear(res);
		return;
	}
	json_t *existing = api_rows_json(res, api_allocation_json);
	json_t *first = json_array_get(existing, 0);
	int n = PQntuples(res);
	api_problem(r, 409, "overlap", "Conflict", json_pack("{s:o}", "existing", existing),
	            "%s overlaps allocation %lld (%s) of account %lld%s", prefix,
	            (long long)json_integer_value(json_object_get(first, "id")),
	            json_string_value(json_object_get(first, "prefix")),
	            (long long)json_integer_value(json_object_get(first, "account_id")),
	            n > 1 ? " and others listed in 'existing'" : "");
	PQclear(res);
}

bool api_allocation_body(api_req_t *r, api_allocation_new_t *out)
{
	static const api_field_t spec[] = {
	    {"account_id", API_FIELD_INTEGER, true}, {"prefix", API_FIELD_STRING, true}, {NULL, 0, false}};
	if (!api_check_fields(r, spec))
		return false;
	out->account_id = json_integer_value(json_object_get(r->json, "account_id"));
	if (out->account_id <= 0) {
		api_bad_field(r, API_PROBLEM_NAMED, "account_id", "must be a positive integer");
		return false;
	}
	return api_field_prefix(r, "prefix", json_string_value(json_object_get(r->json, "prefix")),
	                        &out->prefix);
}

static void allocation_create(api_req_t *r)
{
	api_allocation_new_t body;
	char prefix[CORE_PREFIX_STRLEN];
	if (!api_allocation_body(r, &body))
		return;
	long long account_id = body.account_id;
	core_prefix_format(&body.prefix, prefix, sizeof(prefix));

	PGresult *row = NULL;
	int err =
	    db_staff_allocation_create(r->db, account_id, prefix, r->caller.account_id, r->caller.name, &row);
	if (err == RDNS_ENOTFOUND)
		api_problem(r, 404, NULL, "Not Found", NULL, "no account %lld", account_id);
	else if (err == RDNS_EEXIST)
		allocation_overlap(r, prefix);
	else if (err != RDNS_OK)
		api_db_error(r, err);
	else
		api_json(r, 201, api_allocation_json(row, 0));
	PQclear(row);
}

/* A page of allocations by prefix; "next" is the last one's prefix when more follow, the
 * cursor (?after=) of the next page. ?account_id= and ?ip= (the web panel's lookup, issue
 * 15: who holds this address) filter, each with the cursor and with the other. A
 * customer lists only their own (the pages after GET /v1/me's first): ?account_id= of
 * another account is 403, and ?ip= answers only an allocation of theirs. */
static void allocation_list(api_req_t *r)
{
	db_alloc_filter_t f = {0};
	const char *ip_q = api_query(r, "ip");
	char ip[CORE_ADDR_STRLEN], after[CORE_PREFIX_STRLEN];
	if (!api_query_limit(r, API_PROBLEM_NAMED, &f.limit) ||
	    !api_query_id(r, API_PROBLEM_NAMED, "account_id", "a positive integer", &f.account_id))
		return;
	if (!r->caller.staff) {
		if (f.account_id && f.account_id != r->caller.account_id) {
			api_problem(r, 403, NULL, "Forbidden", NULL,
			            "account_id %lld is not yours: customers list their own allocations",
			            f.account_id);
			return;
		}
		f.account_id = r->caller.account_id;
	}
	if (ip_q) {
		core_addr_t a;
		if (core_addr_parse(ip_q, &a) != RDNS_OK) {
			api_bad_param(r, API_PROBLEM_NAMED, "ip", ip_q, "an IP address");
			return;
		}
		core_addr_format(&a, ip, sizeof(ip));
		f.ip = ip;
	}
	if (!api_query_prefix(r, API_PROBLEM_NAMED, "after",
	                      "an allocation's prefix (the \"next\" of the page before)", after, &f.after))
		return;
	int limit = f.limit++; /* one more tells whether there is a next page */
	int err;
	PGresult *res = db_staff_allocation_list(r->db, &f, &err);
	if (!res) {
		api_db_error(r, err);
		return;
	}
	json_t *items = json_array();
	int n = PQntuples(res);
	for (int i = 0; i < n && i < limit; i++)
		json_array_append_new(items, api_allocation_json(res, i));
	json_t *next = n > limit ? api_row_prefix(res, limit - 1, DB_ALLOC_PREFIX) : json_null();
	api_json(r, 200, json_pack("{s:o, s:o}", "items", items, "next", next));
	PQclear(res);
}

/* One allocation with the number of custom PTRs inside it: what deleting it would reset
 * (the web panel's confirmation, issue 15). */
static void allocation_get(api_req_t *r)
{
	long long id;
	if (!api_path_id(r, r->params[0], "allocation", &id))
		return;
	int err;
	PGresult *res = db_allocation_get(r->db, id, &err);
	if (!res) {
		api_db_error(r, err);
		return;
	}
	if (PQntuples(res) == 0) {
		api_not_found(r, "allocation", r->params[0]);
	} else {
		json_t *o = api_allocation_json(res, 0);
		json_object_set_new(o, "records", api_row_int(res, 0, DB_ALLOC_RECORDS));
		api_json(r, 200, o);
	}
	PQclear(res);
}

static void allocation_delete(api_req_t *r)
{
	long long id;
	if (!api_path_id(r, r->params[0], "allocation", &id))
		return;
	int err = db_staff_allocation_delete(r->db, id, r->caller.account_id, r->caller.name, NULL);
	if (err == RDNS_ENOTFOUND)
		api_not_found(r, "allocation", r->params[0]);
	else if (err != RDNS_OK)
		api_db_error(r, err);
	else
		api_no_content(r);
}

const api_route_t api_routes_allocations[] = {
    {"POST", "/v1/allocations", API_AUTH_STAFF, true, allocation_create},
    {"GET", "/v1/allocations", API_AUTH_ANY, false, allocation_list},
    {"GET", "/v1/allocations/*", API_AUTH_STAFF, false, allocation_get},
    {"DELETE", "/v1/allocations/*", API_AUTH_STAFF, false, allocation_delete},
    {NULL, NULL, 0, false, NULL},
};
