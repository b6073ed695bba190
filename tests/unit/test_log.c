/* test_log.c - unit tests for core/log: levels, the sink, zone and request context lines. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/log.h"

typedef struct {
	int n, level;
	char last[2048];
} cap_t;

static void cap(int level, const char *msg, void *arg)
{
	cap_t *c = arg;
	c->n++;
	c->level = level;
	snprintf(c->last, sizeof(c->last), "%s", msg);
}

static int setup(void **state)
{
	static cap_t c;
	memset(&c, 0, sizeof(c));
	log_set_sink(cap, &c);
	log_set_level(LOG_LVL_INFO);
	*state = &c;
	return 0;
}

static int teardown(void **state)
{
	log_set_sink(NULL, NULL);
	return 0;
}

static void test_levels(void **state)
{
	cap_t *c = *state;
	log_info("zonegen: started");
	assert_int_equal(c->n, 1);
	assert_int_equal(c->level, LOG_LVL_INFO);
	assert_string_equal(c->last, "zonegen: started");
	log_debug("zonegen: not shown %d", 1);
	assert_int_equal(c->n, 1);
	log_set_level(LOG_LVL_DEBUG);
	log_debug("zonegen: shown %d", 2);
	assert_int_equal(c->n, 2);
	assert_string_equal(c->last, "zonegen: shown 2");
	log_set_level(LOG_LVL_ERR);
	log_warn("x");
	assert_int_equal(c->n, 2);
	log_err("render: %s", "failed");
	assert_int_equal(c->level, LOG_LVL_ERR);
	assert_int_equal(log_level_parse("warning"), LOG_LVL_WARN);
	assert_int_equal(log_level_parse("debug"), LOG_LVL_DEBUG);
	assert_int_equal(log_level_parse("loud"), -1);
}

static void test_zone_context(void **state)
{
	cap_t *c = *state;
	log_zone_err("render", "2.0.192.in-addr.arpa.", "cannot write %s: %s", "/z/x.zone.tmp",
	             "No space left on device");
	assert_string_equal(
	    c->last,
	    "render: zone 2.0.192.in-addr.arpa: cannot write /z/x.zone.tmp: No space left on device");
	log_zone_warn("notify", "2.0.192.in-addr.arpa", "serial %u", 7u);
	assert_string_equal(c->last, "notify: zone 2.0.192.in-addr.arpa: serial 7");
	assert_int_equal(c->level, LOG_LVL_WARN);
	log_zone_debug("notify", "z", "hidden");
	assert_string_equal(c->last, "notify: zone 2.0.192.in-addr.arpa: serial 7");
}

static void test_zone_serial_context(void **state)
{
	cap_t *c = *state;
	log_zone_serial_info("notify", "2.0.192.in-addr.arpa.", 4294967295u, "%s: %s", "192.0.2.53:53",
	                     "acknowledged");
	assert_string_equal(c->last, "notify: zone 2.0.192.in-addr.arpa serial 4294967295: 192.0.2.53:53: "
	                             "acknowledged");
	assert_int_equal(c->level, LOG_LVL_INFO);
	log_zone_serial_warn("notify", ".", 0, "x");
	assert_string_equal(c->last, "notify: zone . serial 0: x"); /* the root keeps its dot */
	assert_int_equal(c->level, LOG_LVL_WARN);
	log_zone_serial_debug("notify", "z", 1, "hidden");
	assert_int_equal(c->n, 2);
	log_set_level(LOG_LVL_DEBUG);
	log_zone_serial_debug("notify", "z.", 1, "shown");
	assert_string_equal(c->last, "notify: zone z serial 1: shown");
	log_zone_serial_err("notify", NULL, 2, "no zone");
	assert_string_equal(c->last, "notify: zone  serial 2: no zone");
}

static void test_req_context(void **state)
{
	cap_t *c = *state;
	log_req_err("api", "PUT", "/v1/ptr/192.0.2.10", "database: %s", "gone");
	assert_string_equal(c->last, "api: PUT /v1/ptr/192.0.2.10: database: gone");
}

static void test_long_lines_are_cut(void **state)
{
	cap_t *c = *state;
	char big[4096];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_zone_info("render", big, "%s", big);
	assert_true(strlen(c->last) < 2048);
	assert_memory_equal(c->last, "render: zone xxx", 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_levels, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_zone_context, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_zone_serial_context, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_req_context, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_lines_are_cut, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
