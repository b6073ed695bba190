/* test_id.c - unit tests for core/id: the one decimal id grammar of paths, queries and tokens. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/id.h"

#define N(t) (sizeof(t) / sizeof((t)[0]))

static const struct {
	const char *s;
	size_t span;
} cases[] = {
    {"1", 1},
    {"42", 2},
    {"42_secret", 2}, /* a token's id, up to its '_' */
    {"987654321098765432", 18},
    {"9876543210987654321", 0}, /* 19 digits */
    {"0", 0},
    {"01", 0}, /* a leading zero: 01 is not how the API writes 1 */
    {"03_secret", 0},
    {"007", 0},
    {"", 0},
    {"-1", 0},
    {"+1", 0},
    {" 1", 0},
    {"abc", 0},
    {"1.0", 1}, /* the caller decides what may follow */
};

static void test_id_span(void **state)
{
	for (size_t i = 0; i < N(cases); i++) {
		size_t got = core_id_span(cases[i].s);
		if (got != cases[i].span)
			fail_msg("core_id_span(\"%s\") = %zu, want %zu", cases[i].s, got, cases[i].span);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_id_span),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
