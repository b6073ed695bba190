/* verify.h - checks a requested PTR target: syntax, policy, forward confirmation (FCrDNS), generic names. */
#ifndef RDNS_VERIFY_VERIFY_H
#define RDNS_VERIFY_VERIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/addr.h"
#include "core/conf.h"
#include "core/hostname.h"
#include "verify/verdict.h"

/* Most CNAME hops followed from the requested name (VF_LOOKUP_MAX_CNAME). */
#define VF_VERIFY_MAX_CNAME 8

typedef struct {
	/* Resolvers to ask (recursion desired): "ip", "ip:port", "[v6]" or
	 * "[v6]:port"; a bare IPv6 address means port 53. n_resolvers == 0:
	 * the nameservers of /etc/resolv.conf, port 53. */
	const char *const *resolvers;
	size_t n_resolvers;
	int query_timeout_ms; /* per query attempt; <= 0: 1000 */
	int retries;          /* extra rounds over all resolvers after the first; < 0: 2 */
	int deadline_ms;      /* the whole verification; <= 0: 5000 */
	/* Special-use suffixes (without trailing dot); NULL: core_hostname_special_default. */
	const char *const *special;
	size_t n_special;
	/* Provider-denied domains (suffix match at a label boundary). */
	const char *const *denied;
	size_t n_denied;
} vf_verify_conf_t;

/* *out from the options (resolvers, verify_timeout_ms, verify_retries,
 * verify_deadline_ms, special_names, denied_domains); its lists point into conf,
 * which must outlive it. An empty special_names keeps the built-in list (an empty
 * list would turn the policy check off). */
void vf_verify_conf_from(const rdns_conf_t *conf, vf_verify_conf_t *out);

/* Verify that hostname may become the PTR target of ip and fill *out.
 * Checks, in order (the check table in verify.c):
 *  - syntax (high): core_hostname_normalize; on failure no other check runs.
 *  - policy (high): special-use/internal suffixes and provider-denied domains;
 *    on failure the checks that query DNS (forward) are omitted (generic still runs).
 *  - forward (high): A (IPv4) or AAAA (IPv6) of the name, CNAMEs followed
 *    (at most VF_VERIFY_MAX_CNAME hops, loops detected), must contain ip.
 *    With skip_forward (a staff force) no query is sent and the check is a
 *    warning "skipped (forced by staff)".
 *  - generic (low): a warning when the name looks residential/generic.
 * Never takes longer than deadline_ms (plus a few ms), whatever the
 * resolvers do (a TCP retry after a truncated answer included). Thread-safe: keeps no global mutable state
 * and may be called from many threads at once. conf may be NULL (all defaults). Nothing is applied, and
 * nothing counted, here: the caller decides and keeps its own metrics. Returns
 * RDNS_OK (verdict in *out, whatever it says), RDNS_EINVAL (ip, hostname or out NULL, or ip of no known
 * family), RDNS_ECONFIG (a resolver string that does not parse, or no nameserver in /etc/resolv.conf) or
 * RDNS_ENOMEM; *out is only meaningful on RDNS_OK. */
int vf_verify(const vf_verify_conf_t *conf, const core_addr_t *ip, const char *hostname, bool skip_forward,
              vf_verdict_t *out);

#endif
