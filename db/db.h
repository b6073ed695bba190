/* db.h - the libpq data layer shared by rdns-api and rdns-zonegen: connections,
 * lazily prepared statements, transactions, migrations. */
#ifndef RDNS_DB_DB_H
#define RDNS_DB_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/metrics.h"
#include "core/strbuf.h"
#include "db/locks.h" /* the advisory-lock keys, for every user of the database */

/* A statement prepared on first use on each connection. Declare with
 * DB_STMT(name, "SELECT ... $1 ...", nparams) at file scope. */
typedef struct {
	const char *name;
	const char *sql;
	int nparams;
	_Atomic int slot; /* assigned on first use, process-wide */
} db_stmt_t;

#define DB_STMT(var, sqltext, n) static db_stmt_t var = {#var, sqltext, n, -1}

typedef struct db db_t;

/* Connect (conninfo: libpq conninfo or URI; "" for libpq defaults). The
 * handle is returned even when the server is down: db_ensure() reconnects.
 * NULL only on out-of-memory. Not thread-safe: one db_t per thread. */
/* Counters the daemon gives the data layer (core/metrics; NULL: none): errors is a
 * counter with one label, the SQLSTATE class ("08": connection failures too);
 * reconnects counts sessions made again after one was lost. */
void db_metrics_set(core_metric_t *errors, core_metric_t *reconnects);

db_t *db_new(const char *conninfo);
void db_free(db_t *db);

/* A new handle on db's server, not connected yet, that runs session_sql (a static
 * string, or NULL) after each (re)connect, e.g. "SET plan_cache_mode = ...". */
db_t *db_new_like(const db_t *db, const char *session_sql);

/* Make sure the connection is usable, reconnecting when it is not.
 * RDNS_OK or RDNS_EDB. Prepared statements are re-prepared after a reconnect. */
int db_ensure(db_t *db);
PGconn *db_conn(db_t *db);

/* Which session the handle is on: a number that changes with every (re)connect,
 * 0 before the first. State that lives in a session (advisory locks, LISTEN)
 * belongs to the number it was taken under. */
unsigned long db_session(const db_t *db);

/* A pinned handle never reconnects by itself: db_exec() does not retry a
 * statement on a new session after a lost connection, it fails with RDNS_EDB,
 * and only an explicit db_ensure() opens a new session. For the holder of a
 * session's state (rdns-zonegen's leader lock and LISTEN). */
void db_set_pinned(db_t *db, bool pinned);

/* Execute a prepared statement. Returns the result (PGRES_TUPLES_OK or
 * PGRES_COMMAND_OK) or NULL with *err set: RDNS_EDB (connection or server
 * failure: the connection is marked for reconnect; outside a transaction an
 * unpinned handle reconnects and retries once), RDNS_EEXIST (unique or
 * exclusion violation), RDNS_ENOTFOUND (foreign key violation), RDNS_EINVAL
 * (check violation or bad value). The SQLSTATE and message are kept for
 * db_last_error(). */
PGresult *db_exec(db_t *db, db_stmt_t *st, const char *const *params, int *err);

/* Plain SQL without parameters (BEGIN, COMMIT, LISTEN ...). RDNS_OK or error as above. */
int db_simple(db_t *db, const char *sql);

int db_begin(db_t *db);  /* BEGIN */
int db_commit(db_t *db); /* COMMIT */
void db_rollback(db_t *db);

/* The last error's SQLSTATE ("" if none), message, and DETAIL ("" if none: set by
 * statements that failed on the server, e.g. RAISE ... USING DETAIL). */
const char *db_last_sqlstate(db_t *db);
const char *db_last_error(db_t *db);
const char *db_last_detail(db_t *db);

/* Apply pending migrations (each in its own transaction, serialised by an
 * advisory lock), then every db/functions file: in the newest migration's
 * transaction, or in one of their own when the schema was up to date already.
 * A schema newer than this program's is left alone, functions included. Prints
 * one line per applied migration to out (may be NULL). Returns the number of
 * migrations applied (>= 0) or a negative rdns_err_t. */
int db_migrate(db_t *db, FILE *out);

/* Schema version currently applied (0 if none), or a negative rdns_err_t. */
int db_schema_version(db_t *db);

/* Append element i (NULL: SQL NULL) to the array literal a being built ("{" before the
 * first; the caller closes it with "}"): quoted, with '"' and '\' escaped, so any text
 * round-trips. For array parameters of batch statements. */
void db_array_elem(core_strbuf_t *a, size_t i, const char *v);

/* Helpers for result fields. */
static inline const char *db_val(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

/* The item a row of a batch statement answers: column 0 is its 1-based position among
 * the statement's n items (WITH ORDINALITY); its 0-based index, or -1 when out of range. */
static inline long db_row_item(const PGresult *r, int row, size_t n)
{
	long long i = atoll(PQgetvalue(r, row, 0));
	return i >= 1 && (size_t)i <= n ? (long)(i - 1) : -1;
}

#endif
