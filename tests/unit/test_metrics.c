/* test_metrics.c - unit tests for core/metrics: exposition text, escaping, buckets, threads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/metrics.h"

#define DROPPED                                                                                              \
	"# HELP rdns_metrics_series_dropped_total Label sets not counted because their family was "          \
	"full.\n# TYPE rdns_metrics_series_dropped_total counter\nrdns_metrics_series_dropped_total "

static char *expose(core_metrics_t *m)
{
	core_strbuf_t b = {0};
	assert_true(core_metrics_expose(m, &b));
	return b.p;
}

static void assert_text(core_metrics_t *m, const char *want)
{
	char *got = expose(m);
	if (strcmp(got, want) != 0)
		fail_msg("exposition:\n%s\nwant:\n%s", got, want);
	free(got);
}

static void test_counter_gauge_text(void **state)
{
	core_metrics_t *m = core_metrics_new();
	core_metric_t *c = core_metric_new(m, CORE_METRIC_COUNTER, "x_requests_total", "Requests.",
	                                   (const char *const[]){"route", "status", NULL}, NULL, 0, 1);
	core_metric_t *g =
	    core_metric_new(m, CORE_METRIC_GAUGE, "x_leader", "1 when leader.", NULL, NULL, 0, 1);
	core_series_add(core_metric_l2(c, "/v1/ptr/*", "200"), 3);
	core_series_add(core_metric_l2(c, "other", "404"), 1);
	core_series_add(core_metric_l2(c, "/v1/ptr/*", "200"), 2);
	core_series_gauge_set(core_metric_series(g, NULL), -5);
	core_series_gauge_add(core_metric_series(g, NULL), 6);
	assert_text(m, "# HELP x_requests_total Requests.\n"
	               "# TYPE x_requests_total counter\n"
	               "x_requests_total{route=\"/v1/ptr/*\",status=\"200\"} 5\n"
	               "x_requests_total{route=\"other\",status=\"404\"} 1\n"
	               "# HELP x_leader 1 when leader.\n"
	               "# TYPE x_leader gauge\n"
	               "x_leader 1\n" DROPPED "0\n");
	core_metrics_free(m);
}

static void test_escaping(void **state)
{
	core_metrics_t *m = core_metrics_new();
	core_metric_t *c =
	    core_metric_new(m, CORE_METRIC_COUNTER, "x_total", "Back\\slash and\nnewline \"q\".",
	                    (const char *const[]){"v", NULL}, NULL, 0, 1);
	core_series_add(core_metric_l1(c, "a\"b\\c\nd"), 1);
	core_series_add(core_metric_l1(c, NULL), 1); /* NULL is the empty value */
	core_series_add(core_metric_l1(c, ""), 1);
	assert_text(m, "# HELP x_total Back\\\\slash and\\nnewline \"q\".\n"
	               "# TYPE x_total counter\n"
	               "x_total{v=\"a\\\"b\\\\c\\nd\"} 1\n"
	               "x_total{v=\"\"} 2\n" DROPPED "0\n");
	core_metrics_free(m);
}

static void test_histogram_seconds(void **state)
{
	core_metrics_t *m = core_metrics_new();
	const uint64_t b[] = {500000, 1000000, 250000000, 1000000000, 2500000000}; /* ns */
	core_metric_t *h = core_metric_new(m, CORE_METRIC_HISTOGRAM, "x_duration_seconds", "Time.",
	                                   (const char *const[]){"zone", NULL}, b, 5, CORE_METRICS_NS);
	core_series_t *s = core_metric_l1(h, "2.0.192.in-addr.arpa");
	core_series_observe(s, 500000);     /* on a bound: that bucket (le) */
	core_series_observe(s, 500001);     /* just above: the next */
	core_series_observe(s, 1000000000); /* 1 s */
	core_series_observe(s, 9000000000); /* above all: +Inf only */
	assert_int_equal(core_series_value(s), 4);
	assert_int_equal(core_series_hist_bucket(s, 0), 1);
	assert_int_equal(core_series_hist_bucket(s, 1), 1);
	assert_int_equal(core_series_hist_bucket(s, 2), 0);
	assert_int_equal(core_series_hist_bucket(s, 3), 1);
	assert_int_equal(core_series_hist_bucket(s, 5), 1);
	assert_text(m, "# HELP x_duration_seconds Time.\n"
	               "# TYPE x_duration_seconds histogram\n"
	               "x_duration_seconds_bucket{zone=\"2.0.192.in-addr.arpa\",le=\"0.0005\"} 1\n"
	               "x_duration_seconds_bucket{zone=\"2.0.192.in-addr.arpa\",le=\"0.001\"} 2\n"
	               "x_duration_seconds_bucket{zone=\"2.0.192.in-addr.arpa\",le=\"0.25\"} 2\n"
	               "x_duration_seconds_bucket{zone=\"2.0.192.in-addr.arpa\",le=\"1\"} 3\n"
	               "x_duration_seconds_bucket{zone=\"2.0.192.in-addr.arpa\",le=\"2.5\"} 3\n"
	               "x_duration_seconds_bucket{zone=\"2.0.192.in-addr.arpa\",le=\"+Inf\"} 4\n"
	               "x_duration_seconds_sum{zone=\"2.0.192.in-addr.arpa\"} 10.001000001\n"
	               "x_duration_seconds_count{zone=\"2.0.192.in-addr.arpa\"} 4\n" DROPPED "0\n");
	core_metrics_free(m);
}

static void test_histogram_plain_unlabelled(void **state)
{
	core_metrics_t *m = core_metrics_new();
	const uint64_t b[] = {1, 2, 4};
	core_metric_t *h = core_metric_new(m, CORE_METRIC_HISTOGRAM, "x_batch_size", "Sizes.", NULL, b, 3, 1);
	core_series_observe(core_metric_series(h, NULL), 3);
	core_series_observe(core_metric_series(h, NULL), 1);
	assert_text(m, "# HELP x_batch_size Sizes.\n"
	               "# TYPE x_batch_size histogram\n"
	               "x_batch_size_bucket{le=\"1\"} 1\n"
	               "x_batch_size_bucket{le=\"2\"} 1\n"
	               "x_batch_size_bucket{le=\"4\"} 2\n"
	               "x_batch_size_bucket{le=\"+Inf\"} 2\n"
	               "x_batch_size_sum 4\n"
	               "x_batch_size_count 2\n" DROPPED "0\n");
	core_metrics_free(m);
}

static void test_null_and_full(void **state)
{
	/* a NULL registry or family counts nothing and does not crash (metrics = off) */
	assert_null(core_metric_new(NULL, CORE_METRIC_COUNTER, "x_total", "h", NULL, NULL, 0, 1));
	assert_null(core_metric_l1(NULL, "a"));
	core_series_add(NULL, 1);
	core_series_observe(NULL, 1);
	core_series_gauge_set(NULL, 1);

	core_metrics_t *m = core_metrics_new();
	core_metric_t *c = core_metric_new(m, CORE_METRIC_COUNTER, "x_total", "h",
	                                   (const char *const[]){"v", NULL}, NULL, 0, 1);
	char v[16];
	for (int i = 0; i < CORE_METRICS_MAX_SERIES; i++) {
		snprintf(v, sizeof(v), "%d", i);
		assert_non_null(core_metric_l1(c, v));
	}
	assert_null(core_metric_l1(c, "one-more"));
	assert_null(core_metric_l1(c, "another"));
	assert_non_null(core_metric_l1(c, "7")); /* an existing one is still found */
	char *text = expose(m);
	assert_non_null(strstr(text, "\nrdns_metrics_series_dropped_total 2\n"));
	free(text);
	core_metrics_free(m);
}

enum { THREADS = 8, PER_THREAD = 200000 };

typedef struct {
	core_metric_t *c, *h;
	int id;
} worker_t;

static void *worker(void *arg)
{
	worker_t *w = arg;
	char label[16];
	for (int i = 0; i < PER_THREAD; i++) {
		snprintf(label, sizeof(label), "%d", i % 3); /* three series shared by all threads */
		core_series_add(core_metric_l1(w->c, label), 1);
		core_series_observe(core_metric_series(w->h, NULL), (uint64_t)(i % 4));
	}
	return NULL;
}

static void test_threads_sum_exactly(void **state)
{
	core_metrics_t *m = core_metrics_new();
	core_metric_t *c = core_metric_new(m, CORE_METRIC_COUNTER, "x_total", "h",
	                                   (const char *const[]){"v", NULL}, NULL, 0, 1);
	const uint64_t b[] = {0, 1, 2};
	core_metric_t *h = core_metric_new(m, CORE_METRIC_HISTOGRAM, "x_size", "h", NULL, b, 3, 1);
	pthread_t t[THREADS];
	worker_t w[THREADS];
	for (int i = 0; i < THREADS; i++) {
		w[i] = (worker_t){c, h, i};
		assert_int_equal(pthread_create(&t[i], NULL, worker, &w[i]), 0);
	}
	/* scrapes while they count must not disturb them */
	for (int i = 0; i < 20; i++)
		free(expose(m));
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	uint64_t total = 0;
	for (int v = 0; v < 3; v++) {
		char label[16];
		snprintf(label, sizeof(label), "%d", v);
		total += core_series_value(core_metric_l1(c, label));
	}
	assert_int_equal(total, (uint64_t)THREADS * PER_THREAD);
	assert_int_equal(core_series_value(core_metric_l1(c, "0")),
	                 (uint64_t)THREADS * ((PER_THREAD + 2) / 3));
	core_series_t *hs = core_metric_series(h, NULL);
	assert_int_equal(core_series_value(hs), (uint64_t)THREADS * PER_THREAD);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(core_series_hist_bucket(hs, i), (uint64_t)THREADS * PER_THREAD / 4);
	assert_int_equal(core_series_hist_sum(hs), (uint64_t)THREADS * (PER_THREAD / 4) * (0 + 1 + 2 + 3));
	core_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_counter_gauge_text), cmocka_unit_test(test_escaping),
	    cmocka_unit_test(test_histogram_seconds),  cmocka_unit_test(test_histogram_plain_unlabelled),
	    cmocka_unit_test(test_null_and_full),      cmocka_unit_test(test_threads_sum_exactly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
