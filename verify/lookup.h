/* lookup.h - a name's addresses with its CNAME chain followed, as a plain outcome (no DNS library types). */
#ifndef RDNS_VERIFY_LOOKUP_H
#define RDNS_VERIFY_LOOKUP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/addr.h"

/* Most CNAME hops followed from the requested name. */
#define VF_LOOKUP_MAX_CNAME 8
/* Addresses kept in vf_lookup_t.addrs; more are still compared and counted. */
#define VF_LOOKUP_MAX_ADDRS 32
/* Longest presentation form of a name: 255 octets, each possibly \DDD. */
#define VF_LOOKUP_NAME_MAX (255 * 4 + 1)

/* RCODEs the findings word apart (RFC 1035 section 4.1.1). */
#define VF_RCODE_SERVFAIL 2
#define VF_RCODE_REFUSED  5

typedef struct vf_resolver vf_resolver_t; /* verify/resolve.h */

/* How the lookup ended. */
typedef enum {
	VF_LOOKUP_ADDRS,      /* the final name has address records */
	VF_LOOKUP_NXDOMAIN,   /* the final name does not exist */
	VF_LOOKUP_NODATA,     /* the final name exists without address records */
	VF_LOOKUP_RCODE,      /* the resolvers answered an error rcode (SERVFAIL, REFUSED, ...) */
	VF_LOOKUP_TIMEOUT,    /* no answer before the attempts or the deadline ran out */
	VF_LOOKUP_BADANSWER,  /* only answers that did not match the query or did not parse */
	VF_LOOKUP_UNREACHABLE /* every resolver refused or was unreachable: see resolvers[] */
} vf_lookup_kind_t;

/* Resolvers named in vf_lookup_t.resolvers; the others are counted. */
#define VF_LOOKUP_MAX_RESOLVERS 4

/* A resolver that failed to answer at least once during the lookup. */
typedef struct {
	char name[56];  /* "ip:port" or "[v6]:port" */
	bool timed_out; /* an attempt had no answer in time */
	int neterr;     /* errno of its last refused or unreachable attempt (ECONNREFUSED,
	                   EHOSTUNREACH, ENETUNREACH, ...); 0: none */
} vf_lookup_resolver_t;

typedef enum {
	VF_CHAIN_OK,
	VF_CHAIN_LOOP,   /* a CNAME pointed back into the chain */
	VF_CHAIN_TOOLONG /* more than VF_LOOKUP_MAX_CNAME hops */
} vf_chain_state_t;

/* What a lookup found. Plain data: what the findings are written from. */
typedef struct {
	int family;             /* CORE_AF_INET: A records were asked for; CORE_AF_INET6: AAAA */
	vf_lookup_kind_t kind;  /* when chain_state is not VF_CHAIN_OK the walk stopped there,
	                            without addresses, and kind is VF_LOOKUP_TIMEOUT */
	int rcode;              /* VF_LOOKUP_RCODE: the DNS RCODE (VF_RCODE_SERVFAIL, ...) */
	const char *rcode_name; /* its mnemonic, static; NULL when it has none */
	/* The chain of names, lower-case presentation form without the trailing
	 * dot: chain[0] is the requested name, the last one the final target (for
	 * a loop, the repeated name is appended; for a chain too long, the first
	 * target not followed). */
	char chain[VF_LOOKUP_MAX_CNAME + 2][VF_LOOKUP_NAME_MAX];
	size_t n_chain;
	vf_chain_state_t chain_state;
	/* VF_LOOKUP_ADDRS: the distinct addresses of the final name in the order
	 * of the answer, the first VF_LOOKUP_MAX_ADDRS kept, the others counted */
	core_addr_t addrs[VF_LOOKUP_MAX_ADDRS];
	size_t n_addrs, n_more;
	bool matched;   /* one of them is the address asked about */
	int elapsed_ms; /* of the resolver session when the lookup ended (vf_resolver_elapsed_ms) */
	/* the resolvers that did not answer an attempt (timed out, refused or
	 * unreachable) in the configured order, the first VF_LOOKUP_MAX_RESOLVERS
	 * kept, the others counted */
	vf_lookup_resolver_t resolvers[VF_LOOKUP_MAX_RESOLVERS];
	size_t n_resolvers, n_resolvers_more;
} vf_lookup_t;

/* The A (family CORE_AF_INET) or AAAA (CORE_AF_INET6) records of name (a host
 * name without the trailing dot, as core_hostname_normalize gives it), CNAMEs
 * followed at most VF_LOOKUP_MAX_CNAME hops, loops detected; each alias target
 * the answer does not resolve (another zone) is asked for in turn. want may be
 * NULL; else out->matched says whether it is among the addresses. Returns
 * RDNS_OK (*out filled, whatever it says) or RDNS_ENOMEM (also for a name
 * that ldns cannot read). */
int vf_lookup_addrs(vf_resolver_t *r, const char *name, int family, const core_addr_t *want,
                    vf_lookup_t *out);

/* Whether a lookup that did not confirm the address failed for a reason time can fix,
 * as forward DNS propagates: NXDOMAIN, NODATA, addresses without the one asked about, a
 * timeout, SERVFAIL. Not: a matched lookup, a CNAME loop or a chain too long, a refusal
 * or any other error rcode, answers that do not parse, resolvers that cannot be reached
 * (the provider's configuration, not the customer's DNS). Pure. */
bool vf_lookup_retryable(const vf_lookup_t *l);

/* Whether a lookup that did not confirm the address says so definitely, from answers about
 * the name itself: NXDOMAIN, NODATA, addresses without the one asked about, a CNAME loop
 * or a chain too long. Not: timeouts, error rcodes (SERVFAIL, REFUSED, ...), answers
 * that do not parse, resolvers that cannot be reached (they say nothing about the name).
 * Pure. */
bool vf_lookup_conclusive(const vf_lookup_t *l);

/* Whether the lookup ended on answers that settle it, matched or not: addresses (the one
 * asked about or others), NXDOMAIN, NODATA, a CNAME loop or a chain too long. Not: a
 * timeout or the deadline, an error rcode, answers that do not parse, resolvers that cannot
 * be reached, after any of which another try could end otherwise. Pure. */
bool vf_lookup_settled(const vf_lookup_t *l);

#endif
