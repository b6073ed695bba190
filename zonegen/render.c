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
#include "db/zones.h"

#define ZG_RENDER_BUF (256 * 1024)

/* A FILE that writes through to another FILE and hashes what passes. */
typedef struct {
	FILE *out;
	EVP_MD_CTX *md;
} tee_t;

static ssize_t tee_write(void *cookie, const char *buf, size_t size)
{
	tee_t *t = cookie;
	EVP_DigestUpdate(t->md, buf, size);
	return fwrite(buf, 1, size, t->out) == size ? (ssize_t)size : -1;
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

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return RDNS_EIO;
	int rc = fsync(fd) == 0 ? RDNS_OK : RDNS_EIO;
	close(fd);
	return rc;
}

/* db_zone_records() callback: one custom record into the zone writer w. A record the
 * writer refuses is skipped (logged); only a write error stops the render. */
static int add_record(void *w, const core_addr_t *a, const char *h, size_t hl)
{
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

/* One pass. *keep: write the stored serial (the content is believed unchanged).
 * RDNS_EAGAIN: render again, with the stored serial when *keep is now true (the
 * content is unchanged but the file carries a serial of another length), else
 * afresh (the zone changed under us). */
static int render_pass(db_t *db, long long zone_id, const char *zone_dir, bool force, bool *keep,
                       zg_render_result_t *res)
{
	int rc;
	bool keep_serial = *keep;
	*keep = false;
	db_zone_params_t zp;
	FILE *f = NULL, *tee_f = NULL;
	core_zonefile_w_t *w = NULL;
	EVP_MD_CTX *md = NULL;
	char tmp[4200] = "";
	char *fbuf = NULL, *teebuf = NULL;
	memset(res, 0, sizeof(*res));
	res->zone_id = zone_id;

	memset(&zp, 0, sizeof(zp));
	if ((rc = db_zone_render_begin(db)) != RDNS_OK)
		return rc;
	if ((rc = db_zone_params(db, zone_id, &zp)) != RDNS_OK)
		goto cleanup;
	snprintf(res->name, sizeof(res->name), "%s", zp.name);
	snprintf(res->notify, sizeof(res->notify), "%s", zp.notify);
	core_prefix_t prefix;
	if (core_prefix_parse(zp.prefix, &prefix) != RDNS_OK) {
		log_err("render: zone %s: bad prefix %s", res->name, zp.prefix);
		rc = RDNS_EINVAL;
		goto cleanup;
	}
	const char *tmpl = zp.default_ptr;
	uint32_t old_serial = zp.serial;
	uint32_t ttl = zp.ttl;
	uint32_t new_serial = keep_serial ? old_serial : core_serial_next(old_serial, (uint32_t)time(NULL));

	char zone_fqdn[96];
	snprintf(zone_fqdn, sizeof(zone_fqdn), "%s.", res->name);
	core_zone_head_t head = {
	    .zone = zone_fqdn,
	    .serial = new_serial,
	    .mname = zp.soa_mname,
	    .rname = zp.soa_rname,
	    .refresh = zp.refresh,
	    .retry = zp.retry,
	    .expire = zp.expire,
	    .minimum = zp.minimum,
	    .ttl = ttl,
	    .ns = zp.ns,
	    .n_ns = zp.n_ns,
	};
	snprintf(res->path, sizeof(res->path), "%s/%s.zone", zone_dir, res->name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.zone.XXXXXX", zone_dir, res->name);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		log_err("render: zone %s: cannot create a file in %s: %s", res->name, zone_dir,
		        strerror(errno));
		tmp[0] = 0;
		rc = RDNS_EIO;
		goto cleanup;
	}
	fchmod(fd, 0644);
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		rc = RDNS_EIO;
		goto cleanup;
	}
	/* glibc ignores the size when no buffer is given (it uses st_blksize, 4 KiB):
	 * give it one, or a million-record zone takes tens of thousands of write()s. */
	fbuf = malloc(ZG_RENDER_BUF);
	teebuf = malloc(ZG_RENDER_BUF);
	if (!fbuf || !teebuf) {
		rc = RDNS_ENOMEM;
		goto cleanup;
	}
	setvbuf(f, fbuf, _IOFBF, ZG_RENDER_BUF);
	md = EVP_MD_CTX_new();
	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		rc = RDNS_ENOMEM;
		goto cleanup;
	}
	/* The hash covers everything but the serial: the head's parameters and every record. */
	char params[8192];
	int pl = snprintf(params, sizeof(params), "%s|%s|%s|%u|%u|%u|%u|%u|%s|%s", zone_fqdn, head.mname,
	                  head.rname, head.refresh, head.retry, head.expire, head.minimum, ttl,
	                  zp.nameservers, tmpl);
	EVP_DigestUpdate(md, params, (size_t)pl);
	if ((rc = core_zonefile_head(f, &head)) != RDNS_OK) {
		log_err("render: zone %s: bad SOA/NS data: %s", res->name, rdns_strerror(rc));
		goto cleanup;
	}
	tee_t tee = {f, md};
	cookie_io_functions_t io = {.write = tee_write, .close = tee_close};
	tee_f = fopencookie(&tee, "w", io);
	if (!tee_f) {
		rc = RDNS_ENOMEM;
		goto cleanup;
	}
	setvbuf(tee_f, teebuf, _IOFBF, ZG_RENDER_BUF);
	w = core_zonefile_w_new(tee_f, &prefix, tmpl[0] ? tmpl : NULL, ttl);
	if (!w) {
		rc = RDNS_EINVAL;
		goto cleanup;
	}
	if ((rc = db_zone_records(db, zone_id, add_record, w)) != RDNS_OK)
		goto cleanup;
	if ((rc = core_zonefile_w_finish(w)) != RDNS_OK)
		goto cleanup;
	uint64_t written = 0, skipped = 0;
	core_zonefile_w_stats(w, &written, &skipped);
	res->records = written;
	if (fclose(tee_f) != 0) {
		tee_f = NULL;
		rc = RDNS_EIO;
		goto cleanup;
	}
	tee_f = NULL;
	unsigned char digest[32];
	unsigned dlen = 0;
	EVP_DigestFinal_ex(md, digest, &dlen);
	char hash[65];
	for (unsigned i = 0; i < 32; i++)
		snprintf(hash + 2 * i, 3, "%02x", digest[i]);

	uint32_t disk_serial;
	bool disk_ok = zg_render_file_serial(res->path, &disk_serial);
	bool same = strcmp(hash, zp.content_hash) == 0;
	if (keep_serial && !same) {
		rc = RDNS_EAGAIN; /* changed since the first pass: render afresh */
		goto cleanup;
	}
	if (same && !keep_serial) {
		/* Same content: keep the serial. Rewrite only if the file is not in place
		 * (a new leader, a lost file) or when forced. */
		res->serial = old_serial;
		if (!force && disk_ok && disk_serial == old_serial) {
			rc = RDNS_OK;
			goto finish_db;
		}
		/* The file carries new_serial: put the stored one in its place, or,
		 * when that changes the length, render again with it. */
		if ((rc = rewrite_head(f, &head, old_serial)) != RDNS_OK) {
			if (rc == RDNS_ERANGE) {
				rc = RDNS_EAGAIN;
				*keep = true;
			}
			goto cleanup;
		}
		new_serial = old_serial;
	}
	res->serial = new_serial;
	res->changed = !same;
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		rc = RDNS_EIO;
		goto cleanup;
	}
	fclose(f);
	f = NULL;
	/* The serial is committed before the file takes its place, so a crash between the two
	 * can only make the next render pick a higher serial, never reuse one. */
	if ((rc = db_zone_render_commit(db, zone_id, new_serial, hash, zp.last_seq)) != RDNS_OK)
		goto cleanup;
	if (rename(tmp, res->path) != 0) {
		log_err("render: zone %s: rename to %s failed: %s", res->name, res->path, strerror(errno));
		rc = RDNS_EIO;
		goto cleanup;
	}
	tmp[0] = 0;
	fsync_dir(zone_dir);
	res->written = true;
	rc = RDNS_OK;
	goto cleanup;

finish_db:
	rc = db_zone_render_commit(db, zone_id, old_serial, hash, zp.last_seq);
cleanup:
	if (tee_f)
		fclose(tee_f);
	core_zonefile_w_free(w);
	if (f)
		fclose(f);
	if (tmp[0])
		unlink(tmp);
	EVP_MD_CTX_free(md);
	free(fbuf);
	free(teebuf);
	db_zone_params_free(&zp);
	db_rollback(db);
	return rc;
}

int zg_render_zone(db_t *db, long long zone_id, const char *zone_dir, bool force, zg_render_result_t *res)
{
	int rc = RDNS_EAGAIN;
	for (int i = 0; i < 3 && rc == RDNS_EAGAIN; i++) {
		bool keep = false;
		rc = render_pass(db, zone_id, zone_dir, force, &keep, res);
		if (rc == RDNS_EAGAIN && keep)
			rc = render_pass(db, zone_id, zone_dir, force, &keep, res);
	}
	if (rc == RDNS_EAGAIN)
		rc = RDNS_EDB; /* changing under us three times in a row: try on the next round */
	return rc;
}
