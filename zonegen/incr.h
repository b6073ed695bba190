/* incr.h - a large zone's PTR changes served from the difference (#19): the changed
 * addresses' records made with the renderer's own code, published as an overlay on the
 * zone file in place, with its IXFR journal entry; the zone file written afterwards. */
#ifndef RDNS_ZONEGEN_INCR_H
#define RDNS_ZONEGEN_INCR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"
#include "db/zones.h"
#include "zonegen/dnssrv.h"
#include "zonegen/journal.h"

/* Most names one overlay holds: past it the file is written before the next change. */
#define ZG_INCR_OVERLAY_MAX 4096

typedef struct {
	char name[80];         /* without trailing dot */
	char path[4096];       /* the zone file */
	uint32_t from, serial; /* the version served before, and now */
	bool changed;          /* a new version is served (else the changes changed no record) */
	size_t names;          /* names replaced by this change */
	size_t deleted, added; /* records of its IXFR difference */
	char notify[2048];     /* the zone's own NOTIFY targets, space separated */
	db_zone_params_t zp;   /* the parameters the version has (zg_incr_write needs them) */
} zg_incr_result_t;

/* Serve the zone's pending changes from the difference, when they all name addresses
 * (at most max_names of them), the zone's parameters are those of the published version
 * (params_fp, zg_render_params_fp) and the published version is the one PostgreSQL has:
 * in one REPEATABLE READ snapshot, each changed address's old and new record (one line or
 * none, core_zonefile_w over that address alone), the journal entry appended, the new
 * serial committed with its content hash NULL (not known until the file is written), the
 * overlay published. RDNS_OK (res->zp then belongs to the caller: db_zone_params_free);
 * RDNS_ERANGE (not for this path: render the zone); RDNS_ENOTFOUND (the zone is gone);
 * RDNS_EAGAIN (a conflict: try again); RDNS_EDB (the session); RDNS_EIO, RDNS_ENOMEM (the
 * serial may be committed and not served: the full render after it picks a newer one). */
int zg_incr_apply(db_t *db, zg_dnssrv_t *srv, long long zone_id, const char *zone_dir, uint64_t params_fp,
                  size_t max_names, const zg_journal_limits_t *hist, zg_incr_result_t *res);

/* Write the file of the zone's published overlay version (the records as served, in our
 * format, the head from zp): the base file's bytes copied, spliced where the overlay's
 * names are (found by binary search: the files are sorted), to a temporary file that is
 * fsynced and renamed over path; store its content hash under its serial; publish the
 * plain file (zg_zonedb_publish_written). RDNS_OK (also
 * when the published version is a plain file already), RDNS_EIO (the file; nothing was
 * replaced), RDNS_EDB, RDNS_ENOMEM. *serial: the version written. On the thread that
 * owns db: zg_incr_write_file and zg_incr_write_done in a row. */
int zg_incr_write(db_t *db, zg_dnssrv_t *srv, long long zone_id, const db_zone_params_t *zp,
                  const char *zone_dir, uint32_t *serial);

/* zg_incr_write's file alone, without PostgreSQL or the server, so that any thread may run
 * it (zonegen/writer.c): the overlay version sn (held by the caller, an overlay: sn->base set)
 * with zp its parameters, written to zone_dir/<name>.zone by temporary file, fsync, rename
 * and the folder's fsync; hash: its content hash (hex). cancel (NULL: never), once set,
 * stops the write within one 256 KiB block, and at the latest just before the rename: the
 * file in place stays as it was. RDNS_OK (renamed), RDNS_EAGAIN (cancelled; nothing
 * replaced), RDNS_EIO (logged; nothing replaced), RDNS_EINVAL (sn is no overlay, a base
 * file that no longer parses), RDNS_ENOMEM. */
int zg_incr_write_file(const zg_zonedb_snap_t *sn, const db_zone_params_t *zp, const char *zone_dir,
                       const atomic_bool *cancel, char hash[65]);

/* After zg_incr_write_file put sn's file at path, on the thread that owns db: store hash
 * under sn's serial (only while that serial is the zone's and has none), and publish the
 * file in sn's place unless a newer version is served already (that one stays as it is:
 * its own file follows). RDNS_OK, RDNS_EDB, RDNS_EIO, RDNS_ENOMEM. */
int zg_incr_write_done(db_t *db, zg_dnssrv_t *srv, long long zone_id, const zg_zonedb_snap_t *sn,
                       const char *zone, const char *path, const char *hash);

#endif
