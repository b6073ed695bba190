/* verify.c - the PTR verifier: syntax, policy, forward-confirmed reverse DNS and generic-name checks. */
#include "api/verify.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/lookup.h"
#include "api/resolve.h"
#include "core/err.h"

_Static_assert(API_VERIFY_MAX_CNAME == API_LOOKUP_MAX_CNAME, "verify.h promises the lookup's limit");

/* Addresses named in a check's detail. */
#define DETAIL_ADDRS 8

static const char ADVICE_GENERIC[] =
    "Mail receivers treat names that embed the IP address or words like 'dynamic' "
    "as residential; prefer a name such as mail.example.com.";

/* Append formatted text to buf (NUL-terminated, len bytes), truncating. */
__attribute__((format(printf, 3, 4))) static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strnlen(buf, len);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* Replace buf with formatted text, truncating. */
__attribute__((format(printf, 3, 4))) static void setf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static void check_set(api_check_t *c, const char *id, api_check_status_t status, api_check_severity_t sev)
{
	c->id = id;
	c->status = status;
	c->severity = sev;
	c->detail[0] = '\0';
	c->next_step[0] = '\0';
}

/* ---- the forward check ---- */

/* The first max addresses found, then "and N more" for the rest. */
static void addrs_text(const api_lookup_t *f, size_t max, char *buf, size_t len)
{
	size_t shown = f->n_addrs < max ? f->n_addrs : max;
	buf[0] = '\0';
	for (size_t i = 0; i < shown; i++) {
		char t[CORE_ADDR_STRLEN];

		if (core_addr_format(&f->addrs[i], t, sizeof(t)) != RDNS_OK)
			snprintf(t, sizeof(t), "?");
		append(buf, len, "%s%s", i ? ", " : "", t);
	}
	if (f->n_addrs - shown + f->n_more > 0)
		append(buf, len, " and %zu more", f->n_addrs - shown + f->n_more);
}

/* Fill the forward check from the outcome in f. */
static void forward_report(const api_lookup_t *f, const char *host, const char *ip_text, api_verdict_t *v,
                           api_check_t *c)
{
	const char *rr = f->family == CORE_AF_INET ? "A" : "AAAA";
	const char *final = f->chain[f->n_chain - 1];
	char subject[1024], chain[1024];
	bool alias = f->n_chain > 1 && f->chain_state == API_CHAIN_OK;

	subject[0] = chain[0] = '\0';
	/* "mail.example.com " or "mail.example.com is an alias (CNAME) of x,
	 * which "; the predicate follows */
	if (alias) {
		append(subject, sizeof(subject), "%s is an alias (CNAME) of %s", host, final);
		if (f->n_chain > 2) {
			append(subject, sizeof(subject), " (via ");
			for (size_t i = 1; i + 1 < f->n_chain; i++)
				append(subject, sizeof(subject), "%s%s", i > 1 ? ", " : "", f->chain[i]);
			append(subject, sizeof(subject), ")");
		}
		append(subject, sizeof(subject), ", which");
	} else {
		append(subject, sizeof(subject), "%s", host);
	}
	for (size_t i = 0; i < f->n_chain; i++)
		append(chain, sizeof(chain), "%s%s", i ? " -> " : "", f->chain[i]);

	/* found: every address kept; the detail names a few, so that what follows them
	 * ("not 192.0.2.10") is never cut off */
	char listed[DETAIL_ADDRS * (CORE_ADDR_STRLEN + 2) + 32];
	listed[0] = '\0';
	if (f->kind == API_LOOKUP_ADDRS) {
		addrs_text(f, API_LOOKUP_MAX_ADDRS, v->found, sizeof(v->found));
		addrs_text(f, DETAIL_ADDRS, listed, sizeof(listed));
	}

	if (f->chain_state == API_CHAIN_LOOP) {
		check_set(c, "forward", API_CHECK_FAIL, API_SEV_HIGH);
		setf(c->detail, sizeof(c->detail), "%s leads into an alias (CNAME) loop: %s", host, chain);
		setf(c->next_step, sizeof(c->next_step),
		     "Fix the CNAME records so that %s ends at a name with an %s record for %s, "
		     "or give %s an %s record directly, then retry.",
		     host, rr, ip_text, host, rr);
		return;
	}
	if (f->chain_state == API_CHAIN_TOOLONG) {
		check_set(c, "forward", API_CHECK_FAIL, API_SEV_HIGH);
		setf(c->detail, sizeof(c->detail), "%s follows more than %d aliases (CNAME): %s", host,
		     API_VERIFY_MAX_CNAME, chain);
		setf(c->next_step, sizeof(c->next_step),
		     "Give %s an %s record pointing to %s, or shorten its CNAME chain, then retry.", host, rr,
		     ip_text);
		return;
	}

	switch (f->kind) {
	case API_LOOKUP_ADDRS:
		if (f->matched) {
			check_set(c, "forward", API_CHECK_PASS, API_SEV_HIGH);
			if (f->n_addrs + f->n_more > DETAIL_ADDRS)
				setf(c->detail, sizeof(c->detail), "%s has %s %s among %zu addresses",
				     subject, rr, ip_text, f->n_addrs + f->n_more);
			else
				setf(c->detail, sizeof(c->detail), "%s has %s %s", subject, rr, listed);
			return;
		}
		check_set(c, "forward", API_CHECK_FAIL, API_SEV_HIGH);
		setf(c->detail, sizeof(c->detail), "%s has %s %s, not %s", subject, rr, listed, ip_text);
		if (alias)
			setf(c->next_step, sizeof(c->next_step),
			     "Add or correct the %s record of %s (the alias target of %s) so that it points "
			     "to "
			     "%s, then retry.",
			     rr, final, host, ip_text);
		else
			setf(c->next_step, sizeof(c->next_step),
			     "Add or correct the %s record of %s so that it points to %s, then retry.", rr,
			     host, ip_text);
		return;
	case API_LOOKUP_NXDOMAIN:
		check_set(c, "forward", API_CHECK_FAIL, API_SEV_HIGH);
		setf(c->detail, sizeof(c->detail), "%s does not exist (NXDOMAIN)", subject);
		setf(c->next_step, sizeof(c->next_step),
		     "Create an %s record for %s pointing to %s at your DNS provider, wait until it is "
		     "published, then retry.",
		     rr, final, ip_text);
		return;
	case API_LOOKUP_NODATA:
		check_set(c, "forward", API_CHECK_FAIL, API_SEV_HIGH);
		setf(c->detail, sizeof(c->detail), "%s exists but has no %s record", subject, rr);
		setf(c->next_step, sizeof(c->next_step),
		     "Add an %s record for %s pointing to %s, then retry.", rr, final, ip_text);
		return;
	case API_LOOKUP_RCODE: {
		const char *rc = f->rcode_name ? f->rcode_name : "an error";

		check_set(c, "forward", API_CHECK_FAIL, API_SEV_HIGH);
		if (f->rcode == API_RCODE_SERVFAIL) {
			setf(c->detail, sizeof(c->detail),
			     "the resolvers could not resolve %s (SERVFAIL): its name servers failed, are "
			     "unreachable, or gave answers that fail DNSSEC validation",
			     final);
			setf(
			    c->next_step, sizeof(c->next_step),
			    "Check that the authoritative name servers for %s answer correctly (and that its "
			    "DNSSEC signatures are valid, if the zone is signed), then retry.",
			    final);
		} else if (f->rcode == API_RCODE_REFUSED) {
			setf(c->detail, sizeof(c->detail), "the resolvers refused to resolve %s (REFUSED)",
			     final);
			setf(c->next_step, sizeof(c->next_step),
			     "This is usually a problem on our side: retry later, and contact support if it "
			     "persists.");
		} else {
			setf(c->detail, sizeof(c->detail), "the resolvers answered %s for %s", rc, final);
			setf(c->next_step, sizeof(c->next_step),
			     "Check that the authoritative name servers for %s answer correctly, then retry.",
			     final);
		}
		return;
	}
	case API_LOOKUP_BADANSWER:
		check_set(c, "forward", API_CHECK_FAIL, API_SEV_HIGH);
		setf(c->detail, sizeof(c->detail), "the resolvers sent no valid answer for %s", final);
		setf(c->next_step, sizeof(c->next_step), "Retry later, and contact support if it persists.");
		return;
	case API_LOOKUP_TIMEOUT:
	default:
		check_set(c, "forward", API_CHECK_FAIL, API_SEV_HIGH);
		setf(c->detail, sizeof(c->detail), "timeout: no answer from the resolvers within %d ms",
		     f->elapsed_ms);
		if (f->n_chain > 1)
			append(c->detail, sizeof(c->detail), " while resolving %s (the alias target of %s)",
			       final, host);
		setf(c->next_step, sizeof(c->next_step),
		     "Check that the authoritative name servers for %s are reachable and answer queries, "
		     "then retry in a few minutes.",
		     final);
		return;
	}
}

static int check_forward(const api_verify_conf_t *conf, const core_addr_t *ip, int64_t start_us,
                         api_verdict_t *v, api_check_t *c)
{
	api_lookup_t f;
	api_resolver_t *res = NULL;
	api_resolver_conf_t rc = {.retries = -1};
	char ip_text[CORE_ADDR_STRLEN];
	int ret;

	if (conf != NULL) {
		rc.servers = conf->resolvers;
		rc.n_servers = conf->n_resolvers;
		rc.query_timeout_ms = conf->query_timeout_ms;
		rc.retries = conf->retries;
		rc.deadline_ms = conf->deadline_ms;
	}
	ret = api_resolver_new(&rc, start_us, &res);
	if (ret != RDNS_OK)
		return ret;
	ret = api_lookup_addrs(res, v->hostname, ip->family, ip, &f);
	if (ret != RDNS_OK)
		goto cleanup;
	if (core_addr_format(ip, ip_text, sizeof(ip_text)) != RDNS_OK)
		snprintf(ip_text, sizeof(ip_text), "?");
	forward_report(&f, v->hostname, ip_text, v, c);
cleanup:
	api_resolver_free(res);
	return ret;
}

/* ---- the other checks ---- */

static bool check_syntax(const char *hostname, api_verdict_t *v, api_check_t *c)
{
	const char *reason = NULL;
	int r = core_hostname_normalize(hostname, v->hostname, sizeof(v->hostname), &reason);

	if (r == RDNS_OK) {
		check_set(c, "syntax", API_CHECK_PASS, API_SEV_HIGH);
		setf(c->detail, sizeof(c->detail), "%s is a valid host name", v->hostname);
		return true;
	}
	v->hostname[0] = '\0';
	check_set(c, "syntax", API_CHECK_FAIL, API_SEV_HIGH);
	/* the reason is a predicate ("contains an underscore"); the raw input
	 * is not echoed, it may hold control characters */
	setf(c->detail, sizeof(c->detail), "the host name %s",
	     reason != NULL     ? reason
	     : r == RDNS_ESPACE ? "is too long"
	                        : "is not valid");
	setf(c->next_step, sizeof(c->next_step),
	     "Use a fully qualified host name such as mail.example.com (letters, digits and hyphens, "
	     "labels separated by dots).");
	return false;
}

static bool check_policy(const api_verify_conf_t *conf, const core_addr_t *ip, api_verdict_t *v,
                         api_check_t *c)
{
	const char *const *special = core_hostname_special_default;
	size_t n_special = 0;
	const char *which = NULL;
	const char *rr = ip->family == CORE_AF_INET ? "A" : "AAAA";

	if (conf != NULL && conf->special != NULL) {
		special = conf->special;
		n_special = conf->n_special;
	} else {
		while (special[n_special] != NULL)
			n_special++;
	}
	if (core_hostname_matches_suffix(v->hostname, special, n_special, &which)) {
		check_set(c, "policy", API_CHECK_FAIL, API_SEV_HIGH);
		setf(c->detail, sizeof(c->detail),
		     "%s is in '%s', a special-use or internal domain that does not resolve on the public "
		     "Internet",
		     v->hostname, which ? which : "?");
		setf(c->next_step, sizeof(c->next_step),
		     "Use a host name in a public domain that you control, such as mail.example.com, with an "
		     "%s record pointing to this address.",
		     rr);
		return false;
	}
	if (conf != NULL && conf->denied != NULL && conf->n_denied > 0 &&
	    core_hostname_matches_suffix(v->hostname, conf->denied, conf->n_denied, &which)) {
		check_set(c, "policy", API_CHECK_FAIL, API_SEV_HIGH);
		setf(c->detail, sizeof(c->detail),
		     "%s is in '%s', a domain that this provider does not allow as a reverse DNS name",
		     v->hostname, which ? which : "?");
		setf(
		    c->next_step, sizeof(c->next_step),
		    "Use a host name in a domain that you own or control, with an %s record pointing to this "
		    "address.",
		    rr);
		return false;
	}
	check_set(c, "policy", API_CHECK_PASS, API_SEV_HIGH);
	setf(c->detail, sizeof(c->detail), "%s is not in a special-use or denied domain", v->hostname);
	return true;
}

static void check_generic(const core_addr_t *ip, api_verdict_t *v, api_check_t *c)
{
	char why[256];
	unsigned flags;

	why[0] = '\0';
	flags = core_hostname_generic(v->hostname, ip, why, sizeof(why));
	if (flags == 0) {
		check_set(c, "generic", API_CHECK_PASS, API_SEV_LOW);
		setf(c->detail, sizeof(c->detail), "%s does not look like a generic (residential) name",
		     v->hostname);
		return;
	}
	check_set(c, "generic", API_CHECK_WARN, API_SEV_LOW);
	setf(c->detail, sizeof(c->detail), "%s looks like a generic (residential) name: %s", v->hostname,
	     why[0] ? why : "matches a generic pattern");
	setf(c->next_step, sizeof(c->next_step), "%s", ADVICE_GENERIC);
}

int api_verify(const api_verify_conf_t *conf, const core_addr_t *ip, const char *hostname, bool skip_forward,
               api_verdict_t *out)
{
	int64_t start = api_resolve_now_us();
	api_check_t *c;
	int ret;

	if (ip == NULL || hostname == NULL || out == NULL)
		return RDNS_EINVAL;
	if (ip->family != CORE_AF_INET && ip->family != CORE_AF_INET6)
		return RDNS_EINVAL;
	memset(out, 0, sizeof(*out));

	c = &out->checks[out->n++];
	if (!check_syntax(hostname, out, c))
		goto done;

	c = &out->checks[out->n++];
	out->syntax_ok = check_policy(conf, ip, out, c);

	if (out->syntax_ok) {
		c = &out->checks[out->n++];
		if (skip_forward) {
			check_set(c, "forward", API_CHECK_WARN, API_SEV_HIGH);
			setf(c->detail, sizeof(c->detail), "skipped (forced by staff)");
		} else {
			ret = check_forward(conf, ip, start, out, c);
			if (ret != RDNS_OK)
				return ret;
		}
	}

	c = &out->checks[out->n++];
	check_generic(ip, out, c);
done:
	out->ok = true;
	for (size_t i = 0; i < out->n; i++)
		if (out->checks[i].status == API_CHECK_FAIL)
			out->ok = false;
	return RDNS_OK;
}
