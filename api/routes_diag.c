/* routes_diag.c - deliverability diagnostics of an address (GET /v1/ptr/{ip}/diagnostics, issue #18). */
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "api/batch.h"
#include "api/http.h"
#include "api/metrics.h"
#include "api/offload.h"
#include "api/respond.h"
#include "api/routes.h"
#include "core/addr.h"
#include "core/err.h"
#include "core/hostname.h"
#include "core/log.h"
#include "core/zonefile.h"
#include "db/diag.h"
#include "db/ptr.h"
#include "db/zones.h"
#include "verify/diagnose.h"

/* What the diagnosis (off the worker, api_offload) and its answer share. */
typedef struct {
	char ip[CORE_ADDR_STRLEN];
	char ptr[sizeof(((db_ptr_ctx_t *)0)->hostname)];
	char domain[CORE_HOSTNAME_MAX];
	const char *source;  /* "custom", "default" or "none" */
	db_zone_params_t zp; /* the zone's name, NS and serial */
	vf_diag_conf_t conf;
	vf_diag_request_t req;
	int err;
	vf_diag_result_t out;
} diag_job_t;

static void job_free(void *p)
{
	diag_job_t *j = p;

	if (!j)
		return;
	db_zone_params_free(&j->zp);
	free(j);
}

static int auth_ctx_check(db_t *db, const char *token, db_principal_t *who, void *arg)
{
	void **a = arg;
	db_token_key_t k;

	if (db_token_parse(token, &k) != RDNS_OK)
		return RDNS_EDENIED;
	db_ptr_lookup_t l = {.key = &k, .ip = a[0]};
	int rc = api_batch_lookup(db, &l);
	if (rc == RDNS_OK) {
		*who = l.who;
		memcpy(a[1], &l.ctx, sizeof(l.ctx));
	}
	return rc;
}

/* The PTR routes' answers: 401 before anything else, 400 for a bad address, and the
 * same 404 for an address outside the caller's allocations as for one outside every
 * zone (nothing leaks about other customers' addresses). */
static bool auth_visible(api_req_t *r, core_addr_t *a, char *ip, db_ptr_ctx_t *ctx)
{
	if (core_addr_parse(r->params[0], a) != RDNS_OK) {
		if (api_auth(r))
			api_problem(r, 400, "invalid-ip", "Bad Request", NULL,
			            "'%.64s' is not an IPv4 or IPv6 address", r->params[0]);
		return false;
	}
	core_addr_format(a, ip, CORE_ADDR_STRLEN);
	void *arg[2] = {ip, ctx};
	if (!api_auth_with(r, auth_ctx_check, arg))
		return false;
	if (!ctx->in_zone || (!r->caller.staff && ctx->owner != r->caller.account_id)) {
		api_problem(r, 404, "not-your-address", "Not Found", NULL,
		            "%s is not in one of your allocations or not in a reverse zone of this provider",
		            ip);
		return false;
	}
	return true;
}

/* domain, selector and smtp; answers 400 and returns false on a bad one. */
static bool params(api_req_t *r, diag_job_t *j)
{
	const char *domain = api_query(r, "domain"), *selector = api_query(r, "selector");
	const char *smtp = api_query(r, "smtp");
	const char *why = NULL;

	if (domain) {
		if (core_hostname_normalize(domain, j->domain, sizeof(j->domain), &why) != RDNS_OK ||
		    !strchr(j->domain, '.')) {
			api_bad_param(r, API_PROBLEM_SENTENCE, "domain", domain,
			              "a domain name such as example.com");
			return false;
		}
		/* the resolvers are the provider's: no internal or special-use names through them */
		const char *which = NULL;
		const conf_list_t *sp = &r->conf->special_names;
		if (core_hostname_policy(j->domain, sp->n ? (const char *const *)sp->v : NULL, sp->n, NULL, 0,
		                         &which) == CORE_POLICY_SPECIAL) {
			api_bad_param(r, API_PROBLEM_SENTENCE, "domain", domain,
			              "a public domain (not in a special-use or internal domain)");
			return false;
		}
		j->req.domain = j->domain;
	}
	if (selector) {
		if (!vf_diag_selector_ok(selector)) {
			api_bad_param(
			    r, API_PROBLEM_SENTENCE, "selector", selector,
			    "a DKIM selector: letters, digits, hyphens and underscores, dot-separated");
			return false;
		}
		j->req.selector = selector; /* in r's query, which lives as long as r */
	}
	if (smtp) {
		if (strcmp(smtp, "1") != 0 && strcmp(smtp, "0") != 0 && strcmp(smtp, "true") != 0 &&
		    strcmp(smtp, "false") != 0) {
			api_bad_param(r, API_PROBLEM_SENTENCE, "smtp", smtp, "1 or 0");
			return false;
		}
		j->req.smtp = smtp[0] == '1' || smtp[0] == 't';
	}
	return true;
}

/* Per customer account: diagnose_rate a minute (staff are not limited). */
static bool rate_limited(api_req_t *r)
{
	int retry = 0, err;

	if (r->caller.staff)
		return false;
	err = db_diag_rate_hit(r->db, r->caller.account_id, r->conf->diagnose_rate, &retry);
	if (err == RDNS_OK)
		return false;
	if (err == RDNS_ELIMIT) {
		char ra[16];
		snprintf(ra, sizeof(ra), "%d", retry);
		api_problem(
		    r, 429, "rate-limited", "Too Many Requests", NULL,
		    "at most %ld diagnoses per minute for an account (they send queries to the world); retry "
		    "in %d s",
		    r->conf->diagnose_rate, retry);
		api_header(r, "Retry-After", ra);
	} else {
		api_db_error(r, err);
	}
	return true;
}

/* The PTR rdns holds for the address: custom, the zone's default name, or none. */
static void held_ptr(const core_addr_t *a, const db_ptr_ctx_t *ctx, diag_job_t *j)
{
	char exp[256];
	const char *why;

	j->source = "none";
	if (ctx->has_record) {
		snprintf(j->ptr, sizeof(j->ptr), "%s", ctx->hostname);
		j->source = "custom";
	} else if (ctx->default_ptr[0] && a->family == CORE_AF_INET &&
	           core_zonefile_template(ctx->default_ptr, a, exp, sizeof(exp)) == RDNS_OK &&
	           core_hostname_normalize(exp, j->ptr, sizeof(j->ptr), &why) == RDNS_OK) {
		j->source = "default";
	}
	if (strcmp(j->source, "none") != 0) {
		j->req.ptr = j->ptr;
		j->req.ptr_is_default = strcmp(j->source, "default") == 0;
	}
}

/* On a verification thread: the network only. */
static void diag_work(api_req_t *r)
{
	diag_job_t *j = r->job;
	j->err = vf_diagnose(&j->conf, &j->req, &j->out);
}

/* Back on the worker: the answer. */
static void diag_done(api_req_t *r)
{
	diag_job_t *j = r->job;

	if (j->err != RDNS_OK) {
		log_err("diag: diagnosis of %s failed: %s", j->ip, rdns_strerror(j->err));
		api_problem(r, 500, NULL, "Internal Server Error", NULL, "%s",
		            "the diagnosis could not run; this is a problem on our side");
		return;
	}
	const char *ids[VF_DIAG_FINDINGS], *statuses[VF_DIAG_FINDINGS];
	for (size_t i = 0; i < j->out.n; i++) {
		ids[i] = j->out.f[i].id;
		statuses[i] = vf_diag_status_str(j->out.f[i].status);
	}
	api_metrics_diag(ids, statuses, j->out.n);
	json_t *findings = json_array();
	for (size_t i = 0; findings && i < j->out.n; i++)
		json_array_append_new(findings, vf_diag_finding_json(&j->out.f[i]));
	json_t *o = json_pack(
	    "{s:s, s:o, s:s, s:s, s:o, s:o, s:b, s:i, s:o}", "ip", j->ip, "hostname",
	    j->req.ptr ? json_string(j->req.ptr) : json_null(), "source", j->source, "zone", j->zp.name,
	    "domain", j->out.domain[0] ? json_string(j->out.domain) : json_null(), "selector",
	    j->req.selector ? json_string(j->req.selector) : json_null(), "smtp", j->req.smtp, "elapsed_ms",
	    j->out.elapsed_ms, "findings", findings ? findings : json_null());
	if (!o) {
		api_problem(r, 500, NULL, "Internal Server Error", NULL, "%s", "out of memory");
		return;
	}
	api_json(r, 200, o);
}

static void diag_get(api_req_t *r)
{
	core_addr_t a;
	char ip[CORE_ADDR_STRLEN];
	db_ptr_ctx_t ctx;
	int err;

	if (!auth_visible(r, &a, ip, &ctx))
		return;
	diag_job_t *j = calloc(1, sizeof(*j));
	if (!j) {
		api_problem(r, 503, NULL, "Service Unavailable", NULL, "%s", "out of memory; retry shortly");
		return;
	}
	if (!params(r, j) || rate_limited(r)) {
		job_free(j);
		return;
	}
	err = db_zone_params(r->db, ctx.zone_id, &j->zp);
	if (err != RDNS_OK) {
		job_free(j);
		if (err == RDNS_ENOTFOUND)
			api_problem(
			    r, 404, "not-your-address", "Not Found", NULL,
			    "%s is not in one of your allocations or not in a reverse zone of this provider",
			    ip);
		else
			api_db_error(r, err);
		return;
	}
	memcpy(j->ip, ip, sizeof(ip));
	held_ptr(&a, &ctx, j);
	j->req.ip = a;
	j->req.zone = j->zp.name;
	j->req.serial = j->zp.serial;
	j->req.zone_ns = j->zp.ns;
	j->req.n_zone_ns = j->zp.n_ns;
	vf_diag_conf_from(r->conf, &j->conf);
	api_offload(r, j, job_free, diag_work, diag_done); /* false: answered 429 or 503; r frees j */
}

const api_route_t api_routes_diag[] = {
    {"GET", "/v1/ptr/*/diagnostics", API_AUTH_HANDLER, false, diag_get},
    {NULL, NULL, 0, false, NULL},
};
