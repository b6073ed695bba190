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

typedef struct {
	uint8_t key[ZG_WIRE_NAME_MAX]; /* lower-cased wire name */
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

void zg_zonedb_put(zg_zonedb_t *db, zg_zonedb_snap_t *sn)
{
	if (sn == NULL)
		return;
	pthread_mutex_lock(&db->lock);
	bool last = --sn->refs == 0;
	pthread_mutex_unlock(&db->lock);
	if (last) {
		close(sn->fd);
		free(sn);
	}
}

void zg_zonedb_free(zg_zonedb_t *db)
{
	if (db == NULL)
		return;
	for (size_t i = 0; i < db->n_zones; i++)
		zg_zonedb_put(db, db->zones[i].snap);
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
		sn->refs++;
	}
	pthread_mutex_unlock(&db->lock);
	return sn;
}

static int zone_key(const char *zone, uint8_t *key, size_t *kl)
{
	if (zone == NULL || zg_wire_name_from_text(zone, strlen(zone), false, key, kl) != RDNS_OK)
		return RDNS_EINVAL;
	zg_wire_name_lower(key, *kl);
	return RDNS_OK;
}

/* Whether name is apex or below it (case-insensitive, label-aligned). */
static bool in_zone(const uint8_t *name, size_t nlen, const uint8_t *apex, size_t alen)
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

void zg_zonedb_reader_init(zg_zonedb_reader_t *rd, const zg_zonedb_snap_t *sn, char *buf, size_t cap)
{
	*rd = (zg_zonedb_reader_t){.fd = sn->fd, .buf = buf, .cap = cap};
}

/* 1 with a line, 0 at the end, RDNS_EIO on a read error, RDNS_ERANGE for a
 * line longer than the buffer. */
static int lines_next(zg_zonedb_reader_t *L, const char **line, size_t *len)
{
	for (;;) {
		char *nl = memchr(L->buf + L->start, '\n', L->end - L->start);
		if (nl != NULL) {
			*line = L->buf + L->start;
			*len = (size_t)(nl - (L->buf + L->start));
			L->start = (size_t)(nl - L->buf) + 1;
			return 1;
		}
		if (L->eof) {
			if (L->start == L->end)
				return 0;
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
		return prc == RDNS_OK ? 1 : RDNS_EINVAL;
	}
	return got;
}

/* Check a whole zone file; fill in the SOA and the record count. */
static int validate_file(zg_zonedb_snap_t *sn, const uint8_t *apex, size_t alen)
{
	int rc = RDNS_ENOMEM;
	zg_zonedb_reader_t rd;
	zg_wire_zrr_t *rr = malloc(sizeof(*rr));
	char *buf = malloc(ZG_ZONEDB_LINE_MAX);
	if (rr == NULL || buf == NULL)
		goto cleanup;
	zg_zonedb_reader_init(&rd, sn, buf, ZG_ZONEDB_LINE_MAX);
	size_t n = 0;
	int got;
	while ((got = zg_zonedb_reader_next(&rd, rr)) == 1) {
		if (!in_zone(rr->owner, rr->owner_len, apex, alen)) {
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
			sn->soa = *rr;
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
	free(rr);
	free(buf);
	return rc;
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
	sn->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (sn->fd < 0) {
		log_zone_err("dnssrv", zone, "cannot open %s: %s", path, strerror(errno));
		rc = RDNS_EIO;
		goto cleanup;
	}
	rc = validate_file(sn, key, kl);
	if (rc != RDNS_OK) {
		log_zone_err("dnssrv", zone, "%s: %s", path,
		             rc == RDNS_EINVAL ? "not a zone file of this zone in our format"
		                               : rdns_strerror(rc));
		goto cleanup;
	}

	pthread_mutex_lock(&db->lock);
	bool found;
	size_t i = zone_find(db, key, kl, &found);
	if (found) {
		old = db->zones[i].snap;
		db->zones[i].snap = sn;
	} else {
		if (db->n_zones == db->cap_zones) {
			size_t nc = db->cap_zones ? db->cap_zones * 2 : 16;
			zone_t *nz = realloc(db->zones, nc * sizeof(*nz));
			if (nz == NULL) {
				pthread_mutex_unlock(&db->lock);
				rc = RDNS_ENOMEM;
				goto cleanup;
			}
			db->zones = nz;
			db->cap_zones = nc;
		}
		memmove(&db->zones[i + 1], &db->zones[i], (db->n_zones - i) * sizeof(*db->zones));
		memcpy(db->zones[i].key, key, kl);
		db->zones[i].key_len = kl;
		db->zones[i].snap = sn;
		db->n_zones++;
	}
	pthread_mutex_unlock(&db->lock);
	log_zone_info("dnssrv", zone, "published serial %u, %zu records", sn->soa.soa[0], sn->records);
	sn = NULL;
	zg_zonedb_put(db, old);
	rc = RDNS_OK;
cleanup:
	if (sn != NULL) {
		if (sn->fd >= 0)
			close(sn->fd);
		free(sn);
	}
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
