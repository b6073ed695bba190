/* test_revname.c - unit tests for core/revname: reverse names, zone cuts, zone cover, relative names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/addr.h"
#include "core/err.h"
#include "core/revname.h"

#define N(t) (sizeof(t) / sizeof((t)[0]))

#define V6_DB8_ZONE "8.b.d.0.1.0.0.2.ip6.arpa."

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

static bool prefix_equal(const core_prefix_t *a, const core_prefix_t *b)
{
	return a->len == b->len && core_addr_equal(&a->addr, &b->addr);
}

static const struct {
	const char *addr;
	const char *name;
} from_addr_cases[] = {
    {"192.0.2.10", "10.2.0.192.in-addr.arpa."},
    {"0.0.0.0", "0.0.0.0.in-addr.arpa."},
    {"255.255.255.255", "255.255.255.255.in-addr.arpa."},
    {"10.0.100.9", "9.100.0.10.in-addr.arpa."},
    {"2001:db8::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."},
    {"2001:DB8::ABCD", "d.c.b.a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."},
    {"::", "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa."},
    {"::ffff:192.0.2.1", "1.0.2.0.0.0.0.c.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa."},
    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
     "f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.ip6.arpa."},
};

static void test_from_addr(void **state)
{
	for (size_t i = 0; i < N(from_addr_cases); i++) {
		core_addr_t a = must_addr(from_addr_cases[i].addr);
		char buf[CORE_REVNAME_MAX];
		assert_int_equal(core_revname_from_addr(&a, buf, sizeof(buf)), RDNS_OK);
		if (strcmp(buf, from_addr_cases[i].name) != 0)
			fail_msg("revname %s: got %s, want %s", from_addr_cases[i].addr, buf,
			         from_addr_cases[i].name);

		/* exactly the needed size works, one less is refused */
		size_t need = strlen(from_addr_cases[i].name) + 1;
		assert_true(need <= CORE_REVNAME_MAX);
		assert_int_equal(core_revname_from_addr(&a, buf, need), RDNS_OK);
		assert_int_equal(core_revname_from_addr(&a, buf, need - 1), RDNS_ESPACE);
		assert_string_equal(buf, "");
	}

	/* an IPv6 name has 32 one-nibble labels before ip6.arpa */
	core_addr_t a = must_addr("2001:db8:1234:5678:9abc:def0:1357:2468");
	char buf[CORE_REVNAME_MAX];
	assert_int_equal(core_revname_from_addr(&a, buf, sizeof(buf)), RDNS_OK);
	int labels = 0;
	for (const char *p = buf; *p != '\0'; p++)
		labels += *p == '.';
	assert_int_equal(labels, 32 + 2);
	assert_int_equal(strlen(buf), 64 + strlen("ip6.arpa."));

	a.family = 0;
	assert_int_equal(core_revname_from_addr(&a, buf, sizeof(buf)), RDNS_EINVAL);
}

static void test_is_cut(void **state)
{
	static const struct {
		const char *prefix;
		int cut;
	} cases[] = {
	    {"0.0.0.0/0", 0},      {"10.0.0.0/8", 1},      {"10.0.0.0/7", 0},    {"172.16.0.0/12", 0},
	    {"10.1.0.0/16", 1},    {"192.0.2.0/24", 1},    {"192.0.2.0/25", 0},  {"192.0.2.1/32", 0},
	    {"::/0", 0},           {"2000::/4", 1},        {"2001:db8::/32", 1}, {"2001:db8::/30", 0},
	    {"2001:db8::/48", 1},  {"2001:db8::/50", 0},   {"2001:db8::/52", 1}, {"2001:db8::/124", 1},
	    {"2001:db8::/126", 0}, {"2001:db8::1/128", 0}, {"::ffff:0:0/96", 1},
	};
	for (size_t i = 0; i < N(cases); i++) {
		core_prefix_t p = must_prefix(cases[i].prefix);
		if (core_revname_is_cut(&p) != cases[i].cut)
			fail_msg("is_cut(%s) != %d", cases[i].prefix, cases[i].cut);
	}

	/* every length, both families */
	core_prefix_t p = must_prefix("0.0.0.0/0");
	for (unsigned len = 0; len <= 32; len++) {
		p.len = len;
		assert_int_equal(core_revname_is_cut(&p), len == 8 || len == 16 || len == 24);
	}
	p = must_prefix("::/0");
	for (unsigned len = 0; len <= 128; len++) {
		p.len = len;
		assert_int_equal(core_revname_is_cut(&p), len % 4 == 0 && len >= 4 && len <= 124);
	}

	/* malformed prefixes are never cuts */
	p = must_prefix("192.0.2.0/24");
	p.addr.b[3] = 1; /* host bit set */
	assert_int_equal(core_revname_is_cut(&p), 0);
	p = must_prefix("192.0.2.0/24");
	p.addr.family = 0;
	assert_int_equal(core_revname_is_cut(&p), 0);
	assert_int_equal(core_revname_is_cut(NULL), 0);
}

static const struct {
	const char *prefix;
	const char *zone;
} zone_cases[] = {
    {"10.0.0.0/8", "10.in-addr.arpa."},
    {"10.1.0.0/16", "1.10.in-addr.arpa."},
    {"192.0.2.0/24", "2.0.192.in-addr.arpa."},
    {"0.0.0.0/24", "0.0.0.in-addr.arpa."},
    {"255.255.255.0/24", "255.255.255.in-addr.arpa."},
    {"2000::/4", "2.ip6.arpa."},
    {"2001:db8::/32", V6_DB8_ZONE},
    {"2001:db8::/48", "0.0.0.0." V6_DB8_ZONE},
    {"2001:db8:0:3000::/52", "3.0.0.0.0." V6_DB8_ZONE},
    {"2001:db8:abcd:ef00::/56", "f.e.d.c.b.a." V6_DB8_ZONE},
    {"2001:db8::/124", "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0." V6_DB8_ZONE},
    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0/124",
     "f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.ip6.arpa."},
};

static void test_zone(void **state)
{
	for (size_t i = 0; i < N(zone_cases); i++) {
		core_prefix_t p = must_prefix(zone_cases[i].prefix), back;
		char buf[CORE_REVNAME_MAX];
		assert_int_equal(core_revname_zone(&p, buf, sizeof(buf)), RDNS_OK);
		if (strcmp(buf, zone_cases[i].zone) != 0)
			fail_msg("zone %s: got %s, want %s", zone_cases[i].prefix, buf, zone_cases[i].zone);

		size_t need = strlen(buf) + 1;
		assert_int_equal(core_revname_zone(&p, buf, need - 1), RDNS_ESPACE);
		assert_int_equal(core_revname_zone(&p, buf, need), RDNS_OK);

		/* round trip: with and without the trailing dot */
		memset(&back, 0, sizeof(back));
		assert_int_equal(core_revname_zone_parse(zone_cases[i].zone, &back), RDNS_OK);
		if (!prefix_equal(&back, &p))
			fail_msg("zone_parse %s does not give back %s", zone_cases[i].zone,
			         zone_cases[i].prefix);
		char nodot[CORE_REVNAME_MAX];
		snprintf(nodot, sizeof(nodot), "%.*s", (int)(strlen(zone_cases[i].zone) - 1),
		         zone_cases[i].zone);
		memset(&back, 0, sizeof(back));
		assert_int_equal(core_revname_zone_parse(nodot, &back), RDNS_OK);
		assert_true(prefix_equal(&back, &p));
	}

	static const char *const not_cuts[] = {
	    "0.0.0.0/0", "192.0.2.0/25",  "192.0.2.1/32",    "10.0.0.0/15",
	    "::/0",      "2001:db8::/50", "2001:db8::1/128",
	};
	for (size_t i = 0; i < N(not_cuts); i++) {
		core_prefix_t p = must_prefix(not_cuts[i]);
		char buf[CORE_REVNAME_MAX] = "junk";
		if (core_revname_zone(&p, buf, sizeof(buf)) != RDNS_EINVAL)
			fail_msg("zone(%s) should be RDNS_EINVAL", not_cuts[i]);
		assert_string_equal(buf, "");
	}
}

static void test_zone_parse_case(void **state)
{
	static const struct {
		const char *name;
		const char *prefix;
	} cases[] = {
	    {"2.0.192.IN-ADDR.ARPA", "192.0.2.0/24"},       {"2.0.192.In-Addr.Arpa.", "192.0.2.0/24"},
	    {"8.B.D.0.1.0.0.2.IP6.ARPA.", "2001:db8::/32"}, {"F.ip6.arpa", "f000::/4"},
	    {"0.10.in-addr.arpa", "10.0.0.0/16"},           {"0.in-addr.arpa", "0.0.0.0/8"},
	};
	for (size_t i = 0; i < N(cases); i++) {
		core_prefix_t got, want = must_prefix(cases[i].prefix);
		int rc = core_revname_zone_parse(cases[i].name, &got);
		if (rc != RDNS_OK)
			fail_msg("zone_parse %s: %s", cases[i].name, rdns_strerror(rc));
		if (!prefix_equal(&got, &want))
			fail_msg("zone_parse %s != %s", cases[i].name, cases[i].prefix);
	}
}

static const char *const bad_zone_names[] = {
    "",
    ".",
    "..",
    "in-addr.arpa",
    "in-addr.arpa.",
    ".in-addr.arpa",
    "ip6.arpa",
    "ip6.arpa.",
    "arpa.",
    "example.com.",
    "256.2.0.192.in-addr.arpa", /* octet out of range, and /32 */
    "256.0.192.in-addr.arpa",
    "10.2.0.192.in-addr.arpa", /* /32 is not a cut */
    "1.10.2.0.192.in-addr.arpa",
    "02.0.192.in-addr.arpa", /* leading zero */
    "2.00.192.in-addr.arpa",
    "2..192.in-addr.arpa",
    ".2.0.192.in-addr.arpa",
    "2.0.192.in-addr.arpa..",
    "2.0.192..in-addr.arpa",
    "2.0.192.in-addr.arpa.example.",
    "2.0.192.inaddr.arpa",
    "2.0.192in-addr.arpa",
    "x.0.192.in-addr.arpa",
    "-1.in-addr.arpa",
    "+1.in-addr.arpa",
    "1000.in-addr.arpa",
    " 2.0.192.in-addr.arpa",
    "2.0.192.in-addr.arpa ",
    "2 .0.192.in-addr.arpa",
    "0-63.2.0.192.in-addr.arpa", /* RFC 2317 child: not a cut */
    "10.ip6.arpa",               /* labels are single nibbles */
    "8.b.d.0.1.0.0.20.ip6.arpa",
    "g.ip6.arpa",
    "8.b.d..0.1.0.0.2.ip6.arpa",
    "8.b.d.0.1.0.0.2.ip6.arpa..",
    "8.b.d.0.1.0.0.2.ip6arpa",
    "0x8.ip6.arpa",
    /* 32 nibbles: /128 is not a cut */
    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.",
    /* 33 nibbles */
    "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.",
    "2.0.192.ip6.arpa",
};

static void test_zone_parse_invalid(void **state)
{
	for (size_t i = 0; i < N(bad_zone_names); i++) {
		core_prefix_t p;
		memset(&p, 0x5a, sizeof(p));
		core_prefix_t before = p;
		int rc = core_revname_zone_parse(bad_zone_names[i], &p);
		if (rc != RDNS_EINVAL)
			fail_msg("zone_parse \"%s\": got %d, want RDNS_EINVAL", bad_zone_names[i], rc);
		assert_memory_equal(&p, &before, sizeof(p));
	}
	core_prefix_t p;
	assert_int_equal(core_revname_zone_parse(NULL, &p), RDNS_EINVAL);
	assert_int_equal(core_revname_zone_parse("10.in-addr.arpa", NULL), RDNS_EINVAL);

	char longname[1024];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(core_revname_zone_parse(longname, &p), RDNS_EINVAL);
}

/* Every cut prefix of every length round-trips through its zone name. */
static void test_zone_round_trip_all_cuts(void **state)
{
	static const char *const bases[] = {"198.51.100.0/24", "2001:db8:1234:5678:9abc:def0:1357:2460/124"};
	for (size_t b = 0; b < N(bases); b++) {
		core_prefix_t base = must_prefix(bases[b]);
		unsigned step = base.addr.family == CORE_AF_INET ? 8 : 4;
		unsigned bits = core_addr_bits(base.addr.family);
		for (unsigned len = step; len < bits; len += step) {
			char prefix_text[CORE_PREFIX_STRLEN], zone[CORE_REVNAME_MAX], upper[CORE_REVNAME_MAX];
			core_prefix_t p, back;
			/* truncate the base to len by reparsing its masked text */
			p = base;
			for (unsigned bit = len; bit < bits; bit++)
				p.addr.b[bit / 8] &= (uint8_t) ~(0x80 >> (bit % 8));
			p.len = len;
			assert_int_equal(core_prefix_format(&p, prefix_text, sizeof(prefix_text)), RDNS_OK);
			assert_int_equal(core_revname_zone(&p, zone, sizeof(zone)), RDNS_OK);
			for (size_t i = 0; i <= strlen(zone); i++)
				upper[i] = (char)(zone[i] >= 'a' && zone[i] <= 'z' ? zone[i] - 32 : zone[i]);
			assert_int_equal(core_revname_zone_parse(upper, &back), RDNS_OK);
			if (!prefix_equal(&back, &p))
				fail_msg("round trip %s via %s failed", prefix_text, upper);
		}
	}
}

/* cover: prefix -> the zone names, in order */
static const struct {
	const char *prefix;
	int count;
	const char *zones[5]; /* the first few, NULL-terminated when fewer */
	const char *last;     /* the last zone */
} cover_cases[] = {
    {"192.0.2.0/24", 1, {"2.0.192.in-addr.arpa."}, "2.0.192.in-addr.arpa."},
    {"192.0.2.0/25", 1, {"2.0.192.in-addr.arpa."}, "2.0.192.in-addr.arpa."},
    {"192.0.2.192/26", 1, {"2.0.192.in-addr.arpa."}, "2.0.192.in-addr.arpa."},
    {"192.0.2.10/32", 1, {"2.0.192.in-addr.arpa."}, "2.0.192.in-addr.arpa."},
    {"10.0.0.0/15", 2, {"0.10.in-addr.arpa.", "1.10.in-addr.arpa.", NULL}, "1.10.in-addr.arpa."},
    {"10.0.0.0/16", 1, {"0.10.in-addr.arpa."}, "0.10.in-addr.arpa."},
    {"10.0.0.0/8", 1, {"10.in-addr.arpa."}, "10.in-addr.arpa."},
    {"192.0.16.0/20",
     16,
     {"16.0.192.in-addr.arpa.", "17.0.192.in-addr.arpa.", "18.0.192.in-addr.arpa."},
     "31.0.192.in-addr.arpa."},
    {"192.0.2.0/23", 2, {"2.0.192.in-addr.arpa.", "3.0.192.in-addr.arpa.", NULL}, "3.0.192.in-addr.arpa."},
    {"172.16.0.0/12", 16, {"16.172.in-addr.arpa.", "17.172.in-addr.arpa."}, "31.172.in-addr.arpa."},
    {"4.0.0.0/6",
     4,
     {"4.in-addr.arpa.", "5.in-addr.arpa.", "6.in-addr.arpa.", "7.in-addr.arpa.", NULL},
     "7.in-addr.arpa."},
    {"128.0.0.0/1", 128, {"128.in-addr.arpa.", "129.in-addr.arpa."}, "255.in-addr.arpa."},
    {"0.0.0.0/0", 256, {"0.in-addr.arpa.", "1.in-addr.arpa."}, "255.in-addr.arpa."},
    {"2001:db8::/32", 1, {V6_DB8_ZONE}, V6_DB8_ZONE},
    {"2001:db8::/30",
     4,
     {V6_DB8_ZONE, "9.b.d.0.1.0.0.2.ip6.arpa.", "a.b.d.0.1.0.0.2.ip6.arpa.", "b.b.d.0.1.0.0.2.ip6.arpa.",
      NULL},
     "b.b.d.0.1.0.0.2.ip6.arpa."},
    {"2001:db8::/50",
     4,
     {"0.0.0.0.0." V6_DB8_ZONE, "1.0.0.0.0." V6_DB8_ZONE, "2.0.0.0.0." V6_DB8_ZONE, "3.0.0.0.0." V6_DB8_ZONE,
      NULL},
     "3.0.0.0.0." V6_DB8_ZONE},
    {"2001:db8::/33", 8, {"0." V6_DB8_ZONE, "1." V6_DB8_ZONE}, "7." V6_DB8_ZONE},
    {"2001:db8:8000::/33", 8, {"8." V6_DB8_ZONE, "9." V6_DB8_ZONE}, "f." V6_DB8_ZONE},
    {"2001:db8::/126",
     1,
     {"0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0." V6_DB8_ZONE},
     "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0." V6_DB8_ZONE},
    {"2001:db8::1f/128",
     1,
     {"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0." V6_DB8_ZONE},
     "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0." V6_DB8_ZONE},
    {"::/0", 16, {"0.ip6.arpa.", "1.ip6.arpa."}, "f.ip6.arpa."},
    {"8000::/1", 8, {"8.ip6.arpa.", "9.ip6.arpa."}, "f.ip6.arpa."},
};

static void test_cover(void **state)
{
	for (size_t i = 0; i < N(cover_cases); i++) {
		core_prefix_t p = must_prefix(cover_cases[i].prefix), out[256];
		char name[CORE_REVNAME_MAX];
		int n = core_revname_cover(&p, out, N(out));
		if (n != cover_cases[i].count)
			fail_msg("cover %s: %d zones, want %d", cover_cases[i].prefix, n,
			         cover_cases[i].count);
		for (int k = 0; k < 5 && k < n && cover_cases[i].zones[k] != NULL; k++) {
			assert_int_equal(core_revname_zone(&out[k], name, sizeof(name)), RDNS_OK);
			if (strcmp(name, cover_cases[i].zones[k]) != 0)
				fail_msg("cover %s zone %d: got %s, want %s", cover_cases[i].prefix, k, name,
				         cover_cases[i].zones[k]);
		}
		assert_int_equal(core_revname_zone(&out[n - 1], name, sizeof(name)), RDNS_OK);
		if (strcmp(name, cover_cases[i].last) != 0)
			fail_msg("cover %s last zone: got %s, want %s", cover_cases[i].prefix, name,
			         cover_cases[i].last);
	}
}

/* Properties over every length of both families: each zone is a cut, the
 * zones are distinct and ascending, and they cover exactly the prefix (or,
 * past the longest cut, are the one enclosing zone). */
static void test_cover_properties(void **state)
{
	static const char *const bases[] = {"203.0.113.77", "2001:db8:1234:5678:9abc:def0:1357:2468"};
	for (size_t b = 0; b < N(bases); b++) {
		core_addr_t base = must_addr(bases[b]);
		unsigned bits = core_addr_bits(base.family);
		unsigned longest = base.family == CORE_AF_INET ? 24 : 124;
		for (unsigned len = 0; len <= bits; len++) {
			core_prefix_t p = {.addr = base, .len = len}, out[256];
			for (unsigned bit = len; bit < bits; bit++)
				p.addr.b[bit / 8] &= (uint8_t) ~(0x80 >> (bit % 8));
			int n = core_revname_cover(&p, out, N(out));
			assert_true(n >= 1);
			assert_true((size_t)n <= N(out));
			unsigned zlen = out[0].len;
			for (int k = 0; k < n; k++) {
				assert_int_equal(core_revname_is_cut(&out[k]), 1);
				assert_int_equal(out[k].len, zlen);
				if (len <= longest)
					assert_true(core_prefix_contains_prefix(&p, &out[k]));
				else
					assert_true(core_prefix_contains_prefix(&out[k], &p));
				if (k > 0)
					assert_true(memcmp(out[k - 1].addr.b, out[k].addr.b, 16) < 0);
			}
			if (len <= longest) {
				/* n zones of 2^(bits - zlen) addresses make 2^(bits - len) */
				assert_int_equal(zlen - len, __builtin_ctz((unsigned)n));
				assert_int_equal(1u << (zlen - len), (unsigned)n);
				assert_true(zlen - len < (base.family == CORE_AF_INET ? 9u : 5u));
			} else {
				assert_int_equal(n, 1);
				assert_int_equal(zlen, longest);
			}
		}
	}
}

static void test_cover_small_out(void **state)
{
	core_prefix_t p = must_prefix("10.0.0.0/15"), out[3], sentinel;
	char name[CORE_REVNAME_MAX];

	memset(&sentinel, 0x77, sizeof(sentinel));
	out[1] = sentinel;
	assert_int_equal(core_revname_cover(&p, out, 1), 2); /* > max: out too small */
	assert_int_equal(core_revname_zone(&out[0], name, sizeof(name)), RDNS_OK);
	assert_string_equal(name, "0.10.in-addr.arpa.");
	assert_memory_equal(&out[1], &sentinel, sizeof(sentinel)); /* nothing past max */

	assert_int_equal(core_revname_cover(&p, NULL, 0), 2); /* counting only */
	p = must_prefix("0.0.0.0/0");
	assert_int_equal(core_revname_cover(&p, out, 3), 256);
	assert_int_equal(core_revname_zone(&out[2], name, sizeof(name)), RDNS_OK);
	assert_string_equal(name, "2.in-addr.arpa.");
	p = must_prefix("192.0.2.0/25");
	assert_int_equal(core_revname_cover(&p, NULL, 0), 1);

	/* invalid prefixes */
	p = must_prefix("192.0.2.0/24");
	p.addr.b[3] = 5; /* host bits set */
	assert_int_equal(core_revname_cover(&p, out, 3), RDNS_EINVAL);
	p = must_prefix("192.0.2.0/24");
	p.len = 33;
	assert_int_equal(core_revname_cover(&p, out, 3), RDNS_EINVAL);
	p.addr.family = 0;
	assert_int_equal(core_revname_cover(&p, out, 3), RDNS_EINVAL);
	p = must_prefix("192.0.2.0/24");
	assert_int_equal(core_revname_cover(&p, NULL, 3), RDNS_EINVAL);
	assert_int_equal(core_revname_cover(NULL, out, 3), RDNS_EINVAL);
}

static const struct {
	const char *addr;
	const char *zone;
	int rc;
	const char *rel;
} relative_cases[] = {
    {"192.0.2.10", "192.0.2.0/24", RDNS_OK, "10"},
    {"192.0.2.0", "192.0.2.0/24", RDNS_OK, "0"},
    {"192.0.2.255", "192.0.2.0/24", RDNS_OK, "255"},
    {"192.0.2.10", "192.0.0.0/16", RDNS_OK, "10.2"},
    {"10.1.2.3", "10.0.0.0/8", RDNS_OK, "3.2.1"},
    {"2001:db8::1", "2001:db8::/124", RDNS_OK, "1"},
    {"2001:db8::1", "2001:db8::/120", RDNS_OK, "1.0"},
    {"2001:db8::1", "2001:db8::/32", RDNS_OK, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"},
    {"2001:db8::abcd", "2001:db8::/64", RDNS_OK, "d.c.b.a.0.0.0.0.0.0.0.0.0.0.0.0"},
    {"ffff::1", "f000::/4", RDNS_OK, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.f.f.f"},
    {"192.0.3.10", "192.0.2.0/24", RDNS_EINVAL, ""},        /* outside */
    {"2001:db9::1", "2001:db8::/32", RDNS_EINVAL, ""},      /* outside */
    {"::ffff:192.0.2.10", "192.0.2.0/24", RDNS_EINVAL, ""}, /* other family */
    {"192.0.2.10", "::/0", RDNS_EINVAL, ""},
    {"192.0.2.10", "192.0.2.0/25", RDNS_EINVAL, ""}, /* zone not on a cut */
    {"192.0.2.10", "192.0.2.10/32", RDNS_EINVAL, ""},
    {"2001:db8::1", "2001:db8::/126", RDNS_EINVAL, ""},
};

static void test_relative(void **state)
{
	for (size_t i = 0; i < N(relative_cases); i++) {
		core_addr_t a = must_addr(relative_cases[i].addr);
		core_prefix_t z = must_prefix(relative_cases[i].zone);
		char buf[CORE_REVNAME_MAX] = "junk";
		int rc = core_revname_relative(&a, &z, buf, sizeof(buf));
		if (rc != relative_cases[i].rc || strcmp(buf, relative_cases[i].rel) != 0)
			fail_msg("relative(%s, %s): %d \"%s\", want %d \"%s\"", relative_cases[i].addr,
			         relative_cases[i].zone, rc, buf, relative_cases[i].rc,
			         relative_cases[i].rel);
		if (rc != RDNS_OK)
			continue;

		/* relative + "." + zone is the full owner name */
		char zone[CORE_REVNAME_MAX], full[CORE_REVNAME_MAX], joined[2 * CORE_REVNAME_MAX];
		assert_int_equal(core_revname_zone(&z, zone, sizeof(zone)), RDNS_OK);
		assert_int_equal(core_revname_from_addr(&a, full, sizeof(full)), RDNS_OK);
		snprintf(joined, sizeof(joined), "%s.%s", buf, zone);
		assert_string_equal(joined, full);

		size_t need = strlen(buf) + 1;
		assert_int_equal(core_revname_relative(&a, &z, buf, need - 1), RDNS_ESPACE);
		assert_int_equal(core_revname_relative(&a, &z, buf, need), RDNS_OK);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_from_addr),
	    cmocka_unit_test(test_is_cut),
	    cmocka_unit_test(test_zone),
	    cmocka_unit_test(test_zone_parse_case),
	    cmocka_unit_test(test_zone_parse_invalid),
	    cmocka_unit_test(test_zone_round_trip_all_cuts),
	    cmocka_unit_test(test_cover),
	    cmocka_unit_test(test_cover_small_out),
	    cmocka_unit_test(test_cover_properties),
	    cmocka_unit_test(test_relative),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
