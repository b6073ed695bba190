/* zones.h - rdns-zonegen's data layer: the zones to render, a zone's parameters and
 * records from one snapshot, the render's outcome, NOTIFY outcomes, the leader's session. */
#ifndef RDNS_DB_ZONES_H
#define RDNS_DB_ZONES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "db/db.h"

/* The NS names of a zone that db_zone_params() splits out; more are ignored. */
#define DB_ZONE_MAX_NS 16

/* One zone of a list: its id and, in db_zones_all()'s list, its name (no trailing dot). */
typedef struct {
	long long id;
	const char *name; /* NULL in db_zones_dirty()'s list */
} db_zone_ref_t;

typedef struct {
	db_zone_ref_t *v; /* one allocation, names included */
	size_t n;
} db_zone_list_t;

/*
 * The zones to render and what becomes of them. These run through db_exec(), so a
 * connection found dead outside a transaction is reconnected once.
 */

/* Every zone, by id. RDNS_OK, RDNS_ENOMEM or a db_exec() error. */
int db_zones_all(db_t *db, db_zone_list_t *l);
/* The zones with changes not rendered yet, by id; a zone deleted since is among them
 * (its deletion leaves a change row: db_zone_forget()). */
int db_zones_dirty(db_t *db, db_zone_list_t *l);
/* Accepts NULL and what a failed db_zones_all() or db_zones_dirty() leaves. */
void db_zone_list_free(db_zone_list_t *l);

/* Whether any of ids ("1,2,3": decimal zone ids) has changes not rendered (writers
 * notify only when a zone becomes dirty, so a change committed while a render ran may
 * have sent no notification). false on error too. */
bool db_zones_any_dirty(db_t *db, const char *ids);

/* The ids of the transactions in progress now, "1,2,3" ("" when none), malloc'd into
 * *xids. RDNS_OK, RDNS_EDB, RDNS_ENOMEM. */
int db_zones_xids_in_progress(db_t *db, char **xids);

/* Whether any transaction of xids (from db_zones_xids_in_progress) is still in
 * progress. RDNS_OK or RDNS_EDB. */
int db_zones_xids_running(db_t *db, const char *xids, bool *running);

/* Delete the change rows of a zone that no longer exists (none while it does). */
int db_zone_forget(db_t *db, long long id);

/* Merge a NOTIFY outcome into a zone's notify_status for GET /v1/zones/{name}; name
 * without the trailing dot. json: {"serial", "at", "done": {target: result},
 * "keep": {target: result}}. The status becomes {"serial", "at", "targets"} where
 * "targets" holds the done results, then for each target in keep its previous entry
 * (the last known outcome of a superseded attempt, or a result recorded before) or
 * else the result given; targets in neither are dropped (no longer configured). */
int db_zone_merge_notify_status(db_t *db, const char *name, const char *json);

/*
 * A render runs in one REPEATABLE READ transaction: db_zone_render_begin(),
 * db_zone_params(), db_zone_records(), then db_zone_render_commit(), or
 * db_rollback(). RDNS_EAGAIN from any of them but db_zone_records(): a concurrent
 * transaction conflicted (serialization failure, deadlock); roll back and render again.
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
	bool delegated;           /* the zone has delegations (db_zone_delegations) */
	char *text_;              /* owns the strings */
} db_zone_params_t;

/* RDNS_OK (*zp filled), RDNS_ENOTFOUND (no such zone), RDNS_ENOMEM, RDNS_EAGAIN or a
 * db_exec() error. *zp is zeroed first, so db_zone_params_free() may always follow. */
int db_zone_params(db_t *db, long long id, db_zone_params_t *zp);
void db_zone_params_free(db_zone_params_t *zp);

/* #17: db_zone_params for the n zones of ids in one statement: zp[i] and rcs[i] for ids[i],
 * RDNS_OK or RDNS_ENOTFOUND (each zp[i] zeroed first: db_zone_params_free may always
 * follow). RDNS_OK, RDNS_ENOMEM, RDNS_EAGAIN or a db_exec() error (then the rcs[i] that
 * are not RDNS_OK say nothing). */
int db_zone_params_many(db_t *db, const long long *ids, size_t n, db_zone_params_t *zp, int *rcs);

/* "{1,2,3}": the PostgreSQL array literal of n zone ids, malloc'd; NULL: no memory. */
char *db_zone_ids_lit(const long long *ids, size_t n);

/* Called for each of a zone's records, in address order; host is not NUL-terminated.
 * Anything but RDNS_OK stops the stream (what is left is read and dropped) and is
 * what db_zone_records() returns. */
typedef int (*db_zone_record_fn)(void *arg, const core_addr_t *ip, const char *host, size_t host_len);

/* Stream the zone's records (COPY, binary: memory stays flat however many there are)
 * to fn. RDNS_OK, fn's error, or RDNS_EDB (the COPY failed or its data is malformed). */
int db_zone_records(db_t *db, long long id, db_zone_record_fn fn, void *arg);

/* #17: as db_zone_record_fn, with the zone the record belongs to. */
typedef int (*db_zone_records_fn)(void *arg, long long zone_id, const core_addr_t *ip, const char *host,
                                  size_t host_len);

/* The records of the n zones of ids in one COPY: zone by zone in the order of ids, each
 * zone's in address order (a zone without records has none in the stream). As
 * db_zone_records otherwise. */
int db_zone_records_many(db_t *db, const long long *ids, size_t n, db_zone_records_fn fn, void *arg);

/* Record the render (serial, content hash ("": NULL, not known yet), rendered_at), mark the changes up to
 * last_seq rendered, and COMMIT. A change committed after the snapshot keeps the zone
 * dirty. RDNS_OK, RDNS_EAGAIN or a db_exec() error. */
int db_zone_render_commit(db_t *db, long long id, uint32_t serial, const char *content_hash,
                          long long last_seq);

/* #17: one zone of a batch rendered in one transaction, as db_zone_render_commit takes it. */
typedef struct {
	long long id;
	uint32_t serial;
	const char *content_hash; /* hex, "": NULL (not known yet) */
	long long last_seq;
} db_zone_done_t;

/* db_zone_render_commit for the n zones of v in one statement, then COMMIT (n == 0: the
 * COMMIT only). RDNS_OK, RDNS_EAGAIN, RDNS_ENOMEM or a db_exec() error. */
int db_zone_render_commit_many(db_t *db, const db_zone_done_t *v, size_t n);

/* #19: one address's change as the render's snapshot sees it (migration 010). */
typedef struct {
	core_addr_t ip;
	char *old_hostname; /* its custom PTR in the published version; NULL: none */
	char *hostname;     /* its custom PTR now; NULL: none */
} db_zone_addr_change_t;

/* In the render's transaction, after db_zone_params(): the addresses of the zone's
 * changes up to last_seq, in address order. RDNS_ERANGE when there is none, more
 * than max, or a change that names no address (a full render is needed); RDNS_OK with
 * *out (db_zone_addr_changes_free) and *n; RDNS_EAGAIN, RDNS_ENOMEM, RDNS_EDB. */
int db_zone_changed_addrs(db_t *db, long long id, long long last_seq, size_t max, db_zone_addr_change_t **out,
                          size_t *n);
void db_zone_addr_changes_free(db_zone_addr_change_t *v, size_t n);

/* The content hash of the version at serial, written once its file is (content_hash is
 * NULL until then: db_zone_render_commit with ""). No change when the serial moved on.
 * Outside a transaction. RDNS_OK or a db_exec() error. */
int db_zone_store_hash(db_t *db, long long id, uint32_t serial, const char *content_hash);

/*
 * The leader's session. These run on the connection as it is and never reconnect: the
 * LISTEN and the advisory lock belong to one PostgreSQL session.
 */

/* LISTEN rdns_changes, which writers notify when a zone becomes dirty. */
int db_zones_listen(db_t *db);
/* Try to take rdns-zonegen's leader lock (an advisory lock); whether it was taken. */
bool db_zones_leader_try_lock(db_t *db);
/* Set the session's lock_timeout to 60 s and wait that long at most for the leader lock. */
int db_zones_leader_lock(db_t *db);
/* Run a trivial statement: after the socket failed, db notices a dead connection this
 * way, and db_ensure() then reconnects. */
int db_zones_ping(db_t *db);

/* Whether the backend with process id pid holds the leader lock right now, asked on
 * another session (rdns-zonegen's lease thread proves its leader session alive while
 * that session is busy). *held gets the answer. RDNS_OK or RDNS_EDB. */
int db_zones_leader_held_by(db_t *db, int pid, bool *held);

#endif
