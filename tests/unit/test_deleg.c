/* test_deleg.c - unit tests for core/deleg.c (delegable prefixes, child names) and the
 * delegations of the zone writer (core/zonefile.c), diffed by zonegen/journal.c. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/deleg.h"
#include "core/err.h"
#include "core/zonefile.h"
#include "verify/deleg.h"
#include "zonegen/journal.h"

#define N(t) (sizeof(t) / sizeof((t)[0]))

static core_prefix_t pfx(const char *s)
{
	core_prefix_t p;
	if (core_prefix_parse(s, &p) != RDNS_OK)
		fail_msg("fixture prefix %s", s);
	return p;
}

static core_addr_t addr(const char *s)
{
	core_addr_t a;
	if (core_addr_parse(s, &a) != RDNS_OK)
		fail_msg("fixture address %s", s);
	return a;
}

static void test_check_table(void **state)
{
	static const struct {
		const char *zone, *prefix;
		int rc;
		core_deleg_kind_t kind;
	} t[] = {
	    {"192.0.2.0/24", "192.0.2.0/25", RDNS_OK, CORE_DELEG_CLASSLESS},
	    {"192.0.2.0/24", "192.0.2.64/26", RDNS_OK, CORE_DELEG_CLASSLESS},
	    {"192.0.2.0/24", "192.0.2.10/32", RDNS_OK, CORE_DELEG_CLASSLESS},
	    {"192.0.2.0/24", "192.0.2.0/24", RDNS_EINVAL, 0}, /* the zone itself */
	    {"192.0.2.0/24", "192.0.2.0/23", RDNS_EINVAL, 0},
	    {"192.0.2.0/24", "198.51.100.0/26", RDNS_EINVAL, 0}, /* not inside */
	    {"10.0.0.0/8", "10.1.0.0/16", RDNS_OK, CORE_DELEG_CUT},
	    {"10.0.0.0/8", "10.1.2.0/24", RDNS_OK, CORE_DELEG_CUT},
	    {"10.0.0.0/8", "10.1.2.128/25", RDNS_OK, CORE_DELEG_CLASSLESS},
	    {"10.0.0.0/8", "10.1.0.0/20", RDNS_EINVAL, 0}, /* no octet boundary */
	    {"10.0.0.0/8", "10.0.0.0/8", RDNS_EINVAL, 0},
	    {"10.1.0.0/16", "10.1.2.0/24", RDNS_OK, CORE_DELEG_CUT},
	    {"2001:db8:100::/48", "2001:db8:100:200::/56", RDNS_OK, CORE_DELEG_CUT},
	    {"2001:db8:100::/48", "2001:db8:100:2000::/52", RDNS_OK, CORE_DELEG_CUT},
	    {"2001:db8:100::/48", "2001:db8:100:200::/64", RDNS_OK, CORE_DELEG_CUT},
	    {"2001:db8:100::/48", "2001:db8:100::10/124", RDNS_OK, CORE_DELEG_CUT},
	    {"2001:db8:100::/48", "2001:db8:100:200::/57", RDNS_EINVAL, 0}, /* no nibble */
	    {"2001:db8:100::/48", "2001:db8:100::/48", RDNS_EINVAL, 0},
	    {"2001:db8:100::/48", "2001:db8:100::10/128", RDNS_EINVAL, 0},
	    {"2001:db8:100::/48", "192.0.2.0/26", RDNS_EINVAL, 0}, /* another family */
	};
	for (size_t i = 0; i < N(t); i++) {
		core_prefix_t z = pfx(t[i].zone), p = pfx(t[i].prefix);
		core_deleg_kind_t kind = 0;
		int rc = core_deleg_check(&z, &p, &kind);
		if (rc != t[i].rc || (rc == RDNS_OK && kind != t[i].kind))
			fail_msg("%s in %s: rc %d kind %d, want %d %d", t[i].prefix, t[i].zone, rc, kind,
			         t[i].rc, t[i].kind);
	}
}

static void test_names(void **state)
{
	static const struct {
		const char *prefix;
		core_deleg_label_t style;
		const char *child, *addr, *cname;
	} t[] = {
	    {"192.0.2.0/26", CORE_DELEG_LABEL_RANGE, "0-63.2.0.192.in-addr.arpa.", "192.0.2.10",
	     "10.0-63.2.0.192.in-addr.arpa."},
	    {"192.0.2.64/26", CORE_DELEG_LABEL_SLASH, "64/26.2.0.192.in-addr.arpa.", "192.0.2.127",
	     "127.64/26.2.0.192.in-addr.arpa."},
	    {"192.0.2.128/25", CORE_DELEG_LABEL_RANGE, "128-255.2.0.192.in-addr.arpa.", "192.0.2.255",
	     "255.128-255.2.0.192.in-addr.arpa."},
	    {"192.0.2.7/32", CORE_DELEG_LABEL_RANGE, "7-7.2.0.192.in-addr.arpa.", "192.0.2.7",
	     "7.7-7.2.0.192.in-addr.arpa."},
	    {"10.1.2.0/24", CORE_DELEG_LABEL_RANGE, "2.1.10.in-addr.arpa.", NULL, NULL},
	    {"2001:db8:100:200::/56", CORE_DELEG_LABEL_RANGE, "2.0.0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa.", NULL,
	     NULL},
	};
	char buf[128];
	for (size_t i = 0; i < N(t); i++) {
		core_prefix_t p = pfx(t[i].prefix);
		assert_int_equal(core_deleg_child_name(&p, t[i].style, buf, sizeof(buf)), RDNS_OK);
		assert_string_equal(buf, t[i].child);
		if (t[i].addr) {
			core_addr_t a = addr(t[i].addr);
			assert_int_equal(core_deleg_cname_target(&p, t[i].style, &a, buf, sizeof(buf)),
			                 RDNS_OK);
			assert_string_equal(buf, t[i].cname);
		} else {
			core_addr_t a = p.addr;
			assert_int_equal(core_deleg_cname_target(&p, t[i].style, &a, buf, sizeof(buf)),
			                 RDNS_EINVAL);
		}
	}
	core_prefix_t p = pfx("192.0.2.0/26");
	core_addr_t out = addr("192.0.2.64");
	assert_int_equal(core_deleg_cname_target(&p, CORE_DELEG_LABEL_RANGE, &out, buf, sizeof(buf)),
	                 RDNS_EINVAL);
	assert_int_equal(core_deleg_child_name(&p, CORE_DELEG_LABEL_RANGE, buf, 10), RDNS_ESPACE);
	assert_string_equal(buf, "");
	core_deleg_label_t l;
	assert_int_equal(core_deleg_label_parse("slash", &l), RDNS_OK);
	assert_int_equal(l, CORE_DELEG_LABEL_SLASH);
	assert_int_equal(core_deleg_label_parse("range", &l), RDNS_OK);
	assert_int_equal(l, CORE_DELEG_LABEL_RANGE);
	assert_int_equal(core_deleg_label_parse("Range", &l), RDNS_EINVAL);
	assert_string_equal(core_deleg_label_name(CORE_DELEG_LABEL_SLASH), "slash");
}

/* ---- the writer ---- */

static const char *const NS[] = {"ns1.customer.example", "ns2.customer.example."};

typedef struct {
	const char *ip, *host;
} rec_t;

/* The body of a zone as the writer writes it, malloc'ed. */
static char *render(const char *zone, const char *tmpl, const core_zonefile_deleg_t *d, size_t n,
                    const rec_t *recs, size_t n_recs, uint64_t *occluded)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	core_prefix_t z = pfx(zone);
	core_zonefile_w_t *w = core_zonefile_w_new(f, &z, tmpl, 300);
	assert_non_null(w);
	assert_int_equal(core_zonefile_w_delegations(w, d, n), RDNS_OK);
	for (size_t i = 0; i < n_recs; i++) {
		core_addr_t a = addr(recs[i].ip);
		assert_int_equal(core_zonefile_w_add(w, &a, recs[i].host), RDNS_OK);
	}
	assert_int_equal(core_zonefile_w_finish(w), RDNS_OK);
	if (occluded)
		*occluded = core_zonefile_w_occluded(w);
	core_zonefile_w_free(w);
	fclose(f);
	return buf;
}

static bool has_line(const char *text, const char *line)
{
	size_t l = strlen(line);
	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[l] == '\n')
			return true;
	return false;
}

static size_t count(const char *text, const char *needle)
{
	size_t n = 0;
	for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void test_writer_classless(void **state)
{
	core_zonefile_deleg_t d = {.prefix = pfx("192.0.2.64/26"),
	                           .kind = CORE_DELEG_CLASSLESS,
	                           .style = CORE_DELEG_LABEL_RANGE,
	                           .ns = NS,
	                           .n_ns = 2};
	const rec_t recs[] = {{"192.0.2.10", "mail.example.com"}, {"192.0.2.70", "kept.example.com"}};
	uint64_t occ = 0;
	char *t = render("192.0.2.0/24", "host-{d}.example.net", &d, 1, recs, N(recs), &occ);
	assert_int_equal(occ, 1);
	/* 192 default PTRs (256 - 64 delegated, one of them the custom .10), 64 CNAMEs, 2 NS */
	assert_int_equal(count(t, " IN PTR "), 192);
	assert_int_equal(count(t, " IN CNAME "), 64);
	assert_int_equal(count(t, " IN NS "), 2);
	assert_true(has_line(t, "10.2.0.192.in-addr.arpa. 300 IN PTR mail.example.com."));
	assert_null(strstr(t, "kept.example.com"));
	/* the NS right after the CNAME of the first address, then the second address */
	assert_non_null(strstr(t, "63.2.0.192.in-addr.arpa. 300 IN PTR host-63.example.net.\n"
	                          "64.2.0.192.in-addr.arpa. 300 IN CNAME 64.64-127.2.0.192.in-addr.arpa.\n"
	                          "64-127.2.0.192.in-addr.arpa. 300 IN NS ns1.customer.example.\n"
	                          "64-127.2.0.192.in-addr.arpa. 300 IN NS ns2.customer.example.\n"
	                          "65.2.0.192.in-addr.arpa. 300 IN CNAME 65.64-127.2.0.192.in-addr.arpa.\n"));
	assert_non_null(strstr(t, "127.2.0.192.in-addr.arpa. 300 IN CNAME 127.64-127.2.0.192.in-addr.arpa.\n"
	                          "128.2.0.192.in-addr.arpa. 300 IN PTR host-128.example.net.\n"));
	free(t);

	/* without a template the CNAMEs are still every address's; the slash label */
	d.style = CORE_DELEG_LABEL_SLASH;
	t = render("192.0.2.0/24", NULL, &d, 1, recs, N(recs), &occ);
	assert_int_equal(count(t, " IN PTR "), 1);
	assert_int_equal(count(t, " IN CNAME "), 64);
	assert_true(has_line(t, "64/26.2.0.192.in-addr.arpa. 300 IN NS ns1.customer.example."));
	assert_true(has_line(t, "100.2.0.192.in-addr.arpa. 300 IN CNAME 100.64/26.2.0.192.in-addr.arpa."));
	free(t);
}

static void test_writer_cut_v4_and_v6(void **state)
{
	core_zonefile_deleg_t d[2] = {
	    {.prefix = pfx("10.1.2.0/24"), .kind = CORE_DELEG_CUT, .ns = NS, .n_ns = 1},
	    {.prefix = pfx("10.1.4.0/24"), .kind = CORE_DELEG_CUT, .ns = NS, .n_ns = 2},
	};
	const rec_t recs[] = {{"10.1.1.255", "a.example.com"},
	                      {"10.1.2.5", "hidden.example.com"},
	                      {"10.1.3.1", "b.example.com"}};
	uint64_t occ = 0;
	char *t = render("10.1.0.0/16", NULL, d, 2, recs, N(recs), &occ);
	assert_int_equal(occ, 1);
	assert_string_equal(t, "255.1.1.10.in-addr.arpa. 300 IN PTR a.example.com.\n"
	                       "2.1.10.in-addr.arpa. 300 IN NS ns1.customer.example.\n"
	                       "1.3.1.10.in-addr.arpa. 300 IN PTR b.example.com.\n"
	                       "4.1.10.in-addr.arpa. 300 IN NS ns1.customer.example.\n"
	                       "4.1.10.in-addr.arpa. 300 IN NS ns2.customer.example.\n");
	free(t);

	core_zonefile_deleg_t d6 = {
	    .prefix = pfx("2001:db8:100:200::/56"), .kind = CORE_DELEG_CUT, .ns = NS, .n_ns = 1};
	const rec_t r6[] = {{"2001:db8:100:1ff::1", "before.example.com"},
	                    {"2001:db8:100:210::1", "inside.example.com"},
	                    {"2001:db8:100:300::1", "after.example.com"}};
	t = render("2001:db8:100::/48", NULL, &d6, 1, r6, N(r6), &occ);
	assert_int_equal(occ, 1);
	assert_null(strstr(t, "inside"));
	const char *ns = strstr(t, "2.0.0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa. 300 IN NS ns1.customer.example.\n");
	assert_non_null(ns);
	assert_true(strstr(t, "before") < ns && ns < strstr(t, "after"));
	free(t);
	/* a delegation after every record: written at the finish */
	t = render("2001:db8:100::/48", NULL, &d6, 1, r6, 1, &occ);
	assert_int_equal(count(t, " IN NS "), 1);
	free(t);
}

static void test_writer_refuses_bad_delegations(void **state)
{
	FILE *f = fopen("/dev/null", "w");
	core_prefix_t z = pfx("192.0.2.0/24");
	core_zonefile_w_t *w = core_zonefile_w_new(f, &z, NULL, 300);
	core_zonefile_deleg_t d[2] = {
	    {.prefix = pfx("192.0.2.0/25"), .kind = CORE_DELEG_CLASSLESS, .ns = NS, .n_ns = 1},
	    {.prefix = pfx("192.0.2.64/26"), .kind = CORE_DELEG_CLASSLESS, .ns = NS, .n_ns = 1},
	};
	assert_int_equal(core_zonefile_w_delegations(w, d, 2), RDNS_EINVAL); /* overlap */
	const char *bad_ns[] = {"ns1.example.com\nx IN A 1.2.3.4"};
	d[1].prefix = pfx("192.0.2.128/26");
	d[1].ns = bad_ns;
	assert_int_equal(core_zonefile_w_delegations(w, d, 2), RDNS_EINVAL); /* a name we cannot write */
	d[1].ns = NS;
	d[1].kind = CORE_DELEG_CUT;
	assert_int_equal(core_zonefile_w_delegations(w, d, 2), RDNS_EINVAL); /* the wrong kind */
	d[1].kind = CORE_DELEG_CLASSLESS;
	d[1].n_ns = 0;
	assert_int_equal(core_zonefile_w_delegations(w, d, 2), RDNS_EINVAL);
	d[1].n_ns = 1;
	assert_int_equal(core_zonefile_w_delegations(w, d, 2), RDNS_OK);
	core_addr_t a = addr("192.0.2.1");
	assert_int_equal(core_zonefile_w_add(w, &a, "x.example.com"), RDNS_OK);
	assert_int_equal(core_zonefile_w_delegations(w, d, 2), RDNS_EINVAL); /* too late */
	core_zonefile_w_free(w);
	fclose(f);
}

/* ---- IXFR: the journal's merge takes the renderer's order with delegations ---- */

static int write_zone(const char *dir, const char *name, const char *zone, const char *apex, uint32_t serial,
                      const char *body)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "; rdns zone %s serial %u\n", apex, serial);
	fprintf(f, "%s 300 IN SOA ns1.example.net. hostmaster.example.net. %u 3600 900 1209600 300\n", apex,
	        serial);
	fprintf(f, "%s 300 IN NS ns1.example.net.\n%s", apex, body);
	fclose(f);
	(void)zone;
	int fd = open(path, O_RDONLY);
	unlink(path);
	return fd;
}

static void diff_counts(const char *zone, const char *apex, const char *old_body, const char *new_body,
                        size_t del, size_t add)
{
	char dir[] = "/tmp/test_deleg.XXXXXX";
	assert_non_null(mkdtemp(dir));
	int a = write_zone(dir, "a", zone, apex, 1, old_body),
	    b = write_zone(dir, "b", zone, apex, 2, new_body);
	rmdir(dir);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	zg_journal_diff_t d;
	int rc = zg_journal_diff(a, b, out, 1 << 24, &d);
	fclose(out);
	close(a);
	close(b);
	if (rc != RDNS_OK || d.deleted != del || d.added != add)
		fail_msg("diff: rc %d deleted %zu added %zu, want %zu %zu", rc, d.deleted, d.added, del, add);
	free(text);
}

static void test_journal_diffs_delegations(void **state)
{
	const rec_t recs[] = {
	    {"10.1.2.10", "a.example.com"}, {"10.1.2.100", "b.example.com"}, {"10.1.2.200", "c.example.com"}};
	core_zonefile_deleg_t d = {.prefix = pfx("10.1.2.64/26"),
	                           .kind = CORE_DELEG_CLASSLESS,
	                           .style = CORE_DELEG_LABEL_RANGE,
	                           .ns = NS,
	                           .n_ns = 2};
	/* a /16 zone without a template: "64-127" meets "100" and "200" in the merge */
	char *plain = render("10.1.0.0/16", NULL, &d, 0, recs, N(recs), NULL);
	char *deleg = render("10.1.0.0/16", NULL, &d, 1, recs, N(recs), NULL);
	diff_counts("10.1.0.0/16", "1.10.in-addr.arpa.", plain, deleg, 1, 66);
	diff_counts("10.1.0.0/16", "1.10.in-addr.arpa.", deleg, plain, 66, 1);
	d.style = CORE_DELEG_LABEL_SLASH;
	char *slash = render("10.1.0.0/16", NULL, &d, 1, recs, N(recs), NULL);
	diff_counts("10.1.0.0/16", "1.10.in-addr.arpa.", deleg, slash, 66, 66);
	free(plain);
	free(deleg);
	free(slash);

	/* a /24 zone with a template: 64 PTRs become 64 CNAMEs and 2 NS */
	plain = render("192.0.2.0/24", "h-{d}.example.net", &d, 0, NULL, 0, NULL);
	d.style = CORE_DELEG_LABEL_RANGE;
	d.prefix = pfx("192.0.2.192/26");
	deleg = render("192.0.2.0/24", "h-{d}.example.net", &d, 1, NULL, 0, NULL);
	diff_counts("192.0.2.0/24", "2.0.192.in-addr.arpa.", plain, deleg, 64, 66);
	free(plain);
	free(deleg);
}

/* ---- the lame-delegation findings: wording from a plain outcome ---- */

static void test_findings_wording(void **state)
{
	vf_deleg_outcome_t o;
	memset(&o, 0, sizeof(o));
	snprintf(o.zone, sizeof(o.zone), "%s", "0-63.2.0.192.in-addr.arpa");
	o.n_servers = 3;
	snprintf(o.servers[0].name, sizeof(o.servers[0].name), "%s", "ns1.example.net");
	o.servers[0].n_addrs = 2;
	o.servers[0].addrs[0] =
	    (vf_deleg_addr_t){.addr = addr("192.0.2.53"), .answer = VF_DELEG_AUTH, .serial = 7};
	o.servers[0].addrs[1] =
	    (vf_deleg_addr_t){.addr = addr("2001:db8::53"), .answer = VF_DELEG_AUTH, .serial = 7};
	snprintf(o.servers[1].name, sizeof(o.servers[1].name), "%s", "ns2.example.net");
	o.servers[1].n_addrs = 1;
	o.servers[1].addrs[0] =
	    (vf_deleg_addr_t){.addr = addr("198.51.100.53"), .answer = VF_DELEG_RCODE, .rcode = 5};
	snprintf(o.servers[2].name, sizeof(o.servers[2].name), "%s", "ns3.example.net");
	o.servers[2].lookup_failed = true;

	vf_check_t c[VF_DELEG_MAX_NS + 1];
	bool ok = true;
	assert_int_equal(vf_deleg_findings(&o, c, N(c), &ok), 4);
	assert_false(ok);
	assert_string_equal(c[0].id, "delegation.server");
	assert_int_equal(c[0].status, VF_CHECK_PASS);
	assert_string_equal(c[0].detail,
	                    "ns1.example.net answers authoritatively for 0-63.2.0.192.in-addr.arpa: "
	                    "192.0.2.53 serial 7; 2001:db8::53 serial 7");
	assert_string_equal(c[0].next_step, "");
	assert_int_equal(c[1].status, VF_CHECK_FAIL);
	assert_non_null(strstr(c[1].detail, "198.51.100.53 REFUSED (the zone is not configured there)"));
	assert_non_null(strstr(c[1].next_step, "configure ns2.example.net as a primary or secondary of "
	                                       "0-63.2.0.192.in-addr.arpa"));
	assert_string_equal(c[2].detail, "ns3.example.net has no address (no A or AAAA record)");
	assert_int_equal(c[3].status, VF_CHECK_PASS); /* the one serial seen */
	assert_string_equal(c[3].detail, "every server has serial 7 of 0-63.2.0.192.in-addr.arpa");

	/* disagreeing serials, every server authoritative */
	o.n_servers = 2;
	o.servers[1].addrs[0] =
	    (vf_deleg_addr_t){.addr = addr("198.51.100.53"), .answer = VF_DELEG_AUTH, .serial = 9};
	assert_int_equal(vf_deleg_findings(&o, c, N(c), &ok), 3);
	assert_false(ok);
	assert_int_equal(c[0].status, VF_CHECK_PASS);
	assert_int_equal(c[1].status, VF_CHECK_PASS);
	assert_int_equal(c[2].status, VF_CHECK_FAIL);
	assert_string_equal(c[2].detail,
	                    "the servers disagree on the serial of 0-63.2.0.192.in-addr.arpa: from 7 to 9");
	o.servers[1].addrs[0].serial = 7;
	vf_deleg_findings(&o, c, N(c), &ok);
	assert_true(ok);

	/* nobody answered: the serial check fails too; timeouts and silence worded apart */
	o.servers[0].addrs[0].answer = VF_DELEG_TIMEOUT;
	o.servers[0].addrs[1].answer = VF_DELEG_UNREACHABLE;
	o.servers[1].addrs[0].answer = VF_DELEG_NOT_AUTH;
	vf_deleg_findings(&o, c, N(c), &ok);
	assert_false(ok);
	assert_non_null(strstr(c[0].detail, "192.0.2.53 no answer in time; 2001:db8::53 nothing listening"));
	assert_non_null(strstr(c[1].detail, "not authoritative (lame)"));
	assert_string_equal(c[2].detail, "no server answered with the SOA of 0-63.2.0.192.in-addr.arpa");
	/* max bounds what is written */
	assert_int_equal(vf_deleg_findings(&o, c, 1, &ok), 1);
}

/* What a background re-check concludes: lame on what the servers or DNS said, unknown when
 * only the resolvers were silent about the servers' names; the findings text as a PUT's. */
static void test_recheck_conclusion(void **state)
{
	(void)state;
	vf_deleg_outcome_t o;
	memset(&o, 0, sizeof(o));
	snprintf(o.zone, sizeof(o.zone), "%s", "0-63.2.0.192.in-addr.arpa");
	o.n_servers = 2;
	for (size_t i = 0; i < 2; i++) {
		snprintf(o.servers[i].name, sizeof(o.servers[i].name), "ns%zu.example.net", i + 1);
		o.servers[i].n_addrs = 1;
		o.servers[i].addrs[0] = (vf_deleg_addr_t){
		    .addr = addr(i ? "192.0.2.54" : "192.0.2.53"), .answer = VF_DELEG_AUTH, .serial = 7};
	}
	assert_int_equal(vf_deleg_conclude(&o), VF_DELEG_PASS);
	bool ok = false;
	char *t = vf_deleg_findings_text(&o, &ok);
	assert_true(ok);
	assert_non_null(t);
	assert_non_null(
	    strstr(t, "[{\"id\":\"delegation.server\",\"status\":\"pass\",\"severity\":\"high\","));
	assert_non_null(strstr(t, "{\"id\":\"delegation.serials\",\"status\":\"pass\""));
	free(t);

	o.servers[1].addrs[0].serial = 8; /* serials disagree */
	assert_int_equal(vf_deleg_conclude(&o), VF_DELEG_LAME);
	o.servers[1].addrs[0].serial = 7;
	static const vf_deleg_answer_t lame[] = {VF_DELEG_NOT_AUTH, VF_DELEG_RCODE, VF_DELEG_TIMEOUT,
	                                         VF_DELEG_UNREACHABLE, VF_DELEG_BADANSWER};
	for (size_t i = 0; i < N(lame); i++) {
		o.servers[1].addrs[0].answer = lame[i];
		assert_int_equal(vf_deleg_conclude(&o), VF_DELEG_LAME);
	}
	/* ns2 has no address records: a definite answer */
	o.servers[1] = (vf_deleg_server_t){.name = "ns2.example.net", .lookup_failed = true};
	assert_int_equal(vf_deleg_conclude(&o), VF_DELEG_LAME);
	/* the resolvers did not answer for ns2: nothing known about it; ns1 fine */
	o.servers[1].lookup_timeout = true;
	assert_int_equal(vf_deleg_conclude(&o), VF_DELEG_UNKNOWN);
	t = vf_deleg_findings_text(&o, &ok); /* a PUT still refuses it */
	assert_false(ok);
	free(t);
	/* ... but ns1 answering without AA is lame whatever ns2 is */
	o.servers[0].addrs[0].answer = VF_DELEG_NOT_AUTH;
	assert_int_equal(vf_deleg_conclude(&o), VF_DELEG_LAME);
	/* nobody's name resolved in time */
	o.servers[0] = o.servers[1];
	assert_int_equal(vf_deleg_conclude(&o), VF_DELEG_UNKNOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_check_table),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_writer_classless),
	    cmocka_unit_test(test_writer_cut_v4_and_v6),
	    cmocka_unit_test(test_writer_refuses_bad_delegations),
	    cmocka_unit_test(test_journal_diffs_delegations),
	    cmocka_unit_test(test_findings_wording),
	    cmocka_unit_test(test_recheck_conclusion),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
