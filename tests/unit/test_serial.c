/* test_serial.c - unit tests for core/serial: RFC 1982 comparison and the next SOA serial. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/serial.h"

#define N(t) (sizeof(t) / sizeof((t)[0]))

static const struct {
	uint32_t a, b;
	bool lt;
} lt_cases[] = {
    {1, 2, true},
    {2, 1, false},
    {5, 5, false}, /* equal is not less */
    {0, 0, false},
    {0xFFFFFFFF, 0, true}, /* wrap-around */
    {0, 0xFFFFFFFF, false},
    {0xFFFFFF00, 0x10, true},
    {0x10, 0xFFFFFF00, false},
    {0, 0x7FFFFFFF, true}, /* the farthest ahead that is still "greater" */
    {0x7FFFFFFF, 0, false},
    {0x80000000, 0xFFFFFFFF, true},
    {0xFFFFFFFF, 0x7FFFFFFE, true},
    {0xFFFFFFFF, 0x7FFFFFFF, false}, /* 2^31 apart */
    {0x7FFFFFFF, 0xFFFFFFFF, false},
    {0, 0x80000000, false}, /* 2^31 apart: undefined, not less either way */
    {0x80000000, 0, false},
    {1, 0x80000001, false},
    {0x80000001, 1, false},
    {0, 0x80000001, false}, /* more than 2^31 ahead is behind */
    {0x80000001, 0, true},
    {2024010101, 2024010102, true},
};

static void test_serial_lt(void **state)
{
	for (size_t i = 0; i < N(lt_cases); i++)
		if (core_serial_lt(lt_cases[i].a, lt_cases[i].b) != lt_cases[i].lt)
			fail_msg("lt(%#x, %#x) != %d", (unsigned)lt_cases[i].a, (unsigned)lt_cases[i].b,
			         lt_cases[i].lt);
}

/* RFC 1982 3.2: for a defined pair exactly one of <, >, = holds. */
static void test_serial_lt_trichotomy(void **state)
{
	static const uint32_t samples[] = {0,          1,          2,          0x7FFFFFFE,
	                                   0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFE,
	                                   0xFFFFFFFF, 12345,      2024010101};
	for (size_t i = 0; i < N(samples); i++)
		for (size_t j = 0; j < N(samples); j++) {
			uint32_t a = samples[i], b = samples[j];
			int relations = (a == b) + core_serial_lt(a, b) + core_serial_lt(b, a);
			int want = (uint32_t)(b - a) == 0x80000000u ? 0 : 1;
			if (relations != want)
				fail_msg("%#x vs %#x: %d relations hold", (unsigned)a, (unsigned)b,
				         relations);
		}
}

static const struct {
	uint32_t cur, now, next;
} next_cases[] = {
    {100, 200, 200},                      /* clock ahead: take the clock */
    {1700000000, 1700000060, 1700000060}, /* typical unix-time serial */
    {200, 100, 201},                      /* clock behind: step */
    {200, 200, 201},                      /* equal: step */
    {2024010101, 1700000000, 2024010102}, /* date-style serial ahead of the clock */
    {0xFFFFFFFF, 0xFFFFFFFF, 0},          /* wrap to 0 */
    {0xFFFFFFFF, 0x80000000, 0},          /* clock behind by wrap distance: step, wraps */
    {0xFFFFFFFF, 5, 5},                   /* the clock is ahead across the wrap */
    {0xFFFFFFF0, 3, 3},
    {0, 0x7FFFFFFF, 0x7FFFFFFF}, /* at most 2^31 - 1 ahead */
    {0, 0x80000000, 1},          /* exactly 2^31 ahead is undefined: step */
    {0, 0x80000001, 1},          /* more than 2^31 ahead is behind */
    {0x7FFFFFFF, 0x80000000, 0x80000000},
    {0x80000000, 0x7FFFFFFF, 0x80000001},
};

static void test_serial_next(void **state)
{
	for (size_t i = 0; i < N(next_cases); i++) {
		uint32_t got = core_serial_next(next_cases[i].cur, next_cases[i].now);
		if (got != next_cases[i].next)
			fail_msg("next(%#x, now %#x) = %#x, want %#x", (unsigned)next_cases[i].cur,
			         (unsigned)next_cases[i].now, (unsigned)got, (unsigned)next_cases[i].next);
		/* whatever the clock says, a secondary sees the new serial as newer */
		assert_true(core_serial_lt(next_cases[i].cur, got));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_serial_lt),
	    cmocka_unit_test(test_serial_lt_trichotomy),
	    cmocka_unit_test(test_serial_next),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
