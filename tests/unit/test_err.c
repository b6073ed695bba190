/* test_err.c - unit tests for core/err: every code has its own message. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/err.h"

/* The codes run from RDNS_OK down to the last one without gaps. */
#define LAST RDNS_EDELEGATED

static void test_err_messages(void **state)
{
	for (int e = RDNS_OK; e >= LAST; e--) {
		const char *m = rdns_strerror(e);
		assert_non_null(m);
		if (strcmp(m, "unknown error") == 0)
			fail_msg("code %d has no message", e);
		for (int o = e + 1; o <= RDNS_OK; o++)
			if (strcmp(m, rdns_strerror(o)) == 0)
				fail_msg("codes %d and %d share the message \"%s\"", e, o, m);
	}
	assert_string_equal(rdns_strerror(LAST - 1), "unknown error");
	assert_string_equal(rdns_strerror(1), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_err_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
