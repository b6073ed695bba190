/* batch.c - group commit of verified PTR sets (see batch.h).
 *
 * Leader/follower: a worker queues its change; if no batch is running it becomes the
 * leader, takes the queue (one change per address, in arrival order), applies it with
 * rdns_ptr_apply_batch and hands each waiting worker its outcome. Changes that arrive
 * meanwhile wait for the next leader, one of themselves. PostgreSQL's cost of a change
 * is mostly per statement, not per row: a batch pays it once. */
#include "batch.h"

#include <pthread.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"

typedef struct waiter {
	struct waiter *next;
	db_ptr_change_t *c;
	bool done;
	bool alone; /* the batch failed: apply this change by itself */
} waiter_t;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static waiter_t *head, *tail;
static bool running; /* a batch is being applied (one at a time per process) */

/* Take up to API_BATCH_MAX queued changes to distinct addresses, oldest first; a
 * second change to an address stays queued for the next batch. Called locked. */
static size_t take(waiter_t **out)
{
	size_t n = 0;
	waiter_t **pp = &head;
	while (*pp && n < API_BATCH_MAX) {
		waiter_t *w = *pp;
		bool dup = false;
		for (size_t i = 0; i < n && !dup; i++)
			dup = strcmp(out[i]->c->ip, w->c->ip) == 0;
		if (dup) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		w->next = NULL;
		out[n++] = w;
	}
	tail = NULL;
	for (waiter_t *w = head; w; w = w->next)
		tail = w;
	return n;
}

static int apply_alone(db_t *db, db_ptr_change_t *c)
{
	c->err = db_ptr_apply(db, c->ip, c->hostname, c->owner, c->actor, c->actor_name, c->forced,
	                      c->checks_json, c->reason, &c->out);
	return c->err;
}

int api_batch_apply(db_t *db, db_ptr_change_t *c)
{
	waiter_t me = {.c = c};
	pthread_mutex_lock(&mu);
	if (tail)
		tail->next = &me;
	else
		head = &me;
	tail = &me;
	while (!me.done) {
		/* One batch at a time: while it runs, the next one gathers. (Two or more at
		 * once, measured, cost PostgreSQL more per change: smaller batches.) */
		if (running) {
			pthread_cond_wait(&cv, &mu);
			continue;
		}
		running = true;
		waiter_t *b[API_BATCH_MAX];
		size_t n = take(b);
		pthread_mutex_unlock(&mu);

		int rc = RDNS_OK;
		if (n == 1) {
			apply_alone(db, b[0]->c); /* the plain function is the cheaper one for one change */
		} else {
			db_ptr_change_t *cs[API_BATCH_MAX];
			for (size_t i = 0; i < n; i++)
				cs[i] = b[i]->c;
			rc = db_ptr_apply_batch(db, cs, n);
			if (rc != RDNS_OK)
				log_warn(
				    "ptr: a batch of %zu changes failed (%s: %s); applying them one by one",
				    n, rdns_strerror(rc), db_last_error(db));
		}

		pthread_mutex_lock(&mu);
		for (size_t i = 0; i < n; i++) {
			b[i]->alone = rc != RDNS_OK;
			b[i]->done = true;
		}
		running = false;
		pthread_cond_broadcast(&cv);
	}
	pthread_mutex_unlock(&mu);
	/* Nothing of a failed batch was applied: each change goes on its own, with its own
	 * error (a dead connection, a conflict), on its worker's connection. */
	return me.alone ? apply_alone(db, c) : c->err;
}
