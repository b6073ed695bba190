/* zonedb.c - the hidden primary's published zones: immutable, reference-counted snapshots of
 * checked zone files, looked up by apex. */
#include "zonegen/zonedb.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"

/* A version of every zone is kept (82k at a provider, #17): malloc gives 136 bytes a 144-byte
 * chunk, 248 took 256. */
_Static_assert(sizeof(void *) != 8 || sizeof(zg_zonedb_snap_t) <= 136, "a version grew: see zonedb.h");

typedef struct {
	uint8_t *key; /* lower-cased wire name, of its own size (#17: 24 bytes a zone here, not 272) */
	size_t key_len;
	zg_zonedb_snap_t *snap;
} zone_t;

struct zg_zonedb {
	pthread_mutex_t lock;
	zone_t *zones; /* sorted by key */
	size_t n_zones;
	size_t cap_zones;
};

zg_zonedb_t *zg_zonedb_new(void)
{
	zg_zonedb_t *db = calloc(1, sizeof(*db));
	if (db != NULL)
		pthread_mutex_init(&db->lock, NULL);
	return db;
}

/* The owner-name index: one entry per record (its owner) and one per empty
 * non-terminal (pointing at a record below it), sorted by hash, then offset. */
typedef struct {
	uint64_t h;   /* FNV-1a of the lower-cased wire name */
	uint64_t off; /* file offset of the line << 1, | 1 for a name that only has records below */
} ient_t;

struct zg_zonedb_index {
	ient_t *e;
	size_t n;
	bool cuts; /* NS records below the apex: delegations (issue 16) */
};

static void index_free(zg_zonedb_index_t *ix)
{
	if (ix != NULL)
		free(ix->e);
	free(ix);
}

static void ovl_free(zg_zonedb_ovl_t *ovl, size_t n)
{
	for (size_t i = 0; ovl != NULL && i < n; i++)
		free(ovl[i].line);
	free(ovl);
}

int zg_zonedb_soa_set(zg_zonedb_soa_t *s, const zg_wire_zrr_t *rr)
{
	if (rr->owner_len > ZG_WIRE_NAME_MAX || rr->name1_len > ZG_WIRE_NAME_MAX ||
	    rr->name2_len > ZG_WIRE_NAME_MAX)
		return RDNS_EINVAL; /* (not a wire name: the parser never gives one) */
	uint8_t *b = malloc(rr->owner_len + rr->name1_len + rr->name2_len + 1);
	if (b == NULL)
		return RDNS_ENOMEM;
	memcpy(b, rr->owner, rr->owner_len);
	memcpy(b + rr->owner_len, rr->name1, rr->name1_len);
	memcpy(b + rr->owner_len + rr->name1_len, rr->name2, rr->name2_len);
	*s = (zg_zonedb_soa_t){.owner = b,
	                       .owner_len = (uint8_t)rr->owner_len,
	                       .name1_len = (uint8_t)rr->name1_len,
	                       .name2_len = (uint8_t)rr->name2_len,
	                       .ttl = rr->ttl};
	memcpy(s->soa, rr->soa, sizeof(s->soa));
	return RDNS_OK;
}

void zg_zonedb_soa_rr(const zg_zonedb_soa_t *s, zg_wire_zrr_t *rr)
{
	rr->type = ZG_TYPE_SOA;
	rr->ttl = s->ttl;
	memcpy(rr->owner, s->owner, s->owner_len);
	rr->owner_len = s->owner_len;
	memcpy(rr->name1, s->owner + s->owner_len, s->name1_len);
	rr->name1_len = s->name1_len;
	memcpy(rr->name2, s->owner + s->owner_len + s->name1_len, s->name2_len);
	rr->name2_len = s->name2_len;
	memcpy(rr->soa, s->soa, sizeof(rr->soa));
}

static void snap_free(zg_zonedb_snap_t *sn)
{
	if (sn == NULL)
		return;
	if (sn->base != NULL) {
		/* (the base's last holder may be this overlay: give it back the same way) */
		zg_zonedb_snap_t *b = sn->base;
		bool last = __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0;
		if (last)
			snap_free(b);
	}
	ovl_free(sn->ovl, sn->n_ovl);
	free(sn->soa.owner);
	free(sn->soa_line);
	zg_fdc_drop(&sn->file);
	zg_journal_free(sn->journal);
	index_free(sn->index);
	free(sn);
}

void zg_zonedb_put(zg_zonedb_t *db, zg_zonedb_snap_t *sn)
{
	if (sn == NULL)
		return;
	bool last = __atomic_sub_fetch(&sn->refs, 1, __ATOMIC_ACQ_REL) == 0;
	if (last)
		snap_free(sn);
}

void zg_zonedb_free(zg_zonedb_t *db)
{
	if (db == NULL)
		return;
	for (size_t i = 0; i < db->n_zones; i++) {
		zg_zonedb_put(db, db->zones[i].snap);
		free(db->zones[i].key);
	}
	free(db->zones);
	pthread_mutex_destroy(&db->lock);
	free(db);
}

static int zone_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);
	if (c)
		return c;
	return al < bl ? -1 : al > bl;
}

/* Index of key, or the insertion point with *found false. Under the lock. */
static size_t zone_find(const zg_zonedb_t *db, const uint8_t *key, size_t kl, bool *found)
{
	size_t lo = 0, hi = db->n_zones;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = zone_cmp(db->zones[mid].key, db->zones[mid].key_len, key, kl);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

zg_zonedb_snap_t *zg_zonedb_get(zg_zonedb_t *db, const uint8_t *name, size_t nlen)
{
	uint8_t key[ZG_WIRE_NAME_MAX];
	bool found;
	zg_zonedb_snap_t *sn = NULL;
	memcpy(key, name, nlen);
	zg_wire_name_lower(key, nlen);
	pthread_mutex_lock(&db->lock);
	size_t i = zone_find(db, key, nlen, &found);
	if (found) {
		sn = db->zones[i].snap;
		__atomic_add_fetch(&sn->refs, 1, __ATOMIC_ACQ_REL);
	}
	pthread_mutex_unlock(&db->lock);
	return sn;
}

zg_zonedb_snap_t *zg_zonedb_get_text(zg_zonedb_t *db, const char *zone)
{
	uint8_t key[ZG_WIRE_NAME_MAX];
	size_t kl;
	if (zone == NULL || zg_wire_name_from_text(zone, strlen(zone), false, key, &kl) != RDNS_OK)
		return NULL;
	return zg_zonedb_get(db, key, kl);
}

static int zone_key(const char *zone, uint8_t *key, size_t *kl)
{
	if (zone == NULL || zg_wire_name_from_text(zone, strlen(zone), false, key, kl) != RDNS_OK)
		return RDNS_EINVAL;
	zg_wire_name_lower(key, *kl);
	return RDNS_OK;
}

/* Whether name is apex or below it (case-insensitive, label-aligned). */
bool zg_zonedb_in_zone(const uint8_t *name, size_t nlen, const uint8_t *apex, size_t alen)
{
	size_t p = 0;
	while (p < nlen) {
		if (nlen - p == alen)
			return zg_wire_name_equal(name + p, nlen - p, apex, alen);
		if (name[p] == 0)
			break;
		p += 1 + (size_t)name[p];
	}
	return false;
}

/* The file a version reads: its own, or its base's for an overlay. (Its cache entry opens
 * and closes; the version itself stays as it is.) */
static zg_fdc_t *snap_file(const zg_zonedb_snap_t *sn)
{
	const zg_zonedb_snap_t *f = sn->base != NULL ? sn->base : sn;
	return (zg_fdc_t *)&f->file;
}

int zg_zonedb_file_get(const zg_zonedb_snap_t *sn)
{
	return zg_fdc_get(snap_file(sn));
}

void zg_zonedb_file_put(const zg_zonedb_snap_t *sn)
{
	zg_fdc_put(snap_file(sn));
}

void zg_zonedb_reader_init(zg_zonedb_reader_t *rd, const zg_zonedb_snap_t *sn, char *buf, size_t cap)
{
	zg_zonedb_reader_init_file(rd, snap_file(sn), 0, buf, cap);
}

void zg_zonedb_reader_init_file(zg_zonedb_reader_t *rd, zg_fdc_t *file, off_t off, char *buf, size_t cap)
{
	int fd = zg_fdc_get(file);
	zg_zonedb_reader_init_fd(rd, fd, off, buf, cap); /* fd -1: reads fail with RDNS_EIO */
	rd->held = fd >= 0 ? file : NULL;
}

void zg_zonedb_reader_done(zg_zonedb_reader_t *rd)
{
	if (rd->held != NULL)
		zg_fdc_put(rd->held);
	rd->held = NULL;
	rd->fd = -1;
}

void zg_zonedb_reader_init_fd(zg_zonedb_reader_t *rd, int fd, off_t off, char *buf, size_t cap)
{
	*rd = (zg_zonedb_reader_t){.fd = fd, .off = off, .buf = buf, .cap = cap};
}

/* 1 with a line, 0 at the end, RDNS_EIO on a read error, RDNS_ERANGE for a
 * line longer than the buffer. */
static int lines_next(zg_zonedb_reader_t *L, const char **line, size_t *len)
{
	for (;;) {
		char *nl = memchr(L->buf + L->start, '\n', L->end - L->start);
		if (nl != NULL) {
			L->line_off = L->off - (off_t)(L->end - L->start);
			*line = L->buf + L->start;
			*len = (size_t)(nl - (L->buf + L->start));
			L->start = (size_t)(nl - L->buf) + 1;
			return 1;
		}
		if (L->eof) {
			if (L->start == L->end)
				return 0;
			L->line_off = L->off - (off_t)(L->end - L->start);
			*line = L->buf + L->start; /* last line without newline */
			*len = L->end - L->start;
			L->start = L->end;
			return 1;
		}
		if (L->start > 0) {
			memmove(L->buf, L->buf + L->start, L->end - L->start);
			L->end -= L->start;
			L->start = 0;
		}
		if (L->end == L->cap)
			return RDNS_ERANGE;
		ssize_t n = pread(L->fd, L->buf + L->end, L->cap - L->end, L->off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return RDNS_EIO;
		}
		if (n == 0)
			L->eof = true;
		L->end += (size_t)n;
		L->off += n;
	}
}

int zg_zonedb_reader_next(zg_zonedb_reader_t *rd, zg_wire_zrr_t *rr)
{
	const char *line;
	size_t len;
	int got;
	while ((got = lines_next(rd, &line, &len)) == 1) {
		int prc = zg_wire_zrr_parse(line, len, rr);
		if (prc == RDNS_ENOTFOUND)
			continue; /* a comment */
		rd->line = line;
		rd->line_len = len;
		return prc == RDNS_OK ? 1 : RDNS_EINVAL;
	}
	return got;
}

int zg_zonedb_reader_next_line(zg_zonedb_reader_t *rd, const char **line, size_t *len)
{
	int got;
	while ((got = lines_next(rd, line, len)) == 1) {
		if (*len == 0 || (*line)[0] == ';')
			continue;
		rd->line = *line;
		rd->line_len = *len;
		return 1;
	}
	return got;
}

/* Check a whole zone file; fill in the SOA and the record count. */
static int validate_file(zg_zonedb_snap_t *sn, const uint8_t *apex, size_t alen)
{
	int rc = RDNS_ENOMEM;
	zg_zonedb_reader_t rd = {.fd = -1};
	zg_wire_zrr_t *rr = malloc(sizeof(*rr));
	char *buf = malloc(ZG_ZONEDB_LINE_MAX);
	if (rr == NULL || buf == NULL)
		goto cleanup;
	zg_zonedb_reader_init(&rd, sn, buf, ZG_ZONEDB_LINE_MAX);
	size_t n = 0;
	int got;
	bool past_apex = false;
	sn->apex_first = true;
	sn->ptrs_only = true;
	while ((got = zg_zonedb_reader_next(&rd, rr)) == 1) {
		bool at_apex = zg_wire_name_equal(rr->owner, rr->owner_len, apex, alen);
		if (!at_apex && rr->type != ZG_TYPE_PTR)
			sn->ptrs_only = false;
		if (at_apex && past_apex)
			sn->apex_first = false;
		else if (at_apex)
			sn->apex_rrs++;
		else
			past_apex = true;
		if (!zg_zonedb_in_zone(rr->owner, rr->owner_len, apex, alen)) {
			rc = RDNS_EINVAL;
			goto cleanup;
		}
		if (n == 0) {
			/* RFC 1035 §5.2: the SOA comes first and names the apex. */
			if (rr->type != ZG_TYPE_SOA ||
			    !zg_wire_name_equal(rr->owner, rr->owner_len, apex, alen)) {
				rc = RDNS_EINVAL;
				goto cleanup;
			}
			if ((rc = zg_zonedb_soa_set(&sn->soa, rr)) != RDNS_OK)
				goto cleanup;
		} else if (rr->type == ZG_TYPE_SOA) {
			rc = RDNS_EINVAL;
			goto cleanup;
		}
		n++;
	}
	if (got < 0) {
		rc = got == RDNS_EIO ? RDNS_EIO : RDNS_EINVAL;
		goto cleanup;
	}
	if (n == 0) {
		rc = RDNS_EINVAL;
		goto cleanup;
	}
	sn->records = n;
	rc = RDNS_OK;
cleanup:
	zg_zonedb_reader_done(&rd);
	free(rr);
	free(buf);
	return rc;
}

/* Make sn the zone's current snapshot; *old: the one it replaces (the caller gives it back). */
/* Make sn the zone's snapshot; *old: the one it replaces (the caller's to give back).
 * expect set: only if the zone's current snapshot is expect (else RDNS_EAGAIN). */
static int install_if(zg_zonedb_t *db, const uint8_t *key, size_t kl, zg_zonedb_snap_t *sn,
                      const zg_zonedb_snap_t *expect, zg_zonedb_snap_t **old)
{
	*old = NULL;
	pthread_mutex_lock(&db->lock);
	bool found;
	size_t i = zone_find(db, key, kl, &found);
	if (expect != NULL && (!found || db->zones[i].snap != expect)) {
		pthread_mutex_unlock(&db->lock);
		return RDNS_EAGAIN;
	}
	if (found) {
		*old = db->zones[i].snap;
		db->zones[i].snap = sn;
	} else {
		uint8_t *k = malloc(kl);
		if (k != NULL && db->n_zones == db->cap_zones) {
			size_t nc = db->cap_zones ? db->cap_zones * 2 : 16;
			zone_t *nz = realloc(db->zones, nc * sizeof(*nz));
			if (nz == NULL) {
				free(k);
				k = NULL;
			} else {
				db->zones = nz;
				db->cap_zones = nc;
			}
		}
		if (k == NULL) {
			pthread_mutex_unlock(&db->lock);
			return RDNS_ENOMEM;
		}
		memmove(&db->zones[i + 1], &db->zones[i], (db->n_zones - i) * sizeof(*db->zones));
		memcpy(k, key, kl);
		db->zones[i].key = k;
		db->zones[i].key_len = kl;
		db->zones[i].snap = sn;
		db->n_zones++;
	}
	pthread_mutex_unlock(&db->lock);
	return RDNS_OK;
}

static int install(zg_zonedb_t *db, const uint8_t *key, size_t kl, zg_zonedb_snap_t *sn,
                   zg_zonedb_snap_t **old)
{
	return install_if(db, key, kl, sn, NULL, old);
}

int zg_zonedb_publish(zg_zonedb_t *db, const char *zone, const char *path)
{
	uint8_t key[ZG_WIRE_NAME_MAX];
	size_t kl;
	int rc;
	zg_zonedb_snap_t *sn = NULL;
	zg_zonedb_snap_t *old = NULL;

	if (zone_key(zone, key, &kl) != RDNS_OK || kl <= 1)
		return RDNS_EINVAL;
	sn = calloc(1, sizeof(*sn));
	if (sn == NULL)
		return RDNS_ENOMEM;
	sn->refs = 1;
	sn->file = ZG_FDC_NONE;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_zone_err("dnssrv", zone, "cannot open %s: %s", path, strerror(errno));
		rc = RDNS_EIO;
		goto cleanup;
	}
	/* pinned now: the name may hold another version by the time this one is read */
	zg_fdc_init(&sn->file, fd, path);
	rc = validate_file(sn, key, kl);
	if (rc != RDNS_OK) {
		log_zone_err("dnssrv", zone, "%s: %s", path,
		             rc == RDNS_EINVAL ? "not a zone file of this zone in our format"
		                               : rdns_strerror(rc));
		goto cleanup;
	}
	char jpath[4200];
	if (zg_journal_path(path, jpath, sizeof(jpath)) == RDNS_OK &&
	    (rc = zg_journal_open(jpath, sn->soa.soa[0], &sn->journal)) != RDNS_OK)
		goto cleanup;

	if ((rc = install(db, key, kl, sn, &old)) != RDNS_OK)
		goto cleanup;
	log_zone_info("dnssrv", zone, "published serial %u, %zu records, IXFR history of %zu versions",
	              sn->soa.soa[0], sn->records, sn->journal != NULL ? sn->journal->n : 0);
	sn = NULL;
	zg_zonedb_put(db, old);
	rc = RDNS_OK;
cleanup:
	if (sn != NULL) {
		zg_fdc_drop(&sn->file);
		zg_journal_free(sn->journal);
		free(sn->soa.owner);
		free(sn);
	}
	return rc;
}

int zg_zonedb_publish_written(zg_zonedb_t *db, const char *zone, const char *path,
                              const zg_zonedb_snap_t *like)
{
	uint8_t key[ZG_WIRE_NAME_MAX];
	size_t kl;
	int rc;
	zg_zonedb_snap_t *old = NULL;
	if (zone_key(zone, key, &kl) != RDNS_OK || kl <= 1)
		return RDNS_EINVAL;
	zg_zonedb_snap_t *sn = calloc(1, sizeof(*sn));
	if (sn == NULL)
		return RDNS_ENOMEM;
	sn->refs = 1;
	sn->file = ZG_FDC_NONE;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_zone_err("dnssrv", zone, "cannot open %s: %s", path, strerror(errno));
		rc = RDNS_EIO;
		goto cleanup;
	}
	/* pinned now: the name may hold another version by the time this one is read */
	zg_fdc_init(&sn->file, fd, path);
	/* what validate_file would find: the version's SOA first, then the head's records */
	const zg_zonedb_snap_t *b = like->base != NULL ? like->base : like;
	zg_wire_zrr_t soa;
	zg_zonedb_soa_rr(&like->soa, &soa);
	if ((rc = zg_zonedb_soa_set(&sn->soa, &soa)) != RDNS_OK)
		goto cleanup;
	sn->records = like->records;
	sn->apex_rrs = b->apex_rrs;
	sn->apex_first = true;
	sn->ptrs_only = like->ptrs_only;
	char jpath[4200];
	if (zg_journal_path(path, jpath, sizeof(jpath)) == RDNS_OK &&
	    (rc = zg_journal_open(jpath, sn->soa.soa[0], &sn->journal)) != RDNS_OK)
		goto cleanup;
	if ((rc = install_if(db, key, kl, sn, like, &old)) != RDNS_OK)
		goto cleanup;
	log_zone_info("dnssrv", zone, "published serial %u from its file, IXFR history of %zu versions",
	              sn->soa.soa[0], sn->journal != NULL ? sn->journal->n : 0);
	sn = NULL;
	zg_zonedb_put(db, old);
	rc = RDNS_OK;
cleanup:
	snap_free(sn);
	return rc;
}

void zg_zonedb_unpublish(zg_zonedb_t *db, const char *zone)
{
	uint8_t key[ZG_WIRE_NAME_MAX];
	size_t kl;
	zg_zonedb_snap_t *old = NULL;
	bool found;
	if (zone_key(zone, key, &kl) != RDNS_OK)
		return;
	pthread_mutex_lock(&db->lock);
	size_t i = zone_find(db, key, kl, &found);
	if (found) {
		old = db->zones[i].snap;
		free(db->zones[i].key);
		memmove(&db->zones[i], &db->zones[i + 1], (db->n_zones - i - 1) * sizeof(*db->zones));
		db->n_zones--;
	}
	pthread_mutex_unlock(&db->lock);
	zg_zonedb_put(db, old);
}

uint32_t zg_zonedb_serial(zg_zonedb_t *db, const char *zone, bool *found)
{
	uint8_t key[ZG_WIRE_NAME_MAX];
	size_t kl;
	uint32_t serial = 0;
	bool f = false;
	if (zone_key(zone, key, &kl) == RDNS_OK) {
		pthread_mutex_lock(&db->lock);
		size_t i = zone_find(db, key, kl, &f);
		if (f)
			serial = db->zones[i].snap->soa.soa[0];
		pthread_mutex_unlock(&db->lock);
	}
	if (found)
		*found = f;
	return serial;
}

/* ---- lookups by owner name ---- */

static uint64_t name_hash(const uint8_t *name, size_t nlen)
{
	uint8_t low[ZG_WIRE_NAME_MAX];
	uint64_t h = 0xcbf29ce484222325ull;
	memcpy(low, name, nlen);
	zg_wire_name_lower(low, nlen);
	for (size_t i = 0; i < nlen; i++) {
		h ^= low[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static int ient_cmp(const void *a, const void *b)
{
	const ient_t *x = a, *y = b;
	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

static int index_add(zg_zonedb_index_t *ix, size_t *cap, uint64_t h, uint64_t off)
{
	if (ix->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 1024;
		ient_t *ne = realloc(ix->e, nc * sizeof(*ne));
		if (ne == NULL)
			return RDNS_ENOMEM;
		ix->e = ne;
		*cap = nc;
	}
	ix->e[ix->n++] = (ient_t){.h = h, .off = off};
	return RDNS_OK;
}

/* One pass over the file: every owner, and every name between an owner and
 * the apex (a name with records only below it). Our files keep the records of
 * one subtree together, so an ancestor shared with the previous owner is
 * already in; otherwise it would only be in twice. */
static int index_build(const zg_zonedb_snap_t *sn, zg_zonedb_index_t **out)
{
	int rc = RDNS_ENOMEM;
	size_t cap = 0;
	zg_zonedb_index_t *ix = calloc(1, sizeof(*ix));
	zg_wire_zrr_t *rr = malloc(sizeof(*rr));
	uint8_t *prev = malloc(ZG_WIRE_NAME_MAX);
	size_t prev_len = 0;
	char *buf = malloc(ZG_ZONEDB_LINE_MAX);
	zg_zonedb_reader_t rd = {.fd = -1};
	size_t alen = sn->soa.owner_len;
	if (ix == NULL || rr == NULL || prev == NULL || buf == NULL)
		goto cleanup;
	zg_zonedb_reader_init(&rd, sn, buf, ZG_ZONEDB_LINE_MAX);
	int got;
	while ((got = zg_zonedb_reader_next(&rd, rr)) == 1) {
		uint64_t off = (uint64_t)rd.line_off << 1;
		if ((rc = index_add(ix, &cap, name_hash(rr->owner, rr->owner_len), off)) != RDNS_OK)
			goto cleanup;
		if (rr->type == ZG_TYPE_NS && rr->owner_len > alen)
			ix->cuts = true;
		/* the names strictly between the owner and the apex */
		size_t p = 0;
		while (p < rr->owner_len && rr->owner[p] != 0) {
			p += 1 + (size_t)rr->owner[p];
			size_t sl = rr->owner_len - p;
			if (sl <= alen)
				break;
			if (prev_len > 0 && zg_zonedb_in_zone(prev, prev_len, rr->owner + p, sl))
				break; /* this ancestor and those above it are in already */
			if ((rc = index_add(ix, &cap, name_hash(rr->owner + p, sl), off | 1)) != RDNS_OK)
				goto cleanup;
		}
		memcpy(prev, rr->owner, rr->owner_len);
		prev_len = rr->owner_len;
	}
	if (got < 0) {
		rc = RDNS_EIO; /* it parsed at publish: this is the disk's doing */
		goto cleanup;
	}
	qsort(ix->e, ix->n, sizeof(*ix->e), ient_cmp);
	*out = ix;
	ix = NULL;
	rc = RDNS_OK;
cleanup:
	zg_zonedb_reader_done(&rd);
	index_free(ix);
	free(rr);
	free(prev);
	free(buf);
	return rc;
}

/* The locks that build the indexes, a few for all versions (a version's own mutex was 40
 * bytes of each zone's memory, #17); a version's index, once built, is read without one. */
#define INDEX_LOCKS 16
static pthread_mutex_t index_locks[INDEX_LOCKS] = {
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER};

/* sn's index, built on first use: RDNS_OK, or index_build's error (tried again next time). */
static int index_get(zg_zonedb_snap_t *sn, const zg_zonedb_index_t **ix)
{
	*ix = __atomic_load_n(&sn->index, __ATOMIC_ACQUIRE);
	if (*ix != NULL)
		return RDNS_OK;
	int rc = RDNS_OK;
	pthread_mutex_t *lk = &index_locks[((uintptr_t)sn / sizeof(*sn)) % INDEX_LOCKS];
	pthread_mutex_lock(lk);
	zg_zonedb_index_t *built = sn->index;
	if (built == NULL && (rc = index_build(sn, &built)) == RDNS_OK)
		__atomic_store_n(&sn->index, built, __ATOMIC_RELEASE);
	pthread_mutex_unlock(lk);
	*ix = built;
	return rc;
}

/* The record on the line at off. */
static int read_record(int fd, uint64_t off, zg_wire_zrr_t *rr)
{
	char line[4096]; /* our lines are under 1 KiB: three names of at most 254 characters */
	ssize_t got;
	do
		got = pread(fd, line, sizeof(line), (off_t)off);
	while (got < 0 && errno == EINTR);
	if (got <= 0)
		return RDNS_EIO;
	char *nl = memchr(line, '\n', (size_t)got);
	size_t len = nl != NULL ? (size_t)(nl - line) : (size_t)got;
	if (nl == NULL && (size_t)got == sizeof(line))
		return RDNS_EIO;
	return zg_wire_zrr_parse(line, len, rr) == RDNS_OK ? RDNS_OK : RDNS_EIO;
}

/* zg_zonedb_lookup in the file of a plain snapshot. */
static int file_lookup(zg_zonedb_snap_t *sn, const uint8_t *name, size_t nlen, zg_wire_zrr_t *out, size_t max,
                       size_t *n, bool *exists)
{
	int rc = RDNS_OK;
	*n = 0;
	*exists = false;
	if (sn->apex_first && zg_wire_name_equal(name, nlen, sn->soa.owner, sn->soa.owner_len)) {
		/* the head of the file: no index, so a secondary's SOA query after a
		 * publish never waits for one to be built */
		char *buf = malloc(ZG_ZONEDB_LINE_MAX);
		zg_wire_zrr_t *rr = malloc(sizeof(*rr));
		zg_zonedb_reader_t rd;
		if (buf == NULL || rr == NULL) {
			free(buf);
			free(rr);
			return RDNS_ENOMEM;
		}
		zg_zonedb_reader_init(&rd, sn, buf, ZG_ZONEDB_LINE_MAX);
		*exists = true;
		for (size_t i = 0; i < sn->apex_rrs && rc == RDNS_OK; i++) {
			int got = zg_zonedb_reader_next(&rd, rr);
			if (got != 1)
				rc = RDNS_EIO;
			else if (*n == max)
				rc = RDNS_ERANGE;
			else
				out[(*n)++] = *rr;
		}
		zg_zonedb_reader_done(&rd);
		free(buf);
		free(rr);
		return rc;
	}
	const zg_zonedb_index_t *ix;
	if ((rc = index_get(sn, &ix)) != RDNS_OK)
		return rc;

	zg_wire_zrr_t *rr = malloc(sizeof(*rr));
	if (rr == NULL)
		return RDNS_ENOMEM;
	int fd = zg_zonedb_file_get(sn); /* held for the whole lookup */
	if (fd < 0) {
		free(rr);
		return RDNS_EIO;
	}
	uint64_t h = name_hash(name, nlen);
	size_t lo = 0, hi = ix->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ix->e[mid].h < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* every entry of the hash; names that only share it are told apart by reading the line */
	for (size_t i = lo; i < ix->n && ix->e[i].h == h; i++) {
		const ient_t *e = &ix->e[i];
		if ((rc = read_record(fd, e->off >> 1, rr)) != RDNS_OK)
			break;
		if (e->off & 1) {
			if (zg_zonedb_in_zone(rr->owner, rr->owner_len, name, nlen))
				*exists = true;
			continue;
		}
		if (!zg_wire_name_equal(rr->owner, rr->owner_len, name, nlen))
			continue;
		*exists = true;
		if (*n == max) {
			rc = RDNS_ERANGE;
			break;
		}
		out[(*n)++] = *rr;
	}
	zg_zonedb_file_put(sn);
	free(rr);
	return rc;
}

/* ---- overlays ---- */

static int ovl_cmp(const void *a, const void *b)
{
	const zg_zonedb_ovl_t *x = a, *y = b;
	return zg_journal_owner_cmp(x->owner, x->owner_len, y->owner, y->owner_len);
}

/* The index of name in sn's overlay, -1 when it is not there. */
static long ovl_find(const zg_zonedb_snap_t *sn, const uint8_t *name, size_t nlen)
{
	size_t lo = 0, hi = sn->n_ovl;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = zg_journal_owner_cmp(sn->ovl[mid].owner, sn->ovl[mid].owner_len, name, nlen);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int ovl_copy(zg_zonedb_ovl_t *dst, const zg_zonedb_ovl_t *src)
{
	*dst = *src;
	dst->line = NULL;
	if (src->line == NULL)
		return RDNS_OK;
	dst->line = malloc(src->line_len + 1);
	if (dst->line == NULL)
		return RDNS_ENOMEM;
	memcpy(dst->line, src->line, src->line_len);
	dst->line[src->line_len] = 0;
	return RDNS_OK;
}

int zg_zonedb_publish_overlay(zg_zonedb_t *db, const char *zone, const zg_zonedb_ovl_t *ovl, size_t n,
                              const char *soa_line, size_t soa_len, const char *journal_path)
{
	uint8_t key[ZG_WIRE_NAME_MAX];
	size_t kl;
	int rc = RDNS_ENOMEM;
	zg_zonedb_snap_t *cur = NULL, *old = NULL, *sn = NULL;
	zg_zonedb_ovl_t *add = NULL;
	if (zone_key(zone, key, &kl) != RDNS_OK || kl <= 1)
		return RDNS_EINVAL;
	cur = zg_zonedb_get(db, key, kl);
	if (cur == NULL)
		return RDNS_ENOTFOUND;
	zg_zonedb_snap_t *base = cur->base != NULL ? cur->base : cur;
	sn = calloc(1, sizeof(*sn));
	if (sn != NULL) {
		sn->refs = 1;
		sn->file = ZG_FDC_NONE; /* it reads its base's */
	}
	add = calloc(n ? n : 1, sizeof(*add));
	if (sn == NULL || add == NULL)
		goto cleanup;
	/* The new SOA: of this zone, a newer serial (RFC 1982). */
	zg_wire_zrr_t soa;
	if (soa_len > UINT16_MAX || zg_wire_zrr_parse(soa_line, soa_len, &soa) != RDNS_OK ||
	    soa.type != ZG_TYPE_SOA || !zg_wire_name_equal(soa.owner, soa.owner_len, key, kl) ||
	    (int32_t)(soa.soa[0] - cur->soa.soa[0]) <= 0) {
		rc = RDNS_EINVAL;
		goto cleanup;
	}
	if (zg_zonedb_soa_set(&sn->soa, &soa) != RDNS_OK)
		goto cleanup;
	if ((sn->soa_line = malloc(soa_len + 1)) == NULL)
		goto cleanup;
	memcpy(sn->soa_line, soa_line, soa_len);
	sn->soa_line[soa_len] = 0;
	sn->soa_line_len = (uint16_t)soa_len;
	/* The names given, checked and sorted. */
	for (size_t i = 0; i < n; i++) {
		if ((rc = ovl_copy(&add[i], &ovl[i])) != RDNS_OK)
			goto cleanup;
		zg_wire_name_lower(add[i].owner, add[i].owner_len);
		zg_wire_zrr_t rr;
		rc = RDNS_EINVAL;
		if (!zg_zonedb_in_zone(add[i].owner, add[i].owner_len, key, kl) ||
		    zg_wire_name_equal(add[i].owner, add[i].owner_len, key, kl))
			goto cleanup;
		if (add[i].line != NULL &&
		    (zg_wire_zrr_parse(add[i].line, add[i].line_len, &rr) != RDNS_OK ||
		     rr.type != ZG_TYPE_PTR ||
		     !zg_wire_name_equal(rr.owner, rr.owner_len, add[i].owner, add[i].owner_len)))
			goto cleanup;
	}
	qsort(add, n, sizeof(*add), ovl_cmp);
	for (size_t i = 1; i < n; i++)
		if (ovl_cmp(&add[i - 1], &add[i]) == 0) {
			rc = RDNS_EINVAL;
			goto cleanup;
		}
	/* Merged with the current overlay: the names given win. */
	size_t cn = cur->base != NULL ? cur->n_ovl : 0;
	if (cn + n > UINT32_MAX) {
		rc = RDNS_ERANGE;
		goto cleanup;
	}
	sn->ovl = calloc(cn + n ? cn + n : 1, sizeof(*sn->ovl));
	if (sn->ovl == NULL) {
		rc = RDNS_ENOMEM;
		goto cleanup;
	}
	size_t a = 0, b = 0;
	while (a < cn || b < n) {
		int c = a == cn ? 1 : b == n ? -1 : ovl_cmp(&cur->ovl[a], &add[b]);
		if (c < 0) {
			if ((rc = ovl_copy(&sn->ovl[sn->n_ovl], &cur->ovl[a++])) != RDNS_OK)
				goto cleanup;
			sn->n_ovl++;
			continue;
		}
		if (c == 0)
			a++;
		sn->ovl[sn->n_ovl++] = add[b];
		add[b++].line = NULL; /* moved */
	}
	sn->records = base->records;
	sn->apex_rrs = base->apex_rrs;
	sn->apex_first = base->apex_first;
	sn->ptrs_only = base->ptrs_only;
	if (journal_path != NULL &&
	    (rc = zg_journal_open(journal_path, sn->soa.soa[0], &sn->journal)) != RDNS_OK)
		goto cleanup;
	__atomic_add_fetch(&base->refs, 1, __ATOMIC_ACQ_REL);
	sn->base = base;
	if ((rc = install(db, key, kl, sn, &old)) != RDNS_OK)
		goto cleanup;
	log_zone_info("dnssrv", zone,
	              "published serial %u: serial %u with %zu names replaced, IXFR history of %zu versions",
	              sn->soa.soa[0], base->soa.soa[0], (size_t)sn->n_ovl,
	              sn->journal != NULL ? sn->journal->n : 0);
	sn = NULL;
	zg_zonedb_put(db, old);
	rc = RDNS_OK;
cleanup:
	ovl_free(add, n);
	if (sn != NULL)
		snap_free(sn);
	zg_zonedb_put(db, cur);
	return rc;
}

void zg_zonedb_iter_init(zg_zonedb_iter_t *it, const zg_zonedb_snap_t *sn, char *buf, size_t cap)
{
	memset(it, 0, sizeof(*it));
	it->sn = sn;
	zg_zonedb_reader_init(&it->rd, sn, buf, cap);
}

void zg_zonedb_iter_done(zg_zonedb_iter_t *it)
{
	zg_zonedb_reader_done(&it->rd);
}

/* The base's next record into the lookahead, unless there is one. */
static int iter_fill(zg_zonedb_iter_t *it)
{
	if (it->la_has || it->base_done)
		return RDNS_OK;
	int got = zg_zonedb_reader_next(&it->rd, &it->la);
	if (got < 0)
		return got;
	it->la_has = got == 1;
	it->base_done = got == 0;
	return RDNS_OK;
}

int zg_zonedb_iter_next(zg_zonedb_iter_t *it, zg_wire_zrr_t *rr)
{
	const zg_zonedb_snap_t *sn = it->sn;
	int rc;
	if (!it->started) {
		/* The SOA: the file's first record (checked at publish), or the overlay's own. */
		if ((rc = iter_fill(it)) != RDNS_OK)
			return rc;
		if (!it->la_has)
			return RDNS_EINVAL;
		it->started = true;
		it->la_has = false;
		zg_zonedb_soa_rr(&sn->soa, rr);
		it->line = sn->base != NULL ? sn->soa_line : it->rd.line;
		it->line_len = sn->base != NULL ? sn->soa_line_len : it->rd.line_len;
		return 1;
	}
	for (;;) {
		if ((rc = iter_fill(it)) != RDNS_OK)
			return rc;
		int c = it->oi == sn->n_ovl ? 1
		        : !it->la_has       ? -1
		                      : zg_journal_owner_cmp(sn->ovl[it->oi].owner, sn->ovl[it->oi].owner_len,
		                                             it->la.owner, it->la.owner_len);
		if (c > 0) {
			if (!it->la_has)
				return 0;
			it->la_has = false;
			*rr = it->la;
			it->line = it->rd.line;
			it->line_len = it->rd.line_len;
			return 1;
		}
		if (c == 0) {
			/* the base's records of this name are replaced */
			it->la_has = false;
			continue;
		}
		const zg_zonedb_ovl_t *o = &sn->ovl[it->oi++];
		if (o->line == NULL)
			continue;
		if (zg_wire_zrr_parse(o->line, o->line_len, rr) != RDNS_OK)
			return RDNS_EINVAL;
		it->line = o->line;
		it->line_len = o->line_len;
		return 1;
	}
}

/* Whether the version sn holds a record strictly below name: one pass over it (a name
 * whose last record below was deleted by an overlay: rare, and only asked by query_allow). */
static int any_below(const zg_zonedb_snap_t *sn, const uint8_t *name, size_t nlen, bool *found)
{
	*found = false;
	char *buf = malloc(ZG_ZONEDB_LINE_MAX);
	zg_wire_zrr_t *rr = malloc(sizeof(*rr));
	int rc = RDNS_ENOMEM, got = 0;
	if (buf != NULL && rr != NULL) {
		zg_zonedb_iter_t it;
		zg_zonedb_iter_init(&it, sn, buf, ZG_ZONEDB_LINE_MAX);
		while ((got = zg_zonedb_iter_next(&it, rr)) == 1)
			if (rr->owner_len > nlen && zg_zonedb_in_zone(rr->owner, rr->owner_len, name, nlen)) {
				*found = true;
				break;
			}
		zg_zonedb_iter_done(&it);
		rc = got < 0 ? RDNS_EIO : RDNS_OK;
	}
	free(buf);
	free(rr);
	return rc;
}

int zg_zonedb_lookup(zg_zonedb_snap_t *sn, const uint8_t *name, size_t nlen, zg_wire_zrr_t *out, size_t max,
                     size_t *n, bool *exists)
{
	if (sn->base == NULL)
		return file_lookup(sn, name, nlen, out, max, n, exists);
	*n = 0;
	*exists = false;
	long k = ovl_find(sn, name, nlen);
	if (k >= 0) {
		/* a complete address name: nothing below it, so it exists iff it owns its record */
		const zg_zonedb_ovl_t *o = &sn->ovl[k];
		if (o->line == NULL)
			return RDNS_OK;
		if (max == 0)
			return RDNS_ERANGE;
		if (zg_wire_zrr_parse(o->line, o->line_len, &out[0]) != RDNS_OK)
			return RDNS_EIO;
		*n = 1;
		*exists = true;
		return RDNS_OK;
	}
	int rc = file_lookup(sn->base, name, nlen, out, max, n, exists);
	if (rc != RDNS_OK)
		return rc;
	for (size_t i = 0; i < *n; i++)
		if (out[i].type == ZG_TYPE_SOA)
			zg_zonedb_soa_rr(&sn->soa, &out[i]); /* the apex: this version's SOA */
	if (*n > 0)
		return RDNS_OK;
	/* No records of its own: it exists iff some name below it owns one in this version. */
	bool deleted_below = false;
	for (size_t i = 0; i < sn->n_ovl; i++) {
		const zg_zonedb_ovl_t *o = &sn->ovl[i];
		if (o->owner_len <= nlen || !zg_zonedb_in_zone(o->owner, o->owner_len, name, nlen))
			continue;
		if (o->line != NULL) {
			*exists = true;
			return RDNS_OK;
		}
		deleted_below = true;
	}
	if (*exists && deleted_below)
		return any_below(sn, name, nlen, exists);
	return RDNS_OK;
}

int zg_zonedb_cut(zg_zonedb_snap_t *sn, const uint8_t *name, size_t nlen, zg_wire_zrr_t *out, size_t max,
                  size_t *n)
{
	int rc = RDNS_OK;
	*n = 0;
	if (sn->ptrs_only)
		return RDNS_OK; /* nothing but PTRs below the apex: no cut (and no index to build) */
	size_t alen = sn->soa.owner_len;
	if (nlen <= alen)
		return RDNS_OK; /* the apex (or not below it): no cut above it in this zone */
	const zg_zonedb_index_t *ix;
	if ((rc = index_get(sn, &ix)) != RDNS_OK || !ix->cuts)
		return rc;
	/* the label offsets of name, to walk its ancestors from the apex down */
	size_t at[128], k = 0;
	for (size_t p = 0; p < nlen && name[p] != 0 && k < 128; p += 1 + (size_t)name[p])
		at[k++] = p;
	/* RFC 1034 4.3.2 step 3b: the highest cut on the way down from the apex */
	for (size_t i = k; i-- > 0;) {
		size_t sl = nlen - at[i];
		if (sl <= alen)
			continue;
		size_t got = 0;
		bool exists;
		rc = zg_zonedb_lookup(sn, name + at[i], sl, out, max, &got, &exists);
		if (rc != RDNS_OK)
			return rc;
		if (!exists)
			return RDNS_OK; /* nothing at or below this name: no cut further down either */
		size_t m = 0;
		for (size_t j = 0; j < got; j++)
			if (out[j].type == ZG_TYPE_NS)
				out[m++] = out[j];
		if (m > 0) {
			*n = m;
			return RDNS_OK;
		}
	}
	return RDNS_OK;
}
