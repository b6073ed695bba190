/* resolve.h - the verifier's DNS transport: one question to the configured resolvers, within a deadline. */
#ifndef RDNS_VERIFY_RESOLVE_H
#define RDNS_VERIFY_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

typedef struct {
	/* Resolvers to ask (recursion desired): "ip", "ip:port", "[v6]" or
	 * "[v6]:port" (core_endpoint_parse, CORE_EP_BRACKET_V4); a bare IPv6
	 * address means port 53. n_servers == 0: the nameservers of
	 * /etc/resolv.conf, port 53. */
	const char *const *servers;
	size_t n_servers;
	int query_timeout_ms; /* per query attempt; <= 0: 1000 */
	int retries;          /* extra rounds over all resolvers after the first; < 0: 2; at most 100 */
	int deadline_ms;      /* the whole session, from its start; <= 0: 5000 */
	/* Ask as of a name server, not a resolver: recursion desired clear (RFC 1034
	 * section 4.3.1), the servers' own data only (the delegation checks). */
	bool no_recursion;
} vf_resolver_conf_t;

/* A resolver session: the resolvers and one deadline shared by every query
 * asked through it. One per verification and thread; not shared. */
typedef struct vf_resolver vf_resolver_t;

/* How one question ended. */
typedef enum {
	VF_RESOLVE_ANSWER,     /* a NOERROR or NXDOMAIN answer to our question: reply */
	VF_RESOLVE_RCODE,      /* only error rcodes (SERVFAIL, REFUSED, ...): rcode, the last one */
	VF_RESOLVE_BADANSWER,  /* only datagrams that did not parse or did not match the question */
	VF_RESOLVE_TIMEOUT,    /* no answer before the rounds or the deadline ran out */
	VF_RESOLVE_UNREACHABLE /* every attempt was refused or unreachable (ICMP port or host
	                           unreachable on UDP, a refused TCP connection, no route): a
	                           fault of the resolvers, see vf_resolver_ns() */
} vf_resolve_status_t;

typedef struct {
	vf_resolve_status_t status;
	ldns_pkt *reply;      /* VF_RESOLVE_ANSWER: the answer, the caller's (ldns_pkt_free); else NULL */
	ldns_pkt_rcode rcode; /* VF_RESOLVE_RCODE: the error rcode */
} vf_resolve_result_t;

/* The monotonic clock in microseconds, the time base of start_us. */
int64_t vf_resolve_now_us(void);

/* A session whose deadline is start_us + conf->deadline_ms. conf may be NULL
 * (all defaults). Returns RDNS_OK (*out set), RDNS_ECONFIG (a resolver string
 * that does not parse, or no nameserver in /etc/resolv.conf) or RDNS_ENOMEM. */
int vf_resolver_new(const vf_resolver_conf_t *conf, int64_t start_us, vf_resolver_t **out);

/* Accepts NULL. */
void vf_resolver_free(vf_resolver_t *r);

/* Ask name (absolute) / qtype, class IN, recursion desired (unless the session's
 * no_recursion), EDNS 1232, a random
 * ID. Each round asks every resolver in turn over UDP from a fresh ephemeral
 * port, each attempt waiting at most the query timeout (less when the deadline
 * is nearer); a datagram that does not parse or does not match the question is
 * ignored and the wait goes on; a truncated answer is asked again over TCP. The
 * first NOERROR or NXDOMAIN answer ends it; an error rcode moves on to the next
 * resolver. Returns RDNS_OK (*out says how it ended) or RDNS_ENOMEM. */
int vf_resolve_query(vf_resolver_t *r, const ldns_rdf *name, ldns_rr_type qtype, vf_resolve_result_t *out);

/* Longest vf_resolver_ns_state_t.name, NUL included: "[v6]:65535". */
#define VF_RESOLVER_NAME_MAX 56

/* What one resolver of a session did over all its queries so far. */
typedef struct {
	const char *name; /* "ip:port" or "[v6]:port"; the session's */
	bool answered;    /* sent at least one answer that matched a query */
	bool timed_out;   /* at least one attempt had no answer in time */
	int neterr;       /* errno of its last refused or unreachable attempt (ECONNREFUSED,
	                     EHOSTUNREACH, ENETUNREACH, ...); 0: none */
} vf_resolver_ns_state_t;

/* How many resolvers the session asks, and what resolver i (< count) did. */
size_t vf_resolver_count(const vf_resolver_t *r);
void vf_resolver_ns(const vf_resolver_t *r, size_t i, vf_resolver_ns_state_t *out);

/* Milliseconds since the session's start; the deadline itself once a query
 * stopped for it or it has passed. */
int vf_resolver_elapsed_ms(const vf_resolver_t *r);

#endif
