/* staff.h - the data layer of the staff API: accounts, tokens, allocations, reverse zones, audit log. */
#ifndef RDNS_DB_STAFF_H
#define RDNS_DB_STAFF_H

#include <stdbool.h>
#include <stddef.h>

#include "db/db.h"

/*
 * The functions that return a PGresult return it (the caller PQclear()s it)
 * or NULL with *err set as db_exec() does. Their rows have the column layouts
 * below; every value is text as PostgreSQL prints it, timestamps as ISO 8601
 * UTC ("2026-11-26T19:28:00.123Z"), NULL where the column may be null.
 * None of them opens a transaction.
 *
 * The changes are units of work: each runs in a transaction of its own (BEGIN, the
 * change, its audit entry, COMMIT) and is done by the staff member staff_id /
 * staff_name, whom the audit entry names. On failure the transaction is rolled back
 * before the function returns, so a caller never holds one open. They return RDNS_OK,
 * the codes each documents, or the db_exec() error of the step that failed.
 */

/* Accounts: never any token material. */
enum { DB_ACCT_ID, DB_ACCT_NAME, DB_ACCT_ROLE, DB_ACCT_CREATED_AT };

/* Token metadata (last_used_at, revoked_at may be NULL); never the secret or its hash. */
enum { DB_TOKEN_ID, DB_TOKEN_ACCOUNT_ID, DB_TOKEN_CREATED_AT, DB_TOKEN_LAST_USED_AT, DB_TOKEN_REVOKED_AT };

/* Allocations; prefix as PostgreSQL prints a cidr. */
enum { DB_ALLOC_ID, DB_ALLOC_ACCOUNT_ID, DB_ALLOC_PREFIX, DB_ALLOC_CREATED_AT };

/* Reverse zones. nameservers and notify are JSON arrays of strings,
 * notify_status is JSON, dirty is "t" or "f", records counts the zone's custom
 * PTRs. default_ptr and rendered_at may be NULL. */
enum {
	DB_ZONE_ID,
	DB_ZONE_NAME,
	DB_ZONE_PREFIX,
	DB_ZONE_NAMESERVERS,
	DB_ZONE_DEFAULT_PTR,
	DB_ZONE_NOTIFY,
	DB_ZONE_SOA_MNAME,
	DB_ZONE_SOA_RNAME,
	DB_ZONE_REFRESH,
	DB_ZONE_RETRY,
	DB_ZONE_EXPIRE,
	DB_ZONE_MINIMUM,
	DB_ZONE_TTL,
	DB_ZONE_SERIAL,
	DB_ZONE_DIRTY,
	DB_ZONE_RENDERED_AT,
	DB_ZONE_NOTIFY_STATUS,
	DB_ZONE_CREATED_AT,
	DB_ZONE_UPDATED_AT,
	DB_ZONE_RECORDS,
	DB_ZONE_CLASSLESS_LABEL, /* migration 009 */
};

/* Audit entries; ip is host(ip) or NULL, detail JSON text or NULL. */
enum {
	DB_AUDIT_ID,
	DB_AUDIT_AT,
	DB_AUDIT_ACTOR_ID,
	DB_AUDIT_ACTOR_NAME,
	DB_AUDIT_ACTION,
	DB_AUDIT_IP,
	DB_AUDIT_OBJECT,
	DB_AUDIT_OLD_VALUE,
	DB_AUDIT_NEW_VALUE,
	DB_AUDIT_REQUEST_ID,
	DB_AUDIT_DETAIL,
};

/* Filters of db_staff_audit_list(); 0 / NULL means "any". */
typedef struct {
	const char *ip;      /* exact address (any text PostgreSQL takes as inet) */
	long long actor_id;  /* audit_log.actor_id */
	const char *action;  /* exact action */
	long long before_id; /* only entries with a smaller id (a page cursor) */
	int limit;           /* rows returned, 1 or more */
} db_audit_filter_t;

/* Audit entries matching f, newest (highest id) first, at most f->limit rows. */
PGresult *db_staff_audit_list(db_t *db, const db_audit_filter_t *f, int *err);

/* One account (0 or 1 rows). */
PGresult *db_staff_account_get(db_t *db, long long id, int *err);
/* Filters of db_staff_account_list(); NULL / 0 means "any". */
typedef struct {
	const char *role;     /* "customer" or "staff" */
	const long long *ids; /* only these (n_ids of them, positive; a few hundred at most) */
	size_t n_ids;
	long long after; /* only ids above this one (a page cursor; 0: from the first) */
	int limit;       /* rows returned, 1 or more */
} db_account_filter_t;

/* Accounts matching f by id, at most f->limit rows. */
PGresult *db_staff_account_list(db_t *db, const db_account_filter_t *f, int *err);
/* Accounts whose name begins with prefix (valid UTF-8, not empty), by name in byte order
 * (the C collation), at most limit rows, those after the name after (NULL: from the first). */
PGresult *db_staff_account_search(db_t *db, const char *prefix, const char *after, int limit, int *err);

/* Unit of work: create an account (db_account_create) and audit "account.create"
 * ("account <id>"; new_value audit_new, the JSON text of what was asked). *row: the
 * account, DB_ACCT_* (the caller PQclear()s it; NULL on failure). RDNS_EEXIST when
 * the name is taken. */
int db_staff_account_create(db_t *db, const char *name, const char *role, long long staff_id,
                            const char *staff_name, const char *audit_new, PGresult **row);

/* The tokens of an account, by id (revoked ones included). */
PGresult *db_staff_token_list(db_t *db, long long account_id, int *err);
/* Unit of work: create a token for an account (db_token_create: the text, shown
 * once, goes to token, len bytes) and audit "token.create" ("token <id>", detail
 * {"account": account_id}). RDNS_ENOTFOUND when there is no such account. */
int db_staff_token_create(db_t *db, long long account_id, long long staff_id, const char *staff_name,
                          char *token, size_t len, long long *token_id);
/* Unit of work: revoke a token (revoked_at = now()) and audit "token.revoke" ("token
 * <id>", detail {"account": its account}). RDNS_ENOTFOUND when there is no such token
 * or it is revoked already; RDNS_EDENIED (nothing changed) when it is the last live token
 * of any staff account, which would leave no one able to use the staff API. */
int db_staff_token_revoke(db_t *db, long long id, long long staff_id, const char *staff_name);

/* Unit of work: allocate prefix (cidr text) to an account and audit
 * "allocation.create" ("allocation <id>", new_value prefix, detail {"account":
 * account_id}). *row: the allocation, DB_ALLOC_* (the caller PQclear()s it; NULL on
 * failure). RDNS_ENOTFOUND when there is no such account, RDNS_EEXIST when prefix
 * overlaps another allocation (see db_staff_allocation_overlapping). */
int db_staff_allocation_create(db_t *db, long long account_id, const char *prefix, long long staff_id,
                               const char *staff_name, PGresult **row);
/* Filters of db_staff_allocation_list(); NULL / 0 means "any". */
typedef struct {
	long long account_id; /* the holder */
	const char *ip;       /* only the allocation holding this address (inet text) */
	const char *after;    /* only prefixes after this one (cidr text: a page cursor) */
	int limit;            /* rows returned; 0: all */
} db_alloc_filter_t;

/* Allocations matching f by prefix (IPv4 first), at most f->limit rows. */
PGresult *db_staff_allocation_list(db_t *db, const db_alloc_filter_t *f, int *err);
/* The allocations that overlap prefix, by prefix (at most 20). */
PGresult *db_staff_allocation_overlapping(db_t *db, const char *prefix, int *err);
/* Unit of work: delete an allocation with rdns_allocation_delete(), which resets the
 * custom PTRs inside it, supersedes pending requests and audits. *reset (may be NULL)
 * receives the number of PTRs reset. RDNS_ENOTFOUND when there is no such allocation. */
int db_staff_allocation_delete(db_t *db, long long id, long long staff_id, const char *staff_name,
                               long long *reset);

/* Configuration of a reverse zone as stored. Names are normalised hostnames
 * without the trailing dot; notify entries are "ip:port[@key]" texts. */
typedef struct {
	const char *name;   /* "2.0.192.in-addr.arpa" */
	const char *prefix; /* "192.0.2.0/24" */
	const char *const *nameservers;
	size_t n_nameservers;
	const char *default_ptr; /* template or NULL */
	const char *const *notify;
	size_t n_notify;
	const char *soa_mname, *soa_rname;
	long long refresh, retry, expire, minimum, ttl;
	const char *classless_label; /* "range" or "slash" (migration 009) */
} db_zone_conf_t;

/* What a zone's unit of work asks of its caller, who owns the zone's representation. */
typedef struct {
	/* The audit value of a zone row (row 0, DB_ZONE_* columns): JSON text, malloc()ed,
	 * or NULL (stored as NULL). */
	char *(*value)(const PGresult *zone, void *arg);
	/* db_staff_zone_update only: the new configuration, from the zone's row as stored
	 * and locked, into *conf (whose strings must stay valid until the update returns).
	 * RDNS_OK goes on; any other code rolls back and is returned. */
	int (*change)(const PGresult *zone, db_zone_conf_t *conf, void *arg);
	void *arg;
} db_zone_hooks_t;

/* Unit of work: insert a zone (serial 0), mark it dirty (rdns_zone_touch) and audit
 * "zone.create" ("zone <name>", new_value hooks->value of the zone as stored). *row:
 * the zone, DB_ZONE_* (the caller PQclear()s it; NULL on failure). RDNS_EEXIST when
 * its name exists or its prefix overlaps another zone's (see
 * db_staff_zone_overlapping), RDNS_EINVAL when a CHECK rejects a value. */
int db_staff_zone_create(db_t *db, const db_zone_conf_t *z, long long staff_id, const char *staff_name,
                         const db_zone_hooks_t *hooks, PGresult **row);
/* Unit of work: lock the zone's row (FOR NO KEY UPDATE), replace its configuration by
 * what hooks->change makes of it (name and prefix are not changed), mark it dirty and
 * audit "zone.update" with hooks->value of the row before and after. *after: the zone as
 * changed (the caller PQclear()s it; NULL on failure). RDNS_ENOTFOUND when there is no
 * zone of that name; hooks->change's code when it is not RDNS_OK. */
int db_staff_zone_update(db_t *db, const char *name, long long staff_id, const char *staff_name,
                         const db_zone_hooks_t *hooks, PGresult **after);
/* Unit of work: delete a zone and, by cascade, its custom PTRs. It first waits for the
 * PTR changes in flight and keeps new ones out until it ends (reverse_zones in
 * EXCLUSIVE mode; reads are not blocked), so that no change lands in a zone being
 * deleted. The zone is touched first: its row in zone_changes stays and tells
 * rdns-zonegen to stop serving it. Its pending requests can never be approved: they
 * are superseded. Audits "zone.delete" (old_value hooks->value of the zone, detail
 * {"force", "records", "requests_superseded"}). *records: the zone's custom PTRs.
 * RDNS_ENOTFOUND when there is no such zone; RDNS_EDENIED when it holds custom PTRs
 * and force is false. */
int db_staff_zone_delete(db_t *db, const char *name, bool force, long long staff_id, const char *staff_name,
                         const db_zone_hooks_t *hooks, long long *records);

/* One zone by name (no trailing dot, lower case); 0 or 1 rows. */
PGresult *db_staff_zone_get(db_t *db, const char *name, int *err);
/* A page of zones by prefix (IPv4 first): at most limit zones whose prefix sorts after
 * after (cidr text of the last zone of the page before; NULL: from the first). */
PGresult *db_staff_zone_list(db_t *db, const char *after, int limit, int *err);
/* The zones whose prefix overlaps prefix, as DB_ZONE_* rows, by prefix (at most 20). */
PGresult *db_staff_zone_overlapping(db_t *db, const char *prefix, int *err);

#endif
