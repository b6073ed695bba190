/* offload.c - the verification threads: a FIFO of parked requests, bounded in all and per account. */
#include "api/offload.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api/metrics.h"
#include "api/server.h"
#include "core/err.h"
#include "core/log.h"

#define ACCT_BUCKETS 256

typedef struct acct {
	long long id;
	long n;
	struct acct *next;
} acct_t;

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool started, stopping;
	pthread_t *threads;
	size_t n_threads;
	api_req_t **q; /* ring */
	size_t q_cap, q_head, q_len;
	long inflight, max_inflight, per_account;
	acct_t *accts[ACCT_BUCKETS];
} P = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static acct_t **acct_slot(long long id)
{
	acct_t **p = &P.accts[(unsigned long long)id % ACCT_BUCKETS];
	while (*p && (*p)->id != id)
		p = &(*p)->next;
	return p;
}

static void acct_release(long long id)
{
	acct_t **p = acct_slot(id);
	if (*p && --(*p)->n <= 0) {
		acct_t *dead = *p;
		*p = dead->next;
		free(dead);
	}
}

static void *pool_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&P.lock);
	for (;;) {
		while (!P.stopping && !P.q_len)
			pthread_cond_wait(&P.cond, &P.lock);
		if (P.stopping)
			break;
		api_req_t *r = P.q[P.q_head];
		P.q_head = (P.q_head + 1) % P.q_cap;
		P.q_len--;
		pthread_mutex_unlock(&P.lock);
		log_set_request(r->id);
		r->work(r);
		log_set_request(NULL);
		pthread_mutex_lock(&P.lock);
		P.inflight--;
		if (r->offload_account)
			acct_release(r->offload_account);
		pthread_mutex_unlock(&P.lock);
		api_req_resume(r); /* r belongs to its worker again from here */
		pthread_mutex_lock(&P.lock);
	}
	pthread_mutex_unlock(&P.lock);
	return NULL;
}

int api_offload_start(const rdns_conf_t *conf)
{
	pthread_mutex_lock(&P.lock);
	P.stopping = false;
	P.max_inflight = conf->verify_max_inflight;
	P.per_account = conf->verify_per_account;
	P.q_cap = (size_t)conf->verify_max_inflight;
	P.q = calloc(P.q_cap, sizeof(*P.q));
	P.threads = calloc((size_t)conf->verify_threads, sizeof(*P.threads));
	pthread_mutex_unlock(&P.lock);
	if (!P.q || !P.threads)
		return RDNS_ENOMEM;
	for (long i = 0; i < conf->verify_threads; i++) {
		if (pthread_create(&P.threads[i], NULL, pool_thread, NULL) != 0)
			return RDNS_EIO;
		P.n_threads++;
	}
	P.started = true;
	return RDNS_OK;
}

void api_offload_stop(void)
{
	pthread_mutex_lock(&P.lock);
	P.stopping = true;
	pthread_cond_broadcast(&P.cond);
	pthread_mutex_unlock(&P.lock);
	for (size_t i = 0; i < P.n_threads; i++)
		pthread_join(P.threads[i], NULL);
	free(P.threads);
	free(P.q);
	for (size_t i = 0; i < ACCT_BUCKETS; i++)
		for (acct_t *a = P.accts[i], *next; a; a = next) {
			next = a->next;
			free(a);
		}
	memset(P.accts, 0, sizeof(P.accts));
	P.threads = NULL;
	P.q = NULL;
	P.n_threads = P.q_len = P.q_head = P.q_cap = 0;
	P.inflight = 0;
	P.started = false;
}

long api_offload_inflight(void)
{
	pthread_mutex_lock(&P.lock);
	long n = P.inflight;
	pthread_mutex_unlock(&P.lock);
	return n;
}

bool api_offload(api_req_t *r, void *job, void (*job_free)(void *), api_work_fn work, api_done_fn done)
{
	r->job = job;
	r->job_free = job_free;
	r->work = work;
	r->done = done;
	if (!r->conn || !P.started) {
		work(r);
		done(r);
		return true;
	}
	long long acct = r->caller.staff ? 0 : r->caller.account_id;
	pthread_mutex_lock(&P.lock);
	if (P.inflight >= P.max_inflight || P.q_len >= P.q_cap) {
		pthread_mutex_unlock(&P.lock);
		api_metrics_verify_refused("busy");
		api_problem(r, 503, "verifier-busy", "Service Unavailable", NULL,
		            "%ld verifications are already in progress, the most this server runs at once; "
		            "retry shortly",
		            P.max_inflight);
		api_header(r, "Retry-After", "1");
		return false;
	}
	acct_t **slot = NULL;
	if (acct) {
		slot = acct_slot(acct);
		if (*slot && (*slot)->n >= P.per_account) {
			pthread_mutex_unlock(&P.lock);
			api_metrics_verify_refused("account");
			api_problem(
			    r, 429, "too-many-verifications", "Too Many Requests", NULL,
			    "your account already has %ld verifications in progress, the most allowed at "
			    "once; retry when one has been answered",
			    P.per_account);
			api_header(r, "Retry-After", "1");
			return false;
		}
		if (!*slot && !(*slot = calloc(1, sizeof(**slot)))) {
			pthread_mutex_unlock(&P.lock);
			api_problem(r, 503, NULL, "Service Unavailable", NULL, "%s",
			            "out of memory; retry shortly");
			api_header(r, "Retry-After", "1");
			return false;
		}
		(*slot)->id = acct;
		(*slot)->n++;
	}
	r->offload_account = acct;
	r->parked = true;
	P.inflight++;
	P.q[(P.q_head + P.q_len) % P.q_cap] = r;
	P.q_len++;
	pthread_cond_signal(&P.cond);
	pthread_mutex_unlock(&P.lock);
	return true;
}
