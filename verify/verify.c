/* verify.c - the PTR verifier: a table of checks run in order over one requested name. */
#include "verify/verify.h"

#include <string.h>

#include "core/err.h"
#include "verify/findings.h"
#include "verify/lookup.h"
#include "verify/resolve.h"

_Static_assert(VF_VERIFY_MAX_CNAME == VF_LOOKUP_MAX_CNAME, "verify.h promises the lookup's limit");

/* One verification in progress: what the checks share. */
typedef struct {
	const vf_verify_conf_t *conf; /* may be NULL */
	const core_addr_t *ip;
	const char *hostname; /* as requested */
	bool skip_forward;
	int64_t start_us;
	vf_verdict_t *v;
	vf_resolver_t *resolver; /* made by the first check that asks DNS; NULL before */
} run_t;

/* A check fills c (id and severity are already set, the texts empty) and
 * returns RDNS_OK, or an error that ends the verification. */
typedef int (*check_fn_t)(run_t *run, vf_check_t *c);

/* What a failure of a check does to the checks after it. */
typedef enum {
	STOP_NONE,    /* they all run */
	STOP_QUERIES, /* those that query DNS are omitted (a name that must not be looked up) */
	STOP_ALL      /* none runs */
} stop_t;

typedef struct {
	const char *id;
	vf_check_severity_t severity;
	check_fn_t fn;
	stop_t stop_on_fail;
	bool queries; /* may send DNS queries: omitted after a STOP_QUERIES failure */
} check_row_t;

void vf_verify_conf_from(const rdns_conf_t *c, vf_verify_conf_t *vc)
{
	memset(vc, 0, sizeof(*vc));
	vc->resolvers = (const char *const *)c->resolvers.v;
	vc->n_resolvers = c->resolvers.n;
	vc->query_timeout_ms = (int)c->verify_timeout_ms;
	vc->retries = (int)c->verify_retries;
	vc->deadline_ms = (int)c->verify_deadline_ms;
	/* An empty list would turn the policy check off: keep the built-in one then. */
	vc->special = c->special_names.n ? (const char *const *)c->special_names.v : NULL;
	vc->n_special = c->special_names.n;
	vc->denied = (const char *const *)c->denied_domains.v;
	vc->n_denied = c->denied_domains.n;
}

/* The resolver session of this verification, made on first use so that a
 * verification that never queries never reads the resolver configuration. */
static int run_resolver(run_t *run, vf_resolver_t **out)
{
	if (run->resolver == NULL) {
		const vf_verify_conf_t *conf = run->conf;
		vf_resolver_conf_t rc;
		int ret;

		if (conf != NULL)
			rc = (vf_resolver_conf_t){.servers = conf->resolvers,
			                          .n_servers = conf->n_resolvers,
			                          .query_timeout_ms = conf->query_timeout_ms,
			                          .retries = conf->retries,
			                          .deadline_ms = conf->deadline_ms};
		ret = vf_resolver_new(conf != NULL ? &rc : NULL, run->start_us, &run->resolver);
		if (ret != RDNS_OK)
			return ret;
	}
	*out = run->resolver;
	return RDNS_OK;
}

/* ---- the checks ---- */

static int check_syntax(run_t *run, vf_check_t *c)
{
	vf_syntax_outcome_t o = {.hostname = run->v->hostname};

	o.err = core_hostname_normalize(run->hostname, run->v->hostname, sizeof(run->v->hostname), &o.reason);
	if (o.err != RDNS_OK)
		run->v->hostname[0] = '\0';
	vf_findings_syntax(&o, c);
	return RDNS_OK;
}

static int check_policy(run_t *run, vf_check_t *c)
{
	const vf_verify_conf_t *conf = run->conf;
	vf_policy_outcome_t o = {
	    .hostname = run->v->hostname, .family = run->ip->family, .kind = VF_POLICY_OK};
	core_policy_t p = conf == NULL ? core_hostname_policy(o.hostname, NULL, 0, NULL, 0, &o.suffix)
	                               : core_hostname_policy(o.hostname, conf->special, conf->n_special,
	                                                      conf->denied, conf->n_denied, &o.suffix);
	if (p == CORE_POLICY_SPECIAL)
		o.kind = VF_POLICY_SPECIAL;
	else if (p == CORE_POLICY_DENIED)
		o.kind = VF_POLICY_DENIED;
	vf_findings_policy(&o, c);
	return RDNS_OK;
}

static int check_forward(run_t *run, vf_check_t *c)
{
	vf_forward_outcome_t o = {.hostname = run->v->hostname, .ip = run->ip, .skipped = run->skip_forward};
	vf_lookup_t lookup;
	vf_resolver_t *r;
	int ret;

	if (!o.skipped) {
		ret = run_resolver(run, &r);
		if (ret != RDNS_OK)
			return ret;
		ret = vf_lookup_addrs(r, run->v->hostname, run->ip->family, run->ip, &lookup);
		if (ret != RDNS_OK)
			return ret;
		o.lookup = &lookup;
		vf_findings_found(&lookup, run->v->found, sizeof(run->v->found));
	}
	vf_findings_forward(&o, c);
	run->v->forward_retryable = c->status == VF_CHECK_FAIL && o.lookup && vf_lookup_retryable(o.lookup);
	run->v->forward_conclusive = c->status == VF_CHECK_FAIL && o.lookup && vf_lookup_conclusive(o.lookup);
	run->v->dns_unsettled = o.lookup && !vf_lookup_settled(o.lookup);
	return RDNS_OK;
}

static int check_generic(run_t *run, vf_check_t *c)
{
	char why[256];
	vf_generic_outcome_t o = {.hostname = run->v->hostname, .why = why};

	why[0] = '\0';
	o.flags = core_hostname_generic(o.hostname, run->ip, why, sizeof(why));
	vf_findings_generic(&o, c);
	return RDNS_OK;
}

/* The checks, run in this order; each appends one vf_check_t to the verdict
 * unless an earlier failure omits it. A failed check whose stop_on_fail is not
 * STOP_NONE is one that a staff force cannot override (vf_verdict_t.syntax_ok). */
/* clang-format off */
static const check_row_t checks[] = {
	/* id         severity       function        on failure     queries DNS */
	{"syntax",  VF_SEV_HIGH,  check_syntax,   STOP_ALL,      false},
	{"policy",  VF_SEV_HIGH,  check_policy,   STOP_QUERIES,  false},
	{"forward", VF_SEV_HIGH,  check_forward,  STOP_NONE,     true},
	{"generic", VF_SEV_LOW,   check_generic,  STOP_NONE,     false},
};
/* clang-format on */

_Static_assert(sizeof(checks) / sizeof(checks[0]) <= VF_VERIFY_CHECKS_MAX,
               "vf_verdict_t.checks holds every row");

int vf_verify(const vf_verify_conf_t *conf, const core_addr_t *ip, const char *hostname, bool skip_forward,
              vf_verdict_t *out)
{
	run_t run = {.conf = conf, .ip = ip, .hostname = hostname, .skip_forward = skip_forward, .v = out};
	bool no_queries = false;
	int ret = RDNS_OK;

	run.start_us = vf_resolve_now_us();
	if (ip == NULL || hostname == NULL || out == NULL)
		return RDNS_EINVAL;
	if (ip->family != CORE_AF_INET && ip->family != CORE_AF_INET6)
		return RDNS_EINVAL;
	memset(out, 0, sizeof(*out));
	out->ok = true;
	out->syntax_ok = true;

	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		const check_row_t *row = &checks[i];
		vf_check_t *c;

		if (row->queries && no_queries)
			continue;
		c = &out->checks[out->n++];
		c->id = row->id;
		c->severity = row->severity;
		c->status = VF_CHECK_PASS;
		c->detail[0] = c->next_step[0] = '\0';
		ret = row->fn(&run, c);
		if (ret != RDNS_OK)
			goto cleanup;
		if (c->status != VF_CHECK_FAIL)
			continue;
		out->ok = false;
		if (row->stop_on_fail != STOP_NONE)
			out->syntax_ok = false;
		if (row->stop_on_fail == STOP_ALL)
			break;
		if (row->stop_on_fail == STOP_QUERIES)
			no_queries = true;
	}
cleanup:
	vf_resolver_free(run.resolver);
	return ret;
}
