/* query.c - the hidden primary's packet handler: parse and check a query, answer SOA and the
 * errors, hand transfers to xfr.c. No socket I/O. */
#include "zonegen/query.h"

#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/log.h"
#include "zonegen/xfr.h"

#define SINGLE_BUF    4096 /* any single answer fits: question + SOA + OPT + TSIG */
#define EDNS_UDP_SIZE 1232

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
	return r->emit(r->arg, m->buf, len) < 0 ? RDNS_EIO : RDNS_OK;
}

static int put_soa(zg_wire_msg_t *m, const zg_zonedb_snap_t *sn)
{
	return zg_wire_msg_put_zrr(m, ZG_SEC_AN, &sn->soa);
}

int zg_query_respond(zg_query_t *r, unsigned rcode, const zg_zonedb_snap_t *sn)
{
	uint8_t buf[SINGLE_BUF];
	zg_wire_ct_t ct[64];
	zg_wire_msg_t m;
	size_t limit = sizeof(buf);
	bool sign = r->has_tsig;

	if (r->transport == ZG_QUERY_UDP) {
		limit = 512;
		if (r->has_opt && r->opt_size > 512)
			limit = r->opt_size < sizeof(buf) ? r->opt_size : sizeof(buf);
	}
	zg_wire_msg_init(&m, buf, sizeof(buf), ct, 64);
	zg_wire_msg_reset(&m, r->id, zg_query_resp_flags(r, sn != NULL && rcode == ZG_RCODE_NOERROR));
	zg_wire_msg_set_rcode(&m, rcode & 0xf);
	int rc = RDNS_OK;
	if (r->has_q)
		rc = zg_wire_msg_put_question(&m, r->qname, r->qname_len, r->qtype, r->qclass);
	if (rc == RDNS_OK && sn != NULL)
		rc = put_soa(&m, sn);
	if (rc == RDNS_OK)
		rc = zg_query_put_opt(&m, r, rcode >> 4);
	if (rc != RDNS_OK)
		return rc; /* cannot happen: SINGLE_BUF holds the largest answer */
	zg_wire_msg_finish(&m);
	size_t len = m.len;
	if (sign) {
		zg_tsig_ctx_t save = r->tsig;
		rc = zg_tsig_sign_response(&r->tsig, buf, &len, sizeof(buf), now_secs());
		if (rc != RDNS_OK)
			return rc;
		if (len > limit) {
			r->tsig = save;
			len = m.len;
		}
	}
	if (len > limit) {
		/* RFC 1035 §4.2.1: set TC and keep what fits (header and question). */
		zg_wire_msg_reset(&m, r->id, (uint16_t)(zg_query_resp_flags(r, false) | ZG_WIRE_TC));
		zg_wire_msg_set_rcode(&m, rcode & 0xf);
		if (r->has_q)
			zg_wire_msg_put_question(&m, r->qname, r->qname_len, r->qtype, r->qclass);
		zg_wire_msg_finish(&m);
		len = m.len;
		if (sign && zg_tsig_sign_response(&r->tsig, buf, &len, limit, now_secs()) != RDNS_OK)
			len = m.len;
	}
	return r->emit(r->arg, buf, len) < 0 ? RDNS_EIO : RDNS_OK;
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
		if (r->tsig.error != ZG_TSIG_NOERROR) {
			log_info("dnssrv: TSIG check failed with error %u", r->tsig.error);
			rc = zg_query_respond(r, ZG_RCODE_NOTAUTH, NULL);
			goto cleanup;
		}
	}
	if (r->has_opt && r->opt_version != 0) {
		rc = zg_query_respond(r, ZG_RCODE_BADVERS, NULL);
		goto cleanup;
	}
	if (r->qclass != ZG_CLASS_IN || !zg_acl_allows(env->acl, from)) {
		rc = zg_query_respond(r, ZG_RCODE_REFUSED, NULL);
		goto cleanup;
	}
	if (r->qtype != ZG_TYPE_SOA && r->qtype != ZG_TYPE_AXFR && r->qtype != ZG_TYPE_IXFR) {
		rc = zg_query_respond(r, ZG_RCODE_REFUSED, NULL);
		goto cleanup;
	}
	sn = zg_zonedb_get(env->zones, r->qname, r->qname_len);
	/* Past the leader's lease a zone is not ours to serve: another instance may lead. */
	if (sn != NULL && env->serve_until != NULL && mono_ms() >= atomic_load(env->serve_until)) {
		zg_zonedb_put(env->zones, sn);
		sn = NULL;
	}
	if (sn == NULL) {
		rc = zg_query_respond(r, ZG_RCODE_REFUSED, NULL);
		goto cleanup;
	}
	if (r->qtype == ZG_TYPE_SOA) {
		rc = zg_query_respond(r, ZG_RCODE_NOERROR, sn);
		goto cleanup;
	}
	/* AXFR / IXFR */
	if (env->has_xfr_key && (!r->has_tsig || r->tsig.key_name_len != env->xfr_key_len ||
	                         memcmp(r->tsig.key_name, env->xfr_key, env->xfr_key_len) != 0)) {
		rc = zg_query_respond(r, ZG_RCODE_REFUSED, NULL);
		goto cleanup;
	}
	rc = r->qtype == ZG_TYPE_AXFR ? zg_xfr_axfr(r, sn) : zg_xfr_ixfr(r, sn);
cleanup:
	zg_zonedb_put(env->zones, sn);
	free(r);
	return rc;
}
