/* render.c - zone rendering: snapshot, record stream, hash, serial, atomic file replace. */
#include "render.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/err.h"
#include "core/hostname.h"
#include "core/log.h"
#include "core/revname.h"
#include "core/serial.h"
#include "core/zonefile.h"
#include "db/deleg.h"
#include "db/zones.h"

#define ZG_RENDER_BUF (256 * 1024)

/* A FILE that writes through to another FILE and hashes what passes. */
typedef struct {
	FILE *out;
	EVP_MD_CTX *md;
	int *err; /* the errno of the first failed write */
} tee_t;

static ssize_t tee_write(void *cookie, const char *buf, size_t size)
{
	tee_t *t = cookie;
	EVP_DigestUpdate(t->md, buf, size);
	if (fwrite(buf, 1, size, t->out) == size)
		return (ssize_t)size;
	if (*t->err == 0)
		*t->err = errno ? errno : EIO;
	return -1;
}

static int tee_close(void *cookie)
{
	return 0;
}

bool zg_render_file_serial(const char *path, uint32_t *serial)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	char line[1024];
	bool ok = false;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == ';')
			continue;
		/* owner ttl IN SOA mname rname serial ... */
		char *save, *tok = strtok_r(line, " ", &save);
		for (int i = 0; tok && i < 6; i++)
			tok = strtok_r(NULL, " ", &save);
		if (tok) {
			char *end;
			unsigned long v = strtoul(tok, &end, 10);
			ok = *end == 0 && v <= UINT32_MAX;
			*serial = (uint32_t)v;
		}
		break;
	}
	fclose(f);
	return ok;
}

size_t zg_render_params_text(const db_zone_params_t *zp, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s.|%s|%s|%u|%u|%u|%u|%u|%s|%s", zp->name, zp->soa_mname, zp->soa_rname,
	                 zp->refresh, zp->retry, zp->expire, zp->minimum, zp->ttl, zp->nameservers,
	                 zp->default_ptr);
	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

uint64_t zg_render_params_fp(const char *text, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)text[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return RDNS_EIO;
	int rc = fsync(fd) == 0 ? RDNS_OK : RDNS_EIO;
	close(fd);
	return rc;
}

/* The delegations of a zone (db_zone_delegations) for the zone writer: the rows that
 * are not fit to render are logged and left out, so one bad row cannot take the others
 * (or the zone) down. */
typedef struct {
	PGresult *res;
	core_zonefile_deleg_t *v;
	char **ns_text; /* the nameserver lists, split in place */
	const char **ns;
	size_t n;
} delegs_t;

static void delegs_free(delegs_t *d)
{
	if (d->ns_text)
		for (size_t i = 0; i < d->n; i++)
			free(d->ns_text[i]);
	free(d->ns_text);
	free(d->ns);
	free(d->v);
	PQclear(d->res);
	memset(d, 0, sizeof(*d));
}

#define DELEG_NS_MAX 13 /* migration 009's CHECK */

/* Split a text[] as PostgreSQL prints it ("{a,b}": our names need no quoting) into ns. */
static size_t split_ns(char *text, const char **ns)
{
	size_t n = 0, l = strlen(text);
	if (l < 2 || text[0] != '{' || text[l - 1] != '}')
		return 0;
	text[l - 1] = 0;
	char *save, *tok;
	for (tok = strtok_r(text + 1, ",", &save); tok && n < DELEG_NS_MAX; tok = strtok_r(NULL, ",", &save))
		ns[n++] = tok;
	return n;
}

/* d from rows first .. first + rows - 1 of res (db_zone_delegations' columns), which d
 * does not own. */
static int delegs_fill(delegs_t *d, const PGresult *res, int first, int rows, const core_prefix_t *zone,
                       const char *name)
{
	if (rows == 0)
		return RDNS_OK;
	d->v = calloc((size_t)rows, sizeof(*d->v));
	d->ns_text = calloc((size_t)rows, sizeof(*d->ns_text));
	d->ns = calloc((size_t)rows * DELEG_NS_MAX, sizeof(*d->ns));
	if (!d->v || !d->ns_text || !d->ns)
		return RDNS_ENOMEM;
	for (int i = first; i < first + rows; i++) {
		core_zonefile_deleg_t *e = &d->v[d->n];
		const char *pfx = PQgetvalue(res, i, 0);
		bool ok = core_prefix_parse(pfx, &e->prefix) == RDNS_OK &&
		          core_deleg_check(zone, &e->prefix, &e->kind) == RDNS_OK &&
		          core_deleg_label_parse(PQgetvalue(res, i, 2), &e->style) == RDNS_OK;
		d->ns_text[d->n] = strdup(PQgetvalue(res, i, 1));
		if (!d->ns_text[d->n])
			return RDNS_ENOMEM;
		const char **ns = d->ns + d->n * DELEG_NS_MAX;
		e->ns = ns;
		e->n_ns = ok ? split_ns(d->ns_text[d->n], ns) : 0;
		if (!ok || e->n_ns == 0 || core_zonefile_deleg_ok(zone, e) != RDNS_OK) {
			log_zone_warn("render", name, "delegation %s left out: not a delegation of this zone",
			              pfx);
			free(d->ns_text[d->n]);
			d->ns_text[d->n] = NULL;
			continue;
		}
		d->n++;
	}
	return RDNS_OK;
}

static int load_delegations(db_t *db, long long zone_id, const core_prefix_t *zone, const char *name,
                            delegs_t *d)
{
	int err;
	memset(d, 0, sizeof(*d));
	d->res = db_zone_delegations(db, zone_id, &err);
	if (!d->res)
		return err;
	return delegs_fill(d, d->res, 0, PQntuples(d->res), zone, name);
}

/* What the record stream writes to, and whom it tells that the session is alive. */
typedef struct {
	core_zonefile_w_t *w;
	const zg_render_alive_t *alive;
	uint64_t n;
} sink_t;

/* db_zone_records() callback: one custom record into the zone writer. A record the
 * writer refuses is skipped (logged); only a write error stops the render. Every 4096
 * records the caller hears that the session still streams (its leader lease). */
static int add_record(void *arg, const core_addr_t *a, const char *h, size_t hl)
{
	sink_t *sk = arg;
	core_zonefile_w_t *w = sk->w;
	if ((++sk->n & 4095) == 0 && sk->alive && sk->alive->fn)
		sk->alive->fn(sk->alive->arg);
	char host[CORE_HOSTNAME_MAX + 2];
	if (hl >= sizeof(host)) {
		log_warn("render: record with a %zu-byte hostname skipped", hl);
		return RDNS_OK;
	}
	memcpy(host, h, hl);
	host[hl] = 0;
	int e = core_zonefile_w_add(w, a, host);
	if (e == RDNS_EIO)
		return RDNS_EIO;
	if (e != RDNS_OK) {
		char ip[CORE_ADDR_STRLEN];
		core_addr_format(a, ip, sizeof(ip));
		log_warn("render: record %s -> %s skipped: %s", ip, host, rdns_strerror(e));
	}
	return RDNS_OK;
}

static unsigned digits(uint32_t v)
{
	unsigned n = 1;
	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/* The head (comment, SOA, NS) was written to f at offset 0 with head->serial.
 * Write it again in place with serial when that takes the same number of bytes
 * (serials with as many digits: the usual case), so that an unchanged zone being
 * rewritten need not be rendered a second time. RDNS_OK, RDNS_ERANGE (the length
 * would change: render again), RDNS_EIO, RDNS_ENOMEM. */
static int rewrite_head(FILE *f, const core_zone_head_t *head, uint32_t serial)
{
	if (digits(serial) != digits(head->serial))
		return RDNS_ERANGE;
	core_zone_head_t h = *head;
	h.serial = serial;
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	if (!m)
		return RDNS_ENOMEM;
	int rc = core_zonefile_head(m, &h);
	if (fclose(m) != 0 && rc == RDNS_OK)
		rc = RDNS_ENOMEM;
	if (rc == RDNS_OK && fflush(f) != 0)
		rc = RDNS_EIO;
	if (rc == RDNS_OK && pwrite(fileno(f), text, len, 0) != (ssize_t)len)
		rc = RDNS_EIO;
	free(text);
	return rc;
}

/* What the steps of one render pass share. */
typedef struct {
	db_t *db;
	long long zone_id;
	const char *zone_dir;
	zg_render_result_t *res;
	const zg_render_alive_t *alive;
	const zg_journal_limits_t *hist;
	bool keep_serial; /* write the stored serial (the content is believed unchanged) */
	bool retry_keep;  /* with RDNS_EAGAIN: the next pass writes the stored serial */
	bool replace;     /* the temporary file is to replace the zone file */
	int io_errno;     /* the errno of the first failed write to the temporary file */
	db_zone_params_t zp;
	core_prefix_t prefix;
	char zone_fqdn[96];
	core_zone_head_t head; /* .serial: the one the temporary file carries */
	char tmp[4200];        /* the temporary file, "" when there is none (any more) */
	FILE *f;               /* open on tmp until the commit */
	char *fbuf;            /* f's buffer */
	char hash[65];         /* hex SHA-256 of the content written */
	/* #17, in a batch: the zone's delegations are rows dg_first.. of dg_res (none: no
	 * rows), fetched with the batch's (dg_given); outside one write_open asks for them. */
	bool dg_given;
	const PGresult *dg_res;
	int dg_first, dg_rows;
} pass_t;

/* A write to the temporary file failed: say which zone, which file and why (ENOSPC,
 * EROFS, EIO...), once. RDNS_EIO. */
static int write_failed(pass_t *p, const char *what, int e)
{
	if (p->io_errno == 0)
		p->io_errno = e ? e : EIO;
	log_zone_err("render", p->res->name, "%s %s failed: %s", what, p->tmp, strerror(p->io_errno));
	return RDNS_EIO;
}

static int setup_head(pass_t *p);

/* Step 1: open the snapshot and load the zone's parameters. The head gets the serial
 * the pass writes first: the stored one (keep_serial) or the next one. */
static int load_params(pass_t *p, bool begin)
{
	int rc;
	if (begin && (rc = db_zone_render_begin(p->db)) != RDNS_OK)
		return rc;
	if ((rc = db_zone_params(p->db, p->zone_id, &p->zp)) != RDNS_OK)
		return rc;
	return setup_head(p);
}

/* The rest of step 1, once p->zp is loaded: the names, the prefix, the head. */
static int setup_head(pass_t *p)
{
	zg_render_result_t *res = p->res;
	const db_zone_params_t *zp = &p->zp;
	snprintf(res->name, sizeof(res->name), "%s", zp->name);
	snprintf(res->notify, sizeof(res->notify), "%s", zp->notify);
	if (core_prefix_parse(zp->prefix, &p->prefix) != RDNS_OK) {
		log_zone_err("render", res->name, "bad prefix %s", zp->prefix);
		return RDNS_EINVAL;
	}
	snprintf(p->zone_fqdn, sizeof(p->zone_fqdn), "%s.", res->name);
	p->head = (core_zone_head_t){
	    .zone = p->zone_fqdn,
	    .serial = p->keep_serial ? zp->serial : core_serial_next(zp->serial, (uint32_t)time(NULL)),
	    .mname = zp->soa_mname,
	    .rname = zp->soa_rname,
	    .refresh = zp->refresh,
	    .retry = zp->retry,
	    .expire = zp->expire,
	    .minimum = zp->minimum,
	    .ttl = zp->ttl,
	    .ns = zp->ns,
	    .n_ns = zp->n_ns,
	};
	snprintf(res->path, sizeof(res->path), "%s/%s.zone", p->zone_dir, res->name);
	return RDNS_OK;
}

/* Step 2's writer: the temporary file's zone writer, with the hash of what passes. */
typedef struct {
	FILE *tee_f;
	core_zonefile_w_t *w;
	EVP_MD_CTX *md;
	char *teebuf;
	delegs_t dg;
	tee_t tee;
	sink_t sink;
} wr_t;

static void wr_free(wr_t *wr)
{
	if (wr->tee_f)
		fclose(wr->tee_f); /* flushes into p->f through md: before md goes */
	core_zonefile_w_free(wr->w);
	delegs_free(&wr->dg);
	EVP_MD_CTX_free(wr->md);
	free(wr->teebuf);
	memset(wr, 0, sizeof(*wr));
}

/* Step 2a: create the temporary file beside the zone file and write its head and
 * delegations; the records go to wr->sink (add_record) next. wr_free() in any case. */
static int write_open(pass_t *p, wr_t *wr)
{
	zg_render_result_t *res = p->res;
	const db_zone_params_t *zp = &p->zp;
	const char *tmpl = zp->default_ptr;
	int rc;

	memset(wr, 0, sizeof(*wr));
	snprintf(p->tmp, sizeof(p->tmp), "%s/.%s.zone.XXXXXX", p->zone_dir, res->name);
	int fd = mkstemp(p->tmp);
	if (fd < 0) {
		log_zone_err("render", res->name, "cannot create a file in %s: %s", p->zone_dir,
		             strerror(errno));
		p->tmp[0] = 0;
		return RDNS_EIO;
	}
	fchmod(fd, 0644);
	p->f = fdopen(fd, "w");
	if (!p->f) {
		int e = errno;
		close(fd);
		return write_failed(p, "opening", e);
	}
	/* glibc ignores the size when no buffer is given (it uses st_blksize, 4 KiB):
	 * give it one, or a million-record zone takes tens of thousands of write()s. */
	p->fbuf = malloc(ZG_RENDER_BUF);
	wr->teebuf = malloc(ZG_RENDER_BUF);
	if (!p->fbuf || !wr->teebuf)
		return RDNS_ENOMEM;
	setvbuf(p->f, p->fbuf, _IOFBF, ZG_RENDER_BUF);
	wr->md = EVP_MD_CTX_new();
	if (!wr->md || !EVP_DigestInit_ex(wr->md, EVP_sha256(), NULL))
		return RDNS_ENOMEM;
	/* The hash covers everything but the serial: the head's parameters and every record. */
	const core_zone_head_t *h = &p->head;
	char params[8192];
	size_t pl = zg_render_params_text(zp, params, sizeof(params));
	EVP_DigestUpdate(wr->md, params, pl);
	res->params_fp = zg_render_params_fp(params, pl);
	if ((rc = core_zonefile_head(p->f, h)) != RDNS_OK) {
		if (rc == RDNS_EIO)
			write_failed(p, "writing", errno);
		else
			log_zone_err("render", res->name, "bad SOA/NS data: %s", rdns_strerror(rc));
		return rc;
	}
	wr->tee = (tee_t){p->f, wr->md, &p->io_errno};
	cookie_io_functions_t io = {.write = tee_write, .close = tee_close};
	wr->tee_f = fopencookie(&wr->tee, "w", io);
	if (!wr->tee_f)
		return RDNS_ENOMEM;
	setvbuf(wr->tee_f, wr->teebuf, _IOFBF, ZG_RENDER_BUF);
	wr->w = core_zonefile_w_new(wr->tee_f, &p->prefix, tmpl[0] ? tmpl : NULL, h->ttl);
	if (!wr->w)
		return RDNS_EINVAL;
	/* in the render's snapshot, as the records are */
	if (p->dg_given)
		rc = delegs_fill(&wr->dg, p->dg_res, p->dg_first, p->dg_rows, &p->prefix, res->name);
	else
		rc = load_delegations(p->db, p->zone_id, &p->prefix, res->name, &wr->dg);
	if (rc == RDNS_OK)
		rc = core_zonefile_w_delegations(wr->w, wr->dg.v, wr->dg.n);
	if (rc != RDNS_OK) {
		if (rc == RDNS_EINVAL)
			log_zone_err("render", res->name, "%s", "the delegations overlap");
		return rc;
	}
	wr->sink = (sink_t){.w = wr->w, .alive = p->alive};
	return RDNS_OK;
}

/* Step 2b: the records are in: finish the file (still open on p->f) and its hash. */
static int write_close(pass_t *p, wr_t *wr)
{
	zg_render_result_t *res = p->res;
	int rc;
	if ((rc = core_zonefile_w_finish(wr->w)) != RDNS_OK) {
		if (rc == RDNS_EIO)
			write_failed(p, "writing", errno);
		return rc;
	}
	core_zonefile_w_stats(wr->w, &res->records, NULL);
	if (core_zonefile_w_occluded(wr->w))
		log_zone_debug("render", res->name,
		               "%llu custom PTRs kept for delegated blocks, not rendered",
		               (unsigned long long)core_zonefile_w_occluded(wr->w));
	int closed = fclose(wr->tee_f);
	wr->tee_f = NULL;
	if (closed != 0)
		return write_failed(p, "writing", errno);
	unsigned char digest[32];
	unsigned dlen = 0;
	EVP_DigestFinal_ex(wr->md, digest, &dlen);
	for (unsigned i = 0; i < 32; i++)
		snprintf(p->hash + 2 * i, 3, "%02x", digest[i]);
	return RDNS_OK;
}

/* Step 2: write the zone to a temporary file beside the zone file, hashing all of it
 * but the serial as it goes. The file stays open (p->f) for the next steps. */
static int write_temp(pass_t *p)
{
	wr_t wr;
	int rc = write_open(p, &wr);
	if (rc == RDNS_OK && (rc = db_zone_records(p->db, p->zone_id, add_record, &wr.sink)) == RDNS_EIO)
		write_failed(p, "writing", errno);
	if (rc == RDNS_OK)
		rc = write_close(p, &wr);
	wr_free(&wr);
	return rc;
}

/* Step 3: decide the serial. New content keeps the bumped serial the file carries.
 * The same content keeps the stored serial: put into the file's head in place, and
 * when the zone file already carries it (and not forced) nothing replaces that file. */
static int decide_serial(pass_t *p, bool force)
{
	zg_render_result_t *res = p->res;
	uint32_t stored = p->zp.serial;
	uint32_t disk_serial;
	bool disk_ok = zg_render_file_serial(res->path, &disk_serial);
	bool same = strcmp(p->hash, p->zp.content_hash) == 0;
	if (p->keep_serial && !same)
		return RDNS_EAGAIN; /* changed since the first pass: render afresh */
	if (same && !p->keep_serial) {
		/* Same content: keep the serial. Rewrite only if the file is not in place
		 * (a new leader, a lost file) or when forced. */
		res->serial = stored;
		if (!force && disk_ok && disk_serial == stored)
			return RDNS_OK;
		/* The file carries the next serial: put the stored one in its place, or,
		 * when that changes the length, render again with it. */
		int rc = rewrite_head(p->f, &p->head, stored);
		if (rc == RDNS_ERANGE) {
			p->retry_keep = true;
			return RDNS_EAGAIN;
		}
		if (rc == RDNS_EIO)
			return write_failed(p, "rewriting the head of", errno);
		if (rc != RDNS_OK)
			return rc;
		p->head.serial = stored;
	}
	res->serial = p->head.serial;
	res->changed = !same;
	p->replace = true;
	return RDNS_OK;
}

/* Step 4: commit the serial, the hash and the changes seen, then rename the file into
 * place and fsync the folder (when it is to replace the zone file). */
static int commit_and_rename(pass_t *p)
{
	zg_render_result_t *res = p->res;
	if (!p->replace)
		return db_zone_render_commit(p->db, p->zone_id, res->serial, p->hash, p->zp.last_seq);
	if (fflush(p->f) != 0)
		return write_failed(p, "writing", errno);
	if (fsync(fileno(p->f)) != 0)
		return write_failed(p, "fsync of", errno);
	int closed = fclose(p->f);
	p->f = NULL;
	if (closed != 0)
		return write_failed(p, "closing", errno);
	/* The journal's newest entry ends at the serial of the file about to take its place.
	 * Written before the commit, so that the commit and the rename stay close together; a
	 * crash or failure before the rename leaves a journal that ends past the file, which
	 * zg_journal_open does not trust, and the next changed render replaces it. A journal
	 * that cannot be written is removed: IXFR falls back to full transfers, the zone
	 * itself is unharmed. */
	if (res->changed && p->hist != NULL) {
		char jpath[4200];
		if (zg_journal_path(res->path, jpath, sizeof(jpath)) == RDNS_OK &&
		    zg_journal_update(jpath, res->path, p->tmp, p->hist, &res->diff) == RDNS_OK)
			res->journaled = res->diff.to == res->serial;
	}
	/* The serial is committed before the file takes its place, so a crash between the two
	 * can only make the next render pick a higher serial, never reuse one. */
	int rc = db_zone_render_commit(p->db, p->zone_id, res->serial, p->hash, p->zp.last_seq);
	if (rc != RDNS_OK)
		return rc;
	if (rename(p->tmp, res->path) != 0) {
		/* The serial is committed but the file is not in place: the caller renders the
		 * zone again (same content, so the same serial) until it is. */
		log_zone_err("render", res->name, "rename of %s to %s failed: %s", p->tmp, res->path,
		             strerror(errno));
		return RDNS_EIO;
	}
	p->tmp[0] = 0;
	fsync_dir(p->zone_dir);
	res->written = true;
	return RDNS_OK;
}

/* One pass through the four steps. *keep: write the stored serial (the content is
 * believed unchanged). RDNS_EAGAIN: render again, with the stored serial when *keep is
 * now true (the content is unchanged but the file carries a serial of another length),
 * else afresh (the zone changed under us). */
static int render_pass(db_t *db, long long zone_id, const char *zone_dir, bool force, bool *keep,
                       const zg_render_alive_t *alive, const zg_journal_limits_t *hist,
                       zg_render_result_t *res)
{
	pass_t p = {.db = db,
	            .zone_id = zone_id,
	            .zone_dir = zone_dir,
	            .res = res,
	            .keep_serial = *keep,
	            .alive = alive,
	            .hist = hist};
	memset(res, 0, sizeof(*res));
	res->zone_id = zone_id;
	int rc = load_params(&p, true);
	if (rc == RDNS_OK)
		rc = write_temp(&p);
	if (rc == RDNS_OK)
		rc = decide_serial(&p, force);
	if (rc == RDNS_OK)
		rc = commit_and_rename(&p);
	*keep = rc == RDNS_EAGAIN && p.retry_keep;
	if (p.f)
		fclose(p.f);
	if (p.tmp[0])
		unlink(p.tmp);
	free(p.fbuf);
	db_zone_params_free(&p.zp);
	db_rollback(db);
	return rc;
}

int zg_render_zone(db_t *db, long long zone_id, const char *zone_dir, bool force,
                   const zg_render_alive_t *alive, const zg_journal_limits_t *hist, zg_render_result_t *res)
{
	int rc = RDNS_EAGAIN;
	for (int i = 0; i < 3 && rc == RDNS_EAGAIN; i++) {
		bool keep = false;
		rc = render_pass(db, zone_id, zone_dir, force, &keep, alive, hist, res);
		if (rc == RDNS_EAGAIN && keep)
			rc = render_pass(db, zone_id, zone_dir, force, &keep, alive, hist, res);
	}
	return rc; /* RDNS_EAGAIN: changed under us three times in a row; try on the next round */
}

/* #17: one zone of a batch between its write and the batch's commit. */
typedef struct {
	pass_t p;
	int fd; /* the temporary file, kept open for the fsync at the end of the writes (-1: none) */
	int rc; /* RDNS_OK while the zone is in the batch */
} batch_zone_t;

static void batch_zone_drop(batch_zone_t *b)
{
	if (b->p.f)
		fclose(b->p.f);
	b->p.f = NULL;
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
	if (b->p.tmp[0])
		unlink(b->p.tmp);
	b->p.tmp[0] = 0;
	free(b->p.fbuf);
	b->p.fbuf = NULL;
}

/* #17: the batch's record stream (one COPY), zone by zone in the order of their ids:
 * the zone at k has its temporary file open on wr while its records arrive. */
typedef struct {
	batch_zone_t *bz;
	const long long *ids; /* the batch's ids, sorted */
	const size_t *ord;    /* ord[k]: the bz of ids[k] */
	size_t n, k;
	bool open; /* bz[ord[k]] is being written (wr) */
	bool force;
	const zg_render_alive_t *alive;
	wr_t wr;
} stream_t;

/* The zone at st->k failed on its own (rc, logged): it leaves the batch, the stream
 * goes on without it. */
static void stream_zone_failed(stream_t *st, int rc)
{
	batch_zone_t *b = &st->bz[st->ord[st->k]];
	wr_free(&st->wr);
	st->open = false;
	batch_zone_drop(b);
	b->rc = rc;
}

/* Step 2a for the zone at st->k, if it is still in the batch. What is returned stops the
 * stream (RDNS_ENOMEM); the zone's own failures go to its rc. */
static int stream_enter(stream_t *st)
{
	batch_zone_t *b = &st->bz[st->ord[st->k]];
	if (b->rc != RDNS_OK)
		return RDNS_OK;
	int rc = write_open(&b->p, &st->wr);
	if (rc == RDNS_OK) {
		st->open = true;
		return RDNS_OK;
	}
	stream_zone_failed(st, rc);
	return rc == RDNS_ENOMEM ? rc : RDNS_OK;
}

/* Steps 2b and 3 for the zone at st->k (its records are in): the file finished and
 * flushed (not yet fsynced), its serial decided; its FILE (and the 256 KiB buffer) goes,
 * only its descriptor is kept, or the file itself goes when nothing is to replace the
 * zone file. */
static int stream_leave(stream_t *st)
{
	batch_zone_t *b = &st->bz[st->ord[st->k]];
	pass_t *p = &b->p;
	if (!st->open)
		return RDNS_OK;
	int rc = write_close(p, &st->wr);
	wr_free(&st->wr);
	st->open = false;
	if (rc == RDNS_OK)
		rc = decide_serial(p, st->force); /* no statement: RDNS_EAGAIN is this zone's alone */
	if (rc == RDNS_OK && p->replace) {
		if (fflush(p->f) != 0) {
			rc = write_failed(p, "writing", errno);
		} else if ((b->fd = dup(fileno(p->f))) < 0) {
			rc = write_failed(p, "keeping open", errno);
		} else {
			int closed = fclose(p->f);
			p->f = NULL;
			if (closed != 0)
				rc = write_failed(p, "closing", errno);
		}
	}
	if (rc != RDNS_OK || !p->replace) {
		batch_zone_drop(b); /* nothing to put in place: the temporary file goes */
	} else {
		free(p->fbuf); /* its FILE is closed: only the descriptor stays */
		p->fbuf = NULL;
	}
	b->rc = rc;
	if (st->alive && st->alive->fn)
		st->alive->fn(st->alive->arg); /* the session streams on */
	return rc == RDNS_ENOMEM ? rc : RDNS_OK;
}

/* From the zone at st->k to the one of zone (leaving and entering those between, which
 * have no records). RDNS_ERANGE: zone is not next in the batch's order. */
static int stream_seek(stream_t *st, long long zone)
{
	int rc;
	while (st->k < st->n && st->ids[st->k] < zone) {
		if ((rc = stream_leave(st)) != RDNS_OK)
			return rc;
		if (++st->k < st->n && (rc = stream_enter(st)) != RDNS_OK)
			return rc;
	}
	return st->k < st->n && st->ids[st->k] == zone ? RDNS_OK : RDNS_ERANGE;
}

/* db_zone_records_many() callback: a record into the file of its zone. */
static int stream_record(void *arg, long long zone, const core_addr_t *a, const char *h, size_t hl)
{
	stream_t *st = arg;
	int rc = stream_seek(st, zone);
	if (rc != RDNS_OK || !st->open)
		return rc;
	if (add_record(&st->wr.sink, a, h, hl) == RDNS_EIO) {
		write_failed(&st->bz[st->ord[st->k]].p, "writing", errno);
		stream_zone_failed(st, RDNS_EIO);
	}
	return RDNS_OK;
}

typedef struct {
	long long id;
	size_t i;
} id_at_t;

static int id_at_cmp(const void *a, const void *b)
{
	const id_at_t *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id ? 1 : x->i < y->i ? -1 : x->i > y->i;
}

/* The delegations of the zones of the batch that have any, in one statement, handed to
 * each zone's pass as its rows of *dres (which the caller clears). */
static int batch_delegations(db_t *db, batch_zone_t *bz, const long long *sorted, const size_t *ord, size_t n,
                             PGresult **dres)
{
	long long *ids = malloc((n ? n : 1) * sizeof(*ids));
	size_t m = 0;
	if (!ids)
		return RDNS_ENOMEM;
	for (size_t k = 0; k < n; k++) {
		pass_t *p = &bz[ord[k]].p;
		p->dg_given = true; /* none unless the statement below finds some */
		if (bz[ord[k]].rc == RDNS_OK && p->zp.delegated && (m == 0 || ids[m - 1] != sorted[k]))
			ids[m++] = sorted[k];
	}
	int rc = RDNS_OK;
	if (m > 0) {
		char *lit = db_zone_ids_lit(ids, m);
		int err = RDNS_ENOMEM;
		if (!lit || !(*dres = db_zones_delegations(db, lit, &err))) {
			rc = err == RDNS_EEXIST ? RDNS_EAGAIN : err;
		} else {
			/* by zone id, as the zones are sorted: one walk hands out the rows */
			int rows = PQntuples(*dres);
			size_t k = 0;
			for (int r = 0; r < rows;) {
				long long id = strtoll(PQgetvalue(*dres, r, 3), NULL, 10);
				int first = r;
				while (r < rows && strtoll(PQgetvalue(*dres, r, 3), NULL, 10) == id)
					r++;
				while (k < n && sorted[k] < id)
					k++;
				for (; k < n && sorted[k] == id; k++) {
					pass_t *p = &bz[ord[k]].p;
					p->dg_res = *dres;
					p->dg_first = first;
					p->dg_rows = r - first;
				}
			}
		}
		free(lit);
	}
	free(ids);
	return rc;
}

/* Steps 1 and 2 of every zone of the batch, and step 3 of each as its file is done, in
 * the batch's transaction and O(1) round trips: one statement for every zone's
 * parameters, one for the delegations of the zones that have any, one COPY of every
 * zone's records (zone by zone) that the files are written from as it streams. The
 * zones' own outcomes go to bz[i].rc; what is returned stops the batch (RDNS_EAGAIN:
 * render the zones alone). */
static int batch_write(db_t *db, batch_zone_t *bz, const long long *ids, size_t n, bool force,
                       const zg_render_alive_t *alive)
{
	size_t cap = n ? n : 1;
	db_zone_params_t *zp = calloc(cap, sizeof(*zp));
	int *prc = calloc(cap, sizeof(*prc));
	id_at_t *by_id = calloc(cap, sizeof(*by_id));
	long long *sorted = calloc(cap, sizeof(*sorted));
	size_t *ord = calloc(cap, sizeof(*ord));
	PGresult *dres = NULL;
	stream_t st = {0};
	int rc = RDNS_ENOMEM;
	if (!zp || !prc || !by_id || !sorted || !ord)
		goto cleanup;
	for (size_t i = 0; i < n; i++)
		by_id[i] = (id_at_t){ids[i], i};
	qsort(by_id, n, sizeof(*by_id), id_at_cmp);
	for (size_t k = 0; k < n; k++) {
		sorted[k] = by_id[k].id;
		ord[k] = by_id[k].i;
	}
	if ((rc = db_zone_params_many(db, sorted, n, zp, prc)) != RDNS_OK)
		goto cleanup;
	for (size_t k = 0; k < n; k++) {
		batch_zone_t *b = &bz[ord[k]];
		b->p.zp = zp[k]; /* the pass owns it now */
		memset(&zp[k], 0, sizeof(zp[k]));
		if (k > 0 && sorted[k] == sorted[k - 1])
			b->rc = RDNS_EAGAIN; /* twice in the batch: the records go to the first; alone */
		else if (prc[k] != RDNS_OK)
			b->rc = prc[k];
		else
			b->rc = setup_head(&b->p);
	}
	if ((rc = batch_delegations(db, bz, sorted, ord, n, &dres)) != RDNS_OK)
		goto cleanup;
	st = (stream_t){.bz = bz, .ids = sorted, .ord = ord, .n = n, .force = force, .alive = alive};
	if (n > 0 && (rc = stream_enter(&st)) != RDNS_OK)
		goto cleanup;
	rc = db_zone_records_many(db, sorted, n, stream_record, &st);
	/* the zones after the last one with records */
	if (rc == RDNS_OK && n > 0 && (rc = stream_seek(&st, sorted[n - 1])) == RDNS_OK)
		rc = stream_leave(&st);
	if (rc == RDNS_ERANGE) {
		log_err("render: the batch's records came out of order: its zones rendered alone");
		rc = RDNS_EAGAIN;
	}
	if (rc == RDNS_OK && PQtransactionStatus(db_conn(db)) == PQTRANS_INERROR)
		rc = RDNS_EAGAIN;
cleanup:
	if (st.open)
		stream_zone_failed(&st, rc);
	for (size_t k = 0; zp && k < n; k++)
		db_zone_params_free(&zp[k]);
	PQclear(dres);
	for (size_t i = 0; i < n; i++)
		bz[i].p.dg_res = NULL;
	free(zp);
	free(prc);
	free(by_id);
	free(sorted);
	free(ord);
	return rc;
}

int zg_render_batch(db_t *db, const long long *ids, size_t n, const char *zone_dir, bool force,
                    const zg_render_alive_t *alive, const zg_journal_limits_t *hist, zg_render_result_t *res,
                    int *rcs, zg_render_batch_stats_t *st)
{
	batch_zone_t *bz = calloc(n ? n : 1, sizeof(*bz));
	db_zone_done_t *done = calloc(n ? n : 1, sizeof(*done));
	zg_render_batch_stats_t stats = {0};
	int rc = RDNS_OK;
	int sync_fd = -1;
	if (!bz || !done) {
		free(bz);
		free(done);
		return RDNS_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		memset(&res[i], 0, sizeof(res[i]));
		res[i].zone_id = ids[i];
		bz[i].fd = -1;
		bz[i].rc = RDNS_EAGAIN;
		bz[i].p = (pass_t){.db = db,
		                   .zone_id = ids[i],
		                   .zone_dir = zone_dir,
		                   .res = &res[i],
		                   .alive = alive,
		                   .hist = hist};
	}
	/* One snapshot for the whole batch: each zone's records as in the single render. */
	if ((rc = db_zone_render_begin(db)) != RDNS_OK)
		goto cleanup;
	/* The folder opened before any file of the batch is written: syncfs() on it reports
	 * the writeback errors of the filesystem since this open, so of every file below. */
	sync_fd = open(zone_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if ((rc = batch_write(db, bz, ids, n, force, alive)) != RDNS_OK)
		goto cleanup;
	/* Durable together: one syncfs() for every file of the batch instead of an fsync each.
	 * On this kind of disk an fsync waits ~0.3 ms for its file's blocks and inode, so
	 * 81,920 of them were most of a cold start's time (bench/README.md, S3); syncfs writes
	 * back every dirty inode of the filesystem and waits once. It reports (Linux 5.8+) any
	 * writeback error of the filesystem since the descriptor it is given was opened (the
	 * folder's, above): on an error, each file's own fsync then says which of them failed,
	 * as without syncfs. But syncfs also waits for whatever else is dirty on that filesystem
	 * (a PostgreSQL checkpoint's writes, logs, a backup): with 3 GB of another writer's
	 * data pending, a syncfs for two zone files took ~1 s where their two fsyncs took 1 ms.
	 * So only a batch of at least ZG_SYNCFS_MIN files, whose fsyncs would cost about as much
	 * as a syncfs on a quiet disk, takes one (a cold start's, a reconcile after a template
	 * change); the few zones a change dirties fsync each alone, and their change-to-NOTIFY
	 * time does not depend on the rest of the machine. */
	size_t nsync = 0;
	for (size_t i = 0; i < n; i++)
		nsync += bz[i].rc == RDNS_OK && bz[i].fd >= 0;
	bool synced = false;
	if (nsync >= ZG_SYNCFS_MIN && sync_fd >= 0) {
		stats.syncfs++;
		synced = syncfs(sync_fd) == 0;
		if (!synced)
			log_warn("render: syncfs of the filesystem of %s failed (%s): fsyncing the batch's "
			         "%zu files one by one",
			         zone_dir, strerror(errno), nsync);
	}
	for (size_t i = 0; i < n; i++) {
		batch_zone_t *b = &bz[i];
		if (b->rc != RDNS_OK || b->fd < 0)
			continue;
		if (!synced) {
			stats.fsyncs++;
			if (fsync(b->fd) != 0) {
				b->rc = write_failed(&b->p, "fsync of", errno);
				batch_zone_drop(b);
				continue;
			}
		}
		close(b->fd);
		b->fd = -1;
	}
	/* The journals, before the commit as in commit_and_rename (a journal that ends past the
	 * file in place after a crash here is not trusted). */
	for (size_t i = 0; i < n; i++) {
		zg_render_result_t *r = &res[i];
		if (bz[i].rc != RDNS_OK || !bz[i].p.replace || !r->changed || hist == NULL)
			continue;
		char jpath[4200];
		if (zg_journal_path(r->path, jpath, sizeof(jpath)) == RDNS_OK &&
		    zg_journal_update(jpath, r->path, bz[i].p.tmp, hist, &r->diff) == RDNS_OK)
			r->journaled = r->diff.to == r->serial;
	}
	/* Every serial of the batch committed at once, before any of its files is renamed: a
	 * crash between the commit and a rename leaves that zone's old file under a committed
	 * serial and hash, and the next render of the same content puts that serial in place. */
	size_t nd = 0;
	for (size_t i = 0; i < n; i++) {
		if (bz[i].rc != RDNS_OK)
			continue;
		done[nd++] = (db_zone_done_t){.id = ids[i],
		                              .serial = res[i].serial,
		                              .content_hash = bz[i].p.hash,
		                              .last_seq = bz[i].p.zp.last_seq};
	}
	if ((rc = db_zone_render_commit_many(db, done, nd)) != RDNS_OK)
		goto cleanup;
	stats.commits = 1;
	for (size_t i = 0; i < n; i++) {
		batch_zone_t *b = &bz[i];
		zg_render_result_t *r = &res[i];
		if (b->rc != RDNS_OK || !b->p.replace)
			continue;
		if (rename(b->p.tmp, r->path) != 0) {
			/* committed but not in place: rendered again (same content, same serial) */
			log_zone_err("render", r->name, "rename of %s to %s failed: %s", b->p.tmp, r->path,
			             strerror(errno));
			b->rc = RDNS_EIO;
			batch_zone_drop(b);
			continue;
		}
		b->p.tmp[0] = 0;
		r->written = true;
		stats.renamed++;
	}
	/* One fsync of the folder for every rename of the batch; the renames are durable before
	 * anything is published or announced (the caller does that after this returns). */
	if (stats.renamed > 0) {
		stats.fsyncs++;
		fsync_dir(zone_dir);
	}
cleanup:
	for (size_t i = 0; i < n; i++) {
		batch_zone_drop(&bz[i]);
		rcs[i] = rc == RDNS_OK ? bz[i].rc : rc;
		if (rc != RDNS_OK)
			res[i].written = false;
		db_zone_params_free(&bz[i].p.zp);
	}
	if (sync_fd >= 0)
		close(sync_fd);
	db_rollback(db);
	free(bz);
	free(done);
	if (st)
		*st = stats;
	return rc;
}
