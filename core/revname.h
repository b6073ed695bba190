/* revname.h - reverse owner names (in-addr.arpa, ip6.arpa) and zone cuts. */
#ifndef RDNS_CORE_REVNAME_H
#define RDNS_CORE_REVNAME_H

#include <stddef.h>

#include "addr.h"

/* Longest reverse name with trailing dot and NUL: 32 nibbles ("x.") + "ip6.arpa." */
#define CORE_REVNAME_MAX 80

/* Fully qualified reverse owner name of an address, with trailing dot:
 * "10.2.0.192.in-addr.arpa." or 32 lower-case nibble labels under "ip6.arpa."
 * (also for IPv4-mapped IPv6 addresses).
 * Returns RDNS_OK, RDNS_ESPACE or RDNS_EINVAL (unknown family); on error
 * buf, if len > 0, holds "". The same holds for the functions below that
 * write a name. */
int core_revname_from_addr(const core_addr_t *a, char *buf, size_t len);

/* 1 if a prefix sits on a reverse-zone cut, else 0: /8, /16, /24 for IPv4,
 * a multiple of 4 from 4 to 124 for IPv6. /0 (the in-addr.arpa or ip6.arpa
 * apex) and host prefixes (/32, /128) are not cuts; nor is a malformed
 * prefix (NULL, unknown family, len out of range, host bits set). */
int core_revname_is_cut(const core_prefix_t *p);

/* Zone name (with trailing dot) of a prefix that sits on a cut:
 * 192.0.2.0/24 -> "2.0.192.in-addr.arpa.", 2001:db8::/32 -> "8.b.d.0.1.0.0.2.ip6.arpa.".
 * RDNS_EINVAL if the prefix is not on a cut, RDNS_ESPACE if buf is short. */
int core_revname_zone(const core_prefix_t *p, char *buf, size_t len);

/* The inverse: parse a reverse zone name (trailing dot optional, any case)
 * into its prefix. RDNS_EINVAL for anything that is not a reverse zone on a
 * cut: an IPv4 label is a decimal octet 0..255 without leading zeros, an
 * IPv6 label exactly one hex digit; no empty labels, no spaces; RFC 2317
 * names ("0-63.2.0.192.in-addr.arpa") are refused. out is left alone on error. */
int core_revname_zone_parse(const char *name, core_prefix_t *out);

/* The zones on cuts that together cover a prefix, in ascending address order:
 *  - the prefix itself when it is on a cut (192.0.2.0/24 -> 2.0.192.in-addr.arpa);
 *  - a prefix shorter than the next cut: the 2^k zones at that next longer cut,
 *    which cover it exactly (10.0.0.0/15 -> 0.10 and 1.10.in-addr.arpa;
 *    192.0.16.0/20 -> 16 /24 zones; 172.16.0.0/12 -> 16 /16 zones;
 *    4.0.0.0/6 -> 4 /8 zones; 0.0.0.0/0 -> 256 /8 zones; 2001:db8::/30 -> 4
 *    /32 zones; 2001:db8::/50 -> 4 /52 zones; ::/0 -> 16 /4 zones);
 *  - a prefix longer than the longest cut (/24 for IPv4, /124 for IPv6): the
 *    single zone of the enclosing cut, which covers more than the prefix
 *    (192.0.2.0/25 -> 2.0.192.in-addr.arpa; 2001:db8::/126 -> its /124).
 * At most 256 zones. Writes the first min(count, max) to out (out may be NULL
 * when max is 0) and returns count, which exceeds max when out is too short;
 * RDNS_EINVAL for a malformed prefix. */
int core_revname_cover(const core_prefix_t *p, core_prefix_t *out, size_t max);

/* Owner name of a relative to its zone (no trailing dot): "10" for
 * 192.0.2.10 in 2.0.192.in-addr.arpa, "10.2" in 0.192.in-addr.arpa, nibbles
 * for IPv6; relative + "." + zone name is core_revname_from_addr(a).
 * RDNS_EINVAL when zone is not on a cut or a is not inside it. */
int core_revname_relative(const core_addr_t *a, const core_prefix_t *zone, char *buf, size_t len);

#endif
