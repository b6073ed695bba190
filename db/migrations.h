/* migrations.h - the SQL migrations embedded in the binaries at build time. */
#ifndef RDNS_DB_MIGRATIONS_H
#define RDNS_DB_MIGRATIONS_H

typedef struct {
	int version;      /* NNN of NNN_name.sql; 0 ends the table */
	const char *name; /* name part */
	const char *sql;  /* whole file */
} db_migration_t;

extern const db_migration_t db_migrations[];

#endif
