/* test_notify.c - unit tests of zonegen/notify: target parsing, NOTIFY against in-test responders and knotd.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>
#include <openssl/evp.h>

#include "core/err.h"
#include "core/log.h"
#include "zonegen/notify.h"

extern char **environ;

#define ZONE     "2.0.192.in-addr.arpa"
#define KEY_NAME "k"

/* For the responder thread, where cmocka's asserts must not be used. */
#define CHECK(x)                                                                                             \
	do {                                                                                                 \
		if (!(x)) {                                                                                  \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #x);                \
			abort();                                                                             \
		}                                                                                            \
	} while (0)

/* ldns takes a TSIG's time signed from gettimeofday(); this program's own
 * definition lets the responder thread sign answers with a skewed clock. */
static _Thread_local long clock_skew_s;

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	tv->tv_sec = ts.tv_sec + clock_skew_s;
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- a log sink that keeps the lines (core/log.h's, set in main) ---- */

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char log_buf[65536];
static size_t log_len;

static void cap_log(int level, const char *msg, void *arg)
{
	pthread_mutex_lock(&log_mu);
	size_t l = strlen(msg);
	if (log_len + l + 2 < sizeof(log_buf)) {
		memcpy(log_buf + log_len, msg, l);
		log_len += l;
		log_buf[log_len++] = '\n';
		log_buf[log_len] = '\0';
	}
	pthread_mutex_unlock(&log_mu);
}

static void log_reset(void)
{
	pthread_mutex_lock(&log_mu);
	log_len = 0;
	log_buf[0] = '\0';
	pthread_mutex_unlock(&log_mu);
}

static bool log_has(const char *needle)
{
	pthread_mutex_lock(&log_mu);
	bool r = strstr(log_buf, needle) != NULL;
	pthread_mutex_unlock(&log_mu);
	return r;
}

/* ---- target parsing ---- */

typedef struct {
	const char *in;
	int rc;
	const char *host;
	uint16_t port;
	const char *key;
} parse_case_t;

static const parse_case_t parse_cases[] = {
    {"192.0.2.1", RDNS_OK, "192.0.2.1", 53, ""},
    {"192.0.2.1:5353", RDNS_OK, "192.0.2.1", 5353, ""},
    {"192.0.2.1:1", RDNS_OK, "192.0.2.1", 1, ""},
    {"192.0.2.1:65535", RDNS_OK, "192.0.2.1", 65535, ""},
    {"192.0.2.1@k1", RDNS_OK, "192.0.2.1", 53, "k1"},
    {"192.0.2.1:5300@xfr-key.example.", RDNS_OK, "192.0.2.1", 5300, "xfr-key.example."},
    {"2001:db8::1", RDNS_OK, "2001:db8::1", 53, ""},
    {"2001:DB8:0:0:0:0:0:1", RDNS_OK, "2001:db8::1", 53, ""},
    {"::1", RDNS_OK, "::1", 53, ""},
    {"2001:db8::1:53", RDNS_OK, "2001:db8::1:53", 53, ""}, /* a bare v6 literal never has a port */
    {"[2001:db8::1]", RDNS_OK, "2001:db8::1", 53, ""},
    {"[2001:db8::1]:5353", RDNS_OK, "2001:db8::1", 5353, ""},
    {"[::1]:53@k_2", RDNS_OK, "::1", 53, "k_2"},
    {"2001:db8::1@k", RDNS_OK, "2001:db8::1", 53, "k"},
    {"::ffff:192.0.2.1", RDNS_OK, "::ffff:192.0.2.1", 53, ""},
    {"", RDNS_EINVAL, NULL, 0, NULL},
    {"@k", RDNS_EINVAL, NULL, 0, NULL},
    {"192.0.2.1@", RDNS_EINVAL, NULL, 0, NULL},
    {"192.0.2.1@k@k", RDNS_EINVAL, NULL, 0, NULL},
    {"192.0.2.1@bad key", RDNS_EINVAL, NULL, 0, NULL},
    {"192.0.2.1@.k", RDNS_EINVAL, NULL, 0, NULL},
    {"192.0.2.1@a..b", RDNS_EINVAL, NULL, 0, NULL},
    {"192.0.2.1@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", RDNS_EINVAL, NULL, 0,
     NULL},
    {"192.0.2.1:", RDNS_EINVAL, NULL, 0, NULL},
    {"192.0.2.1:0", RDNS_EINVAL, NULL, 0, NULL},
    {"192.0.2.1:65536", RDNS_EINVAL, NULL, 0, NULL},
    {"192.0.2.1:053x", RDNS_EINVAL, NULL, 0, NULL},
    {"192.0.2.1:+53", RDNS_EINVAL, NULL, 0, NULL},
    {"192.0.2.1:123456", RDNS_EINVAL, NULL, 0, NULL},
    {"192.0.2", RDNS_EINVAL, NULL, 0, NULL},
    {"192.0.2.256", RDNS_EINVAL, NULL, 0, NULL},
    {" 192.0.2.1", RDNS_EINVAL, NULL, 0, NULL},
    {"192.0.2.1 ", RDNS_EINVAL, NULL, 0, NULL},
    {"ns1.example", RDNS_EINVAL, NULL, 0, NULL},
    {"[192.0.2.1]:53", RDNS_EINVAL, NULL, 0, NULL},
    {"[2001:db8::1", RDNS_EINVAL, NULL, 0, NULL},
    {"[2001:db8::1]53", RDNS_EINVAL, NULL, 0, NULL},
    {"[2001:db8::1]:", RDNS_EINVAL, NULL, 0, NULL},
    {"[]:53", RDNS_EINVAL, NULL, 0, NULL},
    {"2001:db8:::1", RDNS_EINVAL, NULL, 0, NULL},
    {"fe80::1%eth0", RDNS_EINVAL, NULL, 0, NULL},
    {"[fe80::1%eth0]:53", RDNS_EINVAL, NULL, 0, NULL},
    /* the API's grammar (CORE_EP_NOTIFY): one host, never a wildcard or a group */
    {"0.0.0.0", RDNS_EINVAL, NULL, 0, NULL},
    {"[::]:53", RDNS_EINVAL, NULL, 0, NULL},
    {"255.255.255.255:53", RDNS_EINVAL, NULL, 0, NULL},
    {"224.0.0.1@k", RDNS_EINVAL, NULL, 0, NULL},
    {"ff02::1", RDNS_EINVAL, NULL, 0, NULL},
};

static void test_parse_table(void **state)
{
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const parse_case_t *c = &parse_cases[i];
		zg_notify_target_t t;
		char key[64] = "unchanged";
		memset(&t, 0xa5, sizeof(t));
		int rc = zg_notify_target_parse(c->in, &t, key, sizeof(key));
		if (rc != c->rc)
			fail_msg("parse(\"%s\") = %d, want %d", c->in, rc, c->rc);
		if (rc != RDNS_OK)
			continue;
		if (strcmp(t.host, c->host) != 0 || t.port != c->port || strcmp(key, c->key) != 0 ||
		    strcmp(t.key_name, c->key) != 0 || t.key_len != 0)
			fail_msg("parse(\"%s\") = host %s port %u key %s, want %s %u %s", c->in, t.host,
			         (unsigned)t.port, key, c->host, (unsigned)c->port, c->key);
	}
}

static void test_parse_keyname_buffer(void **state)
{
	zg_notify_target_t t;
	char small[3];
	assert_int_equal(zg_notify_target_parse("192.0.2.1@key", &t, small, sizeof(small)), RDNS_ESPACE);
	assert_int_equal(zg_notify_target_parse("192.0.2.1@ke", &t, small, sizeof(small)), RDNS_OK);
	assert_string_equal(small, "ke");
	assert_int_equal(zg_notify_target_parse("192.0.2.1", &t, NULL, 0), RDNS_OK);
	assert_int_equal(zg_notify_target_parse(NULL, &t, NULL, 0), RDNS_EINVAL);
}

static void test_format(void **state)
{
	zg_notify_target_t t;
	char buf[80];
	assert_int_equal(zg_notify_target_parse("[2001:db8::53]:5353", &t, NULL, 0), RDNS_OK);
	assert_int_equal(zg_notify_target_format(&t, buf, sizeof(buf)), RDNS_OK);
	assert_string_equal(buf, "[2001:db8::53]:5353");
	assert_int_equal(zg_notify_target_parse("192.0.2.1", &t, NULL, 0), RDNS_OK);
	assert_int_equal(zg_notify_target_format(&t, buf, sizeof(buf)), RDNS_OK);
	assert_string_equal(buf, "192.0.2.1:53");
	assert_int_equal(zg_notify_target_format(&t, buf, 12), RDNS_ESPACE);
}

/* ---- a UDP responder thread standing in for a secondary ---- */

enum {
	BOGUS_NONE,
	BOGUS_ID,        /* the ID of no request */
	BOGUS_NOQR,      /* QR clear */
	BOGUS_OPCODE,    /* opcode QUERY */
	BOGUS_QNAME,     /* another zone */
	BOGUS_QTYPE,     /* question type A */
	BOGUS_QCLASS,    /* question class CH */
	BOGUS_NOQ,       /* no question */
	BOGUS_SHORT,     /* 5 bytes */
	BOGUS_OTHERPORT, /* right message, sent from another port */
	BOGUS_OTHERADDR, /* right message, sent from 127.0.0.2 with the right port */
};

#define RESP_MAX 64

typedef struct {
	/* set up by the test */
	int family;           /* AF_INET: 127.0.0.1, AF_INET6: ::1 */
	uint16_t port;        /* 0: ephemeral (filled in by resp_start) */
	int rcode;            /* answer with this rcode; -1: never answer */
	int drop_first;       /* requests ignored before answering */
	int bogus;            /* BOGUS_*: sent (with rcode NOTIMP) before every real answer */
	int bind_after_ms;    /* the port is closed until then */
	const char *key_b64;  /* requests must be signed with this key (name KEY_NAME) */
	const char *sign_b64; /* answers signed with this key instead of key_b64 */
	bool answer_unsigned; /* answer a signed request without TSIG */
	long sign_skew_s;     /* sign answers this far off the real time */
	const char *as_name;  /* sign answers under this key name instead of KEY_NAME */
	bool flip_mac;        /* change a byte of the answer's MAC after signing */
	bool reply_noq;       /* the real answer has no question section (NSD's bare REFUSED) */
	int reply_variant;    /* BOGUS_* applied to the real answer */
	/* observed */
	char from[64]; /* source address of the last request */
	pthread_mutex_t mu;
	int n_req, n_bad, n_tsig_ok, n_bogus;
	uint32_t serial[RESP_MAX];
	char qname[RESP_MAX][64];
	uint16_t id[RESP_MAX];
	int64_t at[RESP_MAX];
	/* internal */
	int fd;
	pthread_t th;
	atomic_bool stop;
} resp_t;

static int bind_udp(int family, const char *addr, uint16_t port)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_storage ss;
	socklen_t sl;
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		inet_pton(AF_INET, addr ? addr : "127.0.0.1", &a->sin_addr);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		inet_pton(AF_INET6, addr ? addr : "::1", &a->sin6_addr);
		sl = sizeof(*a);
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static uint16_t sock_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		return 0;
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
	                                     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* A port nobody listens on right now. */
static uint16_t free_udp_port(void)
{
	int fd = bind_udp(AF_INET, NULL, 0);
	assert_true(fd >= 0);
	uint16_t p = sock_port(fd);
	close(fd);
	return p;
}

/* The answer to req with rcode, spoiled as variant says. */
static ldns_pkt *make_reply(const ldns_pkt *req, int rcode, int variant)
{
	ldns_rdf *qn = NULL;
	ldns_rr_type qt = LDNS_RR_TYPE_SOA;
	ldns_rr_class qc = LDNS_RR_CLASS_IN;
	const ldns_rr *q = ldns_rr_list_rr(ldns_pkt_question(req), 0);
	if (variant == BOGUS_QNAME)
		qn = ldns_dname_new_frm_str("3.0.192.in-addr.arpa.");
	else
		qn = ldns_rdf_clone(ldns_rr_owner(q));
	if (variant == BOGUS_QTYPE)
		qt = LDNS_RR_TYPE_A;
	if (variant == BOGUS_QCLASS)
		qc = LDNS_RR_CLASS_CH;
	ldns_pkt *p = ldns_pkt_query_new(qn, qt, qc, LDNS_AA);
	CHECK(p != NULL);
	if (variant == BOGUS_NOQ) {
		ldns_rr_list_deep_free(ldns_pkt_question(p));
		ldns_pkt_set_question(p, ldns_rr_list_new());
		ldns_pkt_set_qdcount(p, 0);
	}
	ldns_pkt_set_id(p, variant == BOGUS_ID ? (uint16_t)(ldns_pkt_id(req) ^ 0x5a5a) : ldns_pkt_id(req));
	ldns_pkt_set_qr(p, variant != BOGUS_NOQR);
	ldns_pkt_set_opcode(p, variant == BOGUS_OPCODE ? LDNS_PACKET_QUERY : LDNS_PACKET_NOTIFY);
	ldns_pkt_set_rcode(p, (uint8_t)rcode);
	return p;
}

static void send_pkt_flip(int fd, ldns_pkt *p, const struct sockaddr_storage *to, socklen_t tl, bool flip_mac)
{
	uint8_t *wire = NULL;
	size_t len = 0;
	CHECK(ldns_pkt2wire(&wire, p, &len) == LDNS_STATUS_OK);
	if (flip_mac) {
		CHECK(ldns_pkt_tsig(p) != NULL && len > 7);
		wire[len - 7] ^= 1; /* the MAC's last byte (then original ID, error, other length) */
	}
	ssize_t r = sendto(fd, wire, len, 0, (const struct sockaddr *)to, tl);
	CHECK(r == (ssize_t)len);
	free(wire);
}

static void send_pkt(int fd, ldns_pkt *p, const struct sockaddr_storage *to, socklen_t tl)
{
	send_pkt_flip(fd, p, to, tl, false);
}

static void resp_handle(resp_t *r, const uint8_t *buf, size_t len, const struct sockaddr_storage *from,
                        socklen_t fl)
{
	ldns_pkt *req = NULL, *ans = NULL;
	ldns_rdf *req_mac = NULL;
	bool ok = ldns_wire2pkt(&req, buf, len) == LDNS_STATUS_OK;
	uint32_t serial = 0;
	char *qname = NULL;

	/* the request must be a well-formed RFC 1996 NOTIFY */
	if (ok) {
		const ldns_rr *q = ldns_rr_list_rr(ldns_pkt_question(req), 0);
		const ldns_rr *a = ldns_rr_list_rr(ldns_pkt_answer(req), 0);
		ok = !ldns_pkt_qr(req) && ldns_pkt_aa(req) &&
		     ldns_pkt_get_opcode(req) == LDNS_PACKET_NOTIFY && ldns_pkt_qdcount(req) == 1 && q &&
		     ldns_rr_get_type(q) == LDNS_RR_TYPE_SOA && ldns_rr_get_class(q) == LDNS_RR_CLASS_IN &&
		     ldns_pkt_ancount(req) == 1 && a && ldns_rr_get_type(a) == LDNS_RR_TYPE_SOA &&
		     ldns_rr_get_class(a) == LDNS_RR_CLASS_IN &&
		     ldns_dname_compare(ldns_rr_owner(a), ldns_rr_owner(q)) == 0 && ldns_rr_rd_count(a) == 7;
		if (ok) {
			serial = ldns_rdf2native_int32(ldns_rr_rdf(a, 2));
			qname = ldns_rdf2str(ldns_rr_owner(q));
		}
	}
	bool tsig_ok = false;
	if (ok && r->key_b64) {
		ldns_rr *ts = ldns_pkt_tsig(req);
		if (ts)
			req_mac = ldns_rdf_clone(ldns_rr_rdf(ts, 3));
		tsig_ok = ts && ldns_pkt_tsig_verify(req, buf, len, KEY_NAME, r->key_b64, NULL);
	}

	pthread_mutex_lock(&r->mu);
	if (from->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)from)->sin_addr, r->from, sizeof(r->from));
	else
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)from)->sin6_addr, r->from,
		          sizeof(r->from));
	int k = r->n_req++;
	if (k < RESP_MAX) {
		r->serial[k] = serial;
		snprintf(r->qname[k], sizeof(r->qname[k]), "%s", qname ? qname : "");
		r->id[k] = ok ? ldns_pkt_id(req) : 0;
		r->at[k] = now_ms();
	}
	if (!ok)
		r->n_bad++;
	if (tsig_ok)
		r->n_tsig_ok++;
	pthread_mutex_unlock(&r->mu);

	if (!ok || r->rcode < 0 || k < r->drop_first)
		goto cleanup;

	if (r->bogus != BOGUS_NONE) {
		int v = r->bogus;
		ldns_pkt *b =
		    make_reply(req, LDNS_RCODE_NOTIMPL, v == BOGUS_OTHERPORT || v == BOGUS_OTHERADDR ? 0 : v);
		if (v == BOGUS_SHORT) {
			uint8_t junk[5] = {buf[0], buf[1], 0xa0, 0x04, 0};
			CHECK(sendto(r->fd, junk, 5, 0, (const struct sockaddr *)from, fl) == 5);
		} else if (v == BOGUS_OTHERPORT || v == BOGUS_OTHERADDR) {
			int ofd = v == BOGUS_OTHERPORT ? bind_udp(r->family, NULL, 0)
			                               : bind_udp(AF_INET, "127.0.0.2", r->port);
			CHECK(ofd >= 0);
			send_pkt(ofd, b, from, fl);
			close(ofd);
		} else {
			send_pkt(r->fd, b, from, fl);
		}
		ldns_pkt_free(b);
		pthread_mutex_lock(&r->mu);
		r->n_bogus++;
		pthread_mutex_unlock(&r->mu);
	}

	ans = make_reply(req, r->rcode, r->reply_noq ? BOGUS_NOQ : r->reply_variant);
	if (r->reply_noq && r->reply_variant == BOGUS_ID)
		ldns_pkt_set_id(ans, (uint16_t)(ldns_pkt_id(req) ^ 0x5a5a));
	if (r->key_b64 && !r->answer_unsigned) {
		clock_skew_s = r->sign_skew_s;
		CHECK(ldns_pkt_tsig_sign(ans, r->as_name ? r->as_name : KEY_NAME,
		                         r->sign_b64 ? r->sign_b64 : r->key_b64, 300, "hmac-sha256.",
		                         req_mac) == LDNS_STATUS_OK);
		clock_skew_s = 0;
	}
	send_pkt_flip(r->fd, ans, from, fl, r->flip_mac);
cleanup:
	ldns_rdf_deep_free(req_mac);
	free(qname);
	ldns_pkt_free(ans);
	ldns_pkt_free(req);
}

static void *resp_main(void *arg)
{
	resp_t *r = arg;
	if (r->fd < 0) {
		int64_t until = now_ms() + r->bind_after_ms;
		while (!atomic_load(&r->stop) && now_ms() < until)
			sleep_ms(10);
		if (atomic_load(&r->stop))
			return NULL;
		r->fd = bind_udp(r->family, NULL, r->port);
		CHECK(r->fd >= 0);
	}
	while (!atomic_load(&r->stop)) {
		struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
		if (poll(&pfd, 1, 20) <= 0)
			continue;
		uint8_t buf[4096];
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(r->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n > 0)
			resp_handle(r, buf, (size_t)n, &from, fl);
	}
	return NULL;
}

static void resp_start(resp_t *r)
{
	pthread_mutex_init(&r->mu, NULL);
	atomic_store(&r->stop, false);
	if (r->family == 0)
		r->family = AF_INET;
	r->fd = -1;
	if (r->bind_after_ms == 0) {
		r->fd = bind_udp(r->family, NULL, r->port);
		assert_true(r->fd >= 0);
		r->port = sock_port(r->fd);
	}
	assert_int_equal(pthread_create(&r->th, NULL, resp_main, r), 0);
}

static void resp_stop(resp_t *r)
{
	atomic_store(&r->stop, true);
	pthread_join(r->th, NULL);
	if (r->fd >= 0)
		close(r->fd);
	pthread_mutex_destroy(&r->mu);
}

static int resp_count(resp_t *r)
{
	pthread_mutex_lock(&r->mu);
	int n = r->n_req;
	pthread_mutex_unlock(&r->mu);
	return n;
}

static zg_notify_target_t target_of(const resp_t *r)
{
	zg_notify_target_t t;
	memset(&t, 0, sizeof(t));
	snprintf(t.host, sizeof(t.host), "%s", r->family == AF_INET6 ? "::1" : "127.0.0.1");
	t.port = r->port;
	return t;
}

static void set_key(zg_notify_target_t *t, const uint8_t *key, size_t len)
{
	snprintf(t->key_name, sizeof(t->key_name), "%s", KEY_NAME);
	memcpy(t->key, key, len);
	t->key_len = len;
}

/* Wait (on the notifier's fd, as the caller would) until want outcomes are in; with
 * finals_only, the outcomes of targets finishing before their job's last are skipped. */
static size_t wait_outcomes_of(zg_notifier_t *n, zg_notify_outcome_t *out, size_t want, int timeout_ms,
                               bool finals_only)
{
	size_t got = 0;
	int64_t until = now_ms() + timeout_ms;
	while (got < want) {
		int64_t left = until - now_ms();
		if (left <= 0)
			break;
		struct pollfd pfd = {.fd = zg_notifier_fd(n), .events = POLLIN};
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		zg_notify_outcome_t one;
		size_t k = 0;
		/* readable means something is there */
		while (got < want && zg_notifier_poll(n, &one, 1) == 1) {
			k++;
			if (!finals_only || one.final)
				out[got++] = one;
		}
		assert_true(k > 0);
	}
	return got;
}

/* Wait until want final outcomes (one per job) are in. */
static size_t wait_outcomes(zg_notifier_t *n, zg_notify_outcome_t *out, size_t want, int timeout_ms)
{
	return wait_outcomes_of(n, out, want, timeout_ms, true);
}

/* No outcome within ms, and the fd stays quiet. */
static void assert_no_outcome(zg_notifier_t *n, int ms)
{
	struct pollfd pfd = {.fd = zg_notifier_fd(n), .events = POLLIN};
	assert_int_equal(poll(&pfd, 1, ms), 0);
	zg_notify_outcome_t o;
	assert_int_equal(zg_notifier_poll(n, &o, 1), 0);
}

static zg_notifier_t *notifier(int tries, int first, int max)
{
	zg_notify_conf_t c = {.tries = tries, .first_timeout_ms = first, .max_timeout_ms = max};
	int err = 1;
	zg_notifier_t *n = zg_notifier_new(&c, &err);
	assert_non_null(n);
	assert_int_equal(err, RDNS_OK);
	return n;
}

/* Notify one target and wait for the single outcome. */
static void notify_one(zg_notifier_t *n, const zg_notify_target_t *t, uint32_t serial, zg_notify_outcome_t *o,
                       int timeout_ms)
{
	assert_int_equal(zg_notifier_submit(n, ZONE, serial, t, 1), RDNS_OK);
	assert_int_equal(wait_outcomes(n, o, 1, timeout_ms), 1);
	assert_string_equal(o->zone, ZONE);
	assert_int_equal(o->serial, serial);
	assert_int_equal(o->n_results, 1);
}

/* ---- behaviour against the responder ---- */

static void test_ack(void **state)
{
	resp_t r = {.rcode = LDNS_RCODE_NOERROR};
	resp_start(&r);
	zg_notifier_t *n = notifier(3, 200, 1000);
	zg_notify_target_t t = target_of(&r);
	zg_notify_outcome_t o;
	log_reset();
	notify_one(n, &t, 2024010101u, &o, 3000);
	assert_int_equal(o.results[0].state, ZG_NOTIFY_ACKED);
	assert_int_equal(o.results[0].tries, 1);
	assert_int_equal(o.results[0].rcode, 0);
	char want[80];
	snprintf(want, sizeof(want), "127.0.0.1:%u", (unsigned)r.port);
	assert_string_equal(o.results[0].target, want);
	/* the fd is quiet once drained */
	assert_no_outcome(n, 0);
	assert_true(log_has("notify: zone " ZONE " serial 2024010101: "));
	zg_notifier_free(n);
	resp_stop(&r);
	assert_int_equal(r.n_req, 1);
	assert_int_equal(r.n_bad, 0);
	assert_int_equal(r.serial[0], 2024010101u);
	assert_string_equal(r.qname[0], ZONE ".");
}

static void test_ack_ipv6(void **state)
{
	resp_t r = {.family = AF_INET6, .rcode = LDNS_RCODE_NOERROR};
	resp_start(&r);
	zg_notifier_t *n = notifier(3, 200, 1000);
	zg_notify_target_t t = target_of(&r);
	zg_notify_outcome_t o;
	notify_one(n, &t, 7, &o, 3000);
	assert_int_equal(o.results[0].state, ZG_NOTIFY_ACKED);
	assert_int_equal(o.results[0].tries, 1);
	char want[80];
	snprintf(want, sizeof(want), "[::1]:%u", (unsigned)r.port);
	assert_string_equal(o.results[0].target, want);
	zg_notifier_free(n);
	resp_stop(&r);
	assert_int_equal(r.n_bad, 0);
	assert_int_equal(r.serial[0], 7);
}

static void test_notimp_stops(void **state)
{
	resp_t r = {.rcode = LDNS_RCODE_NOTIMPL};
	resp_start(&r);
	zg_notifier_t *n = notifier(5, 50, 200);
	zg_notify_target_t t = target_of(&r);
	zg_notify_outcome_t o;
	notify_one(n, &t, 1, &o, 3000);
	assert_int_equal(o.results[0].state, ZG_NOTIFY_NOTIMP);
	assert_int_equal(o.results[0].rcode, LDNS_RCODE_NOTIMPL);
	assert_int_equal(o.results[0].tries, 1);
	/* no retransmissions after NOTIMP */
	sleep_ms(300);
	assert_int_equal(resp_count(&r), 1);
	zg_notifier_free(n);
	resp_stop(&r);
}

typedef struct {
	int bogus;
	const char *name;
} bogus_case_t;

static const bogus_case_t bogus_cases[] = {
    {BOGUS_ID, "wrong id"},
    {BOGUS_NOQR, "QR clear"},
    {BOGUS_OPCODE, "opcode QUERY"},
    {BOGUS_QNAME, "other zone"},
    {BOGUS_QTYPE, "qtype A"},
    {BOGUS_QCLASS, "class CH"},
    /* a NOTIMP without a question is an answer (test_error_answers_without_question) */
    {BOGUS_SHORT, "5 bytes"},
    {BOGUS_OTHERPORT, "from another port"},
    {BOGUS_OTHERADDR, "from another address"},
};

/* A NOTIMP that does not match must be ignored: the real NOERROR after it wins. */
static void test_bogus_answers_ignored(void **state)
{
	zg_notifier_t *n = notifier(3, 300, 1000);
	for (size_t i = 0; i < sizeof(bogus_cases) / sizeof(bogus_cases[0]); i++) {
		resp_t r = {.rcode = LDNS_RCODE_NOERROR, .bogus = bogus_cases[i].bogus};
		resp_start(&r);
		zg_notify_target_t t = target_of(&r);
		zg_notify_outcome_t o;
		notify_one(n, &t, (uint32_t)i + 100, &o, 3000);
		resp_stop(&r);
		if (o.results[0].state != ZG_NOTIFY_ACKED || o.results[0].tries != 1)
			fail_msg("%s: state %d tries %d (%s)", bogus_cases[i].name, o.results[0].state,
			         o.results[0].tries, o.results[0].detail);
		assert_int_equal(r.n_bogus, 1);
	}
	zg_notifier_free(n);
}

static void test_down_then_up(void **state)
{
	resp_t r = {.rcode = LDNS_RCODE_NOERROR, .port = free_udp_port(), .bind_after_ms = 600};
	resp_start(&r);
	zg_notifier_t *n = notifier(8, 100, 400);
	zg_notify_target_t t = target_of(&r);
	zg_notify_outcome_t o;
	int64_t t0 = now_ms();
	notify_one(n, &t, 42, &o, 5000);
	int64_t took = now_ms() - t0;
	assert_int_equal(o.results[0].state, ZG_NOTIFY_ACKED);
	assert_true(o.results[0].tries > 1);
	assert_true(took >= 550);
	zg_notifier_free(n);
	resp_stop(&r);
	assert_int_equal(r.n_req, 1); /* only the tries after it came up reached it */
	assert_int_equal(r.serial[0], 42);
}

static void test_tries_exhausted(void **state)
{
	resp_t r = {.rcode = -1};
	resp_start(&r);
	zg_notifier_t *n = notifier(3, 50, 1000);
	zg_notify_target_t t = target_of(&r);
	zg_notify_outcome_t o;
	log_reset();
	int64_t t0 = now_ms();
	notify_one(n, &t, 9, &o, 3000);
	int64_t took = now_ms() - t0;
	assert_int_equal(o.results[0].state, ZG_NOTIFY_FAILED);
	assert_int_equal(o.results[0].tries, 3);
	assert_int_equal(o.results[0].rcode, -1);
	assert_non_null(strstr(o.results[0].detail, "no answer after 3 tries"));
	/* waits 50 + 100 + 200 ms */
	assert_true(took >= 340);
	assert_true(log_has("serial 9: 127.0.0.1:"));
	assert_true(log_has("failed"));
	zg_notifier_free(n);
	resp_stop(&r);
	assert_int_equal(r.n_req, 3);
	assert_int_equal(r.n_bad, 0);
	/* exponential backoff between the tries (timers never fire early) */
	assert_true(r.at[1] - r.at[0] >= 45);
	assert_true(r.at[2] - r.at[1] >= 95);
	/* a fresh ID per try */
	assert_false(r.id[0] == r.id[1] && r.id[1] == r.id[2]);
}

/* REFUSED and NOTAUTH are policy answers: reported as what they are, not retried. */
static void test_refused_stops(void **state)
{
	const int rcodes[] = {LDNS_RCODE_REFUSED, LDNS_RCODE_NOTAUTH};
	const char *want[] = {"answered REFUSED", "answered NOTAUTH"};
	for (int i = 0; i < 2; i++) {
		resp_t r = {.rcode = rcodes[i]};
		resp_start(&r);
		zg_notifier_t *n = notifier(3, 50, 1000);
		zg_notify_target_t t = target_of(&r);
		zg_notify_outcome_t o;
		log_reset();
		notify_one(n, &t, 10, &o, 3000);
		assert_int_equal(o.results[0].state, ZG_NOTIFY_REFUSED);
		assert_int_equal(o.results[0].tries, 1);
		assert_int_equal(o.results[0].rcode, rcodes[i]);
		assert_string_equal(o.results[0].detail, want[i]);
		assert_true(log_has(want[i]));
		zg_notifier_free(n);
		resp_stop(&r);
		assert_int_equal(r.n_req, 1);
	}
}

/* NSD answers a refused NOTIFY with a bare header (QDCOUNT 0): matched on ID, source
 * and opcode. REFUSED and NOTAUTH end the target, NOTIMP stops it (RFC 1996); a NOERROR
 * must echo the question to count; an error answer with another ID is ignored. */
static void test_error_answers_without_question(void **state)
{
	const struct {
		int rcode, bogus, state, tries;
		const char *detail;
	} cases[] = {
	    {LDNS_RCODE_REFUSED, BOGUS_NONE, ZG_NOTIFY_REFUSED, 1, "answered REFUSED"},
	    {LDNS_RCODE_NOTAUTH, BOGUS_NONE, ZG_NOTIFY_REFUSED, 1, "answered NOTAUTH"},
	    {LDNS_RCODE_NOTIMPL, BOGUS_NONE, ZG_NOTIFY_NOTIMP, 1, "answered NOTIMP"},
	    {LDNS_RCODE_NOERROR, BOGUS_NONE, ZG_NOTIFY_FAILED, 3, "no answer after 3 tries"},
	    {LDNS_RCODE_REFUSED, BOGUS_ID, ZG_NOTIFY_FAILED, 3, "no answer after 3 tries"},
	};
	zg_notifier_t *n = notifier(3, 50, 1000);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		resp_t r = {.rcode = cases[i].rcode, .reply_noq = true, .reply_variant = cases[i].bogus};
		resp_start(&r);
		zg_notify_target_t t = target_of(&r);
		zg_notify_outcome_t o;
		notify_one(n, &t, 20 + (uint32_t)i, &o, 3000);
		resp_stop(&r);
		if (o.results[0].state != cases[i].state || o.results[0].tries != cases[i].tries ||
		    !strstr(o.results[0].detail, cases[i].detail))
			fail_msg("case %zu: state %d tries %d (%s)", i, o.results[0].state,
			         o.results[0].tries, o.results[0].detail);
	}
	zg_notifier_free(n);
}

/* Each target's outcome comes when it finishes: a dead one does not hold back the others. */
static void test_outcome_per_target(void **state)
{
	resp_t ack = {.rcode = LDNS_RCODE_NOERROR}, silent = {.rcode = -1};
	resp_start(&ack);
	resp_start(&silent);
	zg_notifier_t *n = notifier(4, 200, 1000);
	zg_notify_target_t t[3] = {target_of(&silent), target_of(&ack), target_of(&ack)};
	zg_notify_outcome_t o[2];
	int64_t t0 = now_ms();
	/* the same identity twice is notified once */
	assert_int_equal(zg_notifier_submit(n, ZONE, 5, t, 3), RDNS_OK);
	assert_int_equal(wait_outcomes_of(n, o, 1, 1000, false), 1);
	assert_true(now_ms() - t0 < 500);
	assert_false(o[0].final);
	assert_int_equal(o[0].n_results, 2);
	assert_int_equal(o[0].results[0].state, ZG_NOTIFY_PENDING);
	assert_false(o[0].results[0].fresh);
	assert_int_equal(o[0].results[1].state, ZG_NOTIFY_ACKED);
	assert_true(o[0].results[1].fresh);
	assert_int_equal(wait_outcomes_of(n, o + 1, 1, 5000, false), 1);
	assert_true(o[1].final);
	assert_int_equal(o[1].results[0].state, ZG_NOTIFY_FAILED);
	assert_true(o[1].results[0].fresh);
	assert_int_equal(o[1].results[1].state, ZG_NOTIFY_ACKED);
	assert_false(o[1].results[1].fresh);
	assert_no_outcome(n, 100);
	zg_notifier_free(n);
	resp_stop(&ack);
	resp_stop(&silent);
	assert_int_equal(ack.n_req, 1);
}

/* notify_source: NOTIFY leaves from the configured address. */
static void test_notify_source(void **state)
{
	zg_notify_conf_t c = {.tries = 2, .first_timeout_ms = 100};
	const char *why = NULL;
	assert_int_equal(zg_notify_source_parse("dns_listen", "127.0.0.2:5300", &c, &why), RDNS_OK);
	assert_int_equal(c.source4.ss_family, AF_INET);
	assert_int_equal(c.source6.ss_family, 0); /* a v4 dns_listen says nothing for v6 targets */
	int err;
	zg_notifier_t *n = zg_notifier_new(&c, &err);
	assert_non_null(n);
	resp_t r = {.rcode = LDNS_RCODE_NOERROR};
	resp_start(&r);
	zg_notify_target_t t = target_of(&r);
	zg_notify_outcome_t o;
	notify_one(n, &t, 3, &o, 3000);
	resp_stop(&r);
	assert_int_equal(o.results[0].state, ZG_NOTIFY_ACKED);
	assert_string_equal(r.from, "127.0.0.2");
	zg_notifier_free(n);

	/* one address per family: each for its own targets; a family not given: the kernel's choice */
	assert_int_equal(zg_notify_source_parse("127.0.0.2 ::1", NULL, &c, &why), RDNS_OK);
	n = zg_notifier_new(&c, &err);
	assert_non_null(n);
	resp_t r6 = {.family = AF_INET6, .rcode = LDNS_RCODE_NOERROR}, r4 = {.rcode = LDNS_RCODE_NOERROR};
	resp_start(&r6);
	resp_start(&r4);
	zg_notify_target_t both[2] = {target_of(&r6), target_of(&r4)};
	assert_int_equal(zg_notifier_submit(n, ZONE, 5, both, 2), RDNS_OK);
	assert_int_equal(wait_outcomes(n, &o, 1, 3000), 1);
	resp_stop(&r6);
	resp_stop(&r4);
	assert_int_equal(o.results[0].state, ZG_NOTIFY_ACKED);
	assert_int_equal(o.results[1].state, ZG_NOTIFY_ACKED);
	assert_string_equal(r6.from, "::1");
	assert_string_equal(r4.from, "127.0.0.2");
	zg_notifier_free(n);
	/* dns_listen on 127.0.0.2 and an IPv6 target: it leaves from the kernel's choice */
	assert_int_equal(zg_notify_source_parse("dns_listen", "127.0.0.2:53", &c, &why), RDNS_OK);
	n = zg_notifier_new(&c, &err);
	assert_non_null(n);
	resp_t r6b = {.family = AF_INET6, .rcode = LDNS_RCODE_NOERROR};
	resp_start(&r6b);
	t = target_of(&r6b);
	notify_one(n, &t, 6, &o, 3000);
	resp_stop(&r6b);
	assert_int_equal(o.results[0].state, ZG_NOTIFY_ACKED);
	assert_string_equal(r6b.from, "::1");
	zg_notifier_free(n);

	/* an address this host does not have: a local error, said as such */
	assert_int_equal(zg_notify_source_parse("192.0.2.77", NULL, &c, &why), RDNS_OK);
	n = zg_notifier_new(&c, &err);
	assert_non_null(n);
	resp_t r2 = {.rcode = LDNS_RCODE_NOERROR};
	resp_start(&r2);
	t = target_of(&r2);
	notify_one(n, &t, 4, &o, 3000);
	resp_stop(&r2);
	assert_int_equal(o.results[0].state, ZG_NOTIFY_ERROR);
	assert_non_null(strstr(o.results[0].detail, "bind to notify_source"));
	zg_notifier_free(n);

	/* the grammar */
	const struct {
		const char *spec, *listen;
		int rc, fam4, fam6;
	} cases[] = {
	    {"", "127.0.0.2:5300", RDNS_OK, 0, 0},
	    {"0", "127.0.0.2:5300", RDNS_OK, 0, 0},
	    {NULL, NULL, RDNS_OK, 0, 0},
	    {"dns_listen", "", RDNS_OK, 0, 0},
	    {"dns_listen", "0.0.0.0:53", RDNS_OK, 0, 0},
	    {"dns_listen", "[::]:53", RDNS_OK, 0, 0},
	    {"dns_listen", "[2001:db8::53]:53", RDNS_OK, 0, AF_INET6},
	    {"192.0.2.53 2001:db8::53", NULL, RDNS_OK, AF_INET, AF_INET6},
	    {"2001:db8::53,192.0.2.53", NULL, RDNS_OK, AF_INET, AF_INET6},
	    {"192.0.2.53 192.0.2.54", NULL, RDNS_ECONFIG, 0, 0},
	    {"192.0.2.53:53", NULL, RDNS_ECONFIG, 0, 0},
	    {"0.0.0.0", NULL, RDNS_ECONFIG, 0, 0},
	    {"224.0.0.1", NULL, RDNS_ECONFIG, 0, 0},
	    {"ns1.example.net", NULL, RDNS_ECONFIG, 0, 0},
	    {"dns_listen", "nonsense", RDNS_ECONFIG, 0, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		zg_notify_conf_t k;
		memset(&k, 0, sizeof(k));
		int rc = zg_notify_source_parse(cases[i].spec, cases[i].listen, &k, &why);
		if (rc != cases[i].rc || (rc == RDNS_OK && (k.source4.ss_family != cases[i].fam4 ||
		                                            k.source6.ss_family != cases[i].fam6)))
			fail_msg("case %zu (%s): rc %d fam %d/%d", i, cases[i].spec ? cases[i].spec : "NULL",
			         rc, k.source4.ss_family, k.source6.ss_family);
		if (rc != RDNS_OK)
			assert_true(why && why[0]);
	}
}

/* All targets of a job are in flight at once, and each gets its own result. */
static void test_several_targets(void **state)
{
	resp_t ack = {.rcode = LDNS_RCODE_NOERROR}, ni = {.rcode = LDNS_RCODE_NOTIMPL},
	       silent = {.rcode = -1};
	resp_t late = {.rcode = LDNS_RCODE_NOERROR, .drop_first = 2};
	resp_start(&ack);
	resp_start(&ni);
	resp_start(&silent);
	resp_start(&late);
	zg_notifier_t *n = notifier(4, 100, 1000);
	zg_notify_target_t t[4] = {target_of(&silent), target_of(&ack), target_of(&late), target_of(&ni)};
	zg_notify_outcome_t o;
	int64_t t0 = now_ms();
	assert_int_equal(zg_notifier_submit(n, ZONE, 5, t, 4), RDNS_OK);
	assert_int_equal(wait_outcomes(n, &o, 1, 5000), 1);
	int64_t took = now_ms() - t0;
	assert_int_equal(o.n_results, 4);
	assert_int_equal(o.results[0].state, ZG_NOTIFY_FAILED);
	assert_int_equal(o.results[0].tries, 4);
	assert_int_equal(o.results[1].state, ZG_NOTIFY_ACKED);
	assert_int_equal(o.results[1].tries, 1);
	assert_int_equal(o.results[2].state, ZG_NOTIFY_ACKED);
	assert_int_equal(o.results[2].tries, 3);
	assert_int_equal(o.results[3].state, ZG_NOTIFY_NOTIMP);
	/* 100 + 200 + 400 + 800 for the silent one; sequential would add the late one's 300 */
	assert_true(took >= 1450);
	assert_true(took < 2500);
	zg_notifier_free(n);
	resp_stop(&ack);
	resp_stop(&ni);
	resp_stop(&silent);
	resp_stop(&late);
}

/* Several zones are notified concurrently: a dead target of one does not delay another. */
static void test_zones_in_parallel(void **state)
{
	resp_t ack = {.rcode = LDNS_RCODE_NOERROR}, silent = {.rcode = -1};
	resp_start(&ack);
	resp_start(&silent);
	zg_notifier_t *n = notifier(3, 100, 1000);
	zg_notify_target_t ts = target_of(&silent), ta = target_of(&ack);
	zg_notify_outcome_t o[2];
	assert_int_equal(zg_notifier_submit(n, "3.0.192.in-addr.arpa", 1, &ts, 1), RDNS_OK);
	assert_int_equal(zg_notifier_submit(n, ZONE, 2, &ta, 1), RDNS_OK);
	assert_int_equal(wait_outcomes(n, o, 1, 1000), 1);
	assert_string_equal(o[0].zone, ZONE);
	assert_int_equal(o[0].results[0].state, ZG_NOTIFY_ACKED);
	assert_int_equal(wait_outcomes(n, o + 1, 1, 5000), 1);
	assert_string_equal(o[1].zone, "3.0.192.in-addr.arpa");
	assert_int_equal(o[1].results[0].state, ZG_NOTIFY_FAILED);
	zg_notifier_free(n);
	resp_stop(&ack);
	resp_stop(&silent);
}

static void test_supersede_pending(void **state)
{
	resp_t r = {.rcode = LDNS_RCODE_NOERROR}, silent = {.rcode = -1};
	resp_start(&r);
	resp_start(&silent);
	/* one slot, held by another zone for 300 ms: the two submissions below both wait */
	zg_notify_conf_t c = {.tries = 1, .first_timeout_ms = 300, .max_active = 1};
	zg_notifier_t *n = zg_notifier_new(&c, NULL);
	assert_non_null(n);
	zg_notify_target_t t = target_of(&r), ts = target_of(&silent);
	zg_notify_outcome_t o[3];
	assert_int_equal(zg_notifier_submit(n, "3.0.192.in-addr.arpa", 9, &ts, 1), RDNS_OK);
	assert_int_equal(zg_notifier_submit(n, ZONE, 1, &t, 1), RDNS_OK);
	assert_int_equal(zg_notifier_submit(n, ZONE ".", 2, &t, 1), RDNS_OK);
	assert_int_equal(wait_outcomes(n, o, 2, 3000), 2);
	assert_string_equal(o[0].zone, "3.0.192.in-addr.arpa");
	assert_int_equal(o[0].results[0].state, ZG_NOTIFY_FAILED);
	assert_string_equal(o[1].zone, ZONE ".");
	assert_int_equal(o[1].serial, 2);
	assert_int_equal(o[1].results[0].state, ZG_NOTIFY_ACKED);
	assert_no_outcome(n, 300);
	zg_notifier_free(n);
	resp_stop(&r);
	resp_stop(&silent);
	/* serial 1 was never sent */
	assert_int_equal(r.n_req, 1);
	assert_int_equal(r.serial[0], 2);
}

static void test_supersede_in_flight(void **state)
{
	/* the first request is dropped, so the serial 1 job is surely in flight */
	resp_t r = {.rcode = LDNS_RCODE_NOERROR, .drop_first = 1};
	resp_start(&r);
	zg_notifier_t *n = notifier(3, 500, 1000);
	zg_notify_target_t t = target_of(&r);
	zg_notify_outcome_t o[2];
	assert_int_equal(zg_notifier_submit(n, ZONE, 1, &t, 1), RDNS_OK);
	int64_t until = now_ms() + 2000;
	while (resp_count(&r) < 1 && now_ms() < until)
		sleep_ms(5);
	assert_int_equal(resp_count(&r), 1);
	/* names compare case-insensitively */
	assert_int_equal(zg_notifier_submit(n, "2.0.192.IN-ADDR.ARPA", 2, &t, 1), RDNS_OK);
	assert_int_equal(wait_outcomes(n, o, 1, 3000), 1);
	assert_int_equal(o[0].serial, 2);
	assert_string_equal(o[0].zone, "2.0.192.IN-ADDR.ARPA");
	assert_int_equal(o[0].results[0].state, ZG_NOTIFY_ACKED);
	assert_int_equal(o[0].results[0].tries, 1); /* a new job, answered at once */
	/* serial 1 was abandoned: no outcome, and no retransmission of it (its next try was due at 500 ms) */
	assert_no_outcome(n, 700);
	zg_notifier_free(n);
	resp_stop(&r);
	assert_int_equal(r.n_req, 2);
	assert_int_equal(r.serial[0], 1);
	assert_int_equal(r.serial[1], 2);
}

static void test_free_is_prompt(void **state)
{
	resp_t r = {.rcode = -1};
	resp_start(&r);
	zg_notifier_t *n = notifier(8, 2000, 8000);
	zg_notify_target_t t = target_of(&r);
	assert_int_equal(zg_notifier_submit(n, ZONE, 1, &t, 1), RDNS_OK);
	assert_int_equal(zg_notifier_submit(n, "3.0.192.in-addr.arpa", 1, &t, 1), RDNS_OK);
	sleep_ms(100); /* both are waiting out their first backoff */
	int64_t t0 = now_ms();
	zg_notifier_free(n);
	int64_t took = now_ms() - t0;
	assert_true(took < 100);
	resp_stop(&r);
	assert_int_equal(r.n_req, 2);
}

static void test_many_zones_few_slots(void **state)
{
	resp_t r = {.rcode = LDNS_RCODE_NOERROR};
	resp_start(&r);
	zg_notify_conf_t c = {.tries = 3, .first_timeout_ms = 200, .max_active = 2};
	zg_notifier_t *n = zg_notifier_new(&c, NULL);
	assert_non_null(n);
	zg_notify_target_t t = target_of(&r);
	char zone[64];
	for (int i = 0; i < 10; i++) {
		snprintf(zone, sizeof(zone), "%d.0.192.in-addr.arpa", i);
		assert_int_equal(zg_notifier_submit(n, zone, (uint32_t)i, &t, 1), RDNS_OK);
	}
	zg_notify_outcome_t o[10];
	assert_int_equal(wait_outcomes(n, o, 10, 5000), 10);
	bool seen[10] = {false};
	for (int i = 0; i < 10; i++) {
		assert_int_equal(o[i].results[0].state, ZG_NOTIFY_ACKED);
		assert_true(o[i].serial < 10);
		snprintf(zone, sizeof(zone), "%u.0.192.in-addr.arpa", o[i].serial);
		assert_string_equal(o[i].zone, zone);
		assert_false(seen[o[i].serial]);
		seen[o[i].serial] = true;
	}
	zg_notifier_free(n);
	resp_stop(&r);
	assert_int_equal(r.n_req, 10);
	assert_int_equal(r.n_bad, 0);
}

static void test_submit_invalid(void **state)
{
	zg_notifier_t *n = notifier(3, 100, 1000);
	zg_notify_target_t t, many[ZG_NOTIFY_MAX_TARGETS + 1];
	memset(&t, 0, sizeof(t));
	strcpy(t.host, "127.0.0.1");
	t.port = 53;
	for (size_t i = 0; i < ZG_NOTIFY_MAX_TARGETS + 1; i++)
		many[i] = t;
	assert_int_equal(zg_notifier_submit(n, ZONE, 1, &t, 0), RDNS_ELIMIT);
	assert_int_equal(zg_notifier_submit(n, ZONE, 1, many, ZG_NOTIFY_MAX_TARGETS + 1), RDNS_ELIMIT);
	assert_int_equal(zg_notifier_submit(n, "", 1, &t, 1), RDNS_EINVAL);
	assert_int_equal(zg_notifier_submit(n, "a..b", 1, &t, 1), RDNS_EINVAL);
	assert_int_equal(zg_notifier_submit(n, NULL, 1, &t, 1), RDNS_EINVAL);
	zg_notify_target_t b = t;
	strcpy(b.host, "localhost");
	assert_int_equal(zg_notifier_submit(n, ZONE, 1, &b, 1), RDNS_EINVAL);
	b = t;
	b.port = 0;
	assert_int_equal(zg_notifier_submit(n, ZONE, 1, &b, 1), RDNS_EINVAL);
	b = t;
	b.key_len = 16; /* a key without a name */
	assert_int_equal(zg_notifier_submit(n, ZONE, 1, &b, 1), RDNS_EINVAL);
	b = t;
	set_key(&b, (const uint8_t *)"0123456789abcdef", 16);
	b.key_len = 129;
	assert_int_equal(zg_notifier_submit(n, ZONE, 1, &b, 1), RDNS_EINVAL);
	/* nothing was queued */
	assert_no_outcome(n, 50);
	zg_notifier_free(n);
	zg_notifier_free(NULL);
}

static void test_new_conf(void **state)
{
	int err = 0;
	zg_notify_conf_t c = {.tries = ZG_NOTIFY_MAX_TRIES + 1};
	assert_null(zg_notifier_new(&c, &err));
	assert_int_equal(err, RDNS_ERANGE);
	c = (zg_notify_conf_t){.first_timeout_ms = 500, .max_timeout_ms = 100};
	assert_null(zg_notifier_new(&c, &err));
	assert_int_equal(err, RDNS_ERANGE);
	zg_notifier_t *n = zg_notifier_new(NULL, &err);
	assert_non_null(n);
	assert_int_equal(err, RDNS_OK);
	assert_true(zg_notifier_fd(n) >= 0);
	zg_notifier_free(n);
}

/* ---- TSIG against the responder ---- */

static const uint8_t key_ok[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                   17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t key_bad[32] = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
                                    9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};

static void b64(const uint8_t *k, size_t len, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, k, (int)len);
}

static void test_tsig_responder(void **state)
{
	char ok64[64], bad64[64];
	b64(key_ok, sizeof(key_ok), ok64);
	b64(key_bad, sizeof(key_bad), bad64);
	zg_notifier_t *n = notifier(2, 100, 1000);
	zg_notify_outcome_t o;
	log_reset();

	/* a signed answer with the right key */
	resp_t r1 = {.rcode = LDNS_RCODE_NOERROR, .key_b64 = ok64};
	resp_start(&r1);
	zg_notify_target_t t = target_of(&r1);
	set_key(&t, key_ok, sizeof(key_ok));
	notify_one(n, &t, 77, &o, 3000);
	resp_stop(&r1);
	assert_int_equal(r1.n_tsig_ok, 1);
	assert_int_equal(o.results[0].state, ZG_NOTIFY_ACKED);
	assert_int_equal(o.results[0].tries, 1);

	/* an unsigned NOERROR cannot end a signed NOTIFY */
	resp_t r2 = {.rcode = LDNS_RCODE_NOERROR, .key_b64 = ok64, .answer_unsigned = true};
	resp_start(&r2);
	t = target_of(&r2);
	set_key(&t, key_ok, sizeof(key_ok));
	notify_one(n, &t, 78, &o, 3000);
	resp_stop(&r2);
	assert_int_equal(r2.n_tsig_ok, 2);
	assert_int_equal(o.results[0].state, ZG_NOTIFY_FAILED);
	assert_int_equal(o.results[0].tries, 2);

	/* nor one signed with another key */
	resp_t r3 = {.rcode = LDNS_RCODE_NOERROR, .key_b64 = ok64, .sign_b64 = bad64};
	resp_start(&r3);
	t = target_of(&r3);
	set_key(&t, key_ok, sizeof(key_ok));
	notify_one(n, &t, 79, &o, 3000);
	resp_stop(&r3);
	assert_int_equal(r3.n_tsig_ok, 2);
	assert_int_equal(o.results[0].state, ZG_NOTIFY_FAILED);

	/* nor one signed an hour off (outside the 300 s fudge), the check ldns leaves to us */
	resp_t r5 = {.rcode = LDNS_RCODE_NOERROR, .key_b64 = ok64, .sign_skew_s = 3600};
	resp_start(&r5);
	t = target_of(&r5);
	set_key(&t, key_ok, sizeof(key_ok));
	notify_one(n, &t, 81, &o, 3000);
	resp_stop(&r5);
	assert_int_equal(r5.n_tsig_ok, 2);
	assert_int_equal(o.results[0].state, ZG_NOTIFY_FAILED);

	/* within the fudge is fine */
	resp_t r6 = {.rcode = LDNS_RCODE_NOERROR, .key_b64 = ok64, .sign_skew_s = -200};
	resp_start(&r6);
	t = target_of(&r6);
	set_key(&t, key_ok, sizeof(key_ok));
	notify_one(n, &t, 82, &o, 3000);
	resp_stop(&r6);
	assert_int_equal(o.results[0].state, ZG_NOTIFY_ACKED);

	/* the responder refuses our MAC when we sign with another key: not acknowledged */
	resp_t r4 = {.rcode = LDNS_RCODE_NOERROR, .key_b64 = ok64};
	resp_start(&r4);
	t = target_of(&r4);
	set_key(&t, key_bad, sizeof(key_bad));
	notify_one(n, &t, 80, &o, 3000);
	resp_stop(&r4);
	assert_int_equal(r4.n_req, 2);
	assert_int_equal(r4.n_tsig_ok, 0);
	assert_int_equal(o.results[0].state, ZG_NOTIFY_FAILED);

	zg_notifier_free(n);
	/* secrets never reach the log */
	assert_false(log_has(ok64));
	assert_false(log_has(bad64));
	assert_true(log_has("without a valid TSIG"));
}

/* A signed NOTIFY ends only with an answer signed over our request: one with
 * a wrong MAC, under another key name, or signed outside the 300 s fudge is
 * not an answer (it is logged and the NOTIFY retried), NOTIMP included. */
typedef struct {
	const char *name;
	int rcode;
	const char *as_name;
	bool flip_mac;
	long skew_s;
} bad_tsig_case_t;

static const bad_tsig_case_t bad_tsig_cases[] = {
    {"wrong MAC", LDNS_RCODE_NOERROR, NULL, true, 0},
    {"wrong key name", LDNS_RCODE_NOERROR, "k2", false, 0},
    {"signed 400 s early", LDNS_RCODE_NOERROR, NULL, false, -400},
    {"signed 400 s late", LDNS_RCODE_NOERROR, NULL, false, 400},
    {"NOTIMP with a wrong MAC", LDNS_RCODE_NOTIMPL, NULL, true, 0},
    {"NOTIMP under another key name", LDNS_RCODE_NOTIMPL, "k2", false, 0},
};

static void test_tsig_bad_answers_not_accepted(void **state)
{
	char ok64[64], want[128];
	b64(key_ok, sizeof(key_ok), ok64);
	zg_notifier_t *n = notifier(2, 100, 1000);
	for (size_t i = 0; i < sizeof(bad_tsig_cases) / sizeof(bad_tsig_cases[0]); i++) {
		const bad_tsig_case_t *c = &bad_tsig_cases[i];
		resp_t r = {.rcode = c->rcode,
		            .key_b64 = ok64,
		            .as_name = c->as_name,
		            .flip_mac = c->flip_mac,
		            .sign_skew_s = c->skew_s};
		resp_start(&r);
		zg_notify_target_t t = target_of(&r);
		set_key(&t, key_ok, sizeof(key_ok));
		zg_notify_outcome_t o;
		log_reset();
		notify_one(n, &t, 90 + (uint32_t)i, &o, 3000);
		resp_stop(&r);
		snprintf(want, sizeof(want), "ignored %s answer without a valid TSIG",
		         c->rcode == LDNS_RCODE_NOERROR ? "NOERROR" : "NOTIMP");
		if (o.results[0].state != ZG_NOTIFY_FAILED || o.results[0].tries != 2 ||
		    o.results[0].rcode != -1 || !strstr(o.results[0].detail, want))
			fail_msg("%s: state %d tries %d rcode %d (%s)", c->name, o.results[0].state,
			         o.results[0].tries, o.results[0].rcode, o.results[0].detail);
		assert_int_equal(r.n_req, 2);
		assert_int_equal(r.n_tsig_ok, 2); /* our requests were fine */
		assert_true(log_has(want));
	}
	/* the same responder, unspoilt, is answered at once */
	resp_t r = {.rcode = LDNS_RCODE_NOERROR, .key_b64 = ok64};
	resp_start(&r);
	zg_notify_target_t t = target_of(&r);
	set_key(&t, key_ok, sizeof(key_ok));
	zg_notify_outcome_t o;
	notify_one(n, &t, 99, &o, 3000);
	resp_stop(&r);
	assert_int_equal(o.results[0].state, ZG_NOTIFY_ACKED);
	assert_int_equal(o.results[0].tries, 1);
	zg_notifier_free(n);
}

/* The NOTIFY on the wire, byte for byte as notify.c sent it when ldns built
 * it (only the ID, and a TSIG's time and MAC, differ from message to message). */
static void test_wire_format(void **state)
{
	static const uint8_t want[] = {
	    0x00, 0x00, 0x24, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, /* NOTIFY, AA; 1 Q, 1 AN
	                                                                             */
	    0x01, '2',  0x01, '0',  0x03, '1',  '9',  '2',  0x07, 'i',  'n',  '-',  'a',
	    'd',  'd',  'r',  0x04, 'a',  'r',  'p',  'a',  0x00, 0x00, 0x06, 0x00, 0x01, /* ZONE SOA IN */
	    0xc0, 0x0c, 0x00, 0x06, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x16, /* ZONE SOA IN TTL 0 */
	    0x00, 0x00, 0x78, 0xa4, 0xb4, 0xc5, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* . . 2024060101 */
	    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,             /* 0 0 0 0 */
	};
	static const uint8_t tsig_head[] = {
	    0x01, 'k', 0x00, 0x00, 0xfa, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3d, /* k TSIG ANY 0 */
	    0x0b, 'h', 'm',  'a',  'c',  '-',  's',  'h',  'a',  '2',  '5',  '6',  0x00, /* hmac-sha256. */
	};
	char ok64[64];
	b64(key_ok, sizeof(key_ok), ok64);
	int fd = bind_udp(AF_INET, NULL, 0);
	assert_true(fd >= 0);
	zg_notifier_t *n = notifier(1, 100, 1000);
	zg_notify_target_t t;
	memset(&t, 0, sizeof(t));
	strcpy(t.host, "127.0.0.1");
	t.port = sock_port(fd);
	for (int keyed = 0; keyed < 2; keyed++) {
		if (keyed) {
			set_key(&t, key_ok, sizeof(key_ok));
			strcpy(t.key_name, "K"); /* goes out in canonical (lower) case */
		}
		assert_int_equal(zg_notifier_submit(n, ZONE, 2024060101u, &t, 1), RDNS_OK);
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		assert_int_equal(poll(&pfd, 1, 3000), 1);
		uint8_t buf[512];
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		size_t body = sizeof(want), tl = sizeof(tsig_head) + 6 + 2 + 2 + 32 + 6;
		assert_int_equal(len, keyed ? body + tl : body);
		assert_int_equal(buf[11], keyed); /* ARCOUNT */
		buf[11] = 0;
		assert_memory_equal(buf + 2, want + 2, body - 2);
		zg_notify_outcome_t o;
		assert_int_equal(wait_outcomes(n, &o, 1, 3000), 1);
		if (!keyed)
			continue;
		const uint8_t *ts = buf + body;
		assert_memory_equal(ts, tsig_head, sizeof(tsig_head));
		ts += sizeof(tsig_head);
		uint64_t signed_at = 0;
		for (int i = 0; i < 6; i++)
			signed_at = signed_at << 8 | ts[i];
		int64_t skew = (int64_t)signed_at - (int64_t)time(NULL);
		assert_true(skew >= -5 && skew <= 0);
		assert_int_equal(ts[6] << 8 | ts[7], 300); /* fudge */
		assert_int_equal(ts[8] << 8 | ts[9], 32);  /* MAC size */
		ts += 10 + 32;
		assert_memory_equal(ts, buf, 2);                    /* original ID */
		assert_int_equal(ts[2] | ts[3] | ts[4] | ts[5], 0); /* error, other length */
		/* and the MAC is right (ldns verifies it, as the responder does) */
		buf[11] = 1;
		ldns_pkt *p = NULL;
		assert_int_equal(ldns_wire2pkt(&p, buf, (size_t)len), LDNS_STATUS_OK);
		assert_true(ldns_pkt_tsig_verify(p, buf, (size_t)len, KEY_NAME, ok64, NULL));
		ldns_pkt_free(p);
	}
	zg_notifier_free(n);
	close(fd);
}

/* ---- a real knotd as the secondary ---- */

#define KNOTD  "/usr/sbin/knotd"
#define ZONE_K "100.51.198.in-addr.arpa" /* acl requires key k */

static struct {
	char dir[64];
	pid_t pid;
	uint16_t port;
} knot;

/* Any DNS answer from 127.0.0.1:port within ms. */
static bool dns_answers(uint16_t port, int ms)
{
	int64_t until = now_ms() + ms;
	int fd = bind_udp(AF_INET, NULL, 0);
	if (fd < 0)
		return false;
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	static const uint8_t q[] = {0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 1}; /* . SOA IN */
	bool ok = false;
	while (!ok && now_ms() < until) {
		if (sendto(fd, q, sizeof(q), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
			break;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, 50) > 0) {
			uint8_t buf[512];
			ok = recv(fd, buf, sizeof(buf), 0) >= 12;
		}
	}
	close(fd);
	return ok;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int knot_setup(void **state)
{
	char ok64[64], path[128];
	if (access(KNOTD, X_OK) != 0)
		return 0; /* the tests skip */
	b64(key_ok, sizeof(key_ok), ok64);
	strcpy(knot.dir, "/tmp/rdns-notify-XXXXXX");
	if (!mkdtemp(knot.dir))
		return -1;
	knot.port = free_udp_port();
	uint16_t primary = free_udp_port();
	snprintf(path, sizeof(path), "%s/knot.conf", knot.dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f,
	        "server:\n  rundir: \"%s\"\n  listen: 127.0.0.1@%u\n"
	        "log:\n  - target: stderr\n    any: info\n"
	        "database:\n  storage: \"%s\"\n"
	        "key:\n  - id: " KEY_NAME "\n    algorithm: hmac-sha256\n    secret: %s\n"
	        "remote:\n  - id: p\n    address: 127.0.0.1@%u\n"
	        "acl:\n  - id: n\n    address: 127.0.0.0/8\n    action: notify\n"
	        "  - id: nk\n    address: 127.0.0.0/8\n    key: " KEY_NAME "\n    action: notify\n"
	        "template:\n  - id: default\n    storage: \"%s\"\n"
	        "zone:\n  - domain: " ZONE "\n    master: p\n    acl: n\n"
	        "  - domain: " ZONE_K "\n    master: p\n    acl: nk\n",
	        knot.dir, (unsigned)knot.port, knot.dir, ok64, (unsigned)primary, knot.dir);
	fclose(f);

	char logpath[128];
	snprintf(logpath, sizeof(logpath), "%s/knotd.log", knot.dir);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	char *argv[] = {(char *)KNOTD, (char *)"-c", path, NULL};
	int rc = posix_spawn(&knot.pid, KNOTD, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		knot.pid = 0;
		return -1;
	}
	/* 15 s, as test_verify waits: a loaded CI machine once took more than 5. */
	if (!dns_answers(knot.port, 15000)) {
		fprintf(stderr, "knotd did not come up within 15 s; its log (%s):\n", logpath);
		FILE *lf = fopen(logpath, "r"); /* the teardown removes the directory */
		char line[512];
		while (lf && fgets(line, sizeof(line), lf))
			fputs(line, stderr);
		if (lf)
			fclose(lf);
		return -1;
	}
	return 0;
}

static int knot_teardown(void **state)
{
	if (knot.pid > 0) {
		kill(knot.pid, SIGTERM);
		int st;
		int64_t until = now_ms() + 3000;
		while (waitpid(knot.pid, &st, WNOHANG) == 0) {
			if (now_ms() > until) {
				kill(knot.pid, SIGKILL);
				waitpid(knot.pid, &st, 0);
				break;
			}
			sleep_ms(10);
		}
		knot.pid = 0;
	}
	if (knot.dir[0])
		nftw(knot.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static zg_notify_target_t knot_target(void)
{
	zg_notify_target_t t;
	memset(&t, 0, sizeof(t));
	strcpy(t.host, "127.0.0.1");
	t.port = knot.port;
	return t;
}

static void knot_notify(const char *zone, const zg_notify_target_t *t, int tries, zg_notify_outcome_t *o)
{
	if (knot.pid <= 0)
		skip();
	zg_notifier_t *n = notifier(tries, 100, 1000);
	assert_int_equal(zg_notifier_submit(n, zone, 2024060101u, t, 1), RDNS_OK);
	assert_int_equal(wait_outcomes(n, o, 1, 5000), 1);
	zg_notifier_free(n);
	assert_string_equal(o->zone, zone);
	assert_int_equal(o->n_results, 1);
}

/* Whether knotd logged a line containing both needles (it logs asynchronously: wait a little). */
static bool knot_logged(const char *a, const char *b)
{
	char path[128], line[1024];
	snprintf(path, sizeof(path), "%s/knotd.log", knot.dir);
	for (int i = 0; i < 50; i++) {
		FILE *f = fopen(path, "r");
		bool found = false;
		while (f && !found && fgets(line, sizeof(line), f))
			found = strstr(line, a) && strstr(line, b);
		if (f)
			fclose(f);
		if (found)
			return true;
		sleep_ms(20);
	}
	return false;
}

static void test_knot_ack(void **state)
{
	zg_notify_target_t t = knot_target();
	zg_notify_outcome_t o;
	knot_notify(ZONE, &t, 3, &o);
	if (o.results[0].state != ZG_NOTIFY_ACKED)
		fail_msg("knotd: state %d: %s", o.results[0].state, o.results[0].detail);
	assert_int_equal(o.results[0].tries, 1);
	/* knotd understood the message, serial hint included */
	assert_true(knot_logged("[" ZONE ".] notify, incoming", "serial 2024060101"));
}

static void test_knot_tsig_ack(void **state)
{
	zg_notify_target_t t = knot_target();
	set_key(&t, key_ok, sizeof(key_ok));
	zg_notify_outcome_t o;
	knot_notify(ZONE_K, &t, 3, &o);
	if (o.results[0].state != ZG_NOTIFY_ACKED)
		fail_msg("knotd: state %d: %s", o.results[0].state, o.results[0].detail);
	assert_int_equal(o.results[0].tries, 1);
	assert_true(knot_logged("[" ZONE_K ".] notify, incoming", "serial 2024060101"));
}

static void test_knot_tsig_wrong_key(void **state)
{
	zg_notify_target_t t = knot_target();
	set_key(&t, key_bad, sizeof(key_bad));
	zg_notify_outcome_t o;
	knot_notify(ZONE_K, &t, 2, &o);
	assert_int_equal(o.results[0].state, ZG_NOTIFY_FAILED);
	assert_int_equal(o.results[0].tries, 2);
	assert_int_equal(o.results[0].rcode, LDNS_RCODE_NOTAUTH);
	assert_non_null(strstr(o.results[0].detail, "NOTAUTH"));
	/* same key name, other secret: the TSIG error says which */
	assert_non_null(strstr(o.results[0].detail, "BADSIG"));
}

static void test_knot_unsigned_to_keyed_zone(void **state)
{
	zg_notify_target_t t = knot_target();
	zg_notify_outcome_t o;
	knot_notify(ZONE_K, &t, 2, &o);
	/* the ACL wants the key: knotd 3.2 answers NOTAUTH, which ends the target at once */
	assert_int_equal(o.results[0].state, ZG_NOTIFY_REFUSED);
	assert_int_equal(o.results[0].tries, 1);
	assert_int_equal(o.results[0].rcode, LDNS_RCODE_NOTAUTH);
}

/* A bare, unsigned REFUSED to a signed NOTIFY does not end it (RFC 8945: an answer to a
 * signed request without a valid TSIG is not accepted), but the outcome says it came. */
static void test_unsigned_refused_to_signed(void **state)
{
	char ok64[64];
	b64(key_ok, sizeof(key_ok), ok64);
	resp_t r = {.rcode = LDNS_RCODE_REFUSED, .key_b64 = ok64, .answer_unsigned = true, .reply_noq = true};
	resp_start(&r);
	zg_notifier_t *n = notifier(2, 50, 1000);
	zg_notify_target_t t = target_of(&r);
	set_key(&t, key_ok, sizeof(key_ok));
	zg_notify_outcome_t o;
	notify_one(n, &t, 30, &o, 3000);
	resp_stop(&r);
	assert_int_equal(o.results[0].state, ZG_NOTIFY_FAILED);
	assert_int_equal(o.results[0].tries, 2);
	assert_int_equal(o.results[0].rcode, LDNS_RCODE_REFUSED);
	assert_non_null(
	    strstr(o.results[0].detail, "no signed answer after 2 tries, answered REFUSED without"));
	char id[ZG_NOTIFY_ID_LEN];
	assert_int_equal(zg_notify_target_id(&t, id, sizeof(id)), RDNS_OK);
	assert_string_equal(o.results[0].target, id);
	assert_non_null(strstr(id, "@" KEY_NAME));
	zg_notifier_free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_table),
	    cmocka_unit_test(test_parse_keyname_buffer),
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_new_conf),
	    cmocka_unit_test(test_submit_invalid),
	    cmocka_unit_test(test_ack),
	    cmocka_unit_test(test_ack_ipv6),
	    cmocka_unit_test(test_notimp_stops),
	    cmocka_unit_test(test_bogus_answers_ignored),
	    cmocka_unit_test(test_down_then_up),
	    cmocka_unit_test(test_tries_exhausted),
	    cmocka_unit_test(test_refused_stops),
	    cmocka_unit_test(test_error_answers_without_question),
	    cmocka_unit_test(test_unsigned_refused_to_signed),
	    cmocka_unit_test(test_outcome_per_target),
	    cmocka_unit_test(test_notify_source),
	    cmocka_unit_test(test_several_targets),
	    cmocka_unit_test(test_zones_in_parallel),
	    cmocka_unit_test(test_supersede_pending),
	    cmocka_unit_test(test_supersede_in_flight),
	    cmocka_unit_test(test_free_is_prompt),
	    cmocka_unit_test(test_many_zones_few_slots),
	    cmocka_unit_test(test_tsig_responder),
	    cmocka_unit_test(test_tsig_bad_answers_not_accepted),
	    cmocka_unit_test(test_wire_format),
	};
	const struct CMUnitTest knot_tests[] = {
	    cmocka_unit_test(test_knot_ack),
	    cmocka_unit_test(test_knot_tsig_ack),
	    cmocka_unit_test(test_knot_tsig_wrong_key),
	    cmocka_unit_test(test_knot_unsigned_to_keyed_zone),
	};
	/* every line, per-try debug ones included, as the conf's callback got them */
	log_set_sink(cap_log, NULL);
	log_set_level(LOG_LVL_DEBUG);
	int failed = cmocka_run_group_tests_name("notify", tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("notify-knotd", knot_tests, knot_setup, knot_teardown);
	return failed;
}
