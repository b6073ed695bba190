/* lookup.h - a name's addresses with its CNAME chain followed, as a plain outcome (no DNS library types). */
#ifndef RDNS_API_LOOKUP_H
#define RDNS_API_LOOKUP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/addr.h"

/* Most CNAME hops followed from the requested name. */
#define API_LOOKUP_MAX_CNAME 8
/* Addresses kept in api_lookup_t.addrs; more are still compared and counted. */
#define API_LOOKUP_MAX_ADDRS 32
/* Longest presentation form of a name: 255 octets, each possibly \DDD. */
#define API_LOOKUP_NAME_MAX (255 * 4 + 1)

/* RCODEs the findings word apart (RFC 1035 section 4.1.1). */
#define API_RCODE_SERVFAIL 2
#define API_RCODE_REFUSED  5

typedef struct api_resolver api_resolver_t; /* verify/resolve.h */

/* How the lookup ended. */
typedef enum {
	API_LOOKUP_ADDRS,      /* the final name has address records */
	API_LOOKUP_NXDOMAIN,   /* the final name does not exist */
	API_LOOKUP_NODATA,     /* the final name exists without address records */
	API_LOOKUP_RCODE,      /* the resolvers answered an error rcode (SERVFAIL, REFUSED, ...) */
	API_LOOKUP_TIMEOUT,    /* no answer before the attempts or the deadline ran out */
	API_LOOKUP_BADANSWER,  /* only answers that did not match the query or did not parse */
	API_LOOKUP_UNREACHABLE /* every resolver refused or was unreachable: see resolvers[] */
} api_lookup_kind_t;

/* Resolvers named in api_lookup_t.resolvers; the others are counted. */
#define API_LOOKUP_MAX_RESOLVERS 4

/* A resolver that failed to answer at least once during the lookup. */
typedef struct {
	char name[56];  /* "ip:port" or "[v6]:port" */
	bool timed_out; /* an attempt had no answer in time */
	int neterr;     /* errno of its last refused or unreachable attempt (ECONNREFUSED,
	                   EHOSTUNREACH, ENETUNREACH, ...); 0: none */
} api_lookup_resolver_t;

typedef enum {
	API_CHAIN_OK,
	API_CHAIN_LOOP,   /* a CNAME pointed back into the chain */
	API_CHAIN_TOOLONG /* more than API_LOOKUP_MAX_CNAME hops */
} api_chain_state_t;

/* What a lookup found. Plain data: what the findings are written from. */
typedef struct {
	int family;             /* CORE_AF_INET: A records were asked for; CORE_AF_INET6: AAAA */
	api_lookup_kind_t kind; /* when chain_state is not API_CHAIN_OK the walk stopped there,
	                           without addresses, and kind is API_LOOKUP_TIMEOUT */
	int rcode;              /* API_LOOKUP_RCODE: the DNS RCODE (API_RCODE_SERVFAIL, ...) */
	const char *rcode_name; /* its mnemonic, static; NULL when it has none */
	/* The chain of names, lower-case presentation form without the trailing
	 * dot: chain[0] is the requested name, the last one the final target (for
	 * a loop, the repeated name is appended; for a chain too long, the first
	 * target not followed). */
	char chain[API_LOOKUP_MAX_CNAME + 2][API_LOOKUP_NAME_MAX];
	size_t n_chain;
	api_chain_state_t chain_state;
	/* API_LOOKUP_ADDRS: the distinct addresses of the final name in the order
	 * of the answer, the first API_LOOKUP_MAX_ADDRS kept, the others counted */
	core_addr_t addrs[API_LOOKUP_MAX_ADDRS];
	size_t n_addrs, n_more;
	bool matched;   /* one of them is the address asked about */
	int elapsed_ms; /* of the resolver session when the lookup ended (api_resolver_elapsed_ms) */
	/* the resolvers that did not answer an attempt (timed out, refused or
	 * unreachable) in the configured order, the first API_LOOKUP_MAX_RESOLVERS
	 * kept, the others counted */
	api_lookup_resolver_t resolvers[API_LOOKUP_MAX_RESOLVERS];
	size_t n_resolvers, n_resolvers_more;
} api_lookup_t;

/* The A (family CORE_AF_INET) or AAAA (CORE_AF_INET6) records of name (a host
 * name without the trailing dot, as core_hostname_normalize gives it), CNAMEs
 * followed at most API_LOOKUP_MAX_CNAME hops, loops detected; each alias target
 * the answer does not resolve (another zone) is asked for in turn. want may be
 * NULL; else out->matched says whether it is among the addresses. Returns
 * RDNS_OK (*out filled, whatever it says) or RDNS_ENOMEM (also for a name
 * that ldns cannot read). */
int api_lookup_addrs(api_resolver_t *r, const char *name, int family, const core_addr_t *want,
                     api_lookup_t *out);

#endif
