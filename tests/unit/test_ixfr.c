/* test_ixfr.c - IXFR history: zone-file differences, the journal, and IXFR answers through the
 * packet handler (no sockets): a client that follows only by IXFR holds what AXFR gives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "core/err.h"
#include "core/log.h"
#include "zonegen/dnssrv.h"
#include "zonegen/journal.h"
#include "zonegen/tsig.h"
#include "zonegen/wire.h"
#include "zonegen/xfr.h"

#define ZONE "0.10.in-addr.arpa."
#define N    600 /* addresses 10.0.0.0 .. 10.0.2.87 */
#define S0   2026120100u

static const zg_tsig_key_t KEY = {
    .name = "xfr-key.", .secret = "0123456789abcdef0123456789abcdef", .secret_len = 32};

static char dir[64];
static char zpath[128], jpath[128], npath[128];

/* ---- zones as the test holds them ---- */

typedef struct {
	uint32_t serial;
	uint32_t ttl;
	char ns[3][32];
	int n_ns;
	char target[N][64]; /* "" = no PTR */
} zone_t;

static void owner_of(int i, char *buf, size_t len)
{
	snprintf(buf, len, "%d.%d.%s", i % 256, i / 256, ZONE);
}

/* Written as the renderer writes: SOA, NS, PTRs in address order. */
static void write_file(const char *path, const zone_t *z)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "; rdns zone %s serial %u\n", ZONE, z->serial);
	fprintf(f, "%s 3600 IN SOA ns1.example.net. hostmaster.example.net. %u 3600 900 1209600 3600\n", ZONE,
	        z->serial);
	for (int i = 0; i < z->n_ns; i++)
		fprintf(f, "%s 3600 IN NS %s\n", ZONE, z->ns[i]);
	for (int i = 0; i < N; i++) {
		if (z->target[i][0]) {
			char o[64];
			owner_of(i, o, sizeof(o));
			fprintf(f, "%s %u IN PTR %s\n", o, z->ttl, z->target[i]);
		}
	}
	assert_int_equal(fclose(f), 0);
}

static void zone_init(zone_t *z)
{
	memset(z, 0, sizeof(*z));
	z->serial = S0;
	z->ttl = 3600;
	z->n_ns = 2;
	strcpy(z->ns[0], "ns1.example.net.");
	strcpy(z->ns[1], "ns2.example.net.");
	for (int i = 0; i < N; i++)
		snprintf(z->target[i], sizeof(z->target[i]), "%d-0-10.pool.example.net.", i % 256);
}

/* The next version is written to npath, recorded in the journal, then renamed over zpath. */
static void next_version(zone_t *z, const zg_journal_limits_t *lim, zg_journal_diff_t *d)
{
	z->serial++;
	write_file(npath, z);
	assert_int_equal(zg_journal_update(jpath, zpath, npath, lim, d), RDNS_OK);
	assert_int_equal(rename(npath, zpath), 0);
}

static int setup(void **state)
{
	strcpy(dir, "/tmp/zg_ixfr.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(zpath, sizeof(zpath), "%s/%s", dir, "0.10.in-addr.arpa.zone");
	snprintf(npath, sizeof(npath), "%s/%s", dir, ".0.10.in-addr.arpa.zone.new");
	assert_int_equal(zg_journal_path(zpath, jpath, sizeof(jpath)), RDNS_OK);
	return 0;
}

static int teardown(void **state)
{
	unlink(zpath);
	unlink(jpath);
	unlink(npath);
	rmdir(dir);
	return 0;
}

/* ---- the difference of two files ---- */

/* The difference of a and b as text. */
static char *diff_text(const zone_t *a, const zone_t *b, size_t max, int *rc, zg_journal_diff_t *d)
{
	char pa[160], pb[160];
	snprintf(pa, sizeof(pa), "%s/a", dir);
	snprintf(pb, sizeof(pb), "%s/b", dir);
	write_file(pa, a);
	write_file(pb, b);
	int fa = open(pa, O_RDONLY), fb = open(pb, O_RDONLY);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	*rc = zg_journal_diff(fa, fb, out, max, d);
	fclose(out);
	close(fa);
	close(fb);
	unlink(pa);
	unlink(pb);
	return text;
}

static const char SOA_A[] =
    ZONE " 3600 IN SOA ns1.example.net. hostmaster.example.net. 2026120100 3600 900 1209600 3600\n";
static const char SOA_B[] =
    ZONE " 3600 IN SOA ns1.example.net. hostmaster.example.net. 2026120101 3600 900 1209600 3600\n";

static void test_diff_cases(void **state)
{
	zone_t *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	zg_journal_diff_t d;
	int rc;
	char want[4096];
	zone_init(a);

	/* unchanged but the serial: the two SOAs */
	*b = *a;
	b->serial++;
	char *t = diff_text(a, b, 1 << 20, &rc, &d);
	assert_int_equal(rc, RDNS_OK);
	snprintf(want, sizeof(want), "%s%s", SOA_A, SOA_B);
	assert_string_equal(t, want);
	assert_int_equal(d.from, S0);
	assert_int_equal(d.to, S0 + 1);
	free(t);

	/* a set (a custom PTR where the default was), a reset (back to the default), a
	 * deletion, an addition; first and last addresses too */
	zone_t *c = malloc(sizeof(*c));
	*c = *a;
	c->target[N - 1][0] = 0; /* absent in a */
	*b = *c;
	b->serial++;
	strcpy(b->target[0], "mail.example.com.");     /* set */
	strcpy(b->target[300], "web.example.com.");    /* set */
	b->target[7][0] = 0;                           /* delete */
	strcpy(b->target[N - 1], "last.example.com."); /* add */
	t = diff_text(c, b, 1 << 20, &rc, &d);
	assert_int_equal(rc, RDNS_OK);
	snprintf(want, sizeof(want),
	         "%s"
	         "0.0." ZONE " 3600 IN PTR 0-0-10.pool.example.net.\n"
	         "7.0." ZONE " 3600 IN PTR 7-0-10.pool.example.net.\n"
	         "44.1." ZONE " 3600 IN PTR 44-0-10.pool.example.net.\n"
	         "%s"
	         "0.0." ZONE " 3600 IN PTR mail.example.com.\n"
	         "44.1." ZONE " 3600 IN PTR web.example.com.\n"
	         "87.2." ZONE " 3600 IN PTR last.example.com.\n",
	         SOA_A, SOA_B);
	assert_string_equal(t, want);
	assert_int_equal(d.deleted, 3);
	assert_int_equal(d.added, 3);
	free(t);

	/* the reset of those: the reverse difference */
	zone_t *r = malloc(sizeof(*r));
	*r = *c;
	r->serial = b->serial + 1;
	t = diff_text(b, r, 1 << 20, &rc, &d);
	assert_int_equal(rc, RDNS_OK);
	assert_int_equal(d.deleted, 3);
	assert_int_equal(d.added, 3);
	free(t);

	/* a default-template edit: every default PTR changes */
	*b = *a;
	b->serial++;
	for (int i = 0; i < N; i++)
		snprintf(b->target[i], sizeof(b->target[i]), "host-%d.example.net.", i);
	t = diff_text(a, b, 1 << 20, &rc, &d);
	assert_int_equal(rc, RDNS_OK);
	assert_int_equal(d.deleted, N);
	assert_int_equal(d.added, N);
	free(t);

	/* the whole zone emptied (an allocation deleted): all PTRs go, the apex stays */
	*b = *a;
	b->serial++;
	for (int i = 0; i < N; i++)
		b->target[i][0] = 0;
	t = diff_text(a, b, 1 << 20, &rc, &d);
	assert_int_equal(rc, RDNS_OK);
	assert_int_equal(d.deleted, N);
	assert_int_equal(d.added, 0);
	free(t);
	/* and filled again */
	t = diff_text(b, a, 1 << 20, &rc, &d);
	assert_int_equal(rc, RDNS_OK);
	assert_int_equal(d.deleted, 0);
	assert_int_equal(d.added, N);
	free(t);

	/* the NS set and the TTL: apex records as a set, whatever their order */
	*b = *a;
	b->serial++;
	strcpy(b->ns[0], "ns2.example.net.");
	strcpy(b->ns[1], "ns3.example.net.");
	t = diff_text(a, b, 1 << 20, &rc, &d);
	assert_int_equal(rc, RDNS_OK);
	snprintf(want, sizeof(want),
	         "%s" ZONE " 3600 IN NS ns1.example.net.\n%s" ZONE " 3600 IN NS ns3.example.net.\n", SOA_A,
	         SOA_B);
	assert_string_equal(t, want);
	free(t);
	/* one NS in common at the head, one moved, one replaced: the group's set difference */
	zone_t *n3 = malloc(sizeof(*n3));
	*n3 = *a;
	n3->n_ns = 3;
	strcpy(n3->ns[2], "ns3.example.net.");
	*b = *n3;
	b->serial++;
	strcpy(b->ns[1], "ns3.example.net.");
	strcpy(b->ns[2], "ns4.example.net.");
	t = diff_text(n3, b, 1 << 20, &rc, &d);
	assert_int_equal(rc, RDNS_OK);
	snprintf(want, sizeof(want),
	         "%s" ZONE " 3600 IN NS ns2.example.net.\n%s" ZONE " 3600 IN NS ns4.example.net.\n", SOA_A,
	         SOA_B);
	assert_string_equal(t, want);
	free(t);
	free(n3);
	*b = *a;
	b->serial++;
	b->ttl = 60;
	t = diff_text(a, b, 1 << 20, &rc, &d);
	assert_int_equal(rc, RDNS_OK);
	assert_int_equal(d.deleted, N);
	assert_int_equal(d.added, N);
	free(t);

	/* over the budget: RDNS_ERANGE */
	t = diff_text(a, b, 4096, &rc, &d);
	assert_int_equal(rc, RDNS_ERANGE);
	free(t);
	free(a);
	free(b);
	free(c);
	free(r);
}

static void test_diff_refuses_other_orders(void **state)
{
	char pa[160], pb[160];
	snprintf(pa, sizeof(pa), "%s/a", dir);
	snprintf(pb, sizeof(pb), "%s/b", dir);
	zone_t *a = malloc(sizeof(*a));
	zone_init(a);
	write_file(pa, a);
	FILE *f = fopen(pb, "w");
	/* 10.0.0.10 before 10.0.0.9: textual order, not the renderer's */
	fprintf(f, "%s", SOA_B);
	fprintf(f, ZONE " 3600 IN NS ns1.example.net.\n");
	fprintf(f, "10.0." ZONE " 3600 IN PTR a.example.\n");
	fprintf(f, "9.0." ZONE " 3600 IN PTR b.example.\n");
	fclose(f);
	int fa = open(pa, O_RDONLY), fb = open(pb, O_RDONLY);
	FILE *out = fopen("/dev/null", "w");
	zg_journal_diff_t d;
	assert_int_equal(zg_journal_diff(fa, fb, out, 1 << 20, &d), RDNS_EINVAL);
	/* no SOA first */
	lseek(fa, 0, SEEK_SET);
	f = fopen(pb, "w");
	fprintf(f, "9.0." ZONE " 3600 IN PTR b.example.\n");
	fclose(f);
	close(fb);
	fb = open(pb, O_RDONLY);
	assert_int_equal(zg_journal_diff(fa, fb, out, 1 << 20, &d), RDNS_EINVAL);
	fclose(out);
	close(fa);
	close(fb);
	unlink(pa);
	unlink(pb);
	free(a);
}

/* ---- a client of the handler ---- */

typedef struct {
	uint8_t *msg[4096];
	size_t len[4096];
	int n;
} msgs_t;

static int collect(void *arg, const uint8_t *m, size_t len)
{
	msgs_t *c = arg;
	assert_true(c->n < 4096);
	c->msg[c->n] = malloc(len);
	memcpy(c->msg[c->n], m, len);
	c->len[c->n++] = len;
	return 0;
}

static void msgs_free(msgs_t *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->msg[i]);
	c->n = 0;
}

static zg_dnssrv_t *new_srv(void)
{
	int err;
	zg_dnssrv_conf_t conf = {.transfer_allow = "127.0.0.1", .keys = &KEY, .n_keys = 1};
	zg_dnssrv_t *s = zg_dnssrv_new(&conf, &err);
	assert_non_null(s);
	return s;
}

/* Ask (IXFR with serial, or AXFR when !ixfr); every record of the answer, in order,
 * as text. TSIG-signed when sign: every message must verify. */
static ldns_rr_list *ask(zg_dnssrv_t *s, bool ixfr, uint32_t serial, int transport, bool sign, int *n_msgs)
{
	uint8_t q[1024];
	uint8_t n[ZG_WIRE_NAME_MAX];
	size_t nl;
	zg_wire_msg_t m;
	assert_int_equal(zg_wire_name_from_text(ZONE, strlen(ZONE), false, n, &nl), RDNS_OK);
	zg_wire_msg_init(&m, q, sizeof(q), NULL, 0);
	zg_wire_msg_reset(&m, 0x1995, 0);
	assert_int_equal(zg_wire_msg_put_question(&m, n, nl, ixfr ? ZG_TYPE_IXFR : ZG_TYPE_AXFR, ZG_CLASS_IN),
	                 RDNS_OK);
	if (ixfr) {
		char line[256];
		zg_wire_zrr_t rr;
		snprintf(line, sizeof(line),
		         "%s 3600 IN SOA ns1.example.net. hostmaster.example.net. %u 1 2 3 4", ZONE, serial);
		assert_int_equal(zg_wire_zrr_parse(line, strlen(line), &rr), RDNS_OK);
		assert_int_equal(zg_wire_msg_put_zrr(&m, ZG_SEC_NS, &rr), RDNS_OK);
	}
	zg_wire_msg_finish(&m);
	size_t ql = m.len;
	zg_tsig_ctx_t ctx;
	uint64_t now = (uint64_t)time(NULL);
	if (sign)
		assert_int_equal(zg_tsig_sign_request(&ctx, &KEY, q, &ql, sizeof(q), now), RDNS_OK);
	struct sockaddr_in from = {.sin_family = AF_INET, .sin_port = htons(5353)};
	inet_pton(AF_INET, "127.0.0.1", &from.sin_addr);
	msgs_t *c = calloc(1, sizeof(*c));
	assert_int_equal(zg_dnssrv_handle(s, q, ql, (struct sockaddr *)&from, transport, collect, c),
	                 RDNS_OK);
	ldns_rr_list *all = ldns_rr_list_new();
	for (int i = 0; i < c->n; i++) {
		if (sign)
			assert_int_equal(zg_tsig_verify_response(&ctx, c->msg[i], c->len[i], now), RDNS_OK);
		else
			assert_int_equal(zg_tsig_find(c->msg[i], c->len[i], &(size_t){0}), RDNS_ENOTFOUND);
		ldns_pkt *p = NULL;
		assert_int_equal(ldns_wire2pkt(&p, c->msg[i], c->len[i]), LDNS_STATUS_OK);
		assert_int_equal(ldns_pkt_id(p), 0x1995);
		assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
		assert_true(c->len[i] <= 65535);
		ldns_rr_list *an = ldns_pkt_answer(p);
		for (size_t k = 0; k < ldns_rr_list_rr_count(an); k++)
			ldns_rr_list_push_rr(all, ldns_rr_clone(ldns_rr_list_rr(an, k)));
		ldns_pkt_free(p);
	}
	*n_msgs = c->n;
	msgs_free(c);
	free(c);
	return all;
}

static uint32_t serial_of(const ldns_rr *rr)
{
	assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_SOA);
	return ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
}

/* What a secondary holds: its SOA and its other records, as text. */
typedef struct {
	char *soa;
	char **rr;
	size_t n, cap;
} held_t;

static void held_free(held_t *h)
{
	free(h->soa);
	for (size_t i = 0; i < h->n; i++)
		free(h->rr[i]);
	free(h->rr);
	memset(h, 0, sizeof(*h));
}

static long held_find(const held_t *h, const char *s)
{
	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->rr[i], s) == 0)
			return (long)i;
	return -1;
}

static void held_add(held_t *h, char *s)
{
	assert_int_equal(held_find(h, s), -1); /* RFC 1995: an addition of a record held is a bug */
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 256;
		h->rr = realloc(h->rr, h->cap * sizeof(*h->rr));
	}
	h->rr[h->n++] = s;
}

static void held_del(held_t *h, const char *s)
{
	long i = held_find(h, s);
	assert_true(i >= 0); /* a deletion of a record not held is a bug */
	free(h->rr[i]);
	h->rr[i] = h->rr[--h->n];
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The answer applied to h as a secondary does (RFC 1995 §4). *incremental: it was
 * a difference answer, not an AXFR-style one. */
static void apply(held_t *h, ldns_rr_list *l, bool *incremental)
{
	size_t n = ldns_rr_list_rr_count(l);
	assert_true(n >= 1);
	uint32_t new_serial = serial_of(ldns_rr_list_rr(l, 0));
	*incremental = n >= 2 && ldns_rr_get_type(ldns_rr_list_rr(l, 1)) == LDNS_RR_TYPE_SOA;
	if (n == 1)
		return; /* up to date */
	assert_true(serial_of(ldns_rr_list_rr(l, n - 1)) == new_serial);
	if (!*incremental) {
		held_free(h);
		h->soa = ldns_rr2str(ldns_rr_list_rr(l, 0));
		for (size_t i = 1; i < n - 1; i++)
			held_add(h, ldns_rr2str(ldns_rr_list_rr(l, i)));
		return;
	}
	size_t i = 1;
	while (i < n - 1) {
		/* old SOA: ours */
		char *old = ldns_rr2str(ldns_rr_list_rr(l, i++));
		assert_string_equal(old, h->soa);
		free(old);
		for (; ldns_rr_get_type(ldns_rr_list_rr(l, i)) != LDNS_RR_TYPE_SOA; i++) {
			char *s = ldns_rr2str(ldns_rr_list_rr(l, i));
			held_del(h, s);
			free(s);
		}
		free(h->soa);
		h->soa = ldns_rr2str(ldns_rr_list_rr(l, i++));
		for (; ldns_rr_get_type(ldns_rr_list_rr(l, i)) != LDNS_RR_TYPE_SOA; i++)
			held_add(h, ldns_rr2str(ldns_rr_list_rr(l, i)));
	}
}

/* h equals a fresh AXFR. */
static void check_equals_axfr(zg_dnssrv_t *s, held_t *h)
{
	int msgs;
	held_t fresh = {0};
	bool inc;
	ldns_rr_list *l = ask(s, false, 0, ZG_DNSSRV_TCP, false, &msgs);
	apply(&fresh, l, &inc);
	ldns_rr_list_deep_free(l);
	assert_string_equal(h->soa, fresh.soa);
	assert_int_equal(h->n, fresh.n);
	qsort(h->rr, h->n, sizeof(*h->rr), str_cmp);
	qsort(fresh.rr, fresh.n, sizeof(*fresh.rr), str_cmp);
	for (size_t i = 0; i < h->n; i++)
		assert_string_equal(h->rr[i], fresh.rr[i]);
	held_free(&fresh);
}

static void follow(zg_dnssrv_t *s, held_t *h, uint32_t from, bool sign, bool *incremental, int *msgs)
{
	ldns_rr_list *l = ask(s, true, from, ZG_DNSSRV_TCP, sign, msgs);
	apply(h, l, incremental);
	ldns_rr_list_deep_free(l);
}

/* ---- IXFR answers ---- */

static void test_ixfr_answers(void **state)
{
	zg_journal_limits_t lim = {.versions = 3, .bytes = 1 << 24};
	zg_journal_diff_t d;
	zone_t *z = malloc(sizeof(*z));
	zone_init(z);
	unlink(jpath);
	write_file(zpath, z);
	zg_dnssrv_t *s = new_srv();
	assert_int_equal(zg_dnssrv_publish(s, ZONE, zpath), RDNS_OK);
	held_t h = {0};
	bool inc;
	int msgs;

	/* no history yet: IXFR from an older serial is a full answer */
	follow(s, &h, S0 - 1, false, &inc, &msgs);
	assert_false(inc);
	assert_int_equal(h.n, N + 2);

	/* current serial: the SOA alone, over TCP and UDP */
	ldns_rr_list *l = ask(s, true, S0, ZG_DNSSRV_TCP, false, &msgs);
	assert_int_equal(ldns_rr_list_rr_count(l), 1);
	assert_int_equal(msgs, 1);
	ldns_rr_list_deep_free(l);
	l = ask(s, true, S0, ZG_DNSSRV_UDP, false, &msgs);
	assert_int_equal(ldns_rr_list_rr_count(l), 1);
	ldns_rr_list_deep_free(l);

	/* one version behind: one difference sequence */
	strcpy(z->target[5], "five.example.com.");
	next_version(z, &lim, &d);
	assert_int_equal(d.deleted, 1);
	assert_int_equal(zg_dnssrv_publish(s, ZONE, zpath), RDNS_OK);
	l = ask(s, true, S0, ZG_DNSSRV_TCP, false, &msgs);
	/* SOA(new), SOA(old), del, SOA(new), add, SOA(new) */
	assert_int_equal(ldns_rr_list_rr_count(l), 6);
	assert_int_equal(serial_of(ldns_rr_list_rr(l, 0)), S0 + 1);
	assert_int_equal(serial_of(ldns_rr_list_rr(l, 1)), S0);
	assert_int_equal(serial_of(ldns_rr_list_rr(l, 3)), S0 + 1);
	assert_int_equal(serial_of(ldns_rr_list_rr(l, 5)), S0 + 1);
	assert_int_equal(msgs, 1);
	apply(&h, l, &inc);
	assert_true(inc);
	ldns_rr_list_deep_free(l);
	check_equals_axfr(s, &h);

	/* over UDP, behind: the SOA alone ("use TCP", RFC 1995 §2) */
	l = ask(s, true, S0, ZG_DNSSRV_UDP, false, &msgs);
	assert_int_equal(ldns_rr_list_rr_count(l), 1);
	assert_int_equal(serial_of(ldns_rr_list_rr(l, 0)), S0 + 1);
	ldns_rr_list_deep_free(l);

	/* a client newer than us (RFC 1982) or up to date: the SOA alone (RFC 1995 §2) */
	l = ask(s, true, S0 + 100, ZG_DNSSRV_TCP, false, &msgs);
	assert_int_equal(ldns_rr_list_rr_count(l), 1);
	ldns_rr_list_deep_free(l);

	/* several behind: one sequence per version, uncondensed */
	held_t h2 = {0};
	follow(s, &h2, S0 - 1, false, &inc, &msgs); /* a second secondary, at S0 + 1 */
	strcpy(z->target[6], "six.example.com.");
	next_version(z, &lim, &d);
	z->target[7][0] = 0;
	next_version(z, &lim, &d);
	assert_int_equal(zg_dnssrv_publish(s, ZONE, zpath), RDNS_OK);
	l = ask(s, true, S0 + 1, ZG_DNSSRV_TCP, false, &msgs);
	/* SOA, [SOA-1 del SOA add], [SOA del SOA], SOA */
	assert_int_equal(ldns_rr_list_rr_count(l), 1 + 4 + 3 + 1);
	apply(&h2, l, &inc);
	assert_true(inc);
	ldns_rr_list_deep_free(l);
	check_equals_axfr(s, &h2);
	follow(s, &h, S0 + 1, true, &inc, &msgs); /* signed */
	assert_true(inc);
	check_equals_axfr(s, &h);

	/* pruned to 3 versions: from S0 + 2 on; S0 is too old (full) */
	strcpy(z->target[8], "eight.example.com.");
	next_version(z, &lim, &d);
	strcpy(z->target[9], "nine.example.com.");
	next_version(z, &lim, &d);
	assert_int_equal(zg_dnssrv_publish(s, ZONE, zpath), RDNS_OK);
	zg_journal_t *j;
	assert_int_equal(zg_journal_open(jpath, S0 + 5, &j), RDNS_OK);
	assert_non_null(j);
	assert_int_equal(j->n, 3);
	assert_int_equal(j->e[0].from, S0 + 2);
	zg_journal_free(j);
	held_t h3 = {0};
	l = ask(s, true, S0, ZG_DNSSRV_TCP, false, &msgs);
	apply(&h3, l, &inc);
	assert_false(inc);
	ldns_rr_list_deep_free(l);
	check_equals_axfr(s, &h3);
	follow(s, &h, S0 + 3, false, &inc, &msgs);
	assert_true(inc);
	check_equals_axfr(s, &h);

	/* a serial we never had (between versions, or one the history lost): full */
	l = ask(s, true, S0 + 1, ZG_DNSSRV_TCP, false, &msgs);
	apply(&h2, l, &inc);
	assert_false(inc);
	ldns_rr_list_deep_free(l);
	check_equals_axfr(s, &h2);

	held_free(&h);
	held_free(&h2);
	held_free(&h3);
	zg_dnssrv_free(s);
	free(z);
}

/* A big difference over several messages, every one signed (RFC 8945 §5.3.1). */
static void test_ixfr_tsig_every_message(void **state)
{
	zg_journal_limits_t lim = {.versions = 10, .bytes = 1 << 24};
	zg_journal_diff_t d;
	zone_t *z = malloc(sizeof(*z));
	zone_init(z);
	unlink(jpath);
	write_file(zpath, z);
	zg_dnssrv_t *s = new_srv();
	assert_int_equal(zg_dnssrv_publish(s, ZONE, zpath), RDNS_OK);
	held_t h = {0};
	bool inc;
	int msgs;
	follow(s, &h, S0 - 1, true, &inc, &msgs);
	for (int v = 0; v < 4; v++) { /* four template edits: ~4 * 1200 records */
		for (int i = 0; i < N; i++)
			snprintf(z->target[i], sizeof(z->target[i]),
			         "a-long-template-name-%d-v%d.pool.example.net.", i, v);
		next_version(z, &lim, &d);
	}
	assert_int_equal(zg_dnssrv_publish(s, ZONE, zpath), RDNS_OK);
	follow(s, &h, S0, true, &inc, &msgs);
	assert_true(inc);
	assert_true(msgs >= 3);
	check_equals_axfr(s, &h);
	held_free(&h);
	zg_dnssrv_free(s);
	free(z);
}

/* Random changes, a client following by IXFR only, checked against AXFR each round. */
static void test_ixfr_random_follow(void **state)
{
	zg_journal_limits_t lim = {.versions = 8, .bytes = 1 << 24};
	zg_journal_diff_t d;
	zone_t *z = malloc(sizeof(*z));
	zone_init(z);
	unlink(jpath);
	write_file(zpath, z);
	zg_dnssrv_t *s = new_srv();
	assert_int_equal(zg_dnssrv_publish(s, ZONE, zpath), RDNS_OK);
	held_t h = {0};
	bool inc;
	int msgs, incremental = 0;
	follow(s, &h, S0 - 1, false, &inc, &msgs);
	uint32_t held_serial = S0;
	srand(1995);
	char tmpl[32] = "pool";
	for (int round = 0; round < 60; round++) {
		int kind = rand() % 10;
		if (kind == 0) { /* a default-template edit */
			snprintf(tmpl, sizeof(tmpl), "pool%d", rand() % 5);
			for (int i = 0; i < N; i++)
				if (z->target[i][0] && strstr(z->target[i], ".pool"))
					snprintf(z->target[i], sizeof(z->target[i]),
					         "%d-0-10.%s.example.net.", i % 256, tmpl);
		} else if (kind == 1 && rand() % 3 == 0) { /* the allocation deleted, or back */
			bool empty = true;
			for (int i = 0; i < N; i++)
				empty = empty && !z->target[i][0];
			for (int i = 0; i < N; i++)
				if (empty)
					snprintf(z->target[i], sizeof(z->target[i]),
					         "%d-0-10.%s.example.net.", i % 256, tmpl);
				else
					z->target[i][0] = 0;
		} else { /* sets, resets, deletions */
			for (int k = rand() % 50; k >= 0; k--) {
				int i = rand() % N, op = rand() % 3;
				if (op == 0)
					snprintf(z->target[i], sizeof(z->target[i]), "h%d.example.com.",
					         rand() % 1000);
				else if (op == 1)
					snprintf(z->target[i], sizeof(z->target[i]),
					         "%d-0-10.%s.example.net.", i % 256, tmpl);
				else
					z->target[i][0] = 0;
			}
		}
		next_version(z, &lim, &d);
		assert_int_equal(zg_dnssrv_publish(s, ZONE, zpath), RDNS_OK);
		if (rand() % 3 == 0)
			continue; /* the secondary falls behind now and then */
		follow(s, &h, held_serial, rand() % 2, &inc, &msgs);
		incremental += inc;
		held_serial = z->serial;
		check_equals_axfr(s, &h);
	}
	assert_true(incremental >= 30);
	held_free(&h);
	zg_dnssrv_free(s);
	free(z);
}

/* A torn or damaged journal is not trusted: full answers, never wrong ones. */
static void test_journal_damage(void **state)
{
	zg_journal_limits_t lim = {.versions = 10, .bytes = 1 << 24};
	zg_journal_diff_t d;
	zone_t *z = malloc(sizeof(*z));
	zg_journal_t *j;
	zone_init(z);
	unlink(jpath);
	write_file(zpath, z);
	/* no old file: no journal */
	unlink(zpath);
	z->serial--;
	next_version(z, &lim, &d);
	assert_int_equal(access(jpath, F_OK), -1);
	strcpy(z->target[1], "one.example.com.");
	next_version(z, &lim, &d);
	strcpy(z->target[2], "two.example.com.");
	next_version(z, &lim, &d);
	assert_int_equal(zg_journal_open(jpath, z->serial, &j), RDNS_OK);
	assert_non_null(j);
	assert_int_equal(j->n, 2);
	zg_journal_free(j);
	/* not ending at the file's serial: not this file's history */
	assert_int_equal(zg_journal_open(jpath, z->serial + 1, &j), RDNS_OK);
	assert_null(j);
	struct stat st;
	assert_int_equal(stat(jpath, &st), 0);
	/* torn: cut anywhere */
	char *all = malloc((size_t)st.st_size);
	FILE *f = fopen(jpath, "r");
	assert_int_equal(fread(all, 1, (size_t)st.st_size, f), (size_t)st.st_size);
	fclose(f);
	log_set_level(LOG_LVL_ERR); /* the warnings below are expected */
	for (off_t cut = 1; cut < st.st_size; cut += 7) {
		assert_int_equal(truncate(jpath, cut), 0);
		assert_int_equal(zg_journal_open(jpath, z->serial, &j), RDNS_OK);
		assert_null(j);
		f = fopen(jpath, "w");
		fwrite(all, 1, (size_t)st.st_size, f);
		fclose(f);
	}
	/* one byte changed in a body */
	f = fopen(jpath, "r+");
	fseek(f, st.st_size - 3, SEEK_SET);
	fputc('X', f);
	fclose(f);
	assert_int_equal(zg_journal_open(jpath, z->serial, &j), RDNS_OK);
	assert_null(j);
	zg_dnssrv_t *s = new_srv();
	assert_int_equal(zg_dnssrv_publish(s, ZONE, zpath), RDNS_OK);
	int msgs;
	ldns_rr_list *l = ask(s, true, z->serial - 1, ZG_DNSSRV_TCP, false, &msgs);
	assert_int_equal(ldns_rr_list_rr_count(l), (size_t)N + 4); /* full: SOA, 2 NS, the PTRs, SOA */
	ldns_rr_list_deep_free(l);
	/* the next version starts a fresh history */
	strcpy(z->target[3], "three.example.com.");
	next_version(z, &lim, &d);
	assert_int_equal(zg_journal_open(jpath, z->serial, &j), RDNS_OK);
	assert_non_null(j);
	assert_int_equal(j->n, 1);
	zg_journal_free(j);
	/* history off: the journal goes */
	zg_journal_limits_t off = {0};
	strcpy(z->target[4], "four.example.com.");
	next_version(z, &off, &d);
	assert_int_equal(access(jpath, F_OK), -1);
	/* a difference over the byte bound alone: not kept */
	zg_journal_limits_t small = {.versions = 10, .bytes = 300};
	for (int i = 0; i < N; i++)
		strcpy(z->target[i], "x.example.com.");
	next_version(z, &small, &d);
	assert_int_equal(access(jpath, F_OK), -1);
	log_set_level(LOG_LVL_INFO);
	zg_dnssrv_free(s);
	free(all);
	free(z);
}

/* A render whose commit failed after its journal was written (a serialization conflict)
 * is done again with the same serial and other content: the entry of the version that
 * never took the file's place goes, the history before it stays. */
static void test_journal_after_failed_commit(void **state)
{
	zg_journal_limits_t lim = {.versions = 10, .bytes = 1 << 24};
	zg_journal_diff_t d;
	zone_t *z = malloc(sizeof(*z));
	zg_journal_t *j;
	zone_init(z);
	unlink(jpath);
	write_file(zpath, z);
	zg_dnssrv_t *s = new_srv();
	assert_int_equal(zg_dnssrv_publish(s, ZONE, zpath), RDNS_OK);
	held_t h = {0};
	bool inc;
	int msgs;
	follow(s, &h, S0 - 1, false, &inc, &msgs);
	strcpy(z->target[1], "one.example.com.");
	next_version(z, &lim, &d); /* S0 + 1, in place */
	/* S0 + 2 journaled, never renamed into place */
	z->serial++;
	strcpy(z->target[2], "lost.example.com.");
	write_file(npath, z);
	assert_int_equal(zg_journal_update(jpath, zpath, npath, &lim, &d), RDNS_OK);
	/* done again: S0 + 2 with other content */
	z->serial--;
	strcpy(z->target[2], "two.example.com.");
	next_version(z, &lim, &d);
	assert_int_equal(zg_journal_open(jpath, S0 + 2, &j), RDNS_OK);
	assert_non_null(j);
	assert_int_equal(j->n, 2);
	assert_int_equal(j->e[0].from, S0);
	zg_journal_free(j);
	assert_int_equal(zg_dnssrv_publish(s, ZONE, zpath), RDNS_OK);
	follow(s, &h, S0, false, &inc, &msgs);
	assert_true(inc);
	check_equals_axfr(s, &h);
	held_free(&h);
	zg_dnssrv_free(s);
	free(z);
}

static void test_plan(void **state)
{
	zg_zonedb_snap_t sn = {0};
	zg_journal_entry_t e[2] = {{.from = 10, .to = 11}, {.from = 11, .to = 12}};
	zg_journal_t j = {.file = ZG_FDC_NONE, .e = e, .n = 2};
	sn.soa.soa[0] = 12;
	long entry;
	struct {
		bool journal, has;
		uint32_t serial;
		int transport;
		zg_xfr_plan_t want;
		long entry;
	} t[] = {
	    {true, true, 12, ZG_QUERY_TCP, ZG_XFR_SOA, -1},                 /* current */
	    {true, true, 13, ZG_QUERY_TCP, ZG_XFR_SOA, -1},                 /* newer */
	    {true, true, 12 + 0x7fffffffu, ZG_QUERY_TCP, ZG_XFR_SOA, -1},   /* newer by RFC 1982 */
	    {true, true, 11, ZG_QUERY_TCP, ZG_XFR_INCREMENTAL, 1},          /* one behind */
	    {true, true, 10, ZG_QUERY_TCP, ZG_XFR_INCREMENTAL, 0},          /* two behind */
	    {true, true, 9, ZG_QUERY_TCP, ZG_XFR_FULL, -1},                 /* too old */
	    {true, true, 11, ZG_QUERY_UDP, ZG_XFR_SOA, -1},                 /* UDP: use TCP */
	    {true, false, 0, ZG_QUERY_TCP, ZG_XFR_FULL, -1},                /* no serial */
	    {false, true, 11, ZG_QUERY_TCP, ZG_XFR_FULL, -1},               /* no history */
	    {true, true, 12u + 0x80000001u, ZG_QUERY_TCP, ZG_XFR_FULL, -1}, /* older across the wrap */
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		sn.journal = t[i].journal ? &j : NULL;
		assert_int_equal(zg_xfr_ixfr_plan(&sn, t[i].has, t[i].serial, t[i].transport, &entry),
		                 t[i].want);
		if (t[i].want == ZG_XFR_INCREMENTAL)
			assert_int_equal(entry, t[i].entry);
	}
}

int main(void)
{
	log_set_level(LOG_LVL_ERR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_diff_cases),
	    cmocka_unit_test(test_diff_refuses_other_orders),
	    cmocka_unit_test(test_plan),
	    cmocka_unit_test(test_ixfr_answers),
	    cmocka_unit_test(test_ixfr_tsig_every_message),
	    cmocka_unit_test(test_ixfr_random_follow),
	    cmocka_unit_test(test_journal_damage),
	    cmocka_unit_test(test_journal_after_failed_commit),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
