/* test_addr.c - unit tests for core/addr: parsing, RFC 5952 printing, prefixes, containment. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/addr.h"
#include "core/err.h"

#define N(t) (sizeof(t) / sizeof((t)[0]))

static core_addr_t must_addr(const char *s)
{
	core_addr_t a;
	int rc = core_addr_parse(s, &a);
	if (rc != RDNS_OK)
		fail_msg("fixture address %s: %s", s, rdns_strerror(rc));
	return a;
}

static core_prefix_t must_prefix(const char *s)
{
	core_prefix_t p;
	int rc = core_prefix_parse(s, &p);
	if (rc != RDNS_OK)
		fail_msg("fixture prefix %s: %s", s, rdns_strerror(rc));
	return p;
}

static void test_addr_bits(void **state)
{
	assert_int_equal(core_addr_bits(CORE_AF_INET), 32);
	assert_int_equal(core_addr_bits(CORE_AF_INET6), 128);
	assert_int_equal(core_addr_bits(0), 0);
	assert_int_equal(core_addr_bits(5), 0);
}

/* Valid input -> family and canonical text. */
static const struct {
	const char *in;
	int family;
	const char *canon;
} canon_cases[] = {
    {"192.0.2.1", CORE_AF_INET, "192.0.2.1"},
    {"0.0.0.0", CORE_AF_INET, "0.0.0.0"},
    {"255.255.255.255", CORE_AF_INET, "255.255.255.255"},
    {"10.0.100.9", CORE_AF_INET, "10.0.100.9"},
    /* RFC 5952 4.3: lower case */
    {"2001:DB8::1", CORE_AF_INET6, "2001:db8::1"},
    {"ABCD:EF01:2345:6789:ABCD:EF01:2345:6789", CORE_AF_INET6, "abcd:ef01:2345:6789:abcd:ef01:2345:6789"},
    /* 4.1: leading zeros dropped */
    {"2001:0db8:0000:0000:0000:0000:0000:0001", CORE_AF_INET6, "2001:db8::1"},
    {"2001:db8:00a0:000b:0c00:d000:0e0e:00f0", CORE_AF_INET6, "2001:db8:a0:b:c00:d000:e0e:f0"},
    /* 4.2.1: longest run compressed */
    {"2001:0:0:1:0:0:0:1", CORE_AF_INET6, "2001:0:0:1::1"},
    {"1:0:0:0:1:0:0:0", CORE_AF_INET6, "1::1:0:0:0"},
    {"1:0:0:2:0:0:0:0", CORE_AF_INET6, "1:0:0:2::"},
    /* 4.2.3: tie -> first */
    {"2001:db8:0:0:1:0:0:1", CORE_AF_INET6, "2001:db8::1:0:0:1"},
    {"0:0:1:0:0:1:0:0", CORE_AF_INET6, "::1:0:0:1:0:0"},
    /* 4.2.2: a single zero group is not compressed */
    {"2001:db8:0:1:1:1:1:1", CORE_AF_INET6, "2001:db8:0:1:1:1:1:1"},
    {"2001:db8::1:1:1:1:1", CORE_AF_INET6, "2001:db8:0:1:1:1:1:1"},
    {"1:2:3:4:5:6:7::", CORE_AF_INET6, "1:2:3:4:5:6:7:0"},
    {"::2:3:4:5:6:7:8", CORE_AF_INET6, "0:2:3:4:5:6:7:8"},
    {"1:0:2:0:3:0:4:0", CORE_AF_INET6, "1:0:2:0:3:0:4:0"},
    /* all zeros, loopback, ends */
    {"::", CORE_AF_INET6, "::"},
    {"0:0:0:0:0:0:0:0", CORE_AF_INET6, "::"},
    {"::1", CORE_AF_INET6, "::1"},
    {"0:0:0:0:0:0:0:1", CORE_AF_INET6, "::1"},
    {"1::", CORE_AF_INET6, "1::"},
    {"fe80::", CORE_AF_INET6, "fe80::"},
    {"1:2:3:4:5:6:7:8", CORE_AF_INET6, "1:2:3:4:5:6:7:8"},
    /* section 5: IPv4-mapped in mixed notation, from any input form */
    {"::ffff:192.0.2.1", CORE_AF_INET6, "::ffff:192.0.2.1"},
    {"::FFFF:C000:0201", CORE_AF_INET6, "::ffff:192.0.2.1"},
    {"0:0:0:0:0:ffff:c000:201", CORE_AF_INET6, "::ffff:192.0.2.1"},
    {"::ffff:0.0.0.0", CORE_AF_INET6, "::ffff:0.0.0.0"},
    /* other embedded IPv4 forms are printed in hex */
    {"::192.0.2.1", CORE_AF_INET6, "::c000:201"},
    {"64:ff9b::192.0.2.1", CORE_AF_INET6, "64:ff9b::c000:201"},
    {"::fffe:192.0.2.1", CORE_AF_INET6, "::fffe:c000:201"},
    {"1:2:3:4:5:6:1.2.3.4", CORE_AF_INET6, "1:2:3:4:5:6:102:304"},
    {"0000:0000:0000:0000:0000:0000:255.255.255.255", CORE_AF_INET6, "::ffff:ffff"},
};

static void test_parse_canonical(void **state)
{
	for (size_t i = 0; i < N(canon_cases); i++) {
		core_addr_t a, again;
		char buf[CORE_ADDR_STRLEN];
		int rc = core_addr_parse(canon_cases[i].in, &a);
		if (rc != RDNS_OK)
			fail_msg("parse %s: %s", canon_cases[i].in, rdns_strerror(rc));
		if (a.family != canon_cases[i].family)
			fail_msg("parse %s: family %d", canon_cases[i].in, a.family);
		assert_int_equal(core_addr_format(&a, buf, sizeof(buf)), RDNS_OK);
		if (strcmp(buf, canon_cases[i].canon) != 0)
			fail_msg("format %s: got %s, want %s", canon_cases[i].in, buf, canon_cases[i].canon);
		/* the canonical text reads back as the same address */
		assert_int_equal(core_addr_parse(buf, &again), RDNS_OK);
		assert_true(core_addr_equal(&a, &again));
	}
}

static void test_parse_bytes(void **state)
{
	core_addr_t a = must_addr("192.0.2.1");
	static const uint8_t v4[16] = {192, 0, 2, 1};
	assert_memory_equal(a.b, v4, 16); /* IPv4 uses b[0..3], the rest is zero */

	a = must_addr("2001:db8::ff:1");
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0, 1};
	assert_memory_equal(a.b, v6, 16);

	a = must_addr("::ffff:192.0.2.1");
	static const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
	assert_memory_equal(a.b, mapped, 16);
}

static const char *const invalid_addrs[] = {
    "",
    " ",
    " 192.0.2.1",
    "192.0.2.1 ",
    "192.0.2.1\n",
    "\t192.0.2.1",
    "010.1.1.1", /* ambiguous octal */
    "1.2.3.04",
    "00.1.1.1",
    "1.00.1.1",
    "0177.0.0.1",
    "256.1.1.1",
    "1.2.3.256",
    "1000.1.1.1",
    "1.2.3",
    "1.2.3.4.5",
    "1..2.3",
    "1.2.3.4.",
    ".1.2.3.4",
    "0x1.2.3.4",
    "1.2.3.a",
    "1.2.3.-1",
    "+1.2.3.4",
    "1.2.3.4/32",
    "16909060", /* inet_aton accepts a bare number */
    "10.1",     /* and a short form */
    "1.2.3.4x",
    "::1 ",
    " ::1",
    "[::1]",
    "fe80::1%eth0",
    "fe80::1%1",
    ":",
    ":::",
    "1::2::3",
    ":1::",
    "1:2:3:4:5:6:7:8:",
    ":1:2:3:4:5:6:7:8",
    "1:",
    "::1:",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7:8::",
    "::1:2:3:4:5:6:7:8",
    "1::2:3:4:5:6:7:8",
    "12345::",
    "g::",
    "::g",
    "2001:db8::1/128",
    "::ffff:010.1.1.1",
    "::ffff:1.2.3",
    "::ffff:256.1.1.1",
    "::ffff:1.2.3.4.5",
    "::1.2.3.4:1",
    "1.2.3.4::",
    "::ffff:1.2.3.4 ",
    "2001:db8::1\n",
    "2001:db8:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:1", /* longer than any valid form */
};

static void test_parse_invalid(void **state)
{
	for (size_t i = 0; i < N(invalid_addrs); i++) {
		core_addr_t a;
		memset(&a, 0xa5, sizeof(a));
		core_addr_t before = a;
		int rc = core_addr_parse(invalid_addrs[i], &a);
		if (rc != RDNS_EINVAL)
			fail_msg("parse \"%s\": got %d, want RDNS_EINVAL", invalid_addrs[i], rc);
		/* the output is left alone on error */
		assert_memory_equal(&a, &before, sizeof(a));
	}
	core_addr_t a;
	assert_int_equal(core_addr_parse(NULL, &a), RDNS_EINVAL);
	assert_int_equal(core_addr_parse("192.0.2.1", NULL), RDNS_EINVAL);

	/* an embedded NUL ends the text: what follows it is not seen */
	static const char with_nul[] = "192.0.2.1\0garbage";
	assert_int_equal(core_addr_parse(with_nul, &a), RDNS_OK);

	/* a very long string is refused without reading all of it as an address */
	char longstr[4096];
	memset(longstr, '1', sizeof(longstr) - 1);
	longstr[sizeof(longstr) - 1] = '\0';
	assert_int_equal(core_addr_parse(longstr, &a), RDNS_EINVAL);
}

static void test_format_space(void **state)
{
	static const struct {
		const char *in;
	} cases[] = {{"255.255.255.255"},
	             {"1111:2222:3333:4444:5555:6666:7777:8888"},
	             {"::ffff:255.255.255.255"},
	             {"::"}};
	for (size_t i = 0; i < N(cases); i++) {
		core_addr_t a = must_addr(cases[i].in);
		size_t need = strlen(cases[i].in) + 1;
		char buf[CORE_ADDR_STRLEN];
		assert_true(need <= CORE_ADDR_STRLEN);
		memset(buf, 'x', sizeof(buf));
		assert_int_equal(core_addr_format(&a, buf, need - 1), RDNS_ESPACE);
		assert_string_equal(buf, ""); /* short buffer left as an empty string */
		assert_int_equal(core_addr_format(&a, buf, need), RDNS_OK);
		assert_string_equal(buf, cases[i].in);
	}
	core_addr_t a = must_addr("::1");
	assert_int_equal(core_addr_format(&a, NULL, 0), RDNS_ESPACE);

	char buf[CORE_ADDR_STRLEN];
	a.family = 0;
	assert_int_equal(core_addr_format(&a, buf, sizeof(buf)), RDNS_EINVAL);
	assert_int_equal(core_addr_format(NULL, buf, sizeof(buf)), RDNS_EINVAL);
}

static void test_addr_equal(void **state)
{
	static const struct {
		const char *a, *b;
		bool equal;
	} cases[] = {
	    {"192.0.2.1", "192.0.2.1", true},
	    {"192.0.2.1", "192.0.2.2", false},
	    {"192.0.2.1", "::ffff:192.0.2.1", false}, /* different families */
	    {"::ffff:192.0.2.1", "::ffff:c000:201", true},
	    {"2001:db8::1", "2001:DB8:0:0::1", true},
	    {"2001:db8::1", "2001:db8::2", false},
	    {"0.0.0.0", "::", false},
	};
	for (size_t i = 0; i < N(cases); i++) {
		core_addr_t a = must_addr(cases[i].a), b = must_addr(cases[i].b);
		if (core_addr_equal(&a, &b) != cases[i].equal || core_addr_equal(&b, &a) != cases[i].equal)
			fail_msg("equal(%s, %s) != %d", cases[i].a, cases[i].b, cases[i].equal);
	}
}

static const struct {
	const char *in;
	const char *canon;
	unsigned len;
} prefix_cases[] = {
    {"192.0.2.0/24", "192.0.2.0/24", 24},
    {"192.0.2.1", "192.0.2.1/32", 32},
    {"192.0.2.1/32", "192.0.2.1/32", 32},
    {"192.0.2.128/25", "192.0.2.128/25", 25},
    {"10.0.0.0/8", "10.0.0.0/8", 8},
    {"0.0.0.0/0", "0.0.0.0/0", 0},
    {"2001:DB8::/32", "2001:db8::/32", 32},
    {"2001:0db8:0000::/48", "2001:db8::/48", 48},
    {"::/0", "::/0", 0},
    {"::1", "::1/128", 128},
    {"::1/128", "::1/128", 128},
    {"2001:db8::1/128", "2001:db8::1/128", 128},
    {"2001:db8::/126", "2001:db8::/126", 126},
    {"8000::/1", "8000::/1", 1},
    {"::ffff:192.0.2.0/120", "::ffff:192.0.2.0/120", 120},
};

static void test_prefix_parse_format(void **state)
{
	for (size_t i = 0; i < N(prefix_cases); i++) {
		core_prefix_t p, again;
		char buf[CORE_PREFIX_STRLEN];
		int rc = core_prefix_parse(prefix_cases[i].in, &p);
		if (rc != RDNS_OK)
			fail_msg("prefix parse %s: %s", prefix_cases[i].in, rdns_strerror(rc));
		assert_int_equal(p.len, prefix_cases[i].len);
		assert_int_equal(core_prefix_format(&p, buf, sizeof(buf)), RDNS_OK);
		if (strcmp(buf, prefix_cases[i].canon) != 0)
			fail_msg("prefix format %s: got %s, want %s", prefix_cases[i].in, buf,
			         prefix_cases[i].canon);
		assert_int_equal(core_prefix_parse(buf, &again), RDNS_OK);
		assert_int_equal(again.len, p.len);
		assert_true(core_addr_equal(&again.addr, &p.addr));
	}

	/* the longest prefix text fits CORE_PREFIX_STRLEN exactly-ish, and a
	 * one-short buffer is refused */
	core_prefix_t p = must_prefix("1111:2222:3333:4444:5555:6666:7777:8888/128");
	const char *want = "1111:2222:3333:4444:5555:6666:7777:8888/128";
	char buf[CORE_PREFIX_STRLEN];
	assert_true(strlen(want) + 1 <= CORE_PREFIX_STRLEN);
	assert_int_equal(core_prefix_format(&p, buf, strlen(want)), RDNS_ESPACE);
	assert_int_equal(core_prefix_format(&p, buf, strlen(want) + 1), RDNS_OK);
	assert_string_equal(buf, want);

	p.len = 129; /* out of range */
	assert_int_equal(core_prefix_format(&p, buf, sizeof(buf)), RDNS_EINVAL);
}

static const char *const invalid_prefixes[] = {
    "",
    "/24",
    "192.0.2.1/24", /* host bits set */
    "192.0.2.128/24",
    "10.1.0.0/8",
    "192.0.2.0/33",
    "192.0.2.0/",
    "192.0.2.0/+24",
    "192.0.2.0/-24",
    "192.0.2.0/ 24",
    "192.0.2.0 /24",
    " 192.0.2.0/24",
    "192.0.2.0/24 ",
    "192.0.2.0/024",
    "192.0.2.0/0024",
    "0.0.0.0/00",
    "192.0.2.0/1000",
    "192.0.2.0/4294967320", /* 2^32 + 24 must not wrap to 24 */
    "192.0.2.0/24/24",
    "192.0.2.0/2a",
    "192.0.2.0/0x18",
    "192.0.2.0\\24",
    "010.0.0.0/8",
    "2001:db8::/129",
    "2001:db8::/1000",
    "2001:db8::1/64",
    "2001:db8::/0x20",
    "2001:db8::/032",
    "::1/127",
    "[2001:db8::]/32",
    "2001:db8::%eth0/32",
    "garbage/8",
};

static void test_prefix_invalid(void **state)
{
	for (size_t i = 0; i < N(invalid_prefixes); i++) {
		core_prefix_t p;
		int rc = core_prefix_parse(invalid_prefixes[i], &p);
		if (rc != RDNS_EINVAL)
			fail_msg("prefix parse \"%s\": got %d, want RDNS_EINVAL", invalid_prefixes[i], rc);
	}
	core_prefix_t p;
	assert_int_equal(core_prefix_parse(NULL, &p), RDNS_EINVAL);
	assert_int_equal(core_prefix_parse("10.0.0.0/8", NULL), RDNS_EINVAL);
}

static void test_prefix_contains(void **state)
{
	static const struct {
		const char *prefix, *addr;
		bool in;
	} cases[] = {
	    {"192.0.2.0/24", "192.0.2.0", true},
	    {"192.0.2.0/24", "192.0.2.255", true},
	    {"192.0.2.0/24", "192.0.3.0", false},
	    {"192.0.2.0/24", "192.0.1.255", false},
	    {"192.0.2.0/25", "192.0.2.127", true},
	    {"192.0.2.0/25", "192.0.2.128", false},
	    {"192.0.2.128/25", "192.0.2.128", true},
	    {"10.0.0.0/15", "10.1.255.255", true},
	    {"10.0.0.0/15", "10.2.0.0", false},
	    {"192.0.2.10/32", "192.0.2.10", true},
	    {"192.0.2.10/32", "192.0.2.11", false},
	    {"0.0.0.0/0", "255.255.255.255", true},
	    {"0.0.0.0/0", "::1", false},           /* families differ */
	    {"::/0", "192.0.2.1", false},          /* families differ */
	    {"::ffff:0:0/96", "192.0.2.1", false}, /* mapped is not IPv4 */
	    {"::ffff:0:0/96", "::ffff:192.0.2.1", true},
	    {"::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
	    {"2001:db8::/32", "2001:db8:ffff:ffff::1", true},
	    {"2001:db8::/32", "2001:db9::", false},
	    {"2001:db8::/33", "2001:db8:7fff::1", true},
	    {"2001:db8::/33", "2001:db8:8000::", false},
	    {"2001:db8::/124", "2001:db8::f", true},
	    {"2001:db8::/124", "2001:db8::10", false},
	    {"2001:db8::1/128", "2001:db8::1", true},
	    {"2001:db8::1/128", "2001:db8::", false},
	};
	for (size_t i = 0; i < N(cases); i++) {
		core_prefix_t p = must_prefix(cases[i].prefix);
		core_addr_t a = must_addr(cases[i].addr);
		if (core_prefix_contains(&p, &a) != cases[i].in)
			fail_msg("contains(%s, %s) != %d", cases[i].prefix, cases[i].addr, cases[i].in);
	}
	core_addr_t a = must_addr("192.0.2.1");
	assert_false(core_prefix_contains(NULL, &a));
}

static void test_prefix_contains_prefix(void **state)
{
	static const struct {
		const char *outer, *inner;
		bool in;
	} cases[] = {
	    {"10.0.0.0/8", "10.1.0.0/16", true},
	    {"10.0.0.0/8", "10.0.0.0/8", true},
	    {"10.0.0.0/8", "10.255.255.255/32", true},
	    {"10.0.0.0/16", "10.0.0.0/8", false}, /* inner is larger */
	    {"10.0.0.0/8", "11.0.0.0/16", false},
	    {"192.0.2.0/25", "192.0.2.128/26", false},
	    {"192.0.2.0/25", "192.0.2.64/26", true},
	    {"0.0.0.0/0", "192.0.2.0/24", true},
	    {"0.0.0.0/0", "::/0", false}, /* families differ */
	    {"::/0", "0.0.0.0/0", false},
	    {"::/0", "2001:db8::/32", true},
	    {"2001:db8::/32", "2001:db8:1::/48", true},
	    {"2001:db8::/48", "2001:db8:1::/64", false},
	    {"2001:db8::/32", "2001:db8::/31", false},
	    {"2001:db8::/124", "2001:db8::8/125", true},
	    {"2001:db8::/125", "2001:db8::8/125", false},
	};
	for (size_t i = 0; i < N(cases); i++) {
		core_prefix_t o = must_prefix(cases[i].outer), in = must_prefix(cases[i].inner);
		if (core_prefix_contains_prefix(&o, &in) != cases[i].in)
			fail_msg("contains_prefix(%s, %s) != %d", cases[i].outer, cases[i].inner,
			         cases[i].in);
	}
}

static void test_addr_host_bits(void **state)
{
	static const struct {
		const char *addr;
		unsigned len;
		const char *first, *last;
	} cases[] = {
	    {"192.0.2.77", 24, "192.0.2.0", "192.0.2.255"},
	    {"192.0.2.77", 26, "192.0.2.64", "192.0.2.127"},
	    {"192.0.2.77", 32, "192.0.2.77", "192.0.2.77"},
	    {"192.0.2.77", 40, "192.0.2.77", "192.0.2.77"}, /* beyond the family: unchanged */
	    {"192.0.2.77", 0, "0.0.0.0", "255.255.255.255"},
	    {"10.200.3.4", 9, "10.128.0.0", "10.255.255.255"},
	    {"2001:db8:1:2::5", 48, "2001:db8:1::", "2001:db8:1:ffff:ffff:ffff:ffff:ffff"},
	    {"2001:db8::", 124, "2001:db8::", "2001:db8::f"},
	    {"2001:db8::1", 128, "2001:db8::1", "2001:db8::1"},
	};
	for (size_t i = 0; i < N(cases); i++) {
		core_addr_t first = must_addr(cases[i].addr), last = first;
		core_addr_host_bits(&first, cases[i].len, false);
		core_addr_host_bits(&last, cases[i].len, true);
		core_addr_t want_first = must_addr(cases[i].first), want_last = must_addr(cases[i].last);
		if (!core_addr_equal(&first, &want_first) || !core_addr_equal(&last, &want_last))
			fail_msg("host_bits(%s, %u) is not %s .. %s", cases[i].addr, cases[i].len,
			         cases[i].first, cases[i].last);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_addr_bits),           cmocka_unit_test(test_parse_canonical),
	    cmocka_unit_test(test_parse_bytes),         cmocka_unit_test(test_parse_invalid),
	    cmocka_unit_test(test_format_space),        cmocka_unit_test(test_addr_equal),
	    cmocka_unit_test(test_prefix_parse_format), cmocka_unit_test(test_prefix_invalid),
	    cmocka_unit_test(test_prefix_contains),     cmocka_unit_test(test_prefix_contains_prefix),
	    cmocka_unit_test(test_addr_host_bits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
