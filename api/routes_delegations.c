/* routes_delegations.c - reverse delegations (/v1/delegations): a customer's block served by
 * the customer's own name servers, checked for lameness before it is published. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/bodies.h"
#include "api/http.h"
#include "api/offload.h"
#include "api/respond.h"
#include "api/routes.h"
#include "api/rows.h"
#include "core/addr.h"
#include "core/deleg.h"
#include "core/err.h"
#include "core/hostname.h"
#include "core/log.h"
#include "core/revname.h"
#include "db/deleg.h"
#include "verify/deleg.h"

/* The prefix of /v1/delegations/{address}/{length}: the two segments, whatever the
 * client wrote ("192.0.2.64/26", or with %2F: MHD-style decoding makes it two segments
 * too). Answers 400 and returns false when it is not a prefix. */
static bool path_prefix(api_req_t *r, core_prefix_t *p, char *canon)
{
	char text[2 * CORE_PREFIX_STRLEN], e[API_ECHO_BUF];
	int n = snprintf(text, sizeof(text), "%s/%s", r->params[0], r->params[1]);
	if (n < 0 || (size_t)n >= sizeof(text) || core_prefix_parse(text, p) != RDNS_OK) {
		api_problem(r, 400, "invalid-prefix", "Bad Request", NULL,
		            "'%s' is not a prefix: an address and a length without host bits, e.g. "
		            "192.0.2.64/26 or 2001:db8:100:200::/56",
		            api_echo(n >= 0 && (size_t)n < sizeof(text) ? text : r->params[0], e));
		return false;
	}
	core_prefix_format(p, canon, CORE_PREFIX_STRLEN);
	return true;
}

/* 404 for a prefix the caller may not delegate or see, without saying why. */
static void not_yours(api_req_t *r, const char *prefix)
{
	api_problem(r, 404, "not-your-prefix", "Not Found", NULL,
	            "%s is not delegated, or not wholly inside one of your allocations and a reverse zone "
	            "of this provider",
	            prefix);
}

/* A delegation row (DB_DELEG_* columns) as the API shows it. */
static json_t *deleg_json(const PGresult *res, int row)
{
	json_t *o = json_object();
	json_object_set_new(o, "prefix", api_row_prefix(res, row, DB_DELEG_PREFIX));
	json_object_set_new(o, "zone", api_row_str(res, row, DB_DELEG_ZONE));
	json_object_set_new(o, "account_id", api_row_int(res, row, DB_DELEG_ACCOUNT));
	json_object_set_new(o, "nameservers", api_row_json(res, row, DB_DELEG_NS));
	core_prefix_t p, zone;
	core_deleg_label_t style = CORE_DELEG_LABEL_RANGE;
	core_deleg_kind_t kind = 0;
	char child[CORE_REVNAME_MAX];
	const char *zname = db_val(res, row, DB_DELEG_ZONE);
	core_deleg_label_parse(db_val(res, row, DB_DELEG_LABEL), &style);
	if (core_prefix_parse(PQgetvalue(res, row, DB_DELEG_PREFIX), &p) == RDNS_OK && zname &&
	    core_revname_zone_parse(zname, &zone) == RDNS_OK &&
	    core_deleg_check(&zone, &p, &kind) == RDNS_OK &&
	    core_deleg_child_name(&p, style, child, sizeof(child)) == RDNS_OK) {
		child[strlen(child) - 1] = 0; /* no trailing dot, as zone names in the API */
		json_object_set_new(o, "kind", json_string(kind == CORE_DELEG_CUT ? "cut" : "classless"));
		json_object_set_new(o, "child", json_string(child));
	} else {
		json_object_set_new(o, "kind", json_null());
		json_object_set_new(o, "child", json_null());
	}
	json_object_set_new(o, "forced",
	                    json_boolean(strcmp(PQgetvalue(res, row, DB_DELEG_FORCED), "t") == 0));
	json_object_set_new(o, "checks", api_row_json(res, row, DB_DELEG_CHECKS));
	json_object_set_new(o, "created_at", api_row_str(res, row, DB_DELEG_CREATED_AT));
	json_object_set_new(o, "updated_at", api_row_str(res, row, DB_DELEG_UPDATED_AT));
	/* the last lame-delegation check: the PUT's, then rdns-verifier's re-checks */
	json_t *last = json_null();
	if (db_val(res, row, DB_DELEG_STATE))
		last = json_pack("{s:o, s:o, s:o, s:o}", "state", api_row_str(res, row, DB_DELEG_STATE),
		                 "checked_at", api_row_str(res, row, DB_DELEG_CHECKED_AT), "lame_since",
		                 api_row_str(res, row, DB_DELEG_LAME_SINCE), "checks",
		                 api_row_json(res, row, DB_DELEG_LAST_CHECKS));
	json_object_set_new(o, "last_check", last ? last : json_null());
	return o;
}

static long long caller_scope(const api_req_t *r)
{
	return r->caller.staff ? 0 : r->caller.account_id;
}

static void deleg_get(api_req_t *r)
{
	core_prefix_t p;
	char prefix[CORE_PREFIX_STRLEN];
	if (!path_prefix(r, &p, prefix))
		return;
	int err;
	PGresult *res = db_deleg_get(r->db, prefix, caller_scope(r), &err);
	if (!res)
		api_db_error(r, err);
	else if (PQntuples(res) == 0)
		not_yours(r, prefix);
	else
		api_json(r, 200, deleg_json(res, 0));
	PQclear(res);
}

static void deleg_list(api_req_t *r)
{
	const char *after_q = api_query(r, "after"), *state_q = api_query(r, "state");
	char after[CORE_PREFIX_STRLEN];
	int limit;
	if (!api_query_limit(r, API_PROBLEM_SENTENCE, &limit))
		return;
	if (state_q && strcmp(state_q, "lame") != 0 && strcmp(state_q, "pass") != 0) {
		api_bad_param(r, API_PROBLEM_SENTENCE, "state", state_q, "lame or pass");
		return;
	}
	if (after_q) {
		core_prefix_t a;
		if (core_prefix_parse(after_q, &a) != RDNS_OK) {
			api_bad_param(r, API_PROBLEM_SENTENCE, "after", after_q, "a prefix");
			return;
		}
		core_prefix_format(&a, after, sizeof(after));
	}
	int err;
	PGresult *res = db_deleg_list(r->db, caller_scope(r), after_q ? after : NULL, state_q, limit, &err);
	if (!res) {
		api_db_error(r, err);
		return;
	}
	int n = PQntuples(res);
	json_t *items = json_array();
	for (int i = 0; i < n && i < limit; i++)
		json_array_append_new(items, deleg_json(res, i));
	json_t *next = n > limit ? api_row_prefix(res, limit - 1, DB_DELEG_PREFIX) : json_null();
	api_json(r, 200, json_pack("{s:o, s:o}", "items", items, "next", next));
	PQclear(res);
}

/* ---- PUT: checked, probed off the worker, then published ---- */

typedef struct {
	core_prefix_t prefix;
	char text[CORE_PREFIX_STRLEN];
	char zone[CORE_REVNAME_MAX]; /* the child zone, no trailing dot */
	api_deleg_put_t body;
	const char *nsp[API_DELEG_MAX_NS];
	size_t n_ns;
	bool force;
	unsigned port;
	vf_verify_conf_t vc;
	int err;
	vf_deleg_outcome_t outcome;
} put_job_t;

bool api_deleg_put_body(api_req_t *r, api_deleg_put_t *out)
{
	static const api_field_t spec[] = {
	    {"nameservers", API_FIELD_STRINGS, true},
	    {"force", API_FIELD_BOOLEAN, false},
	    {NULL, 0, false},
	};
	if (!api_check_fields(r, spec))
		return false;
	json_t *ns = json_object_get(r->json, "nameservers");
	size_t n = json_array_size(ns);
	if (n == 0 || n > API_DELEG_MAX_NS) {
		api_bad_field(r, API_PROBLEM_SENTENCE, "nameservers", "must hold 1 to %d host names",
		              API_DELEG_MAX_NS);
		return false;
	}
	const rdns_conf_t *c = r->conf;
	const char *const *special = c && c->special_names.n ? (const char *const *)c->special_names.v : NULL;
	size_t n_special = special ? c->special_names.n : 0;
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(ns, i)), *why = NULL, *which = NULL;
		char e[API_ECHO_BUF];
		if (core_hostname_normalize(s, out->ns[i], sizeof(out->ns[i]), &why) != RDNS_OK) {
			api_bad_field(r, API_PROBLEM_SENTENCE, "nameservers",
			              "must be host names: '%s' is not (%s)", api_echo(s, e),
			              why ? why : "invalid");
			return false;
		}
		/* a name server in a special-use domain cannot be reached from the Internet */
		if (core_hostname_policy(out->ns[i], special, n_special, NULL, 0, &which) != CORE_POLICY_OK) {
			api_bad_field(
			    r, API_PROBLEM_SENTENCE, "nameservers",
			    "must be names on the public Internet: '%s' is in '%s', a special-use or "
			    "internal domain",
			    out->ns[i], which);
			return false;
		}
		for (size_t k = 0; k < i; k++)
			if (strcmp(out->ns[k], out->ns[i]) == 0) {
				api_bad_field(r, API_PROBLEM_SENTENCE, "nameservers", "must not repeat '%s'",
				              out->ns[i]);
				return false;
			}
	}
	out->n_ns = n;
	out->force = json_is_true(json_object_get(r->json, "force"));
	if (out->force && !r->caller.staff) {
		api_problem(r, 403, "staff-only", "Forbidden", NULL,
		            "only provider staff may force a delegation");
		return false;
	}
	return true;
}

/* On a verification thread: DNS only. */
static void put_probe(api_req_t *r)
{
	put_job_t *j = r->job;
	j->err = vf_deleg_probe(&j->vc, j->port, j->zone, j->nsp, j->n_ns, &j->outcome);
}

/* Back on the worker: refuse a lame delegation (unless forced), else publish it. */
static void put_decide(api_req_t *r)
{
	put_job_t *j = r->job;
	if (j->err != RDNS_OK) {
		log_err("delegation: the check of %s could not run: %s", j->text, rdns_strerror(j->err));
		api_problem(r, 500, NULL, "Internal Server Error", NULL, "%s",
		            "the delegation check could not run; this is a problem on our side");
		return;
	}
	bool ok;
	char *text = vf_deleg_findings_text(&j->outcome, &ok);
	if (!text) {
		api_problem(r, 503, NULL, "Service Unavailable", NULL, "%s", "out of memory; retry shortly");
		return;
	}
	if (!ok && !j->force) {
		api_problem(r, 422, "lame-delegation", "Unprocessable Content",
		            json_pack("{s:o}", "checks", json_loads(text, 0, NULL)),
		            "the delegation of %s to its name servers is lame: not every server answers "
		            "authoritatively for %s with the same serial; fix the findings and retry%s",
		            j->text, j->zone, r->caller.staff ? ", or publish it with \"force\": true" : "");
		free(text);
		return;
	}
	char *ns = db_text_array(j->nsp, j->n_ns);
	bool created = false;
	int err = ns ? db_deleg_put(r->db, j->text, ns, caller_scope(r), r->caller.account_id, r->caller.name,
	                            j->force && !ok, text, &created)
	             : RDNS_ENOMEM;
	free(ns);
	free(text);
	if (err == RDNS_ENOTFOUND) {
		not_yours(r, j->text);
		return;
	}
	if (err == RDNS_EEXIST) {
		api_problem(r, 409, "overlap", "Conflict", NULL, "%s overlaps another delegation", j->text);
		return;
	}
	if (err != RDNS_OK) {
		api_db_error(r, err);
		return;
	}
	PGresult *res = db_deleg_get(r->db, j->text, 0, &err);
	if (!res || PQntuples(res) != 1) {
		PQclear(res);
		api_db_error(r, res ? RDNS_EDB : err);
		return;
	}
	api_json(r, created ? 201 : 200, deleg_json(res, 0));
	PQclear(res);
}

static void deleg_put(api_req_t *r)
{
	put_job_t *j = calloc(1, sizeof(*j));
	if (!j) {
		api_problem(r, 503, NULL, "Service Unavailable", NULL, "%s", "out of memory; retry shortly");
		return;
	}
	if (!path_prefix(r, &j->prefix, j->text) || !api_deleg_put_body(r, &j->body))
		goto refused;
	j->force = j->body.force;
	j->n_ns = j->body.n_ns;
	for (size_t i = 0; i < j->n_ns; i++)
		j->nsp[i] = j->body.ns[i];
	db_deleg_ctx_t ctx;
	int err = db_deleg_context(r->db, j->text, &ctx);
	if (err != RDNS_OK) {
		api_db_error(r, err);
		goto refused;
	}
	/* the whole prefix in one of the customer's allocations (staff: anywhere in a zone) */
	if (!ctx.in_zone || (!r->caller.staff && ctx.holder != r->caller.account_id)) {
		not_yours(r, j->text);
		goto refused;
	}
	core_prefix_t zone;
	core_deleg_kind_t kind;
	core_deleg_label_t style;
	if (core_prefix_parse(ctx.zone_prefix, &zone) != RDNS_OK ||
	    core_deleg_label_parse(ctx.classless_label, &style) != RDNS_OK) {
		api_db_error(r, RDNS_EDB);
		goto refused;
	}
	if (core_deleg_check(&zone, &j->prefix, &kind) != RDNS_OK) {
		api_problem(r, 400, "invalid-prefix", "Bad Request",
		            json_pack("{s:s, s:s}", "zone", ctx.zone, "allowed", CORE_DELEG_LENGTHS),
		            "%s cannot be delegated out of %s: delegations are " CORE_DELEG_LENGTHS, j->text,
		            ctx.zone);
		goto refused;
	}
	if (ctx.overlapping[0]) {
		bool theirs = r->caller.staff || ctx.overlapping_acct == r->caller.account_id;
		api_problem(r, 409, "overlap", "Conflict", NULL,
		            "%s overlaps the delegation %s; remove it first", j->text,
		            theirs ? ctx.overlapping : "of another block");
		goto refused;
	}
	if (core_deleg_child_name(&j->prefix, style, j->zone, sizeof(j->zone)) != RDNS_OK) {
		api_db_error(r, RDNS_EINVAL);
		goto refused;
	}
	j->zone[strlen(j->zone) - 1] = 0;
	j->port = (unsigned)r->conf->delegation_check_port;
	vf_verify_conf_from(r->conf, &j->vc);
	api_offload(r, j, free, put_probe, put_decide); /* false: answered 429 or 503; r frees j */
	return;
refused:
	free(j);
}

static void deleg_delete(api_req_t *r)
{
	core_prefix_t p;
	char prefix[CORE_PREFIX_STRLEN];
	if (!path_prefix(r, &p, prefix))
		return;
	int err = db_deleg_delete(r->db, prefix, caller_scope(r), r->caller.account_id, r->caller.name);
	if (err == RDNS_ENOTFOUND)
		not_yours(r, prefix);
	else if (err != RDNS_OK)
		api_db_error(r, err);
	else
		api_no_content(r);
}

const api_route_t api_routes_delegations[] = {
    {"GET", "/v1/delegations", API_AUTH_ANY, false, deleg_list},
    {"GET", "/v1/delegations/*/*", API_AUTH_ANY, false, deleg_get},
    {"PUT", "/v1/delegations/*/*", API_AUTH_ANY, true, deleg_put},
    {"DELETE", "/v1/delegations/*/*", API_AUTH_ANY, false, deleg_delete},
    {NULL, NULL, 0, false, NULL},
};
