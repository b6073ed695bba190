/* test_dnssrv.c - the hidden primary over real loopback sockets and through its packet handler. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <ldns/ldns.h>
#include <openssl/evp.h>

#include "core/err.h"
#include "core/log.h"
#include "zonegen/dnssrv.h"
#include "zonegen/zonedb.h"
#include "zonegen/tsig.h"
#include "zonegen/wire.h"

#define SMALL  "2.0.192.in-addr.arpa."
#define BIG    "0.10.in-addr.arpa."
#define SERIAL 2026112601u
#define BIG_N  20000

static const zg_tsig_key_t KEYS[2] = {
    {.name = "xfr-key.", .secret = "0123456789abcdef0123456789abcdef", .secret_len = 32},
    {.name = "other", .secret = "another secret!!", .secret_len = 16},
};

static char dir[64];
static char small_path[128], big_path[128];
static zg_dnssrv_t *srv_a; /* TSIG optional, allow 127.0.0.1, idle 300 ms, 3 clients */
static zg_dnssrv_t *srv_b; /* transfer_key xfr-key */
static uint16_t port_a, port_b;

/* ---- fixtures ---- */

static void write_zone(const char *path, const char *zone, uint32_t serial, int n, const char *extra)
{
	char tmp[160];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	assert_non_null(f);
	fprintf(f, "; rdns zone %s serial %u\n", zone, serial);
	fprintf(f, "%s 3600 IN SOA ns1.example.net. hostmaster.example.net. %u 3600 900 1209600 3600\n", zone,
	        serial);
	fprintf(f, "%s 3600 IN NS ns1.example.net.\n", zone);
	fprintf(f, "%s 3600 IN NS ns2.example.net.\n", zone);
	for (int i = 0; i < n; i++) {
		if (strcmp(zone, BIG) == 0)
			fprintf(f, "%d.%d.%s 3600 IN PTR host-%d.example.com.\n", i % 256, i / 256, zone, i);
		else
			fprintf(f, "%d.%s 3600 IN PTR host-%d.example.com.\n", i, zone, i);
	}
	if (extra)
		fputs(extra, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, path), 0); /* atomic, like the renderer */
}

static int setup(void **state)
{
	strcpy(dir, "/tmp/zg_dnssrv.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(small_path, sizeof(small_path), "%s/small.zone", dir);
	snprintf(big_path, sizeof(big_path), "%s/big.zone", dir);
	write_zone(small_path, SMALL, SERIAL, 256, NULL);
	write_zone(big_path, BIG, SERIAL, BIG_N, NULL);

	int err;
	zg_dnssrv_conf_t a = {.listen = "127.0.0.1:0",
	                      .transfer_allow = "127.0.0.1",
	                      .keys = KEYS,
	                      .n_keys = 2,
	                      .tcp_idle_timeout_ms = 300,
	                      .max_tcp_clients = 3};
	srv_a = zg_dnssrv_new(&a, &err);
	assert_non_null(srv_a);
	zg_dnssrv_conf_t b = {.listen = "127.0.0.1:0",
	                      .transfer_allow = "127.0.0.0/8, ::1",
	                      .keys = KEYS,
	                      .n_keys = 2,
	                      .transfer_key = "xfr-key"};
	srv_b = zg_dnssrv_new(&b, &err);
	assert_non_null(srv_b);
	port_a = zg_dnssrv_port(srv_a);
	port_b = zg_dnssrv_port(srv_b);
	assert_true(port_a != 0 && port_b != 0 && port_a != port_b);
	for (int i = 0; i < 2; i++) {
		zg_dnssrv_t *s = i ? srv_b : srv_a;
		assert_int_equal(zg_dnssrv_publish(s, SMALL, small_path), RDNS_OK);
		assert_int_equal(zg_dnssrv_publish(s, BIG, big_path), RDNS_OK);
		assert_int_equal(zg_dnssrv_start(s), RDNS_OK);
		assert_int_equal(zg_dnssrv_start(s), RDNS_EINVAL);
	}
	return 0;
}

static int teardown(void **state)
{
	zg_dnssrv_free(srv_a);
	zg_dnssrv_free(srv_b);
	unlink(small_path);
	unlink(big_path);
	rmdir(dir);
	return 0;
}

/* ---- client helpers ---- */

typedef struct {
	uint16_t id;
	uint16_t flags; /* opcode bits etc. */
	const char *name;
	uint16_t qtype;
	uint16_t qclass;
	bool has_ixfr;
	uint32_t ixfr_serial;
	bool edns;
	uint8_t edns_version;
} q_t;

static size_t build(uint8_t *buf, size_t cap, const q_t *q)
{
	uint8_t n[ZG_WIRE_NAME_MAX];
	size_t nl;
	zg_wire_msg_t m;
	assert_int_equal(zg_wire_name_from_text(q->name, strlen(q->name), false, n, &nl), RDNS_OK);
	zg_wire_msg_init(&m, buf, cap, NULL, 0);
	zg_wire_msg_reset(&m, q->id, q->flags);
	assert_int_equal(zg_wire_msg_put_question(&m, n, nl, q->qtype, q->qclass ? q->qclass : ZG_CLASS_IN),
	                 RDNS_OK);
	if (q->has_ixfr) {
		char line[256];
		zg_wire_zrr_t rr;
		snprintf(line, sizeof(line),
		         "%s 3600 IN SOA ns1.example.net. hostmaster.example.net. %u 1 2 3 4", q->name,
		         q->ixfr_serial);
		assert_int_equal(zg_wire_zrr_parse(line, strlen(line), &rr), RDNS_OK);
		assert_int_equal(zg_wire_msg_put_zrr(&m, ZG_SEC_NS, &rr), RDNS_OK);
	}
	if (q->edns) {
		static const uint8_t root = 0;
		size_t rdl;
		assert_int_equal(zg_wire_msg_rr_begin(&m, &root, 1, ZG_TYPE_OPT, 1232,
		                                      (uint32_t)q->edns_version << 16, &rdl),
		                 RDNS_OK);
		zg_wire_msg_rr_end(&m, ZG_SEC_AR, rdl);
	}
	zg_wire_msg_finish(&m);
	return m.len;
}

static int udp_exchange(uint16_t port, const uint8_t *q, size_t ql, uint8_t *out, size_t cap, int timeout_ms)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_true(fd >= 0);
	assert_int_equal(sendto(fd, q, ql, 0, (struct sockaddr *)&sa, sizeof(sa)), (ssize_t)ql);
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	int n = -1;
	if (poll(&pf, 1, timeout_ms) == 1)
		n = (int)recv(fd, out, cap, 0);
	close(fd);
	return n;
}

static int tcp_connect(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void tcp_send(int fd, const uint8_t *q, size_t ql)
{
	uint8_t b[70000];
	zg_wire_put16(b, (uint16_t)ql);
	memcpy(b + 2, q, ql);
	assert_int_equal(send(fd, b, ql + 2, 0), (ssize_t)(ql + 2));
}

/* Read exactly n bytes within timeout_ms: 0, or -1 on EOF/error/timeout. */
static int read_n(int fd, uint8_t *b, size_t n, int timeout_ms)
{
	size_t got = 0;
	while (got < n) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		if (poll(&pf, 1, timeout_ms) != 1)
			return -1;
		ssize_t k = recv(fd, b + got, n - got, 0);
		if (k <= 0)
			return -1;
		got += (size_t)k;
	}
	return 0;
}

/* One framed message: its length, or -1. */
static int tcp_recv(int fd, uint8_t *out, size_t cap, int timeout_ms)
{
	uint8_t l[2];
	if (read_n(fd, l, 2, timeout_ms) != 0)
		return -1;
	size_t n = zg_wire_get16(l);
	assert_true(n <= cap);
	if (read_n(fd, out, n, timeout_ms) != 0)
		return -1;
	return (int)n;
}

static ldns_pkt *parse(const uint8_t *w, int n)
{
	ldns_pkt *p = NULL;
	assert_true(n > 0);
	assert_int_equal(ldns_wire2pkt(&p, w, (size_t)n), LDNS_STATUS_OK);
	return p;
}

static uint32_t soa_serial_of(const ldns_rr *rr)
{
	assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_SOA);
	return ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
}

/* rcode including the EDNS extension bits. */
static unsigned full_rcode(const ldns_pkt *p)
{
	return ldns_pkt_get_rcode(p) | ((unsigned)ldns_pkt_edns_extended_rcode(p) << 4);
}

/* ---- SOA ---- */

static void test_soa_udp_tcp(void **state)
{
	uint8_t q[512], r[4096];
	q_t spec = {.id = 0xabcd, .flags = ZG_WIRE_RD, .name = "2.0.192.IN-ADDR.arpa", .qtype = ZG_TYPE_SOA};
	size_t ql = build(q, sizeof(q), &spec);

	int n = udp_exchange(port_a, q, ql, r, sizeof(r), 2000);
	ldns_pkt *p = parse(r, n);
	assert_int_equal(ldns_pkt_id(p), 0xabcd);
	assert_true(ldns_pkt_qr(p));
	assert_true(ldns_pkt_aa(p));
	assert_true(ldns_pkt_rd(p)); /* RFC 1035: RD is copied */
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_int_equal(soa_serial_of(ldns_rr_list_rr(ldns_pkt_answer(p), 0)), SERIAL);
	ldns_pkt_free(p);

	int fd = tcp_connect(port_a);
	tcp_send(fd, q, ql);
	n = tcp_recv(fd, r, sizeof(r), 2000);
	p = parse(r, n);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_aa(p));
	assert_int_equal(soa_serial_of(ldns_rr_list_rr(ldns_pkt_answer(p), 0)), SERIAL);
	ldns_pkt_free(p);
	close(fd);

	/* EDNS: answered with an OPT; version 1 gets BADVERS. */
	spec.edns = true;
	ql = build(q, sizeof(q), &spec);
	n = udp_exchange(port_a, q, ql, r, sizeof(r), 2000);
	p = parse(r, n);
	assert_true(ldns_pkt_edns(p));
	assert_int_equal(full_rcode(p), 0);
	ldns_pkt_free(p);
	spec.edns_version = 1;
	ql = build(q, sizeof(q), &spec);
	n = udp_exchange(port_a, q, ql, r, sizeof(r), 2000);
	p = parse(r, n);
	assert_int_equal(full_rcode(p), ZG_RCODE_BADVERS);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);

	/* Unsigned SOA is fine even where transfers need the key. */
	spec.edns = false;
	ql = build(q, sizeof(q), &spec);
	n = udp_exchange(port_b, q, ql, r, sizeof(r), 2000);
	p = parse(r, n);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ldns_pkt_free(p);
}

typedef struct {
	const char *what;
	q_t q;
	bool tcp;
	unsigned rcode;
} rc_case_t;

static void test_rcode_table(void **state)
{
	/* ordinary queries inside a zone are answered: test_query_answers */
	const rc_case_t cases[] = {
	    {"unpublished zone",
	     {.id = 6, .name = "3.0.192.in-addr.arpa.", .qtype = ZG_TYPE_SOA},
	     false,
	     ZG_RCODE_REFUSED},
	    {"parent of a zone",
	     {.id = 7, .name = "0.192.in-addr.arpa.", .qtype = ZG_TYPE_SOA},
	     false,
	     ZG_RCODE_REFUSED},
	    {"class CH",
	     {.id = 8, .name = SMALL, .qtype = ZG_TYPE_SOA, .qclass = 3},
	     false,
	     ZG_RCODE_REFUSED},
	    {"AXFR of unpublished",
	     {.id = 9, .name = "3.0.192.in-addr.arpa.", .qtype = ZG_TYPE_AXFR},
	     true,
	     ZG_RCODE_REFUSED},
	    {"AXFR over UDP", {.id = 10, .name = SMALL, .qtype = ZG_TYPE_AXFR}, false, ZG_RCODE_FORMERR},
	    {"NOTIFY",
	     {.id = 11, .flags = ZG_OPCODE_NOTIFY << 11, .name = SMALL, .qtype = ZG_TYPE_SOA},
	     false,
	     ZG_RCODE_NOTIMP},
	    {"STATUS opcode",
	     {.id = 12, .flags = 2 << 11, .name = SMALL, .qtype = ZG_TYPE_SOA},
	     true,
	     ZG_RCODE_NOTIMP},
	    {"UPDATE opcode",
	     {.id = 13, .flags = 5 << 11, .name = SMALL, .qtype = ZG_TYPE_SOA},
	     false,
	     ZG_RCODE_NOTIMP},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t q[512], r[4096];
		size_t ql = build(q, sizeof(q), &cases[i].q);
		int n;
		if (cases[i].tcp) {
			int fd = tcp_connect(port_a);
			tcp_send(fd, q, ql);
			n = tcp_recv(fd, r, sizeof(r), 2000);
			close(fd);
		} else {
			n = udp_exchange(port_a, q, ql, r, sizeof(r), 2000);
		}
		ldns_pkt *p = parse(r, n);
		if (ldns_pkt_get_rcode(p) != cases[i].rcode)
			fail_msg("case %s: rcode %d, want %u", cases[i].what, ldns_pkt_get_rcode(p),
			         cases[i].rcode);
		assert_int_equal(ldns_pkt_id(p), cases[i].q.id);
		assert_true(ldns_pkt_qr(p));
		assert_false(ldns_pkt_aa(p));
		assert_int_equal(ldns_pkt_ancount(p), 0);
		assert_int_equal(ldns_pkt_qdcount(p), 1); /* the question is echoed */
		assert_int_equal(ldns_pkt_get_opcode(p), (cases[i].q.flags >> 11) & 0xf);
		ldns_pkt_free(p);
	}
}

/* ---- malformed input through the handler (pure) and over UDP ---- */

typedef struct {
	uint8_t *msgs[64];
	size_t lens[64];
	int n;
} sink_t;

static int sink_emit(void *arg, const uint8_t *msg, size_t len)
{
	sink_t *s = arg;
	if (s->n >= 64)
		return -1;
	s->msgs[s->n] = malloc(len);
	memcpy(s->msgs[s->n], msg, len);
	s->lens[s->n++] = len;
	return 0;
}

static void sink_free(sink_t *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->msgs[i]);
	s->n = 0;
}

static const struct sockaddr *from4(const char *a)
{
	static struct sockaddr_in sin;
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, a, &sin.sin_addr);
	return (const struct sockaddr *)&sin;
}

static const struct sockaddr *lo4(void)
{
	static struct sockaddr_in sin;
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	return (const struct sockaddr *)&sin;
}

typedef struct {
	const char *what;
	const uint8_t *q;
	size_t len;
	int rc;      /* of the handler */
	int rcode;   /* -1: nothing emitted */
	int qdcount; /* echoed question count */
} bad_case_t;

static void test_malformed_table(void **state)
{
	/* header: id 0x0102, flags 0 */
#define H(qd, an, ns, ar) 1, 2, 0, 0, 0, qd, 0, an, 0, ns, 0, ar
	static const uint8_t short5[] = {1, 2, 0, 0, 0};
	static const uint8_t qr_set[] = {1, 2, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 1};
	static const uint8_t qd0[] = {H(0, 0, 0, 0)};
	static const uint8_t qd2[] = {H(2, 0, 0, 0), 0, 0, 6, 0, 1, 0, 0, 6, 0, 1};
	static const uint8_t loop[] = {H(1, 0, 0, 0), 0xc0, 12, 0, 6, 0, 1};
	static const uint8_t fwd[] = {H(1, 0, 0, 0), 0xc0, 20, 0, 6, 0, 1, 0, 0, 0, 0};
	static const uint8_t trunc_name[] = {H(1, 0, 0, 0), 5, 'a', 'b'};
	static const uint8_t no_qtype[] = {H(1, 0, 0, 0), 1, 'a', 0, 0};
	static const uint8_t lbl40[] = {H(1, 0, 0, 0), 0x41, 'a', 0, 0, 6, 0, 1};
	static const uint8_t trailing[] = {H(1, 0, 0, 0), 0, 0, 6, 0, 1, 0xff};
	static const uint8_t an_short[] = {H(1, 1, 0, 0), 0, 0, 6, 0, 1, 0, 0, 1};
	static const uint8_t rdlen_over[] = {
	    H(1, 0, 0, 1), 0, 0, 6, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 9, 1};
	static const uint8_t two_opt[] = {
	    H(1, 0, 0, 2), 0, 0, 6, 0, 1, 0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0};
	static const uint8_t tsig_not_last[] = {H(1, 0, 0, 2),
	                                        0,
	                                        0,
	                                        6,
	                                        0,
	                                        1,
	                                        1,
	                                        'k',
	                                        0,
	                                        0,
	                                        250,
	                                        0,
	                                        255,
	                                        0,
	                                        0,
	                                        0,
	                                        0,
	                                        0,
	                                        0,
	                                        0,
	                                        0,
	                                        41,
	                                        4,
	                                        0,
	                                        0,
	                                        0,
	                                        0,
	                                        0,
	                                        0,
	                                        0};
	static const uint8_t tsig_garbage[] = {H(1, 0, 0, 1), 0, 0, 6, 0, 1, 1, 'k', 0, 0, 250, 0,
	                                       255,           0, 0, 0, 0, 0, 3, 1,   2, 3};
	static const uint8_t notify_garbage[] = {1, 2, 0x20, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0};
	const bad_case_t cases[] = {
	    {"short", short5, sizeof(short5), RDNS_EDNS, -1, 0},
	    {"empty", short5, 0, RDNS_EDNS, -1, 0},
	    {"QR set", qr_set, sizeof(qr_set), RDNS_EDNS, -1, 0},
	    {"QDCOUNT 0", qd0, sizeof(qd0), RDNS_OK, ZG_RCODE_FORMERR, 0},
	    {"QDCOUNT 2", qd2, sizeof(qd2), RDNS_OK, ZG_RCODE_FORMERR, 0},
	    {"pointer loop", loop, sizeof(loop), RDNS_OK, ZG_RCODE_FORMERR, 0},
	    {"forward pointer", fwd, sizeof(fwd), RDNS_OK, ZG_RCODE_FORMERR, 0},
	    {"truncated name", trunc_name, sizeof(trunc_name), RDNS_OK, ZG_RCODE_FORMERR, 0},
	    {"no qtype", no_qtype, sizeof(no_qtype), RDNS_OK, ZG_RCODE_FORMERR, 0},
	    {"label type 0x40", lbl40, sizeof(lbl40), RDNS_OK, ZG_RCODE_FORMERR, 0},
	    {"trailing byte", trailing, sizeof(trailing), RDNS_OK, ZG_RCODE_FORMERR, 1},
	    {"answer RR cut", an_short, sizeof(an_short), RDNS_OK, ZG_RCODE_FORMERR, 1},
	    {"RDLENGTH past end", rdlen_over, sizeof(rdlen_over), RDNS_OK, ZG_RCODE_FORMERR, 1},
	    {"two OPT", two_opt, sizeof(two_opt), RDNS_OK, ZG_RCODE_FORMERR, 1},
	    {"TSIG not last", tsig_not_last, sizeof(tsig_not_last), RDNS_OK, ZG_RCODE_FORMERR, 1},
	    {"TSIG garbage", tsig_garbage, sizeof(tsig_garbage), RDNS_OK, ZG_RCODE_FORMERR, 1},
	    {"NOTIFY, bad question", notify_garbage, sizeof(notify_garbage), RDNS_OK, ZG_RCODE_NOTIMP, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int transport = 0; transport < 2; transport++) {
			sink_t s = {0};
			int rc = zg_dnssrv_handle(srv_a, cases[i].q, cases[i].len, lo4(), transport,
			                          sink_emit, &s);
			if (rc != cases[i].rc)
				fail_msg("case %s: rc %d, want %d", cases[i].what, rc, cases[i].rc);
			if (cases[i].rcode < 0) {
				assert_int_equal(s.n, 0);
				continue;
			}
			assert_int_equal(s.n, 1);
			zg_wire_hdr_t h;
			assert_int_equal(zg_wire_hdr_parse(s.msgs[0], s.lens[0], &h), RDNS_OK);
			assert_int_equal(h.id, 0x0102);
			assert_true(h.flags & ZG_WIRE_QR);
			if ((int)ZG_WIRE_RCODE(h.flags) != cases[i].rcode)
				fail_msg("case %s: rcode %u, want %d", cases[i].what, ZG_WIRE_RCODE(h.flags),
				         cases[i].rcode);
			assert_int_equal(h.count[0], cases[i].qdcount);
			assert_int_equal(h.count[1] + h.count[2] + h.count[3], 0);
			sink_free(&s);
		}
	}
	/* And over the network: garbage gets FORMERR, a short packet nothing. */
	uint8_t r[512];
	int n = udp_exchange(port_a, loop, sizeof(loop), r, sizeof(r), 2000);
	assert_int_equal(n, 12);
	assert_int_equal(ZG_WIRE_RCODE(zg_wire_get16(r + 2)), ZG_RCODE_FORMERR);
	assert_int_equal(udp_exchange(port_a, short5, sizeof(short5), r, sizeof(r), 300), -1);
	assert_int_equal(udp_exchange(port_a, qr_set, sizeof(qr_set), r, sizeof(r), 300), -1);
	/* The server still answers afterwards. */
	uint8_t q[512];
	q_t spec = {.id = 77, .name = SMALL, .qtype = ZG_TYPE_SOA};
	size_t ql = build(q, sizeof(q), &spec);
	n = udp_exchange(port_a, q, ql, r, sizeof(r), 2000);
	assert_true(n > 12);
}

/* ---- AXFR ---- */

typedef struct {
	int msgs;
	size_t records;
	uint32_t first_serial, last_serial;
	size_t max_msg;
	ldns_rr_list *rrs; /* all records, in order */
} xfr_t;

/* Read an AXFR (or single-SOA IXFR) answer: until the second SOA, or one
 * message when it holds a single SOA only. If ctx, verify every message. */
static void read_xfr(int fd, uint16_t id, xfr_t *x, zg_tsig_ctx_t *ctx)
{
	static uint8_t buf[65536];
	int soas = 0;
	memset(x, 0, sizeof(*x));
	x->rrs = ldns_rr_list_new();
	for (;;) {
		int n = tcp_recv(fd, buf, sizeof(buf), 5000);
		assert_true(n > 0);
		if ((size_t)n > x->max_msg)
			x->max_msg = (size_t)n;
		if (ctx)
			assert_int_equal(zg_tsig_verify_response(ctx, buf, (size_t)n, (uint64_t)time(NULL)),
			                 RDNS_OK);
		ldns_pkt *p = parse(buf, n);
		assert_int_equal(ldns_pkt_id(p), id);
		assert_true(ldns_pkt_qr(p));
		assert_true(ldns_pkt_aa(p));
		assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
		/* RFC 5936 §2.2.1: the question in the first message (we omit it later). */
		assert_int_equal(ldns_pkt_qdcount(p), x->msgs == 0 ? 1 : 0);
		x->msgs++;
		ldns_rr_list *an = ldns_pkt_answer(p);
		for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
			ldns_rr *rr = ldns_rr_list_rr(an, i);
			ldns_rr_list_push_rr(x->rrs, ldns_rr_clone(rr));
			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA) {
				if (soas++ == 0)
					x->first_serial = soa_serial_of(rr);
				else
					x->last_serial = soa_serial_of(rr);
			}
		}
		x->records += ldns_rr_list_rr_count(an);
		size_t cnt = ldns_rr_list_rr_count(an);
		ldns_pkt_free(p);
		if (soas >= 2 || (x->msgs == 1 && cnt == 1 && soas == 1))
			break;
	}
}

static void check_big_zone(const xfr_t *x, uint32_t serial, int n)
{
	assert_int_equal(x->records, (size_t)n + 4); /* SOA, 2 NS, n PTR, SOA */
	assert_int_equal(x->first_serial, serial);
	assert_int_equal(x->last_serial, serial);
	assert_true(x->max_msg <= 65535);
	ldns_rr *first = ldns_rr_list_rr(x->rrs, 0);
	ldns_rr *last = ldns_rr_list_rr(x->rrs, x->records - 1);
	assert_int_equal(ldns_rr_get_type(first), LDNS_RR_TYPE_SOA);
	assert_int_equal(ldns_rr_get_type(last), LDNS_RR_TYPE_SOA);
	/* Every record in file order, names intact after compression. */
	for (int i = 0; i < n; i++) {
		ldns_rr *rr = ldns_rr_list_rr(x->rrs, (size_t)i + 3);
		char want_o[80], want_t[80];
		snprintf(want_o, sizeof(want_o), "%d.%d.%s", i % 256, i / 256, BIG);
		snprintf(want_t, sizeof(want_t), "host-%d.example.com.", i);
		char *o = ldns_rdf2str(ldns_rr_owner(rr));
		char *t = ldns_rdf2str(ldns_rr_rdf(rr, 0));
		assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_PTR);
		assert_int_equal(ldns_rr_ttl(rr), 3600);
		assert_string_equal(o, want_o);
		assert_string_equal(t, want_t);
		free(o);
		free(t);
	}
}

static void test_axfr_tcp(void **state)
{
	uint8_t q[512];
	q_t spec = {.id = 0x4444, .name = BIG, .qtype = ZG_TYPE_AXFR};
	size_t ql = build(q, sizeof(q), &spec);
	int fd = tcp_connect(port_a);
	tcp_send(fd, q, ql);
	xfr_t x;
	read_xfr(fd, 0x4444, &x, NULL);
	check_big_zone(&x, SERIAL, BIG_N);
	assert_true(x.msgs >= 5); /* ~620 KB compressed in messages of at most 64 KiB */
	assert_true(x.max_msg > 16 * 1024);
	ldns_rr_list_deep_free(x.rrs);
	close(fd); /* checking took longer than server A's 300 ms idle timeout */

	/* Several queries on one connection, sent back to back. */
	fd = tcp_connect(port_a);
	uint8_t q2[512], q3[512];
	q_t s2 = {.id = 0x5001, .name = SMALL, .qtype = ZG_TYPE_SOA};
	q_t s3 = {.id = 0x5002, .name = SMALL, .qtype = ZG_TYPE_AXFR};
	size_t l2 = build(q2, sizeof(q2), &s2), l3 = build(q3, sizeof(q3), &s3);
	uint8_t both[1024];
	zg_wire_put16(both, (uint16_t)l2);
	memcpy(both + 2, q2, l2);
	zg_wire_put16(both + 2 + l2, (uint16_t)l3);
	memcpy(both + 4 + l2, q3, l3);
	assert_int_equal(send(fd, both, l2 + l3 + 4, 0), (ssize_t)(l2 + l3 + 4));
	uint8_t r[4096];
	int n = tcp_recv(fd, r, sizeof(r), 2000);
	ldns_pkt *p = parse(r, n);
	assert_int_equal(ldns_pkt_id(p), 0x5001);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);
	read_xfr(fd, 0x5002, &x, NULL);
	assert_int_equal(x.records, 256 + 4);
	assert_int_equal(x.msgs, 1);
	ldns_rr_list_deep_free(x.rrs);
	close(fd);
}

static void test_ixfr(void **state)
{
	uint8_t q[512], r[4096];
	/* UDP, client behind: a single SOA ("use TCP"). */
	q_t spec = {
	    .id = 0x6001, .name = SMALL, .qtype = ZG_TYPE_IXFR, .has_ixfr = true, .ixfr_serial = SERIAL - 5};
	size_t ql = build(q, sizeof(q), &spec);
	int n = udp_exchange(port_a, q, ql, r, sizeof(r), 2000);
	ldns_pkt *p = parse(r, n);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_int_equal(soa_serial_of(ldns_rr_list_rr(ldns_pkt_answer(p), 0)), SERIAL);
	ldns_pkt_free(p);

	/* TCP, client up to date (or ahead): a single SOA. */
	int fd = tcp_connect(port_a);
	xfr_t x;
	uint32_t serials[] = {SERIAL, SERIAL + 10};
	for (int i = 0; i < 2; i++) {
		spec.id = (uint16_t)(0x6002 + i);
		spec.ixfr_serial = serials[i];
		ql = build(q, sizeof(q), &spec);
		tcp_send(fd, q, ql);
		read_xfr(fd, spec.id, &x, NULL);
		assert_int_equal(x.records, 1);
		assert_int_equal(x.first_serial, SERIAL);
		ldns_rr_list_deep_free(x.rrs);
	}
	/* TCP, client behind (serial arithmetic across the wrap too): full transfer (RFC 1995 §4). */
	spec.name = BIG;
	spec.id = 0x6010;
	spec.ixfr_serial = SERIAL - 0x7fffffff; /* still "older" in RFC 1982 terms */
	ql = build(q, sizeof(q), &spec);
	tcp_send(fd, q, ql);
	read_xfr(fd, 0x6010, &x, NULL);
	check_big_zone(&x, SERIAL, BIG_N);
	ldns_rr_list_deep_free(x.rrs);
	close(fd);
}

/* ---- TSIG ---- */

static size_t signed_query(uint8_t *q, size_t cap, const q_t *spec, const zg_tsig_key_t *key, uint64_t when,
                           zg_tsig_ctx_t *ctx)
{
	size_t ql = build(q, cap, spec);
	assert_int_equal(zg_tsig_sign_request(ctx, key, q, &ql, cap, when), RDNS_OK);
	return ql;
}

static uint16_t tsig_error_of(const uint8_t *r, int n, uint16_t *mac_len)
{
	size_t off;
	zg_tsig_rr_t t;
	assert_int_equal(zg_tsig_find(r, (size_t)n, &off), RDNS_OK);
	assert_int_equal(zg_tsig_rr_parse(r, (size_t)n, off, &t), RDNS_OK);
	*mac_len = t.mac_len;
	return t.error;
}

static void test_tsig_transfers(void **state)
{
	uint8_t q[512], r[4096];
	uint64_t now = (uint64_t)time(NULL);
	zg_tsig_ctx_t c;
	xfr_t x;
	q_t spec = {.id = 0x7001, .name = BIG, .qtype = ZG_TYPE_AXFR};

	/* transfer_key set: unsigned AXFR refused. */
	size_t ql = build(q, sizeof(q), &spec);
	int fd = tcp_connect(port_b);
	tcp_send(fd, q, ql);
	int n = tcp_recv(fd, r, sizeof(r), 2000);
	ldns_pkt *p = parse(r, n);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);

	/* Signed with the transfer key: every message signed and chained. */
	spec.id = 0x7002;
	ql = signed_query(q, sizeof(q), &spec, &KEYS[0], now, &c);
	tcp_send(fd, q, ql);
	read_xfr(fd, 0x7002, &x, &c);
	check_big_zone(&x, SERIAL, BIG_N);
	assert_int_equal(c.nmsg, (unsigned)x.msgs);
	ldns_rr_list_deep_free(x.rrs);

	/* A known key that is not the transfer key: REFUSED, but signed. */
	spec.id = 0x7003;
	ql = signed_query(q, sizeof(q), &spec, &KEYS[1], now, &c);
	tcp_send(fd, q, ql);
	n = tcp_recv(fd, r, sizeof(r), 2000);
	assert_int_equal(ZG_WIRE_RCODE(zg_wire_get16(r + 2)), ZG_RCODE_REFUSED);
	assert_int_equal(zg_tsig_verify_response(&c, r, (size_t)n, now), RDNS_OK);

	/* Wrong secret: NOTAUTH, BADSIG, unsigned (RFC 8945 §5.2.2). */
	zg_tsig_key_t wrong = KEYS[0];
	wrong.secret[3] ^= 0x55;
	spec.id = 0x7004;
	ql = signed_query(q, sizeof(q), &spec, &wrong, now, &c);
	tcp_send(fd, q, ql);
	n = tcp_recv(fd, r, sizeof(r), 2000);
	assert_int_equal(ZG_WIRE_RCODE(zg_wire_get16(r + 2)), ZG_RCODE_NOTAUTH);
	uint16_t ml;
	assert_int_equal(tsig_error_of(r, n, &ml), ZG_TSIG_BADSIG);
	assert_int_equal(ml, 0);

	/* Unknown key: BADKEY, unsigned. */
	zg_tsig_key_t stranger = KEYS[0];
	strcpy(stranger.name, "stranger.");
	spec.id = 0x7005;
	ql = signed_query(q, sizeof(q), &spec, &stranger, now, &c);
	tcp_send(fd, q, ql);
	n = tcp_recv(fd, r, sizeof(r), 2000);
	assert_int_equal(ZG_WIRE_RCODE(zg_wire_get16(r + 2)), ZG_RCODE_NOTAUTH);
	assert_int_equal(tsig_error_of(r, n, &ml), ZG_TSIG_BADKEY);
	assert_int_equal(ml, 0);

	/* Clock off by an hour: BADTIME, signed. */
	spec.id = 0x7006;
	ql = signed_query(q, sizeof(q), &spec, &KEYS[0], now - 3600, &c);
	tcp_send(fd, q, ql);
	n = tcp_recv(fd, r, sizeof(r), 2000);
	assert_int_equal(ZG_WIRE_RCODE(zg_wire_get16(r + 2)), ZG_RCODE_NOTAUTH);
	assert_int_equal(tsig_error_of(r, n, &ml), ZG_TSIG_BADTIME);
	assert_int_equal(ml, 32);

	/* The connection still works after all that. */
	spec.id = 0x7007;
	spec.name = SMALL;
	ql = signed_query(q, sizeof(q), &spec, &KEYS[0], now, &c);
	tcp_send(fd, q, ql);
	read_xfr(fd, 0x7007, &x, &c);
	assert_int_equal(x.records, 260);
	ldns_rr_list_deep_free(x.rrs);
	close(fd);

	/* TSIG optional on server A: a signed SOA over UDP is answered signed. */
	q_t soa = {.id = 0x7100, .name = SMALL, .qtype = ZG_TYPE_SOA};
	ql = signed_query(q, sizeof(q), &soa, &KEYS[1], now, &c);
	n = udp_exchange(port_a, q, ql, r, sizeof(r), 2000);
	assert_true(n > 0);
	assert_int_equal(ZG_WIRE_RCODE(zg_wire_get16(r + 2)), ZG_RCODE_NOERROR);
	assert_int_equal(zg_tsig_verify_response(&c, r, (size_t)n, now), RDNS_OK);
}

/* ldns as the independent verifier of a signed multi-message AXFR. */
static void test_tsig_axfr_ldns(void **state)
{
	char b64[64];
	EVP_EncodeBlock((unsigned char *)b64, KEYS[0].secret, (int)KEYS[0].secret_len);
	ldns_pkt *qp = NULL;
	assert_int_equal(ldns_pkt_query_new_frm_str(&qp, BIG, LDNS_RR_TYPE_AXFR, LDNS_RR_CLASS_IN, 0),
	                 LDNS_STATUS_OK);
	ldns_pkt_set_id(qp, 0x7200);
	assert_int_equal(ldns_pkt_tsig_sign(qp, "xfr-key.", b64, 300, "hmac-sha256.", NULL), LDNS_STATUS_OK);
	uint8_t *qw = NULL;
	size_t qwl;
	assert_int_equal(ldns_pkt2wire(&qw, qp, &qwl), LDNS_STATUS_OK);
	int fd = tcp_connect(port_b);
	tcp_send(fd, qw, qwl);
	static uint8_t buf[65536];
	ldns_rdf *prior = ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(qp), 3));
	int soas = 0, msgs = 0;
	while (soas < 2) {
		int n = tcp_recv(fd, buf, sizeof(buf), 5000);
		ldns_pkt *p = parse(buf, n);
		assert_non_null(ldns_pkt_tsig(p));
		bool ok = msgs == 0 ? ldns_pkt_tsig_verify(p, buf, (size_t)n, "xfr-key.", b64, prior)
		                    : ldns_pkt_tsig_verify_next(p, buf, (size_t)n, "xfr-key.", b64, prior, 1);
		assert_true(ok);
		ldns_rdf_deep_free(prior);
		prior = ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(p), 3));
		for (size_t i = 0; i < ldns_pkt_ancount(p); i++)
			soas += ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(p), i)) == LDNS_RR_TYPE_SOA;
		msgs++;
		ldns_pkt_free(p);
	}
	assert_true(msgs > 1);
	ldns_rdf_deep_free(prior);
	close(fd);
	free(qw);
	ldns_pkt_free(qp);
}

/* ---- access control and configuration ---- */

static long long mono_ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The leader's lease: past serve_until every zone is REFUSED as if unpublished, and a
 * later renewal serves it again. */
static void test_serve_until(void **state)
{
	int err;
	zg_dnssrv_conf_t c = {.transfer_allow = "127.0.0.1"};
	zg_dnssrv_t *s = zg_dnssrv_new(&c, &err);
	assert_non_null(s);
	assert_int_equal(zg_dnssrv_publish(s, SMALL, small_path), RDNS_OK);
	uint8_t q[512];
	q_t spec = {.id = 7, .name = SMALL, .qtype = ZG_TYPE_SOA};
	size_t ql = build(q, sizeof(q), &spec);
	const struct {
		long long until; /* relative to now, ms */
		unsigned rcode;
	} steps[] = {{60000, ZG_RCODE_NOERROR},
	             {-1, ZG_RCODE_REFUSED},
	             {0, ZG_RCODE_REFUSED},
	             {60000, ZG_RCODE_NOERROR}};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		zg_dnssrv_serve_until(s, mono_ms_now() + steps[i].until);
		sink_t out = {0};
		assert_int_equal(zg_dnssrv_handle(s, q, ql, lo4(), ZG_DNSSRV_UDP, sink_emit, &out), RDNS_OK);
		assert_int_equal(out.n, 1);
		if (ZG_WIRE_RCODE(zg_wire_get16(out.msgs[0] + 2)) != steps[i].rcode)
			fail_msg("step %zu: rcode %u, want %u", i,
			         ZG_WIRE_RCODE(zg_wire_get16(out.msgs[0] + 2)), steps[i].rcode);
		sink_free(&out);
	}
	zg_dnssrv_free(s);
}

static void test_acl_and_config(void **state)
{
	int err;
	zg_dnssrv_conf_t c = {.transfer_allow = "10.0.0.0/8\t2001:db8::/32,192.0.2.7"};
	zg_dnssrv_t *s = zg_dnssrv_new(&c, &err);
	assert_non_null(s);
	assert_int_equal(zg_dnssrv_publish(s, SMALL, small_path), RDNS_OK);
	assert_int_equal(zg_dnssrv_start(s), RDNS_EINVAL); /* no sockets */
	struct {
		const char *addr;
		bool v6;
		bool allowed;
	} srcs[] = {
	    {"10.1.2.3", false, true},   {"11.0.0.1", false, false},   {"::ffff:10.1.2.3", true, true},
	    {"2001:db8::1", true, true}, {"2001:db9::1", true, false}, {"192.0.2.7", false, true},
	    {"192.0.2.8", false, false}, {"127.0.0.1", false, false},  {"::1", true, false},
	};
	uint8_t q[512];
	q_t spec = {.id = 1, .name = SMALL, .qtype = ZG_TYPE_SOA};
	size_t ql = build(q, sizeof(q), &spec);
	for (size_t i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
		struct sockaddr_storage ss = {0};
		if (srcs[i].v6) {
			struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
			a6->sin6_family = AF_INET6;
			assert_int_equal(inet_pton(AF_INET6, srcs[i].addr, &a6->sin6_addr), 1);
		} else {
			struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
			a4->sin_family = AF_INET;
			assert_int_equal(inet_pton(AF_INET, srcs[i].addr, &a4->sin_addr), 1);
		}
		sink_t out = {0};
		assert_int_equal(
		    zg_dnssrv_handle(s, q, ql, (struct sockaddr *)&ss, ZG_DNSSRV_UDP, sink_emit, &out),
		    RDNS_OK);
		assert_int_equal(out.n, 1);
		unsigned rc = ZG_WIRE_RCODE(zg_wire_get16(out.msgs[0] + 2));
		if (rc != (srcs[i].allowed ? ZG_RCODE_NOERROR : ZG_RCODE_REFUSED))
			fail_msg("source %s: rcode %u", srcs[i].addr, rc);
		sink_free(&out);
	}
	sink_t out = {0};
	assert_int_equal(zg_dnssrv_handle(s, q, ql, NULL, ZG_DNSSRV_UDP, sink_emit, &out), RDNS_OK);
	assert_int_equal(ZG_WIRE_RCODE(zg_wire_get16(out.msgs[0] + 2)), ZG_RCODE_REFUSED);
	sink_free(&out);
	zg_dnssrv_free(s);

	/* Nobody allowed by default. */
	zg_dnssrv_conf_t none = {0};
	s = zg_dnssrv_new(&none, &err);
	assert_non_null(s);
	assert_int_equal(zg_dnssrv_publish(s, SMALL, small_path), RDNS_OK);
	assert_int_equal(zg_dnssrv_handle(s, q, ql, lo4(), ZG_DNSSRV_UDP, sink_emit, &out), RDNS_OK);
	assert_int_equal(ZG_WIRE_RCODE(zg_wire_get16(out.msgs[0] + 2)), ZG_RCODE_REFUSED);
	sink_free(&out);
	zg_dnssrv_free(s);

	/* Configuration errors. */
	zg_tsig_key_t nokey = {.name = "empty."};
	const struct {
		zg_dnssrv_conf_t c;
		int err;
	} bad[] = {
	    {{.transfer_allow = "10.0.0.1/8"}, RDNS_ECONFIG},
	    {{.transfer_allow = "10.0.0.0/33"}, RDNS_ECONFIG},
	    {{.transfer_allow = "bogus"}, RDNS_ECONFIG},
	    {{.transfer_allow = "10.0.0.0/"}, RDNS_ECONFIG},
	    {{.transfer_allow = "::/129"}, RDNS_ECONFIG},
	    {{.listen = "127.0.0.1"}, RDNS_ECONFIG},
	    {{.listen = "::1:5300"}, RDNS_ECONFIG},
	    {{.listen = "[::1]"}, RDNS_ECONFIG},
	    {{.listen = "127.0.0.1:70000"}, RDNS_ECONFIG},
	    {{.listen = "localhost:53"}, RDNS_ECONFIG},
	    {{.keys = KEYS, .n_keys = 2, .transfer_key = "nope"}, RDNS_ECONFIG},
	    {{.keys = &nokey, .n_keys = 1}, RDNS_ECONFIG},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = 0;
		assert_null(zg_dnssrv_new(&bad[i].c, &err));
		if (err != bad[i].err)
			fail_msg("bad config %zu: err %d", i, err);
	}

	/* The address is in use: a clear error. */
	char listen[32];
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port_a);
	zg_dnssrv_conf_t dup = {.listen = listen};
	assert_null(zg_dnssrv_new(&dup, &err));
	assert_int_equal(err, RDNS_EEXIST);

	/* IPv6 loopback with brackets works. */
	zg_dnssrv_conf_t v6 = {.listen = "[::1]:0", .transfer_allow = "::1"};
	s = zg_dnssrv_new(&v6, &err);
	if (s == NULL) {
		assert_int_equal(err, RDNS_EIO); /* no IPv6 here: acceptable */
	} else {
		assert_true(zg_dnssrv_port(s) != 0);
		zg_dnssrv_free(s);
	}
}

/* ---- log lines ---- */

typedef struct {
	pthread_mutex_t mu;
	int n;
	int level[16];
	char line[16][512];
} loglines_t;

static loglines_t logged = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void log_capture(int level, const char *msg, void *arg)
{
	loglines_t *l = arg;
	pthread_mutex_lock(&l->mu);
	if (l->n < 16) {
		l->level[l->n] = level;
		snprintf(l->line[l->n], sizeof(l->line[0]), "%s", msg);
		l->n++;
	}
	pthread_mutex_unlock(&l->mu);
}

/* The one line logged since the last call, which must start with want at level. */
static void expect_line(int level, const char *want)
{
	if (logged.n != 1)
		fail_msg("%d lines logged, want 1 (\"%s\")", logged.n, want);
	if (logged.level[0] != level || strncmp(logged.line[0], want, strlen(want)) != 0)
		fail_msg("logged %d \"%s\", want %d \"%s...\"", logged.level[0], logged.line[0], level, want);
	logged.n = 0;
}

/* dnssrv logs through core/log.h: component "dnssrv", zone lines with the zone. */
static void test_log_lines(void **state)
{
	int err;
	log_set_sink(log_capture, &logged);
	log_set_level(LOG_LVL_DEBUG);
	logged.n = 0;

	zg_dnssrv_conf_t bad = {.transfer_allow = "10.0.0.1/8"};
	assert_null(zg_dnssrv_new(&bad, &err));
	expect_line(LOG_LVL_ERR, "dnssrv: bad transfer_allow list");

	zg_dnssrv_conf_t c = {.transfer_allow = "127.0.0.1"};
	zg_dnssrv_t *s = zg_dnssrv_new(&c, &err);
	assert_non_null(s);
	assert_int_equal(logged.n, 0);
	assert_int_equal(zg_dnssrv_publish(s, SMALL, small_path), RDNS_OK);
	expect_line(LOG_LVL_INFO, "dnssrv: zone 2.0.192.in-addr.arpa: published serial 2026112601, ");
	char missing[160];
	snprintf(missing, sizeof(missing), "%s/missing.zone", dir);
	assert_int_equal(zg_dnssrv_publish(s, SMALL, missing), RDNS_EIO);
	expect_line(LOG_LVL_ERR, "dnssrv: zone 2.0.192.in-addr.arpa: cannot open ");

	uint8_t q[512];
	q_t spec = {.id = 7, .name = SMALL, .qtype = ZG_TYPE_AXFR};
	size_t ql = build(q, sizeof(q), &spec);
	sink_t out = {0};
	assert_int_equal(zg_dnssrv_handle(s, q, ql, lo4(), ZG_DNSSRV_TCP, sink_emit, &out), RDNS_OK);
	sink_free(&out);
	/* Every transfer served at info: type, client, key name, serial, full, size. */
	expect_line(LOG_LVL_INFO,
	            "dnssrv: zone 2.0.192.in-addr.arpa: AXFR from 127.0.0.1:0, key none: serial "
	            "2026112601, full: ");
	log_set_level(LOG_LVL_INFO);
	assert_int_equal(zg_dnssrv_handle(s, q, ql, lo4(), ZG_DNSSRV_TCP, sink_emit, &out), RDNS_OK);
	sink_free(&out);
	expect_line(LOG_LVL_INFO,
	            "dnssrv: zone 2.0.192.in-addr.arpa: AXFR from 127.0.0.1:0, key none: serial "
	            "2026112601, full: ");

	/* A key this server does not know: BADKEY (17), at info. */
	zg_tsig_ctx_t ctx;
	spec.qtype = ZG_TYPE_SOA;
	ql = signed_query(q, sizeof(q), &spec, &KEYS[0], (uint64_t)time(NULL), &ctx);
	assert_int_equal(zg_dnssrv_handle(s, q, ql, lo4(), ZG_DNSSRV_UDP, sink_emit, &out), RDNS_OK);
	sink_free(&out);
	expect_line(LOG_LVL_INFO,
	            "dnssrv: refused query for 2.0.192.in-addr.arpa. from 127.0.0.1:0, key xfr-key.: "
	            "TSIG BADKEY");

	/* Refused transfers: client, zone, key name and reason; never the secret. */
	spec.qtype = ZG_TYPE_AXFR;
	ql = build(q, sizeof(q), &spec);
	assert_int_equal(zg_dnssrv_handle(s, q, ql, from4("192.0.2.7"), ZG_DNSSRV_TCP, sink_emit, &out),
	                 RDNS_OK);
	sink_free(&out);
	expect_line(LOG_LVL_INFO, "dnssrv: refused AXFR of 2.0.192.in-addr.arpa. from 192.0.2.7:0, key none: "
	                          "source not in transfer_allow");
	spec.name = "9.0.192.in-addr.arpa.";
	ql = build(q, sizeof(q), &spec);
	assert_int_equal(zg_dnssrv_handle(s, q, ql, lo4(), ZG_DNSSRV_TCP, sink_emit, &out), RDNS_OK);
	sink_free(&out);
	expect_line(LOG_LVL_INFO, "dnssrv: refused AXFR of 9.0.192.in-addr.arpa. from 127.0.0.1:0, key none: "
	                          "not a zone served here");
	/* rate-limited: at most 10 a second, then one line says how many were left out */
	for (int i = 0; i < 30; i++) {
		assert_int_equal(zg_dnssrv_handle(s, q, ql, lo4(), ZG_DNSSRV_TCP, sink_emit, &out), RDNS_OK);
		sink_free(&out);
	}
	assert_true(logged.n <= 11);
	for (int i = 0; i < logged.n; i++)
		assert_null(strstr(logged.line[i], (const char *)KEYS[0].secret));
	logged.n = 0;

	zg_dnssrv_free(s);
	log_set_sink(NULL, NULL);
}

/* ---- ordinary queries ---- */

/* One answer through the handler, checked byte by byte: header flags and counts. */
static ldns_pkt *ask(zg_dnssrv_t *s, const struct sockaddr *from, int transport, const q_t *spec,
                     uint16_t want_flags, uint16_t an, uint16_t ns, size_t *len)
{
	uint8_t q[512];
	size_t ql = build(q, sizeof(q), spec);
	sink_t out = {0};
	assert_int_equal(zg_dnssrv_handle(s, q, ql, from, transport, sink_emit, &out), RDNS_OK);
	assert_int_equal(out.n, 1);
	const uint8_t *r = out.msgs[0];
	assert_true(out.lens[0] >= 12);
	if (zg_wire_get16(r + 2) != want_flags)
		fail_msg("%s type %u: flags %04x, want %04x", spec->name, spec->qtype, zg_wire_get16(r + 2),
		         want_flags);
	assert_int_equal(zg_wire_get16(r), spec->id);
	assert_int_equal(zg_wire_get16(r + 4), 1); /* the question is echoed */
	if (zg_wire_get16(r + 6) != an || zg_wire_get16(r + 8) != ns)
		fail_msg("%s type %u: %u answers, %u authority, want %u, %u", spec->name, spec->qtype,
		         zg_wire_get16(r + 6), zg_wire_get16(r + 8), an, ns);
	if (len)
		*len = out.lens[0];
	ldns_pkt *p = parse(r, (int)out.lens[0]);
	sink_free(&out);
	return p;
}

#define F_QR       0x8000
#define F_AA       0x0400
#define F_TC       0x0200
#define F_RD       0x0100
#define ANS(rc)    (F_QR | F_AA | (rc))
#define NOAUTH(rc) (F_QR | (rc))

static void test_query_answers(void **state)
{
	ldns_pkt *p;
	char *txt;
	/* PTR: AA, the one record, nothing else */
	p = ask(srv_a, lo4(), ZG_DNSSRV_UDP, &(q_t){.id = 1, .name = "10." SMALL, .qtype = ZG_TYPE_PTR},
	        ANS(0), 1, 0, NULL);
	txt = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(p), 0), 0));
	assert_string_equal(txt, "host-10.example.com.");
	assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(p), 0)), LDNS_RR_TYPE_PTR);
	free(txt);
	ldns_pkt_free(p);
	/* RD is copied, the name's case does not matter, TCP too */
	p = ask(
	    srv_a, lo4(), ZG_DNSSRV_TCP,
	    &(q_t){.id = 2, .flags = ZG_WIRE_RD, .name = "10.2.0.192.IN-ADDR.ARPA.", .qtype = ZG_TYPE_PTR},
	    ANS(0) | F_RD, 1, 0, NULL);
	ldns_pkt_free(p);
	/* SOA and NS at the apex */
	p = ask(srv_a, lo4(), ZG_DNSSRV_UDP, &(q_t){.id = 3, .name = SMALL, .qtype = ZG_TYPE_SOA}, ANS(0), 1,
	        0, NULL);
	assert_int_equal(soa_serial_of(ldns_rr_list_rr(ldns_pkt_answer(p), 0)), SERIAL);
	ldns_pkt_free(p);
	p = ask(srv_a, lo4(), ZG_DNSSRV_UDP, &(q_t){.id = 4, .name = SMALL, .qtype = ZG_TYPE_NS}, ANS(0), 2,
	        0, NULL);
	assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(p), 1)), LDNS_RR_TYPE_NS);
	ldns_pkt_free(p);
	/* ANY at the apex: SOA and both NS */
	p = ask(srv_a, lo4(), ZG_DNSSRV_TCP, &(q_t){.id = 5, .name = SMALL, .qtype = ZG_TYPE_ANY}, ANS(0), 3,
	        0, NULL);
	ldns_pkt_free(p);
	/* NXDOMAIN: AA, the SOA in the authority section */
	p = ask(srv_a, lo4(), ZG_DNSSRV_UDP, &(q_t){.id = 6, .name = "300." SMALL, .qtype = ZG_TYPE_PTR},
	        ANS(ZG_RCODE_NXDOMAIN), 0, 1, NULL);
	ldns_rr *soa = ldns_rr_list_rr(ldns_pkt_authority(p), 0);
	assert_int_equal(soa_serial_of(soa), SERIAL);
	assert_int_equal(ldns_rr_ttl(soa), 3600); /* min(SOA TTL, MINIMUM), RFC 2308 */
	ldns_pkt_free(p);
	p = ask(srv_a, lo4(), ZG_DNSSRV_UDP, &(q_t){.id = 7, .name = "a.b.10." SMALL, .qtype = ZG_TYPE_PTR},
	        ANS(ZG_RCODE_NXDOMAIN), 0, 1, NULL);
	ldns_pkt_free(p);
	/* NODATA: the name exists, not the type */
	p = ask(srv_a, lo4(), ZG_DNSSRV_UDP, &(q_t){.id = 8, .name = "10." SMALL, .qtype = 1}, ANS(0), 0, 1,
	        NULL);
	assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_authority(p), 0)), LDNS_RR_TYPE_SOA);
	ldns_pkt_free(p);
	p = ask(srv_a, lo4(), ZG_DNSSRV_UDP, &(q_t){.id = 9, .name = SMALL, .qtype = ZG_TYPE_PTR}, ANS(0), 0,
	        1, NULL);
	ldns_pkt_free(p);
	/* an empty non-terminal (records only below it) is NODATA, not NXDOMAIN (RFC 8020) */
	p = ask(srv_a, lo4(), ZG_DNSSRV_UDP, &(q_t){.id = 10, .name = "3." BIG, .qtype = ZG_TYPE_PTR}, ANS(0),
	        0, 1, NULL);
	ldns_pkt_free(p);
	p = ask(srv_a, lo4(), ZG_DNSSRV_UDP, &(q_t){.id = 11, .name = "5.3." BIG, .qtype = ZG_TYPE_PTR},
	        ANS(0), 1, 0, NULL);
	ldns_pkt_free(p);
	p = ask(srv_a, lo4(), ZG_DNSSRV_UDP, &(q_t){.id = 12, .name = "200." BIG, .qtype = ZG_TYPE_PTR},
	        ANS(ZG_RCODE_NXDOMAIN), 0, 1, NULL);
	ldns_pkt_free(p);
	/* outside every zone: REFUSED, not authoritative */
	p = ask(srv_a, lo4(), ZG_DNSSRV_UDP,
	        &(q_t){.id = 13, .name = "1.1.168.192.in-addr.arpa.", .qtype = ZG_TYPE_PTR},
	        NOAUTH(ZG_RCODE_REFUSED), 0, 0, NULL);
	ldns_pkt_free(p);
	p = ask(srv_a, lo4(), ZG_DNSSRV_UDP,
	        &(q_t){.id = 14, .name = "0.192.in-addr.arpa.", .qtype = ZG_TYPE_NS},
	        NOAUTH(ZG_RCODE_REFUSED), 0, 0, NULL);
	ldns_pkt_free(p);
	/* a source outside transfer_allow (and no query_allow): REFUSED */
	p = ask(srv_a, from4("192.0.2.9"), ZG_DNSSRV_UDP,
	        &(q_t){.id = 15, .name = "10." SMALL, .qtype = ZG_TYPE_PTR}, NOAUTH(ZG_RCODE_REFUSED), 0, 0,
	        NULL);
	ldns_pkt_free(p);
	/* qtype OPT: FORMERR */
	p = ask(srv_a, lo4(), ZG_DNSSRV_UDP, &(q_t){.id = 16, .name = SMALL, .qtype = ZG_TYPE_OPT},
	        NOAUTH(ZG_RCODE_FORMERR), 0, 0, NULL);
	ldns_pkt_free(p);
}

/* query_allow lets more sources query, never transfer. */
static void test_query_allow(void **state)
{
	int err;
	zg_dnssrv_conf_t c = {.transfer_allow = "127.0.0.1", .query_allow = "192.0.2.0/24"};
	zg_dnssrv_t *s = zg_dnssrv_new(&c, &err);
	assert_non_null(s);
	assert_int_equal(zg_dnssrv_publish(s, SMALL, small_path), RDNS_OK);
	ldns_pkt *p;
	p = ask(s, from4("192.0.2.9"), ZG_DNSSRV_UDP,
	        &(q_t){.id = 1, .name = "10." SMALL, .qtype = ZG_TYPE_PTR}, ANS(0), 1, 0, NULL);
	ldns_pkt_free(p);
	p = ask(s, from4("192.0.2.9"), ZG_DNSSRV_UDP, &(q_t){.id = 2, .name = SMALL, .qtype = ZG_TYPE_SOA},
	        ANS(0), 1, 0, NULL);
	ldns_pkt_free(p);
	p = ask(s, from4("192.0.2.9"), ZG_DNSSRV_TCP, &(q_t){.id = 3, .name = SMALL, .qtype = ZG_TYPE_AXFR},
	        NOAUTH(ZG_RCODE_REFUSED), 0, 0, NULL);
	ldns_pkt_free(p);
	p = ask(s, from4("198.51.100.1"), ZG_DNSSRV_UDP,
	        &(q_t){.id = 4, .name = "10." SMALL, .qtype = ZG_TYPE_PTR}, NOAUTH(ZG_RCODE_REFUSED), 0, 0,
	        NULL);
	ldns_pkt_free(p);
	/* transfer_allow still queries */
	p = ask(s, lo4(), ZG_DNSSRV_UDP, &(q_t){.id = 5, .name = "10." SMALL, .qtype = ZG_TYPE_PTR}, ANS(0),
	        1, 0, NULL);
	ldns_pkt_free(p);
	zg_dnssrv_conf_t bad = {.transfer_allow = "127.0.0.1", .query_allow = "192.0.2.1/24"};
	assert_null(zg_dnssrv_new(&bad, &err));
	assert_int_equal(err, RDNS_ECONFIG);
	zg_dnssrv_free(s);
}

/* An answer too long for 512 bytes gets TC over UDP without EDNS, fits with EDNS 1232, and comes
 * whole over TCP. */
static void test_query_truncation(void **state)
{
	char path[160], extra[8192];
	size_t o = 0;
	const char *zone = "7.0.192.in-addr.arpa.";
	snprintf(path, sizeof(path), "%s/tc.zone", dir);
	for (int i = 0; i < 20; i++)
		o += (size_t)snprintf(
		    extra + o, sizeof(extra) - o,
		    "1.%s 3600 IN PTR a-rather-long-host-name-number-%02d.customers.example.com.\n", zone, i);
	write_zone(path, zone, SERIAL, 0, extra);
	int err;
	zg_dnssrv_conf_t c = {.transfer_allow = "127.0.0.1"};
	zg_dnssrv_t *s = zg_dnssrv_new(&c, &err);
	assert_non_null(s);
	assert_int_equal(zg_dnssrv_publish(s, zone, path), RDNS_OK);
	size_t len;
	ldns_pkt *p;
	p = ask(s, lo4(), ZG_DNSSRV_UDP,
	        &(q_t){.id = 1, .name = "1.7.0.192.in-addr.arpa.", .qtype = ZG_TYPE_PTR}, ANS(0) | F_TC, 0, 0,
	        &len);
	assert_true(len <= 512);
	ldns_pkt_free(p);
	p = ask(s, lo4(), ZG_DNSSRV_UDP,
	        &(q_t){.id = 2, .name = "1.7.0.192.in-addr.arpa.", .qtype = ZG_TYPE_PTR, .edns = true},
	        ANS(0), 20, 0, &len);
	assert_true(len > 512 && len <= 1232);
	assert_true(ldns_pkt_edns(p));
	ldns_pkt_free(p);
	p = ask(s, lo4(), ZG_DNSSRV_TCP,
	        &(q_t){.id = 3, .name = "1.7.0.192.in-addr.arpa.", .qtype = ZG_TYPE_PTR}, ANS(0), 20, 0,
	        &len);
	ldns_pkt_free(p);
	zg_dnssrv_free(s);
	unlink(path);
}

/* The apex (what secondaries ask after each publish) comes from the head of the file; only
 * other names build the index, once per snapshot. */
static void test_zonedb_lookup_index(void **state)
{
	zg_zonedb_t *db = zg_zonedb_new();
	assert_non_null(db);
	assert_int_equal(zg_zonedb_publish(db, BIG, big_path), RDNS_OK);
	uint8_t name[ZG_WIRE_NAME_MAX];
	size_t nl, n;
	bool exists;
	zg_wire_zrr_t rrs[4];
	assert_int_equal(zg_wire_name_from_text(BIG, strlen(BIG), true, name, &nl), RDNS_OK);
	zg_zonedb_snap_t *sn = zg_zonedb_get(db, name, nl);
	assert_non_null(sn);
	assert_int_equal(zg_zonedb_lookup(sn, name, nl, rrs, 4, &n, &exists), RDNS_OK);
	assert_true(exists);
	assert_int_equal(n, 3); /* SOA, NS, NS */
	assert_int_equal(rrs[0].type, ZG_TYPE_SOA);
	assert_null(sn->index);
	assert_int_equal(zg_zonedb_lookup(sn, name, nl, rrs, 2, &n, &exists), RDNS_ERANGE);
	const char *names[] = {"7.3." BIG, "3." BIG, "200." BIG, "1.200." BIG};
	const size_t want_n[] = {1, 0, 0, 0};
	const bool want_exists[] = {true, true, false, false};
	for (int i = 0; i < 4; i++) {
		assert_int_equal(zg_wire_name_from_text(names[i], strlen(names[i]), true, name, &nl),
		                 RDNS_OK);
		assert_int_equal(zg_zonedb_lookup(sn, name, nl, rrs, 4, &n, &exists), RDNS_OK);
		assert_int_equal(n, want_n[i]);
		assert_int_equal(exists, want_exists[i]);
	}
	assert_non_null(sn->index);
	zg_zonedb_put(db, sn);
	zg_zonedb_free(db);
}

/* Over real sockets: a PTR over UDP. */
static void test_query_udp_socket(void **state)
{
	uint8_t q[512], r[4096];
	q_t spec = {.id = 0x4242, .name = "77." SMALL, .qtype = ZG_TYPE_PTR};
	size_t ql = build(q, sizeof(q), &spec);
	int n = udp_exchange(port_a, q, ql, r, sizeof(r), 2000);
	ldns_pkt *p = parse(r, n);
	assert_true(ldns_pkt_aa(p));
	assert_int_equal(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);
}

/* ---- publishing ---- */

typedef struct {
	zg_dnssrv_t *s;
	const char *path;
	int calls;
} repub_t;

/* On the first message of a transfer, replace the file and publish it:
 * the transfer in progress must keep its snapshot. */
static int republish_emit(void *arg, const uint8_t *msg, size_t len)
{
	repub_t *r = arg;
	if (r->calls++ == 0) {
		write_zone(r->path, BIG, SERIAL + 1, 10, NULL);
		if (zg_dnssrv_publish(r->s, BIG, r->path) != RDNS_OK)
			return -1;
	}
	return 0;
}

static void test_publish_snapshot(void **state)
{
	int err;
	char path[160];
	snprintf(path, sizeof(path), "%s/snap.zone", dir);
	write_zone(path, BIG, SERIAL, BIG_N, NULL);
	zg_dnssrv_conf_t c = {.transfer_allow = "127.0.0.1"};
	zg_dnssrv_t *s = zg_dnssrv_new(&c, &err);
	assert_non_null(s);
	assert_int_equal(zg_dnssrv_publish(s, "0.10.IN-ADDR.ARPA", path), RDNS_OK);
	bool found;
	assert_int_equal(zg_dnssrv_serial(s, BIG, &found), SERIAL);
	assert_true(found);

	uint8_t q[512];
	q_t spec = {.id = 0x8001, .name = BIG, .qtype = ZG_TYPE_AXFR};
	size_t ql = build(q, sizeof(q), &spec);
	repub_t rp = {.s = s, .path = path};
	assert_int_equal(zg_dnssrv_handle(s, q, ql, lo4(), ZG_DNSSRV_TCP, republish_emit, &rp), RDNS_OK);
	assert_true(rp.calls > 3);
	assert_int_equal(zg_dnssrv_serial(s, BIG, &found), SERIAL + 1);

	/* A sink with every message: the old transfer ended with the old SOA... */
	sink_t out = {0};
	assert_int_equal(zg_dnssrv_handle(s, q, ql, lo4(), ZG_DNSSRV_TCP, sink_emit, &out), RDNS_OK);
	/* ...and a new one serves the new file: one message, 14 records. */
	assert_int_equal(out.n, 1);
	ldns_pkt *p = parse(out.msgs[0], (int)out.lens[0]);
	assert_int_equal(ldns_pkt_ancount(p), 14);
	assert_int_equal(soa_serial_of(ldns_rr_list_rr(ldns_pkt_answer(p), 13)), SERIAL + 1);
	ldns_pkt_free(p);
	sink_free(&out);

	/* The file can vanish: the snapshot stays readable. */
	unlink(path);
	assert_int_equal(zg_dnssrv_handle(s, q, ql, lo4(), ZG_DNSSRV_TCP, sink_emit, &out), RDNS_OK);
	assert_int_equal(out.n, 1);
	sink_free(&out);

	/* Bad files are refused and the published snapshot stays. */
	const struct {
		const char *what;
		const char *publish_as;
		const char *file_zone; /* zone the generated file is for; NULL: body */
		const char *extra;     /* lines appended to a generated file, or the whole body */
		int rc;
	} bad[] = {
	    {"SOA of another zone", BIG, "1.10.in-addr.arpa.", NULL, RDNS_EINVAL},
	    {"owner outside", BIG, BIG, "x.example. 3600 IN PTR y.example.\n", RDNS_EINVAL},
	    {"type A", BIG, BIG, "1.0.10.in-addr.arpa. 3600 IN A 10.0.0.1\n", RDNS_EINVAL},
	    {"relative target", BIG, BIG, "1.0.10.in-addr.arpa. 3600 IN PTR relative\n", RDNS_EINVAL},
	    {"second SOA", BIG, BIG, BIG " 60 IN SOA a. b. 1 2 3 4 5\n", RDNS_EINVAL},
	    {"no record", BIG, NULL, "; only a comment\n", RDNS_EINVAL},
	    {"SOA not first", BIG, NULL, BIG " 3600 IN NS ns1.example.net.\n", RDNS_EINVAL},
	    {"bad zone name", "bad..name", BIG, NULL, RDNS_EINVAL},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (bad[i].file_zone == NULL) {
			FILE *f = fopen(path, "w");
			assert_non_null(f);
			fputs(bad[i].extra, f);
			fclose(f);
		} else {
			write_zone(path, bad[i].file_zone, SERIAL + 2, 3, bad[i].extra);
		}
		int rc = zg_dnssrv_publish(s, bad[i].publish_as, path);
		if (rc != bad[i].rc)
			fail_msg("bad file (%s): rc %d", bad[i].what, rc);
		assert_int_equal(zg_dnssrv_serial(s, BIG, &found), SERIAL + 1);
	}
	char missing[200];
	snprintf(missing, sizeof(missing), "%s/missing.zone", dir);
	assert_int_equal(zg_dnssrv_publish(s, BIG, missing), RDNS_EIO);
	unlink(path);

	/* Unpublish: REFUSED and not found. */
	zg_dnssrv_unpublish(s, "0.10.in-addr.arpa");
	assert_int_equal(zg_dnssrv_serial(s, BIG, &found), 0);
	assert_false(found);
	assert_int_equal(zg_dnssrv_handle(s, q, ql, lo4(), ZG_DNSSRV_TCP, sink_emit, &out), RDNS_OK);
	assert_int_equal(ZG_WIRE_RCODE(zg_wire_get16(out.msgs[0] + 2)), ZG_RCODE_REFUSED);
	sink_free(&out);
	zg_dnssrv_unpublish(s, BIG); /* twice is harmless */
	zg_dnssrv_free(s);
}

/* ---- connection handling ---- */

/* Wait for the next second of CLOCK_MONOTONIC: refusal lines are rate-limited per second,
 * and an earlier test may have spent this one's. */
static void next_log_window(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	usleep((useconds_t)((1000000000L - ts.tv_nsec) / 1000 + 1000));
}

/* A signed response's TSIG error and Other Data length. */
static uint16_t tsig_error_other(const uint8_t *r, size_t n, uint16_t *other_len)
{
	size_t off;
	zg_tsig_rr_t t;
	assert_int_equal(zg_tsig_find(r, n, &off), RDNS_OK);
	assert_int_equal(zg_tsig_rr_parse(r, n, off, &t), RDNS_OK);
	assert_int_equal(t.mac_len, 32); /* BADTIME is signed (RFC 8945 §5.2.3) */
	*other_len = t.other_len;
	return t.error;
}

/* The per-key replay check (tsig_replay.h) as a client sees it through the handler. */
/* Counts the transfer lines and the suppression notices (the capture above keeps 16). */
typedef struct {
	pthread_mutex_t mu;
	int served, suppressed, other;
	char last_suppressed[256];
} xfrcount_t;

static void count_capture(int level, const char *msg, void *arg)
{
	xfrcount_t *c = arg;
	pthread_mutex_lock(&c->mu);
	if (strstr(msg, ": AXFR from ") != NULL)
		c->served++;
	else if (strstr(msg, "transfer lines were suppressed") != NULL) {
		c->suppressed++;
		snprintf(c->last_suppressed, sizeof(c->last_suppressed), "%s", msg);
	} else
		c->other++;
	pthread_mutex_unlock(&c->mu);
}

/* One info line per transfer served, at most 50 a second; the first line of a later second
 * says how many were left out. */
static void test_transfer_lines_limited(void **state)
{
	int err;
	xfrcount_t cnt = {.mu = PTHREAD_MUTEX_INITIALIZER};
	zg_dnssrv_conf_t c = {.transfer_allow = "127.0.0.1"};
	zg_dnssrv_t *s = zg_dnssrv_new(&c, &err);
	assert_non_null(s);
	assert_int_equal(zg_dnssrv_publish(s, SMALL, small_path), RDNS_OK);
	uint8_t q[512];
	q_t spec = {.id = 9, .name = SMALL, .qtype = ZG_TYPE_AXFR};
	size_t ql = build(q, sizeof(q), &spec);
	sink_t out = {0};
	next_log_window();
	log_set_sink(count_capture, &cnt);
	log_set_level(LOG_LVL_INFO);
	for (int i = 0; i < 60; i++) {
		assert_int_equal(zg_dnssrv_handle(s, q, ql, lo4(), ZG_DNSSRV_TCP, sink_emit, &out), RDNS_OK);
		sink_free(&out);
	}
	assert_int_equal(cnt.served, 50);
	assert_int_equal(cnt.suppressed, 0);
	next_log_window();
	assert_int_equal(zg_dnssrv_handle(s, q, ql, lo4(), ZG_DNSSRV_TCP, sink_emit, &out), RDNS_OK);
	sink_free(&out);
	assert_int_equal(cnt.served, 51);
	assert_int_equal(cnt.suppressed, 1);
	assert_non_null(strstr(cnt.last_suppressed, "dnssrv: 10 more transfer lines were suppressed"));
	assert_int_equal(cnt.other, 0);
	log_set_sink(NULL, NULL);
	zg_dnssrv_free(s);
	(void)state;
}

static void test_tsig_replay(void **state)
{
	int err;
	uint8_t q[512], q2[512];
	uint64_t now = (uint64_t)time(NULL);
	uint16_t other;
	zg_tsig_ctx_t c;
	sink_t out = {0};
	zg_dnssrv_conf_t conf = {.transfer_allow = "127.0.0.1", .keys = KEYS, .n_keys = 2};
	zg_dnssrv_t *s = zg_dnssrv_new(&conf, &err);
	assert_non_null(s);
	assert_int_equal(zg_dnssrv_publish(s, SMALL, small_path), RDNS_OK);
	next_log_window();
	log_set_sink(log_capture, &logged);
	log_set_level(LOG_LVL_INFO);
	logged.n = 0;

	/* A signed SOA query, answered; the same bytes again (a UDP retransmission after a
	 * lost answer looks the same): answered again, signed, nothing logged. */
	q_t spec = {.id = 0x7a01, .name = SMALL, .qtype = ZG_TYPE_SOA};
	size_t ql = signed_query(q, sizeof(q), &spec, &KEYS[0], now, &c);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(zg_dnssrv_handle(s, q, ql, lo4(), ZG_DNSSRV_UDP, sink_emit, &out), RDNS_OK);
		assert_int_equal(out.n, 1);
		assert_int_equal(ZG_WIRE_RCODE(zg_wire_get16(out.msgs[0] + 2)), ZG_RCODE_NOERROR);
		if (i == 0) /* the client's context moves on with the first answer it verifies */
			assert_int_equal(zg_tsig_verify_response(&c, out.msgs[0], out.lens[0], now), RDNS_OK);
		sink_free(&out);
	}
	assert_int_equal(logged.n, 0);

	/* A different request signed in the same second: accepted. */
	spec.id = 0x7a02;
	ql = signed_query(q2, sizeof(q2), &spec, &KEYS[0], now, &c);
	assert_int_equal(zg_dnssrv_handle(s, q2, ql, lo4(), ZG_DNSSRV_UDP, sink_emit, &out), RDNS_OK);
	assert_int_equal(ZG_WIRE_RCODE(zg_wire_get16(out.msgs[0] + 2)), ZG_RCODE_NOERROR);
	sink_free(&out);

	/* A transfer replayed over TCP: refused the same way, before anything is sent. */
	spec.id = 0x7a03;
	spec.qtype = ZG_TYPE_AXFR;
	ql = signed_query(q2, sizeof(q2), &spec, &KEYS[0], now, &c);
	assert_int_equal(zg_dnssrv_handle(s, q2, ql, lo4(), ZG_DNSSRV_TCP, sink_emit, &out), RDNS_OK);
	assert_true(out.n >= 1);
	assert_int_equal(ZG_WIRE_RCODE(zg_wire_get16(out.msgs[0] + 2)), ZG_RCODE_NOERROR);
	sink_free(&out);
	/* the transfer served, with the name of the key it was signed with */
	expect_line(LOG_LVL_INFO, "dnssrv: zone 2.0.192.in-addr.arpa: AXFR from 127.0.0.1:0, key xfr-key.: "
	                          "serial 2026112601, full: ");
	assert_int_equal(zg_dnssrv_handle(s, q2, ql, lo4(), ZG_DNSSRV_TCP, sink_emit, &out), RDNS_OK);
	assert_int_equal(out.n, 1);
	assert_int_equal(ZG_WIRE_RCODE(zg_wire_get16(out.msgs[0] + 2)), ZG_RCODE_NOTAUTH);
	assert_int_equal(tsig_error_other(out.msgs[0], out.lens[0], &other), ZG_TSIG_BADTIME);
	assert_int_equal(other, 6);
	sink_free(&out);
	if (logged.n == 2 && strstr(logged.line[0], "refusal lines were suppressed") != NULL) {
		/* test_log_lines's flood, owned up to by the first line of a new second */
		memmove(logged.line[0], logged.line[1], sizeof(logged.line[0]));
		logged.level[0] = logged.level[1];
		logged.n = 1;
	}
	expect_line(LOG_LVL_INFO, "dnssrv: refused AXFR of 2.0.192.in-addr.arpa. from 127.0.0.1:0, key "
	                          "xfr-key.: TSIG BADTIME (replay: the same signed request");

	/* A secondary with a fast clock moves the key's newest on; a request signed more
	 * than the fudge before it (yet within the fudge of our clock) is refused. */
	spec.qtype = ZG_TYPE_SOA;
	spec.id = 0x7a04;
	ql = signed_query(q2, sizeof(q2), &spec, &KEYS[0], now + 200, &c);
	assert_int_equal(zg_dnssrv_handle(s, q2, ql, lo4(), ZG_DNSSRV_UDP, sink_emit, &out), RDNS_OK);
	assert_int_equal(ZG_WIRE_RCODE(zg_wire_get16(out.msgs[0] + 2)), ZG_RCODE_NOERROR);
	sink_free(&out);
	spec.id = 0x7a05;
	ql = signed_query(q2, sizeof(q2), &spec, &KEYS[0], now - 150, &c);
	assert_int_equal(zg_dnssrv_handle(s, q2, ql, lo4(), ZG_DNSSRV_UDP, sink_emit, &out), RDNS_OK);
	assert_int_equal(ZG_WIRE_RCODE(zg_wire_get16(out.msgs[0] + 2)), ZG_RCODE_NOTAUTH);
	assert_int_equal(tsig_error_other(out.msgs[0], out.lens[0], &other), ZG_TSIG_BADTIME);
	assert_int_equal(other, 6);
	sink_free(&out);
	char want[256];
	snprintf(want, sizeof(want),
	         "dnssrv: refused query for 2.0.192.in-addr.arpa. from 127.0.0.1:0, key xfr-key.: TSIG "
	         "BADTIME (replay: time signed %llu is 350 s before %llu, the newest accepted for this key, "
	         "beyond the fudge of 300 s)",
	         (unsigned long long)(now - 150), (unsigned long long)(now + 200));
	expect_line(LOG_LVL_INFO, want);

	/* The other key is unaffected: the same time, and even the first query's ID and
	 * question, are fine under it. */
	spec.id = 0x7a05;
	ql = signed_query(q2, sizeof(q2), &spec, &KEYS[1], now - 150, &c);
	assert_int_equal(zg_dnssrv_handle(s, q2, ql, lo4(), ZG_DNSSRV_UDP, sink_emit, &out), RDNS_OK);
	assert_int_equal(ZG_WIRE_RCODE(zg_wire_get16(out.msgs[0] + 2)), ZG_RCODE_NOERROR);
	assert_int_equal(zg_tsig_verify_response(&c, out.msgs[0], out.lens[0], now), RDNS_OK);
	sink_free(&out);
	assert_int_equal(logged.n, 0);
	for (int i = 0; i < 16; i++)
		assert_null(strstr(logged.line[i], (const char *)KEYS[0].secret));

	zg_dnssrv_free(s);
	log_set_sink(NULL, NULL);
}

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void soa_on(int fd, uint16_t id)
{
	uint8_t q[512], r[4096];
	q_t spec = {.id = id, .name = SMALL, .qtype = ZG_TYPE_SOA};
	size_t ql = build(q, sizeof(q), &spec);
	tcp_send(fd, q, ql);
	int n = tcp_recv(fd, r, sizeof(r), 2000);
	assert_true(n > 12);
	assert_int_equal(zg_wire_get16(r), id);
}

static void test_tcp_limits(void **state)
{
	/* Idle timeout (300 ms on server A): the server closes. */
	int fd = tcp_connect(port_a);
	soa_on(fd, 1);
	double t0 = now_ms();
	uint8_t b[16];
	assert_int_equal(read_n(fd, b, 1, 3000), -1);
	double dt = now_ms() - t0;
	assert_true(dt >= 250 && dt < 2500);
	close(fd);

	/* A half-sent query is also cut off. */
	fd = tcp_connect(port_a);
	assert_int_equal(send(fd, "\x00\x20\x01", 3, 0), 3);
	t0 = now_ms();
	assert_int_equal(read_n(fd, b, 1, 3000), -1);
	assert_true(now_ms() - t0 < 2500);
	close(fd);
	usleep(100 * 1000); /* let the server reap */

	/* At most 3 clients: a 4th is closed at once. */
	int fds[3];
	for (int i = 0; i < 3; i++) {
		fds[i] = tcp_connect(port_a);
		soa_on(fds[i], (uint16_t)(10 + i)); /* accepted and served */
	}
	int extra = tcp_connect(port_a);
	t0 = now_ms();
	assert_int_equal(read_n(extra, b, 1, 2000), -1);
	assert_true(now_ms() - t0 < 250); /* closed, not timed out */
	close(extra);
	close(fds[0]);
	usleep(150 * 1000);
	int again = tcp_connect(port_a);
	soa_on(again, 20);
	close(again);
	close(fds[1]);
	close(fds[2]);
	usleep(100 * 1000);
}

static int tcp_connect_from(uint16_t port, const char *src)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in me = {.sin_family = AF_INET};
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, src, &me.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&me, sizeof(me)), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Who may hold a TCP slot (issue #13): nobody outside the ACL, at most
 * max_tcp_per_addr per address, and only while a query arrives in time. */
static void test_tcp_slots(void **state)
{
	int err;
	zg_dnssrv_conf_t c = {.listen = "127.0.0.1:0",
	                      .transfer_allow = "127.0.0.1 127.0.0.3",
	                      .tcp_idle_timeout_ms = 300,
	                      .tcp_query_timeout_ms = 700,
	                      .max_tcp_clients = 6,
	                      .max_tcp_per_addr = 2};
	zg_dnssrv_t *s = zg_dnssrv_new(&c, &err);
	assert_non_null(s);
	assert_int_equal(zg_dnssrv_publish(s, SMALL, small_path), RDNS_OK);
	assert_int_equal(zg_dnssrv_start(s), RDNS_OK);
	uint16_t port = zg_dnssrv_port(s);
	uint8_t b[16];

	/* Outside the ACL: one query answered REFUSED, then closed; silence cut at 1 s. */
	uint8_t q[512], r[512];
	q_t spec = {.id = 0x7e01, .name = SMALL, .qtype = ZG_TYPE_AXFR};
	size_t ql = build(q, sizeof(q), &spec);
	int fd = tcp_connect_from(port, "127.0.0.2");
	tcp_send(fd, q, ql);
	int n = tcp_recv(fd, r, sizeof(r), 2000);
	assert_true(n >= 12);
	assert_int_equal(zg_wire_get16(r), 0x7e01);
	assert_int_equal(zg_wire_get16(r + 2) & 0xf, ZG_RCODE_REFUSED);
	assert_int_equal(read_n(fd, b, 1, 2000), -1);
	close(fd);
	fd = tcp_connect_from(port, "127.0.0.2");
	double t0 = now_ms();
	assert_int_equal(read_n(fd, b, 1, 3000), -1);
	assert_true(now_ms() - t0 >= 800 && now_ms() - t0 < 2000);
	close(fd);
	/* More outsiders than the loop thread keeps: the rest are closed at once,
	 * and none of them takes one of the 6 slots. */
	int flood[40];
	for (int i = 0; i < 40; i++)
		flood[i] = tcp_connect_from(port, "127.0.0.2");
	t0 = now_ms();
	assert_int_equal(read_n(flood[39], b, 1, 2000), -1);
	assert_true(now_ms() - t0 < 250);
	int ok = tcp_connect_from(port, "127.0.0.1");
	soa_on(ok, 29);
	close(ok);
	for (int i = 0; i < 40; i++)
		close(flood[i]);
	usleep(100 * 1000);

	/* Two per address: a third from 127.0.0.3 is closed, 127.0.0.1 still served. */
	int held[2];
	for (int i = 0; i < 2; i++) {
		held[i] = tcp_connect_from(port, "127.0.0.3");
		soa_on(held[i], (uint16_t)(30 + i));
	}
	int third = tcp_connect_from(port, "127.0.0.3");
	t0 = now_ms();
	assert_int_equal(read_n(third, b, 1, 2000), -1);
	assert_true(now_ms() - t0 < 250);
	close(third);
	int other = tcp_connect_from(port, "127.0.0.1");
	soa_on(other, 40);
	close(other);
	close(held[0]);
	close(held[1]);
	usleep(100 * 1000); /* let the server reap */

	/* A byte every 100 ms never idles 300 ms, but the query is cut off at 700 ms. */
	fd = tcp_connect(port);
	t0 = now_ms();
	bool open = true;
	while (open && now_ms() - t0 < 3000) {
		(void)send(fd, "\xff", 1, MSG_NOSIGNAL);
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		if (poll(&pf, 1, 100) == 1)
			open = recv(fd, b, sizeof(b), 0) > 0;
	}
	double dt = now_ms() - t0;
	assert_false(open);
	assert_true(dt >= 600 && dt < 1500);
	close(fd);
	zg_dnssrv_free(s);
}

/* ---- concurrency: transfers while the zone is republished ---- */

typedef struct {
	uint16_t port;
	int rounds;
	int bad;  /* inconsistent transfers seen */
	int done; /* complete transfers */
	pthread_t th;
} xclient_t;

/* Plain-socket AXFR without cmocka (not thread-safe): counts records and
 * checks that the two SOAs agree and the count fits that serial. */
static void *xclient_main(void *arg)
{
	xclient_t *c = arg;
	static __thread uint8_t buf[65536];
	for (int r = 0; r < c->rounds; r++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(c->port)};
		inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			c->bad++;
			close(fd);
			continue;
		}
		uint8_t q[128], qn[ZG_WIRE_NAME_MAX];
		size_t qnl;
		zg_wire_msg_t m;
		zg_wire_name_from_text(BIG, strlen(BIG), true, qn, &qnl);
		zg_wire_msg_init(&m, q + 2, sizeof(q) - 2, NULL, 0);
		zg_wire_msg_reset(&m, (uint16_t)r, 0);
		zg_wire_msg_put_question(&m, qn, qnl, ZG_TYPE_AXFR, ZG_CLASS_IN);
		zg_wire_msg_finish(&m);
		zg_wire_put16(q, (uint16_t)m.len);
		if (send(fd, q, m.len + 2, 0) != (ssize_t)(m.len + 2))
			c->bad++;
		int soas = 0;
		size_t recs = 0;
		uint32_t ser[2] = {0, 0};
		while (soas < 2) {
			uint8_t l[2];
			if (read_n(fd, l, 2, 5000) != 0 || read_n(fd, buf, zg_wire_get16(l), 5000) != 0)
				break;
			size_t n = zg_wire_get16(l), pos = 12;
			zg_wire_hdr_t h;
			zg_wire_hdr_parse(buf, n, &h);
			for (unsigned i = 0; i < h.count[0]; i++) {
				zg_wire_name_parse(buf, n, &pos, qn, &qnl);
				pos += 4;
			}
			for (unsigned i = 0; i < h.count[1]; i++) {
				zg_wire_rr_t rr;
				if (zg_wire_rr_parse(buf, n, &pos, &rr) != RDNS_OK)
					break;
				recs++;
				if (rr.type == ZG_TYPE_SOA && soas < 2) {
					size_t p2 = rr.rdata_off;
					zg_wire_name_parse(buf, n, &p2, qn, &qnl);
					zg_wire_name_parse(buf, n, &p2, qn, &qnl);
					ser[soas++] = zg_wire_get32(buf + p2);
				}
			}
		}
		close(fd);
		size_t want = ser[0] == SERIAL ? BIG_N + 4 : 5000 + 4;
		if (soas != 2 || ser[0] != ser[1] || recs != want)
			c->bad++;
		else
			c->done++;
	}
	return NULL;
}

static void test_concurrent_publish(void **state)
{
	int err;
	char path[160];
	snprintf(path, sizeof(path), "%s/conc.zone", dir);
	write_zone(path, BIG, SERIAL, BIG_N, NULL);
	zg_dnssrv_conf_t c = {.listen = "127.0.0.1:0", .transfer_allow = "127.0.0.1", .max_tcp_clients = 8};
	zg_dnssrv_t *s = zg_dnssrv_new(&c, &err);
	assert_non_null(s);
	assert_int_equal(zg_dnssrv_publish(s, BIG, path), RDNS_OK);
	assert_int_equal(zg_dnssrv_start(s), RDNS_OK);
	xclient_t cl[4];
	for (int i = 0; i < 4; i++) {
		cl[i] = (xclient_t){.port = zg_dnssrv_port(s), .rounds = 6};
		assert_int_equal(pthread_create(&cl[i].th, NULL, xclient_main, &cl[i]), 0);
	}
	for (int i = 0; i < 20; i++) {
		bool big = i % 2;
		write_zone(path, BIG, big ? SERIAL : SERIAL + 1, big ? BIG_N : 5000, NULL);
		assert_int_equal(zg_dnssrv_publish(s, BIG, path), RDNS_OK);
		usleep(20 * 1000);
	}
	int done = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(cl[i].th, NULL);
		assert_int_equal(cl[i].bad, 0);
		done += cl[i].done;
	}
	assert_int_equal(done, 24);
	zg_dnssrv_free(s);
	unlink(path);
}

/* A client that stops reading in the middle of a transfer must not keep
 * zg_dnssrv_stop waiting. */
static void test_stop_during_transfer(void **state)
{
	int err;
	zg_dnssrv_conf_t c = {.listen = "127.0.0.1:0", .transfer_allow = "127.0.0.1"};
	zg_dnssrv_t *s = zg_dnssrv_new(&c, &err);
	assert_non_null(s);
	assert_int_equal(zg_dnssrv_publish(s, BIG, big_path), RDNS_OK);
	assert_int_equal(zg_dnssrv_start(s), RDNS_OK);
	int fd = tcp_connect(zg_dnssrv_port(s));
	int rcvbuf = 4096;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	uint8_t q[512];
	q_t spec = {.id = 0x9001, .name = BIG, .qtype = ZG_TYPE_AXFR};
	size_t ql = build(q, sizeof(q), &spec);
	tcp_send(fd, q, ql);
	static uint8_t r[65536];
	assert_true(tcp_recv(fd, r, sizeof(r), 2000) > 0);
	usleep(100 * 1000); /* the server is now blocked writing */
	double t0 = now_ms();
	zg_dnssrv_stop(s);
	assert_true(now_ms() - t0 < 1000);
	zg_dnssrv_stop(s); /* idempotent */
	zg_dnssrv_free(s);
	close(fd);
	zg_dnssrv_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_soa_udp_tcp),
	    cmocka_unit_test(test_rcode_table),
	    cmocka_unit_test(test_query_answers),
	    cmocka_unit_test(test_query_allow),
	    cmocka_unit_test(test_query_truncation),
	    cmocka_unit_test(test_query_udp_socket),
	    cmocka_unit_test(test_zonedb_lookup_index),
	    cmocka_unit_test(test_malformed_table),
	    cmocka_unit_test(test_axfr_tcp),
	    cmocka_unit_test(test_ixfr),
	    cmocka_unit_test(test_tsig_transfers),
	    cmocka_unit_test(test_tsig_axfr_ldns),
	    cmocka_unit_test(test_serve_until),
	    cmocka_unit_test(test_acl_and_config),
	    cmocka_unit_test(test_log_lines),
	    cmocka_unit_test(test_tsig_replay),
	    cmocka_unit_test(test_transfer_lines_limited),
	    cmocka_unit_test(test_publish_snapshot),
	    cmocka_unit_test(test_tcp_limits),
	    cmocka_unit_test(test_tcp_slots),
	    cmocka_unit_test(test_concurrent_publish),
	    cmocka_unit_test(test_stop_during_transfer),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
