/* hostname.h - PTR target hostname validation, policy and generic-name detection. */
#ifndef RDNS_CORE_HOSTNAME_H
#define RDNS_CORE_HOSTNAME_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"

/* Normalised name (no trailing dot) + NUL. */
#define CORE_HOSTNAME_MAX 254

/* Validate and normalise a PTR target: lower-cased, one optional trailing
 * dot removed, LDH labels of 1..63 octets (no leading/trailing hyphen),
 * at most 253 octets in all, at least two labels, a TLD that is not all
 * digits, A-labels ("xn--") accepted. Rejected with a reason (a static,
 * human-readable string, set on RDNS_EINVAL): empty, spaces, control
 * characters, any of ; $ ( ) " \ @ * / , underscores, raw UTF-8 (bytes
 * >= 0x80), empty labels, a leading dot, a label of more than 63 octets,
 * more than 253 octets, a single label, an all-digit TLD ("192.0.2.10").
 * *reason is set to NULL on success (reason may be NULL). Validation comes
 * first, so RDNS_ESPACE (outlen < length + 1) only ever concerns a valid
 * name; CORE_HOSTNAME_MAX always suffices. out may equal in.
 * Returns RDNS_OK (out holds the normal form), RDNS_EINVAL, or RDNS_ESPACE. */
int core_hostname_normalize(const char *in, char *out, size_t outlen, const char **reason);

/* The built-in list of special-use and internal suffixes (NULL-terminated):
 * localhost, local, localdomain, internal, intranet, lan, home, corp,
 * private, invalid, test, example, onion, alt, home.arpa, in-addr.arpa,
 * ip6.arpa, ipv4only.arpa, resolver.arpa. "example" is the TLD only:
 * example.com, example.net and example.org are not in the list. */
extern const char *const core_hostname_special_default[];

/* Whether a normalised name equals, or ends at a label boundary with, one
 * of the suffixes in list (n entries, each without a trailing dot, any
 * case; a trailing dot on either side is ignored). "a.local" and "local"
 * match "local", "notlocal.com" does not. A NULL entry ends the list early,
 * so a NULL-terminated list may be passed with n = SIZE_MAX. Sets *which to
 * the matching list entry (else NULL) when which is not NULL. */
bool core_hostname_matches_suffix(const char *name, const char *const *list, size_t n, const char **which);

/* The policy verdict on a PTR target (core_hostname_policy). */
typedef enum {
	CORE_POLICY_OK = 0,
	CORE_POLICY_SPECIAL, /* in a special-use or internal domain */
	CORE_POLICY_DENIED,  /* in a domain the provider denies */
} core_policy_t;

/* The one policy every PTR target is held to, whoever sets it (a PTR, a zone's
 * default_ptr): a normalised name in one of the special suffixes (special NULL:
 * core_hostname_special_default, NULL-terminated; else n_special entries) is
 * CORE_POLICY_SPECIAL, else in one of the denied ones (may be NULL / 0)
 * CORE_POLICY_DENIED. *which (may be NULL) gets the matching entry, else NULL. */
core_policy_t core_hostname_policy(const char *name, const char *const *special, size_t n_special,
                                   const char *const *denied, size_t n_denied, const char **which);

/* Generic-hostname findings (bit flags). */
enum {
	CORE_GENERIC_ADDR = 1 << 0, /* the address is embedded in the name */
	CORE_GENERIC_WORD = 1 << 1, /* a word such as dynamic, dhcp, pool, dsl */
};

/* Classify a normalised name as generic. addr may be NULL (then only words
 * and any embedded IPv4-looking quad are considered). Writes a short reason
 * to why (may be NULL) naming what matched, e.g. "contains the address
 * 192.0.2.10 (dashed)" or "contains the word 'dynamic'". Returns the flags
 * (0: not generic).
 * CORE_GENERIC_ADDR, with an IPv4 addr (or IPv4-mapped IPv6): four decimal
 * octets (leading zeros allowed) separated by '-' or '.', in order or
 * reversed ("192-0-2-10", "10.2.0.192"); 8 hex digits ("c000020a"); 12
 * zero-padded digits in order or reversed ("192000002010"). With an IPv6
 * addr: 32 hex digits in order or as reversed nibbles; the groups joined by
 * '-' compressed as in RFC 5952 ("2001-db8--1"), uncompressed
 * ("2001-db8-0-0-0-0-0-1") or zero-padded. A match must not be glued to
 * further digits (hex digits for the hex forms). With addr NULL: any four
 * decimal octets 0..255 separated by '-' or '.'.
 * CORE_GENERIC_WORD: one of dynamic, dyn, dhcp, pool, dsl, adsl, xdsl,
 * vdsl, cable, broadband, client(s), dialup, dial-up, dialin, ppp, pppoe,
 * customer, cust, unassigned, cpe, in the labels left of the last two. A
 * word matches only between non-letters ("pool3", "dsl-pool"; not
 * "liverpool"), except dhcp, adsl, xdsl, vdsl, broadband, dialup, pppoe
 * and unassigned, which also match inside a label ("dhcpclient"). "static"
 * and "host" are deliberately not words. */
unsigned core_hostname_generic(const char *name, const core_addr_t *addr, char *why, size_t whylen);

#endif
