/* test_tsig_replay.c - unit tests for zonegen/tsig_replay: the per-key replay rule as a table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "zonegen/tsig_replay.h"

#define T0 1790000000u

typedef struct {
	const char *what;
	size_t key;
	uint64_t time_signed;
	uint16_t fudge;
	uint8_t mac_seed; /* the MAC: 32 bytes of this value */
	zg_tsig_replay_verdict_t want;
	uint64_t want_newest; /* newest for the key before the call */
} step_t;

static void test_rule_table(void **state)
{
	/* One sequence, in order: each step sees the state the earlier ones left. */
	static const step_t steps[] = {
	    {"first request for key 0", 0, T0, 300, 1, ZG_TSIG_REPLAY_FRESH, 0},
	    {"the same signed request again", 0, T0, 300, 1, ZG_TSIG_REPLAY_DUPLICATE, T0},
	    {"another request a second later", 0, T0 + 1, 300, 2, ZG_TSIG_REPLAY_FRESH, T0},
	    {"another secondary's, signed earlier, out of order", 0, T0 - 2, 300, 3, ZG_TSIG_REPLAY_FRESH,
	     T0 + 1},
	    {"an out-of-order one replayed", 0, T0 - 2, 300, 3, ZG_TSIG_REPLAY_DUPLICATE, T0 + 1},
	    {"a fast clock moves newest on", 0, T0 + 250, 300, 4, ZG_TSIG_REPLAY_FRESH, T0 + 1},
	    {"exactly the fudge before newest", 0, T0 - 50, 300, 5, ZG_TSIG_REPLAY_FRESH, T0 + 250},
	    {"a second beyond the fudge", 0, T0 - 51, 300, 6, ZG_TSIG_REPLAY_STALE, T0 + 250},
	    {"an early one replayed, within the fudge: a duplicate", 0, T0, 300, 1, ZG_TSIG_REPLAY_DUPLICATE,
	     T0 + 250},
	    {"a wider fudge of the request's own", 0, T0 - 51, 600, 7, ZG_TSIG_REPLAY_FRESH, T0 + 250},
	    {"key 1 is unaffected by key 0's newest", 1, T0 - 200, 300, 8, ZG_TSIG_REPLAY_FRESH, 0},
	    {"nor by key 0's MACs", 1, T0, 300, 1, ZG_TSIG_REPLAY_FRESH, T0 - 200},
	    {"key 1 remembers its own", 1, T0, 300, 1, ZG_TSIG_REPLAY_DUPLICATE, T0},
	    {"an index out of range checks nothing", 2, T0, 300, 1, ZG_TSIG_REPLAY_FRESH, 0},
	    {"nor remembers", 2, T0, 300, 1, ZG_TSIG_REPLAY_FRESH, 0},
	};
	zg_tsig_replay_t *rp = zg_tsig_replay_new(2);
	assert_non_null(rp);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		const step_t *s = &steps[i];
		uint8_t mac[32];
		uint64_t newest = 99;
		memset(mac, s->mac_seed, sizeof(mac));
		zg_tsig_replay_verdict_t v =
		    zg_tsig_replay_check(rp, s->key, s->time_signed, s->fudge, mac, sizeof(mac), &newest);
		if (v != s->want || newest != s->want_newest)
			fail_msg("%s: verdict %d newest %llu, want %d and %llu", s->what, (int)v,
			         (unsigned long long)newest, (int)s->want,
			         (unsigned long long)s->want_newest);
	}
	zg_tsig_replay_free(rp);
	zg_tsig_replay_free(NULL);
}

/* The ring holds the last ZG_TSIG_REPLAY_RING MACs: a replay of any of them is caught;
 * the oldest falls out (documented as best effort beyond that). */
static void test_ring(void **state)
{
	zg_tsig_replay_t *rp = zg_tsig_replay_new(1);
	uint8_t mac[32] = {0};
	assert_non_null(rp);
	for (unsigned i = 0; i <= ZG_TSIG_REPLAY_RING; i++) {
		memcpy(mac, &i, sizeof(i));
		assert_int_equal(zg_tsig_replay_check(rp, 0, T0, 300, mac, sizeof(mac), NULL),
		                 ZG_TSIG_REPLAY_FRESH);
	}
	for (unsigned i = 1; i <= ZG_TSIG_REPLAY_RING; i++) {
		memcpy(mac, &i, sizeof(i));
		assert_int_equal(zg_tsig_replay_check(rp, 0, T0, 300, mac, sizeof(mac), NULL),
		                 ZG_TSIG_REPLAY_DUPLICATE);
	}
	unsigned first = 0;
	memcpy(mac, &first, sizeof(first));
	assert_int_equal(zg_tsig_replay_check(rp, 0, T0, 300, mac, sizeof(mac), NULL), ZG_TSIG_REPLAY_FRESH);
	/* A MAC that is a prefix of a remembered one is not the same MAC. */
	unsigned two = 2;
	memcpy(mac, &two, sizeof(two));
	assert_int_equal(zg_tsig_replay_check(rp, 0, T0, 300, mac, 16, NULL), ZG_TSIG_REPLAY_FRESH);
	zg_tsig_replay_free(rp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rule_table),
	    cmocka_unit_test(test_ring),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
