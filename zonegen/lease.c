/* lease.c - the leader's lease proved from a second session.
 *
 * The leader serves only until half a lease after its session last proved alive
 * (daemon.c). Its own round trips prove that, but the main thread also renders,
 * fsyncs and indexes zone files, and a 150,000-record zone kept it away from the
 * session for over a second: serving stopped mid-render, secondaries that asked then
 * were REFUSED and backed off for their retry interval (Knot: 15 minutes). This
 * thread asks, from a connection of its own, whether the leader's backend still
 * holds the lock: a yes at time t is as good a proof as a round trip on the
 * leader's session at t, because nobody else can take the lock while that backend
 * holds it, and a new leader waits a whole lease after taking it. A backend's
 * process id could in principle be reused by another leader's backend within one
 * lease; PostgreSQL starts a backend per connection, so that needs a reconnect
 * to land on the same pid in under a second, which we accept. */
#include "lease.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "core/err.h"
#include "core/log.h"
#include "db/db.h"
#include "db/zones.h"

struct zg_lease {
	zg_dnssrv_t *srv;
	db_t *db;
	int lease_ms, every_ms;
	_Atomic int pid;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop; /* under lock */
	pthread_t thread;
};

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep ms unless stopped; whether to go on. */
static bool nap(zg_lease_t *l, int ms)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&l->lock);
	while (!l->stop && pthread_cond_timedwait(&l->cond, &l->lock, &until) != ETIMEDOUT)
		;
	bool go = !l->stop;
	pthread_mutex_unlock(&l->lock);
	return go;
}

static void *run(void *arg)
{
	zg_lease_t *l = arg;
	bool was_down = false;
	do {
		int pid = atomic_load(&l->pid);
		if (pid <= 0)
			continue;
		long long t = mono_ms(); /* the proof is as old as the question */
		bool held = false;
		int rc = db_ensure(l->db);
		if (rc == RDNS_OK)
			rc = db_zones_leader_held_by(l->db, pid, &held);
		if (rc != RDNS_OK) {
			if (!was_down)
				log_warn("zonegen: the lease session failed (%s); the leader's own session "
				         "renews the lease meanwhile",
				         db_last_error(l->db));
			was_down = true;
			continue;
		}
		if (was_down)
			log_info("zonegen: the lease session is back");
		was_down = false;
		/* Only for the backend still watched: the leadership may have ended meanwhile. */
		if (held && atomic_load(&l->pid) == pid)
			zg_dnssrv_serve_extend(l->srv, t + l->lease_ms / 2);
	} while (nap(l, l->every_ms));
	return NULL;
}

zg_lease_t *zg_lease_start(const char *conninfo, zg_dnssrv_t *srv, int lease_ms, int every_ms)
{
	zg_lease_t *l = calloc(1, sizeof(*l));
	if (l == NULL)
		return NULL;
	l->srv = srv;
	l->lease_ms = lease_ms;
	l->every_ms = every_ms;
	atomic_init(&l->pid, 0);
	l->db = db_new(conninfo);
	if (l->db == NULL || pthread_mutex_init(&l->lock, NULL) != 0) {
		db_free(l->db);
		free(l);
		return NULL;
	}
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	int rc = pthread_cond_init(&l->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (rc != 0 || pthread_create(&l->thread, NULL, run, l) != 0) {
		log_err("zonegen: cannot start the lease thread");
		if (rc == 0)
			pthread_cond_destroy(&l->cond);
		pthread_mutex_destroy(&l->lock);
		db_free(l->db);
		free(l);
		return NULL;
	}
	return l;
}

void zg_lease_watch(zg_lease_t *l, int pid)
{
	if (l != NULL)
		atomic_store(&l->pid, pid);
}

void zg_lease_free(zg_lease_t *l)
{
	if (l == NULL)
		return;
	pthread_mutex_lock(&l->lock);
	l->stop = true;
	pthread_cond_signal(&l->cond);
	pthread_mutex_unlock(&l->lock);
	pthread_join(l->thread, NULL);
	pthread_cond_destroy(&l->cond);
	pthread_mutex_destroy(&l->lock);
	db_free(l->db);
	free(l);
}
