/* routes_ptr.c - the PTR routes: read, verified set, delete and list the PTRs of an
 * address (/v1/ptr). */
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "api/batch.h"
#include "api/bodies.h"
#include "api/decide.h"
#include "api/http.h"
#include "api/metrics.h"
#include "api/respond.h"
#include "api/routes.h"
#include "api/offload.h"
#include "core/addr.h"
#include "core/err.h"
#include "core/hostname.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/zonefile.h"
#include "db/jobs.h"
#include "db/ptr.h"
#include "verify/verify.h"

/* Parse the {ip} path parameter into canonical text; answers 400 on failure. */
static bool path_ip(api_req_t *r, core_addr_t *a, char *canon)
{
	if (core_addr_parse(r->params[0], a) != RDNS_OK) {
		api_problem(r, 400, "invalid-ip", "Bad Request", NULL,
		            "'%.64s' is not an IPv4 or IPv6 address", r->params[0]);
		return false;
	}
	core_addr_format(a, canon, CORE_ADDR_STRLEN);
	return true;
}

static int auth_ctx_check(db_t *db, const char *token, db_principal_t *who, void *arg)
{
	void **a = arg;
	db_token_key_t k;
	if (db_token_parse(token, &k) != RDNS_OK) /* hashed here, on this worker, not in a batch */
		return RDNS_EDENIED;
	db_ptr_lookup_t l = {.key = &k, .ip = a[0]};
	int rc = api_batch_lookup(db, &l);
	if (rc == RDNS_OK) {
		*who = l.who;
		memcpy(a[1], &l.ctx, sizeof(l.ctx));
	}
	return rc;
}

/* Authenticate and look the address up in one statement: the hot path of every
 * /v1/ptr/{ip} route. Answers (401, 400, 503) and returns false on failure. */
static bool auth_ip(api_req_t *r, core_addr_t *a, char *ip, db_ptr_ctx_t *ctx)
{
	if (core_addr_parse(r->params[0], a) != RDNS_OK) {
		if (api_auth(r)) /* an anonymous caller learns nothing, not even this */
			path_ip(r, a, ip);
		return false;
	}
	core_addr_format(a, ip, CORE_ADDR_STRLEN);
	void *arg[2] = {ip, ctx};
	return api_auth_with(r, auth_ctx_check, arg);
}

/* 404 for an address the caller may not see or change, without saying why: nothing
 * leaks about other customers' addresses. */
static void not_your_address(api_req_t *r, const char *ip)
{
	api_problem(r, 404, "not-your-address", "Not Found", NULL,
	            "%s is not in one of your allocations or not in a reverse zone of this provider", ip);
}

/* Whether the caller may see/change this address: inside one of their
 * allocations and a configured zone (staff: inside a zone). Answers 404
 * without saying which. */
static bool visible(api_req_t *r, const char *ip, const db_ptr_ctx_t *ctx)
{
	if (!ctx->in_zone || (!r->caller.staff && ctx->owner != r->caller.account_id)) {
		not_your_address(r, ip);
		return false;
	}
	return true;
}

/* 409 for an address of a delegated block (issue 16): its PTR is the customer's own name
 * servers' to answer, through the delegation (prefix, its name servers). */
static void delegated_problem(api_req_t *r, const char *ip, const char *prefix, const char *ns)
{
	api_problem(r, 409, "delegated", "Conflict",
	            json_pack("{s:s, s:s}", "delegation", prefix, "nameservers", ns),
	            "%s is in %s, which is delegated to %s: its PTR is served by those name servers; "
	            "remove the delegation (DELETE /v1/delegations/%s) to manage it here",
	            ip, prefix, ns, prefix);
}

/* The same, from the address's lookup: answers and returns true when it is delegated. (The
 * apply functions check again under their lock: a delegation made while a PUT verifies is
 * answered from there, RDNS_EDELEGATED.) */
static bool delegated(api_req_t *r, const char *ip, const db_ptr_ctx_t *ctx)
{
	if (!ctx->delegation[0])
		return false;
	delegated_problem(r, ip, ctx->delegation, ctx->delegation_ns);
	return true;
}

/* The record as the customer sees it: custom, the zone's default, or none. */
json_t *api_ptr_record_json(const char *ip, const core_addr_t *a, const db_ptr_ctx_t *ctx)
{
	json_t *o = json_object();
	json_object_set_new(o, "ip", json_string(ip));
	if (ctx->has_record) {
		json_object_set_new(o, "hostname", json_string(ctx->hostname));
		json_object_set_new(o, "source", json_string("custom"));
		json_object_set_new(o, "verified_at",
		                    ctx->verified_at[0] ? json_string(ctx->verified_at) : json_null());
		json_object_set_new(o, "updated_at", json_string(ctx->updated_at));
	} else {
		char exp[256], norm[CORE_HOSTNAME_MAX];
		const char *why;
		bool def = ctx->default_ptr[0] && a->family == CORE_AF_INET &&
		           core_zonefile_template(ctx->default_ptr, a, exp, sizeof(exp)) == RDNS_OK &&
		           core_hostname_normalize(exp, norm, sizeof(norm), &why) == RDNS_OK;
		json_object_set_new(o, "hostname", def ? json_string(norm) : json_null());
		json_object_set_new(o, "source", json_string(def ? "default" : "none"));
		json_object_set_new(o, "verified_at", json_null());
		json_object_set_new(o, "updated_at", json_null());
	}
	json_object_set_new(o, "zone", json_string(ctx->zone));
	return o;
}

static void ptr_get(api_req_t *r)
{
	core_addr_t a;
	char ip[CORE_ADDR_STRLEN];
	db_ptr_ctx_t ctx;
	if (!auth_ip(r, &a, ip, &ctx) || !visible(r, ip, &ctx) || delegated(r, ip, &ctx))
		return;
	api_json(r, 200, api_ptr_record_json(ip, &a, &ctx));
}

static bool rate_limited(api_req_t *r)
{
	if (r->caller.staff)
		return false;
	int retry = 0;
	int err = api_batch_rate(r->db, r->caller.account_id, r->conf->rate_limit_writes, &retry);
	if (err == RDNS_OK)
		return false;
	if (err == RDNS_ELIMIT) {
		char ra[16];
		snprintf(ra, sizeof(ra), "%d", retry);
		api_problem(r, 429, "rate-limited", "Too Many Requests", NULL,
		            "at most %ld PTR changes per minute; retry in %d s", r->conf->rate_limit_writes,
		            retry);
		api_header(r, "Retry-After", ra);
	} else {
		api_db_error(r, err);
	}
	return true;
}

static const api_field_t put_fields[] = {
    {"hostname", API_FIELD_STRING, true},
    {"exception_reason", API_FIELD_STRING, false},
    {"force", API_FIELD_BOOLEAN, false},
    {"wait_for_forward", API_FIELD_BOOLEAN, false},
    {NULL, 0, false},
};

bool api_ptr_put_body(api_req_t *r, api_ptr_put_t *out)
{
	if (!api_check_fields(r, put_fields))
		return false;
	out->hostname = json_string_value(json_object_get(r->json, "hostname"));
	json_t *reason_j = json_object_get(r->json, "exception_reason");
	out->reason = json_is_string(reason_j) ? json_string_value(reason_j) : NULL;
	out->force = json_is_true(json_object_get(r->json, "force"));
	out->wait = json_is_true(json_object_get(r->json, "wait_for_forward"));
	if (out->force && !r->caller.staff) {
		api_problem(r, 403, "staff-only", "Forbidden", NULL, "only provider staff may force a PTR");
		return false;
	}
	if (out->reason && (out->reason[0] == 0 || api_utf8_chars(out->reason) > 2000)) {
		api_bad_field(r, API_PROBLEM_SENTENCE, "exception_reason", "must be 1 to 2000 characters");
		return false;
	}
	return true;
}

/* Refused: 422 with the findings. Only a name that passed the validator is stored. */
static void ptr_refuse(api_req_t *r, const char *ip, const vf_verdict_t *v, const char *checks_text)
{
	long long req_id = 0;
	int err = db_ptr_request(r->db, ip, v->syntax_ok ? v->hostname : NULL, r->caller.account_id,
	                         r->caller.name, "failed_checks", checks_text, NULL, &req_id);
	if (err != RDNS_OK) {
		api_db_error(r, err);
		return;
	}
	json_t *checks = json_loads(checks_text, 0, NULL);
	if (!checks)
		checks = json_array();
	api_problem(r, 422, "checks-failed", "Unprocessable Content",
	            json_pack("{s:O, s:I}", "checks", checks, "request_id", (json_int_t)req_id), "%s%s",
	            v->syntax_ok ? "the PTR did not pass verification" : "the hostname is not acceptable",
	            !v->syntax_ok ? ""
	            : r->caller.staff
	                ? "; staff may apply it with \"force\": true"
	                : "; fix the findings and retry, or resend with an exception_reason for "
	                  "staff review");
	json_decref(checks);
}

/* The forward check failed but the customer asks for an exception: 202, pending review. */
static void ptr_review(api_req_t *r, const char *ip, const vf_verdict_t *v, const char *checks_text,
                       const char *reason)
{
	long long req_id = 0;
	int err = db_ptr_request(r->db, ip, v->hostname, r->caller.account_id, r->caller.name,
	                         "pending_review", checks_text, reason, &req_id);
	if (err != RDNS_OK) {
		api_db_error(r, err);
		return;
	}
	api_request_answer(r, 202, req_id);
}

/* The forward check failed for a reason time can fix and the caller asked to wait: 202,
 * stored as waiting_forward with a job for rdns-verifier, first tried verify_retry_min_ms
 * from now, expired after verify_wait_max. */
static void ptr_wait(api_req_t *r, const char *ip, const vf_verdict_t *v, const char *checks_text)
{
	long long req_id = 0;
	int err = db_ptr_wait(r->db, ip, v->hostname, r->caller.account_id, r->caller.name, checks_text,
	                      r->conf->verify_retry_min_ms, r->conf->verify_wait_max, &req_id);
	if (err != RDNS_OK) {
		api_db_error(r, err);
		return;
	}
	api_request_answer(r, 202, req_id);
}

/* Applied (through the batcher): 200 with the record as this request wrote it. */
static void ptr_apply(api_req_t *r, const char *ip, const core_addr_t *a, db_ptr_ctx_t *ctx,
                      const vf_verdict_t *v, const char *checks_text, const char *reason, bool force)
{
	db_ptr_change_t change = {
	    .ip = ip,
	    .hostname = v->hostname,
	    .owner = r->caller.staff ? 0 : r->caller.account_id,
	    .actor = r->caller.account_id,
	    .actor_name = r->caller.name,
	    .forced = force,
	    .checks_json = checks_text,
	    .reason = reason,
	};
	int err = api_batch_apply(r->db, &change);
	const db_ptr_applied_t done = change.out;
	if (err == RDNS_ENOTFOUND) {
		not_your_address(r, ip);
		return;
	}
	if (err == RDNS_EDELEGATED) { /* delegated while it was being verified */
		delegated_problem(r, ip, done.delegation.prefix, done.delegation.ns);
		return;
	}
	if (err != RDNS_OK) {
		api_db_error(r, err);
		return;
	}
	/* The record as this request wrote it: a concurrent PUT may already have replaced it. */
	ctx->has_record = true;
	snprintf(ctx->hostname, sizeof(ctx->hostname), "%s", v->hostname);
	snprintf(ctx->updated_at, sizeof(ctx->updated_at), "%s", done.updated_at);
	snprintf(ctx->verified_at, sizeof(ctx->verified_at), "%s", done.verified_at);
	json_t *o = api_ptr_record_json(ip, a, ctx);
	json_object_set_new(o, "request_id", json_integer(done.request_id));
	api_json_with(r, 200, o, "checks", checks_text);
}

/* What a PUT's verification (off the worker, api_offload) and its decision share. */
typedef struct {
	core_addr_t a;
	char ip[CORE_ADDR_STRLEN];
	db_ptr_ctx_t ctx;
	const char *hostname, *reason;
	bool force, wait;
	vf_verify_conf_t vc;
	int err;
	vf_verdict_t v;
} put_job_t;

/* On a verification thread: DNS only, no database, no answer. The verifier counts
 * nothing itself (verify/ knows no metrics): its checks and duration are counted here. */
static void put_verify(api_req_t *r)
{
	put_job_t *j = r->job;
	uint64_t t0 = core_metrics_now_ns();
	j->err = vf_verify(&j->vc, &j->a, j->hostname, j->force, &j->v);
	api_metrics_verify(j->err == RDNS_OK ? &j->v : NULL, j->err, core_metrics_now_ns() - t0);
}

/* Back on the worker: decide and answer. */
static void put_decide(api_req_t *r)
{
	put_job_t *j = r->job;
	if (j->err != RDNS_OK) {
		log_err("ptr: verifier failed for %s: %s", j->ip, rdns_strerror(j->err));
		api_problem(r, 500, NULL, "Internal Server Error", NULL, "%s",
		            "the verifier could not run; this is a problem on our side");
		return;
	}
	char *checks_text = vf_verdict_checks_text(&j->v);
	if (!checks_text) {
		api_problem(r, 500, NULL, "Internal Server Error", NULL, "%s", "out of memory");
		return;
	}
	switch (api_ptr_decide_wait(j->v.syntax_ok, j->v.ok, j->force, j->reason != NULL, r->caller.staff,
	                            j->wait, j->v.forward_retryable)) {
	case API_PTR_WAIT: ptr_wait(r, j->ip, &j->v, checks_text); break;
	case API_PTR_REFUSE: ptr_refuse(r, j->ip, &j->v, checks_text); break;
	case API_PTR_REVIEW: ptr_review(r, j->ip, &j->v, checks_text, j->reason); break;
	case API_PTR_APPLY:
		ptr_apply(r, j->ip, &j->a, &j->ctx, &j->v, checks_text, j->reason, j->force);
		break;
	}
	free(checks_text);
}

/* A verification tried on this worker first, its queries given verify_inline_ms in all
 * and no retry: a resolver that has the name cached answers within a millisecond, and the
 * hand-off to a verification thread and back costs more than that (issue #17, S2: 35 us
 * of rdns-api's CPU a PUT, a third of it; bench/README). The verdict is kept only when its
 * lookup settled (vf_verdict_t.dns_unsettled): the same checks on the same answers as a
 * verification thread would run. Otherwise it is dropped and the whole verification runs
 * again there, with the full timeouts, retries and deadline, so a name that is slow to
 * resolve holds this worker's other connections up for verify_inline_ms at most. True:
 * answered here (r owns the job). */
static bool put_verify_inline(api_req_t *r, put_job_t *j)
{
	long ms = r->conf->verify_inline_ms;
	if (ms <= 0)
		return false;
	vf_verify_conf_t quick = j->vc;
	quick.query_timeout_ms = quick.deadline_ms = (int)ms;
	quick.retries = 0;
	uint64_t t0 = core_metrics_now_ns();
	int err = vf_verify(&quick, &j->a, j->hostname, j->force, &j->v);
	if (err != RDNS_OK || j->v.dns_unsettled) {
		api_metrics_verify_inline(false);
		memset(&j->v, 0, sizeof(j->v));
		return false;
	}
	api_metrics_verify_inline(true);
	api_metrics_verify(&j->v, err, core_metrics_now_ns() - t0);
	j->err = RDNS_OK;
	r->job = j;
	r->job_free = free;
	put_decide(r);
	return true;
}

static void ptr_put(api_req_t *r)
{
	core_addr_t a;
	char ip[CORE_ADDR_STRLEN];
	db_ptr_ctx_t ctx;
	api_ptr_put_t body;
	if (!auth_ip(r, &a, ip, &ctx) || !api_ptr_put_body(r, &body))
		return;
	const char *hostname = body.hostname, *reason = body.reason;
	bool force = body.force;
	if (!visible(r, ip, &ctx) || delegated(r, ip, &ctx) || rate_limited(r))
		return;

	put_job_t *job = calloc(1, sizeof(*job));
	if (!job) {
		api_problem(r, 503, NULL, "Service Unavailable", NULL, "%s", "out of memory; retry shortly");
		return;
	}
	job->a = a;
	memcpy(job->ip, ip, sizeof(ip));
	job->ctx = ctx;
	job->hostname = hostname; /* in r->json, which lives as long as r */
	job->reason = reason;
	job->force = force;
	job->wait = body.wait;
	vf_verify_conf_from(r->conf, &job->vc);
	if (put_verify_inline(r, job))
		return;
	if (!api_offload(r, job, free, put_verify, put_decide))
		return; /* answered 429 or 503; r frees the job */
}

static void ptr_delete(api_req_t *r)
{
	core_addr_t a;
	char ip[CORE_ADDR_STRLEN];
	db_ptr_ctx_t ctx;
	if (!auth_ip(r, &a, ip, &ctx) || !visible(r, ip, &ctx) || delegated(r, ip, &ctx) || rate_limited(r))
		return;
	db_ptr_applied_t done;
	int err = db_ptr_apply(r->db, ip, NULL, r->caller.staff ? 0 : r->caller.account_id,
	                       r->caller.account_id, r->caller.name, false, NULL, NULL, &done);
	if (err == RDNS_ENOTFOUND)
		not_your_address(r, ip);
	else if (err == RDNS_EDELEGATED)
		delegated_problem(r, ip, done.delegation.prefix, done.delegation.ns);
	else if (err != RDNS_OK)
		api_db_error(r, err);
	else
		api_no_content(r);
}

static void ptr_list(api_req_t *r)
{
	const char *after_q = api_query(r, "after"), *state_q = api_query(r, "state"), *prefix_p;
	char prefix[CORE_PREFIX_STRLEN], after[CORE_ADDR_STRLEN];
	int limit;
	if (!api_query_limit(r, API_PROBLEM_SENTENCE, &limit))
		return;
	if (state_q && strcmp(state_q, "drifted") != 0) {
		api_bad_param(r, API_PROBLEM_SENTENCE, "state", state_q,
		              "drifted (the only state to filter on)");
		return;
	}
	if (!api_query_prefix(r, API_PROBLEM_SENTENCE, "prefix",
	                      "an address or an address/length without host bits", prefix, &prefix_p))
		return;
	if (after_q) {
		core_addr_t a;
		if (core_addr_parse(after_q, &a) != RDNS_OK) {
			api_bad_param(r, API_PROBLEM_SENTENCE, "after", after_q, "an address");
			return;
		}
		core_addr_format(&a, after, sizeof(after));
	}
	int err;
	PGresult *res = db_ptr_list(r->db, r->caller.staff ? 0 : r->caller.account_id, prefix_p,
	                            after_q ? after : NULL, state_q != NULL, limit, &err);
	api_page(r, res, err, false);
}

const api_route_t api_routes_ptr[] = {
    {"GET", "/v1/ptr", API_AUTH_ANY, false, ptr_list},
    {"GET", "/v1/ptr/*", API_AUTH_HANDLER, false, ptr_get},
    {"PUT", "/v1/ptr/*", API_AUTH_HANDLER, true, ptr_put},
    {"DELETE", "/v1/ptr/*", API_AUTH_HANDLER, false, ptr_delete},
    {NULL, NULL, 0, false, NULL},
};
