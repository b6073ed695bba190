/* routes_requests.c - PTR change requests: each caller's history and the staff review
 * queue of exceptions, approved or rejected (/v1/requests). */
#include <stdbool.h>
#include <string.h>

#include "api/bodies.h"
#include "api/respond.h"
#include "api/routes.h"
#include "core/addr.h"
#include "core/err.h"
#include "db/jobs.h"
#include "db/ptr.h"

void api_request_answer(api_req_t *r, unsigned status, long long id)
{
	int err;
	PGresult *res = db_request_json(r->db, id, 0, &err);
	if (!res) {
		api_db_error(r, err ? err : RDNS_ENOTFOUND);
		return;
	}
	json_t *o = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	PQclear(res);
	api_json(r, status, o);
}

static const char *const request_states[] = {
    "applied",    "failed_checks",   "pending_review", "approved",  "rejected",
    "superseded", "waiting_forward", "expired",        "cancelled", NULL};

static void requests_list(api_req_t *r)
{
	const char *state = api_query(r, "state"), *ip_q = api_query(r, "ip");
	int limit;
	if (!api_query_limit(r, API_PROBLEM_SENTENCE, &limit))
		return;
	if (state) {
		const char *const *s = request_states;
		while (*s && strcmp(*s, state) != 0)
			s++;
		if (!*s) {
			api_bad_param(r, API_PROBLEM_SENTENCE, "state", state,
			              "one of applied, failed_checks, pending_review, approved, rejected, "
			              "superseded, waiting_forward, expired, cancelled");
			return;
		}
	}
	char ip[CORE_ADDR_STRLEN];
	if (ip_q) {
		core_addr_t a;
		if (core_addr_parse(ip_q, &a) != RDNS_OK) {
			api_bad_param(r, API_PROBLEM_SENTENCE, "ip", ip_q, "an address");
			return;
		}
		core_addr_format(&a, ip, sizeof(ip));
	}
	long long before = 0;
	if (!api_query_id(r, API_PROBLEM_SENTENCE, "before", "a request id", &before))
		return;
	int err;
	PGresult *res = db_request_list(r->db, r->caller.staff ? 0 : r->caller.account_id, state,
	                                ip_q ? ip : NULL, before, limit, &err);
	api_page(r, res, err, true);
}

static void request_get(api_req_t *r)
{
	long long id = 0;
	int err = RDNS_OK;
	PGresult *res = api_parse_id(r->params[0], &id)
	                    ? db_request_json(r->db, id, r->caller.staff ? 0 : r->caller.account_id, &err)
	                    : NULL;
	if (!res) {
		if (err != RDNS_OK)
			api_db_error(r, err);
		else
			api_problem(r, 404, NULL, "Not Found", NULL, "no request %s", r->params[0]);
		return;
	}
	api_json(r, 200, json_loads(PQgetvalue(res, 0, 0), 0, NULL));
	PQclear(res);
}

static const api_field_t decide_fields[] = {
    {"note", API_FIELD_STRING, false},
    {NULL, 0, false},
};

bool api_decide_body(api_req_t *r, api_decide_t *out)
{
	if (!api_check_fields(r, decide_fields))
		return false;
	json_t *note_j = json_object_get(r->json, "note");
	out->note = json_is_string(note_j) ? json_string_value(note_j) : NULL;
	if (out->note && api_utf8_chars(out->note) > 2000) {
		api_bad_field(r, API_PROBLEM_SENTENCE, "note", "must be at most 2000 characters");
		return false;
	}
	return true;
}

static void request_decide(api_req_t *r, bool approve)
{
	long long id = 0;
	bool valid_id = api_parse_id(r->params[0], &id);
	api_decide_t body;
	if (!api_decide_body(r, &body))
		return;
	const char *note = body.note;
	db_deleg_ref_t deleg;
	int err = valid_id ? db_request_decide(r->db, id, r->caller.account_id, r->caller.name, approve, note,
	                                       &deleg)
	                   : RDNS_ENOTFOUND;
	if (err == RDNS_ENOTFOUND) {
		api_problem(r, 404, NULL, "Not Found", NULL, "no request %s", r->params[0]);
		return;
	}
	if (err == RDNS_EEXIST) {
		api_problem(r, 409, "not-pending", "Conflict", NULL,
		            "request %s is no longer pending review (decided or superseded)", r->params[0]);
		return;
	}
	if (err == RDNS_EDENIED) {
		api_problem(
		    r, 409, "address-moved", "Conflict", NULL,
		    "the address of request %s is no longer in the requester's allocations or in a reverse "
		    "zone; reject it instead",
		    r->params[0]);
		return;
	}
	if (err == RDNS_EDELEGATED) {
		api_problem(r, 409, "delegated", "Conflict",
		            json_pack("{s:s, s:s}", "delegation", deleg.prefix, "nameservers", deleg.ns),
		            "request %s cannot be applied: its address is in %s, which is delegated to %s "
		            "since it was submitted, and those name servers serve its PTR; reject it, or "
		            "approve it once the delegation is removed",
		            r->params[0], deleg.prefix, deleg.ns);
		return;
	}
	if (err != RDNS_OK) {
		api_db_error(r, err);
		return;
	}
	api_request_answer(r, 200, id);
}

/* DELETE /v1/requests/{id}: the requester (or staff) withdraws a request waiting for
 * forward DNS or pending review; 200 with the request as it is now. */
static void request_cancel(api_req_t *r)
{
	long long id = 0;
	int err = api_parse_id(r->params[0], &id)
	              ? db_request_cancel(r->db, id, r->caller.staff ? 0 : r->caller.account_id,
	                                  r->caller.account_id, r->caller.name)
	              : RDNS_ENOTFOUND;
	if (err == RDNS_ENOTFOUND) {
		api_problem(r, 404, NULL, "Not Found", NULL, "no request %s", r->params[0]);
		return;
	}
	if (err == RDNS_EEXIST) {
		api_problem(r, 409, "not-cancellable", "Conflict", NULL,
		            "request %s is neither waiting for forward DNS nor pending review any more",
		            r->params[0]);
		return;
	}
	if (err != RDNS_OK) {
		api_db_error(r, err);
		return;
	}
	api_request_answer(r, 200, id);
}

static void request_approve(api_req_t *r)
{
	request_decide(r, true);
}

static void request_reject(api_req_t *r)
{
	request_decide(r, false);
}

const api_route_t api_routes_requests[] = {
    {"GET", "/v1/requests", API_AUTH_ANY, false, requests_list},
    {"GET", "/v1/requests/*", API_AUTH_ANY, false, request_get},
    {"DELETE", "/v1/requests/*", API_AUTH_ANY, false, request_cancel},
    {"POST", "/v1/requests/*/approve", API_AUTH_STAFF, true, request_approve},
    {"POST", "/v1/requests/*/reject", API_AUTH_STAFF, true, request_reject},
    {NULL, NULL, 0, false, NULL},
};
