/* batch.c - group commit of verified PTR sets, grouped lookups and rate takes (see batch.h).
 *
 * Leader/follower: a worker queues its item; if fewer than the group's limit of batches
 * are running it becomes a leader, takes the queue (in arrival order; for changes, one
 * per address), runs it with one statement on its own connection and hands each waiting
 * worker its outcome. Items that arrive meanwhile wait for the next leader, one of
 * themselves. PostgreSQL's cost of a statement is mostly per statement, not per row: a
 * batch pays it once.
 *
 * Each waiter sleeps on its own futex word: a finished batch wakes its own members and
 * the next leader, not every worker in the queue, and only after it let go of the lock,
 * so that the woken do not queue on it. A woken worker whose outcome is not in looks
 * again, under the lock, at where it stands. */
#include "batch.h"

#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "api/metrics.h"
#include "core/err.h"
#include "core/log.h"

/* A waiter's futex word: DONE once its outcome is in, plus a count of wake-ups. Every
 * write to a waiter (taken, alone, the word) happens under the group's lock while it
 * cannot leave; only futex_wake calls, which touch no memory, come after the lock is
 * dropped. (A waiter that saw DONE may be gone by then: a wake-up that reaches the
 * next waiter on that thread's stack is spurious, and every wait loops.) */
#define DONE 0x80000000u

typedef struct waiter {
	struct waiter *next;
	void *item;
	_Atomic uint32_t word;
	bool taken; /* a leader has it in its batch */
	bool alone; /* the batch failed: run this item by itself (set before DONE) */
} waiter_t;

static void futex_wait(_Atomic uint32_t *w, uint32_t seen)
{
	/* Returns at once if *w is no longer seen; EINTR and spurious returns: the caller loops. */
	syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *w)
{
	syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

typedef struct {
	const char *what, *items, *verb; /* for the log: "ptr", "changes", "applying" */
	size_t max;                      /* items per batch, at most API_BATCH_MAX */
	int max_running;                 /* batches at once */
	/* Whether two items may not share a batch (NULL: any may). */
	bool (*clash)(const void *a, const void *b);
	/* Run n >= 2 items together: RDNS_OK (each item has its outcome) or an error,
	 * and then nothing was done. */
	int (*together)(db_t *db, void *const *items, size_t n);
	/* Run one item by itself; its outcome is in the item. */
	void (*alone)(db_t *db, void *item);
	/* If set, leaders run on the group's own connection, which runs this after each
	 * (re)connect, instead of their worker's (needs max_running 1: one user at a time). */
	const char *session_sql;

	pthread_mutex_t mu;
	db_t *conn; /* the group's own connection, made on first use */
	waiter_t *head, *tail;
	int running;
} group_t;

/* Take up to g->max queued items, oldest first, no two that clash; an item that
 * clashes stays queued for the next batch. Called locked. */
static size_t take(group_t *g, waiter_t **out)
{
	size_t n = 0;
	waiter_t **pp = &g->head;
	while (*pp && n < g->max) {
		waiter_t *w = *pp;
		bool clash = false;
		for (size_t i = 0; g->clash && i < n && !clash; i++)
			clash = g->clash(out[i]->item, w->item);
		if (clash) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		w->next = NULL;
		w->taken = true;
		out[n++] = w;
	}
	g->tail = NULL;
	for (waiter_t *w = g->head; w; w = w->next)
		g->tail = w;
	return n;
}

/* Tell the queued worker that may start the next batch, if one may start now. Called
 * locked; returns the word to futex_wake once unlocked, or NULL. */
static _Atomic uint32_t *call_next_leader(group_t *g, const waiter_t *me)
{
	waiter_t *w = g->head;
	if (!w || w == me || g->running >= g->max_running)
		return NULL;
	atomic_fetch_add_explicit(&w->word, 1, memory_order_relaxed);
	return &w->word;
}

/* The connection a leader runs on: the group's own when it has one and it is up,
 * else the leader's. */
static db_t *leader_conn(group_t *g, db_t *db)
{
	if (!g->session_sql)
		return db;
	if (!g->conn)
		g->conn = db_new_like(db, g->session_sql);
	return g->conn && db_ensure(g->conn) == RDNS_OK ? g->conn : db;
}

/* Run a batch from the queue. Called locked; returns unlocked. */
static void lead(group_t *g, db_t *db, waiter_t *me)
{
	waiter_t *b[API_BATCH_MAX];
	void *items[API_BATCH_MAX];
	g->running++;
	size_t n = take(g, b);
	_Atomic uint32_t *next = call_next_leader(g, me); /* a clash, or more than g->max, left some */
	pthread_mutex_unlock(&g->mu);
	if (next)
		futex_wake(next);

	int rc = RDNS_OK;
	db_t *conn = leader_conn(g, db);
	if (n == 1) {
		g->alone(conn, b[0]->item); /* the plain statement is the cheaper one for one item */
	} else {
		for (size_t i = 0; i < n; i++)
			items[i] = b[i]->item;
		log_debug("%s: %zu %s in one statement", g->what, n, g->items);
		rc = g->together(conn, items, n);
		if (rc != RDNS_OK)
			log_warn("%s: a batch of %zu %s failed (%s: %s); %s them one by one", g->what, n,
			         g->items, rdns_strerror(rc), db_last_error(conn), g->verb);
	}

	api_metrics_batch(g->what, n, rc != RDNS_OK);
	pthread_mutex_lock(&g->mu);
	g->running--;
	for (size_t i = 0; i < n; i++) {
		b[i]->alone = rc != RDNS_OK;
		atomic_fetch_or_explicit(&b[i]->word, DONE, memory_order_release);
	}
	next = call_next_leader(g, me);
	pthread_mutex_unlock(&g->mu);
	/* The next leader first: the group's connection waits for it, and the members' wake-ups
	 * (one system call each) are not on that path. The woken do not queue on the lock. */
	if (next)
		futex_wake(next);
	for (size_t i = 0; i < n; i++)
		if (b[i] != me)
			futex_wake(&b[i]->word);
}

static void group_run(group_t *g, db_t *db, void *item)
{
	waiter_t me = {.item = item};
	pthread_mutex_lock(&g->mu);
	if (g->tail)
		g->tail->next = &me;
	else
		g->head = &me;
	g->tail = &me;
	for (;;) {
		if (!me.taken && g->running < g->max_running) {
			lead(g, db, &me);
		} else {
			uint32_t seen = atomic_load_explicit(&me.word, memory_order_relaxed);
			pthread_mutex_unlock(&g->mu);
			if (!(seen & DONE))
				futex_wait(&me.word, seen);
		}
		if (atomic_load_explicit(&me.word, memory_order_acquire) & DONE)
			break;
		pthread_mutex_lock(&g->mu); /* called to lead, or woken for nothing: look again */
	}
	/* Nothing of a failed batch was done: each item goes on its own, with its own error
	 * (a dead connection, a conflict), on its worker's connection. */
	if (me.alone)
		g->alone(db, item);
}

/* PTR sets. */

static bool same_address(const void *a, const void *b)
{
	return strcmp(((const db_ptr_change_t *)a)->ip, ((const db_ptr_change_t *)b)->ip) == 0;
}

static int apply_together(db_t *db, void *const *items, size_t n)
{
	return db_ptr_apply_batch(db, (db_ptr_change_t *const *)items, n);
}

static void apply_alone(db_t *db, void *item)
{
	db_ptr_change_t *c = item;
	c->err = db_ptr_apply(db, c->ip, c->hostname, c->owner, c->actor, c->actor_name, c->forced,
	                      c->checks_json, c->reason, &c->out);
}

/* Both groups run on a connection of their own whose plans are always generic (and whose
 * application_name says which it is). PostgreSQL, and plpgsql inside the apply functions,
 * re-plan a statement on every execution while they estimate that plans made for the
 * parameters' values are cheaper: with thousands of allocations the generic estimate for
 * "prefix >>= $2" is 100 rows, the custom one 1. pgbench at 20,000 allocations and 257
 * zones: a lookup cost 384 us of PostgreSQL CPU re-planned, 87 us generic; a change
 * 671 and 449 us. What the groups run is by key (tokens, accounts, the GiST exclusion
 * indexes of zones and allocations, the records, requests and queue by their indexes), so
 * the generic plans are right; the system tests explain them at that scale. The
 * workers' connections keep the default, which the catch-all filters of the list routes
 * need. */
#define GENERIC_PLANS "SET plan_cache_mode = force_generic_plan; "

/* One batch at a time: while it runs, the next one gathers. (Two or more at once,
 * measured, cost PostgreSQL more per change: smaller batches.) */
static group_t changes = {
    .what = "ptr",
    .items = "changes",
    .verb = "applying",
    .max = API_BATCH_MAX,
    .max_running = 1,
    .clash = same_address,
    .together = apply_together,
    .alone = apply_alone,
    .session_sql = GENERIC_PLANS "SET application_name = 'rdns-changes'",
    .mu = PTHREAD_MUTEX_INITIALIZER,
};

int api_batch_apply(db_t *db, db_ptr_change_t *c)
{
	group_run(&changes, db, c);
	return c->err;
}

/* Token and address lookups. */

static int lookup_together(db_t *db, void *const *items, size_t n)
{
	db_ptr_lookup_t *const *q = (db_ptr_lookup_t *const *)items;
	int rc = db_ptr_auth_context_batch(db, q, n);
	if (rc != RDNS_OK)
		return rc;
	/* The stale tokens refreshed by one statement: once a minute per token, which with
	 * many accounts is most lookups (issue #17 S1: one UPDATE each, while every other
	 * lookup waited for this leader, cost the first minute half its throughput). */
	const db_token_key_t *stale[API_BATCH_MAX];
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (q[i]->err == RDNS_OK && q[i]->stale)
			stale[k++] = q[i]->key;
	db_token_touch_many(db, stale, k);
	return RDNS_OK;
}

static void lookup_alone(db_t *db, void *item)
{
	db_ptr_lookup_t *l = item;
	l->err = db_ptr_auth_context_key(db, l->key, l->ip, &l->who, &l->ctx);
}

static group_t lookups = {
    .what = "auth",
    .items = "lookups",
    .verb = "running",
    .max = API_BATCH_MAX,
    .max_running = 1,
    .together = lookup_together,
    .alone = lookup_alone,
    .session_sql = GENERIC_PLANS "SET application_name = 'rdns-lookups'",
    .mu = PTHREAD_MUTEX_INITIALIZER,
};

int api_batch_lookup(db_t *db, db_ptr_lookup_t *l)
{
	group_run(&lookups, db, l);
	return l->err;
}

/* Write rate takes (rate_limit_writes): one per customer's PTR write, a PUT's before its
 * verification. */

static bool same_bucket(const void *a, const void *b)
{
	const db_rate_take_t *x = a, *y = b;
	return x->account == y->account || x->limit != y->limit; /* one limit a statement */
}

static void rate_alone(db_t *db, void *item)
{
	db_rate_take_t *t = item;
	t->err = db_rate_hit(db, t->account, t->limit, &t->retry_after);
}

static int rate_together(db_t *db, void *const *items, size_t n)
{
	db_rate_take_t *const *q = (db_rate_take_t *const *)items;
	int rc = db_rate_hit_many(db, q, n);
	if (rc != RDNS_OK)
		return rc;
	for (size_t i = 0; i < n; i++) /* no bucket in the answer: its own call says why */
		if (q[i]->err == RDNS_EDB)
			rate_alone(db, q[i]);
	return RDNS_OK;
}

static group_t rates = {
    .what = "rate",
    .items = "rate takes",
    .verb = "taking",
    .max = API_BATCH_MAX,
    .max_running = 1,
    .clash = same_bucket,
    .together = rate_together,
    .alone = rate_alone,
    .session_sql = GENERIC_PLANS "SET application_name = 'rdns-rates'",
    .mu = PTHREAD_MUTEX_INITIALIZER,
};

int api_batch_rate(db_t *db, long long account, long limit, int *retry_after)
{
	*retry_after = 0;
	if (limit <= 0)
		return RDNS_OK;
	db_rate_take_t t = {.account = account, .limit = limit};
	group_run(&rates, db, &t);
	*retry_after = t.retry_after;
	return t.err;
}

void api_batch_close(void)
{
	db_free(rates.conn);
	rates.conn = NULL;
	db_free(changes.conn);
	changes.conn = NULL;
	db_free(lookups.conn);
	lookups.conn = NULL;
}
