/* test_csp.c - unit tests for core/csp: the CSP source grammar of panel_frame_ancestors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/csp.h"

#define N(t) (sizeof(t) / sizeof((t)[0]))

typedef struct {
	const char *in;
	const char *why; /* NULL: accepted; else a fragment of the refusal */
} csp_case_t;

static const csp_case_t cases[] = {
    {"'none'", NULL},
    {"'NONE'", NULL},
    {"'self'", NULL},
    {"https:", NULL},
    {"chrome-extension:", NULL},
    {"https://my.example.net", NULL},
    {"https://my.example.net:8443", NULL},
    {"https://my.example.net:*", NULL},
    {"https://my.example.net/embed/", NULL},
    {"my.example.net", NULL},
    {"*.example.net", NULL},
    {"https://*.example.net", NULL},
    {"*", NULL},
    {"http://192.0.2.10:8080", NULL},
    {"", "empty"},
    {"'unsafe-inline'", "not a source"},
    {"'nonce-abc'", "not a source"},
    {"'self", "not a source"},
    {"https://a.example;script-src *", "may not hold"},
    {"https://a.example,b.example", "may not hold"},
    {"https://a.example b.example", "may not hold"},
    {"https://a.example\r\nSet-Cookie: x", "may not hold"},
    {"https://a.example/p'q", "may not hold"},
    {"https://b\xc3\xa4r.example", "may not hold"},
    {"https://a..example", "empty label"},
    {"https://", "no host"},
    {"*.", "no host after"},
    {"https://a.example:", "bad port"},
    {"https://a.example:123456", "bad port"},
    {"https://a.example:8x", "may not hold"},
    {"/path", "no host"},
};

static void test_sources(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		const char *why = NULL;
		bool ok = core_csp_source_ok(cases[i].in, &why);
		if (cases[i].why == NULL && !ok)
			fail_msg("'%s' refused: %s", cases[i].in, why);
		if (cases[i].why != NULL) {
			if (ok)
				fail_msg("'%s' accepted", cases[i].in);
			if (!why || !strstr(why, cases[i].why))
				fail_msg("'%s': reason '%s' lacks '%s'", cases[i].in, why ? why : "(none)",
				         cases[i].why);
		}
	}
}

static void test_length_and_null(void **state)
{
	(void)state;
	char long_src[CORE_CSP_SOURCE_MAX + 2];
	memset(long_src, 'a', sizeof(long_src) - 1);
	long_src[sizeof(long_src) - 1] = 0;
	const char *why = NULL;
	assert_false(core_csp_source_ok(long_src, &why));
	assert_non_null(strstr(why, "longer than"));
	long_src[CORE_CSP_SOURCE_MAX] = 0; /* exactly the limit */
	assert_true(core_csp_source_ok(long_src, NULL));
	assert_false(core_csp_source_ok(NULL, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sources),
	    cmocka_unit_test(test_length_and_null),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
