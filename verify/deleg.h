/* deleg.h - the lame-delegation check: does each named server answer authoritatively for
 * the child zone's SOA, and do their serials agree (what RIPE and APNIC check before they
 * delegate). The probe talks DNS; the wording is a pure function of its plain outcome. */
#ifndef RDNS_VERIFY_DELEG_H
#define RDNS_VERIFY_DELEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/hostname.h"
#include "verify/verdict.h"
#include "verify/verify.h"

/* Named servers of one delegation, and addresses asked per server. */
#define VF_DELEG_MAX_NS    13
#define VF_DELEG_MAX_ADDRS 4

/* How one address of a named server answered "<child zone> SOA", recursion not desired. */
typedef enum {
	VF_DELEG_AUTH,        /* NOERROR, AA set, the zone's SOA in the answer: serial */
	VF_DELEG_NOT_AUTH,    /* an answer without AA, or without the SOA (a referral, lame) */
	VF_DELEG_RCODE,       /* an error rcode (REFUSED: not configured for the zone; SERVFAIL ...) */
	VF_DELEG_TIMEOUT,     /* no answer in time */
	VF_DELEG_UNREACHABLE, /* refused or unreachable (nothing listens there) */
	VF_DELEG_BADANSWER,   /* answers that did not parse or match */
} vf_deleg_answer_t;

typedef struct {
	core_addr_t addr;
	vf_deleg_answer_t answer;
	int rcode;       /* VF_DELEG_RCODE */
	uint32_t serial; /* VF_DELEG_AUTH */
} vf_deleg_addr_t;

/* One named server. */
typedef struct {
	char name[CORE_HOSTNAME_MAX];
	/* its addresses (A and AAAA, through the configured resolvers); none: lookup says why */
	vf_deleg_addr_t addrs[VF_DELEG_MAX_ADDRS];
	size_t n_addrs;
	bool lookup_failed;  /* no address: the name does not resolve */
	bool lookup_timeout; /* ... because the resolvers did not answer in time */
} vf_deleg_server_t;

typedef struct {
	char zone[CORE_HOSTNAME_MAX]; /* the child zone, no trailing dot */
	vf_deleg_server_t servers[VF_DELEG_MAX_NS];
	size_t n_servers;
} vf_deleg_outcome_t;

/* Ask each of ns[0..n) (normalised host names, n <= VF_DELEG_MAX_NS) for zone's SOA: its
 * addresses from conf's resolvers, then each address directly on port (53 in production),
 * recursion not desired, all within conf's deadline from start. RDNS_OK (*out filled,
 * whatever it says), RDNS_EINVAL (n out of range), RDNS_ECONFIG or RDNS_ENOMEM. */
int vf_deleg_probe(const vf_verify_conf_t *conf, unsigned port, const char *zone, const char *const *ns,
                   size_t n, vf_deleg_outcome_t *out);

/* Findings, most VF_DELEG_MAX_NS + 1: one "delegation.server" per named server (pass: it
 * answered authoritatively at every address), then "delegation.serials" (pass: every
 * authoritative answer has the same serial). Pure. Returns the number written; *ok
 * whether none failed. */
size_t vf_deleg_findings(const vf_deleg_outcome_t *o, vf_check_t *out, size_t max, bool *ok);

/* Those findings as the JSON text of PTR checks (vf_checks_text: id, status, severity,
 * detail, next_step), what the PUT answers and stores and the re-check stores: malloc()ed,
 * NULL on allocation failure; *ok whether none failed. */
char *vf_deleg_findings_text(const vf_deleg_outcome_t *o, bool *ok);

/* What a periodic re-check concludes from an outcome. */
typedef enum {
	VF_DELEG_PASS,    /* every finding passes */
	VF_DELEG_LAME,    /* a definite failure: a server's own answer, a name without address
	                   * records, serials that disagree */
	VF_DELEG_UNKNOWN, /* failures only because the resolvers did not answer for the
	                   * servers' names: nothing said about the servers; ask again later */
} vf_deleg_conclusion_t;

/* Pure. A PUT refuses on any failed finding (the customer is there to retry); a
 * background re-check marks a published delegation lame only on a definite one. */
vf_deleg_conclusion_t vf_deleg_conclude(const vf_deleg_outcome_t *o);

#endif
