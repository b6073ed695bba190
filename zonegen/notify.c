/* notify.c - sending DNS NOTIFY (RFC 1996) to secondaries from a background thread. */
#include "zonegen/notify.h"

#include <arpa/inet.h>
#include <ctype.h>
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

#include <ldns/ldns.h>
#include <openssl/evp.h>

#include "core/endpoint.h"
#include "core/err.h"
#include "core/log.h"

#define DEF_TRIES      8
#define DEF_FIRST_MS   250
#define DEF_MAX_MS     8000
#define DEF_MAX_ACTIVE 64
#define TSIG_ALG       "hmac-sha256."
#define TSIG_FUDGE     300
#define MAC_MAX        66  /* TSIG MAC rdata: 2-byte length + up to 64 bytes */
#define RECV_PER_WAKE  64  /* datagrams read per socket per loop, so timers still run under a flood */
#define KEY_B64_LEN    176 /* base64 of 128 bytes plus NUL */

/* One target of a job, with everything needed to send and to match answers. */
typedef struct {
	zg_notify_target_t t;
	char name[80]; /* "host:port" */
	struct sockaddr_storage sa;
	socklen_t salen;
	char key_b64[KEY_B64_LEN]; /* "" without TSIG */
	int state;                 /* 0 while in progress, else ZG_NOTIFY_* */
	int tries;                 /* messages sent */
	int rcode;                 /* last accepted answer's rcode, -1 if none */
	int tsig_error;            /* TSIG error of that answer, 0 if none */
	int64_t deadline;          /* monotonic ms: retransmit or give up */
	uint16_t ids[ZG_NOTIFY_MAX_TRIES];
	uint8_t macs[ZG_NOTIFY_MAX_TRIES][MAC_MAX]; /* request MAC rdata per try, to verify the answer */
	size_t mac_len[ZG_NOTIFY_MAX_TRIES];
	char detail[128];
} tgt_t;

typedef struct job {
	struct job *next;
	char zone[ZG_NOTIFY_ZONE_LEN];
	ldns_rdf *dname;
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
	case 16: return "BADSIG";
	case 17: return "BADKEY";
	case 18: return "BADTIME";
	case 22: return "BADTRUNC";
	}
	snprintf(buf, len, "TSIG error %d", e);
	return buf;
}

__attribute__((format(printf, 3, 4))) static void nlog(const zg_notifier_t *n, int level, const char *fmt,
                                                       ...)
{
	char line[512];
	va_list ap;
	if (!n->conf.log && level >= LOG_LVL_DEBUG)
		return; /* the stderr fallback leaves out per-try chatter */
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n->conf.log)
		n->conf.log(level, "%s", line);
	else
		fprintf(stderr, "%s\n", line);
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
	if (core_endpoint_parse(s, CORE_EP_KEY, 53, &ep, NULL) != RDNS_OK)
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
	if (zg_notify_target_format(t, g->name, sizeof(g->name)) != RDNS_OK)
		return RDNS_EINVAL;
	if (t->key_len > 0) {
		if (!core_tsig_keyname_ok(t->key_name))
			return RDNS_EINVAL;
		/* RFC 8945 4.3.3: the key name enters the MAC in canonical (lower) case */
		for (char *p = g->t.key_name; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		/* ldns wants the secret in base64; 128 bytes encode to 172 characters */
		EVP_EncodeBlock((unsigned char *)g->key_b64, t->key, (int)t->key_len);
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
	ldns_rdf_deep_free(j->dname);
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

/* NOTIFY for j with the given ID, signed when the target has a key; the
 * request MAC (rdata with length) goes to mac/mac_len for checking the answer. */
static int build_notify(const job_t *j, const tgt_t *g, uint16_t id, uint8_t **wire, size_t *len,
                        uint8_t *mac, size_t *mac_len)
{
	int rc = RDNS_ENOMEM;
	ldns_pkt *p = NULL;
	ldns_rr *soa = NULL;
	ldns_rdf *qname = ldns_rdf_clone(j->dname);
	ldns_rdf *rd[7] = {NULL};

	*wire = NULL;
	*mac_len = 0;
	if (!qname)
		goto cleanup;
	p = ldns_pkt_query_new(qname, LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, LDNS_AA);
	if (!p) {
		ldns_rdf_deep_free(qname);
		goto cleanup;
	}
	ldns_pkt_set_opcode(p, LDNS_PACKET_NOTIFY);
	ldns_pkt_set_id(p, id);

	/* RFC 1996 3.7: the answer may carry the new SOA; only the serial counts
	 * (ldns-notify sends the same minimal ". . serial 0 0 0 0"). */
	if (!(soa = ldns_rr_new()))
		goto cleanup;
	ldns_rdf *owner = ldns_rdf_clone(j->dname);
	if (!owner)
		goto cleanup;
	ldns_rr_set_owner(soa, owner);
	ldns_rr_set_type(soa, LDNS_RR_TYPE_SOA);
	ldns_rr_set_class(soa, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(soa, 0);
	rd[0] = ldns_dname_new_frm_str(".");
	rd[1] = ldns_dname_new_frm_str(".");
	rd[2] = ldns_native2rdf_int32(LDNS_RDF_TYPE_INT32, j->serial);
	for (int i = 3; i < 7; i++)
		rd[i] = ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD, 0);
	for (int i = 0; i < 7; i++)
		if (!rd[i])
			goto cleanup;
	for (int i = 0; i < 7; i++) {
		ldns_rr_push_rdf(soa, rd[i]);
		rd[i] = NULL;
	}
	if (!ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, soa))
		goto cleanup;
	soa = NULL;

	if (g->t.key_len > 0) {
		rc = RDNS_EDNS;
		if (ldns_pkt_tsig_sign(p, g->t.key_name, g->key_b64, TSIG_FUDGE, TSIG_ALG, NULL) !=
		    LDNS_STATUS_OK)
			goto cleanup;
		ldns_rr *ts = ldns_pkt_tsig(p);
		ldns_rdf *m = ts ? ldns_rr_rdf(ts, 3) : NULL;
		if (!m || ldns_rdf_size(m) > MAC_MAX)
			goto cleanup;
		memcpy(mac, ldns_rdf_data(m), ldns_rdf_size(m));
		*mac_len = ldns_rdf_size(m);
	}
	rc = RDNS_EDNS;
	if (ldns_pkt2wire(wire, p, len) != LDNS_STATUS_OK)
		goto cleanup;
	rc = RDNS_OK;
cleanup:
	for (int i = 0; i < 7; i++)
		ldns_rdf_deep_free(rd[i]);
	ldns_rr_free(soa);
	ldns_pkt_free(p);
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

static int job_socket(zg_notifier_t *n, job_t *j, int family)
{
	int *fd = family == AF_INET6 ? &j->fd6 : &j->fd4;
	if (*fd < 0)
		*fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	return *fd;
}

static void send_try(zg_notifier_t *n, job_t *j, tgt_t *g, int64_t now)
{
	uint8_t *wire = NULL;
	size_t len = 0;
	uint16_t id;
	int fd = job_socket(n, j, g->sa.ss_family);

	if (fd < 0) {
		tgt_finish(g, ZG_NOTIFY_ERROR, "socket: %s", strerror(errno));
		return;
	}
	/* RFC 1996 / RFC 5452: a fresh unpredictable ID for every message */
	if (random_id(&id) != RDNS_OK) {
		tgt_finish(g, ZG_NOTIFY_ERROR, "getrandom: %s", strerror(errno));
		return;
	}
	int rc = build_notify(j, g, id, &wire, &len, g->macs[g->tries], &g->mac_len[g->tries]);
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
		nlog(n, LOG_LVL_DEBUG, "notify: zone %s serial %u: %s: try %d: send: %s", j->zone, j->serial,
		     g->name, g->tries, strerror(errno));
	} else {
		nlog(n, LOG_LVL_DEBUG, "notify: zone %s serial %u: %s: try %d sent (id %u)", j->zone,
		     j->serial, g->name, g->tries, (unsigned)id);
	}
	free(wire);
}

/* 48-bit time signed and fudge of a TSIG RR; false if malformed. */
static bool tsig_times(const ldns_rr *ts, uint64_t *signed_at, uint16_t *fudge)
{
	const ldns_rdf *t = ldns_rr_rdf(ts, 1), *f = ldns_rr_rdf(ts, 2);
	if (!t || !f || ldns_rdf_size(t) != 6 || ldns_rdf_size(f) != 2)
		return false;
	const uint8_t *d = ldns_rdf_data(t);
	*signed_at = 0;
	for (int i = 0; i < 6; i++)
		*signed_at = (*signed_at << 8) | d[i];
	*fudge = ldns_rdf2native_int16(f);
	return true;
}

/* Whether an answer to try k of g carries a TSIG that verifies with g's key. */
static bool answer_tsig_ok(const tgt_t *g, int k, ldns_pkt *p, const uint8_t *buf, size_t len)
{
	ldns_rr *ts = ldns_pkt_tsig(p);
	uint64_t signed_at;
	uint16_t fudge;
	bool ok = false;

	if (!ts || ldns_rr_rd_count(ts) < 7 || ldns_rdf2native_int16(ldns_rr_rdf(ts, 5)) != 0)
		return false;
	if (!tsig_times(ts, &signed_at, &fudge))
		return false;
	/* ldns 1.8.3 does not check the time window itself (FIELD-NOTES) */
	int64_t skew = (int64_t)time(NULL) - (int64_t)signed_at;
	if (skew > fudge || -skew > fudge)
		return false;
	ldns_rdf *mac = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, g->mac_len[k], g->macs[k]);
	if (!mac)
		return false;
	/* The packet is discarded afterwards, so ldns changing it on error does not matter. */
	ok = ldns_pkt_tsig_verify(p, buf, len, g->t.key_name, g->key_b64, mac);
	ldns_rdf_deep_free(mac);
	return ok;
}

/* One datagram arrived on a job socket: accept it only when it answers one
 * of our tries exactly (RFC 1996 3.10: same ID, question and source). */
static void handle_answer(zg_notifier_t *n, job_t *j, const uint8_t *buf, size_t len,
                          const struct sockaddr_storage *from)
{
	ldns_pkt *p = NULL;
	tgt_t *g = NULL;
	int k = -1;
	char b1[24], b2[24];

	if (len < LDNS_HEADER_SIZE || !LDNS_QR_WIRE(buf) || LDNS_OPCODE_WIRE(buf) != LDNS_PACKET_NOTIFY)
		return;
	uint16_t id = LDNS_ID_WIRE(buf);
	for (size_t i = 0; i < j->n && !g; i++) {
		tgt_t *c = &j->tg[i];
		if (c->state != 0 || !sa_equal(&c->sa, from))
			continue;
		for (int t = 0; t < c->tries; t++)
			if (c->ids[t] == id) {
				g = c;
				k = t;
				break;
			}
	}
	if (!g) {
		nlog(n, LOG_LVL_DEBUG, "notify: zone %s: ignored a stray answer (id %u)", j->zone,
		     (unsigned)id);
		return;
	}
	if (ldns_wire2pkt(&p, buf, len) != LDNS_STATUS_OK)
		goto cleanup;
	if (ldns_pkt_qdcount(p) != 1)
		goto cleanup;
	ldns_rr *q = ldns_rr_list_rr(ldns_pkt_question(p), 0);
	if (!q || ldns_rr_get_type(q) != LDNS_RR_TYPE_SOA || ldns_rr_get_class(q) != LDNS_RR_CLASS_IN ||
	    ldns_dname_compare(ldns_rr_owner(q), j->dname) != 0)
		goto cleanup;

	int rcode = ldns_pkt_get_rcode(p);
	ldns_rr *ts = ldns_pkt_tsig(p);
	int terr = ts && ldns_rr_rd_count(ts) >= 6 && ldns_rr_rdf(ts, 5)
	               ? ldns_rdf2native_int16(ldns_rr_rdf(ts, 5))
	               : 0;
	if (g->t.key_len > 0 && !answer_tsig_ok(g, k, p, buf, len)) {
		if (rcode == LDNS_RCODE_NOERROR || rcode == LDNS_RCODE_NOTIMPL) {
			/* only a signed answer may end a signed NOTIFY */
			snprintf(g->detail, sizeof(g->detail), "ignored %s answer without a valid TSIG",
			         rcode_name(rcode, b1, sizeof(b1)));
			nlog(n, LOG_LVL_WARN, "notify: zone %s serial %u: %s: %s", j->zone, j->serial,
			     g->name, g->detail);
			goto cleanup;
		}
		/* error answers are unsigned by design (RFC 8945 5.3.2) and only get recorded */
	}
	g->rcode = rcode;
	g->tsig_error = terr;
	if (rcode == LDNS_RCODE_NOERROR) {
		tgt_finish(g, ZG_NOTIFY_ACKED, "acknowledged after %d %s", g->tries,
		           g->tries == 1 ? "try" : "tries");
	} else if (rcode == LDNS_RCODE_NOTIMPL) {
		/* rfc1996: notimpl notify reply: consider retries done */
		tgt_finish(g, ZG_NOTIFY_NOTIMP, "NOTIMP: the secondary does not implement NOTIFY");
	} else {
		if (terr)
			snprintf(g->detail, sizeof(g->detail), "answered %s (%s)",
			         rcode_name(rcode, b1, sizeof(b1)), tsig_error_name(terr, b2, sizeof(b2)));
		else
			snprintf(g->detail, sizeof(g->detail), "answered %s",
			         rcode_name(rcode, b1, sizeof(b1)));
		nlog(n, LOG_LVL_DEBUG, "notify: zone %s serial %u: %s: %s, will retry", j->zone, j->serial,
		     g->name, g->detail);
	}
cleanup:
	ldns_pkt_free(p);
}

static void on_readable(zg_notifier_t *n, job_t *j, int fd)
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
		handle_answer(n, j, buf, (size_t)r, &from);
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
				if (g->rcode > 0 && g->tsig_error)
					tgt_finish(g, ZG_NOTIFY_FAILED,
					           "no success after %d tries, last answer %s (%s)", g->tries,
					           rcode_name(g->rcode, b, sizeof(b)),
					           tsig_error_name(g->tsig_error, b2, sizeof(b2)));
				else if (g->rcode > 0)
					tgt_finish(g, ZG_NOTIFY_FAILED,
					           "no success after %d tries, last answer %s", g->tries,
					           rcode_name(g->rcode, b, sizeof(b)));
				else if (g->detail[0])
					tgt_finish(g, ZG_NOTIFY_FAILED, "no answer after %d tries (%.80s)",
					           g->tries, g->detail);
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

static void job_outcome(zg_notifier_t *n, const job_t *j, zg_notify_outcome_t *o)
{
	static const char *const names[] = {"", "acknowledged", "NOTIMP", "failed", "error"};
	memset(o, 0, sizeof(*o));
	snprintf(o->zone, sizeof(o->zone), "%s", j->zone);
	o->serial = j->serial;
	o->n_results = j->n;
	for (size_t i = 0; i < j->n; i++) {
		const tgt_t *g = &j->tg[i];
		zg_notify_result_t *r = &o->results[i];
		snprintf(r->target, sizeof(r->target), "%s", g->name);
		r->state = g->state;
		r->rcode = g->rcode;
		r->tries = g->tries;
		snprintf(r->detail, sizeof(r->detail), "%s", g->detail);
		nlog(n, g->state == ZG_NOTIFY_ACKED ? LOG_LVL_INFO : LOG_LVL_WARN,
		     "notify: zone %s serial %u: %s: %s: %s", j->zone, j->serial, g->name, names[g->state],
		     g->detail);
	}
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
			nlog(n, LOG_LVL_DEBUG, "notify: zone %s serial %u: superseded by a newer serial",
			     j->zone, j->serial);
			job_free(j);
		}

		/* timers: send, retransmit, give up; finished jobs become outcomes */
		int64_t now = now_ms(), next = -1;
		for (job_t *j = n->active, *jn; j; j = jn) {
			jn = j->next;
			if (!job_step(n, j, now, &next))
				continue;
			out_t *o = malloc(sizeof(*o));
			if (o) {
				o->next = NULL;
				job_outcome(n, j, &o->o);
			} else {
				nlog(n, LOG_LVL_ERR, "notify: zone %s serial %u: out of memory, outcome lost",
				     j->zone, j->serial);
			}
			out_t *lost = NULL;
			pthread_mutex_lock(&n->mu);
			for (job_t **pp = &n->active; *pp; pp = &(*pp)->next)
				if (*pp == j) {
					*pp = j->next;
					break;
				}
			n->n_active--;
			if (o) {
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
			}
			pthread_mutex_unlock(&n->mu);
			if (lost) {
				nlog(n, LOG_LVL_WARN,
				     "notify: zone %s serial %u: outcome dropped, %d are waiting unpolled",
				     lost->o.zone, lost->o.serial, ZG_NOTIFY_MAX_QUEUED);
				free(lost);
			}
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
				nlog(n, LOG_LVL_ERR, "notify: poll: %s", strerror(errno));
			continue;
		}
		if (n->pfd[0].revents & POLLIN)
			drain(n->wake_fd);
		for (nfds_t i = 1; i < nf; i++)
			if (n->pfd[i].revents & (POLLIN | POLLERR))
				on_readable(n, n->pfd_job[i], n->pfd[i].fd);
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
	ldns_rdf *dname = NULL;
	tgt_t *tg = NULL;
	job_t *j = NULL;

	if (!n || !zone || (!targets && n_targets > 0))
		return RDNS_EINVAL;
	if (n_targets == 0 || n_targets > ZG_NOTIFY_MAX_TARGETS)
		return RDNS_ELIMIT;
	if (zone[0] == '\0' || strlen(zone) >= ZG_NOTIFY_ZONE_LEN ||
	    ldns_str2rdf_dname(&dname, zone) != LDNS_STATUS_OK)
		goto cleanup;
	rc = RDNS_ENOMEM;
	if (!(tg = calloc(n_targets, sizeof(*tg))))
		goto cleanup;
	for (size_t i = 0; i < n_targets; i++)
		if ((rc = tgt_init(&tg[i], &targets[i])) != RDNS_OK)
			goto cleanup;
	rc = RDNS_ENOMEM;
	if (!(j = calloc(1, sizeof(*j))))
		goto cleanup;
	j->fd4 = j->fd6 = -1;

	pthread_mutex_lock(&n->mu);
	for (job_t *a = n->active; a; a = a->next)
		if (!a->superseded && ldns_dname_compare(a->dname, dname) == 0)
			a->superseded = true;
	job_t *w = n->pending;
	while (w && ldns_dname_compare(w->dname, dname) != 0)
		w = w->next;
	if (w) {
		/* replace the waiting job in place; the old contents go with j */
		job_t tmp = *w;
		w->dname = dname;
		w->tg = tg;
		w->n = n_targets;
		w->serial = serial;
		snprintf(w->zone, sizeof(w->zone), "%s", zone);
		j->dname = tmp.dname;
		j->tg = tmp.tg;
		j->n = tmp.n;
	} else {
		j->dname = dname;
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
	dname = NULL;
	tg = NULL;
	wake(n->wake_fd);
	pthread_mutex_unlock(&n->mu);
	rc = RDNS_OK;
cleanup:
	job_free(j);
	tgts_free(tg, n_targets);
	ldns_rdf_deep_free(dname);
	return rc;
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
