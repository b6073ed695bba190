/* metrics.c - rdns-api's Prometheus metrics: the families, the counts, the access list. */
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "db/db.h"

/* Seconds, as nanoseconds: 0.5 ms to 10 s. */
static const uint64_t seconds_ns[] = {
    500000,    1000000,   2500000,   5000000,    10000000,   25000000,   50000000,
    100000000, 250000000, 500000000, 1000000000, 2500000000, 5000000000, 10000000000,
};
#define N(a) (sizeof(a) / sizeof((a)[0]))
static const uint64_t batch_sizes[] = {1, 2, 4, 8, 16, 32, 64, 128, 256};

static struct {
	core_metrics_t *reg;
	core_metric_t *requests, *duration, *refused;
	core_metric_t *checks, *verifications, *verify_duration, *verify_refused, *verify_inline;
	core_metric_t *batch_size, *batch_failed;
	core_metric_t *diag_findings; /* issue #18 */
	core_metric_t *db_errors, *db_reconnects;
	core_prefix_t *allow;
	size_t n_allow;
} M;

static const char *const L_route[] = {"route", "method", "status", NULL};
static const char *const L_route_method[] = {"route", "method", NULL};
static const char *const L_status_reason[] = {"status", "reason", NULL};
static const char *const L_check[] = {"check", "status", NULL};
static const char *const L_outcome[] = {"outcome", NULL};
static const char *const L_reason[] = {"reason", NULL};
static const char *const L_group[] = {"group", NULL};
static const char *const L_class[] = {"class", NULL};

int api_metrics_init(const rdns_conf_t *conf)
{
	api_metrics_free();
	M.n_allow = conf->metrics_allow.n;
	if (M.n_allow && !(M.allow = calloc(M.n_allow, sizeof(*M.allow))))
		return RDNS_ENOMEM;
	for (size_t i = 0; i < M.n_allow; i++)
		if (core_prefix_parse_acl(conf->metrics_allow.v[i], &M.allow[i]) != RDNS_OK) {
			log_err("api: metrics_allow: '%s' is not an address or prefix",
			        conf->metrics_allow.v[i]);
			api_metrics_free();
			return RDNS_ECONFIG;
		}
	if (strcmp(conf->metrics, "on") != 0)
		return RDNS_OK;
	core_metrics_t *m = M.reg = core_metrics_new();
	if (!m)
		return RDNS_ENOMEM;
	const core_metric_type_t C = CORE_METRIC_COUNTER, H = CORE_METRIC_HISTOGRAM;
	M.requests =
	    core_metric_new(m, C, "rdns_api_http_requests_total",
	                    "HTTP requests answered, by route pattern (other: no route), method and status.",
	                    L_route, NULL, 0, 1);
	M.duration = core_metric_new(m, H, "rdns_api_http_request_duration_seconds",
	                             "Time from routing a whole request to its answer (an offloaded "
	                             "verification included), by route pattern and method.",
	                             L_route_method, seconds_ns, N(seconds_ns), CORE_METRICS_NS);
	M.refused =
	    core_metric_new(m, C, "rdns_api_http_refused_total",
	                    "Requests and connections the HTTP server answered by itself (framing errors, "
	                    "timeouts, connection limits), by status and reason.",
	                    L_status_reason, NULL, 0, 1);
	M.checks = core_metric_new(m, C, "rdns_api_verify_checks_total",
	                           "Verifier checks run, by check and status (pass, fail, warn).", L_check,
	                           NULL, 0, 1);
	M.verifications =
	    core_metric_new(m, C, "rdns_api_verifications_total",
	                    "Verifications finished, by outcome (ok: every check passed or warned, "
	                    "failed: a check failed, error: the verifier could not run).",
	                    L_outcome, NULL, 0, 1);
	M.verify_duration =
	    core_metric_new(m, H, "rdns_api_verify_duration_seconds", "Duration of whole verifications.",
	                    NULL, seconds_ns, N(seconds_ns), CORE_METRICS_NS);
	M.verify_refused =
	    core_metric_new(m, C, "rdns_api_verify_refused_total",
	                    "Verifications not started: busy (verify_max_inflight, 503), account "
	                    "(verify_per_account, 429).",
	                    L_reason, NULL, 0, 1);
	M.verify_inline =
	    core_metric_new(m, C, "rdns_api_verify_inline_total",
	                    "Verifications tried on the HTTP worker first (verify_inline_ms): answered "
	                    "there, or handed_off to a verification thread to run again.",
	                    L_outcome, NULL, 0, 1);
	M.batch_size =
	    core_metric_new(m, H, "rdns_api_batch_size",
	                    "Items per group commit (group ptr: PTR changes) or grouped lookup (group "
	                    "auth: token and address lookups); 1 is a lone statement.",
	                    L_group, batch_sizes, N(batch_sizes), 1);
	M.batch_failed = core_metric_new(m, C, "rdns_api_batch_failures_total",
	                                 "Batches whose statement failed, their items then run one by one.",
	                                 L_group, NULL, 0, 1);
	M.diag_findings = core_metric_new(
	    m, C, "rdns_api_diag_findings_total",
	    "Diagnostics findings, by check and status (pass, warn, fail, skip).", L_check, NULL, 0, 1);
	M.db_errors =
	    core_metric_new(m, C, "rdns_db_errors_total",
	                    "PostgreSQL errors, by SQLSTATE class (08: connection; 23: constraint, e.g. "
	                    "a conflict; empty: no SQLSTATE).",
	                    L_class, NULL, 0, 1);
	M.db_reconnects =
	    core_metric_new(m, C, "rdns_db_reconnects_total",
	                    "PostgreSQL sessions made again after one was lost.", NULL, NULL, 0, 1);
	/* the refusals and outcomes that exist, at 0 from the start */
	static const char *const checks[] = {"syntax", "policy", "forward", "generic"};
	static const char *const st[] = {"pass", "fail", "warn"};
	for (size_t i = 0; i < N(checks); i++)
		for (size_t j = 0; j < N(st); j++)
			core_metric_l2(M.checks, checks[i], st[j]);
	core_metric_l1(M.verifications, "ok");
	core_metric_l1(M.verifications, "failed");
	core_metric_l1(M.verifications, "error");
	core_metric_l1(M.verify_refused, "busy");
	core_metric_l1(M.verify_refused, "account");
	core_metric_l1(M.verify_inline, "answered");
	core_metric_l1(M.verify_inline, "handed_off");
	core_metric_l1(M.batch_size, "ptr");
	core_metric_l1(M.batch_size, "auth");
	core_metric_l1(M.batch_size, "rate");
	core_metric_l1(M.batch_failed, "ptr");
	core_metric_l1(M.batch_failed, "auth");
	core_metric_l1(M.batch_failed, "rate");
	db_metrics_set(M.db_errors, M.db_reconnects);
	return RDNS_OK;
}

void api_metrics_free(void)
{
	db_metrics_set(NULL, NULL);
	core_metrics_free(M.reg);
	free(M.allow);
	memset(&M, 0, sizeof(M));
}

bool api_metrics_on(void)
{
	return M.reg != NULL;
}

static const char *method_label(const char *m)
{
	static const char *const known[] = {"GET", "HEAD", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"};
	for (size_t i = 0; m && i < N(known); i++)
		if (strcmp(m, known[i]) == 0)
			return known[i];
	return "other"; /* a method is any token: never a label of its own */
}

/* A status as its three digits (it is always 100..599 here; anything else is "0"). */
static void status_text(unsigned status, char st[4])
{
	if (status < 100 || status > 999)
		status = 0;
	if (!status) {
		st[0] = '0';
		st[1] = 0;
		return;
	}
	st[0] = (char)('0' + status / 100);
	st[1] = (char)('0' + status / 10 % 10);
	st[2] = (char)('0' + status % 10);
	st[3] = 0;
}

void api_metrics_request(const char *route, const char *method, unsigned status, uint64_t ns)
{
	if (!M.reg)
		return;
	char st[4];
	status_text(status, st);
	const char *rt = route ? route : "other", *mt = method_label(method);
	core_series_add(core_metric_l3(M.requests, rt, mt, st), 1);
	core_series_observe(core_metric_l2(M.duration, rt, mt), ns);
}

void api_metrics_refused(unsigned status, const char *reason)
{
	if (!M.reg)
		return;
	if (!reason)
		switch (status) {
		case 408: reason = "timeout"; break;
		case 413: reason = "body_too_large"; break;
		case 414: reason = "target_too_long"; break;
		case 431: reason = "head_too_large"; break;
		case 503: reason = "per_ip_connections"; break;
		default: reason = "bad_request";
		}
	char st[4];
	status_text(status, st);
	core_series_add(core_metric_l2(M.refused, st, reason), 1);
}

void api_metrics_verify(const vf_verdict_t *v, int rc, uint64_t ns)
{
	if (!M.reg)
		return;
	if (rc != RDNS_OK || !v) {
		core_series_add(core_metric_l1(M.verifications, "error"), 1);
		return;
	}
	for (size_t i = 0; i < v->n; i++)
		core_series_add(
		    core_metric_l2(M.checks, v->checks[i].id, vf_verify_status_str(v->checks[i].status)), 1);
	core_series_add(core_metric_l1(M.verifications, v->ok ? "ok" : "failed"), 1);
	core_series_observe(core_metric_series(M.verify_duration, NULL), ns);
}

void api_metrics_verify_refused(const char *reason)
{
	core_series_add(core_metric_l1(M.verify_refused, reason), 1);
}

void api_metrics_verify_inline(bool answered)
{
	if (M.reg)
		core_series_add(core_metric_l1(M.verify_inline, answered ? "answered" : "handed_off"), 1);
}

void api_metrics_diag(const char *const *ids, const char *const *statuses, size_t n)
{
	if (!M.reg)
		return;
	for (size_t i = 0; i < n; i++)
		core_series_add(core_metric_l2(M.diag_findings, ids[i], statuses[i]), 1);
}

void api_metrics_batch(const char *group, size_t n, bool failed)
{
	core_series_observe(core_metric_l1(M.batch_size, group), n);
	if (failed)
		core_series_add(core_metric_l1(M.batch_failed, group), 1);
}

bool api_metrics_allowed(const char *client)
{
	core_addr_t a;
	if (!client || core_addr_parse(client, &a) != RDNS_OK)
		return false;
	for (size_t i = 0; i < M.n_allow; i++)
		if (core_prefix_contains(&M.allow[i], &a))
			return true;
	return false;
}

bool api_metrics_expose(core_strbuf_t *out)
{
	return core_metrics_expose(M.reg, out);
}
