/* test_diag.c - the diagnostics' pure parts: DMARC and DKIM records, SMTP replies, names, wording. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/addr.h"
#include "core/err.h"
#include "core/hostname.h"
#include "verify/diag_findings.h"
#include "verify/diag_records.h"

static vf_diag_finding_t fresh(vf_check_severity_t sev)
{
	vf_diag_finding_t f;

	memset(&f, 'x', sizeof(f));
	f.detail[sizeof(f.detail) - 1] = f.next_step[sizeof(f.next_step) - 1] = '\0';
	f.id = "some-id";
	f.severity = sev;
	f.status = (vf_diag_status_t)99;
	return f;
}

static void expect(const char *what, const vf_diag_finding_t *f, vf_diag_status_t status, const char *detail,
                   const char *next_step)
{
	if (f->status != status || strcmp(f->detail, detail) != 0 ||
	    (next_step && strcmp(f->next_step, next_step) != 0))
		fail_msg("%s: status %s (want %s)\n detail    \"%s\"\n want      \"%s\"\n next_step \"%s\"\n "
		         "want      "
		         "\"%s\"",
		         what, vf_diag_status_str(f->status), vf_diag_status_str(status), f->detail, detail,
		         f->next_step, next_step ? next_step : "(any)");
	assert_string_equal(f->id, "some-id");
}

/* ---- DMARC ---- */

static void test_dmarc_parse(void **state)
{
	static const struct {
		const char *txt;
		bool is_record, valid;
		vf_dmarc_policy_t p;
		int pct;
		const char *error;
	} cases[] = {
	    {"v=DMARC1; p=reject; rua=mailto:d@example.com", true, true, VF_DMARC_REJECT, 100, ""},
	    {"v=DMARC1;p=quarantine;pct=25", true, true, VF_DMARC_QUARANTINE, 25, ""},
	    {"  v = DMARC1 ;  p = None ; ", true, true, VF_DMARC_NONE, 100, ""},
	    {"v=DMARC1; p=bogus", true, false, 0, 100,
	     "has an unknown policy p=bogus (none, quarantine or reject)"},
	    {"v=DMARC1; rua=mailto:x@example.com", true, false, 0, 100, "has no p= tag (the policy)"},
	    {"v=DMARC1; p=reject; pct=101", true, false, 0, 100, "has pct=101, not a number from 0 to 100"},
	    {"v=DMARC1; p=reject; pct=", true, false, 0, 100, "has pct=, not a number from 0 to 100"},
	    {"v=DMARC1; p=reject; junk", true, false, 0, 100, "has an item without a tag (\"junk\")"},
	    {"v=DMARC1; p=reject; p=none", true, false, 0, 100, "has the tag p twice"},
	    {"p=reject; v=DMARC1", false, false, 0, 100, "does not start with v=DMARC1"},
	    {"v=spf1 -all", false, false, 0, 100, "does not start with v=DMARC1"},
	    {"v=DMARC2; p=reject", false, false, 0, 100, "does not start with v=DMARC1"},
	    {"", false, false, 0, 100, "is empty"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vf_dmarc_t d;

		assert_int_equal(vf_dmarc_is_record(cases[i].txt), cases[i].is_record);
		vf_dmarc_parse(cases[i].txt, &d);
		if (d.valid != cases[i].valid || strcmp(d.error, cases[i].error) != 0)
			fail_msg("case %zu \"%s\": valid %d error \"%s\"", i, cases[i].txt, d.valid, d.error);
		if (d.valid) {
			assert_int_equal(d.p, cases[i].p);
			assert_int_equal(d.pct, cases[i].pct);
		}
	}
	vf_dmarc_t d;
	vf_dmarc_parse("v=DMARC1; p=none; sp=reject; rua=mailto:a@b.example", &d);
	assert_true(d.valid && d.has_sp && d.sp == VF_DMARC_REJECT && d.has_rua);
	assert_string_equal(vf_dmarc_policy_str(VF_DMARC_QUARANTINE), "quarantine");
}

/* ---- DKIM ---- */

static void test_dkim_parse(void **state)
{
	static const struct {
		const char *txt;
		bool valid, revoked, known_k;
		size_t key_bytes;
		const char *k, *error;
	} cases[] = {
	    {"v=DKIM1; k=rsa; p=AAAA", true, false, true, 3, "rsa", ""},
	    {"p=AAAAAA==", true, false, true, 4, "rsa", ""}, /* v= and k= are optional */
	    {"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", true, false, true, 32,
	     "ed25519", ""},
	    {"v=DKIM1; p=", true, true, true, 0, "rsa", ""},
	    {"v=DKIM1; k=dsa; p=AAAA", true, false, false, 3, "dsa", ""},
	    {"v=DKIM1; p=AA AA\t BB BB", true, false, true, 6, "rsa", ""}, /* folded white space */
	    {"v=DKIM1; k=rsa", false, false, true, 0, "rsa", "has no p= tag (the public key)"},
	    {"k=rsa; v=DKIM1; p=AAAA", false, false, true, 0, "rsa",
	     "has v= after other tags (it must come first)"},
	    {"v=DKIM2; p=AAAA", false, false, true, 0, "rsa", "has v=DKIM2, not DKIM1"},
	    {"v=DKIM1; p=not*base64", false, false, true, 0, "rsa", "has a p= that is not base64"},
	    /* found by tests/fuzz/fuzz_diag.c: a key and a revocation in one record */
	    {"v=DKIM1; p=KIM1; p=", false, false, true, 0, "rsa", "has the tag p twice"},
	    {"v=DKIM1; p=A", false, false, true, 0, "rsa", "has a p= that is not base64"},
	    {"", false, false, true, 0, "rsa", "is empty"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vf_dkim_t d;

		vf_dkim_parse(cases[i].txt, &d);
		if (d.valid != cases[i].valid || strcmp(d.error, cases[i].error) != 0)
			fail_msg("case %zu \"%s\": valid %d error \"%s\"", i, cases[i].txt, d.valid, d.error);
		if (!d.valid)
			continue;
		assert_int_equal(d.revoked, cases[i].revoked);
		assert_int_equal(d.known_k, cases[i].known_k);
		assert_int_equal(d.key_bytes, cases[i].key_bytes);
		assert_string_equal(d.k, cases[i].k);
	}
	vf_dkim_t d;
	vf_dkim_parse("v=DKIM1; t=y:s; p=AAAA", &d);
	assert_true(d.valid && d.testing);
}

/* ---- SMTP replies, names ---- */

static void test_smtp_reply_line(void **state)
{
	static const struct {
		const char *line;
		bool ok, more;
		int code;
		const char *name;
	} cases[] = {
	    {"220 mail.example.com ESMTP Postfix", true, false, 220, "mail.example.com"},
	    {"220-mail.example.com ESMTP", true, true, 220, "mail.example.com"},
	    {"250-mx.example.org Hello [192.0.2.1]", true, true, 250, "mx.example.org"},
	    {"250 8BITMIME", true, false, 250, "8BITMIME"},
	    {"554 5.7.1 no service", true, false, 554, "5.7.1"},
	    {"220", true, false, 220, ""},
	    {"220\r", true, false, 220, ""},
	    {"SSH-2.0-OpenSSH_9.2", false, false, 0, ""},
	    {"2201 x", false, false, 0, ""},
	    {"620 x", false, false, 0, ""},
	    {"22", false, false, 0, ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int code = 0;
		bool more = false;
		char name[64];

		bool ok = vf_smtp_reply_line(cases[i].line, &code, &more, name, sizeof(name));
		if (ok != cases[i].ok)
			fail_msg("case %zu \"%s\": ok %d", i, cases[i].line, ok);
		if (!ok)
			continue;
		assert_int_equal(code, cases[i].code);
		assert_int_equal(more, cases[i].more);
		assert_string_equal(name, cases[i].name);
	}
}

static void test_names(void **state)
{
	assert_true(vf_diag_same_name("Mail.Example.COM.", "mail.example.com"));
	assert_false(vf_diag_same_name("mail.example.com", "mail.example.co"));
	assert_false(vf_diag_same_name("", ""));
	assert_true(vf_diag_is_web_name("www.example.com"));
	assert_true(vf_diag_is_web_name("WWW2.example.com"));
	assert_false(vf_diag_is_web_name("wwwmail.example.com"));
	assert_false(vf_diag_is_web_name("mail.www.example.com"));
	assert_string_equal(vf_diag_parent_domain("mail.example.com"), "example.com");
	assert_string_equal(vf_diag_parent_domain("a.b.example.co.uk"), "b.example.co.uk");
	assert_string_equal(vf_diag_parent_domain("example.com"), "example.com");
	assert_null(vf_diag_parent_domain("localhost"));
	assert_true(vf_diag_selector_ok("s1"));
	assert_true(vf_diag_selector_ok("2024-01._rsa.sub"));
	assert_false(vf_diag_selector_ok(""));
	assert_false(vf_diag_selector_ok("a..b"));
	assert_false(vf_diag_selector_ok("a."));
	assert_false(vf_diag_selector_ok("bad selector"));
	char long_label[70];
	memset(long_label, 'a', 64);
	long_label[64] = '\0';
	assert_false(vf_diag_selector_ok(long_label));
	char p[8];
	vf_diag_printable(p, sizeof(p),
	                  "a\x01\x7f"
	                  "bcdefgh");
	assert_string_equal(p, "a??bcde");
}

/* ---- wording ---- */

static void test_published(void **state)
{
	vf_diag_published_t o = {.ip = "192.0.2.10",
	                         .expected = "mail.example.com",
	                         .zone = "2.0.192.in-addr.arpa",
	                         .serial = 100,
	                         .from_option = false};
	vf_diag_finding_t f = fresh(VF_SEV_HIGH);

	o.n_ns = 2;
	snprintf(o.ns[0].server, sizeof(o.ns[0].server), "ns1.example.net (192.0.2.53:53)");
	snprintf(o.ns[1].server, sizeof(o.ns[1].server), "ns2.example.net (192.0.2.54:53)");
	for (int i = 0; i < 2; i++) {
		o.ns[i].kind = VF_NS_PTR;
		o.ns[i].n_ptr = 1;
		snprintf(o.ns[i].ptr, sizeof(o.ns[i].ptr), "Mail.Example.com");
		o.ns[i].has_serial = true;
		o.ns[i].serial = 100;
	}
	vf_diag_words_published(&o, &f);
	expect("all", &f, VF_DIAG_PASS,
	       "all 2 of the zone's name servers serve mail.example.com for 192.0.2.10 (serial 100)", "");

	/* ns2 behind: propagating, low */
	o.ns[1].kind = VF_NS_NXDOMAIN;
	o.ns[1].n_ptr = 0;
	o.ns[1].serial = 99;
	f = fresh(VF_SEV_HIGH);
	vf_diag_words_published(&o, &f);
	expect("propagating", &f, VF_DIAG_WARN,
	       "propagating: ns2.example.net (192.0.2.54:53) serves serial 99 (no such name (NXDOMAIN)); "
	       "rdns holds "
	       "mail.example.com at serial 100; 1 of 2 servers already serve it",
	       "Nothing to do: the change reaches every name server within minutes. Check again later.");
	assert_int_equal(f.severity, VF_SEV_LOW);

	/* serial arithmetic (RFC 1982): 4294967295 is older than 100 */
	o.ns[1].serial = 4294967295u;
	f = fresh(VF_SEV_HIGH);
	vf_diag_words_published(&o, &f);
	assert_int_equal(f.status, VF_DIAG_WARN);

	/* another name at the same serial: wrong */
	o.ns[1].kind = VF_NS_PTR;
	o.ns[1].n_ptr = 1;
	snprintf(o.ns[1].ptr, sizeof(o.ns[1].ptr), "old.example.net");
	o.ns[1].serial = 100;
	f = fresh(VF_SEV_HIGH);
	vf_diag_words_published(&o, &f);
	expect(
	    "wrong", &f, VF_DIAG_FAIL,
	    "the zone's name servers: ns2.example.net (192.0.2.54:53) answers old.example.net at serial 100, "
	    "not "
	    "mail.example.com as rdns holds (serial 100)",
	    "The name servers of 2.0.192.in-addr.arpa do not serve what rdns holds; this is a problem on our "
	    "side: contact support.");
	assert_int_equal(f.severity, VF_SEV_HIGH);

	/* one silent: warn; all silent by timeout: skip; all failing otherwise: fail */
	o.ns[1].kind = VF_NS_TIMEOUT;
	f = fresh(VF_SEV_HIGH);
	vf_diag_words_published(&o, &f);
	expect("one silent", &f, VF_DIAG_WARN,
	       "1 of 2 servers serve mail.example.com; ns2.example.net (192.0.2.54:53): no answer in time",
	       NULL);
	o.ns[0].kind = VF_NS_TIMEOUT;
	f = fresh(VF_SEV_HIGH);
	vf_diag_words_published(&o, &f);
	assert_int_equal(f.status, VF_DIAG_SKIP);
	assert_non_null(strstr(f.detail, "before the deadline"));
	o.ns[0].kind = VF_NS_RCODE;
	o.ns[0].rcode_name = "REFUSED";
	f = fresh(VF_SEV_HIGH);
	vf_diag_words_published(&o, &f);
	assert_int_equal(f.status, VF_DIAG_FAIL);
	assert_non_null(strstr(f.detail, "error REFUSED"));

	/* no PTR; no server */
	o.expected = NULL;
	f = fresh(VF_SEV_HIGH);
	vf_diag_words_published(&o, &f);
	expect("no ptr", &f, VF_DIAG_FAIL,
	       "rdns holds no PTR for 192.0.2.10 (no custom PTR and no default name in zone "
	       "2.0.192.in-addr.arpa)",
	       "Set a PTR for 192.0.2.10, such as mail.example.com.");
	o.expected = "mail.example.com";
	o.n_ns = 0;
	o.no_servers = "ns1.example.net has no address the resolvers could find";
	f = fresh(VF_SEV_HIGH);
	vf_diag_words_published(&o, &f);
	expect("no servers", &f, VF_DIAG_SKIP,
	       "skipped: no name server of 2.0.192.in-addr.arpa could be asked: ns1.example.net has no "
	       "address the "
	       "resolvers could find",
	       "");
}

static void test_generic_and_mail_hostname(void **state)
{
	static const char NEXT[] =
	    "Set a custom PTR such as mail.example.com, with an A/AAAA record pointing back to this address.";
	vf_diag_finding_t f = fresh(VF_SEV_MEDIUM);
	core_addr_t a;
	char why[256];

	vf_diag_generic_t o = {.hostname = "static-192-0-2-10.vps.example.net", .is_default = true};
	vf_diag_words_generic(&o, &f);
	expect("default", &f, VF_DIAG_WARN,
	       "static-192-0-2-10.vps.example.net is the zone's default name, which receivers treat as "
	       "generic (not "
	       "a mail server's own name)",
	       NEXT);

	/* the heuristics are core_hostname_generic's */
	assert_int_equal(core_addr_parse("192.0.2.10", &a), RDNS_OK);
	o = (vf_diag_generic_t){.hostname = "dynamic-pool.example.com", .why = why};
	o.flags = core_hostname_generic(o.hostname, &a, why, sizeof(why));
	assert_true(o.flags != 0);
	vf_diag_words_generic(&o, &f);
	assert_int_equal(f.status, VF_DIAG_WARN);
	assert_string_equal(f.next_step, NEXT);
	o = (vf_diag_generic_t){.hostname = "mail.example.com", .why = why};
	o.flags = core_hostname_generic(o.hostname, &a, why, sizeof(why));
	vf_diag_words_generic(&o, &f);
	expect("custom", &f, VF_DIAG_PASS, "mail.example.com does not look generic", "");
	o.hostname = NULL;
	vf_diag_words_generic(&o, &f);
	expect("none", &f, VF_DIAG_SKIP, "skipped: no PTR to judge", "");

	vf_diag_words_mail_hostname("www.example.com", &f);
	expect("www", &f, VF_DIAG_WARN, "www.example.com is a web server's name, not a mail identity",
	       "If this address sends mail, name it after the mail server (mail.example.com), the name it "
	       "uses in "
	       "HELO.");
	vf_diag_words_mail_hostname("mx1.example.com", &f);
	expect("mx", &f, VF_DIAG_PASS, "mx1.example.com is not a web server's name", "");
}

static void test_helo(void **state)
{
	vf_diag_finding_t f = fresh(VF_SEV_MEDIUM);
	vf_diag_helo_t o = {.ip = "192.0.2.10", .port = 25, .ptr = "mail.example.com", .kind = VF_HELO_OK};

	snprintf(o.banner_name, sizeof(o.banner_name), "banner.example.com");
	snprintf(o.ehlo_name, sizeof(o.ehlo_name), "MAIL.example.com");
	vf_diag_words_helo(&o, &f);
	expect("same", &f, VF_DIAG_PASS, "192.0.2.10:25 announces MAIL.example.com, the PTR", "");
	o.ehlo_name[0] = '\0'; /* the greeting's name then */
	vf_diag_words_helo(&o, &f);
	expect("differs", &f, VF_DIAG_WARN,
	       "192.0.2.10:25 announces banner.example.com, but the PTR is mail.example.com",
	       "Make the mail server announce the PTR name (Postfix: myhostname = mail.example.com), or set "
	       "the PTR "
	       "to banner.example.com if that name points to this address.");
	o.kind = VF_HELO_REFUSED;
	vf_diag_words_helo(&o, &f);
	expect("refused", &f, VF_DIAG_FAIL,
	       "192.0.2.10:25 refused the connection: no mail server listens there", NULL);
	o.kind = VF_HELO_UNREACHABLE;
	o.err = EHOSTUNREACH;
	vf_diag_words_helo(&o, &f);
	expect("unreachable", &f, VF_DIAG_FAIL, "192.0.2.10:25 could not be reached (no route to host)",
	       NULL);
	o.kind = VF_HELO_TIMEOUT;
	o.stage = "greeting";
	vf_diag_words_helo(&o, &f);
	expect("timeout", &f, VF_DIAG_SKIP,
	       "skipped: 192.0.2.10:25 did not finish the greeting before the deadline", "");
	o.kind = VF_HELO_REJECTED;
	o.code = 554;
	snprintf(o.line, sizeof(o.line), "554 5.7.1 go away");
	vf_diag_words_helo(&o, &f);
	expect("rejected", &f, VF_DIAG_FAIL,
	       "192.0.2.10:25 answered the greeting with 554: 554 5.7.1 go away", NULL);
	o.kind = VF_HELO_GARBLED;
	snprintf(o.line, sizeof(o.line), "SSH-2.0-OpenSSH");
	vf_diag_words_helo(&o, &f);
	expect("garbled", &f, VF_DIAG_FAIL,
	       "192.0.2.10:25 does not speak SMTP: the greeting reply was \"SSH-2.0-OpenSSH\"", NULL);
}

static void test_spf(void **state)
{
	static const struct {
		vf_spf_result_t r;
		bool timed_out;
		vf_diag_status_t status;
		const char *detail;
	} cases[] = {
	    {VF_SPF_PASS, false, VF_DIAG_PASS, "the SPF record of example.com authorizes 192.0.2.10"},
	    {VF_SPF_FAIL, false, VF_DIAG_FAIL,
	     "the SPF record of example.com does not authorize 192.0.2.10 (fail)"},
	    {VF_SPF_SOFTFAIL, false, VF_DIAG_FAIL,
	     "the SPF record of example.com does not authorize 192.0.2.10 (softfail)"},
	    {VF_SPF_NEUTRAL, false, VF_DIAG_WARN,
	     "the SPF record of example.com says nothing about 192.0.2.10 (neutral)"},
	    {VF_SPF_NONE, false, VF_DIAG_FAIL, "example.com has no SPF record"},
	    {VF_SPF_TEMPERROR, false, VF_DIAG_WARN,
	     "the SPF record of example.com could not be evaluated (temporary DNS error: why)"},
	    {VF_SPF_TEMPERROR, true, VF_DIAG_SKIP,
	     "skipped: the SPF evaluation did not finish before the deadline"},
	    {VF_SPF_PERMERROR, false, VF_DIAG_FAIL, "the SPF record of example.com is invalid: why"},
	    {VF_SPF_LOOPBACK, false, VF_DIAG_SKIP,
	     "skipped: a loopback address: libspf2 passes 127.0.0.0/8 and ::1 without evaluating any SPF "
	     "record"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vf_diag_finding_t f = fresh(VF_SEV_MEDIUM);
		vf_diag_spf_t o = {.ip = "192.0.2.10",
		                   .domain = "example.com",
		                   .result = cases[i].r,
		                   .timed_out = cases[i].timed_out};
		char what[16];

		snprintf(o.why, sizeof(o.why), "why");
		snprintf(what, sizeof(what), "spf %zu", i);
		vf_diag_words_spf(&o, &f);
		expect(what, &f, cases[i].status, cases[i].detail, NULL);
	}
	vf_diag_finding_t f = fresh(VF_SEV_MEDIUM);
	vf_diag_spf_t o = {.ip = "2001:db8::1", .domain = "example.com", .result = VF_SPF_NONE};
	vf_diag_words_spf(&o, &f);
	assert_string_equal(f.next_step,
	                    "Publish a TXT record at example.com such as \"v=spf1 ip6:2001:db8::1 -all\".");
}

static void test_dmarc_dkim_words(void **state)
{
	vf_diag_finding_t f = fresh(VF_SEV_MEDIUM);
	vf_diag_dmarc_t o = {.domain = "example.com", .kind = VF_TXT_FOUND, .n_records = 1};

	vf_dmarc_parse("v=DMARC1; p=quarantine; pct=50", &o.rec);
	vf_diag_words_dmarc(&o, &f);
	expect("quarantine", &f, VF_DIAG_PASS,
	       "the DMARC policy of example.com is p=quarantine for 50% of the mail", "");
	vf_dmarc_parse("v=DMARC1; p=none", &o.rec);
	vf_diag_words_dmarc(&o, &f);
	expect("none", &f, VF_DIAG_WARN,
	       "the DMARC policy of example.com is p=none: monitoring only, nothing enforced", NULL);
	o.n_records = 2;
	vf_diag_words_dmarc(&o, &f);
	expect("two", &f, VF_DIAG_FAIL, "_dmarc.example.com has 2 DMARC records; receivers then apply none",
	       "Keep exactly one v=DMARC1 record at _dmarc.example.com.");
	o.kind = VF_TXT_MISSING;
	vf_diag_words_dmarc(&o, &f);
	expect("missing", &f, VF_DIAG_FAIL, "example.com has no DMARC record (_dmarc.example.com)",
	       "Publish a TXT record at _dmarc.example.com such as \"v=DMARC1; p=quarantine; "
	       "rua=mailto:dmarc@example.com\".");
	o.kind = VF_TXT_TIMEOUT;
	vf_diag_words_dmarc(&o, &f);
	expect("timeout", &f, VF_DIAG_SKIP, "skipped: the DMARC lookup did not finish before the deadline",
	       "");

	vf_diag_dkim_t k = {.domain = "example.com", .selector = "s1", .kind = VF_TXT_FOUND};
	vf_dkim_parse("v=DKIM1; k=rsa; p=AAAA", &k.rec);
	f = fresh(VF_SEV_LOW);
	vf_diag_words_dkim(&k, &f);
	expect("key", &f, VF_DIAG_PASS, "selector s1 of example.com has a rsa key (3 bytes)", "");
	vf_dkim_parse("v=DKIM1; p=", &k.rec);
	vf_diag_words_dkim(&k, &f);
	expect("revoked", &f, VF_DIAG_FAIL,
	       "the DKIM key of selector s1 of example.com is revoked (empty p=)", NULL);
	vf_dkim_parse("v=DKIM1; k=dsa; p=AAAA", &k.rec);
	vf_diag_words_dkim(&k, &f);
	expect("dsa", &f, VF_DIAG_WARN,
	       "the DKIM key of selector s1 of example.com has an unknown type k=dsa", NULL);
	k.kind = VF_TXT_MISSING;
	vf_diag_words_dkim(&k, &f);
	expect("missing", &f, VF_DIAG_FAIL, "s1._domainkey.example.com has no DKIM key record", NULL);
	k.selector = NULL;
	vf_diag_words_dkim(&k, &f);
	expect("no selector", &f, VF_DIAG_SKIP, "skipped: no DKIM selector given (add ?selector=...)", "");
}

static void test_dnsbl_words(void **state)
{
	vf_diag_finding_t f = fresh(VF_SEV_HIGH);
	vf_diag_dnsbl_t o = {.ip = "192.0.2.10", .n_bl = 0};

	vf_diag_words_dnsbl(&o, &f);
	expect("none", &f, VF_DIAG_SKIP, "skipped: no blocklists are configured (dnsbl_zones)", "");
	o.n_bl = 2;
	snprintf(o.bl[0].zone, sizeof(o.bl[0].zone), "bl.example.net");
	snprintf(o.bl[1].zone, sizeof(o.bl[1].zone), "bl2.example.net");
	o.bl[0].kind = o.bl[1].kind = VF_BL_CLEAN;
	vf_diag_words_dnsbl(&o, &f);
	expect("clean", &f, VF_DIAG_PASS, "192.0.2.10 is on none of the 2 blocklists checked", "");
	o.bl[1].kind = VF_BL_LISTED;
	snprintf(o.bl[1].codes, sizeof(o.bl[1].codes), "127.0.0.2");
	snprintf(o.bl[1].reason, sizeof(o.bl[1].reason), "spam source");
	vf_diag_words_dnsbl(&o, &f);
	expect("listed", &f, VF_DIAG_FAIL,
	       "192.0.2.10 is listed on 1 of 2 blocklists: bl2.example.net (127.0.0.2: spam source)", NULL);
	o.bl[1].kind = VF_BL_REFUSED;
	snprintf(o.bl[1].codes, sizeof(o.bl[1].codes), "127.255.255.254");
	vf_diag_words_dnsbl(&o, &f);
	expect("refused", &f, VF_DIAG_WARN,
	       "192.0.2.10 is on none of 1 blocklists that answered; bl2.example.net refused the query "
	       "(127.255.255.254)",
	       NULL);
	o.bl[0].kind = o.bl[1].kind = VF_BL_TIMEOUT;
	vf_diag_words_dnsbl(&o, &f);
	expect("timeout", &f, VF_DIAG_SKIP, "skipped: no blocklist answered before the deadline", "");
}

static void test_finding_json(void **state)
{
	vf_diag_finding_t f = fresh(VF_SEV_LOW);

	vf_diag_words_skip(&f, "why");
	json_t *j = vf_diag_finding_json(&f);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "skip");
	assert_string_equal(json_string_value(json_object_get(j, "severity")), "low");
	assert_string_equal(json_string_value(json_object_get(j, "detail")), "skipped: why");
	assert_string_equal(json_string_value(json_object_get(j, "next_step")), "");
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dmarc_parse),
	    cmocka_unit_test(test_dkim_parse),
	    cmocka_unit_test(test_smtp_reply_line),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_published),
	    cmocka_unit_test(test_generic_and_mail_hostname),
	    cmocka_unit_test(test_helo),
	    cmocka_unit_test(test_spf),
	    cmocka_unit_test(test_dmarc_dkim_words),
	    cmocka_unit_test(test_dnsbl_words),
	    cmocka_unit_test(test_finding_json),
	};

	return cmocka_run_group_tests_name("diag", tests, NULL, NULL);
}
