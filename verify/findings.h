/* findings.h - the verifier's wording: each check's status, detail and next step from a plain outcome. */
#ifndef RDNS_API_FINDINGS_H
#define RDNS_API_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/addr.h"
#include "verify/lookup.h"
#include "verify/verdict.h"

/* Each api_findings_<check>() is a pure function of its outcome: it sets
 * c->status, c->detail and c->next_step (empty when there is nothing to do)
 * and leaves c->id and c->severity to the caller. No I/O, no DNS. */

/* What core_hostname_normalize made of the requested name. */
typedef struct {
	const char *hostname; /* the normal form, when err == RDNS_OK */
	int err;              /* its result: RDNS_OK, RDNS_EINVAL or RDNS_ESPACE */
	const char *reason;   /* its predicate ("contains an underscore"), or NULL */
} api_syntax_outcome_t;

typedef enum {
	API_POLICY_OK,      /* in no listed domain */
	API_POLICY_SPECIAL, /* in a special-use or internal domain */
	API_POLICY_DENIED   /* in a domain the provider denies */
} api_policy_kind_t;

typedef struct {
	const char *hostname; /* normalised */
	int family;           /* of the address: CORE_AF_INET (A) or CORE_AF_INET6 (AAAA) */
	api_policy_kind_t kind;
	const char *suffix; /* the listed domain it is in, or NULL */
} api_policy_outcome_t;

typedef struct {
	const char *hostname;       /* normalised: chain[0] of the lookup */
	const core_addr_t *ip;      /* the address the PTR is for */
	bool skipped;               /* not looked up (a staff force) */
	const api_lookup_t *lookup; /* unless skipped */
} api_forward_outcome_t;

typedef struct {
	const char *hostname; /* normalised */
	unsigned flags;       /* core_hostname_generic's findings; 0: none */
	const char *why;      /* its explanation, or NULL or empty */
} api_generic_outcome_t;

void api_findings_syntax(const api_syntax_outcome_t *o, api_check_t *c);
void api_findings_policy(const api_policy_outcome_t *o, api_check_t *c);
void api_findings_forward(const api_forward_outcome_t *o, api_check_t *c);
void api_findings_generic(const api_generic_outcome_t *o, api_check_t *c);

/* api_verdict_t.found: for API_LOOKUP_ADDRS the addresses kept, canonical
 * text, ", "-separated, then " and N more" for those only counted (cut to
 * len); else "". */
void api_findings_found(const api_lookup_t *l, char *buf, size_t len);

#endif
