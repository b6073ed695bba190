/* test_proxy.c - unit tests for api/proxy: PROXY protocol v1 and v2 headers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "api/http1.h"
#include "api/proxy.h"
#include "core/addr.h"
#include "core/err.h"

#define N(t) (sizeof(t) / sizeof((t)[0]))

static const struct {
	const char *in;
	int rc;
	const char *client; /* NULL: family 0 (the connection's own address stands) */
} v1_cases[] = {
    {"PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\nGET /", H1_OK, "192.0.2.7"},
    {"PROXY TCP6 2001:db8::7 2001:db8::1 56324 443\r\n", H1_OK, "2001:db8::7"},
    {"PROXY UNKNOWN\r\n", H1_OK, NULL},
    {"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n", H1_OK, NULL},
    {"PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r", H1_INCOMPLETE, NULL},
    {"PROXY TCP4 192.0.2.7", H1_INCOMPLETE, NULL},
    {"PROX", H1_INCOMPLETE, NULL},
    {"", H1_INCOMPLETE, NULL},
    {"PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\n", H1_ERROR, NULL},     /* bare LF */
    {"PROXY TCP4 2001:db8::7 198.51.100.1 56324 443\r\n", H1_ERROR, NULL}, /* family */
    {"PROXY TCP4 192.0.2.7 198.51.100.1 65536 443\r\n", H1_ERROR, NULL},
    {"PROXY TCP4 192.0.2.7 198.51.100.1 056 443\r\n", H1_ERROR, NULL},
    {"PROXY TCP4 192.0.2.7  198.51.100.1 1 443\r\n", H1_ERROR, NULL},
    {"PROXY TCP4 192.0.2.7 198.51.100.1 1\r\n", H1_ERROR, NULL},
    {"PROXY UDP4 192.0.2.7 198.51.100.1 1 2\r\n", H1_ERROR, NULL},
    {"GET / HTTP/1.1\r\n", H1_ERROR, NULL},
};

static void test_v1(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(v1_cases); i++) {
		core_addr_t a, want;
		size_t used = 0;
		const char *why = NULL;
		int rc = api_proxy_parse(v1_cases[i].in, strlen(v1_cases[i].in), &a, &used, &why);
		if (rc != v1_cases[i].rc)
			fail_msg("case %zu '%s': rc %d, want %d", i, v1_cases[i].in, rc, v1_cases[i].rc);
		if (rc == H1_ERROR)
			assert_non_null(why);
		if (rc != H1_OK)
			continue;
		assert_int_equal(used, (size_t)(strchr(v1_cases[i].in, '\n') - v1_cases[i].in) + 1);
		if (!v1_cases[i].client) {
			assert_int_equal(a.family, 0);
		} else {
			assert_int_equal(core_addr_parse(v1_cases[i].client, &want), RDNS_OK);
			assert_true(core_addr_equal(&a, &want));
		}
	}
}

static size_t v2(unsigned char *b, unsigned cmd, unsigned fam, const unsigned char *addrs, size_t alen)
{
	static const unsigned char sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
	                                      0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
	memcpy(b, sig, 12);
	b[12] = (unsigned char)(0x20 | cmd);
	b[13] = (unsigned char)fam;
	b[14] = (unsigned char)(alen >> 8);
	b[15] = (unsigned char)alen;
	memcpy(b + 16, addrs, alen);
	return 16 + alen;
}

static void test_v2(void **state)
{
	(void)state;
	unsigned char b[700], addrs[600] = {192, 0, 2, 9, 198, 51, 100, 1, 0x1f, 0x90, 0x01, 0xbb};
	core_addr_t a, want;
	size_t used;
	const char *why;
	size_t n = v2(b, 1, 0x11, addrs, 12);
	assert_int_equal(api_proxy_parse((char *)b, n, &a, &used, &why), H1_OK);
	assert_int_equal(used, 28);
	assert_int_equal(core_addr_parse("192.0.2.9", &want), RDNS_OK);
	assert_true(core_addr_equal(&a, &want));
	/* every shorter prefix is incomplete */
	for (size_t k = 0; k < n; k++)
		assert_int_equal(api_proxy_parse((char *)b, k, &a, &used, &why), H1_INCOMPLETE);
	/* TLVs after the addresses are skipped */
	n = v2(b, 1, 0x11, addrs, 40);
	assert_int_equal(api_proxy_parse((char *)b, n, &a, &used, &why), H1_OK);
	assert_int_equal(used, 56);
	/* IPv6 */
	unsigned char a6[36] = {0x20, 0x01, 0x0d, 0xb8, [15] = 7};
	n = v2(b, 1, 0x21, a6, 36);
	assert_int_equal(api_proxy_parse((char *)b, n, &a, &used, &why), H1_OK);
	assert_int_equal(core_addr_parse("2001:db8::7", &want), RDNS_OK);
	assert_true(core_addr_equal(&a, &want));
	/* LOCAL: no address */
	n = v2(b, 0, 0x00, addrs, 0);
	assert_int_equal(api_proxy_parse((char *)b, n, &a, &used, &why), H1_OK);
	assert_int_equal(a.family, 0);
	/* errors: too short for its addresses, UDP, an unknown command, too long */
	n = v2(b, 1, 0x11, addrs, 8);
	assert_int_equal(api_proxy_parse((char *)b, n, &a, &used, &why), H1_ERROR);
	n = v2(b, 1, 0x12, addrs, 12);
	assert_int_equal(api_proxy_parse((char *)b, n, &a, &used, &why), H1_ERROR);
	n = v2(b, 2, 0x11, addrs, 12);
	assert_int_equal(api_proxy_parse((char *)b, n, &a, &used, &why), H1_ERROR);
	n = v2(b, 1, 0x11, addrs, API_PROXY_MAX);
	assert_int_equal(api_proxy_parse((char *)b, 16, &a, &used, &why), H1_ERROR);
	(void)n;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_v1),
	    cmocka_unit_test(test_v2),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
