/* test_worker.c - unit tests for the pure parts of rdns-verifier (issue 18): which forward
 * failures time can fix and which say the record drifted (verify/lookup.c), the wait decision
 * (api/decide.c) and rdns-verifier's backoff (verifier/backoff.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "api/decide.h"
#include "verifier/backoff.h"
#include "verify/lookup.h"

#define N(t) (sizeof(t) / sizeof((t)[0]))

static void test_retryable_table(void **state)
{
	(void)state;
	static const struct {
		vf_lookup_kind_t kind;
		int rcode;
		bool matched;
		vf_chain_state_t chain;
		bool want, conclusive,
		    settled; /* settled: vf_lookup_settled (verify_inline_ms keeps the verdict) */
	} cases[] = {
	    /* what propagation fixes */
	    {VF_LOOKUP_NXDOMAIN, 0, false, VF_CHAIN_OK, true, true, true},
	    {VF_LOOKUP_NODATA, 0, false, VF_CHAIN_OK, true, true, true},
	    {VF_LOOKUP_ADDRS, 0, false, VF_CHAIN_OK, true, true,
	     true}, /* the address missing from the answer */
	    {VF_LOOKUP_TIMEOUT, 0, false, VF_CHAIN_OK, true, false, false},
	    {VF_LOOKUP_RCODE, VF_RCODE_SERVFAIL, false, VF_CHAIN_OK, true, false, false},
	    /* what it does not */
	    {VF_LOOKUP_ADDRS, 0, true, VF_CHAIN_OK, false, false, true}, /* confirmed: nothing to wait for */
	    {VF_LOOKUP_RCODE, VF_RCODE_REFUSED, false, VF_CHAIN_OK, false, false, false},
	    {VF_LOOKUP_RCODE, 4 /* NOTIMP */, false, VF_CHAIN_OK, false, false, false},
	    {VF_LOOKUP_BADANSWER, 0, false, VF_CHAIN_OK, false, false, false},
	    {VF_LOOKUP_UNREACHABLE, 0, false, VF_CHAIN_OK, false, false, false},
	    {VF_LOOKUP_TIMEOUT, 0, false, VF_CHAIN_LOOP, false, true, true},
	    {VF_LOOKUP_TIMEOUT, 0, false, VF_CHAIN_TOOLONG, false, true, true},
	};
	for (size_t i = 0; i < N(cases); i++) {
		vf_lookup_t l;
		memset(&l, 0, sizeof(l));
		l.kind = cases[i].kind;
		l.rcode = cases[i].rcode;
		l.matched = cases[i].matched;
		l.chain_state = cases[i].chain;
		if (vf_lookup_retryable(&l) != cases[i].want)
			fail_msg("case %zu: kind %d rcode %d matched %d chain %d: want %d", i, cases[i].kind,
			         cases[i].rcode, cases[i].matched, cases[i].chain, cases[i].want);
		if (vf_lookup_conclusive(&l) != cases[i].conclusive)
			fail_msg("case %zu: conclusive should be %d", i, cases[i].conclusive);
		if (vf_lookup_settled(&l) != cases[i].settled)
			fail_msg("case %zu: settled should be %d", i, cases[i].settled);
	}
}

/* Every combination: wait only when asked, for a retryable forward failure of a name that
 * passed syntax and policy, without force; otherwise exactly api_ptr_decide. */
static void test_decide_wait_every_case(void **state)
{
	(void)state;
	for (unsigned m = 0; m < 128; m++) {
		bool syntax = m & 1, verified = m & 2, force = m & 4, reason = m & 8, staff = m & 16,
		     wait = m & 32, retry = m & 64;
		api_ptr_decision_t plain = api_ptr_decide(syntax, verified, force, reason, staff);
		api_ptr_decision_t d =
		    api_ptr_decide_wait(syntax, verified, force, reason, staff, wait, retry);
		bool want_wait = syntax && !verified && !force && wait && retry;
		if (want_wait ? d != API_PTR_WAIT : d != plain)
			fail_msg("case %u: got %s, plain %s", m, api_ptr_decision_str(d),
			         api_ptr_decision_str(plain));
	}
	/* A customer with a reason and wait: waiting comes first (time may fix it). */
	assert_int_equal(api_ptr_decide_wait(true, false, false, true, false, true, true), API_PTR_WAIT);
	/* Not retryable (a refusal, a CNAME loop): the reason still asks for review. */
	assert_int_equal(api_ptr_decide_wait(true, false, false, true, false, true, false), API_PTR_REVIEW);
	assert_string_equal(api_ptr_decision_str(API_PTR_WAIT), "wait");
}

static void test_backoff(void **state)
{
	(void)state;
	static const struct {
		int tries;
		long min, max, want;
	} cases[] = {
	    {1, 30000, 1800000, 30000},         {2, 30000, 1800000, 60000},   {3, 30000, 1800000, 120000},
	    {6, 30000, 1800000, 960000},        {7, 30000, 1800000, 1800000}, {1000, 30000, 1800000, 1800000},
	    {0, 30000, 1800000, 30000},         {-5, 30000, 1800000, 30000},  {3, 500, 100, 500},
	    {40, 1L << 40, 1L << 62, 1L << 62}, {1, 100, 5000, 100},          {7, 100, 5000, 5000},
	};
	for (size_t i = 0; i < N(cases); i++) {
		long got = vr_backoff_ms(cases[i].tries, cases[i].min, cases[i].max);
		if (got != cases[i].want)
			fail_msg("case %zu: tries %d min %ld max %ld: %ld, want %ld", i, cases[i].tries,
			         cases[i].min, cases[i].max, got, cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_retryable_table),
	    cmocka_unit_test(test_decide_wait_every_case),
	    cmocka_unit_test(test_backoff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
