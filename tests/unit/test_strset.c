/* test_strset.c - unit tests for core/strset: membership against a reference model under
 * random adds and deletes (deletes in the middle of probe chains, iteration with deletion),
 * the way rdns-zonegen keeps the zones it serves. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/strset.h"

#define UNIVERSE 5000

static uint32_t rng = 12345;
static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static void name_of(unsigned k, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.10.in-addr.arpa", k % 256, k / 256);
}

static void check_model(const core_strset_t *s, const bool *in)
{
	char name[64];
	size_t n = 0;
	for (unsigned k = 0; k < UNIVERSE; k++) {
		name_of(k, name, sizeof(name));
		assert_int_equal(core_strset_has(s, name), in[k]);
		n += in[k];
	}
	assert_int_equal(s->n, n);
	size_t pos = 0, seen = 0;
	while (core_strset_next(s, &pos) != NULL)
		seen++;
	assert_int_equal(seen, n);
}

static void test_random_against_model(void **state)
{
	(void)state;
	core_strset_t s = CORE_STRSET_INIT;
	static bool in[UNIVERSE];
	char name[64];
	assert_false(core_strset_has(&s, "x"));
	assert_false(core_strset_del(&s, "x"));
	for (int round = 0; round < 40000; round++) {
		unsigned k = next_rand() % UNIVERSE;
		name_of(k, name, sizeof(name));
		if (next_rand() % 3 != 0) {
			assert_int_equal(core_strset_add(&s, name), RDNS_OK);
			in[k] = true;
		} else {
			assert_int_equal(core_strset_del(&s, name), in[k]);
			in[k] = false;
		}
		if (round % 5000 == 0)
			check_model(&s, in);
	}
	check_model(&s, in);
	assert_true(s.n * 2 <= s.cap);
	core_strset_clear(&s);
	assert_int_equal(s.n, 0);
	assert_false(core_strset_has(&s, name));
}

/* Delete every member with an odd number while iterating: none skipped, the rest kept. */
static void test_delete_while_iterating(void **state)
{
	(void)state;
	core_strset_t s = CORE_STRSET_INIT;
	char name[64];
	static bool in[UNIVERSE];
	for (unsigned k = 0; k < UNIVERSE; k++) {
		name_of(k, name, sizeof(name));
		assert_int_equal(core_strset_add(&s, name), RDNS_OK);
		assert_int_equal(core_strset_add(&s, name), RDNS_OK); /* again: no change */
		in[k] = true;
	}
	assert_int_equal(s.n, UNIVERSE);
	size_t pos = 0;
	const char *m;
	while ((m = core_strset_next(&s, &pos)) != NULL) {
		unsigned a, b;
		assert_int_equal(sscanf(m, "%u.%u.", &a, &b), 2);
		unsigned k = b * 256 + a;
		if (k % 2 == 1) {
			core_strset_del_at(&s, &pos);
			in[k] = false;
		}
	}
	check_model(&s, in);
	assert_int_equal(s.n, UNIVERSE / 2);
	core_strset_clear(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random_against_model),
	    cmocka_unit_test(test_delete_while_iterating),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
