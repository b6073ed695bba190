/* db.c - libpq connection handling, lazy prepared statements, migrations. */
#include "db.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "db/locks.h"
#include "db/migrations.h"

#define DB_MAX_STMTS 512

struct db {
	char *conninfo;
	const char *session_sql; /* run after each (re)connect, or NULL */
	PGconn *conn;
	bool broken;
	bool pinned;           /* never reconnect inside db_exec */
	unsigned long session; /* bumped at every connect */
	unsigned char prepared[DB_MAX_STMTS];
	char sqlstate[6];
	char errmsg[512];
	char errdetail[1100]; /* the DETAIL of the last error, "" if none */
};

static atomic_int next_slot = 0;

db_t *db_new(const char *conninfo)
{
	db_t *db = calloc(1, sizeof(*db));
	if (!db)
		return NULL;
	db->conninfo = strdup(conninfo ? conninfo : "");
	if (!db->conninfo) {
		free(db);
		return NULL;
	}
	db->broken = true;
	return db;
}

db_t *db_new_like(const db_t *db, const char *session_sql)
{
	db_t *n = db_new(db->conninfo);
	if (n)
		n->session_sql = session_sql;
	return n;
}

void db_free(db_t *db)
{
	if (!db)
		return;
	if (db->conn)
		PQfinish(db->conn);
	free(db->conninfo);
	free(db);
}

PGconn *db_conn(db_t *db)
{
	return db->conn;
}

unsigned long db_session(const db_t *db)
{
	return db->session;
}

void db_set_pinned(db_t *db, bool pinned)
{
	db->pinned = pinned;
}

/* The server's NOTICE and WARNING messages, through our log with a component and time
 * (libpq would print them bare on stderr). */
static void notice_to_log(void *arg, const PGresult *r)
{
	const char *sev = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	int level = sev && (strcmp(sev, "WARNING") == 0) ? LOG_LVL_WARN : LOG_LVL_INFO;
	if (sev && strcmp(sev, "DEBUG") == 0)
		level = LOG_LVL_DEBUG;
	if (level <= log_level())
		log_msg(level, "db: server %s: %s", sev ? sev : "notice", msg ? msg : "");
}

static core_metric_t *m_errors, *m_reconnects;

void db_metrics_set(core_metric_t *errors, core_metric_t *reconnects)
{
	m_errors = errors;
	m_reconnects = reconnects;
}

static void set_error(db_t *db, const char *state, const char *msg)
{
	char cls[3] = "";
	if (state && state[0] && state[1])
		memcpy(cls, state, 2); /* the class bounds the label: two characters */
	core_series_add(core_metric_l1(m_errors, cls), 1);
	snprintf(db->sqlstate, sizeof(db->sqlstate), "%s", state ? state : "");
	snprintf(db->errmsg, sizeof(db->errmsg), "%s", msg ? msg : "");
	db->errdetail[0] = 0;
	size_t n = strlen(db->errmsg);
	while (n && (db->errmsg[n - 1] == '\n' || db->errmsg[n - 1] == ' '))
		db->errmsg[--n] = 0;
}

int db_ensure(db_t *db)
{
	if (db->conn && !db->broken && PQstatus(db->conn) == CONNECTION_OK)
		return RDNS_OK;
	if (db->conn)
		PQfinish(db->conn);
	memset(db->prepared, 0, sizeof(db->prepared));
	db->conn = PQconnectdb(db->conninfo);
	if (!db->conn)
		return RDNS_ENOMEM;
	if (PQstatus(db->conn) != CONNECTION_OK) {
		set_error(db, "08006", PQerrorMessage(db->conn));
		PQfinish(db->conn);
		db->conn = NULL;
		db->broken = true;
		return RDNS_EDB;
	}
	if (db->session)
		core_series_add(core_metric_series(m_reconnects, NULL), 1);
	db->broken = false;
	db->session++;
	PQsetNoticeReceiver(db->conn, notice_to_log, NULL);
	PGresult *r = PQexec(db->conn, "SET application_name = 'rdns'");
	PQclear(r);
	if (db->session_sql) {
		r = PQexec(db->conn, db->session_sql);
		ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
		if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
			set_error(db, r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL,
			          r ? PQresultErrorMessage(r) : PQerrorMessage(db->conn));
			PQclear(r);
			PQfinish(db->conn);
			db->conn = NULL;
			db->broken = true;
			return RDNS_EDB;
		}
		PQclear(r);
	}
	return RDNS_OK;
}

/* Map a failed result to an rdns_err_t and remember the details. */
static int result_error(db_t *db, PGresult *r)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	set_error(db, state, r ? PQresultErrorMessage(r) : PQerrorMessage(db->conn));
	const char *detail = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : NULL;
	snprintf(db->errdetail, sizeof(db->errdetail), "%s", detail ? detail : "");
	if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
		db->broken = true;
		return RDNS_EDB;
	}
	if (!state)
		return RDNS_EDB;
	if (strcmp(state, "23505") == 0 || strcmp(state, "23P01") == 0)
		return RDNS_EEXIST;
	if (strcmp(state, "23503") == 0)
		return RDNS_ENOTFOUND;
	if (strncmp(state, "22", 2) == 0 || strcmp(state, "23514") == 0 || strcmp(state, "23502") == 0)
		return RDNS_EINVAL;
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
		return RDNS_EEXIST; /* serialization failure: a conflicting concurrent change */
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57", 2) == 0 || strncmp(state, "53", 2) == 0) {
		db->broken = true;
		return RDNS_EDB;
	}
	return RDNS_EDB;
}

static PGresult *exec_once(db_t *db, db_stmt_t *st, const char *const *params, int *err)
{
	int slot = atomic_load(&st->slot);
	if (slot < 0) {
		int mine = atomic_fetch_add(&next_slot, 1);
		if (mine >= DB_MAX_STMTS)
			abort(); /* a programming error: raise DB_MAX_STMTS */
		/* A racing thread may have assigned one first: use the winner's. */
		slot = atomic_compare_exchange_strong(&st->slot, &slot, mine) ? mine : slot;
	}
	char name[32];
	snprintf(name, sizeof(name), "s%d", slot);
	if (!db->prepared[slot]) {
		PGresult *p = PQprepare(db->conn, name, st->sql, st->nparams, NULL);
		if (!p || PQresultStatus(p) != PGRES_COMMAND_OK) {
			*err = result_error(db, p);
			if (*err != RDNS_EDB)
				log_err("db: prepare %s failed: %s", st->name, db->errmsg);
			PQclear(p);
			return NULL;
		}
		PQclear(p);
		db->prepared[slot] = 1;
	}
	PGresult *r = PQexecPrepared(db->conn, name, st->nparams, params, NULL, NULL, 0);
	ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK)
		return r;
	*err = result_error(db, r);
	PQclear(r);
	return NULL;
}

PGresult *db_exec(db_t *db, db_stmt_t *st, const char *const *params, int *err)
{
	*err = RDNS_OK;
	if (!db->conn || db->broken) {
		*err = RDNS_EDB;
		return NULL;
	}
	bool idle = PQtransactionStatus(db->conn) == PQTRANS_IDLE;
	PGresult *r = exec_once(db, st, params, err);
	/* A connection that died with the server (restart, failover) only shows it on
	 * first use. Outside a transaction nothing was done: reconnect once and retry. */
	if (!r && *err == RDNS_EDB && idle && !db->pinned &&
	    (!db->conn || PQstatus(db->conn) != CONNECTION_OK) && db_ensure(db) == RDNS_OK)
		r = exec_once(db, st, params, err);
	return r;
}

int db_simple(db_t *db, const char *sql)
{
	if (!db->conn || db->broken)
		return RDNS_EDB;
	PGresult *r = PQexec(db->conn, sql);
	ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	int rc = RDNS_OK;
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
		rc = result_error(db, r);
	PQclear(r);
	return rc;
}

int db_begin(db_t *db)
{
	return db_simple(db, "BEGIN");
}

int db_commit(db_t *db)
{
	return db_simple(db, "COMMIT");
}

void db_rollback(db_t *db)
{
	if (db->conn && !db->broken && PQtransactionStatus(db->conn) != PQTRANS_IDLE)
		(void)db_simple(db, "ROLLBACK");
}

const char *db_last_sqlstate(db_t *db)
{
	return db->sqlstate;
}

const char *db_last_error(db_t *db)
{
	return db->errmsg;
}

const char *db_last_detail(db_t *db)
{
	return db->errdetail;
}

int db_schema_version(db_t *db)
{
	if (db_ensure(db) != RDNS_OK)
		return RDNS_EDB;
	PGresult *r = PQexec(db->conn, "SELECT coalesce(max(version), 0) FROM schema_migrations");
	int v;
	if (PQresultStatus(r) == PGRES_TUPLES_OK)
		v = atoi(PQgetvalue(r, 0, 0));
	else if (strcmp(PQresultErrorField(r, PG_DIAG_SQLSTATE) ? PQresultErrorField(r, PG_DIAG_SQLSTATE)
	                                                        : "",
	                "42P01") == 0)
		v = 0;
	else
		v = result_error(db, r);
	PQclear(r);
	return v;
}

/* Every db/functions file, in order, in the caller's transaction. */
static int apply_functions(db_t *db)
{
	int n = 0;
	for (const db_sql_file_t *f = db_functions; f->name; f++, n++) {
		int rc = db_simple(db, f->sql);
		if (rc != RDNS_OK) {
			log_err("db: function file %03d_%s failed: %s", f->version, f->name, db->errmsg);
			return rc;
		}
	}
	log_debug("db: %d function files applied", n);
	return RDNS_OK;
}

/* The migrations of this program a database lacks: missing[i] for db_migrations[i].
 * Every number, not only those above the newest applied: two branches' migrations can land
 * in either order, and one numbered below a migration already applied must still run. */
static int missing_migrations(db_t *db, bool *missing, size_t n)
{
	PGresult *r = PQexec(db->conn, "SELECT version FROM schema_migrations");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		int rc = result_error(db, r);
		PQclear(r);
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		missing[i] = true;
		for (int k = 0; k < PQntuples(r) && missing[i]; k++)
			missing[i] = atoi(PQgetvalue(r, k, 0)) != db_migrations[i].version;
	}
	PQclear(r);
	return RDNS_OK;
}

int db_migrate(db_t *db, FILE *out)
{
	int rc = db_ensure(db);
	bool *missing = NULL;
	if (rc != RDNS_OK)
		return rc;
	/* One migrator at a time across all processes. */
	rc = db_simple(db, "SELECT pg_advisory_lock(" DB_LOCK_STR(DB_LOCK_MIGRATE) ")");
	if (rc != RDNS_OK)
		return rc;
	int applied = 0;
	rc = db_simple(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
	                   " version integer PRIMARY KEY, name text NOT NULL,"
	                   " applied_at timestamptz NOT NULL DEFAULT now())");
	if (rc != RDNS_OK)
		goto cleanup;
	int have = db_schema_version(db);
	if (have < 0) {
		rc = have;
		goto cleanup;
	}
	int newest = 0;
	size_t n_mig = 0;
	for (const db_sql_file_t *m = db_migrations; m->name; m++, n_mig++)
		newest = m->version;
	if (have > newest) {
		/* A newer binary's schema: its functions are newer than ours too. */
		log_warn("db: the schema (version %d) is newer than this program's (%d): left alone", have,
		         newest);
		rc = 0;
		goto cleanup;
	}
	if ((missing = calloc(n_mig + 1, sizeof(*missing))) == NULL) {
		rc = RDNS_ENOMEM;
		goto cleanup;
	}
	if ((rc = missing_migrations(db, missing, n_mig)) != RDNS_OK)
		goto cleanup;
	size_t last = n_mig; /* the last one to apply: it commits with the current functions */
	for (size_t i = 0; i < n_mig; i++)
		if (missing[i])
			last = i;
	for (size_t i = 0; i < n_mig; i++) {
		const db_sql_file_t *m = &db_migrations[i];
		if (!missing[i])
			continue;
		if (m->version < have)
			log_warn("db: migration %03d_%s was never applied, though %d was: applying it now",
			         m->version, m->name, have);
		if ((rc = db_begin(db)) != RDNS_OK)
			goto cleanup;
		if ((rc = db_simple(db, m->sql)) != RDNS_OK) {
			log_err("db: migration %03d_%s failed: %s", m->version, m->name, db->errmsg);
			db_rollback(db);
			goto cleanup;
		}
		char ver[16];
		snprintf(ver, sizeof(ver), "%d", m->version);
		const char *params[2] = {ver, m->name};
		PGresult *r =
		    PQexecParams(db->conn, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", 2,
		                 NULL, params, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			rc = result_error(db, r);
			PQclear(r);
			db_rollback(db);
			goto cleanup;
		}
		PQclear(r);
		/* The last schema change commits with the current functions: no session sees
		 * it with a migration's older function bodies. */
		if (i == last && (rc = apply_functions(db)) != RDNS_OK) {
			db_rollback(db);
			goto cleanup;
		}
		if ((rc = db_commit(db)) != RDNS_OK)
			goto cleanup;
		if (out)
			fprintf(out, "migrate: applied %03d_%s\n", m->version, m->name);
		applied++;
	}
	if (applied == 0) {
		/* Up to date: the functions again, which a changed function file needs. */
		if ((rc = db_begin(db)) != RDNS_OK)
			goto cleanup;
		if ((rc = apply_functions(db)) != RDNS_OK) {
			db_rollback(db);
			goto cleanup;
		}
		if ((rc = db_commit(db)) != RDNS_OK)
			goto cleanup;
	}
	rc = applied;
cleanup:
	free(missing);
	if (db->conn && !db->broken)
		(void)db_simple(db, "SELECT pg_advisory_unlock(" DB_LOCK_STR(DB_LOCK_MIGRATE) ")");
	return rc;
}

void db_array_elem(core_strbuf_t *a, size_t i, const char *v)
{
	core_strbuf_put(a, i ? "," : "{", 1);
	if (!v) {
		core_strbuf_put(a, "NULL", 4);
		return;
	}
	core_strbuf_put(a, "\"", 1);
	for (const char *s = v; *s;) {
		size_t run = strcspn(s, "\"\\");
		core_strbuf_put(a, s, run);
		s += run;
		if (*s) {
			char esc[2] = {'\\', *s++};
			core_strbuf_put(a, esc, 2);
		}
	}
	core_strbuf_put(a, "\"", 1);
}
