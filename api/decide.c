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

const char *api_ptr_decision_str(api_ptr_decision_t d)
{
	switch (d) {
	case API_PTR_REFUSE: return "refuse";
	case API_PTR_REVIEW: return "review";
	case API_PTR_APPLY: return "apply";
	}
	return "?";
}
