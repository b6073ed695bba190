/* zones.c - SQL of rdns-zonegen: the zones to render, a zone's parameters and records
 * from one snapshot, the render's outcome, NOTIFY outcomes, the leader's session. */
#include "zones.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"

/* rdns-zonegen's leader lock (db/locks.h). */
#define ZG_LOCK_KEY DB_LOCK_STR(DB_LOCK_ZONEGEN_LEADER)

/* The zones with changes waiting, by a loose index scan of zone_changes_zone: one probe of
 * the index per such zone (the next zone_id above the last), so a wake-up reads O(changed
 * zones) pages however many changes wait. A DISTINCT read every waiting row (a burst of a
 * million changes: the whole index, each wake-up), as PostgreSQL 15 has no skip scan. */
DB_STMT(st_dirty,
        "WITH RECURSIVE z(id) AS ((SELECT zone_id FROM zone_changes ORDER BY zone_id LIMIT 1) UNION ALL"
        " SELECT (SELECT c.zone_id FROM zone_changes c WHERE c.zone_id > z.id ORDER BY c.zone_id LIMIT 1)"
        " FROM z WHERE z.id IS NOT NULL) SELECT id FROM z WHERE id IS NOT NULL",
        0);
DB_STMT(st_all, "SELECT id, name FROM reverse_zones ORDER BY id", 0);
/* The columns of st_dirty (the id only) and st_all. */
enum { ZL_ID, ZL_NAME };
/* The change rows of a deleted zone (no foreign key: see db/migrations/003). */
DB_STMT(
    st_forget,
    "DELETE FROM zone_changes WHERE zone_id = $1 AND NOT EXISTS (SELECT 1 FROM reverse_zones WHERE id = $1)",
    1);
/* The transaction ids in progress now ("1,2,3"), and whether any of a list still is. */
DB_STMT(st_xids_in_progress,
        "SELECT coalesce(string_agg(x::text, ','), '') FROM pg_snapshot_xip(pg_current_snapshot()) x", 0);
DB_STMT(st_xids_running,
        "SELECT EXISTS (SELECT 1 FROM unnest(('{' || $1 || '}')::xid8[]) x WHERE"
        " pg_xact_status(x) = 'in progress')",
        1);
/* One probe per zone (rdns_zone_pending: by the index whatever the statistics), not a scan
 * of the queue for zone_id = ANY (...), which the generic plan made while it was short. */
DB_STMT(
    st_still_dirty,
    "SELECT EXISTS (SELECT 1 FROM unnest(('{' || $1 || '}')::bigint[]) z(id) WHERE rdns_zone_pending(z.id))",
    1);
/* $2: {"serial", "at", "done": {target: result}, "keep": {target: result}}. Targets in
 * "keep" keep their previous entry (else take the one given); others are dropped. */
DB_STMT(
    st_notify_status,
    "UPDATE reverse_zones z SET notify_status = jsonb_build_object('serial', $2::jsonb->'serial', 'at',"
    " $2::jsonb->'at', 'targets', ($2::jsonb->'keep') || coalesce((SELECT jsonb_object_agg(e.key, e.value)"
    " FROM jsonb_each(CASE WHEN jsonb_typeof(z.notify_status->'targets') = 'object' THEN"
    " z.notify_status->'targets' ELSE '{}'::jsonb END) e WHERE ($2::jsonb->'keep') ? e.key),"
    " '{}'::jsonb) || ($2::jsonb->'done')) WHERE name = $1",
    2);

DB_STMT(
    st_zone_params,
    "SELECT name, prefix, nameservers, coalesce(default_ptr, ''), array_to_string(notify, ' '), soa_mname,"
    " soa_rname, soa_refresh, soa_retry, soa_expire, soa_minimum, ttl, serial, encode(content_hash, 'hex'),"
    " (SELECT coalesce(max(seq), 0) FROM zone_changes WHERE zone_id = $1),"
    " EXISTS (SELECT 1 FROM delegations d WHERE d.zone_id = $1) FROM reverse_zones WHERE id = $1",
    1);
/* #17: the same for the zones of a batch, each row led by its zone's position in $1 (from 1);
 * a zone that does not exist has no row. */
DB_STMT(st_zone_params_many,
        "SELECT b.o, z.name, z.prefix, z.nameservers, coalesce(z.default_ptr, ''), array_to_string(z.notify, "
        "' '),"
        " z.soa_mname, z.soa_rname, z.soa_refresh, z.soa_retry, z.soa_expire, z.soa_minimum, z.ttl, z.serial,"
        " encode(z.content_hash, 'hex'), (SELECT coalesce(max(seq), 0) FROM zone_changes c WHERE c.zone_id = "
        "z.id),"
        " EXISTS (SELECT 1 FROM delegations d WHERE d.zone_id = z.id)"
        " FROM unnest($1::bigint[]) WITH ORDINALITY b(id, o) JOIN reverse_zones z ON z.id = b.id",
        1);
/* The columns of st_zone_params. */
enum {
	ZP_NAME,
	ZP_PREFIX,
	ZP_NAMESERVERS,
	ZP_DEFAULT_PTR,
	ZP_NOTIFY,
	ZP_SOA_MNAME,
	ZP_SOA_RNAME,
	ZP_REFRESH,
	ZP_RETRY,
	ZP_EXPIRE,
	ZP_MINIMUM,
	ZP_TTL,
	ZP_SERIAL,
	ZP_CONTENT_HASH,
	ZP_LAST_SEQ,
	ZP_DELEGATED,
};
DB_STMT(
    st_render_done,
    /* Runs in the render's REPEATABLE READ transaction: the DELETE removes only the
     * changes its snapshot saw, so one committed meanwhile keeps the zone dirty. */
    "WITH seen AS (DELETE FROM zone_changes WHERE zone_id = $1 AND seq <= $4::bigint)"
    " UPDATE reverse_zones SET serial = $2, content_hash = decode(nullif($3, ''), 'hex'), rendered_at = now()"
    " WHERE "
    "id = $1",
    4);

/* #17: the same for the zones of a batch rendered in one transaction (zg_render_batch):
 * arrays of ids, serials, hashes ("": NULL) and last seqs, one element per zone. */
DB_STMT(st_render_done_many,
        "WITH b AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[])"
        " AS b(id, serial, hash, seq)),"
        " seen AS (DELETE FROM zone_changes c USING b WHERE c.zone_id = b.id AND c.seq <= b.seq)"
        " UPDATE reverse_zones z SET serial = b.serial, content_hash = decode(nullif(b.hash, ''), 'hex'),"
        " rendered_at = now() FROM b WHERE z.id = b.id",
        4);

/* #19: the changes a render's snapshot sees, by address (migration 010). */
DB_STMT(st_change_kinds,
        "SELECT count(*) FILTER (WHERE ip IS NULL), count(DISTINCT ip) FROM zone_changes"
        " WHERE zone_id = $1 AND seq <= $2::bigint",
        2);
DB_STMT(st_change_addrs,
        /* the first pending row of an address has what the published version holds */
        "SELECT host(c.ip), c.old_hostname, p.hostname FROM (SELECT DISTINCT ON (ip) ip, old_hostname"
        " FROM zone_changes WHERE zone_id = $1 AND seq <= $2::bigint AND ip IS NOT NULL ORDER BY ip, seq) c"
        " LEFT JOIN ptr_records p ON p.ip = c.ip ORDER BY c.ip",
        2);
DB_STMT(st_store_hash,
        "UPDATE reverse_zones SET content_hash = decode($3, 'hex') WHERE id = $1 AND serial = $2"
        " AND content_hash IS NULL",
        3);

static int zone_list(db_t *db, db_stmt_t *st, bool names, db_zone_list_t *l)
{
	memset(l, 0, sizeof(*l));
	int err;
	PGresult *r = db_exec(db, st, NULL, &err);
	if (!r)
		return err;
	size_t n = (size_t)PQntuples(r), size = n * sizeof(*l->v);
	for (size_t i = 0; names && i < n; i++)
		size += (size_t)PQgetlength(r, (int)i, ZL_NAME) + 1;
	l->v = malloc(size ? size : 1);
	if (!l->v) {
		PQclear(r);
		return RDNS_ENOMEM;
	}
	char *s = (char *)(l->v + n);
	for (size_t i = 0; i < n; i++) {
		l->v[i].id = atoll(PQgetvalue(r, (int)i, ZL_ID));
		l->v[i].name = NULL;
		if (names) {
			size_t len = (size_t)PQgetlength(r, (int)i, ZL_NAME);
			memcpy(s, PQgetvalue(r, (int)i, ZL_NAME), len);
			s[len] = 0;
			l->v[i].name = s;
			s += len + 1;
		}
	}
	l->n = n;
	PQclear(r);
	return RDNS_OK;
}

int db_zones_all(db_t *db, db_zone_list_t *l)
{
	return zone_list(db, &st_all, true, l);
}

int db_zones_dirty(db_t *db, db_zone_list_t *l)
{
	return zone_list(db, &st_dirty, false, l);
}

void db_zone_list_free(db_zone_list_t *l)
{
	if (!l)
		return;
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

bool db_zones_any_dirty(db_t *db, const char *ids)
{
	const char *p[1] = {ids};
	int err;
	PGresult *r = db_exec(db, &st_still_dirty, p, &err);
	bool any = r && PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	return any;
}

int db_zones_xids_in_progress(db_t *db, char **xids)
{
	int err;
	PGresult *r = db_exec(db, &st_xids_in_progress, NULL, &err);
	if (!r)
		return err;
	*xids = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return *xids ? RDNS_OK : RDNS_ENOMEM;
}

int db_zones_xids_running(db_t *db, const char *xids, bool *running)
{
	const char *p[1] = {xids};
	int err;
	PGresult *r = db_exec(db, &st_xids_running, p, &err);
	if (!r)
		return err;
	*running = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	return RDNS_OK;
}

int db_zone_forget(db_t *db, long long id)
{
	char id_s[24];
	snprintf(id_s, sizeof(id_s), "%lld", id);
	const char *p[1] = {id_s};
	int err;
	PGresult *r = db_exec(db, &st_forget, p, &err);
	if (!r)
		return err;
	PQclear(r);
	return RDNS_OK;
}

int db_zone_merge_notify_status(db_t *db, const char *name, const char *json)
{
	const char *p[2] = {name, json};
	int err;
	PGresult *r = db_exec(db, &st_notify_status, p, &err);
	if (!r)
		return err;
	PQclear(r);
	return RDNS_OK;
}

/* db_exec() reports a serialization failure or a deadlock as RDNS_EEXIST: in a render
 * that means the zone changed under us, and the render runs again. */
static int again_if_conflict(int rc)
{
	return rc == RDNS_EEXIST ? RDNS_EAGAIN : rc;
}

int db_zone_render_begin(db_t *db)
{
	return again_if_conflict(db_simple(db, "BEGIN ISOLATION LEVEL REPEATABLE READ"));
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

/* Copy column col of r's row to *o and advance *o past it. */
static const char *take(char **o, const PGresult *r, int row, int col)
{
	char *s = *o;
	size_t l = (size_t)PQgetlength(r, row, col);
	memcpy(s, PQgetvalue(r, row, col), l);
	s[l] = 0;
	*o += l + 1;
	return s;
}

static uint32_t u32(const PGresult *r, int row, int col)
{
	return (uint32_t)strtoul(PQgetvalue(r, row, col), NULL, 10);
}

/* zp from row of a result with st_zone_params' columns (from column base on). RDNS_OK
 * or RDNS_ENOMEM; zp is zeroed first. */
static int params_from_row(const PGresult *r, int row, int base, db_zone_params_t *zp)
{
	memset(zp, 0, sizeof(*zp));
	/* The text columns, and the names once more to be split in place. */
	static const int text[] = {ZP_NAME,      ZP_PREFIX,    ZP_NAMESERVERS,  ZP_DEFAULT_PTR, ZP_NOTIFY,
	                           ZP_SOA_MNAME, ZP_SOA_RNAME, ZP_CONTENT_HASH, ZP_NAMESERVERS};
	size_t size = 0;
	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		size += (size_t)PQgetlength(r, row, base + text[i]) + 1;
	char *o = zp->text_ = malloc(size);
	if (!o)
		return RDNS_ENOMEM;
	zp->name = take(&o, r, row, base + ZP_NAME);
	zp->prefix = take(&o, r, row, base + ZP_PREFIX);
	zp->nameservers = take(&o, r, row, base + ZP_NAMESERVERS);
	zp->n_ns = split_array((char *)take(&o, r, row, base + ZP_NAMESERVERS), zp->ns, DB_ZONE_MAX_NS);
	zp->default_ptr = take(&o, r, row, base + ZP_DEFAULT_PTR);
	zp->notify = take(&o, r, row, base + ZP_NOTIFY);
	zp->soa_mname = take(&o, r, row, base + ZP_SOA_MNAME);
	zp->soa_rname = take(&o, r, row, base + ZP_SOA_RNAME);
	zp->content_hash = take(&o, r, row, base + ZP_CONTENT_HASH);
	zp->refresh = u32(r, row, base + ZP_REFRESH);
	zp->retry = u32(r, row, base + ZP_RETRY);
	zp->expire = u32(r, row, base + ZP_EXPIRE);
	zp->minimum = u32(r, row, base + ZP_MINIMUM);
	zp->ttl = u32(r, row, base + ZP_TTL);
	zp->serial = u32(r, row, base + ZP_SERIAL);
	zp->last_seq = strtoll(PQgetvalue(r, row, base + ZP_LAST_SEQ), NULL, 10);
	zp->delegated = PQgetvalue(r, row, base + ZP_DELEGATED)[0] == 't';
	return RDNS_OK;
}

int db_zone_params(db_t *db, long long id, db_zone_params_t *zp)
{
	memset(zp, 0, sizeof(*zp));
	char id_s[24];
	snprintf(id_s, sizeof(id_s), "%lld", id);
	const char *p[1] = {id_s};
	int err;
	PGresult *r = db_exec(db, &st_zone_params, p, &err);
	if (!r)
		return again_if_conflict(err);
	int rc = PQntuples(r) == 1 ? params_from_row(r, 0, 0, zp) : RDNS_ENOTFOUND;
	PQclear(r);
	return rc;
}

static char *array_lit(size_t n, size_t each, void (*put)(char *out, size_t len, size_t i, const void *arg),
                       const void *arg);

static void put_ll(char *o, size_t len, size_t i, const void *arg)
{
	snprintf(o, len, "%lld", ((const long long *)arg)[i]);
}

char *db_zone_ids_lit(const long long *ids, size_t n)
{
	return array_lit(n, 20, put_ll, ids);
}

int db_zone_params_many(db_t *db, const long long *ids, size_t n, db_zone_params_t *zp, int *rcs)
{
	for (size_t i = 0; i < n; i++) {
		memset(&zp[i], 0, sizeof(zp[i]));
		rcs[i] = RDNS_ENOTFOUND;
	}
	if (n == 0)
		return RDNS_OK;
	char *lit = db_zone_ids_lit(ids, n);
	if (!lit)
		return RDNS_ENOMEM;
	const char *p[1] = {lit};
	int err;
	PGresult *r = db_exec(db, &st_zone_params_many, p, &err);
	free(lit);
	if (!r)
		return again_if_conflict(err);
	int rc = RDNS_OK;
	for (int row = 0; row < PQntuples(r) && rc == RDNS_OK; row++) {
		long long o = strtoll(PQgetvalue(r, row, 0), NULL, 10); /* the ordinality, from 1 */
		if (o < 1 || (size_t)o > n || rcs[o - 1] != RDNS_ENOTFOUND)
			continue;
		if ((rc = params_from_row(r, row, 1, &zp[o - 1])) == RDNS_OK)
			rcs[o - 1] = RDNS_OK;
	}
	PQclear(r);
	return rc;
}

void db_zone_params_free(db_zone_params_t *zp)
{
	if (!zp)
		return;
	free(zp->text_);
	zp->text_ = NULL;
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

static uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* One row of the binary COPY: ([zone_id bigint,] ip inet, hostname text), the zone id when
 * zone is not NULL. RDNS_OK, RDNS_ENOTFOUND for the end-of-data marker, RDNS_EDB for
 * anything malformed. */
static int parse_row(const unsigned char *p, size_t len, long long *zone, core_addr_t *a, const char **host,
                     size_t *host_len)
{
	if (len < 2)
		return RDNS_EDB;
	if (p[0] == 0xff && p[1] == 0xff)
		return len == 2 ? RDNS_ENOTFOUND : RDNS_EDB;
	if (p[0] != 0 || p[1] != (zone ? 3 : 2) || len < 2 + 4)
		return RDNS_EDB;
	size_t o = 2;
	uint32_t l;
	if (zone) {
		if (len < o + 4 + 8 || get32(p + o) != 8)
			return RDNS_EDB;
		*zone = (long long)get64(p + o + 4);
		o += 4 + 8;
		if (len - o < 4)
			return RDNS_EDB;
	}
	l = get32(p + o);
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

/* Run the binary COPY sql and hand each row to one (rows without a zone id) or many
 * (rows led by one). */
static int copy_records(db_t *db, const char *sql, db_zone_record_fn one, db_zone_records_fn many, void *arg)
{
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
	char *buf;
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
		long long zone = 0;
		core_addr_t a;
		const char *h;
		size_t hl;
		if (rc == RDNS_OK && (ended || (rc = parse_row(p, left, many ? &zone : NULL, &a, &h, &hl)) ==
		                                   RDNS_ENOTFOUND)) {
			rc = ended ? RDNS_EDB : RDNS_OK; /* nothing may follow the end marker */
			ended = true;
		} else if (rc == RDNS_OK) {
			rc = many ? many(arg, zone, &a, h, hl) : one(arg, &a, h, hl);
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

/* Binary COPY of the inet column: the server does not format addresses as text and we
 * do not parse them back (both showed in profiles of a 1,000,000-record render). */
int db_zone_records(db_t *db, long long id, db_zone_record_fn fn, void *arg)
{
	char sql[256];
	/* COPY takes no parameters; id is our own integer, not request data. */
	snprintf(sql, sizeof(sql),
	         "COPY (SELECT ip, hostname FROM ptr_records WHERE zone_id = %lld ORDER BY ip) TO STDOUT"
	         " (FORMAT binary)",
	         id);
	return copy_records(db, sql, fn, NULL, arg);
}

int db_zone_records_many(db_t *db, const long long *ids, size_t n, db_zone_records_fn fn, void *arg)
{
	if (n == 0)
		return RDNS_OK;
	char *lit = db_zone_ids_lit(ids, n);
	if (!lit)
		return RDNS_ENOMEM;
	/* One index scan of ptr_records_zone per zone, in the order of ids (a nested loop over
	 * the array; the subquery's ORDER BY keeps it from being flattened into one scan
	 * that a sort would have to order again); the caller checks the order it gets. */
	static const char fmt[] = "COPY (SELECT p.zone_id, p.ip, p.hostname FROM unnest('%s'::bigint[]) b(id)"
	                          " CROSS JOIN LATERAL (SELECT zone_id, ip, hostname FROM ptr_records"
	                          " WHERE zone_id = b.id ORDER BY ip) p) TO STDOUT (FORMAT binary)";
	size_t len = sizeof(fmt) + strlen(lit);
	char *sql = malloc(len);
	int rc = RDNS_ENOMEM;
	if (sql) {
		/* our own integers, not request data (COPY takes no parameters) */
		snprintf(sql, len, fmt, lit);
		rc = copy_records(db, sql, NULL, fn, arg);
	}
	free(sql);
	free(lit);
	return rc;
}

int db_zone_render_commit(db_t *db, long long id, uint32_t serial, const char *content_hash,
                          long long last_seq)
{
	char id_s[24], serial_s[16], seq_s[24];
	snprintf(id_s, sizeof(id_s), "%lld", id);
	snprintf(serial_s, sizeof(serial_s), "%u", serial);
	snprintf(seq_s, sizeof(seq_s), "%lld", last_seq);
	const char *p[4] = {id_s, serial_s, content_hash, seq_s};
	int err;
	PGresult *r = db_exec(db, &st_render_done, p, &err);
	if (!r)
		return again_if_conflict(err);
	PQclear(r);
	return again_if_conflict(db_commit(db));
}

/* A PostgreSQL array literal of n decimal or hex elements (no quoting needed), malloc'd. */
static char *array_lit(size_t n, size_t each, void (*put)(char *out, size_t len, size_t i, const void *arg),
                       const void *arg)
{
	size_t cap = 3 + n * (each + 1);
	char *s = malloc(cap), *o = s;
	if (!s)
		return NULL;
	*o++ = '{';
	for (size_t i = 0; i < n; i++) {
		if (i)
			*o++ = ',';
		put(o, cap - (size_t)(o - s), i, arg);
		o += strlen(o);
	}
	*o++ = '}';
	*o = 0;
	return s;
}

static void put_id(char *o, size_t len, size_t i, const void *arg)
{
	snprintf(o, len, "%lld", ((const db_zone_done_t *)arg)[i].id);
}

static void put_serial(char *o, size_t len, size_t i, const void *arg)
{
	snprintf(o, len, "%u", ((const db_zone_done_t *)arg)[i].serial);
}

static void put_hash(char *o, size_t len, size_t i, const void *arg)
{
	/* hex digits only; "" is written "" (an empty element: NULL after nullif) */
	const char *h = ((const db_zone_done_t *)arg)[i].content_hash;
	snprintf(o, len, "%s", h[0] ? h : "\"\"");
}

static void put_seq(char *o, size_t len, size_t i, const void *arg)
{
	snprintf(o, len, "%lld", ((const db_zone_done_t *)arg)[i].last_seq);
}

int db_zone_render_commit_many(db_t *db, const db_zone_done_t *v, size_t n)
{
	if (n == 0)
		return again_if_conflict(db_commit(db));
	char *lits[4] = {array_lit(n, 20, put_id, v), array_lit(n, 10, put_serial, v),
	                 array_lit(n, 64, put_hash, v), array_lit(n, 20, put_seq, v)};
	int rc = RDNS_ENOMEM;
	if (lits[0] && lits[1] && lits[2] && lits[3]) {
		const char *p[4] = {lits[0], lits[1], lits[2], lits[3]};
		int err;
		PGresult *r = db_exec(db, &st_render_done_many, p, &err);
		if (r) {
			PQclear(r);
			rc = again_if_conflict(db_commit(db));
		} else {
			rc = again_if_conflict(err);
		}
	}
	for (int i = 0; i < 4; i++)
		free(lits[i]);
	return rc;
}

int db_zones_listen(db_t *db)
{
	return db_simple(db, "LISTEN rdns_changes");
}

bool db_zones_leader_try_lock(db_t *db)
{
	/* On the connection as it is: a reconnect here would take the lock on a session
	 * without the LISTEN. */
	PGresult *r = PQexec(db_conn(db), "SELECT pg_try_advisory_lock(" ZG_LOCK_KEY ")");
	bool got = PQresultStatus(r) == PGRES_TUPLES_OK && PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	return got;
}

int db_zones_leader_lock(db_t *db)
{
	int rc = db_simple(db, "SET lock_timeout = '60s'");
	if (rc == RDNS_OK)
		rc = db_simple(db, "SELECT pg_advisory_lock(" ZG_LOCK_KEY ")");
	return rc;
}

int db_zones_ping(db_t *db)
{
	return db_simple(db, "SELECT 1");
}

/* pg_locks shows a one-bigint advisory key as classid (its high 32 bits), objid (its
 * low 32 bits) and objsubid 1. */
DB_STMT(st_leader_held,
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = $1::int"
        " AND classid::bigint = (" ZG_LOCK_KEY "::bigint >> 32) AND objid::bigint = (" ZG_LOCK_KEY
        "::bigint & 4294967295) AND objsubid = 1)",
        1);

int db_zones_leader_held_by(db_t *db, int pid, bool *held)
{
	char ptext[16];
	snprintf(ptext, sizeof(ptext), "%d", pid);
	const char *params[] = {ptext};
	int err = RDNS_OK;
	PGresult *r = db_exec(db, &st_leader_held, params, &err);
	if (r == NULL)
		return err;
	*held = PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	return RDNS_OK;
}

int db_zone_changed_addrs(db_t *db, long long id, long long last_seq, size_t max, db_zone_addr_change_t **out,
                          size_t *n)
{
	*out = NULL;
	*n = 0;
	char id_s[24], seq_s[24];
	snprintf(id_s, sizeof(id_s), "%lld", id);
	snprintf(seq_s, sizeof(seq_s), "%lld", last_seq);
	const char *p[2] = {id_s, seq_s};
	int err;
	PGresult *r = db_exec(db, &st_change_kinds, p, &err);
	if (!r)
		return again_if_conflict(err);
	long long whole = atoll(PQgetvalue(r, 0, 0)), addrs = atoll(PQgetvalue(r, 0, 1));
	PQclear(r);
	if (whole > 0 || addrs == 0 || (size_t)addrs > max)
		return RDNS_ERANGE;
	if (!(r = db_exec(db, &st_change_addrs, p, &err)))
		return again_if_conflict(err);
	size_t rows = (size_t)PQntuples(r);
	db_zone_addr_change_t *v = calloc(rows ? rows : 1, sizeof(*v));
	if (v == NULL) {
		PQclear(r);
		return RDNS_ENOMEM;
	}
	int rc = RDNS_OK;
	for (size_t i = 0; i < rows && rc == RDNS_OK; i++) {
		int row = (int)i;
		if (core_addr_parse(PQgetvalue(r, row, 0), &v[i].ip) != RDNS_OK) {
			rc = RDNS_EDB;
			break;
		}
		for (int c = 1; c <= 2 && rc == RDNS_OK; c++) {
			char **dst = c == 1 ? &v[i].old_hostname : &v[i].hostname;
			if (PQgetisnull(r, row, c))
				continue;
			if ((*dst = strdup(PQgetvalue(r, row, c))) == NULL)
				rc = RDNS_ENOMEM;
		}
	}
	PQclear(r);
	if (rc != RDNS_OK) {
		db_zone_addr_changes_free(v, rows);
		return rc;
	}
	*out = v;
	*n = rows;
	return RDNS_OK;
}

void db_zone_addr_changes_free(db_zone_addr_change_t *v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++) {
		free(v[i].hostname);
		free(v[i].old_hostname);
	}
	free(v);
}

int db_zone_store_hash(db_t *db, long long id, uint32_t serial, const char *content_hash)
{
	char id_s[24], serial_s[16];
	snprintf(id_s, sizeof(id_s), "%lld", id);
	snprintf(serial_s, sizeof(serial_s), "%u", serial);
	const char *p[3] = {id_s, serial_s, content_hash};
	int err;
	PGresult *r = db_exec(db, &st_store_hash, p, &err);
	if (!r)
		return err;
	PQclear(r);
	return RDNS_OK;
}
