/* tsig.h - RFC 8945 TSIG (hmac-sha256 only): verify and sign requests and multi-message responses. */
#ifndef RDNS_ZONEGEN_TSIG_H
#define RDNS_ZONEGEN_TSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zonegen/wire.h"

#define ZG_TSIG_MAC_LEN   32  /* SHA-256 output; we always send full-length MACs */
#define ZG_TSIG_MAC_MIN   16  /* RFC 8945 §5.2.2.1: max(10, half the hash) */
#define ZG_TSIG_FUDGE     300 /* seconds, RFC 8945 §10 recommendation */
#define ZG_TSIG_OTHER_MAX 16
/* Largest TSIG RR we append: owner 255, fixed 10, algorithm "hmac-sha256." 13,
 * time 6, fudge 2, MAC size 2, MAC 32, original ID 2, error 2, other len 2,
 * other data 6. */
#define ZG_TSIG_RR_MAX (ZG_WIRE_NAME_MAX + 10 + 13 + 6 + 2 + 2 + ZG_TSIG_MAC_LEN + 2 + 2 + 2 + 6)

/* TSIG error codes (RFC 8945 §3). */
enum {
	ZG_TSIG_NOERROR = 0,
	ZG_TSIG_BADSIG = 16,
	ZG_TSIG_BADKEY = 17,
	ZG_TSIG_BADTIME = 18,
	ZG_TSIG_BADTRUNC = 22,
};

/* A shared key; the algorithm is always hmac-sha256. name is the key's
 * domain name in text ("xfr-key" or "xfr-key."), compared case-insensitively. */
typedef struct {
	char name[64];
	uint8_t secret[128];
	size_t secret_len;
} zg_tsig_key_t;

/* A TSIG RR as received. */
typedef struct {
	size_t rr_off; /* offset of the RR in the message */
	uint8_t name[ZG_WIRE_NAME_MAX];
	size_t name_len; /* lower-cased */
	uint8_t alg[ZG_WIRE_NAME_MAX];
	size_t alg_len; /* lower-cased */
	uint64_t time_signed;
	uint16_t fudge;
	uint16_t mac_len;
	uint8_t mac[64];
	uint16_t orig_id;
	uint16_t error;
	uint16_t other_len;
	size_t other_off; /* offset of Other Data in the message */
} zg_tsig_rr_t;

/* State of one signed exchange: a request and its response message(s). */
typedef struct {
	const zg_tsig_key_t *key; /* NULL when the key is unknown (BADKEY) */
	uint8_t key_name[ZG_WIRE_NAME_MAX];
	size_t key_name_len;
	uint8_t alg[ZG_WIRE_NAME_MAX];
	size_t alg_len;
	uint8_t mac[ZG_TSIG_MAC_LEN]; /* prior MAC: the request's, then each response's */
	size_t mac_len;
	bool mac_valid;       /* the prior MAC verified and goes into the next digest */
	uint64_t time_signed; /* request's Time Signed */
	uint16_t fudge;
	uint16_t error; /* TSIG error for the responses (server side) */
	unsigned nmsg;  /* response messages signed (server) or verified (client) */
} zg_tsig_ctx_t;

/* Parse the TSIG RR at off; it must be the last thing in msg[0..len).
 * RDNS_EINVAL if malformed (wrong class/TTL, MAC over 64 bytes, trailing data). */
int zg_tsig_rr_parse(const uint8_t *msg, size_t len, size_t off, zg_tsig_rr_t *rr);

/* Walk all sections and return in *off the offset of a TSIG RR that is the
 * last RR of the additional section. RDNS_ENOTFOUND if the message has no
 * TSIG, RDNS_EINVAL if it is malformed or a TSIG appears elsewhere. */
int zg_tsig_find(const uint8_t *msg, size_t len, size_t *off);

/* Server side: verify the request's TSIG at tsig_off against keys (matched by
 * name; algorithm must be hmac-sha256). RDNS_EINVAL for a malformed TSIG
 * (answer FORMERR); otherwise RDNS_OK with ctx->error set to ZG_TSIG_NOERROR,
 * BADKEY, BADSIG, BADTIME (|now - time signed| > fudge) or BADTRUNC (valid but
 * truncated MAC, which our policy refuses), and ctx ready for
 * zg_tsig_sign_response. MACs are compared in constant time. */
int zg_tsig_verify_request(zg_tsig_ctx_t *ctx, const uint8_t *msg, size_t len, size_t tsig_off,
                           const zg_tsig_key_t *keys, size_t n_keys, uint64_t now);

/* Server side: append a TSIG RR to the finished message msg[0..*len) (cap
 * bytes available), increment ARCOUNT and update *len. The first response's
 * digest covers the request MAC (when it verified), the message and all TSIG
 * variables; later ones chain the prior MAC with timers only (RFC 8945
 * §5.3.1). BADKEY and BADSIG answers get an unsigned TSIG (MAC size 0);
 * BADTIME answers carry the server time in Other Data. RDNS_ESPACE if it
 * does not fit, RDNS_ENOMEM on a crypto failure. */
int zg_tsig_sign_response(zg_tsig_ctx_t *ctx, uint8_t *msg, size_t *len, size_t cap, uint64_t now);

/* Client side: sign a request in place (fudge 300) and prepare ctx for
 * zg_tsig_verify_response. */
int zg_tsig_sign_request(zg_tsig_ctx_t *ctx, const zg_tsig_key_t *key, uint8_t *msg, size_t *len, size_t cap,
                         uint64_t now);

/* Client side: ctx as zg_tsig_sign_request left it for a request signed with
 * key whose MAC (ZG_TSIG_MAC_LEN bytes) was req_mac, for a client that keeps
 * only the MAC of each request it has in flight (a NOTIFY retransmitted with
 * a fresh ID has one per copy). time_signed is 0: zg_tsig_verify_response
 * does not use it. RDNS_EINVAL for a bad key name or MAC length. */
int zg_tsig_ctx_for_request(zg_tsig_ctx_t *ctx, const zg_tsig_key_t *key, const uint8_t *req_mac,
                            size_t mac_len);

/* Client side: verify the next response message of the exchange. Every
 * message must be signed (we sign every one). RDNS_OK when valid; RDNS_EDENIED
 * for a missing, unsigned, wrong or stale signature or a TSIG error;
 * RDNS_EINVAL if malformed. */
int zg_tsig_verify_response(zg_tsig_ctx_t *ctx, const uint8_t *msg, size_t len, uint64_t now);

/* Canonical wire form of a key's name (lower case, absolute). RDNS_EINVAL if
 * the name is not a valid domain name. */
int zg_tsig_key_wire_name(const zg_tsig_key_t *key, uint8_t *out, size_t *outlen);

#endif
