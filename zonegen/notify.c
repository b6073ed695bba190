/* notify.c - sending DNS NOTIFY (RFC 1996) to secondaries from a background thread. */
#include "zonegen/notify.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/endpoint.h"
#include "core/err.h"
#include "core/log.h"
#include "zonegen/tsig.h"
#include "zonegen/wire.h"

#define DEF_TRIES      8
#define DEF_FIRST_MS   250
#define DEF_MAX_MS     8000
#define DEF_MAX_ACTIVE 64
#define RECV_PER_WAKE  64 /* datagrams read per socket per loop, so timers still run under a flood */
/* A NOTIFY at its largest: header, question, the SOA hint with an
 * uncompressed owner (it is a pointer in practice), and our TSIG. */
#define NOTIFY_MAX (ZG_WIRE_HDR_LEN + ZG_WIRE_NAME_MAX + 4 + ZG_WIRE_NAME_MAX + 10 + 22 + ZG_TSIG_RR_MAX)

/* One target of a job, with everything needed to send and to match answers. */
typedef struct {
	zg_notify_target_t t;        /* as submitted, but the secret, which is in key only */
	char name[ZG_NOTIFY_ID_LEN]; /* "host:port[@key]", zg_notify_target_id */
	struct sockaddr_storage sa;
	socklen_t salen;
	zg_tsig_key_t key;    /* secret_len 0: no TSIG */
	int state;            /* 0 while in progress, else ZG_NOTIFY_* */
	int tries;            /* messages sent */
	int rcode;            /* last accepted answer's rcode, -1 if none */
	int tsig_error;       /* TSIG error of that answer, 0 if none */
	bool unsigned_answer; /* that answer lacked a valid TSIG (to a signed NOTIFY) */
	bool reported;        /* finished and put into an outcome */
	int64_t deadline;     /* monotonic ms: retransmit or give up */
	uint16_t ids[ZG_NOTIFY_MAX_TRIES];
	uint8_t macs[ZG_NOTIFY_MAX_TRIES][ZG_TSIG_MAC_LEN]; /* request MAC per try, to verify the answer */
	char detail[128];
} tgt_t;

typedef struct job {
	struct job *next;
	char zone[ZG_NOTIFY_ZONE_LEN];
	uint8_t name[ZG_WIRE_NAME_MAX]; /* the zone in wire form, as submitted (case kept) */
	size_t name_len;
	uint32_t serial;
	size_t n;
	tgt_t *tg;
	int fd4, fd6;    /* one socket per family per job: a fresh random source port */
	bool superseded; /* set by submit under the mutex */
} job_t;

typedef struct out {
	struct out *next;
	zg_notify_outcome_t o;
} out_t;

struct zg_notifier {
	zg_notify_conf_t conf;
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t mu;
	bool mu_init;
	int wake_fd;   /* eventfd: submit/free -> worker */
	int result_fd; /* eventfd: worker -> caller */
	struct pollfd *pfd;
	job_t **pfd_job;
	/* under mu */
	bool stop;
	job_t *pending, *pending_tail;
	job_t *active; /* links changed by the worker only, under mu */
	size_t n_active;
	out_t *res, *res_tail;
	size_t n_res;
};

static const char *const rcode_names[] = {"NOERROR",  "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
                                          "YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE"};

static const char *rcode_name(int rc, char *buf, size_t len)
{
	if (rc >= 0 && (size_t)rc < sizeof(rcode_names) / sizeof(rcode_names[0]))
		return rcode_names[rc];
	snprintf(buf, len, "RCODE%d", rc);
	return buf;
}

static const char *tsig_error_name(int e, char *buf, size_t len)
{
	switch (e) {
	case ZG_TSIG_BADSIG: return "BADSIG";
	case ZG_TSIG_BADKEY: return "BADKEY";
	case ZG_TSIG_BADTIME: return "BADTIME";
	case ZG_TSIG_BADTRUNC: return "BADTRUNC";
	}
	snprintf(buf, len, "TSIG error %d", e);
	return buf;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wake(int fd)
{
	uint64_t one = 1;
	/* EAGAIN means the counter is already non-zero: the reader wakes anyway. */
	ssize_t r = write(fd, &one, sizeof(one));
	(void)r;
}

static void drain(int fd)
{
	uint64_t v;
	ssize_t r = read(fd, &v, sizeof(v));
	(void)r;
}

/* Wait after the k-th try (1-based): first * 2^(k-1), capped. */
static int64_t backoff_ms(const zg_notify_conf_t *c, int k)
{
	int64_t ms = c->first_timeout_ms;
	for (int i = 1; i < k && ms < c->max_timeout_ms; i++)
		ms *= 2;
	return ms < c->max_timeout_ms ? ms : c->max_timeout_ms;
}

/* ---- targets ---- */

int zg_notify_target_parse(const char *s, zg_notify_target_t *out, char *keyname_out, size_t keyname_len)
{
	zg_notify_target_t t;
	core_endpoint_t ep;

	if (!s || !out)
		return RDNS_EINVAL;
	if (core_endpoint_parse(s, CORE_EP_NOTIFY, 53, &ep, NULL) != RDNS_OK)
		return RDNS_EINVAL;
	memset(&t, 0, sizeof(t));
	t.port = ep.port;
	if (core_addr_format(&ep.addr, t.host, sizeof(t.host)) != RDNS_OK)
		return RDNS_EINVAL;
	snprintf(t.key_name, sizeof(t.key_name), "%s", ep.key);
	if (keyname_out) {
		if (strlen(t.key_name) >= keyname_len)
			return RDNS_ESPACE;
		strcpy(keyname_out, t.key_name);
	}
	*out = t;
	return RDNS_OK;
}

int zg_notify_target_format(const zg_notify_target_t *t, char *buf, size_t len)
{
	int r;
	if (strchr(t->host, ':'))
		r = snprintf(buf, len, "[%s]:%u", t->host, (unsigned)t->port);
	else
		r = snprintf(buf, len, "%s:%u", t->host, (unsigned)t->port);
	return r < 0 || (size_t)r >= len ? RDNS_ESPACE : RDNS_OK;
}

int zg_notify_target_id(const zg_notify_target_t *t, char *buf, size_t len)
{
	if (zg_notify_target_format(t, buf, len) != RDNS_OK)
		return RDNS_ESPACE;
	if (t->key_name[0] == '\0')
		return RDNS_OK;
	size_t l = strlen(buf);
	int r = snprintf(buf + l, len - l, "@%s", t->key_name);
	return r < 0 || (size_t)r >= len - l ? RDNS_ESPACE : RDNS_OK;
}

int zg_notify_source_parse(const char *spec, const char *dns_listen, zg_notify_conf_t *c, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	*why = "";
	memset(&c->source4, 0, sizeof(c->source4));
	memset(&c->source6, 0, sizeof(c->source6));
	core_addr_t src[2];
	if (core_notify_source_parse(spec, dns_listen, src, why) != RDNS_OK)
		return RDNS_ECONFIG;
	for (int i = 0; i < 2; i++) {
		if (src[i].family == 0)
			continue;
		core_endpoint_t ep = {.addr = src[i], .port = 0};
		socklen_t sl;
		core_endpoint_sockaddr(&ep, i ? &c->source6 : &c->source4, &sl);
	}
	return RDNS_OK;
}

/* Validate and copy one submitted target. */
static int tgt_init(tgt_t *g, const zg_notify_target_t *t)
{
	memset(g, 0, sizeof(*g));
	g->t = *t;
	g->rcode = -1;
	if (memchr(t->host, '\0', sizeof(t->host)) == NULL || t->port == 0)
		return RDNS_EINVAL;
	if (memchr(t->key_name, '\0', sizeof(t->key_name)) == NULL || t->key_len > sizeof(t->key))
		return RDNS_EINVAL;
	if (strchr(t->host, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&g->sa;
		if (inet_pton(AF_INET6, t->host, &a->sin6_addr) != 1)
			return RDNS_EINVAL;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(t->port);
		g->salen = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&g->sa;
		if (inet_pton(AF_INET, t->host, &a->sin_addr) != 1)
			return RDNS_EINVAL;
		a->sin_family = AF_INET;
		a->sin_port = htons(t->port);
		g->salen = sizeof(*a);
	}
	if (zg_notify_target_id(t, g->name, sizeof(g->name)) != RDNS_OK)
		return RDNS_EINVAL;
	if (t->key_len > 0) {
		uint8_t kn[ZG_WIRE_NAME_MAX];
		size_t kl;
		if (!core_tsig_keyname_ok(t->key_name))
			return RDNS_EINVAL;
		_Static_assert(sizeof(g->key.name) == sizeof(t->key_name), "key name sizes");
		_Static_assert(sizeof(g->key.secret) == sizeof(t->key), "key sizes");
		memcpy(g->key.name, t->key_name, sizeof(g->key.name));
		memcpy(g->key.secret, t->key, t->key_len);
		g->key.secret_len = t->key_len;
		explicit_bzero(g->t.key, sizeof(g->t.key));
		/* tsig.c puts the name into the MAC in canonical (lower) case, RFC 8945 4.3.3 */
		if (zg_tsig_key_wire_name(&g->key, kn, &kl) != RDNS_OK)
			return RDNS_EINVAL;
	}
	return RDNS_OK;
}

static void tgts_free(tgt_t *tg, size_t n)
{
	if (!tg)
		return;
	explicit_bzero(tg, n * sizeof(*tg)); /* keys */
	free(tg);
}

static void job_free(job_t *j)
{
	if (!j)
		return;
	if (j->fd4 >= 0)
		close(j->fd4);
	if (j->fd6 >= 0)
		close(j->fd6);
	tgts_free(j->tg, j->n);
	free(j);
}

static bool sa_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const struct sockaddr_in *)a,
		                         *y = (const struct sockaddr_in *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a,
		                          *y = (const struct sockaddr_in6 *)b;
		return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
	}
	return false;
}

/* ---- the NOTIFY message ---- */

static int random_id(uint16_t *id)
{
	for (;;) {
		ssize_t r = getrandom(id, sizeof(*id), 0);
		if (r == (ssize_t)sizeof(*id))
			return RDNS_OK;
		if (r < 0 && errno != EINTR)
			return RDNS_EIO;
	}
}

/* The NOTIFY of j to g with the given ID into buf (NOTIFY_MAX bytes), signed
 * when g has a key, whose request MAC then goes to mac to verify the answer:
 * opcode NOTIFY, AA, question "<zone> SOA IN", and in the answer section
 * "<zone> 0 IN SOA . . <serial> 0 0 0 0" with the owner a pointer to the
 * question (the minimal serial hint that notify.c has always sent), then a
 * TSIG (hmac-sha256, fudge 300). */
static int build_notify(const job_t *j, const tgt_t *g, uint16_t id, uint8_t *buf, size_t *len,
                        uint8_t mac[ZG_TSIG_MAC_LEN])
{
	static const uint8_t root = 0;
	zg_wire_msg_t m;
	zg_wire_ct_t ct[16];
	size_t rdl;

	zg_wire_msg_init(&m, buf, NOTIFY_MAX, ct, 16);
	zg_wire_msg_reset(&m, id, ZG_WIRE_OPCODE_FLAGS(ZG_OPCODE_NOTIFY) | ZG_WIRE_AA);
	int rc = zg_wire_msg_put_question(&m, j->name, j->name_len, ZG_TYPE_SOA, ZG_CLASS_IN);
	/* RFC 1996 3.7: the answer may carry the new SOA; only the serial counts */
	if (rc == RDNS_OK)
		rc = zg_wire_msg_rr_begin(&m, j->name, j->name_len, ZG_TYPE_SOA, ZG_CLASS_IN, 0, &rdl);
	if (rc == RDNS_OK)
		rc = zg_wire_msg_put_bytes(&m, &root, 1); /* MNAME */
	if (rc == RDNS_OK)
		rc = zg_wire_msg_put_bytes(&m, &root, 1); /* RNAME */
	if (rc == RDNS_OK)
		rc = zg_wire_msg_put32(&m, j->serial);
	for (int i = 0; i < 4 && rc == RDNS_OK; i++)
		rc = zg_wire_msg_put32(&m, 0); /* refresh, retry, expire, minimum */
	if (rc != RDNS_OK)
		return rc;
	zg_wire_msg_rr_end(&m, ZG_SEC_AN, rdl);
	zg_wire_msg_finish(&m);
	*len = m.len;
	if (g->key.secret_len == 0)
		return RDNS_OK;
	zg_tsig_ctx_t c;
	rc = zg_tsig_sign_request(&c, &g->key, buf, len, NOTIFY_MAX, (uint64_t)time(NULL));
	if (rc == RDNS_OK)
		memcpy(mac, c.mac, ZG_TSIG_MAC_LEN);
	return rc;
}

/* ---- per-target progress ---- */

__attribute__((format(printf, 3, 4))) static void tgt_finish(tgt_t *g, int state, const char *fmt, ...)
{
	va_list ap;
	g->state = state;
	va_start(ap, fmt);
	vsnprintf(g->detail, sizeof(g->detail), fmt, ap);
	va_end(ap);
}

/* The job's socket for family, bound to notify_source when one is set for
 * it: secondaries accept NOTIFY only from their primary's address (RFC 1996
 * 3.10 has them check the source; Knot, NSD, BIND and PowerDNS all do). On
 * failure -1 with errno set and *what naming the step. */
static int job_socket(zg_notifier_t *n, job_t *j, int family, const char **what)
{
	int *fd = family == AF_INET6 ? &j->fd6 : &j->fd4;
	const struct sockaddr_storage *src = family == AF_INET6 ? &n->conf.source6 : &n->conf.source4;
	if (*fd >= 0)
		return *fd;
	*what = "socket";
	int s = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	if (src->ss_family == family) {
		socklen_t sl = family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
		if (bind(s, (const struct sockaddr *)src, sl) != 0) {
			int e = errno;
			close(s);
			*what = "bind to notify_source";
			errno = e;
			return -1;
		}
	}
	*fd = s;
	return s;
}

static void send_try(zg_notifier_t *n, job_t *j, tgt_t *g, int64_t now)
{
	uint8_t wire[NOTIFY_MAX];
	size_t len = 0;
	uint16_t id;
	const char *what = "socket";
	int fd = job_socket(n, j, g->sa.ss_family, &what);

	if (fd < 0) {
		tgt_finish(g, ZG_NOTIFY_ERROR, "%s: %s", what, strerror(errno));
		return;
	}
	/* RFC 1996 / RFC 5452: a fresh unpredictable ID for every message */
	if (random_id(&id) != RDNS_OK) {
		tgt_finish(g, ZG_NOTIFY_ERROR, "getrandom: %s", strerror(errno));
		return;
	}
	int rc = build_notify(j, g, id, wire, &len, g->macs[g->tries]);
	if (rc != RDNS_OK) {
		tgt_finish(g, ZG_NOTIFY_ERROR, "cannot build NOTIFY: %s", rdns_strerror(rc));
		return;
	}
	g->ids[g->tries] = id;
	g->tries++;
	g->deadline = now + backoff_ms(&n->conf, g->tries);
	if (sendto(fd, wire, len, 0, (const struct sockaddr *)&g->sa, g->salen) < 0) {
		/* counted as a try: a route may come back before the next one */
		snprintf(g->detail, sizeof(g->detail), "send: %s", strerror(errno));
		log_zone_serial_debug("notify", j->zone, j->serial, "%s: try %d: send: %s", g->name, g->tries,
		                      strerror(errno));
	} else {
		log_zone_serial_debug("notify", j->zone, j->serial, "%s: try %d sent (id %u)", g->name,
		                      g->tries, (unsigned)id);
	}
}

/* Whether an answer to try k of g is signed with g's key over that try's MAC:
 * zg_tsig_verify_response checks the key name and algorithm, compares MACs
 * in constant time and the time signed against the fudge (RFC 8945 5.2). */
static bool answer_tsig_ok(const tgt_t *g, int k, const uint8_t *buf, size_t len)
{
	zg_tsig_ctx_t c;
	if (zg_tsig_ctx_for_request(&c, &g->key, g->macs[k], ZG_TSIG_MAC_LEN) != RDNS_OK)
		return false;
	return zg_tsig_verify_response(&c, buf, len, (uint64_t)time(NULL)) == RDNS_OK;
}

/* One datagram arrived on a job socket: accept it only when it answers one
 * of our tries exactly (RFC 1996 3.10: same ID, question and source). */
static void handle_answer(job_t *j, const uint8_t *buf, size_t len, const struct sockaddr_storage *from)
{
	zg_wire_hdr_t h;
	tgt_t *g = NULL;
	int k = -1;
	char b1[24], b2[24];

	if (zg_wire_hdr_parse(buf, len, &h) != RDNS_OK || !(h.flags & ZG_WIRE_QR) ||
	    ZG_WIRE_OPCODE(h.flags) != ZG_OPCODE_NOTIFY)
		return;
	for (size_t i = 0; i < j->n && !g; i++) {
		tgt_t *c = &j->tg[i];
		if (c->state != 0 || !sa_equal(&c->sa, from))
			continue;
		for (int t = 0; t < c->tries; t++)
			if (c->ids[t] == h.id) {
				g = c;
				k = t;
				break;
			}
	}
	if (!g) {
		log_zone_debug("notify", j->zone, "ignored a stray answer (id %u)", (unsigned)h.id);
		return;
	}
	uint8_t qname[ZG_WIRE_NAME_MAX];
	size_t qlen, pos = ZG_WIRE_HDR_LEN, tsig_off;
	uint16_t qtype, qclass;
	int rcode = (int)ZG_WIRE_RCODE(h.flags);
	/* RFC 1996 3.10 matches the question too; but a refusal may come without
	 * one (NSD answers REFUSED with a bare header), so an error answer with
	 * QDCOUNT 0 is matched on ID, source and opcode alone. An acknowledgement
	 * must echo the question. */
	if (h.count[ZG_SEC_QD] == 0) {
		if (rcode == ZG_RCODE_NOERROR)
			return;
	} else if (h.count[ZG_SEC_QD] != 1 ||
	           zg_wire_question_parse(buf, len, &pos, qname, &qlen, &qtype, &qclass) != RDNS_OK ||
	           qtype != ZG_TYPE_SOA || qclass != ZG_CLASS_IN ||
	           !zg_wire_name_equal(qname, qlen, j->name, j->name_len)) {
		return;
	}
	/* The whole message must parse, with a TSIG only as the last additional
	 * record (RFC 8945 5.1); anything else is not an answer. */
	int terr = 0;
	int f = zg_tsig_find(buf, len, &tsig_off);
	if (f == RDNS_OK) {
		zg_tsig_rr_t ts;
		if (zg_tsig_rr_parse(buf, len, tsig_off, &ts) != RDNS_OK)
			return;
		terr = ts.error;
	} else if (f != RDNS_ENOTFOUND) {
		return;
	}

	if (g->key.secret_len > 0 && !answer_tsig_ok(g, k, buf, len)) {
		if (rcode == ZG_RCODE_NOERROR || rcode == ZG_RCODE_NOTIMP) {
			/* only a signed answer may end a signed NOTIFY */
			snprintf(g->detail, sizeof(g->detail), "ignored %s answer without a valid TSIG",
			         rcode_name(rcode, b1, sizeof(b1)));
			log_zone_serial_warn("notify", j->zone, j->serial, "%s: %s", g->name, g->detail);
			return;
		}
		/* RFC 8945 5.2/5.3: an answer to a signed request without a valid TSIG
		 * (a bare REFUSED, an unsigned BADKEY/BADSIG NOTAUTH) is not accepted: anyone
		 * who can guess the ID and port could send it. It is remembered, so that
		 * the outcome says what came back, and the tries go on. */
		g->rcode = rcode;
		g->tsig_error = terr;
		g->unsigned_answer = true;
		if (terr)
			snprintf(g->detail, sizeof(g->detail), "answered %s (%s) without a valid TSIG",
			         rcode_name(rcode, b1, sizeof(b1)), tsig_error_name(terr, b2, sizeof(b2)));
		else
			snprintf(g->detail, sizeof(g->detail), "answered %s without a valid TSIG",
			         rcode_name(rcode, b1, sizeof(b1)));
		log_zone_serial_debug("notify", j->zone, j->serial, "%s: %s, will retry", g->name, g->detail);
		return;
	}
	g->rcode = rcode;
	g->tsig_error = terr;
	g->unsigned_answer = false;
	if (rcode == ZG_RCODE_NOERROR) {
		tgt_finish(g, ZG_NOTIFY_ACKED, "acknowledged after %d %s", g->tries,
		           g->tries == 1 ? "try" : "tries");
	} else if (rcode == ZG_RCODE_NOTIMP) {
		/* rfc1996: notimpl notify reply: consider retries done */
		tgt_finish(g, ZG_NOTIFY_NOTIMP, "answered NOTIMP: the secondary does not implement NOTIFY");
	} else if (rcode == ZG_RCODE_REFUSED || rcode == ZG_RCODE_NOTAUTH) {
		/* a policy answer (ACL, key): asking again changes nothing, as NSD and BIND also stop */
		if (terr)
			tgt_finish(g, ZG_NOTIFY_REFUSED, "answered %s (%s)",
			           rcode_name(rcode, b1, sizeof(b1)), tsig_error_name(terr, b2, sizeof(b2)));
		else
			tgt_finish(g, ZG_NOTIFY_REFUSED, "answered %s", rcode_name(rcode, b1, sizeof(b1)));
	} else {
		if (terr)
			snprintf(g->detail, sizeof(g->detail), "answered %s (%s)",
			         rcode_name(rcode, b1, sizeof(b1)), tsig_error_name(terr, b2, sizeof(b2)));
		else
			snprintf(g->detail, sizeof(g->detail), "answered %s",
			         rcode_name(rcode, b1, sizeof(b1)));
		log_zone_serial_debug("notify", j->zone, j->serial, "%s: %s, will retry", g->name, g->detail);
	}
}

static void on_readable(job_t *j, int fd)
{
	uint8_t buf[4096]; /* NOTIFY answers are small; a longer datagram is not ours */
	for (int i = 0; i < RECV_PER_WAKE; i++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		memset(&from, 0, sizeof(from));
		ssize_t r =
		    recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&from, &fl);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return; /* EAGAIN, or an ICMP error surfaced: nothing to read */
		}
		if ((size_t)r > sizeof(buf))
			continue;
		handle_answer(j, buf, (size_t)r, &from);
	}
}

/* Retransmit or give up where a deadline passed; whether all targets are done. */
static bool job_step(zg_notifier_t *n, job_t *j, int64_t now, int64_t *next)
{
	bool done = true;
	char b[24], b2[24];
	for (size_t i = 0; i < j->n; i++) {
		tgt_t *g = &j->tg[i];
		if (g->state == 0 && g->deadline <= now) {
			if (g->tries >= n->conf.tries) {
				/* tgt_finish writes detail: the reason so far is copied out first */
				char last[sizeof(g->detail)];
				memcpy(last, g->detail, sizeof(last));
				if (g->rcode >= 0 && g->unsigned_answer)
					tgt_finish(g, ZG_NOTIFY_FAILED,
					           "no signed answer after %d tries, %.80s", g->tries, last);
				else if (g->rcode > 0 && g->tsig_error)
					tgt_finish(g, ZG_NOTIFY_FAILED,
					           "no success after %d tries, last answer %s (%s)", g->tries,
					           rcode_name(g->rcode, b, sizeof(b)),
					           tsig_error_name(g->tsig_error, b2, sizeof(b2)));
				else if (g->rcode > 0)
					tgt_finish(g, ZG_NOTIFY_FAILED,
					           "no success after %d tries, last answer %s", g->tries,
					           rcode_name(g->rcode, b, sizeof(b)));
				else if (last[0])
					tgt_finish(g, ZG_NOTIFY_FAILED, "no answer after %d tries (%.80s)",
					           g->tries, last);
				else
					tgt_finish(g, ZG_NOTIFY_FAILED, "no answer after %d tries", g->tries);
			} else {
				send_try(n, j, g, now);
			}
		}
		if (g->state == 0) {
			done = false;
			if (*next < 0 || g->deadline < *next)
				*next = g->deadline;
		}
	}
	return done;
}

/* Queue an outcome for the caller (under mu), dropping the oldest beyond the cap. */
static void push_outcome(zg_notifier_t *n, out_t *o)
{
	out_t *lost = NULL;
	pthread_mutex_lock(&n->mu);
	if (n->n_res >= ZG_NOTIFY_MAX_QUEUED) {
		lost = n->res;
		n->res = lost->next;
		if (!n->res)
			n->res_tail = NULL;
		n->n_res--;
	}
	if (n->res_tail)
		n->res_tail->next = o;
	else
		n->res = o;
	n->res_tail = o;
	n->n_res++;
	wake(n->result_fd);
	pthread_mutex_unlock(&n->mu);
	if (lost) {
		log_zone_serial_warn("notify", lost->o.zone, lost->o.serial,
		                     "outcome dropped, %d are waiting unpolled", ZG_NOTIFY_MAX_QUEUED);
		free(lost);
	}
}

/* Report the targets of j that finished since the last report: their one log
 * line each, and an outcome with the whole job's state. Whether every target
 * has finished. */
static bool job_report(zg_notifier_t *n, job_t *j)
{
	static const char *const names[] = {"", "acknowledged", "NOTIMP", "failed", "error", "refused"};
	bool fresh = false, done = true;
	for (size_t i = 0; i < j->n; i++) {
		tgt_t *g = &j->tg[i];
		if (g->state == 0) {
			done = false;
			continue;
		}
		if (g->reported)
			continue;
		fresh = true;
		/* the one line per target and outcome (the daemon only records it) */
		log_zone_serial_msg(g->state == ZG_NOTIFY_ACKED ? LOG_LVL_INFO : LOG_LVL_WARN, "notify",
		                    j->zone, j->serial, "%s: %s: %s", g->name, names[g->state], g->detail);
	}
	if (!fresh)
		return done;
	out_t *o = malloc(sizeof(*o));
	if (!o) {
		log_zone_serial_err("notify", j->zone, j->serial, "out of memory, outcome lost");
		for (size_t i = 0; i < j->n; i++)
			j->tg[i].reported |= j->tg[i].state != 0;
		return done;
	}
	memset(o, 0, sizeof(*o));
	snprintf(o->o.zone, sizeof(o->o.zone), "%s", j->zone);
	o->o.serial = j->serial;
	o->o.final = done;
	o->o.n_results = j->n;
	for (size_t i = 0; i < j->n; i++) {
		tgt_t *g = &j->tg[i];
		zg_notify_result_t *r = &o->o.results[i];
		snprintf(r->target, sizeof(r->target), "%s", g->name);
		r->state = g->state;
		r->rcode = g->rcode;
		r->tries = g->tries;
		r->fresh = g->state != 0 && !g->reported;
		g->reported |= g->state != 0;
		snprintf(r->detail, sizeof(r->detail), "%s", g->state ? g->detail : "in progress");
	}
	push_outcome(n, o);
	return done;
}

/* ---- the thread ---- */

static void *worker(void *arg)
{
	zg_notifier_t *n = arg;
	for (;;) {
		job_t *dead = NULL;

		pthread_mutex_lock(&n->mu);
		if (n->stop) {
			pthread_mutex_unlock(&n->mu);
			break;
		}
		for (job_t **pp = &n->active; *pp;) {
			job_t *j = *pp;
			if (j->superseded) {
				*pp = j->next;
				j->next = dead;
				dead = j;
				n->n_active--;
			} else {
				pp = &j->next;
			}
		}
		while (n->pending && n->n_active < (size_t)n->conf.max_active) {
			job_t *j = n->pending;
			n->pending = j->next;
			if (!n->pending)
				n->pending_tail = NULL;
			j->next = NULL;
			job_t **pp = &n->active;
			while (*pp)
				pp = &(*pp)->next;
			*pp = j;
			n->n_active++;
		}
		pthread_mutex_unlock(&n->mu);

		while (dead) {
			job_t *j = dead;
			dead = j->next;
			log_zone_serial_debug("notify", j->zone, j->serial, "superseded by a newer serial");
			job_free(j);
		}

		/* timers: send, retransmit, give up; finished jobs become outcomes */
		int64_t now = now_ms(), next = -1;
		for (job_t *j = n->active, *jn; j; j = jn) {
			jn = j->next;
			job_step(n, j, now, &next);
			/* answers (handled after the last poll) and give-ups are reported here */
			if (!job_report(n, j))
				continue;
			pthread_mutex_lock(&n->mu);
			for (job_t **pp = &n->active; *pp; pp = &(*pp)->next)
				if (*pp == j) {
					*pp = j->next;
					break;
				}
			n->n_active--;
			pthread_mutex_unlock(&n->mu);
			job_free(j);
			/* a slot was freed: let a waiting job start right away */
			next = now;
		}

		nfds_t nf = 0;
		n->pfd[nf++] = (struct pollfd){.fd = n->wake_fd, .events = POLLIN};
		for (job_t *j = n->active; j; j = j->next) {
			int fds[2] = {j->fd4, j->fd6};
			for (int i = 0; i < 2; i++)
				if (fds[i] >= 0) {
					n->pfd_job[nf] = j;
					n->pfd[nf++] = (struct pollfd){.fd = fds[i], .events = POLLIN};
				}
		}
		int64_t wait = next < 0 ? -1 : next - now_ms();
		if (next >= 0 && wait < 0)
			wait = 0;
		if (wait > 60000)
			wait = 60000;
		int pr = poll(n->pfd, nf, (int)wait);
		if (pr < 0) {
			if (errno != EINTR)
				log_err("notify: poll: %s", strerror(errno));
			continue;
		}
		if (n->pfd[0].revents & POLLIN)
			drain(n->wake_fd);
		for (nfds_t i = 1; i < nf; i++)
			if (n->pfd[i].revents & (POLLIN | POLLERR))
				on_readable(n->pfd_job[i], n->pfd[i].fd);
	}
	return NULL;
}

/* ---- public ---- */

zg_notifier_t *zg_notifier_new(const zg_notify_conf_t *conf, int *err)
{
	int rc = RDNS_ENOMEM;
	zg_notifier_t *n = calloc(1, sizeof(*n));
	if (!n)
		goto fail;
	n->wake_fd = n->result_fd = -1;
	if (conf)
		n->conf = *conf;
	if (n->conf.tries <= 0)
		n->conf.tries = DEF_TRIES;
	if (n->conf.first_timeout_ms <= 0)
		n->conf.first_timeout_ms = DEF_FIRST_MS;
	if (n->conf.max_timeout_ms <= 0)
		n->conf.max_timeout_ms = DEF_MAX_MS;
	if (n->conf.max_active <= 0)
		n->conf.max_active = DEF_MAX_ACTIVE;
	rc = RDNS_ERANGE;
	if (n->conf.tries > ZG_NOTIFY_MAX_TRIES || n->conf.first_timeout_ms > n->conf.max_timeout_ms ||
	    n->conf.max_active > 4096)
		goto fail;
	rc = RDNS_EINVAL;
	if ((n->conf.source4.ss_family != 0 && n->conf.source4.ss_family != AF_INET) ||
	    (n->conf.source6.ss_family != 0 && n->conf.source6.ss_family != AF_INET6))
		goto fail;
	rc = RDNS_ENOMEM;
	size_t npfd = 1 + 2 * (size_t)n->conf.max_active;
	n->pfd = calloc(npfd, sizeof(*n->pfd));
	n->pfd_job = calloc(npfd, sizeof(*n->pfd_job));
	if (!n->pfd || !n->pfd_job)
		goto fail;
	rc = RDNS_EIO;
	n->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	n->result_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (n->wake_fd < 0 || n->result_fd < 0)
		goto fail;
	if (pthread_mutex_init(&n->mu, NULL) != 0)
		goto fail;
	n->mu_init = true;
	if (pthread_create(&n->thread, NULL, worker, n) != 0)
		goto fail;
	n->thread_started = true;
	if (err)
		*err = RDNS_OK;
	return n;
fail:
	zg_notifier_free(n);
	if (err)
		*err = rc;
	return NULL;
}

int zg_notifier_submit(zg_notifier_t *n, const char *zone, uint32_t serial, const zg_notify_target_t *targets,
                       size_t n_targets)
{
	int rc = RDNS_EINVAL;
	uint8_t name[ZG_WIRE_NAME_MAX];
	size_t name_len;
	tgt_t *tg = NULL;
	job_t *j = NULL;

	if (!n || !zone || (!targets && n_targets > 0))
		return RDNS_EINVAL;
	if (n_targets == 0 || n_targets > ZG_NOTIFY_MAX_TARGETS)
		return RDNS_ELIMIT;
	if (zone[0] == '\0' || strlen(zone) >= ZG_NOTIFY_ZONE_LEN ||
	    zg_wire_name_from_text(zone, strlen(zone), false, name, &name_len) != RDNS_OK)
		goto cleanup;
	rc = RDNS_ENOMEM;
	if (!(tg = calloc(n_targets, sizeof(*tg))))
		goto cleanup;
	size_t kept = 0;
	for (size_t i = 0; i < n_targets; i++) {
		if ((rc = tgt_init(&tg[kept], &targets[i])) != RDNS_OK)
			goto cleanup;
		bool dup = false;
		for (size_t d = 0; d < kept && !dup; d++)
			dup = strcmp(tg[d].name, tg[kept].name) == 0;
		if (dup)
			explicit_bzero(&tg[kept], sizeof(tg[kept]));
		else
			kept++;
	}
	n_targets = kept;
	rc = RDNS_ENOMEM;
	if (!(j = calloc(1, sizeof(*j))))
		goto cleanup;
	j->fd4 = j->fd6 = -1;

	pthread_mutex_lock(&n->mu);
	for (job_t *a = n->active; a; a = a->next)
		if (!a->superseded && zg_wire_name_equal(a->name, a->name_len, name, name_len))
			a->superseded = true;
	job_t *w = n->pending;
	while (w && !zg_wire_name_equal(w->name, w->name_len, name, name_len))
		w = w->next;
	if (w) {
		/* replace the waiting job in place; the old targets go with j */
		j->tg = w->tg;
		j->n = w->n;
		memcpy(w->name, name, name_len);
		w->name_len = name_len;
		w->tg = tg;
		w->n = n_targets;
		w->serial = serial;
		snprintf(w->zone, sizeof(w->zone), "%s", zone);
	} else {
		memcpy(j->name, name, name_len);
		j->name_len = name_len;
		j->tg = tg;
		j->n = n_targets;
		j->serial = serial;
		snprintf(j->zone, sizeof(j->zone), "%s", zone);
		if (n->pending_tail)
			n->pending_tail->next = j;
		else
			n->pending = j;
		n->pending_tail = j;
		j = NULL;
	}
	tg = NULL;
	wake(n->wake_fd);
	pthread_mutex_unlock(&n->mu);
	rc = RDNS_OK;
cleanup:
	job_free(j);
	tgts_free(tg, n_targets);
	return rc;
}

void zg_notifier_cancel_all(zg_notifier_t *n)
{
	if (!n)
		return;
	pthread_mutex_lock(&n->mu);
	for (job_t *a = n->active; a; a = a->next)
		a->superseded = true; /* the worker drops them without an outcome */
	job_t *waiting = n->pending;
	n->pending = n->pending_tail = NULL;
	wake(n->wake_fd);
	pthread_mutex_unlock(&n->mu);
	while (waiting) {
		job_t *j = waiting;
		waiting = j->next;
		log_zone_serial_debug("notify", j->zone, j->serial, "cancelled");
		job_free(j);
	}
}

size_t zg_notifier_poll(zg_notifier_t *n, zg_notify_outcome_t *out, size_t max)
{
	size_t got = 0;
	if (!n || !out)
		return 0;
	pthread_mutex_lock(&n->mu);
	while (got < max && n->res) {
		out_t *o = n->res;
		n->res = o->next;
		if (!n->res)
			n->res_tail = NULL;
		n->n_res--;
		out[got++] = o->o;
		free(o);
	}
	if (!n->res)
		drain(n->result_fd);
	pthread_mutex_unlock(&n->mu);
	return got;
}

int zg_notifier_fd(zg_notifier_t *n)
{
	return n ? n->result_fd : -1;
}

void zg_notifier_free(zg_notifier_t *n)
{
	if (!n)
		return;
	if (n->thread_started) {
		pthread_mutex_lock(&n->mu);
		n->stop = true;
		wake(n->wake_fd);
		pthread_mutex_unlock(&n->mu);
		pthread_join(n->thread, NULL);
	}
	while (n->pending) {
		job_t *j = n->pending;
		n->pending = j->next;
		job_free(j);
	}
	while (n->active) {
		job_t *j = n->active;
		n->active = j->next;
		job_free(j);
	}
	while (n->res) {
		out_t *o = n->res;
		n->res = o->next;
		free(o);
	}
	if (n->mu_init)
		pthread_mutex_destroy(&n->mu);
	if (n->wake_fd >= 0)
		close(n->wake_fd);
	if (n->result_fd >= 0)
		close(n->result_fd);
	free(n->pfd);
	free(n->pfd_job);
	free(n);
}
