/* metrics.c - Prometheus counters, gauges and histograms: sharded counting, text exposition. */
#include "metrics.h"

#include <assert.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TABLE_SIZE (2 * CORE_METRICS_MAX_SERIES) /* a power of two, at most half full */
#define LINE_U64   8                             /* uint64 per 64-byte cache line */

struct core_series {
	core_metric_t *fam;
	char *values[CORE_METRICS_MAX_LABELS];
	uint64_t hash;
	_Atomic int64_t gauge;
	_Atomic uint64_t *cells; /* CORE_METRICS_SHARDS x stride: counter 1, histogram buckets + sum */
};

struct core_metric {
	core_metrics_t *reg;
	core_metric_type_t type;
	char *name, *help;
	char *labels[CORE_METRICS_MAX_LABELS];
	size_t n_labels;
	uint64_t bounds[CORE_METRICS_MAX_BUCKETS];
	size_t n_bounds;
	uint64_t unit;
	size_t stride; /* cells per shard, a whole number of cache lines */
	pthread_mutex_t lock;
	_Atomic(core_series_t *) table[TABLE_SIZE];
	core_series_t *order[CORE_METRICS_MAX_SERIES];
	_Atomic size_t n_series;
	core_metric_t *next;
};

struct core_metrics {
	pthread_mutex_t lock; /* registration */
	core_metric_t *first, *last;
	_Atomic uint64_t dropped;
};

static atomic_uint next_shard;
static _Thread_local unsigned my_shard = UINT32_MAX;

static inline unsigned shard(void)
{
	if (my_shard == UINT32_MAX)
		my_shard =
		    atomic_fetch_add_explicit(&next_shard, 1, memory_order_relaxed) % CORE_METRICS_SHARDS;
	return my_shard;
}

uint64_t core_metrics_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

core_metrics_t *core_metrics_new(void)
{
	core_metrics_t *m = calloc(1, sizeof(*m));
	if (m)
		pthread_mutex_init(&m->lock, NULL);
	return m;
}

static void series_free(core_series_t *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < CORE_METRICS_MAX_LABELS; i++)
		free(s->values[i]);
	free((void *)s->cells);
	free(s);
}

void core_metrics_free(core_metrics_t *m)
{
	if (!m)
		return;
	for (core_metric_t *f = m->first, *next; f; f = next) {
		next = f->next;
		size_t n = atomic_load(&f->n_series);
		for (size_t i = 0; i < n; i++)
			series_free(f->order[i]);
		for (size_t i = 0; i < f->n_labels; i++)
			free(f->labels[i]);
		free(f->name);
		free(f->help);
		pthread_mutex_destroy(&f->lock);
		free(f);
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}

core_metric_t *core_metric_new(core_metrics_t *m, core_metric_type_t type, const char *name, const char *help,
                               const char *const *labels, const uint64_t *bounds, size_t n_bounds,
                               uint64_t unit)
{
	if (!m || !name || !help)
		return NULL;
	size_t nl = 0;
	while (labels && labels[nl])
		nl++;
	bool ok = nl <= CORE_METRICS_MAX_LABELS && unit > 0;
	if (type == CORE_METRIC_HISTOGRAM) {
		ok = ok && n_bounds > 0 && n_bounds <= CORE_METRICS_MAX_BUCKETS && bounds;
		for (size_t i = 1; ok && i < n_bounds; i++)
			ok = bounds[i] > bounds[i - 1];
	}
	assert(ok);
	if (!ok)
		return NULL;
	core_metric_t *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->reg = m;
	f->type = type;
	f->name = strdup(name);
	f->help = strdup(help);
	f->n_labels = nl;
	bool mem = f->name && f->help;
	for (size_t i = 0; i < nl; i++)
		mem = (f->labels[i] = strdup(labels[i])) && mem;
	if (type == CORE_METRIC_HISTOGRAM) {
		memcpy(f->bounds, bounds, n_bounds * sizeof(*bounds));
		f->n_bounds = n_bounds;
	}
	f->unit = unit;
	size_t cells = type == CORE_METRIC_HISTOGRAM ? n_bounds + 2 : 1;
	f->stride = (cells + LINE_U64 - 1) / LINE_U64 * LINE_U64;
	pthread_mutex_init(&f->lock, NULL);
	pthread_mutex_lock(&m->lock);
	if (m->last)
		m->last->next = f;
	else
		m->first = f;
	m->last = f;
	pthread_mutex_unlock(&m->lock);
	if (!mem)
		return NULL; /* stays registered and is freed with m; exposes nothing wrong */
	if (nl == 0)
		core_metric_series(f, NULL);
	return f;
}

static uint64_t hash_values(const core_metric_t *f, const char *const *values)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t i = 0; i < f->n_labels; i++) {
		for (const char *p = values[i] ? values[i] : ""; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
	}
	return h;
}

static bool same(const core_series_t *s, const char *const *values, uint64_t h)
{
	if (s->hash != h)
		return false;
	for (size_t i = 0; i < s->fam->n_labels; i++)
		if (strcmp(s->values[i], values[i] ? values[i] : "") != 0)
			return false;
	return true;
}

/* The slot of values in the table: the series there, or NULL at the empty slot where
 * it would go (*slot). */
static core_series_t *find(core_metric_t *f, const char *const *values, uint64_t h, size_t *slot)
{
	size_t i = (size_t)h & (TABLE_SIZE - 1);
	for (size_t n = 0; n < TABLE_SIZE; n++, i = (i + 1) & (TABLE_SIZE - 1)) {
		core_series_t *s = atomic_load_explicit(&f->table[i], memory_order_acquire);
		if (!s) {
			*slot = i;
			return NULL;
		}
		if (same(s, values, h))
			return s;
	}
	*slot = TABLE_SIZE; /* not reached: the table is at most half full */
	return NULL;
}

core_series_t *core_metric_series(core_metric_t *f, const char *const *values)
{
	static const char *const none[CORE_METRICS_MAX_LABELS];
	if (!f)
		return NULL;
	if (!values)
		values = none;
	uint64_t h = hash_values(f, values);
	size_t slot;
	core_series_t *s = find(f, values, h, &slot);
	if (s)
		return s;
	pthread_mutex_lock(&f->lock);
	s = find(f, values, h, &slot);
	if (s)
		goto out;
	size_t n = atomic_load_explicit(&f->n_series, memory_order_relaxed);
	if (n >= CORE_METRICS_MAX_SERIES || slot >= TABLE_SIZE) {
		atomic_fetch_add_explicit(&f->reg->dropped, 1, memory_order_relaxed);
		goto out;
	}
	s = calloc(1, sizeof(*s));
	size_t bytes = CORE_METRICS_SHARDS * f->stride * sizeof(uint64_t);
	void *cells = s ? aligned_alloc(64, bytes) : NULL;
	bool ok = cells != NULL;
	for (size_t i = 0; ok && i < f->n_labels; i++)
		ok = (s->values[i] = strdup(values[i] ? values[i] : "")) != NULL;
	if (!ok) {
		free(cells);
		series_free(s);
		s = NULL;
		atomic_fetch_add_explicit(&f->reg->dropped, 1, memory_order_relaxed);
		goto out;
	}
	memset(cells, 0, bytes);
	s->cells = cells;
	s->fam = f;
	s->hash = h;
	f->order[n] = s;
	atomic_store_explicit(&f->n_series, n + 1, memory_order_release);
	atomic_store_explicit(&f->table[slot], s, memory_order_release);
out:
	pthread_mutex_unlock(&f->lock);
	return s;
}

core_series_t *core_metric_l1(core_metric_t *f, const char *a)
{
	const char *v[] = {a};
	return core_metric_series(f, v);
}

core_series_t *core_metric_l2(core_metric_t *f, const char *a, const char *b)
{
	const char *v[] = {a, b};
	return core_metric_series(f, v);
}

core_series_t *core_metric_l3(core_metric_t *f, const char *a, const char *b, const char *c)
{
	const char *v[] = {a, b, c};
	return core_metric_series(f, v);
}

static inline _Atomic uint64_t *cell(const core_series_t *s, unsigned sh, size_t i)
{
	return &s->cells[sh * s->fam->stride + i];
}

void core_series_add(core_series_t *s, uint64_t n)
{
	if (!s)
		return;
	if (s->fam->type == CORE_METRIC_GAUGE)
		atomic_fetch_add_explicit(&s->gauge, (int64_t)n, memory_order_relaxed);
	else if (s->fam->type == CORE_METRIC_COUNTER)
		atomic_fetch_add_explicit(cell(s, shard(), 0), n, memory_order_relaxed);
}

void core_series_gauge_set(core_series_t *s, int64_t v)
{
	if (s && s->fam->type == CORE_METRIC_GAUGE)
		atomic_store_explicit(&s->gauge, v, memory_order_relaxed);
}

void core_series_gauge_add(core_series_t *s, int64_t delta)
{
	if (s && s->fam->type == CORE_METRIC_GAUGE)
		atomic_fetch_add_explicit(&s->gauge, delta, memory_order_relaxed);
}

void core_series_observe(core_series_t *s, uint64_t v)
{
	if (!s || s->fam->type != CORE_METRIC_HISTOGRAM)
		return;
	const core_metric_t *f = s->fam;
	size_t b = 0;
	while (b < f->n_bounds && v > f->bounds[b])
		b++; /* the first bucket with v <= le; n_bounds is +Inf */
	unsigned sh = shard();
	atomic_fetch_add_explicit(cell(s, sh, b), 1, memory_order_relaxed);
	atomic_fetch_add_explicit(cell(s, sh, f->n_bounds + 1), v, memory_order_relaxed);
}

static uint64_t sum_cell(const core_series_t *s, size_t i)
{
	uint64_t t = 0;
	for (unsigned sh = 0; sh < CORE_METRICS_SHARDS; sh++)
		t += atomic_load_explicit(cell(s, sh, i), memory_order_relaxed);
	return t;
}

uint64_t core_series_value(const core_series_t *s)
{
	if (!s)
		return 0;
	switch (s->fam->type) {
	case CORE_METRIC_GAUGE: return (uint64_t)atomic_load_explicit(&s->gauge, memory_order_relaxed);
	case CORE_METRIC_COUNTER: return sum_cell(s, 0);
	case CORE_METRIC_HISTOGRAM: {
		uint64_t t = 0;
		for (size_t i = 0; i <= s->fam->n_bounds; i++)
			t += sum_cell(s, i);
		return t;
	}
	}
	return 0;
}

uint64_t core_series_hist_sum(const core_series_t *s)
{
	return s && s->fam->type == CORE_METRIC_HISTOGRAM ? sum_cell(s, s->fam->n_bounds + 1) : 0;
}

uint64_t core_series_hist_bucket(const core_series_t *s, size_t i)
{
	return s && s->fam->type == CORE_METRIC_HISTOGRAM && i <= s->fam->n_bounds ? sum_cell(s, i) : 0;
}

/* ---- exposition ---- */

void core_metrics_escape_label(core_strbuf_t *out, const char *s)
{
	for (const char *p = s; *p; p++) {
		if (*p == '\\')
			core_strbuf_str(out, "\\\\");
		else if (*p == '"')
			core_strbuf_str(out, "\\\"");
		else if (*p == '\n')
			core_strbuf_str(out, "\\n");
		else
			core_strbuf_put(out, p, 1);
	}
}

void core_metrics_escape_help(core_strbuf_t *out, const char *s)
{
	for (const char *p = s; *p; p++) {
		if (*p == '\\')
			core_strbuf_str(out, "\\\\");
		else if (*p == '\n')
			core_strbuf_str(out, "\\n");
		else
			core_strbuf_put(out, p, 1);
	}
}

/* v / unit written exactly in decimal: unit is 1 or a power of ten. */
static void put_units(core_strbuf_t *out, uint64_t v, uint64_t unit)
{
	char buf[48];
	if (unit == 1) {
		snprintf(buf, sizeof(buf), "%" PRIu64, v);
	} else {
		int digits = 0;
		for (uint64_t u = unit; u > 1; u /= 10)
			digits++;
		uint64_t frac = v % unit;
		int n = snprintf(buf, sizeof(buf), "%" PRIu64, v / unit);
		if (frac) {
			n += snprintf(buf + n, sizeof(buf) - (size_t)n, ".%0*" PRIu64, digits, frac);
			while (buf[n - 1] == '0')
				buf[--n] = 0;
		}
	}
	core_strbuf_str(out, buf);
}

/* name{l1="v1",...[,le="x"]} */
static void put_name(core_strbuf_t *out, const core_series_t *s, const char *suffix, const char *le)
{
	const core_metric_t *f = s->fam;
	core_strbuf_str(out, f->name);
	core_strbuf_str(out, suffix);
	if (!f->n_labels && !le)
		return;
	core_strbuf_str(out, "{");
	for (size_t i = 0; i < f->n_labels; i++) {
		if (i)
			core_strbuf_str(out, ",");
		core_strbuf_str(out, f->labels[i]);
		core_strbuf_str(out, "=\"");
		core_metrics_escape_label(out, s->values[i]);
		core_strbuf_str(out, "\"");
	}
	if (le) {
		if (f->n_labels)
			core_strbuf_str(out, ",");
		core_strbuf_str(out, "le=\"");
		core_strbuf_str(out, le);
		core_strbuf_str(out, "\"");
	}
	core_strbuf_str(out, "}");
}

static void put_family(core_strbuf_t *out, core_metric_t *f)
{
	static const char *const types[] = {
	    [CORE_METRIC_COUNTER] = "counter",
	    [CORE_METRIC_GAUGE] = "gauge",
	    [CORE_METRIC_HISTOGRAM] = "histogram",
	};
	char num[48];
	core_strbuf_str(out, "# HELP ");
	core_strbuf_str(out, f->name);
	core_strbuf_str(out, " ");
	core_metrics_escape_help(out, f->help);
	core_strbuf_str(out, "\n# TYPE ");
	core_strbuf_str(out, f->name);
	core_strbuf_str(out, " ");
	core_strbuf_str(out, types[f->type]);
	core_strbuf_str(out, "\n");
	size_t n = atomic_load_explicit(&f->n_series, memory_order_acquire);
	for (size_t i = 0; i < n; i++) {
		const core_series_t *s = f->order[i];
		if (f->type == CORE_METRIC_COUNTER || f->type == CORE_METRIC_GAUGE) {
			put_name(out, s, "", NULL);
			if (f->type == CORE_METRIC_COUNTER)
				snprintf(num, sizeof(num), " %" PRIu64 "\n", sum_cell(s, 0));
			else
				snprintf(num, sizeof(num), " %" PRId64 "\n",
				         atomic_load_explicit(&s->gauge, memory_order_relaxed));
			core_strbuf_str(out, num);
			continue;
		}
		uint64_t cum = 0;
		for (size_t b = 0; b <= f->n_bounds; b++) {
			cum += sum_cell(s, b);
			core_strbuf_t le = {0};
			if (b < f->n_bounds)
				put_units(&le, f->bounds[b], f->unit);
			else
				core_strbuf_str(&le, "+Inf");
			put_name(out, s, "_bucket", le.p ? le.p : "");
			free(le.p);
			snprintf(num, sizeof(num), " %" PRIu64 "\n", cum);
			core_strbuf_str(out, num);
		}
		put_name(out, s, "_sum", NULL);
		core_strbuf_str(out, " ");
		put_units(out, sum_cell(s, f->n_bounds + 1), f->unit);
		core_strbuf_str(out, "\n");
		put_name(out, s, "_count", NULL);
		snprintf(num, sizeof(num), " %" PRIu64 "\n", cum);
		core_strbuf_str(out, num);
	}
}

bool core_metrics_expose(core_metrics_t *m, core_strbuf_t *out)
{
	if (!m)
		return false;
	pthread_mutex_lock(&m->lock); /* against a registration; counting goes on */
	for (core_metric_t *f = m->first; f; f = f->next)
		put_family(out, f);
	pthread_mutex_unlock(&m->lock);
	char num[48];
	snprintf(num, sizeof(num), "%" PRIu64 "\n", atomic_load_explicit(&m->dropped, memory_order_relaxed));
	core_strbuf_str(out, "# HELP rdns_metrics_series_dropped_total Label sets not counted because "
	                     "their family was full.\n# TYPE rdns_metrics_series_dropped_total counter\n"
	                     "rdns_metrics_series_dropped_total ");
	core_strbuf_str(out, num);
	return !out->failed;
}
