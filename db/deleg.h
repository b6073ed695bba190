/* deleg.h - reverse delegations in PostgreSQL: the API's reads and units of work, and the
 * delegations of a zone for rdns-zonegen's render. */
#ifndef RDNS_DB_DELEG_H
#define RDNS_DB_DELEG_H

#include <stdbool.h>
#include <stddef.h>

#include "db/db.h"

/* What the database knows about a prefix that is to be delegated. */
typedef struct {
	bool in_zone;            /* some reverse zone strictly contains the prefix */
	char zone[80];           /* its name, no trailing dot */
	char zone_prefix[50];    /* the cidr as PostgreSQL prints it */
	char classless_label[8]; /* "range" or "slash" */
	long long holder;        /* account of the allocation holding the whole prefix, 0: none */
	bool exists;             /* the prefix is delegated now */
	long long account;       /* the delegation's account (0: none) */
	char overlapping[50];    /* another delegation that overlaps it, "" if none */
	long long overlapping_acct;
} db_deleg_ctx_t;

/* Look a prefix (canonical cidr text) up. RDNS_OK or a db_exec() error. */
int db_deleg_context(db_t *db, const char *prefix, db_deleg_ctx_t *ctx);

/* The columns of the rows below. ns and checks are JSON text; account may be NULL. */
enum {
	DB_DELEG_PREFIX,
	DB_DELEG_ZONE,
	DB_DELEG_ACCOUNT,
	DB_DELEG_NS,
	DB_DELEG_LABEL,
	DB_DELEG_FORCED,
	DB_DELEG_CHECKS,
	DB_DELEG_CREATED_AT,
	DB_DELEG_UPDATED_AT,
	/* its last lame-delegation check (delegation_checks, migration 013): NULL if none */
	DB_DELEG_STATE,       /* pass or lame */
	DB_DELEG_LAST_CHECKS, /* the findings, JSON text */
	DB_DELEG_CHECKED_AT,
	DB_DELEG_LAME_SINCE, /* NULL unless lame */
};

/* One delegation by prefix, visible to account (0: staff, any); 0 or 1 rows. */
PGresult *db_deleg_get(db_t *db, const char *prefix, long long account, int *err);
/* The delegations visible to account (0: all), by prefix, those after after (NULL: from
 * the start), in state state ("pass", "lame"; NULL: any), at most limit + 1 rows (the last
 * tells that there is a next page). */
PGresult *db_deleg_list(db_t *db, long long account, const char *after, const char *state, int limit,
                        int *err);

/* Create or replace the delegation of prefix (rdns_delegation_put: zone change mark,
 * audit). ns: a PostgreSQL text[] literal; owner 0: staff. RDNS_OK (*created), RDNS_ENOTFOUND
 * (not in a zone or not the owner's), RDNS_EEXIST (overlaps another delegation). */
int db_deleg_put(db_t *db, const char *prefix, const char *ns, long long owner, long long actor,
                 const char *actor_name, bool forced, const char *checks_json, bool *created);

/* Remove the delegation of prefix (rdns_delegation_delete). RDNS_OK or RDNS_ENOTFOUND. */
int db_deleg_delete(db_t *db, const char *prefix, long long owner, long long actor, const char *actor_name);

/* A delegation as the apply functions name one (db/functions/050 ... 230: 'RDDLG' and its
 * DETAIL, or o_delegation): "<prefix> <ns>, <ns>". */
typedef struct {
	char prefix[50];
	char ns[1024]; /* ", "-separated */
} db_deleg_ref_t;

/* Split that text into *out (text NULL: both ""). */
void db_deleg_ref_parse(const char *text, db_deleg_ref_t *out);

/* A PostgreSQL text[] literal of v: {"a","b"} with '"' and '\' escaped. Free with free(). */
char *db_text_array(const char *const *v, size_t n);

/* rdns-zonegen: the delegations of a zone in the render's snapshot, by prefix: columns
 * prefix, nameservers (text[] as PostgreSQL prints it), the zone's classless_label. */
PGresult *db_zone_delegations(db_t *db, long long zone_id, int *err);

/* #17: the delegations of the zones of ids_lit ("{1,2,3}", db_zone_ids_lit) in one
 * statement, by zone and prefix: db_zone_delegations' columns and then the zone's id. */
PGresult *db_zones_delegations(db_t *db, const char *ids_lit, int *err);

#endif
