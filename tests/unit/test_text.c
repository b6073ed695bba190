/* test_text.c - unit tests for core/text: what an account name may hold. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/text.h"

#define N(t) (sizeof(t) / sizeof((t)[0]))

static const struct {
	const char *in;
	const char *why; /* NULL: fit; else a fragment of the reason */
} cases[] = {
    {"Acme Hosting", NULL},
    {"M\xc3\xbcller Rechenzentrum GmbH", NULL},
    {"\xe6\x97\xa5\xe6\x9c\xac", NULL},         /* CJK */
    {"\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d", NULL}, /* Hebrew, right to left by itself */
    {"Acme\xc2\xa0Hosting", NULL},              /* a no-break space inside is text */
    {"caf\xc3\xa9 \xf0\x9f\x98\x80", NULL},     /* an emoji */
    {"", "empty"},
    {" padded", "U+0020"},
    {"padded ", "U+0020"},
    {"\xc2\xa0"
     "nbsp",
     "U+00A0"}, /* a leading no-break space */
    {"nbsp\xc2\xa0", "U+00A0"},
    {"\xe3\x80\x80ideographic", "U+3000"},
    {"thin\xe2\x80\x89", "U+2009"},
    {"tab\there", "control"},
    {"line\nbreak", "control"},
    {"c1\xc2\x85"
     "control",
     "control"},
    {"del\x7f", "control"},
    {"invoice\xe2\x80\xaegpj.exe", "U+202E"}, /* right-to-left override */
    {"\xe2\x80\xaa"
     "lre",
     "U+202A"},
    {"pdf\xe2\x80\xac", "U+202C"},
    {"iso\xe2\x81\xa6late", "U+2066"},
    {"pdi\xe2\x81\xa9", "U+2069"},
    {"zero\xe2\x80\x8bwidth", "U+200B"},
    {"zw\xe2\x80\x8dj", "U+200D"},
    {"rlm\xe2\x80\x8f", "U+200F"},
    {"wj\xe2\x81\xa0", "U+2060"},
    {"\xef\xbb\xbf"
     "bom",
     "U+FEFF"},
    {"soft\xc2\xadhyphen", "U+00AD"},
    {"alm\xd8\x9c", "U+061C"},
    {"tag\xf3\xa0\x80\x81", "U+E0001"},
    {"hangul\xe3\x85\xa4"
     "filler",
     "U+3164"},
    {"line\xe2\x80\xa8sep", "U+2028"},
};

static void test_name_table(void **state)
{
	for (size_t i = 0; i < N(cases); i++) {
		char why[CORE_TEXT_WHY_MAX];
		const char *got = core_text_name_problem(cases[i].in, 200, why);
		if (!cases[i].why && got)
			fail_msg("case %zu refused: %s", i, got);
		if (cases[i].why && (!got || !strstr(got, cases[i].why)))
			fail_msg("case %zu: got %s, want a reason with '%s'", i, got ? got : "(fit)",
			         cases[i].why);
	}
}

static void test_name_length(void **state)
{
	char s[402], why[CORE_TEXT_WHY_MAX];
	memset(s, 'x', 200);
	s[200] = 0;
	assert_null(core_text_name_problem(s, 200, why));
	s[200] = 'x';
	s[201] = 0;
	assert_non_null(strstr(core_text_name_problem(s, 200, why), "at most 200"));
	for (int i = 0; i < 200; i++) /* 200 two-byte characters are 200, not 400 */
		memcpy(s + 2 * i, "\xc3\xbc", 2);
	s[400] = 0;
	assert_null(core_text_name_problem(s, 200, why));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_name_table),
	    cmocka_unit_test(test_name_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
