/* test_tsig.c - unit tests for zonegen/tsig: RFC 8945 digests rebuilt independently, errors, ldns interop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <ldns/ldns.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/err.h"
#include "zonegen/tsig.h"
#include "zonegen/wire.h"

#define NOW 1790000000u

static const zg_tsig_key_t KEY = {
    .name = "xfr-key.", .secret = "0123456789abcdef0123456789abcdef", .secret_len = 32};
static const zg_tsig_key_t OTHER = {.name = "other.", .secret = "another secret", .secret_len = 14};

/* A query "2.0.192.in-addr.arpa. AXFR IN" with id; returns its length. */
static size_t make_query(uint8_t *buf, size_t cap, uint16_t id)
{
	uint8_t name[ZG_WIRE_NAME_MAX];
	size_t nl;
	zg_wire_msg_t m;
	assert_int_equal(zg_wire_name_from_text("2.0.192.in-addr.arpa.", 21, true, name, &nl), RDNS_OK);
	zg_wire_msg_init(&m, buf, cap, NULL, 0);
	zg_wire_msg_reset(&m, id, 0);
	assert_int_equal(zg_wire_msg_put_question(&m, name, nl, ZG_TYPE_AXFR, ZG_CLASS_IN), RDNS_OK);
	zg_wire_msg_finish(&m);
	return m.len;
}

/* A response to make_query with n PTR records. */
static size_t make_response(uint8_t *buf, size_t cap, uint16_t id, int n, int seed)
{
	zg_wire_msg_t m;
	zg_wire_ct_t ct[64];
	zg_wire_msg_init(&m, buf, cap, ct, 64);
	zg_wire_msg_reset(&m, id, ZG_WIRE_QR | ZG_WIRE_AA);
	for (int i = 0; i < n; i++) {
		char line[128];
		zg_wire_zrr_t rr;
		snprintf(line, sizeof(line), "%d.2.0.192.in-addr.arpa. 3600 IN PTR h%d.example.com.", i,
		         seed * 100 + i);
		assert_int_equal(zg_wire_zrr_parse(line, strlen(line), &rr), RDNS_OK);
		assert_int_equal(zg_wire_msg_put_zrr(&m, ZG_SEC_AN, &rr), RDNS_OK);
	}
	zg_wire_msg_finish(&m);
	return m.len;
}

static void put48(uint8_t *p, uint64_t v)
{
	for (int i = 5; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static size_t text_wire(const char *t, uint8_t *out)
{
	size_t n;
	assert_int_equal(zg_wire_name_from_text(t, strlen(t), false, out, &n), RDNS_OK);
	return n;
}

/* Independent RFC 8945 §4.3 digest: [prior MAC] + message + variables, with
 * OpenSSL's one-shot HMAC. timers_only selects §4.3.1's subsequent form. */
static void ref_mac(const uint8_t *secret, size_t slen, const uint8_t *prior, size_t prior_len,
                    const uint8_t *msg, size_t len, const char *keyname, const char *alg, uint64_t ts,
                    uint16_t fudge, uint16_t error, const uint8_t *other, size_t olen, bool timers_only,
                    uint8_t out[32])
{
	static uint8_t d[70000];
	size_t p = 0;
	if (prior != NULL) {
		zg_wire_put16(d + p, (uint16_t)prior_len);
		memcpy(d + p + 2, prior, prior_len);
		p += 2 + prior_len;
	}
	memcpy(d + p, msg, len);
	/* The digested header counts the RRs without the TSIG, whatever msg
	 * says now (it may already carry the TSIG after len). */
	uint16_t ar = zg_wire_get16(msg + 10);
	size_t pos = ZG_WIRE_HDR_LEN, total = 0;
	for (int sec = 1; sec < 4; sec++)
		total += zg_wire_get16(msg + 4 + 2 * sec);
	uint8_t nm[ZG_WIRE_NAME_MAX];
	size_t nml;
	for (unsigned i = 0; i < zg_wire_get16(msg + 4); i++) {
		assert_int_equal(zg_wire_name_parse(msg, len, &pos, nm, &nml), RDNS_OK);
		pos += 4;
	}
	size_t seen = 0;
	while (pos < len) {
		zg_wire_rr_t rr;
		assert_int_equal(zg_wire_rr_parse(msg, len, &pos, &rr), RDNS_OK);
		seen++;
	}
	if (seen < total)
		zg_wire_put16(d + p + 10, (uint16_t)(ar - (total - seen)));
	p += len;
	if (!timers_only) {
		uint8_t kn[ZG_WIRE_NAME_MAX];
		size_t kl = text_wire(keyname, kn);
		zg_wire_name_lower(kn, kl);
		memcpy(d + p, kn, kl);
		p += kl;
		zg_wire_put16(d + p, 255);
		zg_wire_put32(d + p + 2, 0);
		p += 6;
		uint8_t an[ZG_WIRE_NAME_MAX];
		size_t al = text_wire(alg, an);
		memcpy(d + p, an, al);
		p += al;
	}
	put48(d + p, ts);
	zg_wire_put16(d + p + 6, fudge);
	p += 8;
	if (!timers_only) {
		zg_wire_put16(d + p, error);
		zg_wire_put16(d + p + 2, (uint16_t)olen);
		p += 4;
		if (olen)
			memcpy(d + p, other, olen);
		p += olen;
	}
	unsigned ol = 0;
	assert_non_null(HMAC(EVP_sha256(), secret, (int)slen, d, p, out, &ol));
	assert_int_equal(ol, 32);
}

typedef struct {
	const char *keyname;
	const char *alg;
	uint64_t ts;
	uint16_t fudge;
	int mac_len;      /* bytes of the MAC to send (32 full) */
	bool corrupt_mac; /* flip a bit of the MAC */
	uint16_t rr_class;
	uint32_t rr_ttl;
} signspec_t;

/* Append a TSIG RR to msg[0..len) per spec, computing the MAC independently. */
static size_t sign_ref(uint8_t *msg, size_t len, const uint8_t *secret, size_t slen, const signspec_t *sp)
{
	uint8_t mac[32];
	ref_mac(secret, slen, NULL, 0, msg, len, sp->keyname, sp->alg, sp->ts, sp->fudge, 0, NULL, 0, false,
	        mac);
	if (sp->corrupt_mac)
		mac[0] ^= 1;
	size_t p = len;
	p += text_wire(sp->keyname, msg + p);
	zg_wire_put16(msg + p, ZG_TYPE_TSIG);
	zg_wire_put16(msg + p + 2, sp->rr_class ? sp->rr_class : 255);
	zg_wire_put32(msg + p + 4, sp->rr_ttl);
	size_t rdl_at = p + 8;
	p += 10;
	size_t rd = p;
	p += text_wire(sp->alg, msg + p);
	put48(msg + p, sp->ts);
	zg_wire_put16(msg + p + 6, sp->fudge);
	zg_wire_put16(msg + p + 8, (uint16_t)sp->mac_len);
	p += 10;
	for (int i = 0; i < sp->mac_len; i++)
		msg[p++] = i < 32 ? mac[i] : 0;
	zg_wire_put16(msg + p, zg_wire_get16(msg));
	zg_wire_put16(msg + p + 2, 0);
	zg_wire_put16(msg + p + 4, 0);
	p += 6;
	zg_wire_put16(msg + rdl_at, (uint16_t)(p - rd));
	zg_wire_put16(msg + 10, (uint16_t)(zg_wire_get16(msg + 10) + 1));
	return p;
}

/* ---- requests ---- */

static void test_request_roundtrip(void **state)
{
	uint8_t msg[512];
	zg_tsig_ctx_t c, s;
	size_t len = make_query(msg, sizeof(msg), 0x1234);
	assert_int_equal(zg_tsig_sign_request(&c, &KEY, msg, &len, sizeof(msg), NOW), RDNS_OK);
	assert_int_equal(zg_wire_get16(msg + 10), 1);

	size_t off;
	assert_int_equal(zg_tsig_find(msg, len, &off), RDNS_OK);
	zg_tsig_key_t keys[2] = {OTHER, KEY};
	assert_int_equal(zg_tsig_verify_request(&s, msg, len, off, keys, 2, NOW), RDNS_OK);
	assert_int_equal(s.error, ZG_TSIG_NOERROR);
	assert_ptr_equal(s.key, &keys[1]);
	assert_true(s.mac_valid);
	assert_int_equal(s.mac_len, 32);
	assert_memory_equal(s.mac, c.mac, 32);

	/* The MAC equals the independently computed one. */
	uint8_t ref[32];
	uint8_t unsigned_hdr[512];
	memcpy(unsigned_hdr, msg, off);
	zg_wire_put16(unsigned_hdr + 10, 0);
	ref_mac(KEY.secret, KEY.secret_len, NULL, 0, unsigned_hdr, off, "xfr-key.", "hmac-sha256.", NOW, 300,
	        0, NULL, 0, false, ref);
	assert_memory_equal(ref, c.mac, 32);

	/* Key names match case-insensitively; a forwarder's new ID does not
	 * break the MAC (Original ID is digested). */
	zg_tsig_key_t upper = KEY;
	strcpy(upper.name, "XFR-Key");
	zg_wire_put16(msg, 0x9999);
	assert_int_equal(zg_tsig_verify_request(&s, msg, len, off, &upper, 1, NOW), RDNS_OK);
	assert_int_equal(s.error, ZG_TSIG_NOERROR);
}

typedef struct {
	const char *what;
	signspec_t spec;
	const zg_tsig_key_t *server_key;
	uint64_t now;
	int rc;
	uint16_t error;
} req_case_t;

static void test_request_errors_table(void **state)
{
	zg_tsig_key_t wrong_secret = KEY;
	wrong_secret.secret[0] ^= 1;
	const signspec_t good = {"xfr-key.", "hmac-sha256.", NOW, 300, 32, false, 0, 0};
#define SPEC(...) ((signspec_t){__VA_ARGS__})
	const req_case_t cases[] = {
	    {"good", good, &KEY, NOW, RDNS_OK, ZG_TSIG_NOERROR},
	    {"edge of fudge, late", good, &KEY, NOW + 300, RDNS_OK, ZG_TSIG_NOERROR},
	    {"edge of fudge, early", good, &KEY, NOW - 300, RDNS_OK, ZG_TSIG_NOERROR},
	    {"too late", good, &KEY, NOW + 301, RDNS_OK, ZG_TSIG_BADTIME},
	    {"too early", good, &KEY, NOW - 301, RDNS_OK, ZG_TSIG_BADTIME},
	    {"small fudge", SPEC("xfr-key.", "hmac-sha256.", NOW, 5, 32, false, 0, 0), &KEY, NOW + 6, RDNS_OK,
	     ZG_TSIG_BADTIME},
	    {"bad MAC", SPEC("xfr-key.", "hmac-sha256.", NOW, 300, 32, true, 0, 0), &KEY, NOW, RDNS_OK,
	     ZG_TSIG_BADSIG},
	    {"wrong secret", good, &wrong_secret, NOW, RDNS_OK, ZG_TSIG_BADSIG},
	    {"bad MAC and bad time: MAC first", SPEC("xfr-key.", "hmac-sha256.", NOW, 300, 32, true, 0, 0),
	     &KEY, NOW + 1000, RDNS_OK, ZG_TSIG_BADSIG},
	    {"unknown key", SPEC("nobody.", "hmac-sha256.", NOW, 300, 32, false, 0, 0), &KEY, NOW, RDNS_OK,
	     ZG_TSIG_BADKEY},
	    {"other algorithm", SPEC("xfr-key.", "hmac-md5.sig-alg.reg.int.", NOW, 300, 16, false, 0, 0),
	     &KEY, NOW, RDNS_OK, ZG_TSIG_BADKEY},
	    {"truncated, valid", SPEC("xfr-key.", "hmac-sha256.", NOW, 300, 20, false, 0, 0), &KEY, NOW,
	     RDNS_OK, ZG_TSIG_BADTRUNC},
	    {"truncated, wrong", SPEC("xfr-key.", "hmac-sha256.", NOW, 300, 20, true, 0, 0), &KEY, NOW,
	     RDNS_OK, ZG_TSIG_BADSIG},
	    {"MAC below 16", SPEC("xfr-key.", "hmac-sha256.", NOW, 300, 8, false, 0, 0), &KEY, NOW,
	     RDNS_EINVAL, 0},
	    {"MAC over 32", SPEC("xfr-key.", "hmac-sha256.", NOW, 300, 40, false, 0, 0), &KEY, NOW,
	     RDNS_EINVAL, 0},
	    {"class IN", SPEC("xfr-key.", "hmac-sha256.", NOW, 300, 32, false, 1, 0), &KEY, NOW, RDNS_EINVAL,
	     0},
	    {"TTL not 0", SPEC("xfr-key.", "hmac-sha256.", NOW, 300, 32, false, 0, 5), &KEY, NOW, RDNS_EINVAL,
	     0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t msg[512];
		zg_tsig_ctx_t s;
		size_t len = make_query(msg, sizeof(msg), 0x4321);
		size_t off = len;
		len = sign_ref(msg, len, KEY.secret, KEY.secret_len, &cases[i].spec);
		int rc = zg_tsig_verify_request(&s, msg, len, off, cases[i].server_key, 1, cases[i].now);
		if (rc != cases[i].rc)
			fail_msg("case %s: rc %d, want %d", cases[i].what, rc, cases[i].rc);
		if (rc == RDNS_OK && s.error != cases[i].error)
			fail_msg("case %s: error %u, want %u", cases[i].what, s.error, cases[i].error);
	}
	/* Trailing byte after the TSIG: malformed. */
	uint8_t msg[512];
	zg_tsig_ctx_t s;
	size_t len = make_query(msg, sizeof(msg), 1);
	size_t off = len;
	len = sign_ref(msg, len, KEY.secret, KEY.secret_len, &good);
	msg[len] = 0;
	assert_int_equal(zg_tsig_verify_request(&s, msg, len + 1, off, &KEY, 1, NOW), RDNS_EINVAL);
	/* A byte of the signed part changed: BADSIG. */
	msg[12 + 3] ^= 0x20;
	assert_int_equal(zg_tsig_verify_request(&s, msg, len, off, &KEY, 1, NOW), RDNS_OK);
	assert_int_equal(s.error, ZG_TSIG_BADSIG);
}

static void test_find(void **state)
{
	uint8_t msg[512];
	size_t off;
	size_t len = make_query(msg, sizeof(msg), 7);
	assert_int_equal(zg_tsig_find(msg, len, &off), RDNS_ENOTFOUND);
	zg_tsig_ctx_t c;
	assert_int_equal(zg_tsig_sign_request(&c, &KEY, msg, &len, sizeof(msg), NOW), RDNS_OK);
	assert_int_equal(zg_tsig_find(msg, len, &off), RDNS_OK);
	/* Move the TSIG into the answer section: not allowed. */
	zg_wire_put16(msg + 6, 1);
	zg_wire_put16(msg + 10, 0);
	assert_int_equal(zg_tsig_find(msg, len, &off), RDNS_EINVAL);
	zg_wire_put16(msg + 6, 0);
	zg_wire_put16(msg + 10, 1);
	/* An RR after it: not last. */
	uint8_t opt[] = {0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0};
	memcpy(msg + len, opt, sizeof(opt));
	zg_wire_put16(msg + 10, 2);
	assert_int_equal(zg_tsig_find(msg, len + sizeof(opt), &off), RDNS_EINVAL);
	/* Truncated message. */
	zg_wire_put16(msg + 10, 1);
	assert_int_equal(zg_tsig_find(msg, len - 1, &off), RDNS_EINVAL);
}

/* ---- responses ---- */

static void test_response_chain(void **state)
{
	uint8_t q[512];
	zg_tsig_ctx_t c, s;
	size_t qlen = make_query(q, sizeof(q), 0x5555);
	size_t qoff = qlen;
	assert_int_equal(zg_tsig_sign_request(&c, &KEY, q, &qlen, sizeof(q), NOW), RDNS_OK);
	assert_int_equal(zg_tsig_verify_request(&s, q, qlen, qoff, &KEY, 1, NOW), RDNS_OK);
	assert_int_equal(s.error, ZG_TSIG_NOERROR);
	uint8_t reqmac[32];
	memcpy(reqmac, s.mac, 32);

	static uint8_t r[3][4096];
	size_t rl[3], body[3];
	for (int i = 0; i < 3; i++) {
		body[i] = rl[i] = make_response(r[i], sizeof(r[i]), 0x5555, 20 + i, i);
		assert_int_equal(zg_tsig_sign_response(&s, r[i], &rl[i], sizeof(r[i]), NOW + (uint64_t)i),
		                 RDNS_OK);
	}
	assert_int_equal(s.nmsg, 3);

	/* Independent digests: first with the request MAC and all variables,
	 * then the prior MAC and timers only (RFC 8945 §5.3.1). */
	uint8_t prior[32];
	memcpy(prior, reqmac, 32);
	for (int i = 0; i < 3; i++) {
		uint8_t ref[32];
		ref_mac(KEY.secret, KEY.secret_len, prior, 32, r[i], body[i], "xfr-key.", "hmac-sha256.",
		        NOW + (uint64_t)i, 300, 0, NULL, 0, i > 0, ref);
		zg_tsig_rr_t t;
		assert_int_equal(zg_tsig_rr_parse(r[i], rl[i], body[i], &t), RDNS_OK);
		assert_int_equal(t.mac_len, 32);
		assert_memory_equal(t.mac, ref, 32);
		assert_int_equal(t.time_signed, NOW + i);
		assert_int_equal(t.orig_id, 0x5555);
		memcpy(prior, ref, 32);
	}

	/* The client side accepts the chain... */
	zg_tsig_ctx_t c2 = c;
	for (int i = 0; i < 3; i++)
		assert_int_equal(zg_tsig_verify_response(&c2, r[i], rl[i], NOW + 1), RDNS_OK);
	/* ...but not a message out of order, a changed one, or a stale one. */
	c2 = c;
	assert_int_equal(zg_tsig_verify_response(&c2, r[1], rl[1], NOW), RDNS_EDENIED);
	c2 = c;
	assert_int_equal(zg_tsig_verify_response(&c2, r[0], rl[0], NOW), RDNS_OK);
	r[1][20] ^= 1;
	assert_int_equal(zg_tsig_verify_response(&c2, r[1], rl[1], NOW), RDNS_EDENIED);
	r[1][20] ^= 1;
	assert_int_equal(zg_tsig_verify_response(&c2, r[1], rl[1], NOW + 301 + 1), RDNS_EDENIED);
	static uint8_t plain[4096]; /* the same message without its TSIG */
	memcpy(plain, r[1], body[1]);
	zg_wire_put16(plain + 10, 0);
	assert_int_equal(zg_tsig_verify_response(&c2, plain, body[1], NOW), RDNS_EDENIED);
	/* and one whose ARCOUNT promises a TSIG that is not there is malformed */
	assert_int_equal(zg_tsig_verify_response(&c2, r[1], body[1], NOW), RDNS_EINVAL);
	assert_int_equal(zg_tsig_verify_response(&c2, r[1], rl[1], NOW), RDNS_OK);
}

static void test_error_responses(void **state)
{
	uint8_t q[512];
	zg_tsig_ctx_t s;
	zg_tsig_rr_t t;
	const signspec_t good = {"xfr-key.", "hmac-sha256.", NOW, 300, 32, false, 0, 0};
	const signspec_t bad = {"xfr-key.", "hmac-sha256.", NOW, 300, 32, true, 0, 0};

	/* BADSIG: unsigned TSIG, error 16, MAC size 0. */
	size_t qlen = make_query(q, sizeof(q), 9);
	size_t off = qlen;
	qlen = sign_ref(q, qlen, KEY.secret, KEY.secret_len, &bad);
	assert_int_equal(zg_tsig_verify_request(&s, q, qlen, off, &KEY, 1, NOW), RDNS_OK);
	assert_int_equal(s.error, ZG_TSIG_BADSIG);
	uint8_t r[1024];
	size_t rl = make_response(r, sizeof(r), 9, 0, 0);
	size_t body = rl;
	assert_int_equal(zg_tsig_sign_response(&s, r, &rl, sizeof(r), NOW), RDNS_OK);
	assert_int_equal(zg_tsig_rr_parse(r, rl, body, &t), RDNS_OK);
	assert_int_equal(t.error, ZG_TSIG_BADSIG);
	assert_int_equal(t.mac_len, 0);
	assert_int_equal(zg_wire_get16(r + 10), 1);

	/* BADKEY likewise, echoing the unknown key name. */
	signspec_t nobody = good;
	nobody.keyname = "nobody.";
	qlen = make_query(q, sizeof(q), 9);
	off = qlen;
	qlen = sign_ref(q, qlen, KEY.secret, KEY.secret_len, &nobody);
	assert_int_equal(zg_tsig_verify_request(&s, q, qlen, off, &KEY, 1, NOW), RDNS_OK);
	assert_int_equal(s.error, ZG_TSIG_BADKEY);
	rl = make_response(r, sizeof(r), 9, 0, 0);
	assert_int_equal(zg_tsig_sign_response(&s, r, &rl, sizeof(r), NOW), RDNS_OK);
	assert_int_equal(zg_tsig_rr_parse(r, rl, body, &t), RDNS_OK);
	assert_int_equal(t.error, ZG_TSIG_BADKEY);
	assert_int_equal(t.mac_len, 0);
	uint8_t nb[ZG_WIRE_NAME_MAX];
	size_t nbl = text_wire("nobody.", nb);
	assert_int_equal(t.name_len, nbl);
	assert_memory_equal(t.name, nb, nbl);

	/* BADTIME: signed (request MAC included), our time in Other Data, the
	 * request's Time Signed echoed. */
	qlen = make_query(q, sizeof(q), 9);
	off = qlen;
	qlen = sign_ref(q, qlen, KEY.secret, KEY.secret_len, &good);
	assert_int_equal(zg_tsig_verify_request(&s, q, qlen, off, &KEY, 1, NOW + 1000), RDNS_OK);
	assert_int_equal(s.error, ZG_TSIG_BADTIME);
	uint8_t reqmac[32];
	memcpy(reqmac, s.mac, 32);
	rl = make_response(r, sizeof(r), 9, 0, 0);
	assert_int_equal(zg_tsig_sign_response(&s, r, &rl, sizeof(r), NOW + 1000), RDNS_OK);
	assert_int_equal(zg_tsig_rr_parse(r, rl, body, &t), RDNS_OK);
	assert_int_equal(t.error, ZG_TSIG_BADTIME);
	assert_int_equal(t.mac_len, 32);
	assert_int_equal(t.time_signed, NOW);
	assert_int_equal(t.other_len, 6);
	uint8_t other[6];
	put48(other, NOW + 1000);
	assert_memory_equal(r + t.other_off, other, 6);
	uint8_t ref[32];
	ref_mac(KEY.secret, KEY.secret_len, reqmac, 32, r, body, "xfr-key.", "hmac-sha256.", NOW, 300,
	        ZG_TSIG_BADTIME, other, 6, false, ref);
	assert_memory_equal(t.mac, ref, 32);

	/* No room: RDNS_ESPACE, message untouched. */
	rl = make_response(r, sizeof(r), 9, 0, 0);
	zg_tsig_ctx_t s2;
	qlen = make_query(q, sizeof(q), 9);
	off = qlen;
	qlen = sign_ref(q, qlen, KEY.secret, KEY.secret_len, &good);
	assert_int_equal(zg_tsig_verify_request(&s2, q, qlen, off, &KEY, 1, NOW), RDNS_OK);
	size_t before = rl;
	assert_int_equal(zg_tsig_sign_response(&s2, r, &rl, rl + 20, NOW), RDNS_ESPACE);
	assert_int_equal(rl, before);
	assert_int_equal(zg_wire_get16(r + 10), 0);
}

/* A client that keeps only each request's MAC (NOTIFY retries) rebuilds the
 * context sign_request left and verifies each answer against its own copy. */
static void test_ctx_for_request(void **state)
{
	uint8_t q[2][512], r[2][1024];
	size_t ql[2], rl[2];
	zg_tsig_ctx_t c[2], s, x;
	for (int i = 0; i < 2; i++) {
		ql[i] = make_query(q[i], sizeof(q[i]), (uint16_t)(0x100 + i));
		size_t off = ql[i];
		assert_int_equal(
		    zg_tsig_sign_request(&c[i], &KEY, q[i], &ql[i], sizeof(q[i]), NOW + (uint64_t)i),
		    RDNS_OK);
		assert_int_equal(zg_tsig_verify_request(&s, q[i], ql[i], off, &KEY, 1, NOW + 1), RDNS_OK);
		assert_int_equal(s.error, ZG_TSIG_NOERROR);
		rl[i] = make_response(r[i], sizeof(r[i]), (uint16_t)(0x100 + i), 1, i);
		assert_int_equal(zg_tsig_sign_response(&s, r[i], &rl[i], sizeof(r[i]), NOW + 1), RDNS_OK);
	}
	assert_memory_not_equal(c[0].mac, c[1].mac, ZG_TSIG_MAC_LEN);

	/* the same context as sign_request's, but for the time signed */
	assert_int_equal(zg_tsig_ctx_for_request(&x, &KEY, c[0].mac, ZG_TSIG_MAC_LEN), RDNS_OK);
	assert_ptr_equal(x.key, &KEY);
	assert_int_equal(x.key_name_len, c[0].key_name_len);
	assert_memory_equal(x.key_name, c[0].key_name, x.key_name_len);
	assert_int_equal(x.alg_len, c[0].alg_len);
	assert_memory_equal(x.alg, c[0].alg, x.alg_len);
	assert_memory_equal(x.mac, c[0].mac, ZG_TSIG_MAC_LEN);
	assert_int_equal(x.mac_len, ZG_TSIG_MAC_LEN);
	assert_true(x.mac_valid);
	assert_int_equal(x.fudge, c[0].fudge);
	assert_int_equal(x.nmsg, 0);
	assert_int_equal(x.time_signed, 0);

	/* each answer verifies against its own request's MAC only */
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < 2; k++) {
			assert_int_equal(zg_tsig_ctx_for_request(&x, &KEY, c[k].mac, ZG_TSIG_MAC_LEN),
			                 RDNS_OK);
			int rc = zg_tsig_verify_response(&x, r[i], rl[i], NOW + 2);
			if (rc != (i == k ? RDNS_OK : RDNS_EDENIED))
				fail_msg("answer %d with the MAC of request %d: %d", i, k, rc);
		}

	/* another key, a truncated MAC, a key without a valid name */
	assert_int_equal(zg_tsig_ctx_for_request(&x, &OTHER, c[0].mac, ZG_TSIG_MAC_LEN), RDNS_OK);
	assert_int_equal(zg_tsig_verify_response(&x, r[0], rl[0], NOW + 2), RDNS_EDENIED);
	assert_int_equal(zg_tsig_ctx_for_request(&x, &KEY, c[0].mac, ZG_TSIG_MAC_MIN), RDNS_EINVAL);
	zg_tsig_key_t noname = KEY;
	noname.name[0] = '\0';
	assert_int_equal(zg_tsig_ctx_for_request(&x, &noname, c[0].mac, ZG_TSIG_MAC_LEN), RDNS_EINVAL);
}

/* ---- interoperability with ldns ---- */

static void test_ldns_interop(void **state)
{
	char b64[64];
	EVP_EncodeBlock((unsigned char *)b64, KEY.secret, (int)KEY.secret_len);
	uint64_t now = (uint64_t)time(NULL); /* ldns signs with the clock */

	/* ldns signs a query; we verify it. */
	ldns_pkt *qp = NULL;
	assert_int_equal(
	    ldns_pkt_query_new_frm_str(&qp, "2.0.192.in-addr.arpa.", LDNS_RR_TYPE_AXFR, LDNS_RR_CLASS_IN, 0),
	    LDNS_STATUS_OK);
	ldns_pkt_set_id(qp, 0x7777);
	assert_int_equal(ldns_pkt_tsig_sign(qp, "xfr-key.", b64, 300, "hmac-sha256.", NULL), LDNS_STATUS_OK);
	uint8_t *qw = NULL;
	size_t qwl = 0;
	assert_int_equal(ldns_pkt2wire(&qw, qp, &qwl), LDNS_STATUS_OK);
	size_t off;
	zg_tsig_ctx_t s;
	assert_int_equal(zg_tsig_find(qw, qwl, &off), RDNS_OK);
	assert_int_equal(zg_tsig_verify_request(&s, qw, qwl, off, &KEY, 1, now), RDNS_OK);
	assert_int_equal(s.error, ZG_TSIG_NOERROR);

	/* We sign two response messages; ldns verifies the first with the
	 * request MAC and the second with the prior MAC, timers only. */
	const ldns_rdf *reqmac = ldns_rr_rdf(ldns_pkt_tsig(qp), 3);
	uint8_t r1[2048], r2[2048];
	size_t l1 = make_response(r1, sizeof(r1), 0x7777, 5, 1);
	size_t l2 = make_response(r2, sizeof(r2), 0x7777, 7, 2);
	assert_int_equal(zg_tsig_sign_response(&s, r1, &l1, sizeof(r1), now), RDNS_OK);
	assert_int_equal(zg_tsig_sign_response(&s, r2, &l2, sizeof(r2), now), RDNS_OK);

	ldns_pkt *p1 = NULL, *p2 = NULL;
	assert_int_equal(ldns_wire2pkt(&p1, r1, l1), LDNS_STATUS_OK);
	assert_int_equal(ldns_wire2pkt(&p2, r2, l2), LDNS_STATUS_OK);
	assert_non_null(ldns_pkt_tsig(p1));
	assert_true(ldns_pkt_tsig_verify(p1, r1, l1, "xfr-key.", b64, reqmac));
	const ldns_rdf *mac1 = ldns_rr_rdf(ldns_pkt_tsig(p1), 3);
	assert_true(ldns_pkt_tsig_verify_next(p2, r2, l2, "xfr-key.", b64, mac1, 1));
	/* Wrong order fails in ldns too. */
	ldns_pkt *p2b = NULL;
	assert_int_equal(ldns_wire2pkt(&p2b, r2, l2), LDNS_STATUS_OK);
	assert_false(ldns_pkt_tsig_verify(p2b, r2, l2, "xfr-key.", b64, reqmac));

	ldns_pkt_free(p2b);
	ldns_pkt_free(p1);
	ldns_pkt_free(p2);
	free(qw);
	ldns_pkt_free(qp);
}

/* ldns answers a request we signed (as a secondary answers our NOTIFY): we
 * accept its answer and refuse one under another key name, with a changed
 * MAC, or signed outside the fudge. */
static void test_ldns_signs_response(void **state)
{
	char b64[64];
	EVP_EncodeBlock((unsigned char *)b64, KEY.secret, (int)KEY.secret_len);
	uint64_t now = (uint64_t)time(NULL); /* ldns signs with the clock */
	uint8_t q[512];
	zg_tsig_ctx_t c, x;
	size_t ql = make_query(q, sizeof(q), 0x4242);
	assert_int_equal(zg_tsig_sign_request(&c, &KEY, q, &ql, sizeof(q), now), RDNS_OK);
	ldns_pkt *qp = NULL;
	assert_int_equal(ldns_wire2pkt(&qp, q, ql), LDNS_STATUS_OK);
	assert_true(ldns_pkt_tsig_verify(qp, q, ql, "xfr-key.", b64, NULL));
	const ldns_rdf *reqmac = ldns_rr_rdf(ldns_pkt_tsig(qp), 3);

	static const char *const names[] = {"xfr-key.", "other-key.", "xfr-key."};
	for (int i = 0; i < 3; i++) {
		ldns_pkt *ap = NULL;
		assert_int_equal(ldns_pkt_query_new_frm_str(&ap, "2.0.192.in-addr.arpa.", LDNS_RR_TYPE_AXFR,
		                                            LDNS_RR_CLASS_IN, LDNS_QR | LDNS_AA),
		                 LDNS_STATUS_OK);
		ldns_pkt_set_id(ap, 0x4242);
		assert_int_equal(ldns_pkt_tsig_sign(ap, names[i], b64, 300, "hmac-sha256.", reqmac),
		                 LDNS_STATUS_OK);
		uint8_t *aw = NULL;
		size_t awl = 0;
		assert_int_equal(ldns_pkt2wire(&aw, ap, &awl), LDNS_STATUS_OK);
		if (i == 2)
			aw[awl - 7] ^= 1; /* the MAC's last byte (then original ID, error, other length) */
		x = c;
		int rc = zg_tsig_verify_response(&x, aw, awl, now);
		if (rc != (i == 0 ? RDNS_OK : RDNS_EDENIED))
			fail_msg("ldns answer %d (key name %s): %d", i, names[i], rc);
		if (i == 0) {
			/* outside the 300 s fudge either way (ldns may sign a second after now), from a
			 * context rebuilt from the MAC */
			assert_int_equal(zg_tsig_ctx_for_request(&x, &KEY, c.mac, c.mac_len), RDNS_OK);
			assert_int_equal(zg_tsig_verify_response(&x, aw, awl, now + 302), RDNS_EDENIED);
			assert_int_equal(zg_tsig_ctx_for_request(&x, &KEY, c.mac, c.mac_len), RDNS_OK);
			assert_int_equal(zg_tsig_verify_response(&x, aw, awl, now - 301), RDNS_EDENIED);
			assert_int_equal(zg_tsig_ctx_for_request(&x, &KEY, c.mac, c.mac_len), RDNS_OK);
			assert_int_equal(zg_tsig_verify_response(&x, aw, awl, now + 299), RDNS_OK);
		}
		free(aw);
		ldns_pkt_free(ap);
	}
	ldns_pkt_free(qp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_roundtrip),
	    cmocka_unit_test(test_request_errors_table),
	    cmocka_unit_test(test_find),
	    cmocka_unit_test(test_response_chain),
	    cmocka_unit_test(test_error_responses),
	    cmocka_unit_test(test_ctx_for_request),
	    cmocka_unit_test(test_ldns_interop),
	    cmocka_unit_test(test_ldns_signs_response),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
