/* findings.h - the verifier's wording: each check's status, detail and next step from a plain outcome. */
#ifndef RDNS_VERIFY_FINDINGS_H
#define RDNS_VERIFY_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/addr.h"
#include "verify/lookup.h"
#include "verify/verdict.h"

/* Each vf_findings_<check>() is a pure function of its outcome: it sets
 * c->status, c->detail and c->next_step (empty when there is nothing to do)
 * and leaves c->id and c->severity to the caller. No I/O, no DNS. */

/* What core_hostname_normalize made of the requested name. */
typedef struct {
	const char *hostname; /* the normal form, when err == RDNS_OK */
	int err;              /* its result: RDNS_OK, RDNS_EINVAL or RDNS_ESPACE */
	const char *reason;   /* its predicate ("contains an underscore"), or NULL */
} vf_syntax_outcome_t;

typedef enum {
	VF_POLICY_OK,      /* in no listed domain */
	VF_POLICY_SPECIAL, /* in a special-use or internal domain */
	VF_POLICY_DENIED   /* in a domain the provider denies */
} vf_policy_kind_t;

typedef struct {
	const char *hostname; /* normalised */
	int family;           /* of the address: CORE_AF_INET (A) or CORE_AF_INET6 (AAAA) */
	vf_policy_kind_t kind;
	const char *suffix; /* the listed domain it is in, or NULL */
} vf_policy_outcome_t;

typedef struct {
	const char *hostname;      /* normalised: chain[0] of the lookup */
	const core_addr_t *ip;     /* the address the PTR is for */
	bool skipped;              /* not looked up (a staff force) */
	const vf_lookup_t *lookup; /* unless skipped */
} vf_forward_outcome_t;

typedef struct {
	const char *hostname; /* normalised */
	unsigned flags;       /* core_hostname_generic's findings; 0: none */
	const char *why;      /* its explanation, or NULL or empty */
} vf_generic_outcome_t;

void vf_findings_syntax(const vf_syntax_outcome_t *o, vf_check_t *c);
void vf_findings_policy(const vf_policy_outcome_t *o, vf_check_t *c);
void vf_findings_forward(const vf_forward_outcome_t *o, vf_check_t *c);
void vf_findings_generic(const vf_generic_outcome_t *o, vf_check_t *c);

/* vf_verdict_t.found: for VF_LOOKUP_ADDRS the addresses kept, canonical
 * text, ", "-separated, then " and N more" for those only counted (cut to
 * len); else "". */
void vf_findings_found(const vf_lookup_t *l, char *buf, size_t len);

#endif
