/* test_bodies.c - unit tests for api/bodies: every body route has its check, and the checks
 * answer as the handlers do, without a database or a connection. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "api/bodies.h"
#include "core/conf.h"
#include "core/err.h"

#define N(t) (sizeof(t) / sizeof((t)[0]))

static void test_cover(void **state)
{
	const api_route_t *missing;
	const api_body_check_t *stale;
	bool ok = api_body_checks_cover(&missing, &stale);
	if (missing)
		print_error("no api_body_checks entry for %s %s\n", missing->method, missing->pattern);
	if (stale)
		print_error("api_body_checks entry %s %s takes no body\n", stale->method, stale->pattern);
	assert_true(ok);
}

/* A body, a route (method and pattern), a caller, and the status it answers (0: accepted). */
static const struct {
	const char *method, *pattern, *body;
	bool staff;
	unsigned want;
} cases[] = {
    {"PUT", "/v1/ptr/*", "{\"hostname\": \"mail.example.com\"}", false, 0},
    {"PUT", "/v1/ptr/*", "{\"hostname\": \"mail.example.com\", \"force\": true}", false, 403},
    {"PUT", "/v1/ptr/*", "{\"hostname\": \"mail.example.com\", \"force\": true}", true, 0},
    {"PUT", "/v1/ptr/*", "{\"hostname\": \"a.example\", \"exception_reason\": \"\"}", false, 400},
    {"PUT", "/v1/ptr/*", "{\"hostname\": null}", false, 400},
    {"POST", "/v1/requests/*/approve", "{\"note\": \"ok\"}", true, 0},
    {"POST", "/v1/requests/*/reject", "{\"reason\": \"no\"}", true, 400},
    {"POST", "/v1/accounts", "{\"name\": \"Example\", \"role\": \"customer\"}", true, 0},
    {"POST", "/v1/accounts", "{\"name\": \"Example\", \"role\": \"admin\"}", true, 400},
    {"POST", "/v1/accounts", "{\"name\": \" x\", \"role\": \"staff\"}", true, 400},
    {"POST", "/v1/accounts/*/tokens", "{}", true, 0},
    {"POST", "/v1/accounts/*/tokens", "{\"name\": \"ci\"}", true, 400},
    {"POST", "/v1/allocations", "{\"account_id\": 2, \"prefix\": \"192.0.2.0/24\"}", true, 0},
    {"POST", "/v1/allocations", "{\"account_id\": 2, \"prefix\": \"192.0.2.1/24\"}", true, 400},
    {"POST", "/v1/allocations", "{\"account_id\": 0, \"prefix\": \"192.0.2.0/24\"}", true, 400},
    {"POST", "/v1/zones", "{\"prefix\": \"192.0.2.0/24\", \"nameservers\": [\"NS1.Example.net.\"]}", true, 0},
    {"POST", "/v1/zones", "{\"prefix\": \"192.0.2.0/25\", \"nameservers\": [\"ns1.example.net\"]}", true,
     400},
    {"POST", "/v1/zones",
     "{\"prefix\": \"10.0.0.0/8\", \"nameservers\": [\"ns1.example.net\"], \"default_ptr\": "
     "\"{d}.localhost\"}",
     true, 400},
    {"PATCH", "/v1/zones/*", "{\"ttl\": 60}", true, 0},
    {"PUT", "/v1/delegations/*/*", "{\"nameservers\": [\"NS1.Example.net.\", \"ns2.example.net\"]}", false,
     0},
    {"PUT", "/v1/delegations/*/*", "{\"nameservers\": []}", false, 400},
    {"POST", "/v1/ptr:batch",
     "{\"items\": [{\"ip\": \"192.0.2.1\", \"hostname\": \"a.example.net\"}, {\"ip\": \"x\", \"reset\": "
     "true}]}",
     false, 0},
    {"POST", "/v1/ptr:batch",
     "{\"items\": [{\"ip\": \"192.0.2.1\", \"hostname\": \"a.example.net\", \"reset\": true}]}", false, 400},
    {"POST", "/v1/ptr:batch", "{\"items\": [{\"ip\": \"192.0.2.1\", \"reset\": false}]}", false, 400},
    {"POST", "/v1/ptr:batch", "{\"items\": []}", false, 400},
    {"POST", "/v1/ptr:batch", "{\"items\": [1]}", false, 400},
    {"POST", "/v1/ptr:batch",
     "{\"prefix\": \"198.51.100.0/29\", \"template\": \"host-{d}.example.net\", \"atomic\": true}", false, 0},
    {"POST", "/v1/ptr:batch", "{\"prefix\": \"198.51.100.0/22\", \"template\": \"host-{d}.example.net\"}",
     false, 400},
    {"POST", "/v1/ptr:batch", "{\"prefix\": \"2001:db8::/120\", \"template\": \"host-{d}.example.net\"}",
     false, 400},
    {"POST", "/v1/ptr:batch", "{\"prefix\": \"198.51.100.0/29\", \"template\": \"host-{x}.example.net\"}",
     false, 400},
    {"POST", "/v1/ptr:batch", "{\"prefix\": \"198.51.100.0/29\"}", false, 400},
    {"PUT", "/v1/delegations/*/*", "{\"nameservers\": [\"ns1.example.net\", \"NS1.example.net\"]}", false,
     400},
    {"PUT", "/v1/delegations/*/*", "{\"nameservers\": [\"ns1.localhost\"]}", false, 400},
    {"PUT", "/v1/delegations/*/*", "{\"nameservers\": [\"a b\"]}", false, 400},
    {"PUT", "/v1/delegations/*/*", "{\"nameservers\": \"ns1.example.net\"}", false, 400},
    {"PUT", "/v1/delegations/*/*", "{\"nameservers\": [\"ns1.example.net\"], \"force\": true}", false, 403},
    {"PUT", "/v1/delegations/*/*", "{\"nameservers\": [\"ns1.example.net\"], \"force\": true}", true, 0},
    {"PATCH", "/v1/zones/*", "{}", true, 400},
};

static const api_body_check_t *check_of(const char *method, const char *pattern)
{
	for (const api_body_check_t *c = api_body_checks; c->method; c++)
		if (strcmp(c->method, method) == 0 && strcmp(c->pattern, pattern) == 0)
			return c;
	return NULL;
}

static void test_cases(void **state)
{
	rdns_conf_t conf;
	char err[256];
	assert_int_equal(conf_load(&conf, NULL, err, sizeof(err)), RDNS_OK);
	for (size_t i = 0; i < N(cases); i++) {
		const api_body_check_t *c = check_of(cases[i].method, cases[i].pattern);
		assert_non_null(c);
		json_t *body = json_loads(cases[i].body, JSON_REJECT_DUPLICATES, NULL);
		assert_non_null(body);
		api_req_t r = {.conf = &conf, .method = (char *)c->method, .json = body, .authed = true};
		r.params[0] = c->param;
		r.caller.staff = cases[i].staff;
		api_body_t out;
		bool ok = c->check(&r, &out);
		if (ok != (cases[i].want == 0) || r.status != cases[i].want)
			print_error("case %zu: %s %s %s: status %u, want %u\n", i, c->method, c->pattern,
			            cases[i].body, r.status, cases[i].want);
		assert_int_equal(r.status, cases[i].want);
		assert_int_equal(ok, cases[i].want == 0);
		assert_int_equal(r.out != NULL, cases[i].want != 0);
		if (ok && c->kind == API_BODY_ZONE_CREATE) /* names normalised, SOA defaulted */
			assert_string_equal(out.zone.rname, "hostmaster.example.net");
		free(r.out);
		json_decref(body);
	}
	conf_free(&conf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cover),
	    cmocka_unit_test(test_cases),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
