/* verdict.h - the verifier's findings as data (vf_check_t, vf_verdict_t) and their JSON text. */
#ifndef RDNS_VERIFY_VERDICT_H
#define RDNS_VERIFY_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/hostname.h"

/* Size of vf_verdict_t.found: the forward addresses found, as text. */
#define VF_VERIFY_FOUND_MAX 512

/* Size of vf_verdict_t.checks: at least the rows of the check table in verify.c. */
#define VF_VERIFY_CHECKS_MAX 4

typedef enum { VF_CHECK_PASS, VF_CHECK_FAIL, VF_CHECK_WARN } vf_check_status_t;
typedef enum { VF_SEV_LOW, VF_SEV_MEDIUM, VF_SEV_HIGH } vf_check_severity_t;

/* One finding. id is a static string: "syntax", "policy", "forward" or
 * "generic". detail says what was found; next_step what the customer should
 * do about it (empty when there is nothing to do). Both are plain sentences
 * meant for customers and staff. */
typedef struct {
	const char *id;
	vf_check_status_t status;
	vf_check_severity_t severity;
	char detail[512];
	char next_step[512];
} vf_check_t;

typedef struct {
	/* normalised, when syntax passed; else empty */
	char hostname[CORE_HOSTNAME_MAX];
	/* in the order of the check table in verify.c: syntax, policy, forward, generic */
	vf_check_t checks[VF_VERIFY_CHECKS_MAX];
	/* checks used: 1 when syntax fails; 3 (no forward) when policy fails; else 4 */
	size_t n;
	bool ok;        /* no check failed (warnings allowed) */
	bool syntax_ok; /* syntax and policy passed (a staff force still needs this) */
	/* the final forward addresses found, canonical text, ", "-separated; empty
	 * when none or not queried */
	char found[VF_VERIFY_FOUND_MAX];
	/* the forward check failed for a reason time can fix (vf_lookup_retryable): a PUT
	 * with "wait_for_forward" waits for it instead of failing */
	bool forward_retryable;
	/* the forward check failed on a definite answer about the name (vf_lookup_conclusive):
	 * re-verification calls a record drifted only then, never for a resolver's trouble */
	bool forward_conclusive;
	/* the forward check's lookup ended without an answer that settles it (a timeout, the
	 * deadline, an unreachable resolver, an error rcode, a bad reply): another try, with
	 * more time or retries, could end otherwise. False when the check did not query. */
	bool dns_unsettled;
} vf_verdict_t;

/* The checks as compact JSON text (malloc()ed; NULL on allocation failure): an
 * array of objects {"id", "status": "pass|fail|warn", "severity":
 * "high|medium|low", "detail", "next_step"}, in order, ASCII only. What is stored
 * with a request and what a successful PUT answers, written once per PUT. */
char *vf_verdict_checks_text(const vf_verdict_t *v);
/* Any n findings c[0..n) as that text: the PTR checks' shape, which the lame-delegation
 * findings share (verify/deleg.c). */
char *vf_checks_text(const vf_check_t *c, size_t n);
/* The same as a new jansson array (the caller owns the reference), or NULL. */
json_t *vf_verdict_checks_json(const vf_verdict_t *v);

/* Static text for a status ("pass", "fail", "warn") or severity ("high",
 * "medium", "low"). */
const char *vf_verify_status_str(vf_check_status_t s);
const char *vf_verify_severity_str(vf_check_severity_t s);

#endif
