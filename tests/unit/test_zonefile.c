/* test_zonefile.c - unit tests for core/zonefile.c: zone text, templates, the streaming writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/zonefile.h"

/* An in-memory FILE whose text is read back with mem_text(). */
typedef struct {
	FILE *f;
	char *buf;
	size_t len;
} mem_t;

static void mem_open(mem_t *m)
{
	m->buf = NULL;
	m->len = 0;
	m->f = open_memstream(&m->buf, &m->len);
	assert_non_null(m->f);
}

static const char *mem_text(mem_t *m)
{
	assert_int_equal(fflush(m->f), 0);
	return m->buf;
}

static void mem_close(mem_t *m)
{
	fclose(m->f);
	free(m->buf);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Line i (0-based) of s, without its newline, into out. */
static const char *line_at(const char *s, size_t i, char *out, size_t outlen)
{
	for (; i > 0 && *s; s++)
		if (*s == '\n')
			i--;
	size_t k = 0;
	while (s[k] && s[k] != '\n' && k + 1 < outlen) {
		out[k] = s[k];
		k++;
	}
	out[k] = '\0';
	return out;
}

static core_addr_t v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	core_addr_t x = {.family = CORE_AF_INET, .b = {a, b, c, d}};
	return x;
}

static core_prefix_t v4p(uint8_t a, uint8_t b, uint8_t c, uint8_t d, unsigned len)
{
	core_prefix_t p = {.addr = v4(a, b, c, d), .len = len};
	return p;
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

static const char *const ns2[] = {"ns1.example.net", "ns2.example.net."};

static core_zone_head_t head_24(void)
{
	core_zone_head_t h = {
	    .zone = "2.0.192.in-addr.arpa",
	    .serial = 2026112601,
	    .mname = "ns1.example.net.",
	    .rname = "hostmaster.example.net",
	    .refresh = 3600,
	    .retry = 900,
	    .expire = 1209600,
	    .minimum = 3600,
	    .ttl = 3600,
	    .ns = ns2,
	    .n_ns = 2,
	};
	return h;
}

/* ---- head and single lines ---- */

static void test_head(void **state)
{
	(void)state;
	mem_t m;
	mem_open(&m);
	core_zone_head_t h = head_24();
	assert_int_equal(core_zonefile_head(m.f, &h), RDNS_OK);
	assert_string_equal(mem_text(&m), "; rdns zone 2.0.192.in-addr.arpa. serial 2026112601\n"
	                                  "2.0.192.in-addr.arpa. 3600 IN SOA ns1.example.net. "
	                                  "hostmaster.example.net. 2026112601 3600 900 1209600 3600\n"
	                                  "2.0.192.in-addr.arpa. 3600 IN NS ns1.example.net.\n"
	                                  "2.0.192.in-addr.arpa. 3600 IN NS ns2.example.net.\n");
	mem_close(&m);

	/* extremes of the numbers, zone given with its dot */
	mem_open(&m);
	h.zone = "2.0.192.in-addr.arpa.";
	h.serial = 4294967295u;
	h.ttl = 0;
	h.refresh = 1;
	h.retry = 10;
	h.expire = 100;
	h.minimum = 0;
	h.n_ns = 1;
	assert_int_equal(core_zonefile_head(m.f, &h), RDNS_OK);
	assert_string_equal(mem_text(&m), "; rdns zone 2.0.192.in-addr.arpa. serial 4294967295\n"
	                                  "2.0.192.in-addr.arpa. 0 IN SOA ns1.example.net. "
	                                  "hostmaster.example.net. 4294967295 1 10 100 0\n"
	                                  "2.0.192.in-addr.arpa. 0 IN NS ns1.example.net.\n");
	mem_close(&m);
}

static void test_head_errors(void **state)
{
	(void)state;
	mem_t m;
	mem_open(&m);
	core_zone_head_t h = head_24();
	const char *const bad_ns[] = {"ns1.example.net", "ns2 .example.net"};

	assert_int_equal(core_zonefile_head(NULL, &h), RDNS_EINVAL);
	assert_int_equal(core_zonefile_head(m.f, NULL), RDNS_EINVAL);
	h.n_ns = 0;
	assert_int_equal(core_zonefile_head(m.f, &h), RDNS_EINVAL);
	h = head_24();
	h.ns = bad_ns;
	assert_int_equal(core_zonefile_head(m.f, &h), RDNS_EINVAL);
	h = head_24();
	h.rname = "hostmaster@example.net";
	assert_int_equal(core_zonefile_head(m.f, &h), RDNS_EINVAL);
	h = head_24();
	h.zone = "2.0.192.in-addr.arpa..";
	assert_int_equal(core_zonefile_head(m.f, &h), RDNS_EINVAL);
	h = head_24();
	h.mname = "ns1.example.net.\n2.0.192.in-addr.arpa. 0 IN A 1.2.3.4";
	assert_int_equal(core_zonefile_head(m.f, &h), RDNS_EINVAL);
	h = head_24();
	h.mname = NULL;
	assert_int_equal(core_zonefile_head(m.f, &h), RDNS_EINVAL);
	/* nothing at all was written by the failed calls */
	assert_string_equal(mem_text(&m), "");
	mem_close(&m);
}

static const struct {
	const char *owner, *target;
	uint32_t ttl;
	int rc;
	const char *line;
} ptr_cases[] = {
    {"10.2.0.192.in-addr.arpa.", "mail.example.com", 3600, RDNS_OK,
     "10.2.0.192.in-addr.arpa. 3600 IN PTR mail.example.com.\n"},
    {"10.2.0.192.in-addr.arpa", "mail.example.com.", 0, RDNS_OK,
     "10.2.0.192.in-addr.arpa. 0 IN PTR mail.example.com.\n"},
    {"10.0/25.2.0.192.in-addr.arpa", "Mail.Example.com", 4294967295u, RDNS_OK,
     "10.0/25.2.0.192.in-addr.arpa. 4294967295 IN PTR Mail.Example.com.\n"},
    {"10.2.0.192.in-addr.arpa.", "mail.example.com..", 1, RDNS_EINVAL, NULL},
    {"10.2.0.192.in-addr.arpa.", "", 1, RDNS_EINVAL, NULL},
    {"10.2.0.192.in-addr.arpa.", ".", 1, RDNS_EINVAL, NULL},
    {"10.2.0.192.in-addr.arpa.", ".mail.example.com", 1, RDNS_EINVAL, NULL},
    {"10.2.0.192.in-addr.arpa.", "mail example.com", 1, RDNS_EINVAL, NULL},
    {"10.2.0.192.in-addr.arpa.", "mail.example.com\n", 1, RDNS_EINVAL, NULL},
    {"10.2.0.192.in-addr.arpa.", "mail;.example.com", 1, RDNS_EINVAL, NULL},
    {"10.2.0.192.in-addr.arpa.", "@", 1, RDNS_EINVAL, NULL},
    {"10.2.0.192.in-addr.arpa.", "b\xc3\xbc.example.com", 1, RDNS_EINVAL, NULL},
    {"", "mail.example.com", 1, RDNS_EINVAL, NULL},
    {NULL, "mail.example.com", 1, RDNS_EINVAL, NULL},
    {"10.2.0.192.in-addr.arpa.", NULL, 1, RDNS_EINVAL, NULL},
};

static void test_ptr_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ptr_cases) / sizeof(ptr_cases[0]); i++) {
		mem_t m;
		mem_open(&m);
		int rc = core_zonefile_ptr(m.f, ptr_cases[i].owner, ptr_cases[i].ttl, ptr_cases[i].target);
		if (rc != ptr_cases[i].rc)
			fail_msg("case %zu: rc %d want %d", i, rc, ptr_cases[i].rc);
		assert_string_equal(mem_text(&m), ptr_cases[i].line ? ptr_cases[i].line : "");
		mem_close(&m);
	}
}

static void test_name_lengths(void **state)
{
	(void)state;
	char name[300];
	mem_t m;
	/* 253 octets: 63.63.63.61 */
	memset(name, 'a', 253);
	name[63] = name[127] = name[191] = '.';
	name[253] = '\0';
	mem_open(&m);
	assert_int_equal(core_zonefile_ptr(m.f, "1.2.0.192.in-addr.arpa", 1, name), RDNS_OK);
	assert_int_equal(strlen(mem_text(&m)), strlen("1.2.0.192.in-addr.arpa. 1 IN PTR ") + 253 + 2);
	/* with the trailing dot still fine, 254 octets not */
	name[253] = '.';
	name[254] = '\0';
	assert_int_equal(core_zonefile_ptr(m.f, "1.2.0.192.in-addr.arpa", 1, name), RDNS_OK);
	name[253] = 'a';
	assert_int_equal(core_zonefile_ptr(m.f, "1.2.0.192.in-addr.arpa", 1, name), RDNS_EINVAL);
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(core_zonefile_ptr(m.f, "1.2.0.192.in-addr.arpa", 1, name), RDNS_EINVAL);
	assert_int_equal(count_lines(mem_text(&m)), 2);
	mem_close(&m);
}

static void test_write_error(void **state)
{
	(void)state;
	FILE *ro = fopen("/dev/null", "r");
	assert_non_null(ro);
	core_zone_head_t h = head_24();
	assert_int_equal(core_zonefile_head(ro, &h), RDNS_EIO);
	assert_int_equal(core_zonefile_ptr(ro, "10.2.0.192.in-addr.arpa", 1, "a.example.com"), RDNS_EIO);

	core_prefix_t z = v4p(192, 0, 2, 0, 24);
	core_zonefile_w_t *w = core_zonefile_w_new(ro, &z, "{dashed}.example.net", 60);
	assert_non_null(w);
	core_addr_t a = v4(192, 0, 2, 10);
	assert_int_equal(core_zonefile_w_add(w, &a, "mail.example.com"), RDNS_EIO);
	a.b[3] = 20;
	assert_int_equal(core_zonefile_w_add(w, &a, "mail.example.com"), RDNS_EIO);
	assert_int_equal(core_zonefile_w_finish(w), RDNS_EIO);
	core_zonefile_w_free(w);

	/* no template, no records: finish still notices the stream's error flag */
	w = core_zonefile_w_new(ro, &z, NULL, 60);
	assert_non_null(w);
	assert_int_equal(core_zonefile_w_finish(w), RDNS_EIO);
	core_zonefile_w_free(w);
	fclose(ro);
}

/* ---- templates ---- */

static const struct {
	const char *tmpl;
	int v6; /* use an IPv6 address */
	uint8_t a[4];
	size_t outlen;
	int rc;
	const char *out;
} tmpl_cases[] = {
    {"{dashed}.pool.example.net", 0, {192, 0, 2, 10}, 256, RDNS_OK, "192-0-2-10.pool.example.net"},
    {"{reverse}.rev.example.net", 0, {192, 0, 2, 10}, 256, RDNS_OK, "10-2-0-192.rev.example.net"},
    {"h{d}-{c}-{b}-{a}.example.net", 0, {192, 0, 2, 10}, 256, RDNS_OK, "h10-2-0-192.example.net"},
    {"{hex}.example.net", 0, {192, 0, 2, 10}, 256, RDNS_OK, "c000020a.example.net"},
    {"ip-{hex}", 0, {10, 0, 0, 255}, 256, RDNS_OK, "ip-0a0000ff"},
    {"{dashed}", 0, {0, 0, 0, 0}, 256, RDNS_OK, "0-0-0-0"},
    {"{dashed}", 0, {255, 255, 255, 255}, 256, RDNS_OK, "255-255-255-255"},
    {"{a}{a}.{d}", 0, {192, 0, 2, 10}, 256, RDNS_OK, "192192.10"},
    {"static.example.net", 0, {192, 0, 2, 10}, 256, RDNS_OK, "static.example.net"},
    {"", 0, {192, 0, 2, 10}, 256, RDNS_OK, ""},
    {"{ip}.example.net", 0, {192, 0, 2, 10}, 256, RDNS_EINVAL, NULL},
    {"{DASHED}.example.net", 0, {192, 0, 2, 10}, 256, RDNS_EINVAL, NULL},
    {"{e}.example.net", 0, {192, 0, 2, 10}, 256, RDNS_EINVAL, NULL},
    {"{}.example.net", 0, {192, 0, 2, 10}, 256, RDNS_EINVAL, NULL},
    {"{dashed.example.net", 0, {192, 0, 2, 10}, 256, RDNS_EINVAL, NULL},
    {"x.example.net{", 0, {192, 0, 2, 10}, 256, RDNS_EINVAL, NULL},
    {"dashed}.example.net", 0, {192, 0, 2, 10}, 256, RDNS_EINVAL, NULL},
    {"{{dashed}}.example.net", 0, {192, 0, 2, 10}, 256, RDNS_EINVAL, NULL},
    {"{ dashed }.example.net", 0, {192, 0, 2, 10}, 256, RDNS_EINVAL, NULL},
    /* a bad placeholder beyond the point where out is full is still EINVAL */
    {"{dashed}.example.net{bogus}", 0, {192, 0, 2, 10}, 4, RDNS_EINVAL, NULL},
    {"{dashed}.pool.example.net", 1, {0}, 256, RDNS_EINVAL, NULL},
    /* space: "192-0-2-10" needs 11 bytes */
    {"{dashed}", 0, {192, 0, 2, 10}, 11, RDNS_OK, "192-0-2-10"},
    {"{dashed}", 0, {192, 0, 2, 10}, 10, RDNS_ESPACE, ""},
    {"abc", 0, {192, 0, 2, 10}, 3, RDNS_ESPACE, ""},
    {"abc", 0, {192, 0, 2, 10}, 4, RDNS_OK, "abc"},
};

static void test_template_table(void **state)
{
	(void)state;
	static const uint16_t g[8] = {0x2001, 0xdb8, 0, 0, 0, 0, 0, 1};
	for (size_t i = 0; i < sizeof(tmpl_cases) / sizeof(tmpl_cases[0]); i++) {
		char out[257];
		memset(out, 'Z', sizeof(out));
		core_addr_t a = tmpl_cases[i].v6 ? v6(g)
		                                 : v4(tmpl_cases[i].a[0], tmpl_cases[i].a[1],
		                                      tmpl_cases[i].a[2], tmpl_cases[i].a[3]);
		int rc = core_zonefile_template(tmpl_cases[i].tmpl, &a, out, tmpl_cases[i].outlen);
		if (rc != tmpl_cases[i].rc)
			fail_msg("case %zu '%s': rc %d want %d", i, tmpl_cases[i].tmpl, rc, tmpl_cases[i].rc);
		if (tmpl_cases[i].out)
			assert_string_equal(out, tmpl_cases[i].out);
		/* never a byte past outlen */
		assert_int_equal(out[tmpl_cases[i].outlen], 'Z');
	}
	core_addr_t a = v4(1, 2, 3, 4);
	char out[8];
	assert_int_equal(core_zonefile_template(NULL, &a, out, sizeof(out)), RDNS_EINVAL);
	assert_int_equal(core_zonefile_template("{a}", NULL, out, sizeof(out)), RDNS_EINVAL);
	assert_int_equal(core_zonefile_template("{a}", &a, NULL, 8), RDNS_EINVAL);
	assert_int_equal(core_zonefile_template("{a}", &a, out, 0), RDNS_ESPACE);
}

/* ---- the streaming writer ---- */

static void test_writer_v4_24(void **state)
{
	(void)state;
	mem_t m;
	mem_open(&m);
	core_zone_head_t h = head_24();
	core_prefix_t z = v4p(192, 0, 2, 0, 24);

	assert_int_equal(core_zonefile_head(m.f, &h), RDNS_OK);
	core_zonefile_w_t *w = core_zonefile_w_new(m.f, &z, "{dashed}.pool.example.net", 3600);
	assert_non_null(w);
	core_addr_t a = v4(192, 0, 2, 10);
	assert_int_equal(core_zonefile_w_add(w, &a, "mail.example.com"), RDNS_OK);
	a = v4(192, 0, 2, 200);
	assert_int_equal(core_zonefile_w_add(w, &a, "www.example.com."), RDNS_OK);
	assert_int_equal(core_zonefile_w_finish(w), RDNS_OK);
	uint64_t written, skipped;
	core_zonefile_w_stats(w, &written, &skipped);
	assert_int_equal(written, 256);
	assert_int_equal(skipped, 0);
	core_zonefile_w_free(w);

	const char *t = mem_text(&m);
	char line[300];
	assert_int_equal(count_lines(t), 2 + 2 + 256);
	assert_string_equal(line_at(t, 0, line, sizeof(line)),
	                    "; rdns zone 2.0.192.in-addr.arpa. serial 2026112601");
	assert_string_equal(line_at(t, 1, line, sizeof(line)),
	                    "2.0.192.in-addr.arpa. 3600 IN SOA ns1.example.net. hostmaster.example.net. "
	                    "2026112601 3600 900 1209600 3600");
	assert_string_equal(line_at(t, 2, line, sizeof(line)),
	                    "2.0.192.in-addr.arpa. 3600 IN NS ns1.example.net.");
	assert_string_equal(line_at(t, 3, line, sizeof(line)),
	                    "2.0.192.in-addr.arpa. 3600 IN NS ns2.example.net.");
	/* PTR for address .i is line 4 + i */
	assert_string_equal(line_at(t, 4, line, sizeof(line)),
	                    "0.2.0.192.in-addr.arpa. 3600 IN PTR 192-0-2-0.pool.example.net.");
	assert_string_equal(line_at(t, 4 + 9, line, sizeof(line)),
	                    "9.2.0.192.in-addr.arpa. 3600 IN PTR 192-0-2-9.pool.example.net.");
	assert_string_equal(line_at(t, 4 + 10, line, sizeof(line)),
	                    "10.2.0.192.in-addr.arpa. 3600 IN PTR mail.example.com.");
	assert_string_equal(line_at(t, 4 + 11, line, sizeof(line)),
	                    "11.2.0.192.in-addr.arpa. 3600 IN PTR 192-0-2-11.pool.example.net.");
	assert_string_equal(line_at(t, 4 + 199, line, sizeof(line)),
	                    "199.2.0.192.in-addr.arpa. 3600 IN PTR 192-0-2-199.pool.example.net.");
	assert_string_equal(line_at(t, 4 + 200, line, sizeof(line)),
	                    "200.2.0.192.in-addr.arpa. 3600 IN PTR www.example.com.");
	assert_string_equal(line_at(t, 4 + 255, line, sizeof(line)),
	                    "255.2.0.192.in-addr.arpa. 3600 IN PTR 192-0-2-255.pool.example.net.");
	/* every address exactly once, in order */
	for (unsigned i = 0; i < 256; i++) {
		char want[64];
		snprintf(want, sizeof(want), "%u.2.0.192.in-addr.arpa. 3600 IN PTR ", i);
		line_at(t, 4 + i, line, sizeof(line));
		if (strncmp(line, want, strlen(want)) != 0)
			fail_msg("line %u: '%s'", 4 + i, line);
	}
	assert_int_equal(t[strlen(t) - 1], '\n');
	mem_close(&m);
}

static void test_writer_v4_no_template(void **state)
{
	(void)state;
	mem_t m;
	mem_open(&m);
	core_prefix_t z = v4p(10, 0, 0, 0, 8);
	core_zonefile_w_t *w = core_zonefile_w_new(m.f, &z, NULL, 300);
	assert_non_null(w);
	core_addr_t a = v4(10, 0, 0, 1);
	assert_int_equal(core_zonefile_w_add(w, &a, "a.example.com"), RDNS_OK);
	a = v4(10, 255, 255, 255);
	assert_int_equal(core_zonefile_w_add(w, &a, "b.example.com"), RDNS_OK);
	assert_int_equal(core_zonefile_w_finish(w), RDNS_OK);
	core_zonefile_w_free(w);
	assert_string_equal(mem_text(&m), "1.0.0.10.in-addr.arpa. 300 IN PTR a.example.com.\n"
	                                  "255.255.255.10.in-addr.arpa. 300 IN PTR b.example.com.\n");
	mem_close(&m);
}

static void test_writer_skips_invalid_defaults(void **state)
{
	(void)state;
	mem_t m;
	mem_open(&m);
	/* In 1.2.3.0/24 "x.{hex}" has an all-digit TLD (invalid) whenever the
	 * last octet's hex digits are both 0-9: 100 of the 256 addresses. */
	core_prefix_t z = v4p(1, 2, 3, 0, 24);
	core_zonefile_w_t *w = core_zonefile_w_new(m.f, &z, "x.{hex}", 60);
	assert_non_null(w);
	core_addr_t a = v4(1, 2, 3, 0x15); /* a custom record where the default would be invalid */
	assert_int_equal(core_zonefile_w_add(w, &a, "custom.example.com"), RDNS_OK);
	assert_int_equal(core_zonefile_w_finish(w), RDNS_OK);
	uint64_t written, skipped;
	core_zonefile_w_stats(w, &written, &skipped);
	core_zonefile_w_free(w);
	assert_int_equal(skipped, 99);
	assert_int_equal(written, 157);

	const char *t = mem_text(&m);
	assert_int_equal(count_lines(t), 157);
	char line[300];
	assert_string_equal(line_at(t, 0, line, sizeof(line)),
	                    "10.3.2.1.in-addr.arpa. 60 IN PTR x.0102030a.");
	assert_non_null(strstr(t, "\n21.3.2.1.in-addr.arpa. 60 IN PTR custom.example.com.\n"));
	assert_null(strstr(t, "\n0.3.2.1.in-addr.arpa."));
	assert_null(strstr(t, "x.01020300"));
	assert_non_null(strstr(t, "\n255.3.2.1.in-addr.arpa. 60 IN PTR x.010203ff.\n"));
	mem_close(&m);

	/* a template that never yields a hostname writes nothing */
	mem_open(&m);
	w = core_zonefile_w_new(m.f, &z, "-{d}.example.net", 60);
	assert_non_null(w);
	assert_int_equal(core_zonefile_w_finish(w), RDNS_OK);
	core_zonefile_w_stats(w, &written, &skipped);
	core_zonefile_w_free(w);
	assert_int_equal(written, 0);
	assert_int_equal(skipped, 256);
	assert_string_equal(mem_text(&m), "");
	mem_close(&m);
}

static void test_writer_small_zones(void **state)
{
	(void)state;
	mem_t m;
	/* a /32 zone: one default */
	mem_open(&m);
	core_prefix_t z = v4p(198, 51, 100, 7, 32);
	core_zonefile_w_t *w = core_zonefile_w_new(m.f, &z, "{reverse}.example.net", 5);
	assert_non_null(w);
	assert_int_equal(core_zonefile_w_finish(w), RDNS_OK);
	core_zonefile_w_free(w);
	assert_string_equal(mem_text(&m), "7.100.51.198.in-addr.arpa. 5 IN PTR 7-100-51-198.example.net.\n");
	mem_close(&m);

	/* host bits in the prefix are ignored: 192.0.2.77/30 is 192.0.2.76/30 */
	mem_open(&m);
	z = v4p(192, 0, 2, 77, 30);
	w = core_zonefile_w_new(m.f, &z, "h{d}.example.net", 5);
	assert_non_null(w);
	core_addr_t a = v4(192, 0, 2, 79);
	assert_int_equal(core_zonefile_w_add(w, &a, "last.example.net"), RDNS_OK);
	assert_int_equal(core_zonefile_w_finish(w), RDNS_OK);
	core_zonefile_w_free(w);
	assert_string_equal(mem_text(&m), "76.2.0.192.in-addr.arpa. 5 IN PTR h76.example.net.\n"
	                                  "77.2.0.192.in-addr.arpa. 5 IN PTR h77.example.net.\n"
	                                  "78.2.0.192.in-addr.arpa. 5 IN PTR h78.example.net.\n"
	                                  "79.2.0.192.in-addr.arpa. 5 IN PTR last.example.net.\n");
	mem_close(&m);
}

static void test_writer_v6(void **state)
{
	(void)state;
	mem_t m;
	mem_open(&m);
	core_zone_head_t h = head_24();
	h.zone = "8.b.d.0.1.0.0.2.ip6.arpa";
	h.n_ns = 1;
	core_prefix_t z = {.len = 32};
	static const uint16_t zg[8] = {0x2001, 0xdb8, 0, 0, 0, 0, 0, 0};
	z.addr = v6(zg);

	assert_int_equal(core_zonefile_head(m.f, &h), RDNS_OK);
	/* the template is ignored for IPv6 */
	core_zonefile_w_t *w = core_zonefile_w_new(m.f, &z, "{dashed}.example.net", 3600);
	assert_non_null(w);
	static const uint16_t g1[8] = {0x2001, 0xdb8, 0, 0, 0, 0, 0, 1};
	static const uint16_t g2[8] = {0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xab};
	static const uint16_t g3[8] = {0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 0};
	core_addr_t a = v6(g1);
	assert_int_equal(core_zonefile_w_add(w, &a, "one.example.com"), RDNS_OK);
	a = v6(g2);
	assert_int_equal(core_zonefile_w_add(w, &a, "two.example.com"), RDNS_OK);
	/* out of order */
	a = v6(g1);
	assert_int_equal(core_zonefile_w_add(w, &a, "again.example.com"), RDNS_EINVAL);
	a = v6(g2);
	assert_int_equal(core_zonefile_w_add(w, &a, "again.example.com"), RDNS_EINVAL);
	/* outside the zone, wrong family */
	static const uint16_t gout[8] = {0x2001, 0xdb9, 0, 0, 0, 0, 0, 1};
	a = v6(gout);
	assert_int_equal(core_zonefile_w_add(w, &a, "out.example.com"), RDNS_EINVAL);
	a = v4(192, 0, 2, 1);
	assert_int_equal(core_zonefile_w_add(w, &a, "v4.example.com"), RDNS_EINVAL);
	a = v6(g3);
	assert_int_equal(core_zonefile_w_add(w, &a, "three.example.com"), RDNS_OK);
	assert_int_equal(core_zonefile_w_finish(w), RDNS_OK);
	uint64_t written, skipped;
	core_zonefile_w_stats(w, &written, &skipped);
	assert_int_equal(written, 3);
	assert_int_equal(skipped, 0);
	core_zonefile_w_free(w);

	assert_string_equal(
	    mem_text(&m),
	    "; rdns zone 8.b.d.0.1.0.0.2.ip6.arpa. serial 2026112601\n"
	    "8.b.d.0.1.0.0.2.ip6.arpa. 3600 IN SOA ns1.example.net. hostmaster.example.net. "
	    "2026112601 3600 900 1209600 3600\n"
	    "8.b.d.0.1.0.0.2.ip6.arpa. 3600 IN NS ns1.example.net.\n"
	    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. 3600 IN PTR "
	    "one.example.com.\n"
	    "b.a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. 3600 IN PTR "
	    "two.example.com.\n"
	    "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.f.f.f.f.8.b.d.0.1.0.0.2.ip6.arpa. 3600 IN PTR "
	    "three.example.com.\n");
	mem_close(&m);
}

static void test_writer_order_errors(void **state)
{
	(void)state;
	mem_t m;
	mem_open(&m);
	core_prefix_t z = v4p(192, 0, 2, 0, 24);
	core_zonefile_w_t *w = core_zonefile_w_new(m.f, &z, "h{d}.example.net", 60);
	assert_non_null(w);
	core_addr_t a = v4(192, 0, 2, 2);
	assert_int_equal(core_zonefile_w_add(w, &a, "two.example.com"), RDNS_OK);
	/* duplicate, backwards, outside, wrong family, bad hostname: all EINVAL, nothing written */
	assert_int_equal(core_zonefile_w_add(w, &a, "dup.example.com"), RDNS_EINVAL);
	a = v4(192, 0, 2, 1);
	assert_int_equal(core_zonefile_w_add(w, &a, "one.example.com"), RDNS_EINVAL);
	a = v4(192, 0, 3, 5);
	assert_int_equal(core_zonefile_w_add(w, &a, "out.example.com"), RDNS_EINVAL);
	a = v4(192, 0, 1, 255);
	assert_int_equal(core_zonefile_w_add(w, &a, "out.example.com"), RDNS_EINVAL);
	static const uint16_t g[8] = {0x2001, 0xdb8, 0, 0, 0, 0, 0, 1};
	a = v6(g);
	assert_int_equal(core_zonefile_w_add(w, &a, "v6.example.com"), RDNS_EINVAL);
	a = v4(192, 0, 2, 5);
	assert_int_equal(core_zonefile_w_add(w, &a, "bad host.example.com"), RDNS_EINVAL);
	assert_int_equal(core_zonefile_w_add(w, &a, NULL), RDNS_EINVAL);
	assert_int_equal(core_zonefile_w_add(w, NULL, "x.example.com"), RDNS_EINVAL);
	assert_int_equal(core_zonefile_w_add(NULL, &a, "x.example.com"), RDNS_EINVAL);
	/* still usable: .3 and .4 get defaults, .5 the custom record */
	assert_int_equal(core_zonefile_w_add(w, &a, "five.example.com"), RDNS_OK);
	assert_int_equal(core_zonefile_w_finish(w), RDNS_OK);
	/* after finish */
	a = v4(192, 0, 2, 6);
	assert_int_equal(core_zonefile_w_add(w, &a, "six.example.com"), RDNS_EINVAL);
	assert_int_equal(core_zonefile_w_finish(w), RDNS_EINVAL);
	core_zonefile_w_free(w);

	const char *t = mem_text(&m);
	char line[300];
	assert_int_equal(count_lines(t), 256);
	assert_string_equal(line_at(t, 1, line, sizeof(line)),
	                    "1.2.0.192.in-addr.arpa. 60 IN PTR h1.example.net.");
	assert_string_equal(line_at(t, 2, line, sizeof(line)),
	                    "2.2.0.192.in-addr.arpa. 60 IN PTR two.example.com.");
	assert_string_equal(line_at(t, 3, line, sizeof(line)),
	                    "3.2.0.192.in-addr.arpa. 60 IN PTR h3.example.net.");
	assert_string_equal(line_at(t, 5, line, sizeof(line)),
	                    "5.2.0.192.in-addr.arpa. 60 IN PTR five.example.com.");
	assert_null(strstr(t, "dup.example.com"));
	assert_null(strstr(t, "one.example.com"));
	assert_null(strstr(t, "six.example.com"));
	mem_close(&m);
}

static void test_writer_new_errors(void **state)
{
	(void)state;
	mem_t m;
	mem_open(&m);
	core_prefix_t z = v4p(192, 0, 2, 0, 24);
	assert_null(core_zonefile_w_new(NULL, &z, NULL, 60));
	assert_null(core_zonefile_w_new(m.f, NULL, NULL, 60));
	assert_null(core_zonefile_w_new(m.f, &z, "{ip}.example.net", 60));
	assert_null(core_zonefile_w_new(m.f, &z, "{dashed.example.net", 60));
	/* an expansion longer than CORE_ZONEFILE_TMPL_MAX */
	char longt[300];
	memset(longt, 'a', sizeof(longt) - 1);
	longt[sizeof(longt) - 1] = '\0';
	assert_null(core_zonefile_w_new(m.f, &z, longt, 60));
	z.len = 33;
	assert_null(core_zonefile_w_new(m.f, &z, NULL, 60));
	z.len = 24;
	z.addr.family = 5;
	assert_null(core_zonefile_w_new(m.f, &z, NULL, 60));
	core_zonefile_w_free(NULL);
	assert_int_equal(core_zonefile_w_finish(NULL), RDNS_EINVAL);
	uint64_t written = 7;
	core_zonefile_w_stats(NULL, &written, NULL);
	assert_int_equal(written, 0);
	assert_string_equal(mem_text(&m), "");
	mem_close(&m);
}

/* Speed: a /12 worth of defaults (1,048,576 records) to /dev/null. Not a
 * benchmark, a guard against an accidental slowdown by an order of
 * magnitude; the limit is generous for sanitizer builds on a shared machine. */
static void test_writer_speed(void **state)
{
	(void)state;
	FILE *f = fopen("/dev/null", "w");
	assert_non_null(f);
	core_prefix_t z = v4p(10, 0, 0, 0, 12);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	core_zonefile_w_t *w = core_zonefile_w_new(f, &z, "{dashed}.pool.example.net", 3600);
	assert_non_null(w);
	core_addr_t a = v4(10, 7, 0, 1);
	assert_int_equal(core_zonefile_w_add(w, &a, "custom.example.com"), RDNS_OK);
	assert_int_equal(core_zonefile_w_finish(w), RDNS_OK);
	uint64_t written;
	core_zonefile_w_stats(w, &written, NULL);
	core_zonefile_w_free(w);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fclose(f);
	assert_int_equal(written, 1u << 20);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("zonefile: %llu records in %.3f s\n", (unsigned long long)written, s);
	assert_true(s < 10.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_head),
	    cmocka_unit_test(test_head_errors),
	    cmocka_unit_test(test_ptr_table),
	    cmocka_unit_test(test_name_lengths),
	    cmocka_unit_test(test_write_error),
	    cmocka_unit_test(test_template_table),
	    cmocka_unit_test(test_writer_v4_24),
	    cmocka_unit_test(test_writer_v4_no_template),
	    cmocka_unit_test(test_writer_skips_invalid_defaults),
	    cmocka_unit_test(test_writer_small_zones),
	    cmocka_unit_test(test_writer_v6),
	    cmocka_unit_test(test_writer_order_errors),
	    cmocka_unit_test(test_writer_new_errors),
	    cmocka_unit_test(test_writer_speed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
