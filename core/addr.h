/* addr.h - IPv4/IPv6 addresses and prefixes: parse, print (RFC 5952), containment. */
#ifndef RDNS_CORE_ADDR_H
#define RDNS_CORE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CORE_AF_INET  4
#define CORE_AF_INET6 6

/* Longest canonical texts including the NUL. */
#define CORE_ADDR_STRLEN   46
#define CORE_PREFIX_STRLEN 50

typedef struct {
	int family;    /* CORE_AF_INET or CORE_AF_INET6 */
	uint8_t b[16]; /* network order; IPv4 uses b[0..3], the rest is zero */
} core_addr_t;

typedef struct {
	core_addr_t addr; /* host bits are always zero */
	unsigned len;     /* 0..32 or 0..128 */
} core_prefix_t;

/* 32 or 128; 0 for an unknown family. */
unsigned core_addr_bits(int family);

/* Parse any valid text form of one address (dotted quad; any RFC 4291 IPv6
 * form, including embedded IPv4). No whitespace, no zone id, no brackets.
 * A dotted quad (alone or embedded) is exactly four decimal octets 0..255
 * without leading zeros ("010.1.1.1" is refused: octal to some readers);
 * no inet_aton() shorthands ("10.1", "0x0a.1.1.1", "167837953").
 * Returns RDNS_OK or RDNS_EINVAL; out is left alone on error. */
int core_addr_parse(const char *s, core_addr_t *out);

/* Canonical text: dotted quad, or RFC 5952 for IPv6 (lower case, longest
 * run of two or more zero groups compressed, first on a tie; ::ffff:a.b.c.d
 * for IPv4-mapped, hex for every other address, e.g. "::c000:201").
 * Returns RDNS_OK, RDNS_ESPACE (buf too short), or RDNS_EINVAL (unknown
 * family); on error buf, if len > 0, holds "". */
int core_addr_format(const core_addr_t *a, char *buf, size_t len);

/* Parse "addr/len" or a bare address (a host prefix). Host bits set beyond
 * len is RDNS_EINVAL, as is a length out of range or a non-decimal length:
 * the length is 1 to 3 digits with no sign, space or leading zero ("/024").
 * Returns RDNS_OK or RDNS_EINVAL; out is left alone on error. */
int core_prefix_parse(const char *s, core_prefix_t *out);

/* The entry grammar of the transfer_allow and query_allow lists: as
 * core_prefix_parse, but the length keeps the strtol() forms those options
 * have always taken (a '+' sign, leading zeros, leading white space:
 * "10.0.0.0/024"), and the entry is shorter than CORE_PREFIX_ACL_ENTRY_MAX.
 * Returns RDNS_OK or RDNS_EINVAL; out is left alone on error. */
#define CORE_PREFIX_ACL_ENTRY_MAX 80
int core_prefix_parse_acl(const char *s, core_prefix_t *out);

/* "addr/len" in canonical form, always with the length ("192.0.2.1/32").
 * Returns RDNS_OK, RDNS_ESPACE, or RDNS_EINVAL (unknown family, len too
 * long); on error buf, if len > 0, holds "". */
int core_prefix_format(const core_prefix_t *p, char *buf, size_t len);

/* Whether a lies in p (same family required: 192.0.2.1 is not in
 * ::ffff:0:0/96). */
bool core_prefix_contains(const core_prefix_t *p, const core_addr_t *a);

/* Whether inner lies wholly in outer (same family, inner->len >= outer->len). */
bool core_prefix_contains_prefix(const core_prefix_t *outer, const core_prefix_t *inner);

/* Set (ones) or clear the bits of a after its first len: with a prefix's length, the
 * last or the first address of the prefix that holds a. len beyond the family's bits
 * changes nothing. */
void core_addr_host_bits(core_addr_t *a, unsigned len, bool ones);

/* Equality of two addresses (same family and the same bits). */
bool core_addr_equal(const core_addr_t *a, const core_addr_t *b);

#endif
