/* test_decide.c - unit tests for api/decide: refuse, review or apply, as a table of every case. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "api/decide.h"

#define N(t) (sizeof(t) / sizeof((t)[0]))

enum { REFUSE = API_PTR_REFUSE, REVIEW = API_PTR_REVIEW, APPLY = API_PTR_APPLY };

/* All 32 combinations. syntax: syntax and policy passed; verified: no check
 * failed; force; reason: an exception_reason was given; staff: the caller. */
static const struct {
	bool syntax, verified, force, reason, staff;
	int want;
} cases[] = {
    /* A name that fails syntax or policy is refused, whoever asks and however. */
    {0, 0, 0, 0, 0, REFUSE},
    {0, 0, 0, 0, 1, REFUSE},
    {0, 0, 0, 1, 0, REFUSE},
    {0, 0, 0, 1, 1, REFUSE},
    {0, 0, 1, 0, 0, REFUSE},
    {0, 0, 1, 0, 1, REFUSE},
    {0, 0, 1, 1, 0, REFUSE},
    {0, 0, 1, 1, 1, REFUSE},
    /* (verified without syntax cannot come from the verifier; still refused) */
    {0, 1, 0, 0, 0, REFUSE},
    {0, 1, 0, 0, 1, REFUSE},
    {0, 1, 0, 1, 0, REFUSE},
    {0, 1, 0, 1, 1, REFUSE},
    {0, 1, 1, 0, 0, REFUSE},
    {0, 1, 1, 0, 1, REFUSE},
    {0, 1, 1, 1, 0, REFUSE},
    {0, 1, 1, 1, 1, REFUSE},
    /* The forward check failed, no force: a customer's reason asks for review;
     * without one, or from staff (who force instead), it is refused. */
    {1, 0, 0, 0, 0, REFUSE},
    {1, 0, 0, 0, 1, REFUSE},
    {1, 0, 0, 1, 0, REVIEW},
    {1, 0, 0, 1, 1, REFUSE},
    /* Forced (the route lets only staff force): applied, reason or not. */
    {1, 0, 1, 0, 0, APPLY},
    {1, 0, 1, 0, 1, APPLY},
    {1, 0, 1, 1, 0, APPLY},
    {1, 0, 1, 1, 1, APPLY},
    /* Verified: applied; a reason changes nothing. */
    {1, 1, 0, 0, 0, APPLY},
    {1, 1, 0, 0, 1, APPLY},
    {1, 1, 0, 1, 0, APPLY},
    {1, 1, 0, 1, 1, APPLY},
    {1, 1, 1, 0, 0, APPLY},
    {1, 1, 1, 0, 1, APPLY},
    {1, 1, 1, 1, 0, APPLY},
    {1, 1, 1, 1, 1, APPLY},
};

static void test_decide_table(void **state)
{
	assert_int_equal(N(cases), 32);
	for (size_t i = 0; i < N(cases); i++) {
		api_ptr_decision_t got = api_ptr_decide(cases[i].syntax, cases[i].verified, cases[i].force,
		                                        cases[i].reason, cases[i].staff);
		if ((int)got != cases[i].want)
			fail_msg("syntax=%d verified=%d force=%d reason=%d staff=%d: %s, want %s",
			         cases[i].syntax, cases[i].verified, cases[i].force, cases[i].reason,
			         cases[i].staff, api_ptr_decision_str(got),
			         api_ptr_decision_str((api_ptr_decision_t)cases[i].want));
	}
}

/* The table has every combination once. */
static void test_decide_table_is_complete(void **state)
{
	unsigned seen = 0;
	for (size_t i = 0; i < N(cases); i++) {
		unsigned bit = 1u << (cases[i].syntax << 4 | cases[i].verified << 3 | cases[i].force << 2 |
		                      cases[i].reason << 1 | cases[i].staff);
		if (seen & bit)
			fail_msg("case %zu is listed twice", i);
		seen |= bit;
	}
	assert_int_equal(seen, 0xffffffffu);
}

/* The condition api/routes_ptr.c ptr_put had inline before api_ptr_decide (refused when
 * "!v.syntax_ok || (!v.ok && !force && (!reason || r->caller.staff))", else queued when
 * "!v.ok && !force", else applied): the function answers the same in every case. */
static void test_decide_matches_the_former_condition(void **state)
{
	for (unsigned m = 0; m < 32; m++) {
		bool syntax = m & 16, ok = m & 8, force = m & 4, reason = m & 2, staff = m & 1;
		int want = !syntax || (!ok && !force && (!reason || staff)) ? REFUSE
		           : !ok && !force                                  ? REVIEW
		                                                            : APPLY;
		assert_int_equal(api_ptr_decide(syntax, ok, force, reason, staff), want);
	}
}

static void test_decision_str(void **state)
{
	assert_string_equal(api_ptr_decision_str(API_PTR_REFUSE), "refuse");
	assert_string_equal(api_ptr_decision_str(API_PTR_REVIEW), "review");
	assert_string_equal(api_ptr_decision_str(API_PTR_APPLY), "apply");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decide_table),
	    cmocka_unit_test(test_decide_table_is_complete),
	    cmocka_unit_test(test_decide_matches_the_former_condition),
	    cmocka_unit_test(test_decision_str),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
