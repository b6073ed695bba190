/* writer.h - the files of versions served from the difference (#19) written on a thread of
 * their own, so that rdns-zonegen's loop serves the next change, sends NOTIFY, records
 * outcomes and renders other zones while a large zone's file is copied, hashed and fsynced. */
#ifndef RDNS_ZONEGEN_WRITER_H
#define RDNS_ZONEGEN_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "db/zones.h"
#include "zonegen/zonedb.h"

typedef struct zg_writer zg_writer_t;
typedef struct zg_writer_job zg_writer_job_t;

/* One file to write: zg_incr_write_file(sn, &zp, zone_dir) on the writer's thread, then,
 * when it renamed the file, after(job, arg) there too (post_write_command). The job and
 * what it holds (sn, zp) are the submitter's again once zg_writer_take returns it. */
struct zg_writer_job {
	long long zone_id;
	zg_zonedb_snap_t *sn; /* the overlay version to write, held */
	db_zone_params_t zp;  /* its parameters (the job's own: nobody else frees them meanwhile) */
	char zone_dir[4096];
	char path[4200];                                      /* zone_dir/<name>.zone */
	void (*after)(const zg_writer_job_t *job, void *arg); /* NULL: nothing */
	void *arg;
	/* out, once taken: */
	int rc;             /* zg_incr_write_file's */
	char hash[65];      /* RDNS_OK: the file's content hash */
	long long write_ms; /* the write alone (after() not counted) */
};

/* Start the thread; NULL (logged) when it cannot be started. */
zg_writer_t *zg_writer_new(void);

/* Readable (POLLIN) while a finished job waits to be taken. */
int zg_writer_fd(const zg_writer_t *w);

/* Hand job over. RDNS_OK; RDNS_EAGAIN when a job is in flight or not taken yet (one at a
 * time: files are written one after the other, as the disk would anyway). */
int zg_writer_submit(zg_writer_t *w, zg_writer_job_t *job);

/* The job submitted and not taken yet (in flight or finished); NULL: none. Only its
 * zone_id and zp.name may be read. */
const zg_writer_job_t *zg_writer_current(zg_writer_t *w);

/* The finished job, given back (NULL: none, or still running and !wait); wait: until the
 * job in flight has finished. */
zg_writer_job_t *zg_writer_take(zg_writer_t *w, bool wait);

/* Ask the job in flight to stop: it leaves the file in place as it was (rc RDNS_EAGAIN)
 * unless it has renamed it already. The next submit clears the request. */
void zg_writer_cancel(zg_writer_t *w);

/* Stop the thread (after the job in flight, which is cancelled) and free; a job not taken
 * is left to the caller, who must have taken it. NULL is fine. */
void zg_writer_free(zg_writer_t *w);

#endif
