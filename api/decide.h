/* decide.h - what becomes of a verified PTR set: refused, queued for staff review, or applied. */
#ifndef RDNS_API_DECIDE_H
#define RDNS_API_DECIDE_H

#include <stdbool.h>

typedef enum {
	API_PTR_REFUSE, /* 422 with the findings; recorded as failed_checks */
	API_PTR_REVIEW, /* 202; recorded as pending_review for staff to approve or reject */
	API_PTR_APPLY,  /* applied (200) */
	API_PTR_WAIT,   /* 202; recorded as waiting_forward for rdns-verifier to try again */
} api_ptr_decision_t;

/* The decision on a PTR set from the verifier's findings and the request:
 *  syntax_ok  - syntax and policy passed (vf_verdict_t.syntax_ok): nothing,
 *               not even a staff force, gets past a failure here;
 *  verified   - no check failed (vf_verdict_t.ok);
 *  force      - the caller asked to skip the forward check (staff only; the
 *               route refuses a customer's force before it gets here);
 *  has_reason - the caller gave an exception_reason;
 *  staff      - the caller is provider staff: staff do not ask for exceptions,
 *               they force, so a staff member's reason queues nothing.
 * Pure: no I/O, the same answer for the same arguments. */
api_ptr_decision_t api_ptr_decide(bool syntax_ok, bool verified, bool force, bool has_reason, bool staff);

/* api_ptr_decide with "wait_for_forward": wait - the caller asked to wait for forward
 * DNS; retryable - the forward check failed for a reason time can fix
 * (vf_verdict_t.forward_retryable). A failure that waiting can fix waits (before any
 * review: an exception is for names that will never confirm); anything else is decided
 * as api_ptr_decide decides it. Pure. */
api_ptr_decision_t api_ptr_decide_wait(bool syntax_ok, bool verified, bool force, bool has_reason, bool staff,
                                       bool wait, bool retryable);

/* "refuse", "review", "apply" or "wait" (for messages and tests). */
const char *api_ptr_decision_str(api_ptr_decision_t d);

#endif
