/* daemon.c - rdns-zonegen's loop: leader election by advisory lock, LISTEN/NOTIFY with
 * a bounded render rate, periodic reconciliation, publishing to the hidden primary, NOTIFY outcomes. */
#include "daemon.h"

#include <arpa/inet.h>
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/strset.h"
#include "core/tsigkey.h"
#include "db/db.h"
#include "db/zones.h"
#include "zonegen/acl.h"
#include "zonegen/dnssrv.h"
#include "zonegen/fdcache.h"
#include "zonegen/incr.h"
#include "zonegen/lease.h"
#include "zonegen/metrics.h"
#include "zonegen/notify.h"
#include "zonegen/render.h"
#include "zonegen/tsig.h"
#include "zonegen/writer.h"

/* The leader's lease. A new leader waits ZG_LEASE_MS after taking the lock before it
 * serves, renders or announces anything; a leader serves only until ZG_LEASE_MS / 2
 * after its session last proved alive (a round trip every ZG_LEASE_MS / 5, records
 * streaming in, or lease.c's thread seeing from a second session that this one's
 * backend still holds the lock, while this thread renders or writes). So an instance that lost its session
 * stops serving before another can start, even when it is too busy or too slow to notice at once. */
#define ZG_LEASE_MS 800

#define MAX_KEYS CORE_TSIG_KEYS_MAX

/* #19: a large zone whose PTR changes are served from the difference (zonegen/incr.c). */
typedef struct {
	long long id;
	char name[80];
	uint64_t params_fp;  /* of the version published */
	bool pending;        /* the published version is an overlay whose file is still to be written */
	long long write_at;  /* then: when to write it (monotonic ms) */
	size_t names;        /* then: the names the overlay replaces */
	uint32_t serial;     /* then: its serial */
	db_zone_params_t zp; /* then: its parameters (zeroed while the writer has them) */
	bool writing;        /* the writer's job is this zone's (of serial or an older one) */
} incr_zone_t;

typedef struct {
	const rdns_conf_t *conf;
	db_t *db;
	zg_dnssrv_t *srv;
	zg_lease_t *lease; /* proves the lease from a second session (NULL: none) */
	zg_notifier_t *notifier;
	zg_tsig_key_t keys[MAX_KEYS];
	size_t n_keys;
	/* The leader lock and LISTEN live and die with one PostgreSQL session: both are
	 * taken on session number `session` (db_session()), and on any other session
	 * this process is neither leader nor listening. */
	unsigned long session;
	bool leader; /* holds the lock on `session` */
	bool listening;
	long long lead_from; /* when the lease wait after taking the lock ends (monotonic ms) */
	long long last_ping; /* the last round trip that proved the session alive was sent */
	bool need_reconcile; /* leading since the lease wait: reconcile every zone first */
	/* Zones whose last render or publish failed (file errors, a rename that failed
	 * after the serial commit): rendered again, with backoff, until they succeed,
	 * whether or not they have change rows left. */
	long long *retry;
	size_t n_retry, cap_retry;
	core_strset_t published; /* zone names (no trailing dot) served right now */
	int pending_notifies;    /* --once: outcomes still to come */
	char *rendered;          /* ids rendered by the last render_list, "1,2,3" */
	size_t rendered_len;
	int failures;      /* renders and publishes that failed since the start */
	bool took_changes; /* a pass over every zone rendered the dirty ones on the way */
	incr_zone_t *incr; /* #19: the large zones published */
	size_t n_incr, cap_incr;
	zg_writer_t *writer; /* #19: their files, off this thread (NULL: written on it) */
	zg_writer_job_t job; /* the writer's one job */
} zg_t;

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether this process holds the leader lock on the session it is on. */
static bool holds_lock(const zg_t *z)
{
	return z->leader && db_session(z->db) == z->session && db_conn(z->db) &&
	       PQstatus(db_conn(z->db)) == CONNECTION_OK;
}

/* Whether it leads right now: it holds the lock and its lease wait is over. */
static bool leading(const zg_t *z)
{
	return holds_lock(z) && now_ms() >= z->lead_from;
}

/* The session proved alive at t (monotonic ms): serve until half a lease later, unless a
 * later proof (lease.c's thread) said more already. */
static void lease_renew(zg_t *z, long long t)
{
	if (z->srv)
		zg_dnssrv_serve_extend(z->srv, t + ZG_LEASE_MS / 2);
}

/* zg_render_zone()'s hook: records are streaming in on the session. */
static void render_alive(void *arg)
{
	lease_renew(arg, now_ms());
}

static bool retry_has(const zg_t *z, long long id)
{
	for (size_t i = 0; i < z->n_retry; i++)
		if (z->retry[i] == id)
			return true;
	return false;
}

static void retry_add(zg_t *z, long long id)
{
	if (retry_has(z, id))
		return;
	if (z->n_retry == z->cap_retry) {
		size_t cap = z->cap_retry ? 2 * z->cap_retry : 16;
		long long *v = realloc(z->retry, cap * sizeof(*v));
		if (!v)
			return; /* the reconcile will find it */
		z->retry = v;
		z->cap_retry = cap;
	}
	z->retry[z->n_retry++] = id;
}

static void retry_remove(zg_t *z, long long id)
{
	for (size_t i = 0; i < z->n_retry; i++)
		if (z->retry[i] == id) {
			z->retry[i] = z->retry[--z->n_retry];
			return;
		}
}

/* tsig_keys entries (core_tsig_key_parse; conf_load has checked them, and that
 * transfer_tsig_key names one of them). */
static int parse_keys(zg_t *z)
{
	const conf_list_t *l = &z->conf->tsig_keys;
	if (l->n > MAX_KEYS) {
		log_err("zonegen: tsig_keys: %zu keys, at most %d", l->n, MAX_KEYS);
		return RDNS_ECONFIG;
	}
	for (size_t i = 0; i < l->n; i++) {
		core_tsig_key_t ck;
		const char *why = "";
		if (core_tsig_key_parse(l->v[i], &ck, &why) != RDNS_OK) {
			log_err("zonegen: tsig_keys entry %zu: %s", i + 1, why);
			explicit_bzero(&ck, sizeof(ck));
			return RDNS_ECONFIG;
		}
		zg_tsig_key_t *k = &z->keys[z->n_keys++];
		memset(k, 0, sizeof(*k));
		memcpy(k->name, ck.name, sizeof(ck.name));
		memcpy(k->secret, ck.secret, ck.secret_len);
		k->secret_len = ck.secret_len;
		explicit_bzero(&ck, sizeof(ck));
	}
	return RDNS_OK;
}

/* Parse one "ip[:port][@key]" target; false (logged) when invalid. */
static bool make_target(zg_t *z, const char *s, zg_notify_target_t *t)
{
	char keyname[64] = "";
	if (zg_notify_target_parse(s, t, keyname, sizeof(keyname)) != RDNS_OK) {
		log_warn("notify: target '%s' is not a host's ip[:port][@key]; skipped", s);
		return false;
	}
	if (keyname[0]) {
		for (size_t i = 0; i < z->n_keys; i++)
			if (strcmp(z->keys[i].name, keyname) == 0) {
				snprintf(t->key_name, sizeof(t->key_name), "%s", keyname);
				memcpy(t->key, z->keys[i].secret, z->keys[i].secret_len);
				t->key_len = z->keys[i].secret_len;
				return true;
			}
		log_warn("notify: target '%s' names an unknown TSIG key; skipped", s);
		return false;
	}
	return true;
}

/* Add the target s to targets[*n] unless invalid or already there: a target is
 * its address, port and key (ip:port@key), so one listed globally and on the zone
 * is notified once, and two that differ by key are two. */
static void add_target(zg_t *z, const char *s, zg_notify_target_t *targets, size_t *n)
{
	char id[ZG_NOTIFY_ID_LEN], other[ZG_NOTIFY_ID_LEN];
	if (*n >= ZG_NOTIFY_MAX_TARGETS || !make_target(z, s, &targets[*n]))
		return;
	if (zg_notify_target_id(&targets[*n], id, sizeof(id)) != RDNS_OK)
		return;
	for (size_t i = 0; i < *n; i++)
		if (zg_notify_target_id(&targets[i], other, sizeof(other)) == RDNS_OK &&
		    strcmp(id, other) == 0) {
			explicit_bzero(&targets[*n], sizeof(targets[*n]));
			return;
		}
	(*n)++;
}

static void notify_zone(zg_t *z, const zg_render_result_t *res)
{
	zg_notify_target_t targets[ZG_NOTIFY_MAX_TARGETS];
	size_t n = 0;
	const conf_list_t *g = &z->conf->notify;
	for (size_t i = 0; i < g->n; i++)
		add_target(z, g->v[i], targets, &n);
	conf_list_t own;
	if (conf_list_parse(res->notify, &own) == RDNS_OK) {
		for (size_t i = 0; i < own.n; i++)
			add_target(z, own.v[i], targets, &n);
		conf_list_free(&own);
	}
	if (n == 0)
		return;
	char fqdn[96];
	snprintf(fqdn, sizeof(fqdn), "%s.", res->name);
	if (zg_notifier_submit(z->notifier, fqdn, res->serial, targets, n) == RDNS_OK)
		z->pending_notifies++;
	explicit_bzero(targets, sizeof(targets)); /* secrets */
}

/* Run post_write_command with {zone} and {file} substituted; bounded to 30 s. ping: prove
 * the session alive meanwhile (false on the writer's thread, which must not touch z->db:
 * the loop goes on proving it there). */
static void post_write_run(zg_t *z, const zg_render_result_t *res, bool ping)
{
	const char *tmpl = z->conf->post_write_command;
	if (!tmpl[0])
		return;
	char cmd[8192];
	size_t o = 0;
	for (const char *p = tmpl; *p && o < sizeof(cmd) - 1;) {
		const char *sub = NULL;
		if (strncmp(p, "{zone}", 6) == 0) {
			sub = res->name; /* a reverse zone name: digits, hex letters and dots only */
			p += 6;
		} else if (strncmp(p, "{file}", 6) == 0) {
			sub = res->path;
			p += 6;
		}
		if (sub)
			o += (size_t)snprintf(cmd + o, sizeof(cmd) - o, "%s", sub);
		else
			cmd[o++] = *p++;
		if (o >= sizeof(cmd))
			o = sizeof(cmd) - 1;
	}
	cmd[o] = 0;
	pid_t pid = fork();
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (pid < 0) {
		log_err("zonegen: zone %s: post_write_command: fork failed: %s", res->name, strerror(errno));
		return;
	}
	int status = 0;
	long long deadline = now_ms() + 30000, next_ping = now_ms() + ZG_LEASE_MS / 5;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		/* The hidden primary goes on serving meanwhile: keep proving the session alive. */
		if (ping && now_ms() >= next_ping) {
			long long t = now_ms();
			if (db_zones_ping(z->db) == RDNS_OK && leading(z))
				lease_renew(z, t);
			next_ping = t + ZG_LEASE_MS / 5;
		}
		if (now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			log_err("zonegen: zone %s: post_write_command timed out", res->name);
			return;
		}
		usleep(5000);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		log_warn("zonegen: zone %s: post_write_command exited with status %d", res->name,
		         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

static void post_write(zg_t *z, const zg_render_result_t *res)
{
	post_write_run(z, res, true);
}

static int writer_abandon(zg_t *z, long long id);

static bool is_published(zg_t *z, const char *name)
{
	return core_strset_has(&z->published, name);
}

static int publish(zg_t *z, const zg_render_result_t *res)
{
	if (!z->srv)
		return RDNS_OK;
	char fqdn[96];
	snprintf(fqdn, sizeof(fqdn), "%s.", res->name);
	int rc = zg_dnssrv_publish(z->srv, fqdn, res->path);
	if (rc != RDNS_OK) {
		log_zone_err("zonegen", res->name, "cannot publish %s: %s", res->path, rdns_strerror(rc));
		return rc;
	}
	if (core_strset_add(&z->published, res->name) != RDNS_OK) {
		/* served but not remembered: a deletion of the zone would not stop it */
		log_zone_err("zonegen", res->name, "out of memory remembering a published zone");
		zg_dnssrv_unpublish(z->srv, fqdn);
		return RDNS_ENOMEM;
	}
	return RDNS_OK;
}

static void unpublish_all(zg_t *z)
{
	size_t pos = 0;
	const char *name;
	while (z->srv && (name = core_strset_next(&z->published, &pos)) != NULL) {
		char fqdn[96];
		snprintf(fqdn, sizeof(fqdn), "%s.", name);
		zg_dnssrv_unpublish(z->srv, fqdn);
	}
	core_strset_clear(&z->published);
}

/* Remove the zone files in zone_dir ("<name>.zone", name an in-addr.arpa or ip6.arpa
 * zone: only files we write) of zones not in all: left by a zone deleted while no
 * daemon served it, or deleted under --once, which publishes nothing. */
static void remove_gone_files(zg_t *z, const core_strset_t *all)
{
	DIR *d = opendir(z->conf->zone_dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char name[256];
		size_t l = strlen(e->d_name);
		if (e->d_name[0] == '.' || l <= 5 || l - 5 >= sizeof(name) ||
		    strcmp(e->d_name + l - 5, ".zone") != 0)
			continue;
		memcpy(name, e->d_name, l - 5);
		name[l - 5] = '\0';
		size_t nl = l - 5;
		bool ours = (nl > 13 && strcmp(name + nl - 13, ".in-addr.arpa") == 0) ||
		            (nl > 9 && strcmp(name + nl - 9, ".ip6.arpa") == 0);
		if (!ours || core_strset_has(all, name))
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0)
			log_info("zonegen: zone %s deleted; file %s/%s removed", name, z->conf->zone_dir,
			         e->d_name);
		char jname[264];
		snprintf(jname, sizeof(jname), "%s.ixfr", name);
		(void)unlinkat(dirfd(d), jname, 0); /* its history, if any */
	}
	closedir(d);
}

/* The published versions' files are opened on demand (fdcache.c): descriptors of the
 * versions nobody is reading are kept up to half the open-file limit (at least 64), the
 * rest is for sockets, transfers in progress, renders and their temp files. */
static void fd_cache_setup(const char *zone_dir)
{
	struct rlimit rl;
	size_t max = 64;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		size_t half = rl.rlim_cur == RLIM_INFINITY ? (size_t)1 << 20 : (size_t)(rl.rlim_cur / 2);
		if (half > max)
			max = half;
	}
	zg_fdc_clean(zone_dir); /* the pins of an earlier process (before the first publish) */
	zg_fdc_set_limit(max);
	log_debug("zonegen: at most %zu zone files kept open while idle", max);
}

/* Stop serving (and remove the file of) every zone that is not in all (db_zones_all). */
static void drop_gone(zg_t *z, const db_zone_list_t *all)
{
	core_strset_t names = CORE_STRSET_INIT;
	for (size_t j = 0; j < all->n; j++) {
		if (core_strset_add(&names, all->v[j].name) != RDNS_OK) {
			core_strset_clear(&names); /* (next pass: nothing is dropped on a guess) */
			log_err("zonegen: out of memory listing the zones; deleted zones dropped later");
			return;
		}
	}
	size_t pos = 0;
	const char *name;
	while ((name = core_strset_next(&z->published, &pos)) != NULL) {
		if (core_strset_has(&names, name))
			continue;
		/* its file must not come back after remove_gone_files */
		const zg_writer_job_t *cur = zg_writer_current(z->writer);
		if (cur != NULL && strcmp(cur->zp.name, name) == 0 &&
		    writer_abandon(z, cur->zone_id) == RDNS_EDB)
			z->leader = false;
		char fqdn[96];
		snprintf(fqdn, sizeof(fqdn), "%s.", name);
		if (z->srv)
			zg_dnssrv_unpublish(z->srv, fqdn);
		log_info("zonegen: zone %s deleted; no longer served", name);
		core_strset_del_at(&z->published, &pos);
	}
	remove_gone_files(z, &names);
	core_strset_clear(&names);
}

/* ---- #19: large zones' PTR changes served from the difference ---- */

static incr_zone_t *incr_find(zg_t *z, long long id)
{
	for (size_t i = 0; i < z->n_incr; i++)
		if (z->incr[i].id == id)
			return &z->incr[i];
	return NULL;
}

static void incr_clear(incr_zone_t *iz)
{
	if (iz->pending)
		db_zone_params_free(&iz->zp);
	iz->pending = false;
	iz->names = 0;
}

/* ---- the writer's thread: one file at a time, carried out here ---- */

/* On the writer's thread, after its rename: the post-write command (no round trips on the
 * session, which is this loop's: the loop goes on proving it). */
static void writer_after(const zg_writer_job_t *job, void *arg)
{
	zg_render_result_t res = {.serial = job->sn->soa.soa[0]};
	snprintf(res.name, sizeof(res.name), "%s", job->zp.name);
	const zg_t *z = arg;
	snprintf(res.path, sizeof(res.path), "%s/%s.zone", z->conf->zone_dir, job->zp.name);
	post_write_run(arg, &res, false);
}

/* Carry out the writer's finished job (wait: for the one in flight): the hash stored and
 * the file published in its version's place (leading only: else the next leader's render
 * does it), the zone's file no longer pending when it was of the version served last; a
 * failed or abandoned write leaves the overlay served and its parameters with the zone
 * again. RDNS_OK or RDNS_EDB. */
static int writer_finish(zg_t *z, bool wait)
{
	zg_writer_job_t *job = zg_writer_take(z->writer, wait);
	if (job == NULL)
		return RDNS_OK;
	incr_zone_t *iz = incr_find(z, job->zone_id);
	uint32_t serial = job->sn->soa.soa[0];
	/* no newer version from the difference was served meanwhile (that one holds zp) */
	bool latest = iz != NULL && iz->pending && iz->serial == serial;
	bool done = false;
	int rc = RDNS_OK;
	if (iz != NULL)
		iz->writing = false;
	if (job->rc == RDNS_OK && iz != NULL && leading(z)) {
		rc = zg_incr_write_done(z->db, z->srv, job->zone_id, job->sn, job->zp.name, job->path,
		                        job->hash);
		if (rc == RDNS_OK) {
			done = true;
			log_zone_info(
			    "zonegen", job->zp.name,
			    "serial %u written to its file in %lld ms by the writer (%zu names from the "
			    "difference)%s",
			    serial, job->write_ms, iz->names,
			    latest ? "" : "; a newer version is served, its file follows");
		} else if (rc != RDNS_EDB) {
			log_zone_err("zonegen", job->zp.name,
			             "publishing the file of serial %u failed (%s); will try again", serial,
			             rdns_strerror(rc));
			z->failures++;
			iz->write_at = now_ms() + 5000;
		}
	} else if (job->rc == RDNS_OK) {
		log_zone_info(
		    "zonegen", job->zp.name,
		    "serial %u written to its file in %lld ms; not leading any more (its hash is left "
		    "to the next leader's render)",
		    serial, job->write_ms);
	} else if (job->rc == RDNS_EAGAIN) {
		log_zone_info("zonegen", job->zp.name, "writing the file of serial %u abandoned", serial);
	} else {
		/* The overlay goes on being served; the file is tried again later, and a render
		 * of the zone (after a change of anything else, the reconcile) replaces both. */
		log_zone_err("zonegen", job->zp.name,
		             "writing the file of serial %u failed (%s); will try again", serial,
		             rdns_strerror(job->rc));
		z->failures++;
		if (iz != NULL)
			iz->write_at = now_ms() + 5000;
	}
	if (latest && done) {
		incr_clear(iz);
	} else if (latest) {
		iz->zp = job->zp; /* the zone's again, for the next try */
		memset(&job->zp, 0, sizeof(job->zp));
	}
	zg_dnssrv_put(z->srv, job->sn);
	job->sn = NULL;
	db_zone_params_free(&job->zp);
	return rc == RDNS_EDB ? RDNS_EDB : RDNS_OK;
}

/* Cancel the writer's job when it is zone id's (any zone's: id < 0) and wait for it: a
 * write in flight when the lease is lost or the zone goes never replaces a file after. */
static int writer_abandon(zg_t *z, long long id)
{
	const zg_writer_job_t *cur = zg_writer_current(z->writer);
	if (cur == NULL || (id >= 0 && cur->zone_id != id))
		return RDNS_OK;
	zg_writer_cancel(z->writer);
	return writer_finish(z, true);
}

/* The zone is no longer published as a large zone (gone, failed, small, not leading). */
static void incr_forget(zg_t *z, long long id)
{
	if (writer_abandon(z, id) == RDNS_EDB)
		z->leader = false;
	incr_zone_t *iz = incr_find(z, id);
	if (iz == NULL)
		return;
	incr_clear(iz);
	*iz = z->incr[--z->n_incr];
}

static void incr_forget_all(zg_t *z)
{
	if (writer_abandon(z, -1) == RDNS_EDB)
		z->leader = false;
	for (size_t i = 0; i < z->n_incr; i++)
		incr_clear(&z->incr[i]);
	z->n_incr = 0;
}

/* After a render that published the zone (or found it published): large zones take the
 * difference's path for their next changes. */
static void incr_note(zg_t *z, long long id, const zg_render_result_t *res)
{
	if (z->srv == NULL || res->records < (uint64_t)z->conf->incremental_min_records ||
	    !is_published(z, res->name)) {
		incr_forget(z, id);
		return;
	}
	incr_zone_t *iz = incr_find(z, id);
	if (iz == NULL) {
		if (z->n_incr == z->cap_incr) {
			size_t cap = z->cap_incr ? 2 * z->cap_incr : 8;
			incr_zone_t *v = realloc(z->incr, cap * sizeof(*v));
			if (v == NULL)
				return; /* its changes render the whole zone */
			z->incr = v;
			z->cap_incr = cap;
		}
		iz = &z->incr[z->n_incr++];
		memset(iz, 0, sizeof(*iz));
		iz->id = id;
	}
	incr_clear(iz); /* the render published its file: no overlay */
	snprintf(iz->name, sizeof(iz->name), "%s", res->name);
	iz->params_fp = res->params_fp;
}

/* Write the file of the zone's overlay version on this thread (what the writer's thread
 * does otherwise: before a render of the zone, a full overlay, at shutdown); the post-write
 * command follows. */
static int incr_flush(zg_t *z, incr_zone_t *iz)
{
	/* one in flight first: it may be this zone's, and files are written one at a time */
	if (iz->writing && writer_finish(z, true) == RDNS_EDB)
		return RDNS_EDB;
	if (!iz->pending)
		return RDNS_OK;
	long long t0 = now_ms();
	uint32_t serial = 0;
	int rc = zg_incr_write(z->db, z->srv, iz->id, &iz->zp, z->conf->zone_dir, &serial);
	if (rc == RDNS_EDB)
		return rc;
	if (rc != RDNS_OK) {
		/* The overlay goes on being served; the file is tried again later, and a render
		 * of the zone (after a change of anything else, the reconcile) replaces both. */
		log_zone_err("zonegen", iz->name, "writing the file of serial %u failed (%s); will try again",
		             serial, rdns_strerror(rc));
		z->failures++;
		iz->write_at = now_ms() + 5000;
		return rc;
	}
	log_zone_info("zonegen", iz->name,
	              "serial %u written to its file in %lld ms (%zu names from the difference)", serial,
	              now_ms() - t0, iz->names);
	zg_render_result_t res = {.serial = serial};
	snprintf(res.name, sizeof(res.name), "%s", iz->name);
	snprintf(res.path, sizeof(res.path), "%s/%s.zone", z->conf->zone_dir, iz->name);
	incr_clear(iz);
	post_write(z, &res);
	return RDNS_OK;
}

/* Hand the file of the zone's overlay version to the writer's thread (idle). */
static int incr_start(zg_t *z, incr_zone_t *iz)
{
	char fqdn[96];
	snprintf(fqdn, sizeof(fqdn), "%s.", iz->name);
	zg_zonedb_snap_t *sn = zg_dnssrv_get(z->srv, fqdn);
	if (sn == NULL || sn->base == NULL || sn->soa.soa[0] != iz->serial) {
		/* not the overlay this loop published last: zg_incr_write sorts it out */
		zg_dnssrv_put(z->srv, sn);
		return incr_flush(z, iz);
	}
	zg_writer_job_t *job = &z->job;
	memset(job, 0, sizeof(*job));
	job->zone_id = iz->id;
	job->sn = sn; /* held until writer_finish: the base file and the overlay stay */
	job->zp = iz->zp;
	snprintf(job->zone_dir, sizeof(job->zone_dir), "%s", z->conf->zone_dir);
	snprintf(job->path, sizeof(job->path), "%s/%s.zone", z->conf->zone_dir, iz->name);
	job->after = writer_after;
	job->arg = z;
	if (zg_writer_submit(z->writer, job) != RDNS_OK) {
		zg_dnssrv_put(z->srv, sn); /* (busy: the caller looked) */
		return RDNS_OK;
	}
	memset(&iz->zp, 0, sizeof(iz->zp)); /* the job's until it is finished */
	iz->writing = true;
	return RDNS_OK;
}

/* The zone's pending changes from the difference: RDNS_OK (served, or nothing to serve),
 * RDNS_EDB (the session), anything else: render the whole zone. */
static int incr_apply(zg_t *z, incr_zone_t *iz)
{
	if (z->srv == NULL || !is_published(z, iz->name))
		return RDNS_ERANGE;
	if (iz->pending && iz->names >= ZG_INCR_OVERLAY_MAX) {
		int w = incr_flush(z, iz);
		if (w != RDNS_OK)
			return w;
	}
	zg_journal_limits_t hist = {.versions = z->conf->ixfr_history, .bytes = z->conf->ixfr_history_bytes};
	zg_incr_result_t r;
	long long t0 = now_ms();
	int rc = RDNS_EAGAIN;
	for (int i = 0; i < 3 && rc == RDNS_EAGAIN; i++)
		rc = zg_incr_apply(z->db, z->srv, iz->id, z->conf->zone_dir, iz->params_fp,
		                   ZG_INCR_OVERLAY_MAX - iz->names, &hist, &r);
	if (rc != RDNS_OK)
		return rc;
	if (!leading(z)) {
		db_zone_params_free(&r.zp);
		return RDNS_EDB;
	}
	lease_renew(z, now_ms());
	if (!r.changed) {
		db_zone_params_free(&r.zp);
		return RDNS_OK;
	}
	zg_metrics_render(r.name, "incremental", (uint64_t)(now_ms() - t0) * 1000000, r.serial);
	log_zone_info(
	    "zonegen", r.name,
	    "serial %u from the difference in %lld ms: %zu names (IXFR from %u: %zu deleted, %zu added); "
	    "file in %ld ms",
	    r.serial, now_ms() - t0, r.names, r.from, r.deleted, r.added, z->conf->incremental_write_ms);
	if (iz->pending)
		db_zone_params_free(&iz->zp);
	iz->zp = r.zp;
	iz->pending = true;
	iz->names += r.names;
	iz->serial = r.serial;
	iz->write_at = now_ms() + z->conf->incremental_write_ms;
	zg_render_result_t res = {.serial = r.serial};
	snprintf(res.name, sizeof(res.name), "%s", r.name);
	snprintf(res.notify, sizeof(res.notify), "%s", r.notify);
	notify_zone(z, &res);
	return RDNS_OK;
}

/* The overlays whose time has come are written: handed to the writer's thread when it is
 * idle (on this thread without one). *next: the earliest time one is due that is not
 * waiting for the writer (whose eventfd wakes the loop), -1: none. */
static int incr_due(zg_t *z, long long *next)
{
	*next = -1;
	bool busy = zg_writer_current(z->writer) != NULL;
	for (size_t i = 0; i < z->n_incr; i++) {
		incr_zone_t *iz = &z->incr[i];
		if (!iz->pending || iz->writing)
			continue;
		if (iz->write_at <= now_ms()) {
			int rc = RDNS_OK;
			if (z->writer == NULL)
				rc = incr_flush(z, iz);
			else if (!busy)
				rc = incr_start(z, iz);
			if (rc == RDNS_EDB)
				return RDNS_EDB;
			busy = zg_writer_current(z->writer) != NULL;
		}
		if (!iz->pending || iz->writing || (busy && iz->write_at <= now_ms()))
			continue;
		if (*next < 0 || iz->write_at < *next)
			*next = iz->write_at;
	}
	return RDNS_OK;
}

static int render_outcome(zg_t *z, long long id, int rc, zg_render_result_t *res, long long dur_ms,
                          bool batch, bool *gone);

/* Render one zone and carry the result out: publish, post-write command, NOTIFY.
 * *gone: set when the zone no longer exists (its change rows are then deleted). */
static int render_one(zg_t *z, long long id, bool force, bool *gone)
{
	zg_render_result_t res;
	incr_zone_t *iz = incr_find(z, id);
	if (iz != NULL && !force) {
		int irc = incr_apply(z, iz);
		if (irc == RDNS_OK || irc == RDNS_EDB)
			return irc;
		iz = incr_find(z, id); /* (anything else: the whole zone is rendered) */
	}
	if (iz != NULL && iz->pending && incr_flush(z, iz) == RDNS_EDB)
		return RDNS_EDB; /* a render starts from the file of the version served */
	long long t0 = now_ms();
	zg_render_alive_t alive = {render_alive, z};
	zg_journal_limits_t hist = {.versions = z->conf->ixfr_history, .bytes = z->conf->ixfr_history_bytes};
	int rc = zg_render_zone(z->db, id, z->conf->zone_dir, force, &alive, &hist, &res);
	return render_outcome(z, id, rc, &res, now_ms() - t0, false, gone);
}

/* What becomes of a render of zone id that returned rc (zg_render_zone's, or its outcome
 * in a batch) and took dur_ms: publish, post-write command, NOTIFY, or the retry list.
 * batch: the zone was one of a batch whose caller has renewed the lease from the batch's
 * commit and proves the session alive once, then NOTIFYs every zone written. */
static int render_outcome(zg_t *z, long long id, int rc, zg_render_result_t *res, long long dur_ms,
                          bool batch, bool *gone)
{
	long long t0 = now_ms() - dur_ms;
	if (rc == RDNS_ENOTFOUND) {
		incr_forget(z, id);
		/* Deleted: what is left in zone_changes is the deletion's own mark. */
		int err = db_zone_forget(z->db, id);
		if (err != RDNS_OK)
			return err;
		*gone = true;
		return RDNS_OK;
	}
	if (rc == RDNS_EDB)
		return rc; /* the session: the caller gives up the leadership */
	if (rc != RDNS_OK) {
		char idtext[32];
		snprintf(idtext, sizeof(idtext), "id %lld", id);
		log_zone_err("zonegen", res->name[0] ? res->name : idtext,
		             "render failed (%s); will try again", rdns_strerror(rc));
		zg_metrics_render(res->name[0] ? res->name : idtext, "failed",
		                  (uint64_t)(now_ms() - t0) * 1000000, 0);
		z->failures++;
		retry_add(z, id);
		return rc;
	}
	/* Only the leader of the session the render ran on publishes and announces: had
	 * the session ended meanwhile, another instance may lead already. The render's
	 * commit was a round trip on it. */
	if (!leading(z))
		return RDNS_EDB;
	if (!batch)
		lease_renew(z, now_ms());
	zg_metrics_render(res->name,
	                  res->changed   ? "changed"
	                  : res->written ? "rewritten"
	                                 : "unchanged",
	                  (uint64_t)(now_ms() - t0) * 1000000, res->serial);
	int pub = RDNS_OK;
	if (res->written) {
		char hist_text[96] = "";
		if (res->journaled)
			snprintf(hist_text, sizeof(hist_text), "; IXFR from %u: %zu deleted, %zu added",
			         res->diff.from, res->diff.deleted, res->diff.added);
		log_zone_info("zonegen", res->name, "serial %u, %llu records, written in %lld ms%s%s",
		              res->serial, (unsigned long long)res->records, now_ms() - t0,
		              res->changed ? "" : " (content unchanged)", hist_text);
		pub = publish(z, res);
		post_write(z, res);
		if (batch)
			goto published;
		/* Publishing a large zone (checking its file) and the post-write command can
		 * outlast the lease renewed above; the secondaries ask for the SOA as soon as
		 * the NOTIFY arrives, and must not find the primary refusing. Prove the
		 * session alive first. */
		long long t_ping = now_ms();
		if (db_zones_ping(z->db) != RDNS_OK || !leading(z))
			return RDNS_EDB;
		lease_renew(z, t_ping);
		notify_zone(z, res);
	} else if (!is_published(z, res->name)) {
		pub = publish(z, res);
	}
published:
	if (pub != RDNS_OK) {
		z->failures++;
		retry_add(z, id);
		incr_forget(z, id);
		return pub;
	}
	retry_remove(z, id);
	incr_note(z, id, res);
	return RDNS_OK;
}

static bool take_notifies(zg_t *z);

/* #17: zones rendered together (zg_render_batch): one transaction, one syncfs for the files,
 * one fsync of the folder. */
#define ZG_RENDER_BATCH 128

/* Render the n zones of ids as one batch and carry each result out as render_one does
 * (one proof of the session for all before their NOTIFYs); a zone the batch hands back
 * (RDNS_EAGAIN), or every zone when the batch's transaction failed but the session
 * lives, is rendered alone. out[i]: zone i's outcome. RDNS_EDB: the session is gone. */
static int render_batch(zg_t *z, const long long *ids, size_t n, bool force, bool *gone, int *out)
{
	static zg_render_result_t res[ZG_RENDER_BATCH];
	int rcs[ZG_RENDER_BATCH];
	assert(n <= ZG_RENDER_BATCH);
	long long t0 = now_ms();
	zg_render_alive_t alive = {render_alive, z};
	zg_journal_limits_t hist = {.versions = z->conf->ixfr_history, .bytes = z->conf->ixfr_history_bytes};
	zg_render_batch_stats_t st;
	int rc = zg_render_batch(z->db, ids, n, z->conf->zone_dir, force, &alive, &hist, res, rcs, &st);
	long long t1 = now_ms();
	if (rc == RDNS_EDB)
		return rc;
	if (rc == RDNS_OK && leading(z))
		lease_renew(z, t1); /* the batch's commit was the last round trip */
	log_debug(
	    "zonegen: batch of %zu zones: %u written, %u fsyncs, %u syncfs, %u transaction(s) in %lld ms%s",
	    n, st.renamed, st.fsyncs, st.syncfs, st.commits, t1 - t0,
	    rc == RDNS_OK ? "" : "; rendered alone");
	long long share = (t1 - t0) / (long long)n;
	bool any_written = false;
	for (size_t i = 0; i < n; i++) {
		if (rc != RDNS_OK || rcs[i] == RDNS_EAGAIN) {
			out[i] = render_one(z, ids[i], force, gone);
		} else {
			out[i] = render_outcome(z, ids[i], rcs[i], &res[i], share, true, gone);
			any_written |= out[i] == RDNS_OK && res[i].written;
		}
		if (out[i] == RDNS_EDB)
			return RDNS_EDB;
	}
	if (!any_written)
		return RDNS_OK;
	/* As render_one before its NOTIFY: the secondaries ask for the SOA as soon as it
	 * arrives and must not find the primary refusing. */
	long long t_ping = now_ms();
	if (db_zones_ping(z->db) != RDNS_OK || !leading(z))
		return RDNS_EDB;
	lease_renew(z, t_ping);
	for (size_t i = 0; i < n; i++)
		if (rc == RDNS_OK && rcs[i] != RDNS_EAGAIN && out[i] == RDNS_OK && res[i].written)
			notify_zone(z, &res[i]);
	return RDNS_OK;
}

/* Render every zone (all) or the dirty ones. A pass over every zone takes seconds when
 * there are many (82k zones: ~1 ms each, issue #17); a change notified on the way is not
 * left waiting for its end: the dirty zones are rendered then and there. */
static int render_list(zg_t *z, bool all, bool force)
{
	db_zone_list_t l;
	long long t_start = now_ms();
	int err = all ? db_zones_all(z->db, &l) : db_zones_dirty(z->db, &l);
	if (err != RDNS_OK)
		return err;
	if (all) {
		drop_gone(z, &l); /* zones that are gone: stop serving them */
	}
	/* The zones to render: the list, then the failed ones it does not hold. */
	size_t n = l.n;
	long long *ids = malloc((l.n + z->n_retry + 1) * sizeof(*ids));
	if (!ids) {
		db_zone_list_free(&l);
		return RDNS_ENOMEM;
	}
	for (size_t i = 0; i < l.n; i++)
		ids[i] = l.v[i].id;
	for (size_t k = 0; k < z->n_retry; k++) {
		bool listed = false;
		for (size_t i = 0; i < l.n && !listed; i++)
			listed = l.v[i].id == z->retry[k];
		if (!listed)
			ids[n++] = z->retry[k];
	}
	db_zone_list_free(&l);
	int rc = RDNS_OK;
	size_t o = 0;
	bool gone = false, took = false;
	if (z->rendered)
		z->rendered[0] = 0;
	for (size_t i = 0; i < n && rc != RDNS_EDB;) {
		/* the zones up to the next one served from the difference (#19), which renders alone */
		long long batch[ZG_RENDER_BATCH];
		int out[ZG_RENDER_BATCH];
		size_t k = 0;
		while (i + k < n && k < ZG_RENDER_BATCH && incr_find(z, ids[i + k]) == NULL)
			batch[k] = ids[i + k], k++;
		if (k >= 2) {
			rc = render_batch(z, batch, k, force, &gone, out);
		} else {
			k = 1;
			rc = out[0] = render_one(z, ids[i], force, &gone);
		}
		for (size_t j = 0; j < k && rc != RDNS_EDB; j++)
			if (out[j] == RDNS_OK && z->rendered && !took && o + 24 < z->rendered_len)
				o += (size_t)snprintf(z->rendered + o, z->rendered_len - o, "%s%lld",
				                      o ? "," : "", ids[i + j]);
		i += k;
		if (rc != RDNS_EDB)
			rc = out[k - 1];
		if (all && rc != RDNS_EDB && z->listening && take_notifies(z)) {
			rc = render_list(z, false, false);
			/* z->rendered lists the dirty pass's zones now: the caller watches their
			 * late commits (late_start) */
			took = z->took_changes = true;
		}
	}
	free(ids);
	/* issue #17: what a reconcile costs at scale (bench/bench_scale.py reads this line) */
	if (all && rc != RDNS_EDB)
		log_info("zonegen: reconcile: %zu zones checked in %lld ms", n, now_ms() - t_start);
	if (gone && rc != RDNS_EDB && !all) {
		if ((err = db_zones_all(z->db, &l)) != RDNS_OK)
			return err == RDNS_EDB ? err : RDNS_OK;
		drop_gone(z, &l);
		db_zone_list_free(&l);
	}
	return rc == RDNS_EDB ? rc : RDNS_OK;
}

/* Record NOTIFY outcomes in PostgreSQL for GET /v1/zones/{name}, as each target
 * finishes: the targets that finished now get their result (with its serial and
 * time), the others keep their entry (those still being tried: their last known
 * outcome, or "pending" when they have none; those that finished before: the
 * result written then), targets no longer configured are dropped. */
static void drain_notify(zg_t *z)
{
	zg_notify_outcome_t out[8];
	size_t n;
	while ((n = zg_notifier_poll(z->notifier, out, 8)) > 0) {
		for (size_t i = 0; i < n; i++) {
			zg_notify_outcome_t *o = &out[i];
			static const char *const states[] = {"pending", "acked", "notimp",
			                                     "failed",  "error", "refused"};
			time_t now = time(NULL);
			struct tm tm;
			char at[32];
			gmtime_r(&now, &tm);
			strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
			json_t *done = json_object(), *keep = json_object();
			for (size_t t = 0; t < o->n_results; t++) {
				zg_notify_result_t *r = &o->results[t];
				const char *st =
				    r->state >= 0 && r->state <= 5 ? states[r->state] : "unknown";
				/* notify.c has logged the outcome; here it is only recorded (and counted) */
				if (r->fresh)
					zg_metrics_notify(r->target, st);
				json_object_set_new(r->fresh ? done : keep, r->target,
				                    json_pack("{s:s, s:i, s:i, s:s, s:I, s:s}", "state", st,
				                              "tries", r->tries, "rcode", r->rcode, "detail",
				                              r->detail, "serial", (json_int_t)o->serial,
				                              "at", at));
			}
			json_t *upd = json_pack("{s:I, s:s, s:o, s:o}", "serial", (json_int_t)o->serial, "at",
			                        at, "done", done, "keep", keep);
			char *text = json_dumps(upd, JSON_COMPACT);
			json_decref(upd);
			char name[ZG_NOTIFY_ZONE_LEN];
			size_t l = strnlen(o->zone, sizeof(name) - 1);
			memcpy(name, o->zone, l);
			name[l] = 0;
			if (l && name[l - 1] == '.')
				name[l - 1] = 0;
			if (text)
				(void)db_zone_merge_notify_status(z->db, name, text);
			free(text);
			if (o->final && z->pending_notifies > 0)
				z->pending_notifies--;
		}
	}
}

/* Temporary files left by a render that was killed (".<zone>.zone.XXXXXX"). */
static void remove_stale_temps(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		const char *n = e->d_name;
		size_t l = strlen(n);
		if (n[0] == '.' && l > 12 &&
		    (strncmp(n + l - 12, ".zone.", 6) == 0 || strncmp(n + l - 12, ".ixfr.", 6) == 0)) {
			if (unlinkat(dirfd(d), n, 0) == 0)
				log_info("zonegen: removed %s/%s left by an interrupted render", dir, n);
		}
	}
	closedir(d);
}

/* A list option as one space-separated string (the ACL grammar's input). */
static void list_join(const conf_list_t *l, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = 0;
	for (size_t i = 0; i < l->n && o < len - 1; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s ", l->v[i]);
}

/* Say where NOTIFY leaves from, per family (once, at start). */
static void log_notify_source(const zg_notify_conf_t *nc)
{
	const struct sockaddr_storage *src[2] = {&nc->source4, &nc->source6};
	const char *fam[2] = {"IPv4", "IPv6"};
	for (int i = 0; i < 2; i++) {
		char text[INET6_ADDRSTRLEN] = "";
		if (src[i]->ss_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)src[i])->sin_addr, text,
			          sizeof(text));
		else if (src[i]->ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)src[i])->sin6_addr, text,
			          sizeof(text));
		if (text[0])
			log_info("notify: NOTIFY to %s targets leaves from %s", fam[i], text);
		else
			log_info("notify: NOTIFY to %s targets leaves from the kernel's choice of address "
			         "(secondaries that check the source may refuse it; see notify_source)",
			         fam[i]);
	}
}

static int setup(zg_t *z, const rdns_conf_t *conf, bool serve)
{
	memset(z, 0, sizeof(*z));
	z->conf = conf;
	if (parse_keys(z) != RDNS_OK)
		return RDNS_ECONFIG;
	if (mkdir(conf->zone_dir, 0755) != 0 && errno != EEXIST) {
		log_err("zonegen: cannot create zone_dir %s: %s", conf->zone_dir, strerror(errno));
		return RDNS_ECONFIG;
	}
	remove_stale_temps(conf->zone_dir);
	fd_cache_setup(conf->zone_dir);
	z->rendered_len = 64 * 1024;
	z->rendered = calloc(1, z->rendered_len);
	if (!z->rendered)
		return RDNS_ENOMEM;
	z->db = db_new(conf->database_url);
	if (!z->db)
		return RDNS_ENOMEM;
	db_set_pinned(z->db, true); /* the leader's lock and LISTEN belong to its session */
	zg_notify_conf_t nc = {.tries = (int)conf->notify_tries,
	                       .first_timeout_ms = (int)conf->notify_timeout_ms,
	                       .max_timeout_ms = 8000};
	const char *why = "";
	if (zg_notify_source_parse(conf->notify_source, conf->dns_listen, &nc, &why) != RDNS_OK) {
		log_err("zonegen: notify_source: %s", why);
		return RDNS_ECONFIG;
	}
	log_notify_source(&nc);
	int err;
	z->notifier = zg_notifier_new(&nc, &err);
	if (!z->notifier) {
		log_err("zonegen: cannot start the notifier: %s", rdns_strerror(err));
		return err;
	}
	if (serve && conf->dns_listen[0]) {
		char allow[4096] = "", qallow[4096] = "";
		list_join(&conf->transfer_allow, allow, sizeof(allow));
		list_join(&conf->query_allow, qallow, sizeof(qallow));
		zg_dnssrv_conf_t sc = {.listen = conf->dns_listen,
		                       .transfer_allow = allow,
		                       .query_allow = qallow,
		                       .keys = z->keys,
		                       .n_keys = z->n_keys,
		                       .transfer_key =
		                           conf->transfer_tsig_key[0] ? conf->transfer_tsig_key : NULL,
		                       .tcp_idle_timeout_ms = (int)conf->dns_tcp_idle_timeout_ms,
		                       .tcp_query_timeout_ms = (int)conf->dns_tcp_query_timeout_ms,
		                       .max_tcp_clients = (int)conf->dns_tcp_clients,
		                       .max_tcp_per_addr = (int)conf->dns_tcp_per_address};
		z->srv = zg_dnssrv_new(&sc, &err);
		if (!z->srv || zg_dnssrv_start(z->srv) != RDNS_OK) {
			log_err("zonegen: cannot serve DNS on %s: %s", conf->dns_listen, rdns_strerror(err));
			return RDNS_EIO;
		}
		log_info("zonegen: hidden primary on %s", conf->dns_listen);
		/* Nothing is served before the first proof of a lease (lease_renew only
		 * ever extends it). */
		zg_dnssrv_serve_until(z->srv, 0);
		/* The lease proved from a second session while this one renders and writes
		 * (lease.c); without it only this session's round trips renew. */
		z->lease = zg_lease_start(conf->database_url, z->srv, ZG_LEASE_MS, ZG_LEASE_MS / 8);
		if (z->lease == NULL)
			log_warn("zonegen: no lease thread; a long render may pause serving");
		/* #19: large zones' files are written off this loop */
		z->writer = zg_writer_new();
		if (z->writer == NULL)
			log_warn("zonegen: no writer thread; large zones' files are written on the loop");
	}
	return RDNS_OK;
}

static void teardown(zg_t *z)
{
	incr_forget_all(z); /* (the writer's job first) */
	free(z->incr);
	zg_writer_free(z->writer);
	z->writer = NULL;
	zg_lease_free(z->lease);
	z->lease = NULL;
	if (z->srv) {
		zg_dnssrv_stop(z->srv);
		unpublish_all(z);
		zg_dnssrv_free(z->srv);
	} else {
		unpublish_all(z);
	}
	zg_notifier_free(z->notifier);
	db_free(z->db);
	free(z->rendered);
	free(z->retry);
}

/* Connect, LISTEN and try to take the leader lock. Returns RDNS_OK when connected.
 * Having the lock, the process leads once its lease wait is over (lead_from). */
static int connect_and_elect(zg_t *z)
{
	if (db_ensure(z->db) != RDNS_OK) {
		z->leader = false;
		z->listening = false;
		return RDNS_EDB;
	}
	if (db_session(z->db) != z->session) {
		/* A new session holds neither the lock nor LISTEN, whatever the old one did. */
		z->session = db_session(z->db);
		z->leader = false;
		z->listening = false;
	}
	if (!z->listening) {
		if (db_zones_listen(z->db) != RDNS_OK)
			return RDNS_EDB;
		z->listening = true;
	}
	if (!z->leader) {
		if (db_zones_leader_try_lock(z->db)) {
			z->leader = true;
			z->lead_from = now_ms() + ZG_LEASE_MS;
			z->last_ping = now_ms();
			z->need_reconcile = true;
			log_info("zonegen: took the leader lock; leading in %d ms (the lease of any former "
			         "leader)",
			         ZG_LEASE_MS);
		}
	}
	return RDNS_OK;
}

/* Wait before rendering failed zones again: 100 ms, doubled per failed pass, 5 s at most. */
static long long retry_backoff_ms(int streak)
{
	long long ms = 100;
	for (int i = 0; i < streak && ms < 5000; i++)
		ms *= 2;
	return ms < 5000 ? ms : 5000;
}

/* Drain the change notifications libpq holds; whether there were any. */
static bool take_notifies(zg_t *z)
{
	PGconn *c = db_conn(z->db);
	if (!c || PQstatus(c) != CONNECTION_OK)
		return false;
	PGnotify *nt;
	bool any = false;
	while ((nt = PQnotifies(c)) != NULL) {
		any = true;
		PQfreemem(nt);
	}
	return any;
}

/* The render rate is bounded by a duty cycle, not by a window: after a pass that the
 * changes asked for, the next one may start ZG_RENDER_GAP_K times that pass's duration
 * later, and never more than debounce_ms later. A change that finds no pass running, or
 * arrives after the gap of the last one, starts a pass at once (small zones render in a few
 * ms, so a change right after another waits a few ms, not debounce_ms); a steady stream of
 * changes keeps the passes to at most 1 / (1 + ZG_RENDER_GAP_K) of the time, and the changes
 * that arrive during a pass or its gap render together in the next. debounce_ms caps the gap
 * for zones whose render takes long: a stream of changes to one then renders it with
 * debounce_ms between passes. */
#define ZG_RENDER_GAP_K 1

/* The earliest start of the next pass after one that ran from t0 to t1 (monotonic ms). */
static long long render_gap_end(long long t0, long long t1, long debounce_ms)
{
	long long gap = (t1 - t0) * ZG_RENDER_GAP_K;
	return t1 + (gap < debounce_ms ? gap : debounce_ms);
}

/* When the dirty zones are rendered after a change: at once, unless the gap after the last
 * pass (render_gap_end) is not over; then at its end. */
static void arm_render(long long *render_at, long long next_start)
{
	if (*render_at >= 0)
		return;
	long long now = now_ms();
	*render_at = next_start > now ? next_start : now;
}

/* Changes that may have notified nobody. A change looks whether its zone has pending
 * changes, and notifies only when it has none; one whose statement began before a render
 * committed saw the rows that render was about to delete, and stays silent. Looking for
 * pending changes right after the render (as the loop does) finds it only if it has
 * committed by then. It holds a transaction id before that look's snapshot (rdns_ptr_apply
 * writes its record in an earlier statement; the batch functions, whose one statement
 * writes and looks, take their id before it), so the ids in progress just after the
 * render's commit include it. The daemon looks for pending changes in the zones rendered
 * once all of those have ended. */
typedef struct {
	char *xids;   /* in progress after the last render's commit; NULL: nothing to watch */
	char *ids;    /* the zones rendered since the watch began, "1,2,3" */
	bool all;     /* too many to list: render whatever is dirty */
	long long at; /* the next look (monotonic ms), -1: none */
	int wait;     /* ms to the next look: 1, doubled up to 100 */
} late_watch_t;

#define LATE_IDS_MAX 65536

static void late_clear(late_watch_t *w)
{
	free(w->xids);
	free(w->ids);
	*w = (late_watch_t){.at = -1};
}

/* Look again: *dirty when a render is due (the transactions watched have ended and a
 * zone rendered has pending changes). RDNS_OK or RDNS_EDB. */
static int late_check(zg_t *z, late_watch_t *w, bool *dirty)
{
	*dirty = false;
	bool running = false;
	int rc = w->xids[0] ? db_zones_xids_running(z->db, w->xids, &running) : RDNS_OK;
	if (rc != RDNS_OK)
		return rc;
	if (running) {
		w->wait = w->wait * 2 < 100 ? w->wait * 2 : 100;
		w->at = now_ms() + w->wait;
		return RDNS_OK;
	}
	*dirty = w->all || db_zones_any_dirty(z->db, w->ids);
	late_clear(w);
	return RDNS_OK;
}

/* After a pass that rendered z->rendered: watch the transactions in progress now (those
 * of a watch under way still are, if they have not ended), and look at once. */
static int late_start(zg_t *z, late_watch_t *w, bool *dirty)
{
	char *xids = NULL;
	int rc = db_zones_xids_in_progress(z->db, &xids);
	if (rc != RDNS_OK) {
		*dirty = true; /* the caller arms a render; the session's fate shows there */
		return rc;
	}
	size_t l = strlen(z->rendered) + (w->ids ? strlen(w->ids) + 1 : 0) + 1;
	char *ids = w->all || l > LATE_IDS_MAX ? NULL : malloc(l);
	if (ids) {
		int n = snprintf(ids, l, "%s%s%s", w->ids ? w->ids : "", w->ids ? "," : "", z->rendered);
		if (n < 0 || (size_t)n >= l) {
			free(ids);
			ids = NULL;
		}
	}
	bool all = ids == NULL;
	late_clear(w);
	*w = (late_watch_t){.xids = xids, .ids = ids, .all = all, .at = now_ms(), .wait = 1};
	return late_check(z, w, dirty);
}

int zg_daemon_run(const rdns_conf_t *conf)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	late_watch_t late = {.at = -1};
	zg_t z;
	int ret = 1;
	if (sfd < 0 || setup(&z, conf, true) != RDNS_OK)
		goto out;
	long long render_at = -1, next_start = 0;
	long long next_reconcile = now_ms() + conf->reconcile_interval * 1000;
	long long next_connect = 0, retry_at = -1;
	long long write_at = -1; /* #19: the next overlay's file to write */
	int retry_streak = 0;
	bool was_leader = false, catch_up = false;
	for (;;) {
		long long now = now_ms();
		if (!holds_lock(&z) && now >= next_connect) {
			z.leader = false;
			if (connect_and_elect(&z) != RDNS_OK) {
				if (was_leader)
					log_warn("zonegen: lost the database; not leader any more");
				z.leader = false;
				z.listening = false;
			}
			next_connect = now + 250;
		}
		if (holds_lock(&z) && now_ms() - z.last_ping >= ZG_LEASE_MS / 5) {
			long long t = now_ms();
			if (db_zones_ping(z.db) == RDNS_OK) {
				z.last_ping = t;
				if (leading(&z))
					lease_renew(&z, t);
			} else {
				z.leader = false;
			}
		}
		if (leading(&z) && z.need_reconcile) {
			z.need_reconcile = false;
			log_info("zonegen: leader now; reconciling every zone");
			lease_renew(&z, now_ms());
			zg_lease_watch(z.lease, PQbackendPID(db_conn(z.db)));
			if (render_list(&z, true, false) == RDNS_EDB) {
				z.leader = false;
			} else {
				z.took_changes = false; /* the catch-up pass below covers them */
				/* Changes committed while no leader listened, or during the reconcile,
				 * notified nobody: look for them in the change log at once. */
				render_at = now_ms();
				catch_up = true;
			}
		}
		if (!leading(&z) && (was_leader || z.published.n > 0)) {
			/* A standby must not serve what may be stale, nor announce it. */
			zg_lease_watch(z.lease, 0);
			if (z.srv)
				zg_dnssrv_serve_until(z.srv, 0);
			unpublish_all(&z);
			incr_forget_all(&z);
			write_at = -1;
			zg_notifier_cancel_all(z.notifier);
			z.pending_notifies = 0;
			late_clear(&late);
			retry_at = -1;
			retry_streak = 0;
		}
		was_leader = holds_lock(&z);
		zg_metrics_leader(leading(&z));
		/* A change's notification can come in with the answer to any statement run
		 * since the last poll (drain_notify's bookkeeping, a render): libpq queues it
		 * and the socket shows nothing. Take it now, or the zone would wait for the
		 * reconcile, and its later changes with it (only a zone's first pending change
		 * notifies). */
		if (take_notifies(&z))
			arm_render(&render_at, next_start);

		struct pollfd pfd[4] = {{sfd, POLLIN, 0},
		                        {zg_notifier_fd(z.notifier), POLLIN, 0},
		                        {-1, POLLIN, 0},
		                        {zg_writer_fd(z.writer), POLLIN, 0}};
		if (db_conn(z.db) && PQstatus(db_conn(z.db)) == CONNECTION_OK)
			pfd[2].fd = PQsocket(db_conn(z.db));
		long long wake = next_connect;
		if (holds_lock(&z) && !leading(&z)) {
			wake = z.lead_from;
		} else if (holds_lock(&z)) {
			wake = z.last_ping + ZG_LEASE_MS / 5;
			if (next_reconcile < wake)
				wake = next_reconcile;
			if (render_at >= 0 && render_at < wake)
				wake = render_at;
			if (retry_at >= 0 && retry_at < wake)
				wake = retry_at;
			if (late.at >= 0 && late.at < wake)
				wake = late.at;
			if (write_at >= 0 && write_at < wake)
				wake = write_at;
		}
		int timeout = (int)(wake - now_ms());
		if (timeout < 0)
			timeout = 0;
		if (timeout > 1000)
			timeout = 1000;
		if (poll(pfd, 4, timeout) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) > 0)
				log_info("zonegen: signal %u, stopping", si.ssi_signo);
			/* #19: versions served from the difference get their files first, so that the
			 * next leader starts from them (and their IXFR history): the writer's job
			 * finished, then the others written here */
			if (writer_finish(&z, true) == RDNS_EDB)
				z.leader = false;
			for (size_t i = 0; leading(&z) && i < z.n_incr; i++)
				if (z.incr[i].pending)
					(void)incr_flush(&z, &z.incr[i]);
			ret = 0;
			break;
		}
		if (pfd[1].revents & POLLIN)
			drain_notify(&z);
		if ((pfd[3].revents & POLLIN) && writer_finish(&z, false) == RDNS_EDB)
			z.leader = false;
		if (pfd[2].fd >= 0 && (pfd[2].revents & (POLLIN | POLLHUP | POLLERR))) {
			PGconn *c = db_conn(z.db);
			if (!PQconsumeInput(c)) {
				log_warn("zonegen: database connection lost: %s", PQerrorMessage(c));
				db_zones_ping(z.db); /* marks the handle broken */
				z.leader = false;
				z.listening = false;
				continue;
			}
			if (take_notifies(&z))
				arm_render(&render_at, next_start);
		}
		if (!leading(&z))
			continue;
		now = now_ms();
		if (retry_at >= 0 && now >= retry_at) {
			retry_at = -1;
			render_at = now; /* the failed zones, and whatever else is dirty */
		}
		bool passed = false;
		if (render_at >= 0 && now >= render_at) {
			render_at = -1;
			/* The catch-up pass after an election does not count against the render
			 * rate: it is part of the reconcile, not a render the changes asked for. */
			bool counted = !catch_up;
			catch_up = false;
			if (render_list(&z, false, false) == RDNS_EDB) {
				z.leader = false;
				continue;
			}
			if (counted)
				next_start = render_gap_end(now, now_ms(), conf->debounce_ms);
			passed = true;
			bool dirty = false;
			if (z.rendered[0] && late_start(&z, &late, &dirty) == RDNS_EDB)
				z.leader = false;
			if (dirty) /* a change committed during the render may have notified nobody */
				arm_render(&render_at, next_start);
		}
		if (late.at >= 0 && now_ms() >= late.at) {
			bool dirty = false;
			if (late_check(&z, &late, &dirty) == RDNS_EDB)
				z.leader = false;
			if (dirty)
				arm_render(&render_at, next_start);
		}
		/* #19: the files of versions served from the difference, once their changes pause */
		if (incr_due(&z, &write_at) == RDNS_EDB) {
			z.leader = false;
			continue;
		}
		if (now >= next_reconcile) {
			next_reconcile = now + conf->reconcile_interval * 1000;
			if (render_list(&z, true, false) == RDNS_EDB) {
				z.leader = false;
				continue;
			}
			passed = true;
			if (z.took_changes) {
				/* the dirty renders on the way: their late commits, as after any pass */
				z.took_changes = false;
				bool dirty = false;
				if (z.rendered[0] && late_start(&z, &late, &dirty) == RDNS_EDB) {
					z.leader = false;
					continue;
				}
				arm_render(&render_at, next_start);
			}
		}
		if (passed && z.n_retry > 0 && retry_at < 0) {
			long long wait = retry_backoff_ms(retry_streak++);
			log_warn("zonegen: %zu zone%s not published; trying again in %lld ms", z.n_retry,
			         z.n_retry == 1 ? "" : "s", wait);
			retry_at = now_ms() + wait;
		} else if (passed && z.n_retry == 0) {
			retry_streak = 0;
		}
	}
out:
	late_clear(&late);
	if (sfd >= 0) {
		teardown(&z);
		close(sfd);
	}
	return ret;
}

int zg_once(const rdns_conf_t *conf, bool full)
{
	zg_t z;
	int ret = 1;
	if (setup(&z, conf, false) != RDNS_OK)
		goto out;
	if (db_ensure(z.db) != RDNS_OK) {
		log_err("zonegen: database unreachable: %s", db_last_error(z.db));
		goto out;
	}
	/* Wait (bounded) for a running leader to finish, then hold the lock ourselves. */
	if (db_zones_leader_lock(z.db) != RDNS_OK) {
		log_err("zonegen: could not take the leader lock: %s", db_last_error(z.db));
		goto out;
	}
	z.leader = true;
	z.session = db_session(z.db);
	if (render_list(&z, full, full) != RDNS_OK) {
		log_err("zonegen: database error: %s", db_last_error(z.db));
		goto out;
	}
	long long deadline = now_ms() + 120000;
	while (z.pending_notifies > 0 && now_ms() < deadline) {
		struct pollfd pfd = {zg_notifier_fd(z.notifier), POLLIN, 0};
		poll(&pfd, 1, 500);
		drain_notify(&z);
	}
	ret = z.failures ? 1 : 0;
out:
	teardown(&z);
	return ret;
}
