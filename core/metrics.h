/* metrics.h - Prometheus counters, gauges and histograms and their text exposition (0.0.4).
 *
 * Counting is cheap and lock-free: a series keeps one copy of its values per shard
 * (CORE_METRICS_SHARDS, each on its own cache lines), a thread adds to the shard it was
 * given on its first count with relaxed atomics, and a scrape sums the shards. Looking a
 * series up by its label values reads a fixed open-addressed table without a lock; only
 * the first count of a new label set takes the family's mutex. Histograms count integer
 * units (nanoseconds for the _seconds ones, see CORE_METRICS_NS) against fixed bucket
 * bounds, so the hot path does no floating point and the exposition is exact. */
#ifndef RDNS_CORE_METRICS_H
#define RDNS_CORE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/strbuf.h"

#define CORE_METRICS_SHARDS      16
#define CORE_METRICS_MAX_LABELS  4
#define CORE_METRICS_MAX_BUCKETS 16
/* Series per family: the first count of one more label set is dropped (and counted in
 * rdns_metrics_series_dropped_total), so a label fed from outside cannot grow memory. */
#define CORE_METRICS_MAX_SERIES 1024
/* A histogram whose unit is nanoseconds and whose exposition is in seconds. */
#define CORE_METRICS_NS 1000000000ull

typedef enum { CORE_METRIC_COUNTER, CORE_METRIC_GAUGE, CORE_METRIC_HISTOGRAM } core_metric_type_t;

typedef struct core_metrics core_metrics_t;
typedef struct core_metric core_metric_t; /* a family: a name, a type, label names */
typedef struct core_series core_series_t; /* one label set of a family */

core_metrics_t *core_metrics_new(void);
void core_metrics_free(core_metrics_t *m); /* accepts NULL; no count may run any more */

/* Register a family. labels: NULL-terminated label names (NULL: none), at most
 * CORE_METRICS_MAX_LABELS. A histogram takes n_bounds ascending bounds in its unit
 * (1 for plain numbers, CORE_METRICS_NS for seconds counted in nanoseconds); +Inf is
 * implied. NULL when m is NULL or on a bad argument (an assert in debug builds). A family
 * without labels has its one series from the start, so it is exposed as 0. */
core_metric_t *core_metric_new(core_metrics_t *m, core_metric_type_t type, const char *name, const char *help,
                               const char *const *labels, const uint64_t *bounds, size_t n_bounds,
                               uint64_t unit);

/* The series of these label values (as many as the family's labels; NULL values are ""),
 * made on first use. NULL when f is NULL or the family is full: every count below accepts
 * a NULL series and then does nothing. */
core_series_t *core_metric_series(core_metric_t *f, const char *const *values);
/* Shorthands for up to three label values. */
core_series_t *core_metric_l1(core_metric_t *f, const char *a);
core_series_t *core_metric_l2(core_metric_t *f, const char *a, const char *b);
core_series_t *core_metric_l3(core_metric_t *f, const char *a, const char *b, const char *c);

void core_series_add(core_series_t *s, uint64_t n);          /* counter (or gauge: += n) */
void core_series_gauge_set(core_series_t *s, int64_t v);     /* gauge */
void core_series_gauge_add(core_series_t *s, int64_t delta); /* gauge */
void core_series_observe(core_series_t *s, uint64_t v);      /* histogram, in its unit */

/* The sum of a counter's shards, a gauge's value, or a histogram's count (tests). */
uint64_t core_series_value(const core_series_t *s);
/* A histogram's sum in its unit, and the count in bucket i (not cumulative; i ==
 * n_bounds is the +Inf bucket). */
uint64_t core_series_hist_sum(const core_series_t *s);
uint64_t core_series_hist_bucket(const core_series_t *s, size_t i);

/* Append the whole registry in the text exposition format 0.0.4: families in
 * registration order, series in order of first use. false if an allocation failed. */
bool core_metrics_expose(core_metrics_t *m, core_strbuf_t *out);

/* Monotonic nanoseconds, for durations. */
uint64_t core_metrics_now_ns(void);

/* Append s to out escaped as a label value (\\, \", \n) or as HELP text (\\, \n). */
void core_metrics_escape_label(core_strbuf_t *out, const char *s);
void core_metrics_escape_help(core_strbuf_t *out, const char *s);

#define CORE_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
