/* incr.c - a large zone's PTR changes served from the difference, and its file written later. */
#include "zonegen/incr.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/err.h"
#include "core/log.h"
#include "core/serial.h"
#include "core/zonefile.h"
#include "zonegen/render.h"
#include "zonegen/zonedb.h"

#define INCR_BUF (256 * 1024)

/* The head the renderer writes for zp at serial. */
static core_zone_head_t head_of(const db_zone_params_t *zp, const char *fqdn, uint32_t serial)
{
	return (core_zone_head_t){
	    .zone = fqdn,
	    .serial = serial,
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
}

/* The SOA line of the head at serial (its second line: the first is the comment). */
static int soa_line(const db_zone_params_t *zp, const char *fqdn, uint32_t serial, char *out, size_t len,
                    size_t *olen)
{
	char *text = NULL;
	size_t tl = 0;
	FILE *m = open_memstream(&text, &tl);
	if (m == NULL)
		return RDNS_ENOMEM;
	core_zone_head_t h = head_of(zp, fqdn, serial);
	int rc = core_zonefile_head(m, &h);
	if (fclose(m) != 0 && rc == RDNS_OK)
		rc = RDNS_ENOMEM;
	if (rc == RDNS_OK) {
		char *a = memchr(text, '\n', tl);
		char *b = a != NULL ? memchr(a + 1, '\n', tl - (size_t)(a + 1 - text)) : NULL;
		if (b == NULL || (size_t)(b - a - 1) >= len) {
			rc = RDNS_EINVAL;
		} else {
			*olen = (size_t)(b - a - 1);
			memcpy(out, a + 1, *olen);
			out[*olen] = 0;
		}
	}
	free(text);
	return rc;
}

/* The record the renderer writes for address a alone (a custom hostname, else an IPv4
 * zone's default), as a line without its newline: *line NULL when it writes none (no
 * hostname and no default, or one it refuses, as a full render skips it). */
static int addr_line(const core_addr_t *a, const char *tmpl, uint32_t ttl, const char *hostname, char **line,
                     size_t *len)
{
	*line = NULL;
	*len = 0;
	char *text = NULL;
	size_t tl = 0;
	FILE *m = open_memstream(&text, &tl);
	if (m == NULL)
		return RDNS_ENOMEM;
	core_prefix_t one = {.addr = *a, .len = core_addr_bits(a->family)};
	core_zonefile_w_t *w = core_zonefile_w_new(m, &one, tmpl[0] ? tmpl : NULL, ttl);
	int rc = w != NULL ? RDNS_OK : RDNS_EINVAL;
	if (rc == RDNS_OK && hostname != NULL) {
		int e = core_zonefile_w_add(w, a, hostname);
		if (e == RDNS_EIO)
			rc = RDNS_ENOMEM;
		/* RDNS_EINVAL: a name the writer refuses; the render skips it the same way */
	}
	if (rc == RDNS_OK && core_zonefile_w_finish(w) != RDNS_OK)
		rc = RDNS_ENOMEM;
	core_zonefile_w_free(w);
	if (fclose(m) != 0 && rc == RDNS_OK)
		rc = RDNS_ENOMEM;
	if (rc == RDNS_OK && tl > 0) {
		char *nl = memchr(text, '\n', tl);
		if (nl == NULL || (size_t)(nl - text) + 1 != tl) {
			rc = RDNS_EINVAL; /* one address, one line at most */
		} else {
			*nl = 0;
			*line = text;
			*len = tl - 1;
			text = NULL;
		}
	}
	free(text);
	return rc;
}

/* One changed name: its record before and after. */
typedef struct {
	char *old, *new_;
	size_t old_len, new_len;
} change_t;

static bool same_line(const char *a, size_t al, const char *b, size_t bl)
{
	if (a == NULL || b == NULL)
		return a == b;
	return al == bl && memcmp(a, b, al) == 0;
}

int zg_incr_apply(db_t *db, zg_dnssrv_t *srv, long long zone_id, const char *zone_dir, uint64_t params_fp,
                  size_t max_names, const zg_journal_limits_t *hist, zg_incr_result_t *res)
{
	db_zone_addr_change_t *ch = NULL;
	size_t n_ch = 0, n_ovl = 0;
	change_t *cv = NULL;
	zg_zonedb_ovl_t *ovl = NULL;
	zg_zonedb_snap_t *sn = NULL;
	char *body = NULL;
	size_t body_len = 0;
	FILE *bf = NULL;
	int rc;
	memset(res, 0, sizeof(*res));
	db_zone_params_t *zp = &res->zp;

	if ((rc = db_zone_render_begin(db)) != RDNS_OK)
		goto cleanup;
	if ((rc = db_zone_params(db, zone_id, zp)) != RDNS_OK)
		goto cleanup;
	snprintf(res->name, sizeof(res->name), "%s", zp->name);
	snprintf(res->notify, sizeof(res->notify), "%s", zp->notify);
	snprintf(res->path, sizeof(res->path), "%s/%s.zone", zone_dir, zp->name);
	char fqdn[96], params[8192];
	snprintf(fqdn, sizeof(fqdn), "%s.", zp->name);
	/* The version served must be the one PostgreSQL has, with the same parameters, and
	 * hold nothing but PTRs below its apex: a zone cut or a CNAME (a delegation) makes an
	 * address's record more than its own PTR, which only a render knows. */
	rc = RDNS_ERANGE;
	sn = zg_dnssrv_get(srv, fqdn);
	if (sn == NULL || sn->soa.soa[0] != zp->serial || !sn->ptrs_only)
		goto cleanup;
	if (zg_render_params_fp(params, zg_render_params_text(zp, params, sizeof(params))) != params_fp)
		goto cleanup;
	core_prefix_t prefix;
	if (core_prefix_parse(zp->prefix, &prefix) != RDNS_OK)
		goto cleanup;
	if ((rc = db_zone_changed_addrs(db, zone_id, zp->last_seq, max_names, &ch, &n_ch)) != RDNS_OK)
		goto cleanup;

	/* Each address's record before and after, with the renderer's code. */
	cv = calloc(n_ch, sizeof(*cv));
	ovl = calloc(n_ch, sizeof(*ovl));
	if (cv == NULL || ovl == NULL) {
		rc = RDNS_ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < n_ch; i++) {
		if (!core_prefix_contains(&prefix, &ch[i].ip)) {
			rc = RDNS_ERANGE; /* not this zone's: let the render sort it out */
			goto cleanup;
		}
		if ((rc = addr_line(&ch[i].ip, zp->default_ptr, zp->ttl, ch[i].old_hostname, &cv[i].old,
		                    &cv[i].old_len)) != RDNS_OK ||
		    (rc = addr_line(&ch[i].ip, zp->default_ptr, zp->ttl, ch[i].hostname, &cv[i].new_,
		                    &cv[i].new_len)) != RDNS_OK) {
			if (rc == RDNS_EINVAL)
				rc = RDNS_ERANGE;
			goto cleanup;
		}
		if (same_line(cv[i].old, cv[i].old_len, cv[i].new_, cv[i].new_len))
			continue;
		/* the owner: the name of the address's line, before or after */
		const char *l = cv[i].new_ != NULL ? cv[i].new_ : cv[i].old;
		size_t ll = cv[i].new_ != NULL ? cv[i].new_len : cv[i].old_len;
		zg_wire_zrr_t rr;
		if (zg_wire_zrr_parse(l, ll, &rr) != RDNS_OK) {
			rc = RDNS_ERANGE;
			goto cleanup;
		}
		zg_zonedb_ovl_t *o = &ovl[n_ovl++];
		memcpy(o->owner, rr.owner, rr.owner_len);
		o->owner_len = rr.owner_len;
		o->line = cv[i].new_;
		o->line_len = cv[i].new_len;
		if (cv[i].old != NULL)
			res->deleted++;
		if (cv[i].new_ != NULL)
			res->added++;
	}
	res->from = res->serial = zp->serial;
	if (n_ovl == 0) {
		/* Nothing a secondary would see changed: the same version, the changes consumed. */
		rc = db_zone_render_commit(db, zone_id, zp->serial, zp->content_hash, zp->last_seq);
		goto cleanup;
	}

	/* RFC 1995 §4: old SOA, deletions, new SOA, additions (address order: our files'). */
	uint32_t serial = core_serial_next(zp->serial, (uint32_t)time(NULL));
	char soa_old[1024], soa_new[1024];
	size_t soa_old_len, soa_new_len;
	if ((rc = soa_line(zp, fqdn, zp->serial, soa_old, sizeof(soa_old), &soa_old_len)) != RDNS_OK ||
	    (rc = soa_line(zp, fqdn, serial, soa_new, sizeof(soa_new), &soa_new_len)) != RDNS_OK) {
		if (rc == RDNS_EINVAL)
			rc = RDNS_ERANGE;
		goto cleanup;
	}
	if ((bf = open_memstream(&body, &body_len)) == NULL) {
		rc = RDNS_ENOMEM;
		goto cleanup;
	}
	fprintf(bf, "%s\n", soa_old);
	for (size_t i = 0; i < n_ch; i++)
		if (cv[i].old != NULL && !same_line(cv[i].old, cv[i].old_len, cv[i].new_, cv[i].new_len))
			fprintf(bf, "%s\n", cv[i].old);
	fprintf(bf, "%s\n", soa_new);
	for (size_t i = 0; i < n_ch; i++)
		if (cv[i].new_ != NULL && !same_line(cv[i].old, cv[i].old_len, cv[i].new_, cv[i].new_len))
			fprintf(bf, "%s\n", cv[i].new_);
	if (fflush(bf) != 0) {
		rc = RDNS_ENOMEM;
		goto cleanup;
	}
	/* The journal first, as a render writes it before its commit: a failed commit leaves an
	 * entry past the version served, which the next entry drops (zg_journal_append). */
	char jpath[4200];
	bool journaled = false;
	if (zg_journal_path(res->path, jpath, sizeof(jpath)) == RDNS_OK && hist != NULL) {
		zg_journal_diff_t d = {
		    .from = zp->serial, .to = serial, .deleted = res->deleted, .added = res->added};
		journaled = zg_journal_append(jpath, body, body_len, &d, hist) == RDNS_OK;
	}
	if ((rc = db_zone_render_commit(db, zone_id, serial, "", zp->last_seq)) != RDNS_OK)
		goto cleanup;
	res->serial = serial;
	res->changed = true;
	res->names = n_ovl;
	/* Committed: from here a failure leaves a serial not served, and the caller renders. */
	rc = zg_dnssrv_publish_overlay(srv, fqdn, ovl, n_ovl, soa_new, soa_new_len, journaled ? jpath : NULL);
	if (rc != RDNS_OK) {
		log_zone_err("zonegen", res->name, "cannot publish serial %u from the difference: %s", serial,
		             rdns_strerror(rc));
		rc = rc == RDNS_ENOMEM ? RDNS_ENOMEM : RDNS_EIO;
	}
cleanup:
	db_rollback(db); /* (nothing left after a commit) */
	if (bf != NULL)
		fclose(bf);
	free(body);
	if (cv != NULL)
		for (size_t i = 0; i < n_ch; i++) {
			free(cv[i].old);
			free(cv[i].new_);
		}
	free(cv);
	free(ovl); /* (its lines are cv's) */
	db_zone_addr_changes_free(ch, n_ch);
	if (sn != NULL)
		zg_dnssrv_put(srv, sn);
	if (rc != RDNS_OK)
		db_zone_params_free(zp);
	return rc;
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

/* ---- the file of an overlay version: the base file's bytes, spliced ---- */

/* The line starting at off of fd (our lines are under 1 KiB) and its owner. *len: the
 * line's length with its newline; 0 at the end of the file. */
typedef struct {
	char text[4096];
	size_t len;
	uint8_t owner[ZG_WIRE_NAME_MAX];
	size_t owner_len;
} fline_t;

static int line_at(int fd, off_t off, off_t end, fline_t *l)
{
	l->len = 0;
	if (off >= end)
		return RDNS_OK;
	size_t want = (size_t)(end - off) < sizeof(l->text) ? (size_t)(end - off) : sizeof(l->text);
	ssize_t got;
	do
		got = pread(fd, l->text, want, off);
	while (got < 0 && errno == EINTR);
	if (got <= 0)
		return RDNS_EIO;
	char *nl = memchr(l->text, '\n', (size_t)got);
	if (nl == NULL)
		return RDNS_EINVAL; /* checked at publish: ours end with a newline */
	l->len = (size_t)(nl - l->text) + 1;
	char *sp = memchr(l->text, ' ', l->len);
	if (sp == NULL ||
	    zg_wire_name_from_text(l->text, (size_t)(sp - l->text), true, l->owner, &l->owner_len) != RDNS_OK)
		return RDNS_EINVAL;
	return RDNS_OK;
}

/* The start of the first line in [lo, end) whose owner is not before name (end: none);
 * lo is a line start. The file's owners are in our order (zg_journal_owner_cmp): a binary
 * search over byte offsets, then a scan of the last 64 KiB. */
static int lower_bound(int fd, off_t lo, off_t end, const uint8_t *name, size_t nlen, fline_t *l, off_t *at)
{
	off_t hi = end;
	int rc;
	while (hi - lo > 64 * 1024) {
		off_t mid = lo + (hi - lo) / 2;
		char probe[1024];
		ssize_t got;
		do
			got = pread(fd, probe, sizeof(probe), mid);
		while (got < 0 && errno == EINTR);
		if (got <= 0)
			return RDNS_EIO;
		char *nl = memchr(probe, '\n', (size_t)got);
		if (nl == NULL)
			return RDNS_EINVAL;
		off_t ls = mid + (nl - probe) + 1;
		if (ls >= hi)
			break;
		if ((rc = line_at(fd, ls, end, l)) != RDNS_OK)
			return rc;
		if (zg_journal_owner_cmp(l->owner, l->owner_len, name, nlen) < 0)
			lo = ls;
		else
			hi = ls;
	}
	for (off_t p = lo;; p += (off_t)l->len) {
		if ((rc = line_at(fd, p, end, l)) != RDNS_OK)
			return rc;
		if (l->len == 0 || zg_journal_owner_cmp(l->owner, l->owner_len, name, nlen) >= 0) {
			*at = p;
			return RDNS_OK;
		}
	}
}

/* What the file's records go through: the output, and the content hash. */
typedef struct {
	FILE *f;
	EVP_MD_CTX *md;
	char *buf;                 /* INCR_BUF */
	const atomic_bool *cancel; /* set: stop (NULL: never) */
} sink_t;

static bool cancelled(const sink_t *k)
{
	return k->cancel != NULL && atomic_load(k->cancel);
}

static int put(sink_t *k, const char *p, size_t n)
{
	EVP_DigestUpdate(k->md, p, n);
	return fwrite(p, 1, n, k->f) == n ? RDNS_OK : RDNS_EIO;
}

/* [from, to) of fd, as it is. */
static int copy(sink_t *k, int fd, off_t from, off_t to)
{
	while (from < to) {
		if (cancelled(k))
			return RDNS_EAGAIN; /* checked per block: a cancelled write stops within 256 KiB */
		size_t want = (size_t)(to - from) < INCR_BUF ? (size_t)(to - from) : INCR_BUF;
		ssize_t got = pread(fd, k->buf, want, from);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return RDNS_EIO;
		if (put(k, k->buf, (size_t)got) != RDNS_OK)
			return RDNS_EIO;
		from += got;
	}
	return RDNS_OK;
}

/* The records of the overlay version sn below its apex: the base file's lines (fd) from body
 * on, with the overlay's names replaced, as a render writes them. */
static int splice_overlay(sink_t *k, const zg_zonedb_snap_t *sn, int fd, off_t body, off_t end)
{
	int rc;
	fline_t *l = malloc(sizeof(*l));
	if (l == NULL)
		return RDNS_ENOMEM;
	off_t cur = body;
	for (size_t i = 0; i < sn->n_ovl; i++) {
		const zg_zonedb_ovl_t *o = &sn->ovl[i];
		off_t at;
		if ((rc = lower_bound(fd, cur, end, o->owner, o->owner_len, l, &at)) != RDNS_OK)
			goto out;
		if ((rc = copy(k, fd, cur, at)) != RDNS_OK)
			goto out;
		/* the base's records of the name are replaced */
		for (cur = at;; cur += (off_t)l->len) {
			if ((rc = line_at(fd, cur, end, l)) != RDNS_OK)
				goto out;
			if (l->len == 0 ||
			    !zg_wire_name_equal(l->owner, l->owner_len, o->owner, o->owner_len))
				break;
		}
		if (o->line != NULL &&
		    ((rc = put(k, o->line, o->line_len)) != RDNS_OK || (rc = put(k, "\n", 1)) != RDNS_OK))
			goto out;
	}
	rc = copy(k, fd, cur, end);
out:
	free(l);
	return rc;
}

/* The offset of the base file's (fd) first record below the apex (its head: comments, then
 * the apex's records, ours always first). */
static int body_start(const zg_zonedb_snap_t *base, int fd, off_t end, off_t *body)
{
	fline_t *l = malloc(sizeof(*l));
	if (l == NULL)
		return RDNS_ENOMEM;
	int rc = RDNS_OK;
	off_t p = 0;
	for (;; p += (off_t)l->len) {
		char c;
		ssize_t got = pread(fd, &c, 1, p);
		if (got == 1 && c == ';') { /* a comment line */
			char buf[1024];
			got = pread(fd, buf, sizeof(buf), p);
			char *nl = got > 0 ? memchr(buf, '\n', (size_t)got) : NULL;
			if (nl == NULL) {
				rc = RDNS_EINVAL;
				break;
			}
			l->len = (size_t)(nl - buf) + 1;
			continue;
		}
		if ((rc = line_at(fd, p, end, l)) != RDNS_OK)
			break;
		if (l->len == 0 ||
		    !zg_wire_name_equal(l->owner, l->owner_len, base->soa.owner, base->soa.owner_len))
			break;
	}
	*body = p;
	free(l);
	return rc;
}

int zg_incr_write_file(const zg_zonedb_snap_t *sn, const db_zone_params_t *zp, const char *zone_dir,
                       const atomic_bool *cancel, char hash[65])
{
	char fqdn[96], path[4200], tmp[4300] = "", params[8192];
	FILE *f = NULL;
	char *fbuf = NULL;
	sink_t k = {.cancel = cancel};
	int rc = RDNS_ENOMEM, bfd = -1;
	hash[0] = 0;
	if (sn->base == NULL)
		return RDNS_EINVAL;
	snprintf(fqdn, sizeof(fqdn), "%s.", zp->name);
	snprintf(path, sizeof(path), "%s/%s.zone", zone_dir, zp->name);
	uint32_t serial = sn->soa.soa[0];
	fbuf = malloc(INCR_BUF);
	k.buf = malloc(INCR_BUF);
	k.md = EVP_MD_CTX_new();
	if (fbuf == NULL || k.buf == NULL || k.md == NULL || !EVP_DigestInit_ex(k.md, EVP_sha256(), NULL))
		goto cleanup;
	struct stat st;
	off_t body;
	/* the base's file, held until the new one is written */
	if ((bfd = zg_zonedb_file_get(sn)) < 0 || fstat(bfd, &st) != 0) {
		rc = RDNS_EIO;
		goto cleanup;
	}
	if ((rc = body_start(sn->base, bfd, st.st_size, &body)) != RDNS_OK)
		goto cleanup;
	snprintf(tmp, sizeof(tmp), "%s/.%s.zone.XXXXXX", zone_dir, zp->name);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		log_zone_err("zonegen", zp->name, "cannot create a file in %s: %s", zone_dir,
		             strerror(errno));
		tmp[0] = 0;
		rc = RDNS_EIO;
		goto cleanup;
	}
	fchmod(fd, 0644);
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		rc = RDNS_EIO;
		goto cleanup;
	}
	setvbuf(f, fbuf, _IOFBF, INCR_BUF);
	k.f = f;
	/* What a render of this content writes, and hashes: the head, then every PTR line. */
	size_t pl = zg_render_params_text(zp, params, sizeof(params));
	EVP_DigestUpdate(k.md, params, pl);
	core_zone_head_t h = head_of(zp, fqdn, serial);
	if ((rc = core_zonefile_head(f, &h)) != RDNS_OK)
		goto io;
	if ((rc = splice_overlay(&k, sn, bfd, body, st.st_size)) != RDNS_OK) {
		if (rc != RDNS_EIO)
			goto cleanup;
		goto io;
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		rc = RDNS_EIO;
		goto io;
	}
	int closed = fclose(f);
	f = NULL;
	if (closed != 0) {
		rc = RDNS_EIO;
		goto io;
	}
	unsigned char digest[32];
	unsigned dlen = 0;
	EVP_DigestFinal_ex(k.md, digest, &dlen);
	/* The last moment a cancel (leadership lost, the zone deleted, shutdown) leaves the
	 * file in place as it was. */
	if (cancelled(&k)) {
		rc = RDNS_EAGAIN;
		goto cleanup;
	}
	if (rename(tmp, path) != 0) {
		rc = RDNS_EIO;
		goto io;
	}
	tmp[0] = 0;
	fsync_dir(zone_dir);
	for (unsigned i = 0; i < 32; i++)
		snprintf(hash + 2 * i, 3, "%02x", digest[i]);
	rc = RDNS_OK;
	goto cleanup;
io:
	log_zone_err("zonegen", zp->name, "writing %s failed: %s", tmp[0] ? tmp : path, strerror(errno));
	rc = RDNS_EIO;
cleanup:
	if (bfd >= 0)
		zg_zonedb_file_put(sn);
	if (f != NULL)
		fclose(f);
	if (tmp[0])
		unlink(tmp);
	free(fbuf);
	free(k.buf);
	EVP_MD_CTX_free(k.md);
	return rc;
}

int zg_incr_write_done(db_t *db, zg_dnssrv_t *srv, long long zone_id, const zg_zonedb_snap_t *sn,
                       const char *zone, const char *path, const char *hash)
{
	/* The file is the version served: its hash is the one a render of it would compute
	 * (stored only while that serial is PostgreSQL's and has none). */
	int rc = db_zone_store_hash(db, zone_id, sn->soa.soa[0], hash);
	if (rc != RDNS_OK)
		return rc;
	char fqdn[96];
	snprintf(fqdn, sizeof(fqdn), "%s.", zone);
	/* Made from the checked base and the overlay's checked lines in order: published as
	 * what it is, without reading it all again, unless a newer version is served by now
	 * (it stays an overlay on the base it has, which it holds open). */
	rc = zg_dnssrv_publish_written(srv, fqdn, path, sn);
	return rc == RDNS_EAGAIN ? RDNS_OK : rc;
}

int zg_incr_write(db_t *db, zg_dnssrv_t *srv, long long zone_id, const db_zone_params_t *zp,
                  const char *zone_dir, uint32_t *serial)
{
	char fqdn[96], path[4200], hash[65];
	snprintf(fqdn, sizeof(fqdn), "%s.", zp->name);
	snprintf(path, sizeof(path), "%s/%s.zone", zone_dir, zp->name);
	zg_zonedb_snap_t *sn = zg_dnssrv_get(srv, fqdn);
	*serial = sn != NULL ? sn->soa.soa[0] : 0;
	int rc = RDNS_OK;
	if (sn == NULL || sn->base == NULL)
		goto cleanup; /* nothing to write */
	if ((rc = zg_incr_write_file(sn, zp, zone_dir, NULL, hash)) != RDNS_OK)
		goto cleanup;
	rc = zg_incr_write_done(db, srv, zone_id, sn, zp->name, path, hash);
cleanup:
	if (sn != NULL)
		zg_dnssrv_put(srv, sn);
	return rc;
}
