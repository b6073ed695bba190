/* writer.c - the thread that writes the files of versions served from the difference. */
#include "zonegen/writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "zonegen/incr.h"

struct zg_writer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int efd;              /* counts finished jobs not taken (0 or 1) */
	zg_writer_job_t *job; /* submitted, not taken */
	bool running;         /* job is being written */
	bool stop;
	atomic_bool cancel;
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *run(void *arg)
{
	zg_writer_t *w = arg;
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->stop && (w->job == NULL || !w->running))
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->stop)
			break;
		zg_writer_job_t *job = w->job;
		pthread_mutex_unlock(&w->lock);
		long long t0 = now_ms();
		job->rc = zg_incr_write_file(job->sn, &job->zp, job->zone_dir, &w->cancel, job->hash);
		job->write_ms = now_ms() - t0;
		if (job->rc == RDNS_OK && job->after != NULL)
			job->after(job, job->arg);
		pthread_mutex_lock(&w->lock);
		w->running = false;
		uint64_t one = 1;
		if (write(w->efd, &one, sizeof(one)) != sizeof(one))
			log_warn("zonegen: writer: cannot signal a finished file: %s", strerror(errno));
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

zg_writer_t *zg_writer_new(void)
{
	zg_writer_t *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;
	atomic_init(&w->cancel, false);
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0) {
		log_err("zonegen: writer: eventfd: %s", strerror(errno));
		free(w);
		return NULL;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	int e = pthread_create(&w->thread, NULL, run, w);
	if (e != 0) {
		log_err("zonegen: writer: cannot start its thread: %s", strerror(e));
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->cond);
		close(w->efd);
		free(w);
		return NULL;
	}
	return w;
}

int zg_writer_fd(const zg_writer_t *w)
{
	return w != NULL ? w->efd : -1;
}

int zg_writer_submit(zg_writer_t *w, zg_writer_job_t *job)
{
	pthread_mutex_lock(&w->lock);
	if (w->job != NULL) {
		pthread_mutex_unlock(&w->lock);
		return RDNS_EAGAIN;
	}
	atomic_store(&w->cancel, false);
	w->job = job;
	w->running = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return RDNS_OK;
}

const zg_writer_job_t *zg_writer_current(zg_writer_t *w)
{
	if (w == NULL)
		return NULL;
	pthread_mutex_lock(&w->lock);
	const zg_writer_job_t *job = w->job;
	pthread_mutex_unlock(&w->lock);
	return job;
}

zg_writer_job_t *zg_writer_take(zg_writer_t *w, bool wait)
{
	if (w == NULL)
		return NULL;
	pthread_mutex_lock(&w->lock);
	while (wait && w->running)
		pthread_cond_wait(&w->cond, &w->lock);
	zg_writer_job_t *job = NULL;
	if (w->job != NULL && !w->running) {
		job = w->job;
		w->job = NULL;
		uint64_t n;
		(void)!read(w->efd, &n, sizeof(n)); /* no longer readable */
	}
	pthread_mutex_unlock(&w->lock);
	return job;
}

void zg_writer_cancel(zg_writer_t *w)
{
	if (w != NULL)
		atomic_store(&w->cancel, true);
}

void zg_writer_free(zg_writer_t *w)
{
	if (w == NULL)
		return;
	atomic_store(&w->cancel, true);
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	close(w->efd);
	free(w);
}
