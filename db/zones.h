/* zones.h - rdns-zonegen's data layer: a zone's parameters and records from one
 * snapshot, the render's outcome. */
#ifndef RDNS_DB_ZONES_H
#define RDNS_DB_ZONES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "db/db.h"

/* The NS names of a zone that db_zone_params() splits out; more are ignored. */
#define DB_ZONE_MAX_NS 16

/*
 * A render runs in one REPEATABLE READ transaction: db_zone_render_begin(),
 * db_zone_params(), db_zone_records(), then db_zone_render_commit(), or
 * db_rollback(). RDNS_EAGAIN from these: a concurrent transaction conflicted
 * (serialization failure, deadlock); roll back and render again.
 */
int db_zone_render_begin(db_t *db);

/* A zone's parameters as the render's snapshot sees them. The strings belong to the
 * struct: db_zone_params_free(). */
typedef struct {
	const char *name;        /* no trailing dot */
	const char *prefix;      /* the cidr as PostgreSQL prints it */
	const char *nameservers; /* the text[] as PostgreSQL prints it, "{a,b}" (the content hash has it) */
	const char *ns[DB_ZONE_MAX_NS]; /* the same names, split */
	size_t n_ns;
	const char *default_ptr; /* template, "" if none */
	const char *notify;      /* the zone's own NOTIFY targets, space separated */
	const char *soa_mname, *soa_rname;
	uint32_t refresh, retry, expire, minimum, ttl;
	uint32_t serial;          /* the serial in place */
	const char *content_hash; /* hex SHA-256 of the last rendered content, "" if none */
	long long last_seq;       /* the newest change this snapshot sees (0: none) */
	char *text_;              /* owns the strings */
} db_zone_params_t;

/* RDNS_OK (*zp filled), RDNS_ENOTFOUND (no such zone), RDNS_ENOMEM, RDNS_EAGAIN or a
 * db_exec() error. *zp is zeroed first, so db_zone_params_free() may always follow. */
int db_zone_params(db_t *db, long long id, db_zone_params_t *zp);
void db_zone_params_free(db_zone_params_t *zp);

/* Called for each of a zone's records, in address order; host is not NUL-terminated.
 * Anything but RDNS_OK stops the stream (what is left is read and dropped) and is
 * what db_zone_records() returns. */
typedef int (*db_zone_record_fn)(void *arg, const core_addr_t *ip, const char *host, size_t host_len);

/* Stream the zone's records (COPY, binary: memory stays flat however many there are)
 * to fn. RDNS_OK, fn's error, or RDNS_EDB (the COPY failed or its data is malformed). */
int db_zone_records(db_t *db, long long id, db_zone_record_fn fn, void *arg);

/* Record the render (serial, content hash, rendered_at), mark the changes up to
 * last_seq rendered, and COMMIT. A change committed after the snapshot keeps the zone
 * dirty. RDNS_OK, RDNS_EAGAIN or a db_exec() error. */
int db_zone_render_commit(db_t *db, long long id, uint32_t serial, const char *content_hash,
                          long long last_seq);

#endif
