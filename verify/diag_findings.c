/* diag_findings.c - the diagnostics' customer-facing wording, written from plain outcomes (no I/O). */
#include "verify/diag_findings.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/serial.h"

__attribute__((format(printf, 3, 4))) static void setf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

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

static void set(vf_diag_finding_t *f, vf_diag_status_t s)
{
	f->status = s;
	f->detail[0] = f->next_step[0] = '\0';
}

const char *vf_diag_status_str(vf_diag_status_t s)
{
	switch (s) {
	case VF_DIAG_PASS: return "pass";
	case VF_DIAG_WARN: return "warn";
	case VF_DIAG_FAIL: return "fail";
	case VF_DIAG_SKIP: return "skip";
	}
	return "fail";
}

json_t *vf_diag_finding_json(const vf_diag_finding_t *f)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", f->id, "status", vf_diag_status_str(f->status),
	                 "severity", vf_verify_severity_str(f->severity), "detail", f->detail, "next_step",
	                 f->next_step);
}

void vf_diag_printable(char *dst, size_t dst_len, const char *src)
{
	size_t i = 0;

	if (dst_len == 0)
		return;
	for (; src && src[i] && i + 1 < dst_len; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	dst[i] = '\0';
}

void vf_diag_words_skip(vf_diag_finding_t *f, const char *reason)
{
	set(f, VF_DIAG_SKIP);
	setf(f->detail, sizeof(f->detail), "skipped: %s", reason);
}

/* ---- ptr_published ---- */

static const char *ns_kind_text(const vf_ns_answer_t *a, char *buf, size_t len)
{
	switch (a->kind) {
	case VF_NS_PTR:
		if (a->n_ptr > 1)
			setf(buf, len, "%s (and %zu more PTR records)", a->ptr, a->n_ptr - 1);
		else
			setf(buf, len, "%s", a->ptr);
		break;
	case VF_NS_NXDOMAIN: setf(buf, len, "no such name (NXDOMAIN)"); break;
	case VF_NS_NODATA: setf(buf, len, "no PTR record"); break;
	case VF_NS_RCODE: setf(buf, len, "error %s", a->rcode_name ? a->rcode_name : "rcode"); break;
	case VF_NS_TIMEOUT: setf(buf, len, "no answer in time"); break;
	case VF_NS_UNREACHABLE: setf(buf, len, "unreachable or refused the connection"); break;
	case VF_NS_BAD: setf(buf, len, "only invalid answers"); break;
	}
	return buf;
}

void vf_diag_words_published(const vf_diag_published_t *o, vf_diag_finding_t *f)
{
	size_t good = 0, stale = 0, wrong = 0, silent = 0, timeouts = 0;
	char what[320], lists[3][600];

	if (!o->expected) {
		set(f, VF_DIAG_FAIL);
		setf(f->detail, sizeof(f->detail),
		     "rdns holds no PTR for %s (no custom PTR and no default name in zone %s)", o->ip,
		     o->zone);
		setf(f->next_step, sizeof(f->next_step), "Set a PTR for %s, such as mail.example.com.",
		     o->ip);
		return;
	}
	if (o->n_ns == 0) {
		set(f, VF_DIAG_SKIP);
		setf(f->detail, sizeof(f->detail), "skipped: no name server of %s could be asked: %s",
		     o->zone, o->no_servers ? o->no_servers : "none is listed");
		return;
	}
	lists[0][0] = lists[1][0] = lists[2][0] = '\0';
	for (size_t i = 0; i < o->n_ns; i++) {
		const vf_ns_answer_t *a = &o->ns[i];
		bool ok = a->kind == VF_NS_PTR && a->n_ptr == 1 && vf_diag_same_name(a->ptr, o->expected);

		if (ok) {
			good++;
			continue;
		}
		ns_kind_text(a, what, sizeof(what));
		if (a->kind == VF_NS_TIMEOUT || a->kind == VF_NS_UNREACHABLE || a->kind == VF_NS_BAD ||
		    a->kind == VF_NS_RCODE) {
			silent++;
			timeouts += a->kind == VF_NS_TIMEOUT;
			append(lists[2], sizeof(lists[2]), "%s%s: %s", lists[2][0] ? "; " : "", a->server,
			       what);
		} else if (a->has_serial && core_serial_lt(a->serial, o->serial)) {
			stale++;
			append(lists[0], sizeof(lists[0]), "%s%s serves serial %u (%s)",
			       lists[0][0] ? "; " : "", a->server, (unsigned)a->serial, what);
		} else {
			wrong++;
			if (a->has_serial)
				append(lists[1], sizeof(lists[1]), "%s%s answers %s at serial %u",
				       lists[1][0] ? "; " : "", a->server, what, (unsigned)a->serial);
			else
				append(lists[1], sizeof(lists[1]), "%s%s answers %s", lists[1][0] ? "; " : "",
				       a->server, what);
		}
	}
	const char *src = o->from_option ? "the configured servers" : "the zone's name servers";
	if (wrong) {
		set(f, VF_DIAG_FAIL);
		setf(f->detail, sizeof(f->detail), "%s: %s, not %s as rdns holds (serial %u)", src, lists[1],
		     o->expected, (unsigned)o->serial);
		if (stale)
			append(f->detail, sizeof(f->detail), "; still propagating: %s", lists[0]);
		setf(f->next_step, sizeof(f->next_step),
		     "The name servers of %s do not serve what rdns holds; this is a problem on our side: "
		     "contact "
		     "support.",
		     o->zone);
		return;
	}
	if (stale) {
		set(f, VF_DIAG_WARN);
		f->severity = VF_SEV_LOW;
		setf(f->detail, sizeof(f->detail), "propagating: %s; rdns holds %s at serial %u", lists[0],
		     o->expected, (unsigned)o->serial);
		if (good)
			append(f->detail, sizeof(f->detail), "; %zu of %zu servers already serve it", good,
			       o->n_ns);
		setf(
		    f->next_step, sizeof(f->next_step),
		    "Nothing to do: the change reaches every name server within minutes. Check again later.");
		return;
	}
	if (good == 0) {
		if (timeouts == silent) {
			set(f, VF_DIAG_SKIP);
			setf(f->detail, sizeof(f->detail),
			     "skipped: no name server answered before the deadline (%s)", lists[2]);
			return;
		}
		set(f, VF_DIAG_FAIL);
		setf(f->detail, sizeof(f->detail), "no name server of %s answered for %s: %s", o->zone, o->ip,
		     lists[2]);
		setf(f->next_step, sizeof(f->next_step),
		     "Mail receivers cannot read this PTR while the name servers fail; contact support.");
		return;
	}
	if (silent) {
		set(f, VF_DIAG_WARN);
		setf(f->detail, sizeof(f->detail), "%zu of %zu servers serve %s; %s", good, o->n_ns,
		     o->expected, lists[2]);
		setf(f->next_step, sizeof(f->next_step),
		     "Some receivers may see no PTR while these servers fail; contact support if it "
		     "persists.");
		return;
	}
	set(f, VF_DIAG_PASS);
	setf(f->detail, sizeof(f->detail), "all %zu of %s serve %s for %s (serial %u)", o->n_ns, src,
	     o->expected, o->ip, (unsigned)o->serial);
}

/* ---- ptr_generic, mail_hostname ---- */

static const char NEXT_CUSTOM[] = "Set a custom PTR such as mail.example.com, with an A/AAAA record "
                                  "pointing back to this address.";

void vf_diag_words_generic(const vf_diag_generic_t *o, vf_diag_finding_t *f)
{
	if (!o->hostname) {
		vf_diag_words_skip(f, "no PTR to judge");
		return;
	}
	if (o->is_default) {
		set(f, VF_DIAG_WARN);
		setf(f->detail, sizeof(f->detail),
		     "%s is the zone's default name, which receivers treat as generic (not a mail server's "
		     "own name)",
		     o->hostname);
		setf(f->next_step, sizeof(f->next_step), "%s", NEXT_CUSTOM);
		return;
	}
	if (o->flags) {
		set(f, VF_DIAG_WARN);
		setf(f->detail, sizeof(f->detail), "%s looks generic: %s", o->hostname,
		     o->why && o->why[0] ? o->why : "matches a generic pattern");
		setf(f->next_step, sizeof(f->next_step), "%s", NEXT_CUSTOM);
		return;
	}
	set(f, VF_DIAG_PASS);
	setf(f->detail, sizeof(f->detail), "%s does not look generic", o->hostname);
}

void vf_diag_words_mail_hostname(const char *hostname, vf_diag_finding_t *f)
{
	if (!hostname) {
		vf_diag_words_skip(f, "no PTR to judge");
		return;
	}
	if (vf_diag_is_web_name(hostname)) {
		set(f, VF_DIAG_WARN);
		setf(f->detail, sizeof(f->detail), "%s is a web server's name, not a mail identity",
		     hostname);
		setf(f->next_step, sizeof(f->next_step),
		     "If this address sends mail, name it after the mail server (mail.%s), the name it uses "
		     "in "
		     "HELO.",
		     strchr(hostname, '.') + 1);
		return;
	}
	set(f, VF_DIAG_PASS);
	setf(f->detail, sizeof(f->detail), "%s is not a web server's name", hostname);
}

/* ---- helo ---- */

void vf_diag_words_helo(const vf_diag_helo_t *o, vf_diag_finding_t *f)
{
	const char *ptr = o->ptr;

	switch (o->kind) {
	case VF_HELO_OK: {
		const char *name = o->ehlo_name[0] ? o->ehlo_name : o->banner_name;

		if (!name[0]) {
			set(f, VF_DIAG_WARN);
			setf(f->detail, sizeof(f->detail),
			     "%s:%d announces no name in its greeting or EHLO reply", o->ip, o->port);
			setf(f->next_step, sizeof(f->next_step),
			     "Configure the mail server to announce its host name (Postfix: myhostname)%s%s.",
			     ptr ? ", " : "", ptr ? ptr : "");
			return;
		}
		if (ptr && vf_diag_same_name(name, ptr)) {
			set(f, VF_DIAG_PASS);
			setf(f->detail, sizeof(f->detail), "%s:%d announces %s, the PTR", o->ip, o->port,
			     name);
			return;
		}
		set(f, VF_DIAG_WARN);
		if (ptr)
			setf(f->detail, sizeof(f->detail), "%s:%d announces %s, but the PTR is %s", o->ip,
			     o->port, name, ptr);
		else
			setf(f->detail, sizeof(f->detail), "%s:%d announces %s, but the address has no PTR",
			     o->ip, o->port, name);
		setf(f->next_step, sizeof(f->next_step),
		     "Make the mail server announce the PTR name (Postfix: myhostname = %s), or set the PTR "
		     "to %s "
		     "if that name points to this address.",
		     ptr ? ptr : name, name);
		return;
	}
	case VF_HELO_REFUSED:
		set(f, VF_DIAG_FAIL);
		setf(f->detail, sizeof(f->detail),
		     "%s:%d refused the connection: no mail server listens there", o->ip, o->port);
		setf(f->next_step, sizeof(f->next_step),
		     "Start the mail server, or open port %d in the firewall, if this address should receive "
		     "mail.",
		     o->port);
		return;
	case VF_HELO_UNREACHABLE:
		set(f, VF_DIAG_FAIL);
		setf(f->detail, sizeof(f->detail), "%s:%d could not be reached (%s)", o->ip, o->port,
		     o->err == EHOSTUNREACH  ? "no route to host"
		     : o->err == ENETUNREACH ? "network unreachable"
		                             : "connection error");
		setf(f->next_step, sizeof(f->next_step), "Check that the server is up and port %d is open.",
		     o->port);
		return;
	case VF_HELO_TIMEOUT:
		set(f, VF_DIAG_SKIP);
		setf(f->detail, sizeof(f->detail), "skipped: %s:%d did not finish the %s before the deadline",
		     o->ip, o->port, o->stage ? o->stage : "exchange");
		return;
	case VF_HELO_CLOSED:
		set(f, VF_DIAG_FAIL);
		setf(f->detail, sizeof(f->detail), "%s:%d closed the connection during the %s", o->ip,
		     o->port, o->stage ? o->stage : "exchange");
		setf(f->next_step, sizeof(f->next_step),
		     "Check the mail server's logs: it drops connections.");
		return;
	case VF_HELO_REJECTED:
		set(f, VF_DIAG_FAIL);
		setf(f->detail, sizeof(f->detail), "%s:%d answered the %s with %d: %s", o->ip, o->port,
		     o->stage ? o->stage : "exchange", o->code, o->line);
		setf(f->next_step, sizeof(f->next_step),
		     "The mail server refuses sessions (a %d reply); check its configuration.", o->code);
		return;
	case VF_HELO_GARBLED:
	default:
		set(f, VF_DIAG_FAIL);
		setf(f->detail, sizeof(f->detail), "%s:%d does not speak SMTP: the %s reply was \"%s\"",
		     o->ip, o->port, o->stage ? o->stage : "first", o->line);
		setf(f->next_step, sizeof(f->next_step), "Run an SMTP server on port %d, or nothing at all.",
		     o->port);
		return;
	}
}

/* ---- spf ---- */

void vf_diag_words_spf(const vf_diag_spf_t *o, vf_diag_finding_t *f)
{
	const char *why = o->why[0] ? o->why : NULL;

	switch (o->result) {
	case VF_SPF_PASS:
		set(f, VF_DIAG_PASS);
		setf(f->detail, sizeof(f->detail), "the SPF record of %s authorizes %s", o->domain, o->ip);
		return;
	case VF_SPF_FAIL:
	case VF_SPF_SOFTFAIL:
		set(f, VF_DIAG_FAIL);
		setf(f->detail, sizeof(f->detail), "the SPF record of %s does not authorize %s (%s)",
		     o->domain, o->ip, o->result == VF_SPF_FAIL ? "fail" : "softfail");
		setf(f->next_step, sizeof(f->next_step),
		     "Add this address to the SPF record of %s (ip%c:%s, or a:/mx: naming this host).",
		     o->domain, strchr(o->ip, ':') ? '6' : '4', o->ip);
		return;
	case VF_SPF_NEUTRAL:
		set(f, VF_DIAG_WARN);
		setf(f->detail, sizeof(f->detail), "the SPF record of %s says nothing about %s (neutral)",
		     o->domain, o->ip);
		setf(f->next_step, sizeof(f->next_step),
		     "Authorize this address explicitly in the SPF record of %s.", o->domain);
		return;
	case VF_SPF_NONE:
		set(f, VF_DIAG_FAIL);
		setf(f->detail, sizeof(f->detail), "%s has no SPF record", o->domain);
		setf(f->next_step, sizeof(f->next_step),
		     "Publish a TXT record at %s such as \"v=spf1 ip%c:%s -all\".", o->domain,
		     strchr(o->ip, ':') ? '6' : '4', o->ip);
		return;
	case VF_SPF_TEMPERROR:
		if (o->timed_out) {
			vf_diag_words_skip(f, "the SPF evaluation did not finish before the deadline");
			return;
		}
		set(f, VF_DIAG_WARN);
		setf(f->detail, sizeof(f->detail),
		     "the SPF record of %s could not be evaluated (temporary DNS error%s%s)", o->domain,
		     why ? ": " : "", why ? why : "");
		setf(f->next_step, sizeof(f->next_step),
		     "Check that the name servers of %s answer, then retry.", o->domain);
		return;
	case VF_SPF_LOOPBACK:
		vf_diag_words_skip(
		    f, "a loopback address: libspf2 passes 127.0.0.0/8 and ::1 without evaluating any "
		       "SPF record");
		return;
	case VF_SPF_PERMERROR:
	default:
		set(f, VF_DIAG_FAIL);
		setf(f->detail, sizeof(f->detail), "the SPF record of %s is invalid%s%s", o->domain,
		     why ? ": " : "", why ? why : "");
		setf(f->next_step, sizeof(f->next_step),
		     "Fix the SPF record of %s: one record starting with v=spf1, at most 10 DNS-querying "
		     "terms.",
		     o->domain);
		return;
	}
}

/* ---- dmarc, dkim ---- */

void vf_diag_words_dmarc(const vf_diag_dmarc_t *o, vf_diag_finding_t *f)
{
	static const char NEXT[] = "Publish a TXT record at _dmarc.%s such as \"v=DMARC1; p=quarantine; "
	                           "rua=mailto:dmarc@%s\".";

	switch (o->kind) {
	case VF_TXT_TIMEOUT:
		vf_diag_words_skip(f, "the DMARC lookup did not finish before the deadline");
		return;
	case VF_TXT_ERROR:
		set(f, VF_DIAG_WARN);
		setf(f->detail, sizeof(f->detail), "_dmarc.%s could not be looked up: %s", o->domain,
		     o->error ? o->error : "error");
		setf(f->next_step, sizeof(f->next_step),
		     "Check that the name servers of %s answer, then retry.", o->domain);
		return;
	case VF_TXT_MISSING:
		set(f, VF_DIAG_FAIL);
		setf(f->detail, sizeof(f->detail), "%s has no DMARC record (_dmarc.%s)", o->domain,
		     o->domain);
		setf(f->next_step, sizeof(f->next_step), NEXT, o->domain, o->domain);
		return;
	case VF_TXT_FOUND: break;
	}
	if (o->n_records > 1) {
		/* RFC 7489 6.6.3: more than one record means none applies */
		set(f, VF_DIAG_FAIL);
		setf(f->detail, sizeof(f->detail),
		     "_dmarc.%s has %zu DMARC records; receivers then apply none", o->domain, o->n_records);
		setf(f->next_step, sizeof(f->next_step), "Keep exactly one v=DMARC1 record at _dmarc.%s.",
		     o->domain);
		return;
	}
	if (!o->rec.valid) {
		set(f, VF_DIAG_FAIL);
		setf(f->detail, sizeof(f->detail), "the DMARC record of %s %s", o->domain, o->rec.error);
		setf(f->next_step, sizeof(f->next_step), NEXT, o->domain, o->domain);
		return;
	}
	if (o->rec.p == VF_DMARC_NONE) {
		set(f, VF_DIAG_WARN);
		setf(f->detail, sizeof(f->detail),
		     "the DMARC policy of %s is p=none: monitoring only, nothing enforced", o->domain);
		setf(f->next_step, sizeof(f->next_step),
		     "Once the reports show your mail passing, move to p=quarantine, then p=reject.");
		return;
	}
	set(f, VF_DIAG_PASS);
	setf(f->detail, sizeof(f->detail), "the DMARC policy of %s is p=%s", o->domain,
	     vf_dmarc_policy_str(o->rec.p));
	if (o->rec.pct < 100)
		append(f->detail, sizeof(f->detail), " for %d%% of the mail", o->rec.pct);
}

void vf_diag_words_dkim(const vf_diag_dkim_t *o, vf_diag_finding_t *f)
{
	if (!o->selector) {
		vf_diag_words_skip(f, "no DKIM selector given (add ?selector=...)");
		return;
	}
	switch (o->kind) {
	case VF_TXT_TIMEOUT:
		vf_diag_words_skip(f, "the DKIM lookup did not finish before the deadline");
		return;
	case VF_TXT_ERROR:
		set(f, VF_DIAG_WARN);
		setf(f->detail, sizeof(f->detail), "%s._domainkey.%s could not be looked up: %s", o->selector,
		     o->domain, o->error ? o->error : "error");
		setf(f->next_step, sizeof(f->next_step),
		     "Check that the name servers of %s answer, then retry.", o->domain);
		return;
	case VF_TXT_MISSING:
		set(f, VF_DIAG_FAIL);
		setf(f->detail, sizeof(f->detail), "%s._domainkey.%s has no DKIM key record", o->selector,
		     o->domain);
		setf(f->next_step, sizeof(f->next_step),
		     "Publish the public key of selector %s as a TXT record at %s._domainkey.%s (\"v=DKIM1; "
		     "k=rsa; "
		     "p=...\").",
		     o->selector, o->selector, o->domain);
		return;
	case VF_TXT_FOUND: break;
	}
	if (!o->rec.valid) {
		set(f, VF_DIAG_FAIL);
		setf(f->detail, sizeof(f->detail), "the DKIM key record %s._domainkey.%s %s", o->selector,
		     o->domain, o->rec.error);
		setf(f->next_step, sizeof(f->next_step),
		     "Publish the key again as \"v=DKIM1; k=rsa; p=<base64 key>\".");
		return;
	}
	if (o->rec.revoked) {
		set(f, VF_DIAG_FAIL);
		setf(f->detail, sizeof(f->detail), "the DKIM key of selector %s of %s is revoked (empty p=)",
		     o->selector, o->domain);
		setf(f->next_step, sizeof(f->next_step), "Sign with a selector whose key is published.");
		return;
	}
	if (!o->rec.known_k) {
		set(f, VF_DIAG_WARN);
		setf(f->detail, sizeof(f->detail),
		     "the DKIM key of selector %s of %s has an unknown type k=%s", o->selector, o->domain,
		     o->rec.k);
		setf(f->next_step, sizeof(f->next_step), "Use k=rsa (2048 bits) or k=ed25519.");
		return;
	}
	set(f, VF_DIAG_PASS);
	setf(f->detail, sizeof(f->detail), "selector %s of %s has a %s key (%zu bytes)%s", o->selector,
	     o->domain, o->rec.k, o->rec.key_bytes, o->rec.testing ? ", in test mode (t=y)" : "");
}

/* ---- dnsbl ---- */

void vf_diag_words_dnsbl(const vf_diag_dnsbl_t *o, vf_diag_finding_t *f)
{
	size_t listed = 0, clean = 0, unsure = 0, timeouts = 0;
	char lists[2][640];

	if (o->n_bl == 0) {
		vf_diag_words_skip(f, "no blocklists are configured (dnsbl_zones)");
		return;
	}
	lists[0][0] = lists[1][0] = '\0';
	for (size_t i = 0; i < o->n_bl; i++) {
		const vf_bl_answer_t *b = &o->bl[i];

		switch (b->kind) {
		case VF_BL_CLEAN: clean++; break;
		case VF_BL_LISTED:
			listed++;
			append(lists[0], sizeof(lists[0]), "%s%s (%s%s%s)", lists[0][0] ? "; " : "", b->zone,
			       b->codes, b->reason[0] ? ": " : "", b->reason);
			break;
		case VF_BL_REFUSED:
			unsure++;
			append(lists[1], sizeof(lists[1]), "%s%s refused the query (%s)",
			       lists[1][0] ? "; " : "", b->zone, b->codes);
			break;
		case VF_BL_ERROR:
			unsure++;
			append(lists[1], sizeof(lists[1]), "%s%s could not be asked", lists[1][0] ? "; " : "",
			       b->zone);
			break;
		case VF_BL_TIMEOUT:
			unsure++;
			timeouts++;
			append(lists[1], sizeof(lists[1]), "%s%s did not answer in time",
			       lists[1][0] ? "; " : "", b->zone);
			break;
		}
	}
	if (listed) {
		set(f, VF_DIAG_FAIL);
		setf(f->detail, sizeof(f->detail), "%s is listed on %zu of %zu blocklists: %s", o->ip, listed,
		     o->n_bl, lists[0]);
		if (unsure)
			append(f->detail, sizeof(f->detail), "; %s", lists[1]);
		setf(f->next_step, sizeof(f->next_step),
		     "Stop what caused the listing (an infected host, an open relay), then ask each list for "
		     "removal "
		     "through its web site.");
		return;
	}
	if (clean == 0 && timeouts == unsure) {
		vf_diag_words_skip(f, "no blocklist answered before the deadline");
		return;
	}
	if (unsure) {
		set(f, VF_DIAG_WARN);
		setf(f->detail, sizeof(f->detail), "%s is on none of %zu blocklists that answered; %s", o->ip,
		     clean, lists[1]);
		setf(f->next_step, sizeof(f->next_step), "Retry later for the lists that did not answer.");
		return;
	}
	set(f, VF_DIAG_PASS);
	setf(f->detail, sizeof(f->detail), "%s is on none of the %zu blocklists checked", o->ip, clean);
}
