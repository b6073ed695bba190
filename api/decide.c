/* decide.c - what becomes of a verified PTR set: refused, queued for staff review, or applied. */
#include "decide.h"

api_ptr_decision_t api_ptr_decide(bool syntax_ok, bool verified, bool force, bool has_reason, bool staff)
{
	if (!syntax_ok)
		return API_PTR_REFUSE;
	if (verified || force)
		return API_PTR_APPLY;
	/* The forward check failed: a customer's reason asks staff for an exception. */
	return has_reason && !staff ? API_PTR_REVIEW : API_PTR_REFUSE;
}

api_ptr_decision_t api_ptr_decide_wait(bool syntax_ok, bool verified, bool force, bool has_reason, bool staff,
                                       bool wait, bool retryable)
{
	api_ptr_decision_t d = api_ptr_decide(syntax_ok, verified, force, has_reason, staff);
	if (d != API_PTR_APPLY && syntax_ok && wait && retryable && !force)
		return API_PTR_WAIT;
	return d;
}

const char *api_ptr_decision_str(api_ptr_decision_t d)
{
	switch (d) {
	case API_PTR_REFUSE: return "refuse";
	case API_PTR_REVIEW: return "review";
	case API_PTR_APPLY: return "apply";
	case API_PTR_WAIT: return "wait";
	}
	return "?";
}
