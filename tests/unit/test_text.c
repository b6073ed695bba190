/* test_text.c - unit tests for core/text: what an account name may hold, UTF-8, and the end
 * of a name prefix's range. */
#include <stdarg.h>
#include <stdbool.h>
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

static const struct {
	const char *in;
	bool valid;
} utf8[] = {
    {"", true},
    {"plain", true},
    {"M\xc3\xbcller", true},
    {"\xe6\x97\xa5", true},
    {"\xf0\x9f\x98\x80", true},
    {"\xf4\x8f\xbf\xbf", true},  /* U+10FFFF */
    {"\xed\x9f\xbf", true},      /* U+D7FF */
    {"\xc3", false},             /* cut short */
    {"\xc0\xaf", false},         /* overlong '/' */
    {"\xe0\x80\xaf", false},     /* overlong */
    {"\xed\xa0\x80", false},     /* U+D800, a surrogate */
    {"\xf4\x90\x80\x80", false}, /* past U+10FFFF */
    {"\xff", false},
    {"a\x80", false}, /* a lone continuation byte */
};

static void test_utf8_valid(void **state)
{
	for (size_t i = 0; i < N(utf8); i++)
		if (core_text_utf8_valid(utf8[i].in, strlen(utf8[i].in)) != utf8[i].valid)
			fail_msg("case %zu: '%s' should be %s", i, utf8[i].in,
			         utf8[i].valid ? "valid" : "invalid");
}

static const struct {
	const char *prefix;
	const char *end; /* "" when there is none */
} ends[] = {
    {"acme", "acmf"},
    {"a", "b"},
    {"customer-1", "customer-2"},
    {"z", "{"},
    {"\x7f", "\xc2\x80"},                       /* one byte to two */
    {"M\xc3\xbc", "M\xc3\xbd"},                 /* U+00FC to U+00FD */
    {"\xdf\xbf", "\xe0\xa0\x80"},               /* U+07FF to U+0800 */
    {"\xed\x9f\xbf", "\xee\x80\x80"},           /* U+D7FF to U+E000, past the surrogates */
    {"\xef\xbf\xbf", "\xf0\x90\x80\x80"},       /* U+FFFF to U+10000 */
    {"ab\xf4\x8f\xbf\xbf", "ac"},               /* a trailing U+10FFFF dropped */
    {"a\xf4\x8f\xbf\xbf\xf4\x8f\xbf\xbf", "b"}, /* two */
    {"\xf4\x8f\xbf\xbf", ""},                   /* all U+10FFFF: none */
    {"", ""},
};

static void test_prefix_end(void **state)
{
	for (size_t i = 0; i < N(ends); i++) {
		char out[16];
		memset(out, 'x', sizeof(out));
		size_t len = core_text_prefix_end(ends[i].prefix, out, strlen(ends[i].prefix) + 2);
		if (len != strlen(ends[i].end) || strcmp(out, ends[i].end) != 0)
			fail_msg("case %zu: got '%s' (%zu), want '%s'", i, out, len, ends[i].end);
		if (!core_text_utf8_valid(out, len))
			fail_msg("case %zu: the end is not UTF-8", i);
		/* it sorts after the prefix and after the prefix with anything after it */
		if (len && (strcmp(out, ends[i].prefix) <= 0))
			fail_msg("case %zu: the end does not sort after the prefix", i);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_name_table),
	    cmocka_unit_test(test_name_length),
	    cmocka_unit_test(test_utf8_valid),
	    cmocka_unit_test(test_prefix_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
