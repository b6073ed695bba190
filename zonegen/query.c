/* query.c - the hidden primary's packet handler: parse and check a query, answer it from the
 * published zones (authoritative answers, NXDOMAIN, NODATA) and the errors, hand transfers to
 * xfr.c. No socket I/O. */
#include "zonegen/query.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/log.h"
#include "zonegen/metrics.h"
#include "zonegen/xfr.h"

#define SINGLE_BUF 4096 /* an error or SOA answer fits: question + SOA + OPT + TSIG */
/* A lookup answer: ZG_ZONEDB_NAME_RRS records and the SOA, uncompressed, + OPT + TSIG. */
#define ANSWER_BUF    ((ZG_ZONEDB_NAME_RRS + 2) * (3 * ZG_WIRE_NAME_MAX + 30) + 512)
#define EDNS_UDP_SIZE 1232
#define LOG_PER_SEC   10 /* refusal and TSIG lines, so that a flood cannot fill the disk */

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t now_secs(void)
{
	return (uint64_t)time(NULL);
}

uint16_t zg_query_resp_flags(const zg_query_t *r, bool aa)
{
	uint16_t f = (uint16_t)(ZG_WIRE_QR | (r->flags & (0xfu << 11)) | (r->flags & ZG_WIRE_RD));
	if (aa)
		f |= ZG_WIRE_AA;
	return f;
}

int zg_query_put_opt(zg_wire_msg_t *m, const zg_query_t *r, unsigned ext_rcode)
{
	static const uint8_t root = 0;
	size_t rdl;
	if (!r->has_opt)
		return RDNS_OK;
	int rc =
	    zg_wire_msg_rr_begin(m, &root, 1, ZG_TYPE_OPT, EDNS_UDP_SIZE, (uint32_t)ext_rcode << 24, &rdl);
	if (rc == RDNS_OK)
		zg_wire_msg_rr_end(m, ZG_SEC_AR, rdl);
	return rc;
}

int zg_query_send(zg_query_t *r, zg_wire_msg_t *m)
{
	zg_wire_msg_finish(m);
	size_t len = m->len;
	if (r->has_tsig) {
		int rc = zg_tsig_sign_response(&r->tsig, m->buf, &len, m->cap, now_secs());
		if (rc != RDNS_OK)
			return rc;
	}
	if (r->emit(r->arg, m->buf, len) < 0)
		return RDNS_EIO;
	r->sent_bytes += len;
	return RDNS_OK;
}

/* A single-message response: rcode, AA when aa, an[] in the answer and ns[] in the
 * authority section; cut to header and question with TC over UDP when too long. */
static int respond_rrs(zg_query_t *r, unsigned rcode, bool aa, const zg_wire_zrr_t *an, size_t n_an,
                       const zg_wire_zrr_t *ns, size_t n_ns)
{
	size_t cap = n_an + n_ns > 1 ? ANSWER_BUF : SINGLE_BUF;
	uint8_t *buf = malloc(cap);
	zg_wire_ct_t ct[64];
	zg_wire_msg_t m;
	size_t limit = cap;
	bool sign = r->has_tsig;
	int rc = RDNS_OK;

	if (buf == NULL)
		return RDNS_ENOMEM;
	if (r->transport == ZG_QUERY_UDP) {
		/* RFC 1035 §4.2.1, RFC 6891 §6.2.5: 512, or the requestor's size (we offer 1232) */
		limit = 512;
		if (r->has_opt && r->opt_size > 512)
			limit = r->opt_size < EDNS_UDP_SIZE ? r->opt_size : EDNS_UDP_SIZE;
	}
	zg_wire_msg_init(&m, buf, cap, ct, 64);
	zg_wire_msg_reset(&m, r->id, zg_query_resp_flags(r, aa));
	zg_wire_msg_set_rcode(&m, rcode & 0xf);
	if (r->has_q)
		rc = zg_wire_msg_put_question(&m, r->qname, r->qname_len, r->qtype, r->qclass);
	for (size_t i = 0; i < n_an && rc == RDNS_OK; i++)
		rc = zg_wire_msg_put_zrr(&m, ZG_SEC_AN, &an[i]);
	for (size_t i = 0; i < n_ns && rc == RDNS_OK; i++)
		rc = zg_wire_msg_put_zrr(&m, ZG_SEC_NS, &ns[i]);
	if (rc == RDNS_OK)
		rc = zg_query_put_opt(&m, r, rcode >> 4);
	if (rc != RDNS_OK)
		goto cleanup; /* cannot happen: the buffer holds the largest answer */
	zg_wire_msg_finish(&m);
	size_t len = m.len;
	if (sign) {
		zg_tsig_ctx_t save = r->tsig;
		rc = zg_tsig_sign_response(&r->tsig, buf, &len, cap, now_secs());
		if (rc != RDNS_OK)
			goto cleanup;
		if (len > limit) {
			r->tsig = save;
			len = m.len;
		}
	}
	if (len > limit) {
		/* RFC 1035 §4.2.1: set TC and keep what fits (header and question); RFC 6891
		 * §7: the OPT stays, so the client knows we speak EDNS. */
		zg_wire_msg_reset(&m, r->id, (uint16_t)(zg_query_resp_flags(r, aa) | ZG_WIRE_TC));
		zg_wire_msg_set_rcode(&m, rcode & 0xf);
		if (r->has_q)
			zg_wire_msg_put_question(&m, r->qname, r->qname_len, r->qtype, r->qclass);
		zg_query_put_opt(&m, r, rcode >> 4);
		zg_wire_msg_finish(&m);
		len = m.len;
		if (sign && zg_tsig_sign_response(&r->tsig, buf, &len, limit, now_secs()) != RDNS_OK)
			len = m.len;
	}
	rc = r->emit(r->arg, buf, len) < 0 ? RDNS_EIO : RDNS_OK;
cleanup:
	free(buf);
	return rc;
}

int zg_query_respond(zg_query_t *r, unsigned rcode, const zg_zonedb_snap_t *sn)
{
	if (sn != NULL) {
		zg_wire_zrr_t soa;
		zg_zonedb_soa_rr(&sn->soa, &soa);
		return respond_rrs(r, rcode, rcode == ZG_RCODE_NOERROR, &soa, 1, NULL, 0);
	}
	return respond_rrs(r, rcode, false, NULL, 0, NULL, 0);
}

bool zg_query_source_allowed(const zg_query_env_t *env, const struct sockaddr *from)
{
	return zg_acl_allows(env->acl, from) ||
	       (env->query_acl != NULL && zg_acl_allows(env->query_acl, from));
}

/* ---- rate-limited info lines about refusals ---- */

static zg_log_limit_t refusal_limit = ZG_LOG_LIMIT_INIT(LOG_PER_SEC);

bool zg_log_limit_allow(zg_log_limit_t *l, unsigned long *dropped)
{
	long long sec = mono_ms() / 1000;
	bool ok;
	pthread_mutex_lock(&l->mu);
	if (sec != l->window) {
		l->window = sec;
		l->in_window = 0;
	}
	ok = l->in_window < l->per_sec;
	if (ok) {
		l->in_window++;
		*dropped = l->dropped;
		l->dropped = 0;
	} else {
		l->dropped++;
	}
	pthread_mutex_unlock(&l->mu);
	return ok;
}

void zg_query_key_text(const zg_query_t *r, char *buf, size_t len)
{
	snprintf(buf, len, "none");
	if (r->has_tsig && zg_wire_name_to_text(r->tsig.key_name, r->tsig.key_name_len, buf, len) != RDNS_OK)
		snprintf(buf, len, "?");
}

void zg_query_addr_text(const struct sockaddr *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (sa != NULL && sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		port = ntohs(s4->sin_port);
		snprintf(buf, len, "%s:%u", a, port);
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		port = ntohs(s6->sin6_port);
		snprintf(buf, len, "[%s]:%u", a, port);
	} else {
		snprintf(buf, len, "?");
	}
}

/* "dnssrv: refused AXFR of <zone> from <client>, key <name|none>: <reason>" at info: the
 * client, the zone asked for, the key name it claimed (never a secret) and why. */
static void log_refusal(const zg_query_t *r, const struct sockaddr *from, const char *what,
                        const char *reason)
{
	unsigned long dropped = 0;
	if (!zg_log_limit_allow(&refusal_limit, &dropped))
		return;
	char client[INET6_ADDRSTRLEN + 10], zone[1024] = "?", key[1024] = "none";
	zg_query_addr_text(from, client, sizeof(client));
	if (r->has_q && zg_wire_name_to_text(r->qname, r->qname_len, zone, sizeof(zone)) != RDNS_OK)
		snprintf(zone, sizeof(zone), "?");
	if (r->has_tsig &&
	    zg_wire_name_to_text(r->tsig.key_name, r->tsig.key_name_len, key, sizeof(key)) != RDNS_OK)
		snprintf(key, sizeof(key), "?");
	if (dropped > 0)
		log_info("dnssrv: %lu more refusal lines were suppressed (at most %d a second)", dropped,
		         LOG_PER_SEC);
	log_info("dnssrv: %s %s from %s, key %s: %s", what, zone, client, key, reason);
}

static const char *qtype_text(uint16_t t)
{
	return t == ZG_TYPE_AXFR   ? "refused AXFR of"
	       : t == ZG_TYPE_IXFR ? "refused IXFR of"
	                           : "refused query for";
}

/* The replay check on a request whose TSIG verified (tsig_replay.h has the rule). false
 * with why[] set to the log line's reason when it is a replay. */
static bool replay_ok(const zg_query_env_t *env, const zg_query_t *r, char *why, size_t whylen)
{
	uint64_t newest = 0;
	if (env->replay == NULL || r->tsig.key == NULL)
		return true;
	size_t key = (size_t)(r->tsig.key - env->keys);
	zg_tsig_replay_verdict_t v = zg_tsig_replay_check(
	    env->replay, key, r->tsig.time_signed, r->tsig.fudge, r->tsig.mac, r->tsig.mac_len, &newest);
	if (v == ZG_TSIG_REPLAY_STALE)
		snprintf(why, whylen,
		         "TSIG BADTIME (replay: time signed %llu is %llu s before %llu, the newest accepted "
		         "for this key, beyond the fudge of %u s)",
		         (unsigned long long)r->tsig.time_signed,
		         (unsigned long long)(newest - r->tsig.time_signed), (unsigned long long)newest,
		         (unsigned)r->tsig.fudge);
	else if (v == ZG_TSIG_REPLAY_DUPLICATE)
		snprintf(
		    why, whylen,
		    "TSIG BADTIME (replay: the same signed request was accepted before; time signed %llu, "
		    "now %llu)",
		    (unsigned long long)r->tsig.time_signed, (unsigned long long)now_secs());
	/* A duplicate is refused only for a transfer, where a replay would hand the zone to
	 * whoever captured the request. Any other signed request (an SOA check, a query) sent
	 * again is a UDP retransmission after a lost answer as often as an attack, and a
	 * replay of it gets nothing the original did not: refusing it would only turn a lost
	 * packet into a failed refresh. The time rule (STALE) holds for every type. */
	if (v == ZG_TSIG_REPLAY_DUPLICATE && r->qtype != ZG_TYPE_AXFR && r->qtype != ZG_TYPE_IXFR)
		return true;
	return v == ZG_TSIG_REPLAY_FRESH;
}

/* Parse SERIAL out of an SOA RR's RDATA. */
static bool soa_serial(const uint8_t *msg, size_t len, const zg_wire_rr_t *rr, uint32_t *serial)
{
	uint8_t tmp[ZG_WIRE_NAME_MAX];
	size_t tl;
	size_t end = rr->rdata_off + rr->rdlen;
	size_t p = rr->rdata_off;
	if (zg_wire_name_parse(msg, len, &p, tmp, &tl) != RDNS_OK || p > end)
		return false;
	if (zg_wire_name_parse(msg, len, &p, tmp, &tl) != RDNS_OK || p > end)
		return false;
	if (end - p != 20)
		return false;
	*serial = zg_wire_get32(msg + p);
	return true;
}

/* Header, question and all RRs. RDNS_OK or RDNS_EINVAL (FORMERR). */
static int parse_query(const uint8_t *q, size_t len, const zg_wire_hdr_t *h, zg_query_t *r)
{
	size_t p = ZG_WIRE_HDR_LEN;
	if (h->count[ZG_SEC_QD] != 1)
		return RDNS_EINVAL;
	if (zg_wire_name_parse(q, len, &p, r->qname, &r->qname_len) != RDNS_OK || len - p < 4)
		return RDNS_EINVAL;
	r->qtype = zg_wire_get16(q + p);
	r->qclass = zg_wire_get16(q + p + 2);
	p += 4;
	r->has_q = true;

	unsigned total = (unsigned)h->count[1] + h->count[2] + h->count[3];
	for (unsigned i = 0; i < total; i++) {
		zg_wire_rr_t rr;
		size_t start = p;
		if (zg_wire_rr_parse(q, len, &p, &rr) != RDNS_OK)
			return RDNS_EINVAL;
		int sec = i < h->count[1]                           ? ZG_SEC_AN
		          : i < (unsigned)h->count[1] + h->count[2] ? ZG_SEC_NS
		                                                    : ZG_SEC_AR;
		if (rr.type == ZG_TYPE_TSIG) {
			/* RFC 8945 §5.1: exactly one, the last RR of the additional section. */
			if (sec != ZG_SEC_AR || i + 1 != total)
				return RDNS_EINVAL;
			r->has_tsig = true;
			r->tsig_off = start;
		} else if (rr.type == ZG_TYPE_OPT) {
			/* RFC 6891 §6.1.1: one OPT, owner root, additional section. */
			if (sec != ZG_SEC_AR || r->has_opt || rr.owner_len != 1)
				return RDNS_EINVAL;
			r->has_opt = true;
			r->opt_size = rr.rclass;
			r->opt_version = (uint8_t)(rr.ttl >> 16);
		} else if (sec == ZG_SEC_NS && rr.type == ZG_TYPE_SOA && r->qtype == ZG_TYPE_IXFR) {
			/* RFC 1995 §3: the client's SOA sits in the authority section. */
			if (!soa_serial(q, len, &rr, &r->ixfr_serial))
				return RDNS_EINVAL;
			r->has_ixfr_serial = true;
		}
	}
	if (p != len)
		return RDNS_EINVAL; /* trailing bytes */
	return RDNS_OK;
}

/* An ordinary query in the zone of sn: the records of the name and type, NODATA or
 * NXDOMAIN, always authoritative. */
static int answer_lookup(zg_query_t *r, zg_zonedb_snap_t *sn)
{
	size_t n = 0, k = 0;
	bool exists = false;
	zg_wire_zrr_t *rrs = malloc((ZG_ZONEDB_NAME_RRS + 1) * sizeof(*rrs));
	if (rrs == NULL)
		return RDNS_ENOMEM;
	/* RFC 1034 4.3.2 step 3b: at or below a delegation, a referral (not authoritative):
	 * the delegation's NS set in the authority section, no glue (the names are out of zone) */
	int rc = zg_zonedb_cut(sn, r->qname, r->qname_len, rrs, ZG_ZONEDB_NAME_RRS, &n);
	if (rc == RDNS_OK && n > 0) {
		rc = respond_rrs(r, ZG_RCODE_NOERROR, false, NULL, 0, rrs, n);
		goto cleanup;
	}
	if (rc == RDNS_OK)
		rc = zg_zonedb_lookup(sn, r->qname, r->qname_len, rrs, ZG_ZONEDB_NAME_RRS, &n, &exists);
	if (rc != RDNS_OK) {
		log_err("dnssrv: lookup in a published zone failed: %s", rdns_strerror(rc));
		rc = zg_query_respond(r, ZG_RCODE_SERVFAIL, NULL);
		goto cleanup;
	}
	/* RFC 1034 §4.3.2: the records of the type; a CNAME instead (not followed: ours
	 * point out of the zone or to a name a resolver asks anew); ANY: all (RFC 8482
	 * allows less, but these sets are small). */
	for (size_t i = 0; i < n; i++) {
		bool take = rrs[i].type == r->qtype || r->qtype == ZG_TYPE_ANY ||
		            (rrs[i].type == ZG_TYPE_CNAME && r->qtype != ZG_TYPE_CNAME);
		if (take)
			rrs[k++] = rrs[i];
	}
	if (k > 0) {
		rc = respond_rrs(r, ZG_RCODE_NOERROR, true, rrs, k, NULL, 0);
		goto cleanup;
	}
	/* RFC 2308 §3: NXDOMAIN and NODATA carry the SOA, with TTL min(SOA TTL, MINIMUM) */
	zg_wire_zrr_t *soa = &rrs[ZG_ZONEDB_NAME_RRS];
	zg_zonedb_soa_rr(&sn->soa, soa);
	if (soa->soa[4] < soa->ttl)
		soa->ttl = soa->soa[4];
	rc = respond_rrs(r, exists ? ZG_RCODE_NOERROR : ZG_RCODE_NXDOMAIN, true, NULL, 0, soa, 1);
cleanup:
	free(rrs);
	return rc;
}

int zg_query_handle(const zg_query_env_t *env, const uint8_t *q, size_t qlen, const struct sockaddr *from,
                    int transport, zg_query_emit_fn emit, void *arg)
{
	zg_wire_hdr_t h;
	zg_query_t *r;
	zg_zonedb_snap_t *sn = NULL;
	int rc;

	if (zg_wire_hdr_parse(q, qlen, &h) != RDNS_OK)
		return RDNS_EDNS; /* nothing to echo */
	if (h.flags & ZG_WIRE_QR)
		return RDNS_EDNS; /* never answer a response */
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return RDNS_ENOMEM;
	r->id = h.id;
	r->flags = h.flags;
	r->opcode = ZG_WIRE_OPCODE(h.flags);
	r->transport = transport;
	r->from = from;
	r->emit = emit;
	r->arg = arg;

	if (r->opcode != ZG_OPCODE_QUERY) {
		/* NOTIFY and others: we are a primary and take no orders (RFC 1996 §3.7 says
		 * NOTIMP tells the sender to stop). Echo the question when it parses. */
		size_t p = ZG_WIRE_HDR_LEN;
		if (h.count[ZG_SEC_QD] == 1 &&
		    zg_wire_name_parse(q, qlen, &p, r->qname, &r->qname_len) == RDNS_OK && qlen - p >= 4) {
			r->qtype = zg_wire_get16(q + p);
			r->qclass = zg_wire_get16(q + p + 2);
			r->has_q = true;
		}
		rc = zg_query_respond(r, ZG_RCODE_NOTIMP, NULL);
		goto cleanup;
	}
	if (parse_query(q, qlen, &h, r) != RDNS_OK) {
		r->has_tsig = false;
		r->has_opt = false;
		rc = zg_query_respond(r, ZG_RCODE_FORMERR, NULL);
		goto cleanup;
	}
	if (r->has_tsig) {
		rc = zg_tsig_verify_request(&r->tsig, q, qlen, r->tsig_off, env->keys, env->n_keys,
		                            now_secs());
		if (rc == RDNS_EINVAL) {
			r->has_tsig = false;
			rc = zg_query_respond(r, ZG_RCODE_FORMERR, NULL);
			goto cleanup;
		}
		if (rc != RDNS_OK)
			goto cleanup;
		char replay[160] = "";
		if (r->tsig.error == ZG_TSIG_NOERROR && !replay_ok(env, r, replay, sizeof(replay)))
			r->tsig.error = ZG_TSIG_BADTIME; /* RFC 8945 §5.2.3: signed, our time in Other Data */
		if (r->tsig.error != ZG_TSIG_NOERROR) {
			static const char *const why[] = {
			    [ZG_TSIG_BADSIG] = "TSIG BADSIG (wrong secret or a changed message)",
			    [ZG_TSIG_BADKEY] = "TSIG BADKEY (unknown key or algorithm)",
			    [ZG_TSIG_BADTIME] = "TSIG BADTIME (clocks apart beyond the fudge)",
			    [ZG_TSIG_BADTRUNC] = "TSIG BADTRUNC (truncated MAC)"};
			const char *reason =
			    replay[0] ? replay
			    : r->tsig.error < sizeof(why) / sizeof(why[0]) && why[r->tsig.error]
			        ? why[r->tsig.error]
			        : "TSIG check failed";
			static const char *const label[] = {[ZG_TSIG_BADSIG] = "badsig",
			                                    [ZG_TSIG_BADKEY] = "badkey",
			                                    [ZG_TSIG_BADTIME] = "badtime",
			                                    [ZG_TSIG_BADTRUNC] = "badtrunc"};
			zg_metrics_tsig_failure(replay[0] ? "replay"
			                        : r->tsig.error < sizeof(label) / sizeof(label[0]) &&
			                                label[r->tsig.error]
			                            ? label[r->tsig.error]
			                            : "other");
			zg_metrics_refused(r->qtype == ZG_TYPE_AXFR || r->qtype == ZG_TYPE_IXFR ? "transfer"
			                                                                        : "query",
			                   "tsig");
			log_refusal(r, from, qtype_text(r->qtype), reason);
			rc = zg_query_respond(r, ZG_RCODE_NOTAUTH, NULL);
			goto cleanup;
		}
	}
	if (r->has_opt && r->opt_version != 0) {
		rc = zg_query_respond(r, ZG_RCODE_BADVERS, NULL);
		goto cleanup;
	}
	if (r->qtype == ZG_TYPE_OPT || r->qtype == ZG_TYPE_TSIG) {
		/* meta types that live only in the additional section (RFC 6891 §6.1.1, RFC 8945 §4.2) */
		rc = zg_query_respond(r, ZG_RCODE_FORMERR, NULL);
		goto cleanup;
	}
	bool xfr = r->qtype == ZG_TYPE_AXFR || r->qtype == ZG_TYPE_IXFR;
	if (r->qclass != ZG_CLASS_IN) {
		zg_metrics_refused(xfr ? "transfer" : "query", "class");
		rc = zg_query_respond(r, ZG_RCODE_REFUSED, NULL);
		goto cleanup;
	}
	if (xfr ? !zg_acl_allows(env->acl, from) : !zg_query_source_allowed(env, from)) {
		zg_metrics_refused(xfr ? "transfer" : "query", "acl");
		if (xfr)
			log_refusal(r, from, qtype_text(r->qtype), "source not in transfer_allow");
		rc = zg_query_respond(r, ZG_RCODE_REFUSED, NULL);
		goto cleanup;
	}
	/* The zone: the apex itself for a transfer, else the closest enclosing apex. */
	size_t apex_at = 0;
	for (;;) {
		sn = zg_zonedb_get(env->zones, r->qname + apex_at, r->qname_len - apex_at);
		if (sn != NULL || xfr || r->qname[apex_at] == 0)
			break;
		apex_at += 1 + (size_t)r->qname[apex_at];
	}
	/* Past the leader's lease a zone is not ours to serve: another instance may lead. */
	if (sn != NULL && env->serve_until != NULL && mono_ms() >= atomic_load(env->serve_until)) {
		zg_zonedb_put(env->zones, sn);
		sn = NULL;
	}
	if (sn == NULL) {
		zg_metrics_refused(xfr ? "transfer" : "query", "not_served");
		if (xfr)
			log_refusal(r, from, qtype_text(r->qtype), "not a zone served here");
		rc = zg_query_respond(r, ZG_RCODE_REFUSED, NULL);
		goto cleanup;
	}
	if (!xfr) {
		rc = answer_lookup(r, sn);
		goto cleanup;
	}
	/* AXFR / IXFR */
	if (env->has_xfr_key && (!r->has_tsig || r->tsig.key_name_len != env->xfr_key_len ||
	                         memcmp(r->tsig.key_name, env->xfr_key, env->xfr_key_len) != 0)) {
		zg_metrics_refused("transfer", "transfer_key");
		log_refusal(r, from, qtype_text(r->qtype),
		            r->has_tsig ? "signed with another key than transfer_tsig_key"
		                        : "unsigned, and transfer_tsig_key is set");
		rc = zg_query_respond(r, ZG_RCODE_REFUSED, NULL);
		goto cleanup;
	}
	rc = r->qtype == ZG_TYPE_AXFR ? zg_xfr_axfr(r, sn) : zg_xfr_ixfr(r, sn);
cleanup:
	zg_zonedb_put(env->zones, sn);
	free(r);
	return rc;
}
