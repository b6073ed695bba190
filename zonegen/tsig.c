/* tsig.c - RFC 8945 TSIG (hmac-sha256 only): verify and sign requests and multi-message responses. */
#include "zonegen/tsig.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "core/err.h"

/* "hmac-sha256." in wire form (RFC 8945 §6). */
static const uint8_t ALG_SHA256[] = {11, 'h', 'm', 'a', 'c', '-', 's', 'h', 'a', '2', '5', '6', 0};

/* ---- HMAC-SHA256 through EVP_MAC (HMAC_CTX is deprecated in OpenSSL 3) ---- */

typedef struct {
	EVP_MAC_CTX *c;
} hmac_t;

static int hmac_begin(hmac_t *h, const zg_tsig_key_t *key)
{
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
	    OSSL_PARAM_construct_end(),
	};
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	h->c = NULL;
	if (mac == NULL)
		return RDNS_ENOMEM;
	h->c = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac); /* the context keeps its own reference */
	if (h->c == NULL)
		return RDNS_ENOMEM;
	if (!EVP_MAC_init(h->c, key->secret, key->secret_len, params)) {
		EVP_MAC_CTX_free(h->c);
		h->c = NULL;
		return RDNS_ENOMEM;
	}
	return RDNS_OK;
}

static void hmac_update(hmac_t *h, const void *p, size_t n)
{
	if (h->c != NULL && n > 0 && !EVP_MAC_update(h->c, p, n)) {
		EVP_MAC_CTX_free(h->c);
		h->c = NULL; /* hmac_final reports the failure */
	}
}

static int hmac_final(hmac_t *h, uint8_t out[ZG_TSIG_MAC_LEN])
{
	size_t outl = 0;
	int rc = RDNS_ENOMEM;
	if (h->c != NULL && EVP_MAC_final(h->c, out, &outl, ZG_TSIG_MAC_LEN) && outl == ZG_TSIG_MAC_LEN)
		rc = RDNS_OK;
	EVP_MAC_CTX_free(h->c);
	h->c = NULL;
	return rc;
}

static void put48(uint8_t *p, uint64_t v)
{
	for (int i = 5; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get48(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 6; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Digest a 2-byte length and a MAC (the "Request MAC" / "Prior MAC"). */
static void hmac_prior(hmac_t *h, const uint8_t *mac, size_t mac_len)
{
	uint8_t l[2];
	zg_wire_put16(l, (uint16_t)mac_len);
	hmac_update(h, l, 2);
	hmac_update(h, mac, mac_len);
}

/* Digest the message up to tsig_off with ID replaced by orig_id and ARCOUNT
 * without the TSIG (arcount as given). */
static void hmac_message(hmac_t *h, const uint8_t *msg, size_t upto, uint16_t orig_id, uint16_t arcount)
{
	uint8_t hdr[ZG_WIRE_HDR_LEN];
	memcpy(hdr, msg, ZG_WIRE_HDR_LEN);
	zg_wire_put16(hdr, orig_id);
	zg_wire_put16(hdr + 10, arcount);
	hmac_update(h, hdr, ZG_WIRE_HDR_LEN);
	hmac_update(h, msg + ZG_WIRE_HDR_LEN, upto - ZG_WIRE_HDR_LEN);
}

/* RFC 8945 §4.3.3: all TSIG variables, or only the timers. */
static void hmac_vars(hmac_t *h, bool timers_only, const uint8_t *name, size_t name_len, const uint8_t *alg,
                      size_t alg_len, uint64_t time_signed, uint16_t fudge, uint16_t error,
                      const uint8_t *other, size_t other_len)
{
	uint8_t b[16];
	if (!timers_only) {
		hmac_update(h, name, name_len);
		zg_wire_put16(b, ZG_CLASS_ANY);
		zg_wire_put32(b + 2, 0); /* TTL */
		hmac_update(h, b, 6);
		hmac_update(h, alg, alg_len);
	}
	put48(b, time_signed);
	zg_wire_put16(b + 6, fudge);
	if (timers_only) {
		hmac_update(h, b, 8);
		return;
	}
	zg_wire_put16(b + 8, error);
	zg_wire_put16(b + 10, (uint16_t)other_len);
	hmac_update(h, b, 12);
	hmac_update(h, other, other_len);
}

/* ---- parsing ---- */

int zg_tsig_key_wire_name(const zg_tsig_key_t *key, uint8_t *out, size_t *outlen)
{
	size_t n = strnlen(key->name, sizeof(key->name));
	if (n == 0 || n == sizeof(key->name))
		return RDNS_EINVAL;
	if (zg_wire_name_from_text(key->name, n, false, out, outlen) != RDNS_OK)
		return RDNS_EINVAL;
	zg_wire_name_lower(out, *outlen);
	return RDNS_OK;
}

int zg_tsig_rr_parse(const uint8_t *msg, size_t len, size_t off, zg_tsig_rr_t *rr)
{
	zg_wire_rr_t w;
	size_t p = off;

	if (zg_wire_rr_parse(msg, len, &p, &w) != RDNS_OK || p != len)
		return RDNS_EINVAL;
	/* RFC 8945 §4.2: class ANY, TTL 0. */
	if (w.type != ZG_TYPE_TSIG || w.rclass != ZG_CLASS_ANY || w.ttl != 0)
		return RDNS_EINVAL;
	rr->rr_off = off;
	memcpy(rr->name, w.owner, w.owner_len);
	rr->name_len = w.owner_len;
	zg_wire_name_lower(rr->name, rr->name_len);

	size_t end = w.rdata_off + w.rdlen;
	size_t q = w.rdata_off;
	/* The algorithm name must not be compressed; parse it within RDATA only. */
	if (zg_wire_name_parse(msg, end, &q, rr->alg, &rr->alg_len) != RDNS_OK ||
	    q - w.rdata_off != rr->alg_len)
		return RDNS_EINVAL;
	zg_wire_name_lower(rr->alg, rr->alg_len);
	if (end - q < 10)
		return RDNS_EINVAL;
	rr->time_signed = get48(msg + q);
	rr->fudge = zg_wire_get16(msg + q + 6);
	rr->mac_len = zg_wire_get16(msg + q + 8);
	q += 10;
	if (rr->mac_len > sizeof(rr->mac) || end - q < (size_t)rr->mac_len + 6)
		return RDNS_EINVAL;
	memcpy(rr->mac, msg + q, rr->mac_len);
	q += rr->mac_len;
	rr->orig_id = zg_wire_get16(msg + q);
	rr->error = zg_wire_get16(msg + q + 2);
	rr->other_len = zg_wire_get16(msg + q + 4);
	q += 6;
	if (end - q != rr->other_len)
		return RDNS_EINVAL;
	rr->other_off = q;
	return RDNS_OK;
}

int zg_tsig_find(const uint8_t *msg, size_t len, size_t *off)
{
	zg_wire_hdr_t h;
	size_t p = ZG_WIRE_HDR_LEN;
	uint8_t name[ZG_WIRE_NAME_MAX];
	size_t nlen;

	if (zg_wire_hdr_parse(msg, len, &h) != RDNS_OK)
		return RDNS_EINVAL;
	for (unsigned i = 0; i < h.count[ZG_SEC_QD]; i++) {
		if (zg_wire_name_parse(msg, len, &p, name, &nlen) != RDNS_OK || len - p < 4)
			return RDNS_EINVAL;
		p += 4;
	}
	unsigned total = (unsigned)h.count[1] + h.count[2] + h.count[3];
	for (unsigned i = 0; i < total; i++) {
		zg_wire_rr_t rr;
		size_t start = p;
		if (zg_wire_rr_parse(msg, len, &p, &rr) != RDNS_OK)
			return RDNS_EINVAL;
		if (rr.type == ZG_TYPE_TSIG) {
			if (i + 1 != total || h.count[ZG_SEC_AR] == 0 || p != len)
				return RDNS_EINVAL; /* RFC 8945 §5.1: only as the last additional RR */
			*off = start;
			return RDNS_OK;
		}
	}
	return RDNS_ENOTFOUND;
}

static const zg_tsig_key_t *find_key(const zg_tsig_key_t *keys, size_t n_keys, const uint8_t *name,
                                     size_t nlen)
{
	for (size_t i = 0; i < n_keys; i++) {
		uint8_t kn[ZG_WIRE_NAME_MAX];
		size_t kl;
		if (zg_tsig_key_wire_name(&keys[i], kn, &kl) == RDNS_OK && kl == nlen &&
		    memcmp(kn, name, nlen) == 0)
			return &keys[i];
	}
	return NULL;
}

static bool alg_ok(const uint8_t *alg, size_t alg_len)
{
	return alg_len == sizeof(ALG_SHA256) && memcmp(alg, ALG_SHA256, alg_len) == 0;
}

static bool time_ok(uint64_t now, uint64_t signed_at, uint16_t fudge)
{
	uint64_t d = now > signed_at ? now - signed_at : signed_at - now;
	return d <= fudge;
}

/* ---- server side ---- */

int zg_tsig_verify_request(zg_tsig_ctx_t *ctx, const uint8_t *msg, size_t len, size_t tsig_off,
                           const zg_tsig_key_t *keys, size_t n_keys, uint64_t now)
{
	zg_tsig_rr_t rr;
	uint8_t mac[ZG_TSIG_MAC_LEN];
	hmac_t h;

	memset(ctx, 0, sizeof(*ctx));
	if (len < ZG_WIRE_HDR_LEN || tsig_off < ZG_WIRE_HDR_LEN ||
	    zg_tsig_rr_parse(msg, len, tsig_off, &rr) != RDNS_OK)
		return RDNS_EINVAL;
	uint16_t arcount = zg_wire_get16(msg + 10);
	if (arcount == 0)
		return RDNS_EINVAL;

	memcpy(ctx->key_name, rr.name, rr.name_len);
	ctx->key_name_len = rr.name_len;
	memcpy(ctx->alg, rr.alg, rr.alg_len);
	ctx->alg_len = rr.alg_len;
	ctx->time_signed = rr.time_signed;
	ctx->fudge = rr.fudge;

	/* RFC 8945 §5.2.2.1: a MAC longer than the hash, or shorter than
	 * max(10, half the hash), is a format error. */
	if (rr.mac_len > ZG_TSIG_MAC_LEN || (rr.mac_len < ZG_TSIG_MAC_MIN && alg_ok(rr.alg, rr.alg_len)))
		return RDNS_EINVAL;

	/* §5.2.1: unknown key or algorithm. */
	ctx->key = alg_ok(rr.alg, rr.alg_len) ? find_key(keys, n_keys, rr.name, rr.name_len) : NULL;
	if (ctx->key == NULL) {
		ctx->error = ZG_TSIG_BADKEY;
		return RDNS_OK;
	}

	int rc = hmac_begin(&h, ctx->key);
	if (rc != RDNS_OK)
		return rc;
	hmac_message(&h, msg, tsig_off, rr.orig_id, (uint16_t)(arcount - 1));
	hmac_vars(&h, false, rr.name, rr.name_len, rr.alg, rr.alg_len, rr.time_signed, rr.fudge, rr.error,
	          msg + rr.other_off, rr.other_len);
	rc = hmac_final(&h, mac);
	if (rc != RDNS_OK)
		return rc;

	/* §5.2.2: constant-time comparison of the (possibly truncated) MAC. */
	if (CRYPTO_memcmp(mac, rr.mac, rr.mac_len) != 0) {
		ctx->error = ZG_TSIG_BADSIG;
		return RDNS_OK;
	}
	memcpy(ctx->mac, rr.mac, rr.mac_len);
	ctx->mac_len = rr.mac_len;
	ctx->mac_valid = true;

	/* §5.2.3 time, then §5.2.4 our truncation policy (full MACs only). */
	if (!time_ok(now, rr.time_signed, rr.fudge))
		ctx->error = ZG_TSIG_BADTIME;
	else if (rr.mac_len < ZG_TSIG_MAC_LEN)
		ctx->error = ZG_TSIG_BADTRUNC;
	else
		ctx->error = ZG_TSIG_NOERROR;
	return RDNS_OK;
}

/* Append the TSIG RR; mac may be NULL for an unsigned one. */
static int append_tsig(const zg_tsig_ctx_t *ctx, uint8_t *msg, size_t *len, size_t cap, uint64_t time_signed,
                       const uint8_t *mac, size_t mac_len, uint16_t error, const uint8_t *other,
                       size_t other_len)
{
	const uint8_t *alg = ctx->alg_len ? ctx->alg : ALG_SHA256;
	size_t alg_len = ctx->alg_len ? ctx->alg_len : sizeof(ALG_SHA256);
	size_t rdlen = alg_len + 6 + 2 + 2 + mac_len + 2 + 2 + 2 + other_len;
	size_t need = ctx->key_name_len + 10 + rdlen;
	size_t p = *len;

	if (cap < p || cap - p < need || rdlen > UINT16_MAX)
		return RDNS_ESPACE;
	memcpy(msg + p, ctx->key_name, ctx->key_name_len);
	p += ctx->key_name_len;
	zg_wire_put16(msg + p, ZG_TYPE_TSIG);
	zg_wire_put16(msg + p + 2, ZG_CLASS_ANY);
	zg_wire_put32(msg + p + 4, 0);
	zg_wire_put16(msg + p + 8, (uint16_t)rdlen);
	p += 10;
	memcpy(msg + p, alg, alg_len);
	p += alg_len;
	put48(msg + p, time_signed);
	zg_wire_put16(msg + p + 6, ctx->fudge ? ctx->fudge : ZG_TSIG_FUDGE);
	zg_wire_put16(msg + p + 8, (uint16_t)mac_len);
	p += 10;
	if (mac_len)
		memcpy(msg + p, mac, mac_len);
	p += mac_len;
	zg_wire_put16(msg + p, zg_wire_get16(msg)); /* Original ID = this message's ID */
	zg_wire_put16(msg + p + 2, error);
	zg_wire_put16(msg + p + 4, (uint16_t)other_len);
	p += 6;
	if (other_len)
		memcpy(msg + p, other, other_len);
	p += other_len;
	zg_wire_put16(msg + 10, (uint16_t)(zg_wire_get16(msg + 10) + 1));
	*len = p;
	return RDNS_OK;
}

int zg_tsig_sign_response(zg_tsig_ctx_t *ctx, uint8_t *msg, size_t *len, size_t cap, uint64_t now)
{
	uint8_t mac[ZG_TSIG_MAC_LEN];
	uint8_t other[6];
	size_t other_len = 0;
	uint64_t ts = now;
	hmac_t h;

	if (*len < ZG_WIRE_HDR_LEN || zg_wire_get16(msg + 10) == UINT16_MAX)
		return RDNS_EINVAL;
	/* §5.3.2: errors about the key or the MAC get an unsigned answer. */
	if (ctx->key == NULL || ctx->error == ZG_TSIG_BADKEY || ctx->error == ZG_TSIG_BADSIG)
		return append_tsig(ctx, msg, len, cap, ctx->time_signed, NULL, 0, ctx->error, NULL, 0);
	if (ctx->error == ZG_TSIG_BADTIME) {
		/* The request's time goes back, with ours in Other Data so the
		 * client can see the skew. */
		ts = ctx->time_signed;
		put48(other, now);
		other_len = 6;
	}
	uint16_t fudge = ctx->fudge ? ctx->fudge : ZG_TSIG_FUDGE;
	bool first = ctx->nmsg == 0;

	int rc = hmac_begin(&h, ctx->key);
	if (rc != RDNS_OK)
		return rc;
	if (ctx->mac_valid)
		hmac_prior(&h, ctx->mac, ctx->mac_len);
	hmac_message(&h, msg, *len, zg_wire_get16(msg), zg_wire_get16(msg + 10));
	/* §5.3.1: the first message digests all variables, later ones only the timers. */
	hmac_vars(&h, !first, ctx->key_name, ctx->key_name_len, ALG_SHA256, sizeof(ALG_SHA256), ts, fudge,
	          ctx->error, other, other_len);
	rc = hmac_final(&h, mac);
	if (rc != RDNS_OK)
		return rc;
	rc = append_tsig(ctx, msg, len, cap, ts, mac, ZG_TSIG_MAC_LEN, ctx->error, other, other_len);
	if (rc != RDNS_OK)
		return rc;
	memcpy(ctx->mac, mac, ZG_TSIG_MAC_LEN);
	ctx->mac_len = ZG_TSIG_MAC_LEN;
	ctx->mac_valid = true;
	ctx->nmsg++;
	return RDNS_OK;
}

/* ---- client side ---- */

/* The context of a request signed with key: its canonical name, hmac-sha256, our fudge. */
static int client_ctx(zg_tsig_ctx_t *ctx, const zg_tsig_key_t *key, uint64_t time_signed)
{
	memset(ctx, 0, sizeof(*ctx));
	if (zg_tsig_key_wire_name(key, ctx->key_name, &ctx->key_name_len) != RDNS_OK)
		return RDNS_EINVAL;
	ctx->key = key;
	memcpy(ctx->alg, ALG_SHA256, sizeof(ALG_SHA256));
	ctx->alg_len = sizeof(ALG_SHA256);
	ctx->time_signed = time_signed;
	ctx->fudge = ZG_TSIG_FUDGE;
	return RDNS_OK;
}

int zg_tsig_sign_request(zg_tsig_ctx_t *ctx, const zg_tsig_key_t *key, uint8_t *msg, size_t *len, size_t cap,
                         uint64_t now)
{
	uint8_t mac[ZG_TSIG_MAC_LEN];
	hmac_t h;

	memset(ctx, 0, sizeof(*ctx));
	if (*len < ZG_WIRE_HDR_LEN || zg_wire_get16(msg + 10) == UINT16_MAX)
		return RDNS_EINVAL;
	if (client_ctx(ctx, key, now) != RDNS_OK)
		return RDNS_EINVAL;

	int rc = hmac_begin(&h, key);
	if (rc != RDNS_OK)
		return rc;
	hmac_message(&h, msg, *len, zg_wire_get16(msg), zg_wire_get16(msg + 10));
	hmac_vars(&h, false, ctx->key_name, ctx->key_name_len, ctx->alg, ctx->alg_len, now, ctx->fudge, 0,
	          NULL, 0);
	rc = hmac_final(&h, mac);
	if (rc != RDNS_OK)
		return rc;
	rc = append_tsig(ctx, msg, len, cap, now, mac, ZG_TSIG_MAC_LEN, 0, NULL, 0);
	if (rc != RDNS_OK)
		return rc;
	memcpy(ctx->mac, mac, ZG_TSIG_MAC_LEN);
	ctx->mac_len = ZG_TSIG_MAC_LEN;
	ctx->mac_valid = true;
	return RDNS_OK;
}

int zg_tsig_ctx_for_request(zg_tsig_ctx_t *ctx, const zg_tsig_key_t *key, const uint8_t *req_mac,
                            size_t mac_len)
{
	if (mac_len != ZG_TSIG_MAC_LEN || client_ctx(ctx, key, 0) != RDNS_OK)
		return RDNS_EINVAL;
	memcpy(ctx->mac, req_mac, ZG_TSIG_MAC_LEN);
	ctx->mac_len = ZG_TSIG_MAC_LEN;
	ctx->mac_valid = true;
	return RDNS_OK;
}

int zg_tsig_verify_response(zg_tsig_ctx_t *ctx, const uint8_t *msg, size_t len, uint64_t now)
{
	zg_tsig_rr_t rr;
	size_t off;
	uint8_t mac[ZG_TSIG_MAC_LEN];
	hmac_t h;

	int rc = zg_tsig_find(msg, len, &off);
	if (rc == RDNS_ENOTFOUND)
		return RDNS_EDENIED;
	if (rc != RDNS_OK || zg_tsig_rr_parse(msg, len, off, &rr) != RDNS_OK)
		return RDNS_EINVAL;
	if (ctx->key == NULL || rr.name_len != ctx->key_name_len ||
	    memcmp(rr.name, ctx->key_name, rr.name_len) != 0 || !alg_ok(rr.alg, rr.alg_len))
		return RDNS_EDENIED;
	if (rr.error != ZG_TSIG_NOERROR || rr.mac_len != ZG_TSIG_MAC_LEN)
		return RDNS_EDENIED;

	bool first = ctx->nmsg == 0;
	rc = hmac_begin(&h, ctx->key);
	if (rc != RDNS_OK)
		return rc;
	hmac_prior(&h, ctx->mac, ctx->mac_len);
	hmac_message(&h, msg, off, rr.orig_id, (uint16_t)(zg_wire_get16(msg + 10) - 1));
	hmac_vars(&h, !first, rr.name, rr.name_len, rr.alg, rr.alg_len, rr.time_signed, rr.fudge, rr.error,
	          msg + rr.other_off, rr.other_len);
	rc = hmac_final(&h, mac);
	if (rc != RDNS_OK)
		return rc;
	if (CRYPTO_memcmp(mac, rr.mac, ZG_TSIG_MAC_LEN) != 0)
		return RDNS_EDENIED;
	if (!time_ok(now, rr.time_signed, rr.fudge))
		return RDNS_EDENIED;
	memcpy(ctx->mac, mac, ZG_TSIG_MAC_LEN);
	ctx->mac_len = ZG_TSIG_MAC_LEN;
	ctx->nmsg++;
	return RDNS_OK;
}
