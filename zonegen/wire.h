/* wire.h - DNS wire format helpers: header, names, compression, message assembly, zone-file lines. */
#ifndef RDNS_ZONEGEN_WIRE_H
#define RDNS_ZONEGEN_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZG_WIRE_HDR_LEN   12
#define ZG_WIRE_NAME_MAX  255 /* RFC 1035 §3.1: a name is at most 255 octets on the wire */
#define ZG_WIRE_LABEL_MAX 63
#define ZG_WIRE_MSG_MAX   65535 /* RFC 1035 §4.2.2: TCP length prefix is 16 bits */

/* RR types, classes and codes used by the hidden primary. */
enum {
	ZG_TYPE_NS = 2,
	ZG_TYPE_CNAME = 5,
	ZG_TYPE_SOA = 6,
	ZG_TYPE_PTR = 12,
	ZG_TYPE_OPT = 41,
	ZG_TYPE_TSIG = 250,
	ZG_TYPE_IXFR = 251,
	ZG_TYPE_AXFR = 252,
	ZG_TYPE_ANY = 255,
};
enum { ZG_CLASS_IN = 1, ZG_CLASS_ANY = 255 };
enum { ZG_OPCODE_QUERY = 0, ZG_OPCODE_NOTIFY = 4 };
enum {
	ZG_RCODE_NOERROR = 0,
	ZG_RCODE_FORMERR = 1,
	ZG_RCODE_SERVFAIL = 2,
	ZG_RCODE_NXDOMAIN = 3,
	ZG_RCODE_NOTIMP = 4,
	ZG_RCODE_REFUSED = 5,
	ZG_RCODE_NOTAUTH = 9,
	ZG_RCODE_BADVERS = 16, /* extended (EDNS) */
};

/* Header flag bits (second 16-bit word). */
#define ZG_WIRE_QR            0x8000u
#define ZG_WIRE_AA            0x0400u
#define ZG_WIRE_TC            0x0200u
#define ZG_WIRE_RD            0x0100u
#define ZG_WIRE_OPCODE(flags) (((flags) >> 11) & 0xfu)
#define ZG_WIRE_RCODE(flags)  ((flags)&0xfu)

/* The header flag bits of an opcode (ZG_WIRE_OPCODE takes them apart). */
#define ZG_WIRE_OPCODE_FLAGS(op) ((uint16_t)(((op)&0xfu) << 11))

/* Section indexes for counts. */
enum { ZG_SEC_QD = 0, ZG_SEC_AN = 1, ZG_SEC_NS = 2, ZG_SEC_AR = 3 };

typedef struct {
	uint16_t id;
	uint16_t flags;
	uint16_t count[4]; /* QD, AN, NS, AR */
} zg_wire_hdr_t;

/* Big-endian loads and stores. */
static inline uint16_t zg_wire_get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t zg_wire_get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline void zg_wire_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void zg_wire_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Parse the 12-byte header. RDNS_EINVAL if len < 12. */
int zg_wire_hdr_parse(const uint8_t *msg, size_t len, zg_wire_hdr_t *h);

/* Write h into the first 12 bytes of msg. */
void zg_wire_hdr_write(uint8_t *msg, const zg_wire_hdr_t *h);

/* ---- names ---- */

/* Read the (possibly compressed) name at *pos of msg[0..len) into out
 * (uncompressed wire form, original case, at most 255 bytes) and advance
 * *pos past its in-place encoding. Rejects: running off the end, label types
 * 0x40/0x80, names over 255 octets, and compression pointers that do not
 * point strictly before the start of the segment that holds them (which makes
 * loops impossible). Returns RDNS_OK or RDNS_EINVAL. */
int zg_wire_name_parse(const uint8_t *msg, size_t len, size_t *pos, uint8_t *out, size_t *outlen);

/* Text (RFC 1035 §5.1 presentation: "\X" and "\DDD" escapes) to uncompressed
 * wire form. "." is the root. With require_dot the text must end in an
 * unescaped dot (an absolute name); without it a missing final dot is
 * implied. Empty labels, labels over 63 and names over 255 octets are
 * RDNS_EINVAL. */
int zg_wire_name_from_text(const char *s, size_t n, bool require_dot, uint8_t *out, size_t *outlen);

/* Wire name to presentation text with trailing dot, escaping as needed.
 * Returns RDNS_OK, RDNS_EINVAL for a malformed wire name, RDNS_ESPACE. */
int zg_wire_name_to_text(const uint8_t *name, size_t nlen, char *buf, size_t buflen);

/* ASCII case-insensitive equality of two uncompressed wire names. */
bool zg_wire_name_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* Lower-case the ASCII letters of an uncompressed wire name in place
 * (length octets are skipped, so a length of 65..90 is never altered). */
void zg_wire_name_lower(uint8_t *name, size_t nlen);

/* ---- questions and resource records in received messages ---- */

/* Parse one question at *pos: its (possibly compressed) name into name
 * (uncompressed, original case), QTYPE and QCLASS; advance *pos past it.
 * Returns RDNS_OK or RDNS_EINVAL (bad name, or fewer than 4 bytes after it). */
int zg_wire_question_parse(const uint8_t *msg, size_t len, size_t *pos, uint8_t *name, size_t *nlen,
                           uint16_t *qtype, uint16_t *qclass);

typedef struct {
	uint8_t owner[ZG_WIRE_NAME_MAX];
	size_t owner_len;
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	size_t start;     /* offset of the RR's owner name */
	size_t rdata_off; /* offset of RDATA */
	uint16_t rdlen;
} zg_wire_rr_t;

/* Parse one RR at *pos (owner, fixed fields, RDATA bounds) and advance *pos
 * past it. Returns RDNS_OK or RDNS_EINVAL. */
int zg_wire_rr_parse(const uint8_t *msg, size_t len, size_t *pos, zg_wire_rr_t *rr);

/* ---- message assembly with name compression ---- */

/* One slot of a compression table; the caller owns the array. */
typedef struct {
	uint32_t hash;
	uint16_t off;
	uint16_t gen;
} zg_wire_ct_t;

/* A recently written parent name and how it was encoded in this message
 * (a pointer, or labels ending in a pointer or the root); see
 * zg_wire_msg_put_name. */
#define ZG_WIRE_PC_SLOTS 2
typedef struct {
	uint8_t name[ZG_WIRE_NAME_MAX];
	uint16_t len;
	uint8_t enc[ZG_WIRE_NAME_MAX + 2];
	uint16_t enc_len;
	uint32_t hash;
	uint16_t gen;
} zg_wire_pc_t;

typedef struct {
	uint8_t *buf;
	size_t cap; /* at most ZG_WIRE_MSG_MAX */
	size_t len;
	uint16_t count[4];
	zg_wire_ct_t *ct; /* NULL: no compression */
	size_t ct_mask;   /* table size - 1 (size is a power of two) */
	size_t ct_used;
	uint16_t gen;
	zg_wire_pc_t pc[ZG_WIRE_PC_SLOTS];
	unsigned pc_next;
} zg_wire_msg_t;

/* Attach a buffer and an optional compression table (ct_size a power of two,
 * or 0 for none). The table is reused across zg_wire_msg_reset calls without
 * clearing it. Does not write a header; call zg_wire_msg_reset. */
void zg_wire_msg_init(zg_wire_msg_t *m, uint8_t *buf, size_t cap, zg_wire_ct_t *ct, size_t ct_size);

/* Start a new message: header with id and flags, all counts zero, empty
 * compression table. */
void zg_wire_msg_reset(zg_wire_msg_t *m, uint16_t id, uint16_t flags);

/* Set the rcode bits of the header flags. */
void zg_wire_msg_set_rcode(zg_wire_msg_t *m, unsigned rcode);

/* Append a name, compressed against names already written (case-sensitive
 * match, so the data keep their case) when compress is set and the message
 * has a table. Returns RDNS_OK or RDNS_ESPACE. */
int zg_wire_msg_put_name(zg_wire_msg_t *m, const uint8_t *name, size_t nlen, bool compress);

/* Append raw bytes / integers. RDNS_OK or RDNS_ESPACE. */
int zg_wire_msg_put_bytes(zg_wire_msg_t *m, const void *p, size_t n);
int zg_wire_msg_put16(zg_wire_msg_t *m, uint16_t v);
int zg_wire_msg_put32(zg_wire_msg_t *m, uint32_t v);

/* Append a question and count it. */
int zg_wire_msg_put_question(zg_wire_msg_t *m, const uint8_t *name, size_t nlen, uint16_t qtype,
                             uint16_t qclass);

/* Begin an RR in a section: writes owner (compressed), type, class, TTL and
 * a placeholder RDLENGTH, whose offset goes to *rdlen_off. */
int zg_wire_msg_rr_begin(zg_wire_msg_t *m, const uint8_t *owner, size_t olen, uint16_t type, uint16_t rclass,
                         uint32_t ttl, size_t *rdlen_off);

/* Finish the RR: fill in RDLENGTH and count it in section sec. */
void zg_wire_msg_rr_end(zg_wire_msg_t *m, int sec, size_t rdlen_off);

/* Store the counts into the header. Call before sending or signing. */
void zg_wire_msg_finish(zg_wire_msg_t *m);

/* ---- records of our zone files ---- */

/* One record line of a zone file written by our renderer, parsed. */
typedef struct {
	uint8_t owner[ZG_WIRE_NAME_MAX];
	size_t owner_len;
	uint32_t ttl;
	uint16_t type;                   /* ZG_TYPE_SOA, _NS, _PTR or _CNAME; class is always IN */
	uint8_t name1[ZG_WIRE_NAME_MAX]; /* NS/PTR/CNAME target, SOA MNAME */
	size_t name1_len;
	uint8_t name2[ZG_WIRE_NAME_MAX]; /* SOA RNAME */
	size_t name2_len;
	uint32_t soa[5]; /* serial refresh retry expire minimum */
} zg_wire_zrr_t;

/* Parse one line (without its newline) "owner ttl IN TYPE rdata": fields
 * separated by spaces or tabs, names absolute, types SOA, NS, PTR, CNAME.
 * Returns RDNS_OK, RDNS_ENOTFOUND for a blank or ';' comment line, or
 * RDNS_EINVAL. */
int zg_wire_zrr_parse(const char *line, size_t len, zg_wire_zrr_t *rr);

/* Upper bound of the record's wire size (its uncompressed size). */
size_t zg_wire_zrr_maxlen(const zg_wire_zrr_t *rr);

/* Append the record to section sec, names compressed. RDNS_OK or RDNS_ESPACE
 * (the message is then left partly written: check room first with
 * zg_wire_zrr_maxlen). */
int zg_wire_msg_put_zrr(zg_wire_msg_t *m, int sec, const zg_wire_zrr_t *rr);

#endif
