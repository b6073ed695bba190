/* migrations.h - the SQL embedded in the binaries at build time: the schema migrations
 * (db/migrations/NNN_name.sql) and the functions (db/functions/NNN_name.sql). */
#ifndef RDNS_DB_MIGRATIONS_H
#define RDNS_DB_MIGRATIONS_H

typedef struct {
	int version;      /* NNN of NNN_name.sql; 0 ends the table */
	const char *name; /* name part */
	const char *sql;  /* whole file */
} db_sql_file_t;

/* The history of the schema, version NNN applied once, in order. A released
 * migration is never edited: a database at any version upgrades through the same
 * files as a fresh one. Functions they define are history too. */
extern const db_sql_file_t db_migrations[];

/* The current definition of every function and trigger function, one per file
 * (CREATE OR REPLACE, idempotent), applied in NNN order by db_migrate() after the
 * migrations, every time it runs. See db/functions/README.md. */
extern const db_sql_file_t db_functions[];

#endif
