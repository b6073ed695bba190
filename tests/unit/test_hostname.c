/* test_hostname.c - unit tests for core/hostname.c: normalisation, special suffixes, generic names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/hostname.h"

static char *repeat(char *buf, char c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

static core_addr_t v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	core_addr_t x = {.family = CORE_AF_INET};
	x.b[0] = a;
	x.b[1] = b;
	x.b[2] = c;
	x.b[3] = d;
	return x;
}

static core_addr_t v6(const uint16_t g[8])
{
	core_addr_t x = {.family = CORE_AF_INET6};
	for (int i = 0; i < 8; i++) {
		x.b[2 * i] = (uint8_t)(g[i] >> 8);
		x.b[2 * i + 1] = (uint8_t)g[i];
	}
	return x;
}

/* ---- normalize ---- */

static const struct {
	const char *in;
	const char *out; /* expected normal form, NULL when rejected */
	const char *why; /* substring of the reason when rejected */
} norm_cases[] = {
    {"mail.example.com", "mail.example.com", NULL},
    {"MAIL.Example.COM.", "mail.example.com", NULL},
    {"server1.hostingprovider.com", "server1.hostingprovider.com", NULL},
    {"192-0-2-10.provider.local", "192-0-2-10.provider.local", NULL},
    {"static-192-0-2-10.vps.example.net", "static-192-0-2-10.vps.example.net", NULL},
    {"xn--bcher-kva.example", "xn--bcher-kva.example", NULL},
    {"xn--bcher-kva.com", "xn--bcher-kva.com", NULL},
    {"XN--BCHER-KVA.COM", "xn--bcher-kva.com", NULL},
    {"a.b", "a.b", NULL},
    {"a-b.c0", "a-b.c0", NULL},
    {"1.2.3.com", "1.2.3.com", NULL},
    {"example.org", "example.org", NULL},
    {"example.net.", "example.net", NULL},
    {"", NULL, "empty"},
    {".", NULL, "empty"},
    {"mail example.com", NULL, "space"},
    {" mail.example.com", NULL, "space"},
    {"mail.example.com\n", NULL, "control"},
    {"mail\t.example.com", NULL, "control"},
    {"mail\r.example.com", NULL, "control"},
    {"mail\x7f.example.com", NULL, "control"},
    {"mail;.example.com", NULL, "';'"},
    {"$ORIGIN.example.com", NULL, "'$'"},
    {"mail(.example.com", NULL, "'('"},
    {"mail).example.com", NULL, "')'"},
    {"mail\".example.com", NULL, "'\"'"},
    {"mail\\.example.com", NULL, "'\\'"},
    {"root@example.com", NULL, "'@'"},
    {"*.example.com", NULL, "'*'"},
    {"a/b.example.com", NULL, "'/'"},
    {"a,b.example.com", NULL, "','"},
    {"_dmarc.example.com", NULL, "underscore"},
    {"mail_1.example.com", NULL, "underscore"},
    {"b\xc3\xbc"
     "cher.example.com",
     NULL, "non-ASCII"},
    {"mail!.example.com", NULL, "other than letters"},
    {"mail..example.com", NULL, "empty label"},
    {"mail.example.com..", NULL, "empty label"},
    {".mail.example.com", NULL, "starts with a dot"},
    {"-mail.example.com", NULL, "hyphen"},
    {"mail-.example.com", NULL, "hyphen"},
    {"mail.example.com-", NULL, "hyphen"},
    {"localhost", NULL, "single label"},
    {"localhost.", NULL, "single label"},
    {"192.0.2.10", NULL, "all-numeric"},
    {"192.0.2.10.", NULL, "all-numeric"},
    {"mail.example.123", NULL, "all-numeric"},
};

static void test_normalize_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(norm_cases) / sizeof(norm_cases[0]); i++) {
		char out[CORE_HOSTNAME_MAX];
		const char *reason = "unset";
		int rc = core_hostname_normalize(norm_cases[i].in, out, sizeof(out), &reason);
		if (norm_cases[i].out) {
			if (rc != RDNS_OK)
				fail_msg("case %zu '%s': rc %d (%s)", i, norm_cases[i].in, rc,
				         reason ? reason : "-");
			assert_string_equal(out, norm_cases[i].out);
			assert_null(reason);
		} else {
			if (rc != RDNS_EINVAL)
				fail_msg("case %zu '%s': rc %d, want EINVAL", i, norm_cases[i].in, rc);
			assert_non_null(reason);
			if (!strstr(reason, norm_cases[i].why))
				fail_msg("case %zu '%s': reason '%s' lacks '%s'", i, norm_cases[i].in, reason,
				         norm_cases[i].why);
		}
	}
}

static void test_normalize_lengths(void **state)
{
	(void)state;
	char l63[64], l64[65], name[400], out[CORE_HOSTNAME_MAX];
	const char *reason;

	repeat(l63, 'a', 63);
	repeat(l64, 'a', 64);

	snprintf(name, sizeof(name), "%s.example.com", l63);
	assert_int_equal(core_hostname_normalize(name, out, sizeof(out), &reason), RDNS_OK);
	assert_string_equal(out, name);

	snprintf(name, sizeof(name), "%s.example.com", l64);
	assert_int_equal(core_hostname_normalize(name, out, sizeof(out), &reason), RDNS_EINVAL);
	assert_non_null(strstr(reason, "63"));

	/* 253 octets exactly: 63+1+63+1+63+1+61 = 253 */
	char l61[62];
	repeat(l61, 'b', 61);
	snprintf(name, sizeof(name), "%s.%s.%s.%s", l63, l63, l63, l61);
	assert_int_equal(strlen(name), 253);
	assert_int_equal(core_hostname_normalize(name, out, sizeof(out), &reason), RDNS_OK);
	assert_string_equal(out, name);
	/* ... also with its trailing dot (254 characters of input) */
	strcat(name, ".");
	assert_int_equal(core_hostname_normalize(name, out, sizeof(out), &reason), RDNS_OK);
	assert_int_equal(strlen(out), 253);

	/* 254 octets */
	char l62[63];
	repeat(l62, 'b', 62);
	snprintf(name, sizeof(name), "%s.%s.%s.%s", l63, l63, l63, l62);
	assert_int_equal(core_hostname_normalize(name, out, sizeof(out), &reason), RDNS_EINVAL);
	assert_non_null(strstr(reason, "253"));

	/* 300 octets made of valid labels */
	name[0] = '\0';
	while (strlen(name) < 300)
		strcat(name, "abcdefghi.");
	name[299] = 'x';
	name[300] = '\0';
	assert_int_equal(strlen(name), 300);
	assert_int_equal(core_hostname_normalize(name, out, sizeof(out), &reason), RDNS_EINVAL);
	assert_non_null(strstr(reason, "253"));
}

static void test_normalize_args(void **state)
{
	(void)state;
	char out[CORE_HOSTNAME_MAX];
	const char *reason;

	assert_int_equal(core_hostname_normalize(NULL, out, sizeof(out), &reason), RDNS_EINVAL);
	assert_non_null(reason);
	/* reason may be NULL */
	assert_int_equal(core_hostname_normalize("a b.com", out, sizeof(out), NULL), RDNS_EINVAL);
	assert_int_equal(core_hostname_normalize("a.com", out, sizeof(out), NULL), RDNS_OK);

	/* Space: exactly length + 1 is enough, one less is not. */
	char small[17];
	assert_int_equal(core_hostname_normalize("MAIL.EXAMPLE.COM.", small, 17, &reason), RDNS_OK);
	assert_string_equal(small, "mail.example.com");
	assert_int_equal(core_hostname_normalize("mail.example.com", small, 16, &reason), RDNS_ESPACE);
	/* An invalid name reports EINVAL even with no room. */
	assert_int_equal(core_hostname_normalize("mail..example.com", small, 1, &reason), RDNS_EINVAL);

	/* In place. */
	char buf[32] = "Mail.Example.COM.";
	assert_int_equal(core_hostname_normalize(buf, buf, sizeof(buf), &reason), RDNS_OK);
	assert_string_equal(buf, "mail.example.com");
}

/* ---- special-use suffixes ---- */

static const struct {
	const char *name;
	const char *which; /* NULL: no match */
} special_cases[] = {
    {"mail.example.com", NULL},
    {"example.com", NULL},
    {"www.example.net", NULL},
    {"example.org", NULL},
    {"192-0-2-10.provider.local", "local"},
    {"a.local", "local"},
    {"local", "local"},
    {"notlocal.com", NULL},
    {"local.com", NULL},
    {"xn--bcher-kva.example", "example"},
    {"xn--bcher-kva.com", NULL},
    {"router.home.arpa", "home.arpa"},
    {"foo.home", "home"},
    {"myhome.net", NULL},
    {"10.2.0.192.in-addr.arpa", "in-addr.arpa"},
    {"x.ip6.arpa", "ip6.arpa"},
    {"db.internal", "internal"},
    {"a.lan", "lan"},
    {"a.corp", "corp"},
    {"a.private", "private"},
    {"a.intranet", "intranet"},
    {"a.localdomain", "localdomain"},
    {"localhost", "localhost"},
    {"x.invalid", "invalid"},
    {"x.test", "test"},
    {"x.onion", "onion"},
    {"x.alt", "alt"},
    {"mail.test.com", NULL},
    {"arpa.example.com", NULL},
    {"MAIL.LOCAL.", "local"},
};

static void test_special_table(void **state)
{
	(void)state;
	size_t n = 0;
	while (core_hostname_special_default[n])
		n++;
	assert_true(n >= 17);

	for (size_t i = 0; i < sizeof(special_cases) / sizeof(special_cases[0]); i++) {
		const char *which = "unset";
		bool m = core_hostname_matches_suffix(special_cases[i].name, core_hostname_special_default, n,
		                                      &which);
		if (special_cases[i].which) {
			if (!m)
				fail_msg("case %zu '%s': no match, want '%s'", i, special_cases[i].name,
				         special_cases[i].which);
			assert_string_equal(which, special_cases[i].which);
		} else {
			if (m)
				fail_msg("case %zu '%s': matched '%s'", i, special_cases[i].name, which);
			assert_null(which);
		}
		/* The NULL terminator stops the scan as well. */
		assert_int_equal(core_hostname_matches_suffix(special_cases[i].name,
		                                              core_hostname_special_default, SIZE_MAX, NULL),
		                 m);
	}
}

static void test_suffix_custom_list(void **state)
{
	(void)state;
	const char *list[] = {"Customer.Example.", "isp.example.net"};
	const char *which;
	assert_true(core_hostname_matches_suffix("a.customer.example", list, 2, &which));
	assert_string_equal(which, "Customer.Example.");
	assert_true(core_hostname_matches_suffix("x.y.isp.example.net", list, 2, &which));
	assert_string_equal(which, "isp.example.net");
	assert_false(core_hostname_matches_suffix("x.myisp.example.net", list, 2, &which));
	/* n limits the list */
	assert_false(core_hostname_matches_suffix("x.y.isp.example.net", list, 1, &which));
	assert_false(core_hostname_matches_suffix("x.y.isp.example.net", list, 0, NULL));
	/* longer suffix than the name */
	assert_false(core_hostname_matches_suffix("net", list, 2, NULL));
}

static void test_policy_verdict(void **state)
{
	(void)state;
	const char *special[] = {"localhost", "internal"}, *denied[] = {"brand.example"};
	const char *which;
	/* special NULL: the built-in list */
	assert_int_equal(core_hostname_policy("192-0-2-1.localhost", NULL, 0, NULL, 0, &which),
	                 CORE_POLICY_SPECIAL);
	assert_string_equal(which, "localhost");
	assert_int_equal(core_hostname_policy("a.home.arpa", NULL, 0, denied, 1, &which),
	                 CORE_POLICY_SPECIAL);
	assert_string_equal(which, "home.arpa");
	assert_int_equal(core_hostname_policy("mail.example.com", NULL, 0, NULL, 0, &which), CORE_POLICY_OK);
	assert_null(which);
	/* a configured list replaces the built-in one */
	assert_int_equal(core_hostname_policy("a.local", special, 2, NULL, 0, NULL), CORE_POLICY_OK);
	assert_int_equal(core_hostname_policy("a.internal", special, 2, NULL, 0, NULL), CORE_POLICY_SPECIAL);
	/* denied after special; suffixes at label boundaries */
	assert_int_equal(core_hostname_policy("x.brand.example", special, 2, denied, 1, &which),
	                 CORE_POLICY_DENIED);
	assert_string_equal(which, "brand.example");
	assert_int_equal(core_hostname_policy("x.mybrand.example", special, 2, denied, 1, NULL),
	                 CORE_POLICY_OK);
	assert_int_equal(core_hostname_policy("x.brand.example", special, 2, denied, 0, NULL),
	                 CORE_POLICY_OK);
}

/* ---- generic names ---- */

enum { NO_ADDR, A_V4, A_V6, A_V6_LO };

static const uint16_t v6_doc1[8] = {0x2001, 0x0db8, 0, 0, 0, 0, 0, 1};
static const uint16_t v6_lo[8] = {0, 0, 0, 0, 0, 0, 0, 1};
static const uint16_t v6_doc2[8] = {0x2001, 0x0db8, 0x85a3, 0, 0, 0x8a2e, 0x0370, 0x7334};

static const struct {
	const char *name;
	int addr; /* NO_ADDR, A_V4 (192.0.2.10), A_V6 (v6_doc1) or A_V6_LO (::1) */
	unsigned flags;
	const char *why; /* substring of why when flags != 0 */
} generic_cases[] = {
    /* the required classifications */
    {"mail.example.com", A_V4, 0, NULL},
    {"mail.example.com", NO_ADDR, 0, NULL},
    {"192-0-2-10.provider.local", A_V4, CORE_GENERIC_ADDR, "192.0.2.10 (dashed)"},
    {"server1.hostingprovider.com", A_V4, 0, NULL},
    {"server1.hostingprovider.com", NO_ADDR, 0, NULL},
    {"static-192-0-2-10.vps.example.net", A_V4, CORE_GENERIC_ADDR, "dashed"},
    {"static-192-0-2-10.vps.example.net", NO_ADDR, CORE_GENERIC_ADDR, "192.0.2.10"},
    {"dynamic-pool.isp.example.net", A_V4, CORE_GENERIC_WORD, "'dynamic'"},
    {"dynamic-pool.isp.example.net", NO_ADDR, CORE_GENERIC_WORD, "'dynamic'"},
    /* address forms */
    {"10-2-0-192.isp.example.net", A_V4, CORE_GENERIC_ADDR, "reversed, dashed"},
    {"host.192.0.2.10.example.net", A_V4, CORE_GENERIC_ADDR, "(dotted)"},
    {"10.2.0.192.dsl.example.net", A_V4, CORE_GENERIC_ADDR | CORE_GENERIC_WORD, "reversed, dotted"},
    {"ip-192-000-002-010.example.net", A_V4, CORE_GENERIC_ADDR, "dashed"},
    {"c000020a.example.net", A_V4, CORE_GENERIC_ADDR, "(hex)"},
    {"ip-c000020a.example.net", A_V4, CORE_GENERIC_ADDR, "(hex)"},
    {"x192000002010.example.net", A_V4, CORE_GENERIC_ADDR, "zero-padded"},
    {"u010002000192.example.net", A_V4, CORE_GENERIC_ADDR, "reversed zero-padded"},
    {"192-0-2-10.example.net", NO_ADDR, CORE_GENERIC_ADDR, "(dashed)"},
    {"a10-2-0-192.example.net", NO_ADDR, CORE_GENERIC_ADDR, "10.2.0.192"},
    /* near misses */
    {"192-0-2-100.example.net", A_V4, 0, NULL},
    {"1192-0-2-10.example.net", A_V4, 0, NULL},
    {"192-0-2-11.example.net", A_V4, 0, NULL},
    {"ac000020a.example.net", A_V4, 0, NULL},
    {"c000020ab.example.net", A_V4, 0, NULL},
    {"1192000002010.example.net", A_V4, 0, NULL},
    {"192-0-2.example.net", NO_ADDR, 0, NULL},
    {"1-2-3-256.example.net", NO_ADDR, 0, NULL},
    {"1-2-3-1000.example.net", NO_ADDR, 0, NULL},
    {"1--2-3-4.example.net", NO_ADDR, 0, NULL},
    /* a quad elsewhere in the name is found after a false start */
    {"7-192-0-2-10.example.net", A_V4, CORE_GENERIC_ADDR, "dashed"},
    {"www2-2024.example.net", NO_ADDR, 0, NULL},
    /* IPv6 */
    {"20010db8000000000000000000000001.example.net", A_V6, CORE_GENERIC_ADDR, "2001:db8::1 (32 hex"},
    {"1000000000000000000000008bd01002.example.net", A_V6, CORE_GENERIC_ADDR, "reversed nibbles"},
    {"2001-db8--1.example.net", A_V6, CORE_GENERIC_ADDR, "2001:db8::1 (dashed, compressed)"},
    {"host-2001-db8-0-0-0-0-0-1.example.net", A_V6, CORE_GENERIC_ADDR, "(dashed)"},
    {"2001-0db8-0000-0000-0000-0000-0000-0001.example.net", A_V6, CORE_GENERIC_ADDR, "zero-padded"},
    {"2001-db8--10.example.net", A_V6, 0, NULL},
    {"2001-db8--1a.example.net", A_V6, 0, NULL},
    {"mail.example.com", A_V6, 0, NULL},
    /* very short compressed forms ("--1" for ::1) are not looked for */
    {"x--1.example.net", A_V6_LO, 0, NULL},
    {"00000000000000000000000000000001.example.net", A_V6_LO, CORE_GENERIC_ADDR, "::1 (32 hex"},
    /* words */
    {"dsl-pool-17.isp.example.net", NO_ADDR, CORE_GENERIC_WORD, "'dsl'"},
    {"pool3.isp.example.net", NO_ADDR, CORE_GENERIC_WORD, "'pool'"},
    {"dhcpclient-7.isp.example.net", NO_ADDR, CORE_GENERIC_WORD, "'dhcp'"},
    {"adsl12.isp.example.net", NO_ADDR, CORE_GENERIC_WORD, "'adsl'"},
    {"cust42.isp.example.net", NO_ADDR, CORE_GENERIC_WORD, "'cust'"},
    {"dial-up.isp.example.net", NO_ADDR, CORE_GENERIC_WORD, "'dial-up'"},
    {"ppp-7.isp.example.net", NO_ADDR, CORE_GENERIC_WORD, "'ppp'"},
    {"a.unassigned.isp.example.net", NO_ADDR, CORE_GENERIC_WORD, "'unassigned'"},
    {"cpe-7.cable.example.net", NO_ADDR, CORE_GENERIC_WORD, "'cpe'"},
    {"DYN-1.ISP.Example.NET", NO_ADDR, CORE_GENERIC_WORD, "'dyn'"},
    /* no false positives from longer words or from the registered domain */
    {"mail.liverpool.ac.uk", NO_ADDR, 0, NULL},
    {"www.liverpool.example", NO_ADDR, 0, NULL},
    {"www.dynamics.example.com", NO_ADDR, 0, NULL},
    {"custom.example.com", NO_ADDR, 0, NULL},
    {"mx.pool.com", NO_ADDR, 0, NULL},
    {"mail.dynamic.com", NO_ADDR, 0, NULL},
    {"static.example.com", NO_ADDR, 0, NULL},
    {"static1.mail.example.com", NO_ADDR, 0, NULL},
    {"host1.example.com", NO_ADDR, 0, NULL},
    {"hostingprovider.com", NO_ADDR, 0, NULL},
    {"cablecar.tours.example.com", NO_ADDR, 0, NULL},
    {"dynamic.com", NO_ADDR, 0, NULL},
};

static void test_generic_table(void **state)
{
	(void)state;
	core_addr_t a4 = v4(192, 0, 2, 10), a6 = v6(v6_doc1), alo = v6(v6_lo);
	for (size_t i = 0; i < sizeof(generic_cases) / sizeof(generic_cases[0]); i++) {
		const core_addr_t *a = NULL;
		switch (generic_cases[i].addr) {
		case A_V4: a = &a4; break;
		case A_V6: a = &a6; break;
		case A_V6_LO: a = &alo; break;
		}
		char why[200];
		unsigned f = core_hostname_generic(generic_cases[i].name, a, why, sizeof(why));
		if (f != generic_cases[i].flags)
			fail_msg("case %zu '%s': flags %u want %u (%s)", i, generic_cases[i].name, f,
			         generic_cases[i].flags, why);
		if (f == 0) {
			assert_string_equal(why, "");
		} else if (!strstr(why, generic_cases[i].why)) {
			fail_msg("case %zu '%s': why '%s' lacks '%s'", i, generic_cases[i].name, why,
			         generic_cases[i].why);
		}
	}
}

static void test_generic_misc(void **state)
{
	(void)state;
	char why[200];
	core_addr_t a = v6(v6_doc2);

	/* RFC 5952 picks the longest zero run, here the only one */
	assert_int_equal(
	    core_hostname_generic("2001-db8-85a3--8a2e-370-7334.example.net", &a, why, sizeof(why)),
	    CORE_GENERIC_ADDR);
	assert_non_null(strstr(why, "2001:db8:85a3::8a2e:370:7334"));

	/* IPv4-mapped IPv6 also checks the IPv4 forms */
	uint16_t mg[8] = {0, 0, 0, 0, 0, 0xffff, 0xc000, 0x020a};
	a = v6(mg);
	assert_int_equal(core_hostname_generic("192-0-2-10.example.net", &a, why, sizeof(why)),
	                 CORE_GENERIC_ADDR);

	/* with an address, a quad of another address is not that address */
	core_addr_t b = v4(198, 51, 100, 7);
	assert_int_equal(core_hostname_generic("192-0-2-10.example.net", &b, why, sizeof(why)), 0);

	/* both findings are named */
	b = v4(192, 0, 2, 10);
	assert_int_equal(core_hostname_generic("dynamic-192-0-2-10.example.net", &b, why, sizeof(why)),
	                 CORE_GENERIC_ADDR | CORE_GENERIC_WORD);
	assert_non_null(strstr(why, "192.0.2.10"));
	assert_non_null(strstr(why, "'dynamic'"));

	/* why may be NULL or short */
	assert_int_equal(core_hostname_generic("dsl-1.isp.example.net", NULL, NULL, 0), CORE_GENERIC_WORD);
	char tiny[5];
	assert_int_equal(core_hostname_generic("dsl-1.isp.example.net", NULL, tiny, sizeof(tiny)),
	                 CORE_GENERIC_WORD);
	assert_int_equal(strlen(tiny), 4);
	assert_int_equal(core_hostname_generic(NULL, NULL, why, sizeof(why)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_normalize_table),    cmocka_unit_test(test_normalize_lengths),
	    cmocka_unit_test(test_normalize_args),     cmocka_unit_test(test_special_table),
	    cmocka_unit_test(test_suffix_custom_list), cmocka_unit_test(test_generic_table),
	    cmocka_unit_test(test_generic_misc),       cmocka_unit_test(test_policy_verdict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
