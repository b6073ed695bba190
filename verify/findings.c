/* findings.c - the verifier's customer-facing wording, written from plain outcomes (no I/O, no DNS). */
#include "verify/findings.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"

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

static void set_status(vf_check_t *c, vf_check_status_t status)
{
	c->status = status;
	c->detail[0] = '\0';
	c->next_step[0] = '\0';
}

static const char *rr_name(int family)
{
	return family == CORE_AF_INET ? "A" : "AAAA";
}

/* ---- syntax, policy, generic ---- */

void vf_findings_syntax(const vf_syntax_outcome_t *o, vf_check_t *c)
{
	if (o->err == RDNS_OK) {
		set_status(c, VF_CHECK_PASS);
		setf(c->detail, sizeof(c->detail), "%s is a valid host name", o->hostname);
		return;
	}
	set_status(c, VF_CHECK_FAIL);
	/* the reason is a predicate ("contains an underscore"); the raw input
	 * is not echoed, it may hold control characters */
	setf(c->detail, sizeof(c->detail), "the host name %s",
	     o->reason != NULL       ? o->reason
	     : o->err == RDNS_ESPACE ? "is too long"
	                             : "is not valid");
	setf(c->next_step, sizeof(c->next_step),
	     "Use a fully qualified host name such as mail.example.com (letters, digits and hyphens, "
	     "labels separated by dots).");
}

void vf_findings_policy(const vf_policy_outcome_t *o, vf_check_t *c)
{
	const char *rr = rr_name(o->family);
	const char *which = o->suffix ? o->suffix : "?";

	switch (o->kind) {
	case VF_POLICY_SPECIAL:
		set_status(c, VF_CHECK_FAIL);
		setf(c->detail, sizeof(c->detail),
		     "%s is in '%s', a special-use or internal domain that does not resolve on the public "
		     "Internet",
		     o->hostname, which);
		setf(c->next_step, sizeof(c->next_step),
		     "Use a host name in a public domain that you control, such as mail.example.com, with an "
		     "%s record pointing to this address.",
		     rr);
		return;
	case VF_POLICY_DENIED:
		set_status(c, VF_CHECK_FAIL);
		setf(c->detail, sizeof(c->detail),
		     "%s is in '%s', a domain that this provider does not allow as a reverse DNS name",
		     o->hostname, which);
		setf(
		    c->next_step, sizeof(c->next_step),
		    "Use a host name in a domain that you own or control, with an %s record pointing to this "
		    "address.",
		    rr);
		return;
	case VF_POLICY_OK:
	default:
		set_status(c, VF_CHECK_PASS);
		setf(c->detail, sizeof(c->detail), "%s is not in a special-use or denied domain",
		     o->hostname);
		return;
	}
}

void vf_findings_generic(const vf_generic_outcome_t *o, vf_check_t *c)
{
	if (o->flags == 0) {
		set_status(c, VF_CHECK_PASS);
		setf(c->detail, sizeof(c->detail), "%s does not look like a generic (residential) name",
		     o->hostname);
		return;
	}
	set_status(c, VF_CHECK_WARN);
	setf(c->detail, sizeof(c->detail), "%s looks like a generic (residential) name: %s", o->hostname,
	     o->why && o->why[0] ? o->why : "matches a generic pattern");
	setf(c->next_step, sizeof(c->next_step), "%s", ADVICE_GENERIC);
}

/* ---- forward ---- */

/* The first max addresses found, then "and N more" for the rest. */
static void addrs_text(const vf_lookup_t *l, size_t max, char *buf, size_t len)
{
	size_t shown = l->n_addrs < max ? l->n_addrs : max;
	buf[0] = '\0';
	for (size_t i = 0; i < shown; i++) {
		char t[CORE_ADDR_STRLEN];

		if (core_addr_format(&l->addrs[i], t, sizeof(t)) != RDNS_OK)
			snprintf(t, sizeof(t), "?");
		append(buf, len, "%s%s", i ? ", " : "", t);
	}
	if (l->n_addrs - shown + l->n_more > 0)
		append(buf, len, " and %zu more", l->n_addrs - shown + l->n_more);
}

void vf_findings_found(const vf_lookup_t *l, char *buf, size_t len)
{
	if (len == 0)
		return;
	buf[0] = '\0';
	if (l->kind == VF_LOOKUP_ADDRS)
		addrs_text(l, VF_LOOKUP_MAX_ADDRS, buf, len);
}

/* The wording of a lookup's rcode failure. */
static void forward_rcode(const vf_lookup_t *f, const char *final, vf_check_t *c)
{
	if (f->rcode == VF_RCODE_SERVFAIL) {
		setf(c->detail, sizeof(c->detail),
		     "the resolvers could not resolve %s (SERVFAIL): its name servers failed, are "
		     "unreachable, or gave answers that fail DNSSEC validation",
		     final);
		setf(c->next_step, sizeof(c->next_step),
		     "Check that the authoritative name servers for %s answer correctly (and that its "
		     "DNSSEC signatures are valid, if the zone is signed), then retry.",
		     final);
	} else if (f->rcode == VF_RCODE_REFUSED) {
		setf(c->detail, sizeof(c->detail), "the resolvers refused to resolve %s (REFUSED)", final);
		setf(c->next_step, sizeof(c->next_step),
		     "This is usually a problem on our side: retry later, and contact support if it "
		     "persists.");
	} else {
		setf(c->detail, sizeof(c->detail), "the resolvers answered %s for %s",
		     f->rcode_name ? f->rcode_name : "an error", final);
		setf(c->next_step, sizeof(c->next_step),
		     "Check that the authoritative name servers for %s answer correctly, then retry.", final);
	}
}

/* What a refused or unreachable attempt met, in words. */
static const char *neterr_text(int e)
{
	switch (e) {
	case ECONNREFUSED: return "refused the query (connection refused: nothing answers on that port)";
	case EHOSTUNREACH: return "is unreachable (no route to host)";
	case ENETUNREACH: return "is unreachable (network unreachable)";
	case EACCES:
	case EPERM: return "could not be asked (blocked by a local firewall rule)";
	case ECONNRESET: return "reset the TCP connection before the whole answer";
	case ECONNABORTED: return "closed the TCP connection before the whole answer";
	default: return "could not be asked (network error)";
	}
}

/* "a refused the query (...), b is unreachable (...)": the resolvers that
 * refused or were unreachable (timed_out: those that timed out instead). */
static void resolvers_text(const vf_lookup_t *f, bool timed_out, char *buf, size_t len)
{
	size_t shown = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < f->n_resolvers; i++) {
		const vf_lookup_resolver_t *r = &f->resolvers[i];

		if (timed_out ? !r->timed_out : r->timed_out || r->neterr == 0)
			continue;
		if (timed_out)
			append(buf, len, "%s%s", shown ? ", " : "", r->name);
		else
			append(buf, len, "%s%s %s", shown ? ", " : "", r->name, neterr_text(r->neterr));
		shown++;
	}
	if (f->n_resolvers_more > 0 && shown > 0)
		append(buf, len, " and %zu more", f->n_resolvers_more);
}

void vf_findings_forward(const vf_forward_outcome_t *o, vf_check_t *c)
{
	const vf_lookup_t *f = o->lookup;
	const char *host = o->hostname;
	char ip_text[CORE_ADDR_STRLEN], subject[1024], chain[1024];

	if (o->skipped) {
		set_status(c, VF_CHECK_WARN);
		setf(c->detail, sizeof(c->detail), "skipped (forced by staff)");
		return;
	}
	if (core_addr_format(o->ip, ip_text, sizeof(ip_text)) != RDNS_OK)
		snprintf(ip_text, sizeof(ip_text), "?");

	const char *rr = rr_name(f->family);
	const char *final = f->n_chain > 0 ? f->chain[f->n_chain - 1] : host;
	bool alias = f->n_chain > 1 && f->chain_state == VF_CHAIN_OK;

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

	/* the detail names a few addresses, so that what follows them ("not
	 * 192.0.2.10") is never cut off */
	char listed[DETAIL_ADDRS * (CORE_ADDR_STRLEN + 2) + 32];
	listed[0] = '\0';
	if (f->kind == VF_LOOKUP_ADDRS)
		addrs_text(f, DETAIL_ADDRS, listed, sizeof(listed));

	set_status(c, VF_CHECK_FAIL);
	if (f->chain_state == VF_CHAIN_LOOP) {
		setf(c->detail, sizeof(c->detail), "%s leads into an alias (CNAME) loop: %s", host, chain);
		setf(c->next_step, sizeof(c->next_step),
		     "Fix the CNAME records so that %s ends at a name with an %s record for %s, "
		     "or give %s an %s record directly, then retry.",
		     host, rr, ip_text, host, rr);
		return;
	}
	if (f->chain_state == VF_CHAIN_TOOLONG) {
		setf(c->detail, sizeof(c->detail), "%s follows more than %d aliases (CNAME): %s", host,
		     VF_LOOKUP_MAX_CNAME, chain);
		setf(c->next_step, sizeof(c->next_step),
		     "Give %s an %s record pointing to %s, or shorten its CNAME chain, then retry.", host, rr,
		     ip_text);
		return;
	}

	switch (f->kind) {
	case VF_LOOKUP_ADDRS:
		if (f->matched) {
			c->status = VF_CHECK_PASS;
			if (f->n_addrs + f->n_more > DETAIL_ADDRS)
				setf(c->detail, sizeof(c->detail), "%s has %s %s among %zu addresses",
				     subject, rr, ip_text, f->n_addrs + f->n_more);
			else
				setf(c->detail, sizeof(c->detail), "%s has %s %s", subject, rr, listed);
			return;
		}
		setf(c->detail, sizeof(c->detail), "%s has %s %s, not %s", subject, rr, listed, ip_text);
		if (alias)
			setf(c->next_step, sizeof(c->next_step),
			     "Add or correct the %s record of %s (the alias target of %s) so that it points "
			     "to %s, then retry.",
			     rr, final, host, ip_text);
		else
			setf(c->next_step, sizeof(c->next_step),
			     "Add or correct the %s record of %s so that it points to %s, then retry.", rr,
			     host, ip_text);
		return;
	case VF_LOOKUP_NXDOMAIN:
		setf(c->detail, sizeof(c->detail), "%s does not exist (NXDOMAIN)", subject);
		setf(c->next_step, sizeof(c->next_step),
		     "Create an %s record for %s pointing to %s at your DNS provider, wait until it is "
		     "published, then retry.",
		     rr, final, ip_text);
		return;
	case VF_LOOKUP_NODATA:
		setf(c->detail, sizeof(c->detail), "%s exists but has no %s record", subject, rr);
		setf(c->next_step, sizeof(c->next_step),
		     "Add an %s record for %s pointing to %s, then retry.", rr, final, ip_text);
		return;
	case VF_LOOKUP_RCODE: forward_rcode(f, final, c); return;
	case VF_LOOKUP_BADANSWER:
		setf(c->detail, sizeof(c->detail), "the resolvers sent no valid answer for %s", final);
		setf(c->next_step, sizeof(c->next_step), "Retry later, and contact support if it persists.");
		return;
	case VF_LOOKUP_UNREACHABLE: {
		char which[400];

		resolvers_text(f, false, which, sizeof(which));
		setf(c->detail, sizeof(c->detail), "the provider's resolvers could not be asked about %s: %s",
		     final, which[0] ? which : "every one refused the query or was unreachable");
		setf(c->next_step, sizeof(c->next_step),
		     "This is a fault in the provider's resolver configuration, not in the name servers of "
		     "%s: nothing to change on your side. Contact support; retry once it is fixed.",
		     final);
		return;
	}
	case VF_LOOKUP_TIMEOUT:
	default: {
		char which[400];

		setf(c->detail, sizeof(c->detail), "timeout: no answer from the resolvers within %d ms",
		     f->elapsed_ms);
		resolvers_text(f, true, which, sizeof(which));
		if (which[0])
			append(c->detail, sizeof(c->detail), " (%s)", which);
		if (f->n_chain > 1)
			append(c->detail, sizeof(c->detail), " while resolving %s (the alias target of %s)",
			       final, host);
		resolvers_text(f, false, which, sizeof(which));
		if (which[0])
			append(c->detail, sizeof(c->detail), "; %s", which);
		setf(c->next_step, sizeof(c->next_step),
		     "Check that the authoritative name servers for %s are reachable and answer queries, "
		     "then retry in a few minutes.",
		     final);
		return;
	}
	}
}
