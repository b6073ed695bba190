/* test_findings.c - the verifier's wording from plain outcomes, every kind of each check, without DNS. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "verify/findings.h"

static const char NEXT_SYNTAX[] =
    "Use a fully qualified host name such as mail.example.com (letters, digits and "
    "hyphens, labels separated by dots).";
static const char NEXT_GENERIC[] = "Mail receivers treat names that embed the IP address or words like "
                                   "'dynamic' as residential; prefer a name such as mail.example.com.";

/* A check as the verifier hands it over: id and severity set, texts dirty. */
static vf_check_t fresh(void)
{
	vf_check_t c;

	memset(&c, 'x', sizeof(c));
	c.detail[sizeof(c.detail) - 1] = c.next_step[sizeof(c.next_step) - 1] = '\0';
	c.id = "some-id";
	c.severity = VF_SEV_MEDIUM;
	c.status = (vf_check_status_t)99;
	return c;
}

static void expect(size_t i, const vf_check_t *c, vf_check_status_t status, const char *detail,
                   const char *next_step)
{
	if (c->status != status || strcmp(c->detail, detail) != 0 || strcmp(c->next_step, next_step) != 0)
		fail_msg("case %zu: status %d (want %d)\n detail    \"%s\"\n want      \"%s\"\n next_step "
		         "\"%s\"\n "
		         "want      \"%s\"",
		         i, (int)c->status, (int)status, c->detail, detail, c->next_step, next_step);
	/* the row's id and severity are the caller's */
	assert_string_equal(c->id, "some-id");
	assert_int_equal(c->severity, VF_SEV_MEDIUM);
}

static core_addr_t addr(const char *s)
{
	core_addr_t a;

	assert_int_equal(core_addr_parse(s, &a), RDNS_OK);
	return a;
}

/* ---- syntax ---- */

static void test_syntax(void **state)
{
	static const struct {
		vf_syntax_outcome_t o;
		vf_check_status_t status;
		const char *detail, *next_step;
	} cases[] = {
	    {{"mail.example.com", RDNS_OK, NULL}, VF_CHECK_PASS, "mail.example.com is a valid host name", ""},
	    {{"", RDNS_EINVAL, "contains an underscore"},
	     VF_CHECK_FAIL,
	     "the host name contains an underscore",
	     NEXT_SYNTAX},
	    {{"", RDNS_EINVAL, "has a single label; a fully qualified name is needed"},
	     VF_CHECK_FAIL,
	     "the host name has a single label; a fully qualified name is needed",
	     NEXT_SYNTAX},
	    /* without a predicate from the normaliser */
	    {{"", RDNS_ESPACE, NULL}, VF_CHECK_FAIL, "the host name is too long", NEXT_SYNTAX},
	    {{"", RDNS_EINVAL, NULL}, VF_CHECK_FAIL, "the host name is not valid", NEXT_SYNTAX},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vf_check_t c = fresh();

		vf_findings_syntax(&cases[i].o, &c);
		expect(i, &c, cases[i].status, cases[i].detail, cases[i].next_step);
	}
}

/* ---- policy ---- */

static void test_policy(void **state)
{
	static const struct {
		vf_policy_outcome_t o;
		vf_check_status_t status;
		const char *detail, *next_step;
	} cases[] = {
	    {{"mail.example.com", CORE_AF_INET, VF_POLICY_OK, NULL},
	     VF_CHECK_PASS,
	     "mail.example.com is not in a special-use or denied domain",
	     ""},
	    {{"host.local", CORE_AF_INET, VF_POLICY_SPECIAL, "local"},
	     VF_CHECK_FAIL,
	     "host.local is in 'local', a special-use or internal domain that does not resolve on the public "
	     "Internet",
	     "Use a host name in a public domain that you control, such as mail.example.com, with an A "
	     "record "
	     "pointing to this address."},
	    {{"x.corp.example.com", CORE_AF_INET6, VF_POLICY_SPECIAL, "corp.example.com"},
	     VF_CHECK_FAIL,
	     "x.corp.example.com is in 'corp.example.com', a special-use or internal domain that does not "
	     "resolve on the public Internet",
	     "Use a host name in a public domain that you control, such as mail.example.com, with an AAAA "
	     "record pointing to this address."},
	    {{"host.example.net", CORE_AF_INET, VF_POLICY_DENIED, "example.net"},
	     VF_CHECK_FAIL,
	     "host.example.net is in 'example.net', a domain that this provider does not allow as a reverse "
	     "DNS "
	     "name",
	     "Use a host name in a domain that you own or control, with an A record pointing to this "
	     "address."},
	    {{"host.example.net", CORE_AF_INET6, VF_POLICY_DENIED, NULL},
	     VF_CHECK_FAIL,
	     "host.example.net is in '?', a domain that this provider does not allow as a reverse DNS name",
	     "Use a host name in a domain that you own or control, with an AAAA record pointing to this "
	     "address."},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vf_check_t c = fresh();

		vf_findings_policy(&cases[i].o, &c);
		expect(i, &c, cases[i].status, cases[i].detail, cases[i].next_step);
	}
}

/* ---- generic ---- */

static void test_generic(void **state)
{
	static const struct {
		vf_generic_outcome_t o;
		vf_check_status_t status;
		const char *detail, *next_step;
	} cases[] = {
	    {{"mail.example.com", 0, ""},
	     VF_CHECK_PASS,
	     "mail.example.com does not look like a generic (residential) name",
	     ""},
	    {{"dynamic-1-2-3-4.example.com", CORE_GENERIC_WORD, "contains the word 'dynamic'"},
	     VF_CHECK_WARN,
	     "dynamic-1-2-3-4.example.com looks like a generic (residential) name: contains the word "
	     "'dynamic'",
	     NEXT_GENERIC},
	    {{"host-192-0-2-10.example.com", CORE_GENERIC_ADDR, ""},
	     VF_CHECK_WARN,
	     "host-192-0-2-10.example.com looks like a generic (residential) name: matches a generic pattern",
	     NEXT_GENERIC},
	    {{"host-192-0-2-10.example.com", CORE_GENERIC_ADDR, NULL},
	     VF_CHECK_WARN,
	     "host-192-0-2-10.example.com looks like a generic (residential) name: matches a generic pattern",
	     NEXT_GENERIC},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vf_check_t c = fresh();

		vf_findings_generic(&cases[i].o, &c);
		expect(i, &c, cases[i].status, cases[i].detail, cases[i].next_step);
	}
}

/* ---- forward ---- */

/* A lookup outcome written out as a test case: the chain as "a b c", the
 * addresses as "192.0.2.1 192.0.2.2" (kept) plus more (only counted). */
typedef struct {
	const char *ip; /* the address the PTR is for */
	int family;
	vf_lookup_kind_t kind;
	vf_chain_state_t chain_state;
	const char *chain;
	const char *addrs;
	size_t more;
	bool matched;
	int rcode;
	const char *rcode_name;
	int elapsed_ms;
	vf_check_status_t status;
	const char *detail, *next_step;
} fwd_case_t;

static void build(const fwd_case_t *tc, vf_lookup_t *l)
{
	char buf[2048], *save = NULL;

	memset(l, 0, sizeof(*l));
	l->family = tc->family;
	l->kind = tc->kind;
	l->chain_state = tc->chain_state;
	l->rcode = tc->rcode;
	l->rcode_name = tc->rcode_name;
	l->elapsed_ms = tc->elapsed_ms;
	l->matched = tc->matched;
	l->n_more = tc->more;
	snprintf(buf, sizeof(buf), "%s", tc->chain);
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		assert_true(l->n_chain < sizeof(l->chain) / sizeof(l->chain[0]));
		snprintf(l->chain[l->n_chain++], sizeof(l->chain[0]), "%s", t);
	}
	snprintf(buf, sizeof(buf), "%s", tc->addrs ? tc->addrs : "");
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		assert_true(l->n_addrs < VF_LOOKUP_MAX_ADDRS);
		l->addrs[l->n_addrs++] = addr(t);
	}
}

#define A  CORE_AF_INET
#define AA CORE_AF_INET6
#define OK VF_CHAIN_OK

static const char BIG8[] = "198.51.100.1 198.51.100.2 198.51.100.3 198.51.100.4 198.51.100.5 198.51.100.6 "
                           "198.51.100.7 198.51.100.8";

static const fwd_case_t fwd_cases[] = {
    /* the expected texts of tests/unit/test_verify.c and tests/system/test_ptr_api.py */
    {"192.0.2.10", A, VF_LOOKUP_ADDRS, OK, "mail.example.com", "192.0.2.10", 0, true, 0, NULL, 3,
     VF_CHECK_PASS, "mail.example.com has A 192.0.2.10", ""},
    {"192.0.2.10", A, VF_LOOKUP_ADDRS, OK, "wrong.example.com", "198.51.100.20", 0, false, 0, NULL, 3,
     VF_CHECK_FAIL, "wrong.example.com has A 198.51.100.20, not 192.0.2.10",
     "Add or correct the A record of wrong.example.com so that it points to 192.0.2.10, then retry."},
    {"192.0.2.10", A, VF_LOOKUP_NXDOMAIN, OK, "nosuch.example.com", NULL, 0, false, 0, NULL, 3, VF_CHECK_FAIL,
     "nosuch.example.com does not exist (NXDOMAIN)",
     "Create an A record for nosuch.example.com pointing to 192.0.2.10 at your DNS provider, wait until it "
     "is published, then retry."},
    {"192.0.2.10", A, VF_LOOKUP_NODATA, OK, "txtonly.example.com", NULL, 0, false, 0, NULL, 3, VF_CHECK_FAIL,
     "txtonly.example.com exists but has no A record",
     "Add an A record for txtonly.example.com pointing to 192.0.2.10, then retry."},
    {"2001:db8::10", AA, VF_LOOKUP_NODATA, OK, "mail.example.com", NULL, 0, false, 0, NULL, 3, VF_CHECK_FAIL,
     "mail.example.com exists but has no AAAA record",
     "Add an AAAA record for mail.example.com pointing to 2001:db8::10, then retry."},
    {"192.0.2.10", A, VF_LOOKUP_ADDRS, OK, "c1.example.com c2.example.com mail.example.com", "192.0.2.10", 0,
     true, 0, NULL, 3, VF_CHECK_PASS,
     "c1.example.com is an alias (CNAME) of mail.example.com (via c2.example.com), which has A 192.0.2.10",
     ""},
    {"192.0.2.10", A, VF_LOOKUP_ADDRS, OK, "a.example.com b.example.com c.example.com d.example.com",
     "192.0.2.10", 0, true, 0, NULL, 3, VF_CHECK_PASS,
     "a.example.com is an alias (CNAME) of d.example.com (via b.example.com, c.example.com), which has A "
     "192.0.2.10",
     ""},
    {"192.0.2.10", A, VF_LOOKUP_ADDRS, OK, "ext.example.com host.example.net", "192.0.2.10", 0, true, 0, NULL,
     3, VF_CHECK_PASS, "ext.example.com is an alias (CNAME) of host.example.net, which has A 192.0.2.10", ""},
    {"2001:db8::10", AA, VF_LOOKUP_ADDRS, OK, "ext.example.com host.example.net", "2001:db8::10", 0, true, 0,
     NULL, 3, VF_CHECK_PASS,
     "ext.example.com is an alias (CNAME) of host.example.net, which has AAAA 2001:db8::10", ""},
    {"192.0.2.10", A, VF_LOOKUP_ADDRS, OK, "extwrong.example.com other.example.net", "203.0.113.5", 0, false,
     0, NULL, 3, VF_CHECK_FAIL,
     "extwrong.example.com is an alias (CNAME) of other.example.net, which has A 203.0.113.5, not 192.0.2.10",
     "Add or correct the A record of other.example.net (the alias target of extwrong.example.com) so that "
     "it points to 192.0.2.10, then retry."},
    {"192.0.2.10", A, VF_LOOKUP_NXDOMAIN, OK, "dangling.example.com gone.example.com", NULL, 0, false, 0,
     NULL, 3, VF_CHECK_FAIL,
     "dangling.example.com is an alias (CNAME) of gone.example.com, which does not exist (NXDOMAIN)",
     "Create an A record for gone.example.com pointing to 192.0.2.10 at your DNS provider, wait until it is "
     "published, then retry."},
    {"192.0.2.10", A, VF_LOOKUP_NODATA, OK, "alias.example.com txtonly.example.com", NULL, 0, false, 0, NULL,
     3, VF_CHECK_FAIL,
     "alias.example.com is an alias (CNAME) of txtonly.example.com, which exists but has no "
     "A record",
     "Add an A record for txtonly.example.com pointing to 192.0.2.10, then retry."},
    /* a loop or a chain too long: the walk stopped, kind stays TIMEOUT */
    {"192.0.2.10", A, VF_LOOKUP_TIMEOUT, VF_CHAIN_LOOP,
     "loop1.example.com loop2.example.com loop1.example.com", NULL, 0, false, 0, NULL, 3, VF_CHECK_FAIL,
     "loop1.example.com leads into an alias (CNAME) loop: loop1.example.com -> loop2.example.com -> "
     "loop1.example.com",
     "Fix the CNAME records so that loop1.example.com ends at a name with an A record for 192.0.2.10, or "
     "give "
     "loop1.example.com an A record directly, then retry."},
    {"2001:db8::10", AA, VF_LOOKUP_TIMEOUT, VF_CHAIN_LOOP, "self.example.com self.example.com", NULL, 0,
     false, 0, NULL, 3, VF_CHECK_FAIL,
     "self.example.com leads into an alias (CNAME) loop: self.example.com -> self.example.com",
     "Fix the CNAME records so that self.example.com ends at a name with an AAAA record for 2001:db8::10, or "
     "give self.example.com an AAAA record directly, then retry."},
    {"192.0.2.10", A, VF_LOOKUP_TIMEOUT, VF_CHAIN_TOOLONG,
     "long0.example.com long1.example.com long2.example.com long3.example.com long4.example.com "
     "long5.example.com long6.example.com long7.example.com long8.example.com mail.example.com",
     NULL, 0, false, 0, NULL, 3, VF_CHECK_FAIL,
     "long0.example.com follows more than 8 aliases (CNAME): long0.example.com -> long1.example.com -> "
     "long2.example.com -> long3.example.com -> long4.example.com -> long5.example.com -> long6.example.com "
     "-> long7.example.com -> long8.example.com -> mail.example.com",
     "Give long0.example.com an A record pointing to 192.0.2.10, or shorten its CNAME chain, then retry."},
    /* IPv6 */
    {"2001:db8::10", AA, VF_LOOKUP_ADDRS, OK, "v6.example.com", "2001:db8::10", 0, true, 0, NULL, 3,
     VF_CHECK_PASS, "v6.example.com has AAAA 2001:db8::10", ""},
    {"2001:db8::11", AA, VF_LOOKUP_ADDRS, OK, "v6.example.com", "2001:db8::10", 0, false, 0, NULL, 3,
     VF_CHECK_FAIL, "v6.example.com has AAAA 2001:db8::10, not 2001:db8::11",
     "Add or correct the AAAA record of v6.example.com so that it points to 2001:db8::11, then retry."},
    /* several addresses: up to 8 named, then "among N" or "and N more" */
    {"192.0.2.99", A, VF_LOOKUP_ADDRS, OK, "multi.example.com", "192.0.2.10 192.0.2.11 192.0.2.12", 0, false,
     0, NULL, 3, VF_CHECK_FAIL, "multi.example.com has A 192.0.2.10, 192.0.2.11, 192.0.2.12, not 192.0.2.99",
     "Add or correct the A record of multi.example.com so that it points to 192.0.2.99, then retry."},
    {"198.51.100.8", A, VF_LOOKUP_ADDRS, OK, "eight.example.com", BIG8, 0, true, 0, NULL, 3, VF_CHECK_PASS,
     "eight.example.com has A 198.51.100.1, 198.51.100.2, 198.51.100.3, 198.51.100.4, 198.51.100.5, "
     "198.51.100.6, 198.51.100.7, 198.51.100.8",
     ""},
    {"192.0.2.10", A, VF_LOOKUP_ADDRS, OK, "nine.example.com", "198.51.100.9 198.51.100.10 198.51.100.11", 6,
     true, 0, NULL, 3, VF_CHECK_PASS, "nine.example.com has A 192.0.2.10 among 9 addresses", ""},
    {"192.0.2.99", A, VF_LOOKUP_ADDRS, OK, "big.example.com",
     "192.0.2.10 198.51.100.1 198.51.100.2 198.51.100.3 198.51.100.4 198.51.100.5 198.51.100.6 198.51.100.7 "
     "198.51.100.8 198.51.100.9",
     140, false, 0, NULL, 3, VF_CHECK_FAIL,
     "big.example.com has A 192.0.2.10, 198.51.100.1, 198.51.100.2, 198.51.100.3, 198.51.100.4, "
     "198.51.100.5, 198.51.100.6, 198.51.100.7 and 142 more, not 192.0.2.99",
     "Add or correct the A record of big.example.com so that it points to 192.0.2.99, then retry."},
    {"192.0.2.10", A, VF_LOOKUP_ADDRS, OK, "big.example.com", "198.51.100.1 192.0.2.10", 148, true, 0, NULL,
     3, VF_CHECK_PASS, "big.example.com has A 192.0.2.10 among 150 addresses", ""},
    /* error rcodes */
    {"192.0.2.10", A, VF_LOOKUP_RCODE, OK, "mail.example.org", NULL, 0, false, VF_RCODE_REFUSED, "REFUSED", 3,
     VF_CHECK_FAIL, "the resolvers refused to resolve mail.example.org (REFUSED)",
     "This is usually a problem on our side: retry later, and contact support if it persists."},
    {"192.0.2.10", A, VF_LOOKUP_RCODE, OK, "broken.example.com", NULL, 0, false, VF_RCODE_SERVFAIL,
     "SERVFAIL", 3, VF_CHECK_FAIL,
     "the resolvers could not resolve broken.example.com (SERVFAIL): its name servers failed, are "
     "unreachable, or gave answers that fail DNSSEC validation",
     "Check that the authoritative name servers for broken.example.com answer correctly (and that its DNSSEC "
     "signatures are valid, if the zone is signed), then retry."},
    /* the rcode of the final name, not of the requested one */
    {"192.0.2.10", A, VF_LOOKUP_RCODE, OK, "ext.example.com host.example.net", NULL, 0, false,
     VF_RCODE_SERVFAIL, "SERVFAIL", 3, VF_CHECK_FAIL,
     "the resolvers could not resolve host.example.net (SERVFAIL): its name servers failed, are "
     "unreachable, or gave answers that fail DNSSEC validation",
     "Check that the authoritative name servers for host.example.net answer correctly (and that its DNSSEC "
     "signatures are valid, if the zone is signed), then retry."},
    {"192.0.2.10", A, VF_LOOKUP_RCODE, OK, "mail.example.com", NULL, 0, false, 4, "NOTIMPL", 3, VF_CHECK_FAIL,
     "the resolvers answered NOTIMPL for mail.example.com",
     "Check that the authoritative name servers for mail.example.com answer correctly, then retry."},
    {"192.0.2.10", A, VF_LOOKUP_RCODE, OK, "mail.example.com", NULL, 0, false, 15, NULL, 3, VF_CHECK_FAIL,
     "the resolvers answered an error for mail.example.com",
     "Check that the authoritative name servers for mail.example.com answer correctly, then retry."},
    /* forgeries only, and no answer at all */
    {"192.0.2.10", A, VF_LOOKUP_BADANSWER, OK, "mail.example.com", NULL, 0, false, 0, NULL, 300,
     VF_CHECK_FAIL, "the resolvers sent no valid answer for mail.example.com",
     "Retry later, and contact support if it persists."},
    {"192.0.2.10", A, VF_LOOKUP_TIMEOUT, OK, "mail.example.com", NULL, 0, false, 0, NULL, 1500, VF_CHECK_FAIL,
     "timeout: no answer from the resolvers within 1500 ms",
     "Check that the authoritative name servers for mail.example.com are reachable and answer queries, then "
     "retry in a few minutes."},
    {"192.0.2.10", A, VF_LOOKUP_TIMEOUT, OK, "ext.example.com host.example.net", NULL, 0, false, 0, NULL, 300,
     VF_CHECK_FAIL,
     "timeout: no answer from the resolvers within 300 ms while resolving host.example.net (the alias "
     "target of ext.example.com)",
     "Check that the authoritative name servers for host.example.net are reachable and answer queries, then "
     "retry in a few minutes."},
};

static void test_forward(void **state)
{
	for (size_t i = 0; i < sizeof(fwd_cases) / sizeof(fwd_cases[0]); i++) {
		const fwd_case_t *tc = &fwd_cases[i];
		core_addr_t ip = addr(tc->ip);
		vf_lookup_t l;
		vf_check_t c = fresh();

		build(tc, &l);
		vf_forward_outcome_t o = {.hostname = l.chain[0], .ip = &ip, .lookup = &l};
		vf_findings_forward(&o, &c);
		expect(i, &c, tc->status, tc->detail, tc->next_step);
		/* every failure says what to do */
		if (tc->status == VF_CHECK_FAIL)
			assert_true(c.next_step[0] != '\0');
	}
}

static void test_forward_skipped(void **state)
{
	core_addr_t ip = addr("192.0.2.10");
	vf_forward_outcome_t o = {.hostname = "nosuch.example.com", .ip = &ip, .skipped = true};
	vf_check_t c = fresh();

	vf_findings_forward(&o, &c);
	expect(0, &c, VF_CHECK_WARN, "skipped (forced by staff)", "");
}

/* ---- found ---- */

static void test_found(void **state)
{
	vf_lookup_t l;
	char buf[VF_VERIFY_FOUND_MAX], want[VF_VERIFY_FOUND_MAX];

	memset(&l, 0, sizeof(l));
	l.family = CORE_AF_INET;
	l.kind = VF_LOOKUP_ADDRS;
	l.addrs[0] = addr("192.0.2.10");
	l.addrs[1] = addr("192.0.2.11");
	l.addrs[2] = addr("192.0.2.12");
	l.n_addrs = 3;
	vf_findings_found(&l, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.10, 192.0.2.11, 192.0.2.12");

	/* all kept addresses (not only the eight of the detail), then the count */
	want[0] = '\0';
	for (size_t i = 0; i < VF_LOOKUP_MAX_ADDRS; i++) {
		char t[32];

		snprintf(t, sizeof(t), "198.51.100.%zu", i + 1);
		l.addrs[i] = addr(t);
		snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s%s", i ? ", " : "", t);
	}
	l.n_addrs = VF_LOOKUP_MAX_ADDRS;
	l.n_more = 118;
	snprintf(want + strlen(want), sizeof(want) - strlen(want), " and 118 more");
	vf_findings_found(&l, buf, sizeof(buf));
	assert_string_equal(buf, want);

	/* cut to the buffer */
	char small[16];
	vf_findings_found(&l, small, sizeof(small));
	assert_string_equal(small, "198.51.100.1, 1");

	/* IPv6, canonical text */
	l.family = CORE_AF_INET6;
	l.addrs[0] = addr("2001:DB8:0:0::10");
	l.n_addrs = 1;
	l.n_more = 0;
	vf_findings_found(&l, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::10");

	/* nothing found unless there are addresses */
	static const vf_lookup_kind_t none[] = {VF_LOOKUP_NXDOMAIN,  VF_LOOKUP_NODATA,
	                                        VF_LOOKUP_RCODE,     VF_LOOKUP_TIMEOUT,
	                                        VF_LOOKUP_BADANSWER, VF_LOOKUP_UNREACHABLE};
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		l.kind = none[i];
		snprintf(buf, sizeof(buf), "stale");
		vf_findings_found(&l, buf, sizeof(buf));
		assert_string_equal(buf, "");
	}
}

/* Resolvers that refused or were unreachable: the provider's fault, named, never "within 0 ms". */
static void test_forward_resolvers(void **state)
{
	core_addr_t ip = addr("192.0.2.10");
	vf_lookup_t l;
	vf_check_t c = fresh();
	vf_forward_outcome_t o = {.hostname = "mail.example.com", .ip = &ip, .lookup = &l};

	memset(&l, 0, sizeof(l));
	l.family = CORE_AF_INET;
	l.kind = VF_LOOKUP_UNREACHABLE;
	snprintf(l.chain[0], sizeof(l.chain[0]), "mail.example.com");
	l.n_chain = 1;
	snprintf(l.resolvers[0].name, sizeof(l.resolvers[0].name), "127.0.0.1:53");
	l.resolvers[0].neterr = ECONNREFUSED;
	snprintf(l.resolvers[1].name, sizeof(l.resolvers[1].name), "[2001:db8::53]:53");
	l.resolvers[1].neterr = ENETUNREACH;
	snprintf(l.resolvers[2].name, sizeof(l.resolvers[2].name), "192.0.2.53:53");
	l.resolvers[2].neterr = EHOSTUNREACH;
	l.n_resolvers = 3;
	vf_findings_forward(&o, &c);
	assert_int_equal(c.status, VF_CHECK_FAIL);
	assert_string_equal(
	    c.detail, "the provider's resolvers could not be asked about mail.example.com: 127.0.0.1:53 "
	              "refused the query (connection refused: nothing answers on that port), "
	              "[2001:db8::53]:53 is unreachable (network unreachable), 192.0.2.53:53 is "
	              "unreachable (no route to host)");
	assert_string_equal(
	    c.next_step,
	    "This is a fault in the provider's resolver configuration, not in the name servers "
	    "of mail.example.com: nothing to change on your side. Contact support; retry once it "
	    "is fixed.");

	/* along an alias: the name that could not be asked about is the target */
	snprintf(l.chain[1], sizeof(l.chain[1]), "host.example.net");
	l.n_chain = 2;
	l.n_resolvers = 1;
	l.n_resolvers_more = 2;
	vf_findings_forward(&o, &c);
	assert_string_equal(
	    c.detail, "the provider's resolvers could not be asked about host.example.net: 127.0.0.1:53 "
	              "refused the query (connection refused: nothing answers on that port) and 2 more");

	/* one timed out, one refused: a timeout, the real time waited, both named */
	l.n_chain = 1;
	l.n_resolvers_more = 0;
	l.kind = VF_LOOKUP_TIMEOUT;
	l.elapsed_ms = 2000;
	snprintf(l.resolvers[1].name, sizeof(l.resolvers[1].name), "192.0.2.53:53");
	l.resolvers[1].neterr = 0;
	l.resolvers[1].timed_out = true;
	l.n_resolvers = 2;
	vf_findings_forward(&o, &c);
	assert_string_equal(c.detail, "timeout: no answer from the resolvers within 2000 ms (192.0.2.53:53); "
	                              "127.0.0.1:53 refused the query (connection refused: nothing answers "
	                              "on that port)");
	assert_string_equal(c.next_step, "Check that the authoritative name servers for mail.example.com are "
	                                 "reachable and answer queries, then retry in a few minutes.");

	/* no resolver named (none recorded): the old wording, and nothing unknown */
	l.n_resolvers = 0;
	l.kind = VF_LOOKUP_UNREACHABLE;
	vf_findings_forward(&o, &c);
	assert_string_equal(c.detail, "the provider's resolvers could not be asked about mail.example.com: "
	                              "every one refused the query or was unreachable");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_syntax),
	    cmocka_unit_test(test_policy),
	    cmocka_unit_test(test_generic),
	    cmocka_unit_test(test_forward),
	    cmocka_unit_test(test_forward_skipped),
	    cmocka_unit_test(test_found),
	    cmocka_unit_test(test_forward_resolvers),
	};

	return cmocka_run_group_tests_name("findings", tests, NULL, NULL);
}
