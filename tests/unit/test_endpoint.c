/* test_endpoint.c - unit tests for core/endpoint: the one host[:port][@key] grammar. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "core/endpoint.h"
#include "core/err.h"

#define N(t) (sizeof(t) / sizeof((t)[0]))

enum { ANY = 0, LISTEN = CORE_EP_PORT_REQUIRED | CORE_EP_PORT_ZERO, NOTIFY = CORE_EP_NOTIFY };

typedef struct {
	const char *in;
	unsigned flags;
	const char *canon; /* NULL: refused */
	const char *why;   /* for a refusal: a fragment of the reason */
} ep_case_t;

static const ep_case_t cases[] = {
    /* the base forms, default port 53 */
    {"192.0.2.1", ANY, "192.0.2.1:53", NULL},
    {"192.0.2.1:5353", ANY, "192.0.2.1:5353", NULL},
    {"[2001:db8::1]", ANY, "[2001:db8::1]:53", NULL},
    {"[2001:DB8:0:0::1]:65535", ANY, "[2001:db8::1]:65535", NULL},
    {"2001:db8::1", ANY, "[2001:db8::1]:53", NULL},
    {"::1:53", ANY, "[::1:53]:53", NULL}, /* a bare v6's last group is never a port */
    {"::ffff:192.0.2.1", ANY, "[::ffff:192.0.2.1]:53", NULL},
    {"", ANY, NULL, "expected ip"},
    {"192.0.2.1:", ANY, NULL, "port"},
    {"192.0.2.1:0", ANY, NULL, "1 to 65535"},
    {"192.0.2.1:65536", ANY, NULL, "port"},
    {"192.0.2.1:+53", ANY, NULL, "port"},
    {"192.0.2.1:053x", ANY, NULL, "port"},
    {"192.0.2.1:123456", ANY, NULL, "port"},
    {"192.0.2", ANY, NULL, "not an IP address"},
    {"010.0.2.1", ANY, NULL, "not an IP address"},
    {" 192.0.2.1", ANY, NULL, "not an IP address"},
    {"ns1.example", ANY, NULL, "names are not resolved"},
    {"ns1.example:53", ANY, NULL, "not an IP address"},
    {"[192.0.2.1]:53", ANY, NULL, "brackets must hold an IPv6"},
    {"[192.0.2.1]:53", CORE_EP_BRACKET_V4, "192.0.2.1:53", NULL},
    {"[192.0.2.1]", CORE_EP_BRACKET_V4, "192.0.2.1:53", NULL},
    {"[ns1.example]:53", CORE_EP_BRACKET_V4, NULL, "brackets"},
    {"[2001:db8::1", ANY, NULL, "[ipv6]"},
    {"[2001:db8::1]53", ANY, NULL, "[ipv6]"},
    {"[2001:db8::1]:", ANY, NULL, "port"},
    {"[]:53", ANY, NULL, "brackets"},
    {"fe80::1%eth0", ANY, NULL, "not an IP address"},
    {"192.0.2.1@k", ANY, NULL, "not an IP address"}, /* no keys outside NOTIFY targets */
    /* listen addresses: a port is required, 0 allowed */
    {"127.0.0.1:8053", LISTEN, "127.0.0.1:8053", NULL},
    {"127.0.0.1:0", LISTEN, "127.0.0.1:0", NULL},
    {"[::1]:0", LISTEN, "[::1]:0", NULL},
    {"127.0.0.1", LISTEN, NULL, "expected ip:port"},
    {"[::1]", LISTEN, NULL, "expected ip:port"},
    {"::1:8053", LISTEN, NULL, "expected ip:port"},
    {"[::1]x", LISTEN, NULL, "expected ip:port"},
    {"127.0.0.1:65536", LISTEN, NULL, "0 to 65535"},
    /* NOTIFY targets: "@key" */
    {"192.0.2.1@k_2", NOTIFY, "192.0.2.1:53@k_2", NULL},
    {"[::1]:53@k.example", NOTIFY, "[::1]:53@k.example", NULL},
    {"2001:db8::1@k", NOTIFY, "[2001:db8::1]:53@k", NULL},
    {"@k", NOTIFY, NULL, "expected ip"},
    {"192.0.2.1@", NOTIFY, NULL, "key name"},
    {"192.0.2.1@k@k", NOTIFY, NULL, "key name"},
    {"192.0.2.1@bad key", NOTIFY, NULL, "key name"},
    {"192.0.2.1@.k", NOTIFY, NULL, "key name"},
    {"192.0.2.1@a..b", NOTIFY, NULL, "key name"},
    {"192.0.2.1@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NOTIFY,
     "192.0.2.1:53@"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     NULL},
    {"192.0.2.1@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NOTIFY, NULL, "key name"},
    /* NOTIFY targets are hosts: not unspecified, broadcast or multicast */
    {"0.0.0.0", NOTIFY, NULL, "unspecified"},
    {"0.0.0.0:53@k", NOTIFY, NULL, "unspecified"},
    {"[::]:53", NOTIFY, NULL, "unspecified"},
    {"::", NOTIFY, NULL, "unspecified"},
    {"::ffff:0.0.0.0", NOTIFY, NULL, "unspecified"},
    {"255.255.255.255", NOTIFY, NULL, "broadcast"},
    {"[::ffff:255.255.255.255]", NOTIFY, NULL, "broadcast"},
    {"224.0.0.1", NOTIFY, NULL, "multicast"},
    {"239.255.255.250:1900", NOTIFY, NULL, "multicast"},
    {"::ffff:224.0.0.251", NOTIFY, NULL, "multicast"},
    {"ff02::1", NOTIFY, NULL, "multicast"},
    {"[ff05::fb]:5353", NOTIFY, NULL, "multicast"},
    {"223.255.255.255", NOTIFY, "223.255.255.255:53", NULL},
    {"255.255.255.254", NOTIFY, "255.255.255.254:53", NULL},
    {"::1", NOTIFY, "[::1]:53", NULL},
    {"fe80::1", NOTIFY, "[fe80::1]:53", NULL},
    {"[fe00::1]", NOTIFY, "[fe00::1]:53", NULL},
    /* the listen grammar keeps the wildcard */
    {"0.0.0.0:8053", LISTEN, "0.0.0.0:8053", NULL},
    {"[::]:0", LISTEN, "[::]:0", NULL},
};

static void test_parse_table(void **state)
{
	for (size_t i = 0; i < N(cases); i++) {
		const ep_case_t *c = &cases[i];
		core_endpoint_t ep, before;
		const char *why = NULL;
		char buf[CORE_ENDPOINT_STRLEN];
		memset(&ep, 0x5a, sizeof(ep));
		before = ep;
		int rc = core_endpoint_parse(c->in, c->flags, 53, &ep, &why);
		if (c->canon == NULL) {
			if (rc != RDNS_EINVAL)
				fail_msg("parse(\"%s\", %u) = %d, want a refusal", c->in, c->flags, rc);
			if (why == NULL || strstr(why, c->why) == NULL)
				fail_msg("parse(\"%s\"): reason \"%s\" lacks \"%s\"", c->in,
				         why ? why : "(none)", c->why);
			if (memcmp(&ep, &before, sizeof(ep)) != 0)
				fail_msg("parse(\"%s\") wrote its output on error", c->in);
			continue;
		}
		if (rc != RDNS_OK)
			fail_msg("parse(\"%s\", %u) = %d (%s), want %s", c->in, c->flags, rc, why, c->canon);
		assert_int_equal(core_endpoint_format(&ep, buf, sizeof(buf)), RDNS_OK);
		if (strcmp(buf, c->canon) != 0)
			fail_msg("parse(\"%s\") -> \"%s\", want \"%s\"", c->in, buf, c->canon);
		/* the canonical form parses to itself */
		core_endpoint_t again;
		assert_int_equal(core_endpoint_parse(buf, c->flags | CORE_EP_KEY, 53, &again, NULL), RDNS_OK);
		assert_memory_equal(&again, &ep, sizeof(ep));
	}
}

static void test_null_and_why_optional(void **state)
{
	core_endpoint_t ep;
	const char *why = NULL;
	assert_int_equal(core_endpoint_parse(NULL, 0, 53, &ep, &why), RDNS_EINVAL);
	assert_non_null(why);
	assert_int_equal(core_endpoint_parse("bogus", 0, 53, &ep, NULL), RDNS_EINVAL);
	assert_int_equal(core_endpoint_parse("192.0.2.1", 0, 5300, &ep, NULL), RDNS_OK);
	assert_int_equal(ep.port, 5300);
}

static void test_format_space(void **state)
{
	core_endpoint_t ep;
	char buf[64];
	assert_int_equal(core_endpoint_parse("[2001:db8::53]:5353", 0, 53, &ep, NULL), RDNS_OK);
	assert_int_equal(core_endpoint_format(&ep, buf, 19), RDNS_ESPACE);
	assert_string_equal(buf, "");
	assert_int_equal(core_endpoint_format(&ep, buf, 20), RDNS_OK);
	assert_string_equal(buf, "[2001:db8::53]:5353");
}

static void test_sockaddr(void **state)
{
	core_endpoint_t ep;
	struct sockaddr_storage ss;
	socklen_t len;
	char text[INET6_ADDRSTRLEN];

	assert_int_equal(core_endpoint_parse("192.0.2.7:5300", LISTEN, 0, &ep, NULL), RDNS_OK);
	core_endpoint_sockaddr(&ep, &ss, &len);
	const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
	assert_int_equal(len, sizeof(*in));
	assert_int_equal(in->sin_family, AF_INET);
	assert_int_equal(ntohs(in->sin_port), 5300);
	assert_string_equal(inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text)), "192.0.2.7");

	assert_int_equal(core_endpoint_parse("[2001:db8::7]:0", LISTEN, 0, &ep, NULL), RDNS_OK);
	core_endpoint_sockaddr(&ep, &ss, &len);
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
	assert_int_equal(len, sizeof(*in6));
	assert_int_equal(in6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(in6->sin6_port), 0);
	assert_string_equal(inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text)), "2001:db8::7");
}

static void test_keyname(void **state)
{
	static const struct {
		const char *k;
		bool ok;
	} k[] = {
	    {"k", true},     {"xfr-key_1.example", true},
	    {"", false},     {".k", false},
	    {"a..b", false}, {"a b", false},
	    {"k@", false},   {"k\\", false},
	    {"é", false},
	};
	for (size_t i = 0; i < N(k); i++)
		if (core_tsig_keyname_ok(k[i].k) != k[i].ok)
			fail_msg("keyname_ok(\"%s\") != %d", k[i].k, k[i].ok);
	char long_name[CORE_TSIG_KEYNAME_MAX + 2];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_false(core_tsig_keyname_ok(long_name));
	long_name[CORE_TSIG_KEYNAME_MAX] = '\0';
	assert_true(core_tsig_keyname_ok(long_name));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_table),  cmocka_unit_test(test_null_and_why_optional),
	    cmocka_unit_test(test_format_space), cmocka_unit_test(test_sockaddr),
	    cmocka_unit_test(test_keyname),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
