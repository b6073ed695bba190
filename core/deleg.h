/* deleg.h - reverse delegations: which prefixes may be delegated out of a zone, and the
 * names of their records (NS at a zone cut; RFC 2317 classless NS and CNAMEs). Pure. */
#ifndef RDNS_CORE_DELEG_H
#define RDNS_CORE_DELEG_H

#include <stddef.h>

#include "addr.h"

/* How a prefix is delegated out of the zone that holds it. */
typedef enum {
	/* NS records at the reverse name of the prefix, which sits on a zone cut (IPv4 /8,
	 * /16, /24 inside a larger zone; IPv6 a nibble boundary inside a larger zone). */
	CORE_DELEG_CUT = 1,
	/* RFC 2317: an IPv4 /25 to /32 inside its /24. NS records at a child label of the
	 * /24's name and one CNAME per address of the block into that child. */
	CORE_DELEG_CLASSLESS = 2,
} core_deleg_kind_t;

/* The RFC 2317 child label: "<first>-<last>" (the RFC's own example, "0-63") or
 * "<first>/<length>" ("0/26", also in RFC 2317 section 5 and common practice). */
typedef enum {
	CORE_DELEG_LABEL_RANGE = 0,
	CORE_DELEG_LABEL_SLASH = 1,
} core_deleg_label_t;

/* The allowed lengths, as one sentence for a 400 answer. */
#define CORE_DELEG_LENGTHS                                                                                   \
	"IPv4 prefixes of length /8, /16 or /24 inside a larger zone, or /25 to /32 (RFC 2317 "              \
	"classless delegation); IPv6 prefixes on a nibble boundary (a multiple of 4, at most /124) "         \
	"longer than their zone's"

/* Whether p (host bits clear) may be delegated out of zone (a prefix on a zone cut that
 * contains p): RDNS_OK with *kind, or RDNS_EINVAL (p not inside zone, a length not
 * allowed: CORE_DELEG_LENGTHS). */
int core_deleg_check(const core_prefix_t *zone, const core_prefix_t *p, core_deleg_kind_t *kind);

/* The label style by its configuration word: "range" or "slash". RDNS_OK or RDNS_EINVAL. */
int core_deleg_label_parse(const char *s, core_deleg_label_t *out);
/* The configuration word of a style. */
const char *core_deleg_label_name(core_deleg_label_t l);

/* The owner name of the delegation's NS records, with trailing dot: for a cut, the
 * prefix's reverse zone name ("3.2.0.10.in-addr.arpa."); for a classless block, its child
 * name ("0-63.2.0.192.in-addr.arpa." or "0/26.2.0.192.in-addr.arpa."). RDNS_OK,
 * RDNS_EINVAL (p not a delegable prefix) or RDNS_ESPACE. */
int core_deleg_child_name(const core_prefix_t *p, core_deleg_label_t style, char *buf, size_t len);

/* The CNAME target of an address of a classless block: "10.0-63.2.0.192.in-addr.arpa.".
 * RDNS_OK, RDNS_EINVAL (p not a /25../32 or a not inside it) or RDNS_ESPACE. */
int core_deleg_cname_target(const core_prefix_t *p, core_deleg_label_t style, const core_addr_t *a, char *buf,
                            size_t len);

#endif
