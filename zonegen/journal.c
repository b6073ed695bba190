/* journal.c - IXFR history: the difference of two zone files by a linear merge, and the
 * <zone>.ixfr journal that keeps the last ones (checked on open, replaced atomically). */
#include "zonegen/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "zonegen/wire.h"
#include "zonegen/zonedb.h"

#define JOURNAL_MAGIC ";rdns-ixfr 1\n"
#define LINE_MAX_     1024 /* our record lines: three names of at most 254 characters and numbers */
#define GROUP_MAX     64   /* records one owner may have in a diffed file (the apex's NS set) */

int zg_journal_path(const char *zone_path, char *out, size_t len)
{
	size_t l = strlen(zone_path);
	int n;
	if (l > 5 && strcmp(zone_path + l - 5, ".zone") == 0)
		n = snprintf(out, len, "%.*s.ixfr", (int)(l - 5), zone_path);
	else
		n = snprintf(out, len, "%s.ixfr", zone_path);
	return n >= 0 && (size_t)n < len ? RDNS_OK : RDNS_ESPACE;
}

/* ---- the order of owner names in our files ---- */

/* The decimal number a label begins with (our labels have no leading zeros), and its
 * length in digits; 0 digits when it does not begin with one. */
static size_t lead_number(const uint8_t *s, size_t n, uint64_t *v)
{
	size_t i = 0;
	*v = 0;
	while (i < n && i < 18 && s[i] >= '0' && s[i] <= '9')
		*v = *v * 10 + (uint64_t)(s[i++] - '0');
	return i;
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int octets_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	size_t n = al < bl ? al : bl;
	for (size_t i = 0; i < n; i++) {
		int c = lower(a[i]) - lower(b[i]);
		if (c)
			return c < 0 ? -1 : 1;
	}
	return al < bl ? -1 : al > bl;
}

/* Labels that begin with a number by that number, then by the rest (so that an RFC 2317
 * child label "64-127" or "64/26" comes after "64" and before "65", as the renderer
 * writes them); others case-insensitively as octets, a prefix first. A label that begins
 * with a digit sorts before one that begins with a letter either way. */
static int label_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	uint64_t va, vb;
	size_t da = lead_number(a, al, &va), db = lead_number(b, bl, &vb);
	if (da && db) {
		if (va != vb)
			return va < vb ? -1 : 1;
		return octets_cmp(a + da, al - da, b + db, bl - db);
	}
	return octets_cmp(a, al, b, bl);
}

/* Offsets of the labels of an uncompressed wire name (the root not counted). */
static size_t labels(const uint8_t *name, size_t len, size_t *at, size_t max)
{
	size_t n = 0, p = 0;
	while (p < len && name[p] != 0 && n < max) {
		at[n++] = p;
		p += 1 + (size_t)name[p];
	}
	return n;
}

/* Right to left by label: the apex first, then the renderer's address order. */
int zg_journal_owner_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	size_t la[128], lb[128];
	size_t na = labels(a, al, la, 128), nb = labels(b, bl, lb, 128);
	for (size_t k = 0; k < na && k < nb; k++) {
		const uint8_t *x = a + la[na - 1 - k], *y = b + lb[nb - 1 - k];
		int c = label_cmp(x + 1, x[0], y + 1, y[0]);
		if (c)
			return c;
	}
	return na < nb ? -1 : na > nb;
}

/* ---- the merge ---- */

/* One file being merged: a record of lookahead and the group of one owner. */
typedef struct {
	zg_zonedb_reader_t rd;
	char *buf;
	zg_wire_zrr_t rr; /* the lookahead, once parsed */
	bool has;
	bool parsed;
	char la[LINE_MAX_];
	size_t la_len;
	char lines[GROUP_MAX][LINE_MAX_];
	size_t lens[GROUP_MAX];
	size_t n;
	uint8_t prev[ZG_WIRE_NAME_MAX];
	size_t prev_len;
	bool has_prev;
} side_t;

static int side_next(side_t *s)
{
	const char *line;
	size_t len;
	int got = zg_zonedb_reader_next_line(&s->rd, &line, &len);
	s->has = got == 1;
	s->parsed = false;
	if (got < 0)
		return got == RDNS_EIO ? RDNS_EIO : RDNS_EINVAL;
	if (s->has) {
		if (len >= sizeof(s->la))
			return RDNS_EINVAL;
		memcpy(s->la, line, len);
		s->la_len = len;
	}
	return RDNS_OK;
}

/* The lookahead parsed (lines are parsed only where the two files differ). */
static int side_parse(side_t *s)
{
	if (!s->has || s->parsed)
		return RDNS_OK;
	if (zg_wire_zrr_parse(s->la, s->la_len, &s->rr) != RDNS_OK)
		return RDNS_EINVAL; /* a comment would have been skipped: not our format */
	s->parsed = true;
	return RDNS_OK;
}

/* The first record: the SOA, its line copied to soa. */
static int side_open(side_t *s, int fd, char *soa, size_t *soa_len, uint32_t *serial)
{
	s->buf = malloc(ZG_ZONEDB_LINE_MAX);
	if (s->buf == NULL)
		return RDNS_ENOMEM;
	zg_zonedb_reader_init_fd(&s->rd, fd, 0, s->buf, ZG_ZONEDB_LINE_MAX);
	int rc = side_next(s);
	if (rc == RDNS_OK)
		rc = side_parse(s);
	if (rc != RDNS_OK)
		return rc;
	if (!s->has || s->rr.type != ZG_TYPE_SOA)
		return RDNS_EINVAL;
	memcpy(soa, s->la, s->la_len);
	*soa_len = s->la_len;
	*serial = s->rr.soa[0];
	return side_next(s);
}

/* The records of the lookahead's owner; owners must come in strictly ascending order. */
static int side_group(side_t *s)
{
	uint8_t owner[ZG_WIRE_NAME_MAX];
	size_t olen = s->rr.owner_len;
	memcpy(owner, s->rr.owner, olen);
	if (s->has_prev && zg_journal_owner_cmp(s->prev, s->prev_len, owner, olen) >= 0)
		return RDNS_EINVAL; /* not our order: a merge would be wrong */
	s->n = 0;
	int rc = RDNS_OK;
	while (s->has && (rc = side_parse(s)) == RDNS_OK &&
	       zg_journal_owner_cmp(s->rr.owner, s->rr.owner_len, owner, olen) == 0) {
		if (s->n == GROUP_MAX || s->rr.type == ZG_TYPE_SOA)
			return RDNS_EINVAL;
		memcpy(s->lines[s->n], s->la, s->la_len);
		s->lens[s->n++] = s->la_len;
		if ((rc = side_next(s)) != RDNS_OK)
			return rc;
	}
	if (s->has && rc != RDNS_OK)
		return rc;
	memcpy(s->prev, owner, olen);
	s->prev_len = olen;
	s->has_prev = true;
	return RDNS_OK;
}

static bool in_group(const side_t *s, const char *line, size_t len)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->lens[i] == len && memcmp(s->lines[i], line, len) == 0)
			return true;
	return false;
}

/* One of the two lists; both draw on one budget. */
typedef struct {
	FILE *f;
	size_t *used;
	size_t max;
	size_t count;
} out_t;

static int put_line(out_t *o, const char *line, size_t len)
{
	if (*o->used + len + 1 > o->max)
		return RDNS_ERANGE;
	if (fwrite(line, 1, len, o->f) != len || fputc('\n', o->f) == EOF)
		return RDNS_ENOMEM;
	*o->used += len + 1;
	o->count++;
	return RDNS_OK;
}

/* The lines of a's group that b's lacks, to o. */
static int put_missing(out_t *o, const side_t *a, const side_t *b)
{
	for (size_t i = 0; i < a->n; i++) {
		if (b != NULL && in_group(b, a->lines[i], a->lens[i]))
			continue;
		int rc = put_line(o, a->lines[i], a->lens[i]);
		if (rc != RDNS_OK)
			return rc;
	}
	return RDNS_OK;
}

int zg_journal_diff(int old_fd, int new_fd, FILE *out, size_t max, zg_journal_diff_t *st)
{
	int rc = RDNS_ENOMEM;
	side_t *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	char *del_text = NULL, *add_text = NULL;
	size_t del_len = 0, add_len = 0;
	FILE *del = open_memstream(&del_text, &del_len);
	FILE *add = open_memstream(&add_text, &add_len);
	char soa_a[LINE_MAX_], soa_b[LINE_MAX_];
	size_t soa_al = 0, soa_bl = 0;
	*st = (zg_journal_diff_t){0};
	if (a == NULL || b == NULL || del == NULL || add == NULL)
		goto cleanup;
	if ((rc = side_open(a, old_fd, soa_a, &soa_al, &st->from)) != RDNS_OK ||
	    (rc = side_open(b, new_fd, soa_b, &soa_bl, &st->to)) != RDNS_OK)
		goto cleanup;
	/* Both SOAs go in; what is left of max is shared by the two lists. */
	if (soa_al + soa_bl + 2 > max) {
		rc = RDNS_ERANGE;
		goto cleanup;
	}
	size_t used = soa_al + soa_bl + 2;
	out_t od = {.f = del, .used = &used, .max = max};
	out_t oa = {.f = add, .used = &used, .max = max};
	while (a->has || b->has) {
		/* The same line on both sides: a record in both versions, in neither list. Most
		 * lines are, and they are never parsed. (Skipping a record that both groups of
		 * one owner hold leaves their difference as it was.) */
		if (a->has && b->has && a->la_len == b->la_len && memcmp(a->la, b->la, a->la_len) == 0) {
			if ((rc = side_next(a)) != RDNS_OK || (rc = side_next(b)) != RDNS_OK)
				goto cleanup;
			continue;
		}
		if ((rc = side_parse(a)) != RDNS_OK || (rc = side_parse(b)) != RDNS_OK)
			goto cleanup;
		int c = !a->has   ? 1
		        : !b->has ? -1
		                  : zg_journal_owner_cmp(a->rr.owner, a->rr.owner_len, b->rr.owner,
		                                         b->rr.owner_len);
		if (c <= 0 && (rc = side_group(a)) != RDNS_OK)
			goto cleanup;
		if (c >= 0 && (rc = side_group(b)) != RDNS_OK)
			goto cleanup;
		if (c <= 0 && (rc = put_missing(&od, a, c == 0 ? b : NULL)) != RDNS_OK)
			goto cleanup;
		if (c >= 0 && (rc = put_missing(&oa, b, c == 0 ? a : NULL)) != RDNS_OK)
			goto cleanup;
	}
	if (fflush(del) != 0 || fflush(add) != 0) {
		rc = RDNS_ENOMEM;
		goto cleanup;
	}
	st->deleted = od.count;
	st->added = oa.count;
	/* RFC 1995 §4: old SOA, deletions, new SOA, additions. */
	if (fwrite(soa_a, 1, soa_al, out) != soa_al || fputc('\n', out) == EOF ||
	    fwrite(del_text, 1, del_len, out) != del_len || fwrite(soa_b, 1, soa_bl, out) != soa_bl ||
	    fputc('\n', out) == EOF || fwrite(add_text, 1, add_len, out) != add_len)
		rc = RDNS_EIO;
	else
		rc = RDNS_OK;
cleanup:
	if (del != NULL)
		fclose(del);
	if (add != NULL)
		fclose(add);
	free(del_text);
	free(add_text);
	if (a != NULL)
		free(a->buf);
	if (b != NULL)
		free(b->buf);
	free(a);
	free(b);
	return rc;
}

/* ---- the journal file ---- */

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}
#define FNV_INIT 0xcbf29ce484222325ull

void zg_journal_free(zg_journal_t *j)
{
	if (j == NULL)
		return;
	zg_fdc_drop(&j->file);
	free(j->e);
	free(j);
}

long zg_journal_find(const zg_journal_t *j, uint32_t serial)
{
	if (j == NULL)
		return -1;
	for (size_t i = 0; i < j->n; i++)
		if (j->e[i].from == serial)
			return (long)i;
	return -1;
}

/* Check every entry; false when anything does not match. */
static int check_entries(zg_journal_t *j, int fd, bool *ok)
{
	int rc = RDNS_ENOMEM;
	char *line = NULL;
	size_t cap = 0, ecap = 0;
	char *chunk = malloc(64 * 1024);
	*ok = false;
	int dfd = dup(fd); /* for this pass only */
	FILE *f = dfd >= 0 ? fdopen(dfd, "r") : NULL;
	if (f == NULL) {
		if (dfd >= 0)
			close(dfd);
		rc = RDNS_OK; /* unreadable: no history */
		goto cleanup;
	}
	if (chunk == NULL)
		goto cleanup;
	rc = RDNS_OK;
	ssize_t n = getline(&line, &cap, f);
	if (n != (ssize_t)strlen(JOURNAL_MAGIC) || strcmp(line, JOURNAL_MAGIC) != 0)
		goto cleanup;
	for (;;) {
		off_t off = ftello(f);
		n = getline(&line, &cap, f);
		if (n < 0)
			break;
		zg_journal_entry_t e = {.off = off};
		size_t body;
		uint64_t want;
		int used = 0;
		if (sscanf(line, ";entry %" SCNu32 " %" SCNu32 " %zu %zu %zu %16" SCNx64 "\n%n", &e.from,
		           &e.to, &e.deleted, &e.added, &body, &want, &used) != 6 ||
		    used != n)
			goto cleanup;
		if (j->n > 0 && j->e[j->n - 1].to != e.from)
			goto cleanup; /* a broken chain */
		uint64_t h = FNV_INIT;
		char last = 0;
		for (size_t left = body; left > 0;) {
			size_t want_n = left < 64 * 1024 ? left : 64 * 1024;
			if (fread(chunk, 1, want_n, f) != want_n)
				goto cleanup; /* torn */
			h = fnv1a(h, chunk, want_n);
			last = chunk[want_n - 1];
			left -= want_n;
		}
		if (h != want || body == 0 || last != '\n')
			goto cleanup;
		e.len = (size_t)n + body;
		if (j->n == ecap) {
			size_t nc = ecap ? ecap * 2 : 16;
			zg_journal_entry_t *ne = realloc(j->e, nc * sizeof(*ne));
			if (ne == NULL) {
				rc = RDNS_ENOMEM;
				goto cleanup;
			}
			j->e = ne;
			ecap = nc;
		}
		j->e[j->n++] = e;
	}
	*ok = !ferror(f) && j->n > 0;
cleanup:
	if (f != NULL)
		fclose(f);
	free(line);
	free(chunk);
	return rc;
}

/* Open and check path, whatever serial it ends at: *out NULL when absent or damaged. */
static int journal_load(const char *path, zg_journal_t **out)
{
	*out = NULL;
	zg_journal_t *j = calloc(1, sizeof(*j));
	if (j == NULL)
		return RDNS_ENOMEM;
	j->file = ZG_FDC_NONE;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		zg_journal_free(j);
		return RDNS_OK;
	}
	bool ok;
	int rc = check_entries(j, fd, &ok);
	if (rc == RDNS_OK && ok)
		zg_fdc_init(&j->file, fd, path); /* pinned: the path may hold a newer one when it is read */
	else
		close(fd);
	if (rc != RDNS_OK || !ok) {
		if (rc == RDNS_OK)
			log_warn(
			    "journal: %s does not check (torn or damaged): ignored, IXFR answered in full",
			    path);
		zg_journal_free(j);
		return rc;
	}
	*out = j;
	return RDNS_OK;
}

int zg_journal_open(const char *path, uint32_t serial, zg_journal_t **out)
{
	int rc = journal_load(path, out);
	if (rc == RDNS_OK && *out != NULL && (*out)->e[(*out)->n - 1].to != serial) {
		zg_journal_free(*out);
		*out = NULL;
	}
	return rc;
}

static void drop(const char *path)
{
	if (unlink(path) != 0 && errno != ENOENT)
		log_warn("journal: cannot remove %s: %s", path, strerror(errno));
}

static int fsync_parent(const char *path)
{
	char *copy = strdup(path);
	if (copy == NULL)
		return RDNS_ENOMEM;
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
	free(copy);
	if (fd < 0)
		return RDNS_EIO;
	int rc = fsync(fd) == 0 ? RDNS_OK : RDNS_EIO;
	close(fd);
	return rc;
}

/* Copy len bytes at off of fd to f. */
static int copy_range(int fd, off_t off, size_t len, FILE *f)
{
	char buf[64 * 1024];
	while (len > 0) {
		ssize_t got = pread(fd, buf, len < sizeof(buf) ? len : sizeof(buf), off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return RDNS_EIO;
		if (fwrite(buf, 1, (size_t)got, f) != (size_t)got)
			return RDNS_EIO;
		off += got;
		len -= (size_t)got;
	}
	return RDNS_OK;
}

int zg_journal_append(const char *journal_path, const char *body, size_t body_len, const zg_journal_diff_t *d,
                      const zg_journal_limits_t *lim)
{
	int rc = RDNS_OK;
	FILE *tf = NULL;
	zg_journal_t *j = NULL;
	char tmp[4200] = "";
	char *copy = NULL;
	if (lim == NULL || lim->versions <= 0 || lim->bytes <= 0 || d->from == d->to)
		goto dropped;
	size_t max = (size_t)lim->bytes;
	char head[160];
	int hl = snprintf(head, sizeof(head), ";entry %" PRIu32 " %" PRIu32 " %zu %zu %zu %016" PRIx64 "\n",
	                  d->from, d->to, d->deleted, d->added, body_len, fnv1a(FNV_INIT, body, body_len));
	size_t total = strlen(JOURNAL_MAGIC) + (size_t)hl + body_len;
	if (total > max) {
		log_info("journal: %s: the difference is over ixfr_history_bytes (%ld): history dropped",
		         journal_path, lim->bytes);
		goto dropped;
	}
	if ((rc = journal_load(journal_path, &j)) != RDNS_OK)
		goto dropped;
	/* The history up to the version in place: entries past it are of versions that never
	 * took its place (a render whose commit failed after its journal was written, e.g.
	 * on a serialization conflict, and was done again). */
	size_t upto = j != NULL ? j->n : 0;
	while (upto > 0 && j->e[upto - 1].to != d->from)
		upto--;
	/* Keep the newest entries that fit; older versions get full transfers. */
	size_t keep_from = upto;
	long count = 1;
	while (keep_from > 0 && count < lim->versions && total + j->e[keep_from - 1].len <= max) {
		total += j->e[--keep_from].len;
		count++;
	}
	copy = strdup(journal_path);
	if (copy == NULL) {
		rc = RDNS_ENOMEM;
		goto dropped;
	}
	char *base = strrchr(copy, '/');
	if (base != NULL) {
		*base = 0;
		snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", copy, base + 1);
	} else {
		snprintf(tmp, sizeof(tmp), ".%s.XXXXXX", copy);
	}
	int tfd = mkstemp(tmp);
	if (tfd < 0) {
		log_err("journal: cannot create %s: %s", tmp, strerror(errno));
		tmp[0] = 0;
		rc = RDNS_EIO;
		goto dropped;
	}
	fchmod(tfd, 0644);
	tf = fdopen(tfd, "w");
	if (tf == NULL) {
		close(tfd);
		rc = RDNS_EIO;
		goto dropped;
	}
	rc = fputs(JOURNAL_MAGIC, tf) == EOF ? RDNS_EIO : RDNS_OK;
	if (rc == RDNS_OK && j != NULL && keep_from < upto) {
		const zg_journal_entry_t *last = &j->e[upto - 1];
		int jfd = zg_fdc_get(&j->file);
		rc = jfd < 0 ? RDNS_EIO
		             : copy_range(jfd, j->e[keep_from].off,
		                          (size_t)(last->off - j->e[keep_from].off) + last->len, tf);
		if (jfd >= 0)
			zg_fdc_put(&j->file);
	}
	if (rc == RDNS_OK &&
	    (fwrite(head, 1, (size_t)hl, tf) != (size_t)hl || fwrite(body, 1, body_len, tf) != body_len))
		rc = RDNS_EIO;
	if (rc == RDNS_OK && (fflush(tf) != 0 || fsync(fileno(tf)) != 0))
		rc = RDNS_EIO;
	int closed = fclose(tf);
	tf = NULL;
	if (rc == RDNS_OK && closed != 0)
		rc = RDNS_EIO;
	if (rc == RDNS_OK && rename(tmp, journal_path) != 0)
		rc = RDNS_EIO;
	if (rc != RDNS_OK) {
		log_err("journal: cannot write %s: %s", journal_path, strerror(errno));
		goto dropped;
	}
	tmp[0] = 0;
	fsync_parent(journal_path);
	goto cleanup;
dropped:
	drop(journal_path);
	if (rc == RDNS_OK)
		rc = RDNS_ENOTFOUND;
cleanup:
	if (tf != NULL)
		fclose(tf);
	if (tmp[0])
		unlink(tmp);
	free(copy);
	zg_journal_free(j);
	return rc;
}

int zg_journal_update(const char *journal_path, const char *old_zone, const char *new_zone,
                      const zg_journal_limits_t *lim, zg_journal_diff_t *st)
{
	int rc = RDNS_OK;
	int old_fd = -1, new_fd = -1;
	char *body = NULL;
	size_t body_len = 0;
	FILE *bf = NULL;
	zg_journal_diff_t d = {0};
	if (st != NULL)
		*st = d;
	if (lim == NULL || lim->versions <= 0 || lim->bytes <= 0)
		goto dropped;
	old_fd = open(old_zone, O_RDONLY | O_CLOEXEC);
	if (old_fd < 0)
		goto dropped; /* a first render, a new machine: no version to start from */
	new_fd = open(new_zone, O_RDONLY | O_CLOEXEC);
	if (new_fd < 0) {
		rc = RDNS_EIO;
		goto dropped;
	}
	bf = open_memstream(&body, &body_len);
	if (bf == NULL) {
		rc = RDNS_ENOMEM;
		goto dropped;
	}
	size_t max = (size_t)lim->bytes;
	int drc = zg_journal_diff(old_fd, new_fd, bf, max, &d);
	if (fflush(bf) != 0 && drc == RDNS_OK)
		drc = RDNS_ENOMEM;
	if (drc == RDNS_ERANGE) {
		log_info("journal: %s: the difference is over ixfr_history_bytes (%ld): history dropped",
		         journal_path, lim->bytes);
		goto dropped;
	}
	if (drc == RDNS_EINVAL) {
		log_warn("journal: %s: the zone files are not in the order a merge needs: history dropped",
		         journal_path);
		goto dropped;
	}
	if (drc != RDNS_OK) {
		rc = drc;
		goto dropped;
	}
	int arc = zg_journal_append(journal_path, body, body_len, &d, lim);
	if (arc == RDNS_OK && st != NULL)
		*st = d;
	if (arc != RDNS_OK && arc != RDNS_ENOTFOUND)
		rc = arc;
	goto cleanup;
dropped:
	drop(journal_path);
cleanup:
	if (bf != NULL)
		fclose(bf);
	free(body);
	if (old_fd >= 0)
		close(old_fd);
	if (new_fd >= 0)
		close(new_fd);
	return rc;
}
