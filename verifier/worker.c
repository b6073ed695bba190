/* worker.c - rdns-verifier's threads: each claims a due job (a PTR set waiting for
 * forward DNS), verifies it with verify/ and finishes it in PostgreSQL: applied,
 * expired, or due again after a backoff; with no job due, a batch of custom PTRs due for
 * re-verification, and a batch of delegations due for their lame-delegation re-check,
 * within the global budget. Any number of threads and instances share the work through
 * db/jobs.c, db/reverify.c and db/delegcheck.c (FOR UPDATE SKIP LOCKED under a lease). */
#include "verifier/worker.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/deleg.h"
#include "core/err.h"
#include "core/log.h"
#include "db/db.h"
#include "db/delegcheck.h"
#include "db/jobs.h"
#include "db/reverify.h"
#include "verifier/backoff.h"
#include "verify/deleg.h"
#include "verify/verify.h"

/* Records claimed for re-verification at once (one claim and one finish statement each). */
#define VR_REVERIFY_BATCH 64
/* Delegations claimed for their re-check at once: each asks every address of up to 13
 * servers within verify_deadline_ms, so fewer than records. */
#define VR_DELEGCHECK_BATCH 8
/* The wait when records are due but the budget is spent: short, so that the bucket
 * (one second's worth) never overflows while every thread sleeps. */
#define VR_SPENT_NAP_MS 20
/* Discovery of records without a re-verification row: this often at most (and every
 * reverify_interval when that is shorter), by the first thread of each instance. */
#define VR_DISCOVER_MS 60000

/* The database's backoff when it cannot be reached: 100 ms doubled up to 5 s. */
#define VR_DB_BACKOFF_MIN_MS 100
#define VR_DB_BACKOFF_MAX_MS 5000

typedef struct {
	const rdns_conf_t *conf;
	vf_verify_conf_t vc;
	char name[128]; /* "rdns-verifier <host>:<pid>": the actor in audit entries */
	atomic_bool stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
} vr_t;

typedef struct {
	vr_t *vr;
	int index;
	pthread_t tid;
	bool started;
} vr_thread_t;

/* Sleep up to ms, or until vr_stop(); whether stopping. */
static bool nap(vr_t *vr, long ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&vr->mu);
	while (!atomic_load(&vr->stop))
		if (pthread_cond_timedwait(&vr->cv, &vr->mu, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&vr->mu);
	return atomic_load(&vr->stop);
}

/* Verify one claimed job and finish it. RDNS_OK or the database's error. */
static int run_job(vr_t *vr, db_t *db, const db_job_t *j)
{
	core_addr_t a;
	vf_verdict_t v;
	char *checks = NULL;
	bool passed = false, final = false;
	if (core_addr_parse(j->ip, &a) != RDNS_OK) {
		log_err("verifier: request %lld: address '%s' does not parse", j->request_id, j->ip);
		final = true;
	} else {
		int err = vf_verify(&vr->vc, &a, j->hostname, false, &v);
		if (err == RDNS_OK) {
			checks = vf_verdict_checks_text(&v);
			passed = v.ok;
			/* Syntax or policy failing now (say, denied_domains grew) will not mend
			 * with time; any forward failure may: the resolvers too can be fixed. */
			final = !v.syntax_ok;
		} else {
			log_warn("verifier: request %lld (%s -> %s): the verifier could not run: %s; trying "
			         "again later",
			         j->request_id, j->ip, j->hostname, rdns_strerror(err));
		}
	}
	long retry = vr_backoff_ms(j->tries, vr->conf->verify_retry_min_ms, vr->conf->verify_retry_max_ms);
	db_job_outcome_t out;
	int err = db_job_finish(db, j, vr->name, passed, final, checks, retry, &out);
	free(checks);
	if (err != RDNS_OK) {
		log_warn(
		    "verifier: request %lld: could not record the outcome (%s): %s; the job is claimed again "
		    "after its lease",
		    j->request_id, rdns_strerror(err), db_last_error(db));
		return err;
	}
	if (out == DB_JOB_RETRY)
		log_info("verifier: request %lld (%s -> %s): try %d did not confirm; next in %ld ms",
		         j->request_id, j->ip, j->hostname, j->tries, retry);
	else
		log_info("verifier: request %lld (%s -> %s): %s after %d tr%s", j->request_id, j->ip,
		         j->hostname, db_job_outcome_str(out), j->tries, j->tries == 1 ? "y" : "ies");
	return RDNS_OK;
}

/* The outcome of one re-verification: a pass; a definite failure (the name answers
 * otherwise: drifted) with its findings; or unknown (the resolvers did not say). */
static void reverify_one(vr_t *vr, db_reverify_t *x)
{
	core_addr_t a;
	vf_verdict_t v;
	x->result = DB_REVERIFY_UNKNOWN;
	if (core_addr_parse(x->ip, &a) != RDNS_OK ||
	    vf_verify(&vr->vc, &a, x->hostname, false, &v) != RDNS_OK)
		return;
	if (v.ok) {
		x->result = DB_REVERIFY_PASS;
	} else if (!v.syntax_ok || v.forward_conclusive) {
		x->result = DB_REVERIFY_FAIL;
		x->checks_json = vf_verdict_checks_text(&v);
	}
}

/* Claim, verify and finish one batch of re-verifications. RDNS_OK with *done records
 * finished (0: none due) and *spent when the budget held some back; or the database's
 * error. */
static int reverify_batch(vr_t *vr, db_t *db, size_t *done, bool *spent)
{
	const rdns_conf_t *c = vr->conf;
	db_reverify_t batch[VR_REVERIFY_BATCH];
	size_t got = 0, n = 0;
	long lease = VR_REVERIFY_BATCH * c->verify_deadline_ms + c->verifier_lease_ms;
	*done = 0;
	int err =
	    db_reverify_claim(db, VR_REVERIFY_BATCH, (double)c->reverify_qps, lease, batch, &got, spent);
	if (err != RDNS_OK || got == 0)
		return err;
	/* On a signal, the records not verified yet stay claimed: due again after the lease. */
	for (; n < got && !atomic_load(&vr->stop); n++)
		reverify_one(vr, &batch[n]);
	db_reverify_counts_t k;
	err = db_reverify_finish(db, batch, n, c->reverify_interval, c->verify_retry_min_ms, vr->name,
	                         strcmp(c->drift_action, "reset") == 0, c->drift_grace, &k);
	for (size_t i = 0; i < n; i++)
		free(batch[i].checks_json);
	if (err != RDNS_OK) {
		log_warn(
		    "verifier: could not record %zu re-verifications (%s): %s; due again after the lease", n,
		    rdns_strerror(err), db_last_error(db));
		return err;
	}
	if (k.drifted || k.reset || k.verified_again)
		log_info("verifier: re-verified %zu: %zu drifted, %zu verified again, %zu reset, %zu still "
		         "drifted",
		         n, k.drifted, k.verified_again, k.reset, k.still_drifted);
	*done = n;
	return RDNS_OK;
}

/* The outcome of one delegation re-check: the same probe and findings as the PUT's
 * (verify/deleg.c); lame only on a definite failure (vf_deleg_conclude). */
static void delegcheck_one(vr_t *vr, db_delegcheck_t *x)
{
	core_prefix_t p;
	core_deleg_label_t style;
	char zone[CORE_HOSTNAME_MAX + 2], ns[sizeof(x->ns)];
	const char *nsp[VF_DELEG_MAX_NS];
	size_t n = 0;
	x->result = DB_DELEGCHECK_UNKNOWN;
	if (core_prefix_parse(x->prefix, &p) != RDNS_OK ||
	    core_deleg_label_parse(x->classless_label, &style) != RDNS_OK ||
	    core_deleg_child_name(&p, style, zone, sizeof(zone)) != RDNS_OK) {
		log_err("verifier: delegation %s: no child zone name (label '%s')", x->prefix,
		        x->classless_label);
		return;
	}
	zone[strlen(zone) - 1] = 0; /* no trailing dot */
	snprintf(ns, sizeof(ns), "%s", x->ns);
	for (char *save = NULL, *t = strtok_r(ns, " ", &save); t && n < VF_DELEG_MAX_NS;
	     t = strtok_r(NULL, " ", &save))
		nsp[n++] = t;
	vf_deleg_outcome_t *o = calloc(1, sizeof(*o)); /* some 10 KiB: not on a thread's stack */
	if (!o)
		return;
	int err = vf_deleg_probe(&vr->vc, (unsigned)vr->conf->delegation_check_port, zone, nsp, n, o);
	if (err != RDNS_OK) {
		log_warn("verifier: delegation %s: the check could not run: %s; trying again later",
		         x->prefix, rdns_strerror(err));
	} else {
		vf_deleg_conclusion_t c = vf_deleg_conclude(o);
		bool ok;
		if (c != VF_DELEG_UNKNOWN && (x->checks_json = vf_deleg_findings_text(o, &ok)) != NULL)
			x->result = c == VF_DELEG_PASS ? DB_DELEGCHECK_PASS : DB_DELEGCHECK_LAME;
	}
	free(o);
}

/* Claim, check and finish one batch of delegation re-checks, as reverify_batch. */
static int delegcheck_batch(vr_t *vr, db_t *db, size_t *done, bool *spent)
{
	const rdns_conf_t *c = vr->conf;
	db_delegcheck_t *batch = calloc(VR_DELEGCHECK_BATCH, sizeof(*batch));
	size_t got = 0, n = 0;
	long lease = VR_DELEGCHECK_BATCH * c->verify_deadline_ms + c->verifier_lease_ms;
	*done = 0;
	*spent = false;
	if (!batch)
		return RDNS_ENOMEM;
	int err =
	    db_delegcheck_claim(db, VR_DELEGCHECK_BATCH, (double)c->reverify_qps, lease, batch, &got, spent);
	if (err != RDNS_OK || got == 0)
		goto cleanup;
	/* On a signal, the delegations not checked yet stay claimed: due again after the lease. */
	for (; n < got && !atomic_load(&vr->stop); n++)
		delegcheck_one(vr, &batch[n]);
	db_delegcheck_counts_t k;
	const char *changed[VR_DELEGCHECK_BATCH] = {NULL};
	err = db_delegcheck_finish(db, batch, n, c->delegation_recheck_interval, c->verify_retry_min_ms,
	                           vr->name, &k, changed);
	if (err != RDNS_OK) {
		log_warn(
		    "verifier: could not record %zu delegation re-checks (%s): %s; due again after the lease",
		    n, rdns_strerror(err), db_last_error(db));
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++)
		if (changed[i])
			log_info("verifier: delegation %s (%s): %s", batch[i].prefix, batch[i].ns,
			         strcmp(changed[i], "lame") == 0
			             ? "lame now (audited, event delegation.lame)"
			             : "recovered (audited, event delegation.recovered)");
		else if (batch[i].result == DB_DELEGCHECK_UNKNOWN)
			log_info(
			    "verifier: delegation %s: the resolvers did not answer for its servers; trying "
			    "again later",
			    batch[i].prefix);
	if (k.lame || k.recovered)
		log_info("verifier: re-checked %zu delegation%s: %zu lame, %zu recovered, %zu still lame", n,
		         n == 1 ? "" : "s", k.lame, k.recovered, k.still_lame);
	*done = n;
cleanup:
	for (size_t i = 0; i < got; i++)
		free(batch[i].checks_json);
	free(batch);
	return err;
}

static void *thread_main(void *arg)
{
	vr_thread_t *t = arg;
	vr_t *vr = t->vr;
	db_t *db = db_new(vr->conf->database_url);
	int db_streak = 0;
	struct timespec now;
	long long next_discover = 0, next_ddiscover = 0; /* ms, CLOCK_MONOTONIC; thread 0 only */
	long discover_ms = vr->conf->reverify_interval * 1000 < VR_DISCOVER_MS
	                       ? vr->conf->reverify_interval * 1000
	                       : VR_DISCOVER_MS;
	long dinterval = vr->conf->delegation_recheck_interval; /* 0: off */
	long ddiscover_ms =
	    dinterval > 0 && dinterval * 1000 < VR_DISCOVER_MS ? dinterval * 1000 : VR_DISCOVER_MS;
	if (!db) {
		log_err("verifier: thread %d: out of memory", t->index);
		return NULL;
	}
	while (!atomic_load(&vr->stop)) {
		db_job_t job;
		size_t got = 0;
		int err = db_ensure(db);
		if (err == RDNS_OK)
			err = db_jobs_claim(db, vr->name, vr->conf->verifier_lease_ms, &job, 1, &got);
		if (err != RDNS_OK) {
			long wait = vr_backoff_ms(++db_streak, VR_DB_BACKOFF_MIN_MS, VR_DB_BACKOFF_MAX_MS);
			if (db_streak == 1 || wait == VR_DB_BACKOFF_MAX_MS)
				log_warn(
				    "verifier: thread %d: database unavailable (%s); trying again in %ld ms",
				    t->index, db_last_error(db), wait);
			nap(vr, wait);
			continue;
		}
		if (db_streak) {
			log_info("verifier: thread %d: database reachable again", t->index);
			db_streak = 0;
		}
		if (got > 0) {
			run_job(vr, db, &job);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		long long now_ms = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
		if (t->index == 0 && now_ms >= next_discover) {
			long added = 0;
			next_discover = now_ms + discover_ms;
			if (db_reverify_discover(db, vr->conf->reverify_interval, &added) != RDNS_OK)
				log_warn("verifier: discovery of records to re-verify failed: %s",
				         db_last_error(db));
			else if (added)
				log_info("verifier: %ld custom PTR%s scheduled for re-verification", added,
				         added == 1 ? "" : "s");
		}
		if (t->index == 0 && dinterval > 0 && now_ms >= next_ddiscover) {
			long added = 0;
			next_ddiscover = now_ms + ddiscover_ms;
			if (db_delegcheck_discover(db, dinterval, &added) != RDNS_OK)
				log_warn("verifier: discovery of delegations to re-check failed: %s",
				         db_last_error(db));
			else if (added)
				log_info("verifier: %ld delegation%s scheduled for re-checks", added,
				         added == 1 ? "" : "s");
		}
		size_t done = 0, ddone = 0;
		bool spent = false, dspent = false;
		int rerr = reverify_batch(vr, db, &done, &spent);
		/* both kinds in turn: a backlog of one never starves the other */
		int derr = dinterval > 0 ? delegcheck_batch(vr, db, &ddone, &dspent) : RDNS_OK;
		if ((rerr == RDNS_OK && done > 0) || (derr == RDNS_OK && ddone > 0))
			continue;
		nap(vr, (rerr == RDNS_OK && spent) || (derr == RDNS_OK && dspent)
		            ? VR_SPENT_NAP_MS
		            : vr->conf->verifier_poll_ms);
	}
	db_free(db);
	return NULL;
}

int vr_run(const rdns_conf_t *conf)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* the threads inherit it: sigwait below takes them */
	signal(SIGPIPE, SIG_IGN);

	vr_t vr = {.conf = conf};
	char host[64] = "localhost";
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = 0;
	snprintf(vr.name, sizeof(vr.name), "rdns-verifier %s:%ld", host, (long)getpid());
	vf_verify_conf_from(conf, &vr.vc);
	atomic_init(&vr.stop, false);
	pthread_mutex_init(&vr.mu, NULL);
	pthread_cond_init(&vr.cv, NULL);

	size_t n = (size_t)conf->verifier_threads;
	vr_thread_t *threads = calloc(n, sizeof(*threads));
	int ret = 1;
	if (!threads) {
		log_err("verifier: out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		threads[i] = (vr_thread_t){.vr = &vr, .index = (int)i};
		if (pthread_create(&threads[i].tid, NULL, thread_main, &threads[i]) != 0) {
			log_err("verifier: cannot start thread %zu: %s", i, strerror(errno));
			atomic_store(&vr.stop, true);
			break;
		}
		threads[i].started = true;
	}
	log_info("verifier: %s running %zu thread%s (lease %ld ms, retries %ld ms .. %ld ms, wait max %ld s)",
	         vr.name, n, n == 1 ? "" : "s", conf->verifier_lease_ms, conf->verify_retry_min_ms,
	         conf->verify_retry_max_ms, conf->verify_wait_max);
	if (!atomic_load(&vr.stop)) {
		int sig = 0;
		sigwait(&set, &sig);
		log_info("verifier: signal %d, stopping", sig);
		ret = 0;
	}
	pthread_mutex_lock(&vr.mu);
	atomic_store(&vr.stop, true);
	pthread_cond_broadcast(&vr.cv);
	pthread_mutex_unlock(&vr.mu);
	for (size_t i = 0; i < n; i++)
		if (threads[i].started)
			pthread_join(threads[i].tid, NULL);
cleanup:
	free(threads);
	pthread_cond_destroy(&vr.cv);
	pthread_mutex_destroy(&vr.mu);
	return ret;
}
