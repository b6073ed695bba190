/* render.h - rendering one reverse zone from PostgreSQL to its zone file, atomically. */
#ifndef RDNS_ZONEGEN_RENDER_H
#define RDNS_ZONEGEN_RENDER_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"
#include "db/zones.h"
#include "zonegen/journal.h"

typedef struct {
	long long zone_id;
	char name[80];          /* without trailing dot */
	char path[4096];        /* the zone file */
	uint32_t serial;        /* the serial now in place */
	bool changed;           /* content changed: serial bumped, file replaced */
	bool written;           /* the file was (re)written */
	uint64_t records;       /* PTR records written (custom + default) */
	char notify[2048];      /* the zone's own NOTIFY targets, space separated */
	bool journaled;         /* changed, and the difference went into the journal */
	zg_journal_diff_t diff; /* that difference's size */
	uint64_t params_fp;     /* zg_render_params_fp of the zone's parameters rendered */
} zg_render_result_t;

/* The text of a zone's parameters that its content hash starts with (everything of the
 * head but the serial, the NS names and the default-PTR template); its length. */
size_t zg_render_params_text(const db_zone_params_t *zp, char *buf, size_t len);

/* A fingerprint of that text (FNV-1a 64): a version made from the difference must have
 * the parameters of the version it starts from (zonegen/incr.c). */
uint64_t zg_render_params_fp(const char *text, size_t len);

/* Told, while a large zone's records stream in, that the session is alive (NULL: nobody). */
typedef struct {
	void (*fn)(void *arg);
	void *arg;
} zg_render_alive_t;

/* Render zone_id into zone_dir/<name>.zone from one REPEATABLE READ snapshot,
 * streaming the records (COPY) so memory stays flat. The serial is bumped
 * (RFC 1982, clock-based) only when the content differs from the last
 * rendered content; it is committed to PostgreSQL before the file is
 * renamed into place, so it never goes backwards. The file is written to a
 * temporary file in the same folder, fsynced, renamed, and the folder
 * fsynced. The zone's dirty flag is cleared unless it changed meanwhile.
 * force: rewrite the file even when the content and the file are current.
 * hist: when the content changed, the difference between the file in place and
 * the new one goes into the zone's journal (zg_journal_update) after the serial's
 * commit and before the rename; NULL: the journal is left alone (it then ends at
 * an older serial and is not trusted).
 * RDNS_OK, RDNS_ENOTFOUND (zone deleted), RDNS_EDB (the session failed),
 * RDNS_EAGAIN (the zone changed under the render three times running: try on the
 * next round), RDNS_EIO (the file could not be written or put in place, logged with
 * its path and errno; with the serial already committed when the rename failed: a
 * render again puts the same serial in place), RDNS_EINVAL (the zone's data). */
int zg_render_zone(db_t *db, long long zone_id, const char *zone_dir, bool force,
                   const zg_render_alive_t *alive, const zg_journal_limits_t *hist, zg_render_result_t *res);

/* The fewest files of a batch made durable by one syncfs() instead of an fsync each
 * (render.c: a syncfs also waits for every other writer's dirty data on the filesystem). */
#define ZG_SYNCFS_MIN 64

/* What a batch cost (zg_render_batch): for the log and the tests. */
typedef struct {
	unsigned fsyncs;  /* of files and of the folder */
	unsigned syncfs;  /* of the zone folder's filesystem: one for the batch's files, or 0 */
	unsigned commits; /* transactions committed: 1, or 0 when the batch failed */
	unsigned renamed; /* files put in place */
} zg_render_batch_stats_t;

/* #17: render the n zones of ids as zg_render_zone would, but together: one REPEATABLE
 * READ snapshot, each zone's temporary file written, then all of them made durable
 * together (one syncfs() of the zone folder's filesystem when there are ZG_SYNCFS_MIN or more;
 * should it fail, an fsync of each file tells which of them failed), the journals
 * updated, every serial committed in one transaction, every file renamed, and the
 * folder fsynced once. The durability argument of zg_render_zone holds per zone: a
 * file is renamed only once its content is durable and its serial committed.
 * Returns RDNS_OK when the batch's transaction committed; then rcs[i] is zone i's
 * outcome as zg_render_zone's (RDNS_OK: res[i] filled; RDNS_ENOTFOUND: deleted;
 * RDNS_EIO, RDNS_EINVAL: failed, nothing of it committed unless the rename failed;
 * RDNS_EAGAIN: render it alone with zg_render_zone). Otherwise nothing was committed
 * and every rcs[i] is the batch's error: RDNS_EAGAIN (a conflict: render them alone),
 * RDNS_EDB (the session), RDNS_ENOMEM. force, alive, hist: as zg_render_zone's. */
int zg_render_batch(db_t *db, const long long *ids, size_t n, const char *zone_dir, bool force,
                    const zg_render_alive_t *alive, const zg_journal_limits_t *hist, zg_render_result_t *res,
                    int *rcs, zg_render_batch_stats_t *st);

/* The serial in the SOA of an rdns zone file; false if unreadable. */
bool zg_render_file_serial(const char *path, uint32_t *serial);

#endif
