/* render.c - zone rendering: snapshot, COPY stream, hash, serial, atomic file replace. */
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

DB_STMT(
    st_zone,
    "SELECT name, prefix, nameservers, coalesce(default_ptr, ''), array_to_string(notify, ' '), soa_mname,"
    " soa_rname, soa_refresh, soa_retry, soa_expire, soa_minimum, ttl, serial, encode(content_hash, 'hex'),"
    " (SELECT coalesce(max(seq), 0) FROM zone_changes WHERE zone_id = $1) FROM reverse_zones WHERE id = $1",
    1);
DB_STMT(st_done,
        /* Runs in the render's REPEATABLE READ transaction: the DELETE removes only the
         * changes its snapshot saw, so one committed meanwhile keeps the zone dirty. */
        "WITH seen AS (DELETE FROM zone_changes WHERE zone_id = $1 AND seq <= $4::bigint)"
        " UPDATE reverse_zones SET serial = $2, content_hash = decode($3, 'hex'), rendered_at = now() WHERE "
        "id = $1",
        4);

#define MAX_NS        16
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

/* Split a PostgreSQL text[] literal {a,b} of plain names. */
static size_t split_array(char *lit, const char **out, size_t max)
{
	size_t n = 0;
	char *p = lit;
	if (*p == '{')
		p++;
	char *end = strrchr(p, '}');
	if (end)
		*end = 0;
	char *save, *tok;
	for (tok = strtok_r(p, ",", &save); tok && n < max; tok = strtok_r(NULL, ",", &save))
		out[n++] = tok;
	return n;
}

/* db_exec() reports a serialization failure or a deadlock as RDNS_EEXIST: in a render
 * that means the zone changed under us, and the render runs again. */
static int again_if_conflict(int rc)
{
	return rc == RDNS_EEXIST ? RDNS_EAGAIN : rc;
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

/* PostgreSQL's binary COPY (the "COPY" page of its manual): an 11-byte signature,
 * int32 flags, int32 header-extension length, then per row an int16 field count
 * and per field an int32 length (-1: NULL) and the bytes; an int16 -1 ends it. */
static const char pgcopy_sig[11] = "PGCOPY\n\377\r\n";
#define PGSQL_AF_INET  2 /* inet's binary format: AF_INET + 0 / AF_INET + 1 (utils/inet.h) */
#define PGSQL_AF_INET6 3

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* inet in binary: family, bits, is_cidr, nb, nb address bytes; only host addresses. */
static bool inet_from_binary(const unsigned char *p, size_t len, core_addr_t *a)
{
	if (len < 4 || len != 4u + p[3])
		return false;
	memset(a, 0, sizeof(*a));
	if (p[0] == PGSQL_AF_INET && p[3] == 4 && p[1] == 32)
		a->family = CORE_AF_INET;
	else if (p[0] == PGSQL_AF_INET6 && p[3] == 16 && p[1] == 128)
		a->family = CORE_AF_INET6;
	else
		return false;
	memcpy(a->b, p + 4, p[3]);
	return true;
}

/* One row of the binary COPY: (ip inet, hostname text). RDNS_OK, RDNS_ENOTFOUND
 * for the end-of-data marker, RDNS_EDB for anything malformed. */
static int parse_row(const unsigned char *p, size_t len, core_addr_t *a, const char **host, size_t *host_len)
{
	if (len < 2)
		return RDNS_EDB;
	if (p[0] == 0xff && p[1] == 0xff)
		return len == 2 ? RDNS_ENOTFOUND : RDNS_EDB;
	if (p[0] != 0 || p[1] != 2 || len < 2 + 4)
		return RDNS_EDB;
	size_t o = 2;
	uint32_t l = get32(p + o);
	o += 4;
	if (l > len - o || !inet_from_binary(p + o, l, a))
		return RDNS_EDB;
	o += l;
	if (len - o < 4)
		return RDNS_EDB;
	l = get32(p + o);
	o += 4;
	if (l != len - o) /* a NULL hostname (-1) fails here too: the column is NOT NULL */
		return RDNS_EDB;
	*host = (const char *)p + o;
	*host_len = l;
	return RDNS_OK;
}

/* Stream the zone's records through COPY into the writer. Binary COPY of the
 * inet column: the server does not format addresses as text and we do not parse
 * them back (both showed in profiles of a 1,000,000-record render). */
static int stream_records(db_t *db, long long zone_id, core_zonefile_w_t *w, uint64_t *n)
{
	char sql[256];
	/* COPY takes no parameters; zone_id is our own integer, not request data. */
	snprintf(sql, sizeof(sql),
	         "COPY (SELECT ip, hostname FROM ptr_records WHERE zone_id = %lld ORDER BY ip) TO STDOUT"
	         " (FORMAT binary)",
	         zone_id);
	PGconn *c = db_conn(db);
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COPY_OUT) {
		log_err("render: COPY failed: %s", PQerrorMessage(c));
		PQclear(r);
		return RDNS_EDB;
	}
	PQclear(r);
	int rc = RDNS_OK;
	bool header = false, ended = false;
	char *buf, host[CORE_HOSTNAME_MAX + 2];
	int len;
	while ((len = PQgetCopyData(c, &buf, 0)) > 0) {
		const unsigned char *p = (const unsigned char *)buf;
		size_t left = (size_t)len;
		if (rc == RDNS_OK && !header) {
			/* The header comes in the first message, before the first row. */
			if (left < 19 || memcmp(p, pgcopy_sig, sizeof(pgcopy_sig)) != 0 ||
			    get32(p + 15) > left - 19) {
				rc = RDNS_EDB;
			} else {
				size_t skip = 19 + get32(p + 15);
				p += skip;
				left -= skip;
				header = true;
			}
		}
		core_addr_t a;
		const char *h;
		size_t hl;
		if (rc == RDNS_OK && (ended || (rc = parse_row(p, left, &a, &h, &hl)) == RDNS_ENOTFOUND)) {
			rc = ended ? RDNS_EDB : RDNS_OK; /* nothing may follow the end marker */
			ended = true;
		} else if (rc == RDNS_OK) {
			if (hl >= sizeof(host)) {
				log_warn("render: record with a %zu-byte hostname skipped", hl);
			} else {
				memcpy(host, h, hl);
				host[hl] = 0;
				int e = core_zonefile_w_add(w, &a, host);
				if (e == RDNS_EIO) {
					rc = RDNS_EIO;
				} else if (e != RDNS_OK) {
					char ip[CORE_ADDR_STRLEN];
					core_addr_format(&a, ip, sizeof(ip));
					log_warn("render: record %s -> %s skipped: %s", ip, host,
					         rdns_strerror(e));
				} else {
					(*n)++;
				}
			}
		}
		PQfreemem(buf);
	}
	if (len == -2) {
		log_err("render: COPY read failed: %s", PQerrorMessage(c));
		rc = RDNS_EDB;
	}
	if (rc == RDNS_OK && !ended) {
		log_err("render: COPY ended without its end marker");
		rc = RDNS_EDB;
	}
	while ((r = PQgetResult(c)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == RDNS_OK)
			rc = RDNS_EDB;
		PQclear(r);
	}
	return rc;
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
	PGresult *z = NULL;
	FILE *f = NULL, *tee_f = NULL;
	core_zonefile_w_t *w = NULL;
	EVP_MD_CTX *md = NULL;
	char tmp[4200] = "";
	char *fbuf = NULL, *teebuf = NULL;
	memset(res, 0, sizeof(*res));
	res->zone_id = zone_id;

	if ((rc = db_simple(db, "BEGIN ISOLATION LEVEL REPEATABLE READ")) != RDNS_OK)
		return again_if_conflict(rc);
	char id_s[24];
	snprintf(id_s, sizeof(id_s), "%lld", zone_id);
	const char *p[1] = {id_s};
	z = db_exec(db, &st_zone, p, &rc);
	if (!z) {
		rc = again_if_conflict(rc);
		goto cleanup;
	}
	if (PQntuples(z) != 1) {
		rc = RDNS_ENOTFOUND;
		goto cleanup;
	}
	snprintf(res->name, sizeof(res->name), "%s", PQgetvalue(z, 0, 0));
	snprintf(res->notify, sizeof(res->notify), "%s", PQgetvalue(z, 0, 4));
	core_prefix_t prefix;
	if (core_prefix_parse(PQgetvalue(z, 0, 1), &prefix) != RDNS_OK) {
		log_err("render: zone %s: bad prefix %s", res->name, PQgetvalue(z, 0, 1));
		rc = RDNS_EINVAL;
		goto cleanup;
	}
	char ns_buf[4096];
	snprintf(ns_buf, sizeof(ns_buf), "%s", PQgetvalue(z, 0, 2));
	const char *ns[MAX_NS];
	size_t n_ns = split_array(ns_buf, ns, MAX_NS);
	const char *tmpl = PQgetvalue(z, 0, 3);
	uint32_t old_serial = (uint32_t)strtoul(PQgetvalue(z, 0, 12), NULL, 10);
	const char *old_hash = PQgetvalue(z, 0, 13);
	const char *seq = PQgetvalue(z, 0, 14);
	uint32_t ttl = (uint32_t)strtoul(PQgetvalue(z, 0, 11), NULL, 10);
	uint32_t new_serial = keep_serial ? old_serial : core_serial_next(old_serial, (uint32_t)time(NULL));

	char zone_fqdn[96];
	snprintf(zone_fqdn, sizeof(zone_fqdn), "%s.", res->name);
	core_zone_head_t head = {
	    .zone = zone_fqdn,
	    .serial = new_serial,
	    .mname = PQgetvalue(z, 0, 5),
	    .rname = PQgetvalue(z, 0, 6),
	    .refresh = (uint32_t)strtoul(PQgetvalue(z, 0, 7), NULL, 10),
	    .retry = (uint32_t)strtoul(PQgetvalue(z, 0, 8), NULL, 10),
	    .expire = (uint32_t)strtoul(PQgetvalue(z, 0, 9), NULL, 10),
	    .minimum = (uint32_t)strtoul(PQgetvalue(z, 0, 10), NULL, 10),
	    .ttl = ttl,
	    .ns = ns,
	    .n_ns = n_ns,
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
	                  PQgetvalue(z, 0, 2), tmpl);
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
	uint64_t custom = 0;
	if ((rc = stream_records(db, zone_id, w, &custom)) != RDNS_OK)
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
	bool same = strcmp(hash, old_hash) == 0;
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
	char serial_s[16];
	snprintf(serial_s, sizeof(serial_s), "%u", new_serial);
	const char *u[4] = {id_s, serial_s, hash, seq};
	PGresult *ur = db_exec(db, &st_done, u, &rc);
	if (!ur) {
		rc = again_if_conflict(rc);
		goto cleanup;
	}
	PQclear(ur);
	if ((rc = again_if_conflict(db_commit(db))) != RDNS_OK)
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

finish_db:;
	char serial_o[16];
	snprintf(serial_o, sizeof(serial_o), "%u", old_serial);
	const char *u2[4] = {id_s, serial_o, hash, seq};
	PGresult *ur2 = db_exec(db, &st_done, u2, &rc);
	if (ur2) {
		PQclear(ur2);
		rc = db_commit(db);
	}
	rc = again_if_conflict(rc);
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
	PQclear(z);
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
