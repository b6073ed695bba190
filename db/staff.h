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
 * None of them opens a transaction: the caller brackets a unit of work with
 * db_begin() / db_commit() / db_rollback().
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

/* One audit entry. Every pointer may be NULL (stored as NULL) except
 * action; detail is JSON text. */
typedef struct {
	long long actor_id;
	const char *actor_name;
	const char *action; /* "zone.create" ... */
	const char *ip;     /* an address the entry is about */
	const char *object; /* "zone 2.0.192.in-addr.arpa", "account 5" */
	const char *old_value;
	const char *new_value;
	const char *detail;
} db_audit_t;

/* Append an audit entry (rdns_audit()). RDNS_OK or a db_exec() error. */
int db_staff_audit(db_t *db, const db_audit_t *a);

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
/* All accounts, or those of one role (role NULL: all), by id. */
PGresult *db_staff_account_list(db_t *db, const char *role, int *err);

/* The tokens of an account, by id (revoked ones included). */
PGresult *db_staff_token_list(db_t *db, long long account_id, int *err);
/* Revoke a token (revoked_at = now()); *account_id receives its account.
 * RDNS_ENOTFOUND when there is no such token or it is revoked already. */
int db_staff_token_revoke(db_t *db, long long id, long long *account_id);

/* Insert an allocation (prefix: cidr text); one row. RDNS_EEXIST when it
 * overlaps another allocation, RDNS_ENOTFOUND when the account does not exist. */
PGresult *db_staff_allocation_insert(db_t *db, long long account_id, const char *prefix, int *err);
/* Allocations, of one account (account_id > 0) or all (0), by prefix. */
PGresult *db_staff_allocation_list(db_t *db, long long account_id, int *err);
/* The allocations that overlap prefix, by prefix (at most 20). */
PGresult *db_staff_allocation_overlapping(db_t *db, const char *prefix, int *err);
/* Delete an allocation with rdns_allocation_delete(): resets the custom PTRs
 * inside it, supersedes pending requests, audits as the given staff member.
 * *reset (may be NULL) receives the number of PTRs reset. RDNS_ENOTFOUND when
 * there is no such allocation. */
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
} db_zone_conf_t;

/* Insert a zone (serial 0, dirty). RDNS_EEXIST when its name exists or its
 * prefix overlaps another zone's; RDNS_EINVAL when a CHECK rejects a value. */
int db_staff_zone_insert(db_t *db, const db_zone_conf_t *z, long long *id);
/* Replace a zone's configuration (name and prefix are not changed). */
int db_staff_zone_update(db_t *db, long long id, const db_zone_conf_t *z);
/* Inside a transaction, before reading a zone to delete it: wait for the PTR changes
 * in flight (rdns_ptr_apply) and keep new ones out until the transaction ends, so that
 * no change lands in a zone being deleted. Reads are not blocked. */
int db_staff_zone_lock_writers(db_t *db);
/* Mark the pending requests inside prefix (a zone being deleted) superseded; *closed: how many. */
int db_staff_zone_close_requests(db_t *db, const char *prefix, long long *closed);
/* Delete a zone and, by cascade, its custom PTRs. RDNS_ENOTFOUND if none. Its rows in
 * zone_changes stay: they tell rdns-zonegen to stop serving the zone. */
int db_staff_zone_delete(db_t *db, long long id);
/* rdns_zone_touch(): mark the zone dirty and wake rdns-zonegen at commit. */
int db_staff_zone_touch(db_t *db, long long id);
/* One zone by name (no trailing dot, lower case); 0 or 1 rows. lock: SELECT
 * ... FOR NO KEY UPDATE, for a read-modify-write inside a transaction. (Not FOR
 * UPDATE: that would also hold back the foreign-key checks, FOR KEY SHARE, of new
 * PTR records in the zone while the transaction lasts. A deletion takes the table's
 * EXCLUSIVE lock first, see db_staff_zone_lock_writers.) */
PGresult *db_staff_zone_get(db_t *db, const char *name, bool lock, int *err);
/* All zones, by prefix (IPv4 first). */
PGresult *db_staff_zone_list(db_t *db, int *err);
/* The zones whose prefix overlaps prefix, as DB_ZONE_* rows, by prefix (at most 20). */
PGresult *db_staff_zone_overlapping(db_t *db, const char *prefix, int *err);

#endif
