/* test_acl.c - unit tests for zonegen/acl: the transfer_allow grammar and source matching, as tables. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include "core/err.h"
#include "zonegen/acl.h"

#define N(t) (sizeof(t) / sizeof((t)[0]))

/* A source address as a socket would report it. */
static struct sockaddr_storage src(const char *text)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':') != NULL) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
		a6->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, text, &a6->sin6_addr) != 1)
			fail_msg("fixture address %s", text);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
		a4->sin_family = AF_INET;
		if (inet_pton(AF_INET, text, &a4->sin_addr) != 1)
			fail_msg("fixture address %s", text);
	}
	return ss;
}

/* Lists that load, with how many entries. */
static const struct {
	const char *list;
	size_t n;
} good[] = {
    {NULL, 0},
    {"", 0},
    {" \t,\n", 0},
    {"127.0.0.1 ::1", 2},
    {"10.0.0.0/8\t2001:db8::/32,192.0.2.7", 3},
    {"0.0.0.0/0 ::/0", 2},
    {",,10.0.0.0/8,,\n", 1},
    {"192.0.2.1/32", 1},
    {"2001:DB8::/32", 1},
    {"::ffff:10.0.0.0/104", 1},
    {"1:2:3:4:5:6:1.2.3.4", 1},
    /* The length keeps its strtol() grammar (see acl.c), wider than core_prefix_parse(). */
    {"10.0.0.0/024", 1},
    {"10.0.0.0/+8", 1},
    {"0.0.0.0/-0", 1},
};

static void test_acl_parse_good(void **state)
{
	for (size_t i = 0; i < N(good); i++) {
		int err = 1;
		zg_acl_t *a = zg_acl_new(good[i].list, &err);
		if (a == NULL || err != RDNS_OK)
			fail_msg("list \"%s\": err %d", good[i].list ? good[i].list : "(null)", err);
		if (zg_acl_count(a) != good[i].n)
			fail_msg("list \"%s\": %zu entries, want %zu", good[i].list ? good[i].list : "(null)",
			         zg_acl_count(a), good[i].n);
		zg_acl_free(a);
	}
}

/* Lists that do not: each is RDNS_ECONFIG. */
static const char *const bad[] = {
    "bogus",
    "10.0.0.1/8", /* host bits set */
    "10.0.0.0/33",
    "::/129",
    "10.0.0.0/",
    "10.0.0.0/8/8",
    "10.0.0.0/8x",
    "10.0.0.0/99999999999999999999",
    "/8",
    "127.0.0.1 bogus",
    "010.0.0.1", /* octal to some readers */
    "10.1",
    "1.2.3.256",
    "fe80::1%lo",
    "[::1]",
    "::1.2.3.04",
    "1::2::3",
    "12345::",
    "localhost",
    /* 80 characters in one entry */
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000",
};

static void test_acl_parse_bad(void **state)
{
	for (size_t i = 0; i < N(bad); i++) {
		int err = 0;
		zg_acl_t *a = zg_acl_new(bad[i], &err);
		if (a != NULL || err != RDNS_ECONFIG)
			fail_msg("list \"%s\": loaded (err %d)", bad[i], err);
	}
}

/* One list, many sources. */
static const struct {
	const char *src;
	bool allowed;
} match[] = {
    {"10.1.2.3", true},
    {"10.255.255.255", true},
    {"11.0.0.1", false},
    {"9.255.255.255", false},
    {"::ffff:10.1.2.3", true}, /* IPv4-mapped: matched as 10.1.2.3 */
    {"::ffff:11.1.2.3", false},
    {"2001:db8::1", true},
    {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true},
    {"2001:db9::1", false},
    {"192.0.2.7", true},
    {"192.0.2.6", false},
    {"192.0.2.8", false},
    {"198.51.100.0", true}, /* /23 */
    {"198.51.101.255", true},
    {"198.51.102.0", false},
    {"127.0.0.1", false},
    {"::1", false},
    {"::10.1.2.3", false}, /* IPv4-compatible is IPv6 */
};

static void test_acl_allows(void **state)
{
	int err;
	zg_acl_t *a = zg_acl_new("10.0.0.0/8\t2001:db8::/32,192.0.2.7 198.51.100.0/23", &err);
	assert_non_null(a);
	for (size_t i = 0; i < N(match); i++) {
		struct sockaddr_storage ss = src(match[i].src);
		if (zg_acl_allows(a, (struct sockaddr *)&ss) != match[i].allowed)
			fail_msg("source %s: %s", match[i].src, match[i].allowed ? "refused" : "allowed");
	}
	/* No source, or one that is not IP. */
	assert_false(zg_acl_allows(a, NULL));
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	assert_false(zg_acl_allows(a, (struct sockaddr *)&un));
	zg_acl_free(a);
}

static void test_acl_everyone_and_nobody(void **state)
{
	int err;
	const char *srcs[] = {"0.0.0.0", "203.0.113.9", "255.255.255.255",
	                      "::",      "2001:db8::1", "::ffff:1.2.3.4"};
	zg_acl_t *all = zg_acl_new("0.0.0.0/0 ::/0", &err);
	zg_acl_t *none = zg_acl_new(NULL, &err);
	zg_acl_t *v4 = zg_acl_new("0.0.0.0/0", &err);
	assert_non_null(all);
	assert_non_null(none);
	assert_non_null(v4);
	for (size_t i = 0; i < N(srcs); i++) {
		struct sockaddr_storage ss = src(srcs[i]);
		bool is_v4 = strchr(srcs[i], '.') != NULL;
		if (!zg_acl_allows(all, (struct sockaddr *)&ss))
			fail_msg("everyone: %s refused", srcs[i]);
		if (zg_acl_allows(none, (struct sockaddr *)&ss))
			fail_msg("nobody: %s allowed", srcs[i]);
		if (zg_acl_allows(v4, (struct sockaddr *)&ss) != is_v4)
			fail_msg("all IPv4: %s", srcs[i]);
	}
	zg_acl_free(all);
	zg_acl_free(none);
	zg_acl_free(v4);
	zg_acl_free(NULL);
	assert_int_equal(zg_acl_count(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_acl_parse_good),
	    cmocka_unit_test(test_acl_parse_bad),
	    cmocka_unit_test(test_acl_allows),
	    cmocka_unit_test(test_acl_everyone_and_nobody),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
