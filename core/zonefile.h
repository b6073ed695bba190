/* zonefile.h - rendering reverse zones as master-file text (SOA, NS, PTR; default-PTR templates). */
#ifndef RDNS_CORE_ZONEFILE_H
#define RDNS_CORE_ZONEFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "deleg.h"

/*
 * The text format, one record per line, fields separated by single spaces,
 * absolute names with exactly one trailing dot, TTL and class on every line,
 * no $ORIGIN or $TTL directives:
 */
/* clang-format off */
/*
 *   ; rdns zone 2.0.192.in-addr.arpa. serial 2026112601
 *   2.0.192.in-addr.arpa. 3600 IN SOA ns1.example.net. hostmaster.example.net. 2026112601 3600 900 1209600 3600
 *   2.0.192.in-addr.arpa. 3600 IN NS ns1.example.net.
 *   10.2.0.192.in-addr.arpa. 3600 IN PTR mail.example.com.
 */
/* clang-format on */
/*
 * Names are given with or without their trailing dot. Every name written is
 * checked to hold only letters, digits, '-', '_', '/' and '.' in non-empty
 * labels (at most 253 octets without the dot), so nothing a caller passes can
 * break the line structure or need RFC 1035 escaping; anything else is
 * RDNS_EINVAL and nothing is written. Write failures are RDNS_EIO.
 */

/* Zone apex: SOA fields and the NS set. rname is the mailbox in DNS form
 * ("hostmaster.example.net"). ttl applies to the SOA and NS records. */
typedef struct {
	const char *zone;
	uint32_t serial;
	const char *mname, *rname;
	uint32_t refresh, retry, expire, minimum, ttl;
	const char *const *ns;
	size_t n_ns;
} core_zone_head_t;

/* Longest default-PTR template expansion accepted by the zone writer (the
 * longest hostname plus a trailing dot and the NUL). */
#define CORE_ZONEFILE_TMPL_MAX 256

/* Writes the comment line, the SOA line and one NS line per entry of h->ns.
 * At least one NS is required (RFC 1034 §4.2.1). Returns RDNS_OK,
 * RDNS_EINVAL (NULL argument, n_ns == 0, a bad name) or RDNS_EIO. */
int core_zonefile_head(FILE *f, const core_zone_head_t *h);

/* Writes one PTR line "<owner>. <ttl> IN PTR <target>.". Returns RDNS_OK,
 * RDNS_EINVAL (bad owner or target) or RDNS_EIO. */
int core_zonefile_ptr(FILE *f, const char *owner, uint32_t ttl, const char *target);

/* Expands a default-PTR template for an IPv4 address into out. Placeholders:
 * {dashed} 192-0-2-10, {reverse} 10-2-0-192, {a} {b} {c} {d} the four
 * octets in decimal, {hex} c000020a (8 lower-case hex digits). There is no
 * {ip}: its dots would change the label structure. Everything outside braces
 * is copied unchanged. The result is NOT validated as a hostname (callers run
 * core_hostname_normalize on it). Returns RDNS_OK, RDNS_EINVAL (NULL
 * argument, an unknown placeholder, an unclosed '{', a '}' without '{', an
 * IPv6 address) or RDNS_ESPACE (out too short; out then holds "" when
 * outlen > 0). */
int core_zonefile_template(const char *tmpl, const core_addr_t *a, char *out, size_t outlen);

/*
 * Streaming zone body writer: merges the custom PTRs, fed one at a time in
 * ascending address order, with default PTRs generated from a template, so
 * that a zone of millions of records is rendered without holding its rows.
 * Typical use: core_zonefile_head(), core_zonefile_w_new(), _w_add() per
 * custom row, _w_finish(), _w_free(). Records are written in address order.
 *
 * For an IPv4 zone with a template, every address of the zone gets exactly
 * one PTR: its custom record, else its default. A default whose expansion is
 * not a valid hostname (core_hostname_normalize fails) is skipped. IPv6 zones
 * carry custom records only; a template is ignored for them.
 */
typedef struct core_zonefile_w core_zonefile_w_t;

/* A writer to f for the addresses of zone_prefix (host bits are ignored).
 * default_template may be NULL (no defaults); it is copied. ttl applies to
 * every PTR. Returns NULL on a NULL f or zone_prefix, an unknown family or
 * length, a template that core_zonefile_template rejects or whose expansion
 * exceeds CORE_ZONEFILE_TMPL_MAX, or out of memory. */
core_zonefile_w_t *core_zonefile_w_new(FILE *f, const core_prefix_t *zone_prefix,
                                       const char *default_template, uint32_t ttl);

/* Adds the custom PTR of a (hostname: a normalised name, trailing dot
 * optional), first writing the defaults of the addresses between the
 * previous one added and a. Addresses must be strictly ascending and inside
 * the zone: a duplicate, an address out of order or outside the zone, or a
 * bad hostname is RDNS_EINVAL and writes nothing (the writer stays usable).
 * After a write error every call returns RDNS_EIO. Adding after
 * core_zonefile_w_finish is RDNS_EINVAL. */
int core_zonefile_w_add(core_zonefile_w_t *w, const core_addr_t *a, const char *hostname);

/* Writes the defaults for the rest of the zone. Returns RDNS_OK, RDNS_EIO
 * (this or an earlier write failed, or f has its error flag set), or
 * RDNS_EINVAL when called twice. Does not flush or close f. */
int core_zonefile_w_finish(core_zonefile_w_t *w);

/* Records written so far (custom and default) and defaults skipped because
 * their expansion was not a valid hostname; either pointer may be NULL. */
void core_zonefile_w_stats(const core_zonefile_w_t *w, uint64_t *written, uint64_t *skipped);

/* A delegation out of the zone (core/deleg.h): NS records for ns at its child name and,
 * for a classless (RFC 2317) block, one CNAME per address of the block instead of its
 * PTR. The names of ns have passed core_hostname_normalize. */
typedef struct {
	core_prefix_t prefix;
	core_deleg_kind_t kind;
	core_deleg_label_t style;
	const char *const *ns;
	size_t n_ns;
} core_zonefile_deleg_t;

/* Whether d is a delegation core_zonefile_w_delegations takes for a zone of prefix zone
 * (alone: order and overlap aside). RDNS_OK or RDNS_EINVAL. */
int core_zonefile_deleg_ok(const core_prefix_t *zone, const core_zonefile_deleg_t *d);

/* Gives the writer the zone's delegations, before the first core_zonefile_w_add: d[0..n)
 * in ascending address order, not overlapping, each one core_deleg_check accepts for the
 * zone, each with 1 to 64 NS names; d and the names must stay valid until the writer is
 * freed. The records of a delegation are written in the renderer's order (that of
 * zonegen/journal.c): a cut's NS before the addresses of its prefix, which get no PTR
 * (custom or default: the child zone holds them); a classless block's NS right after
 * the CNAME of its first address. A custom PTR added inside a delegation is skipped and
 * counted in core_zonefile_w_stats' occluded. RDNS_OK, or RDNS_EINVAL (nothing set). */
int core_zonefile_w_delegations(core_zonefile_w_t *w, const core_zonefile_deleg_t *d, size_t n);

/* Custom PTRs skipped because a delegation holds their address. */
uint64_t core_zonefile_w_occluded(const core_zonefile_w_t *w);

/* Frees the writer (not f). Accepts NULL. */
void core_zonefile_w_free(core_zonefile_w_t *w);

#endif
