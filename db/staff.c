/* staff.c - SQL and units of work of the staff API: accounts, tokens, allocations, reverse zones, audit log.
 */
#include "staff.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/revname.h"
#include "core/text.h"
#include "db/accounts.h"

/* A timestamptz as ISO 8601 UTC text with milliseconds. */
#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

#define ACCT_COLS  "a.id, a.name, a.role, " TS("a.created_at")
#define TOKEN_COLS "t.id, t.account_id, " TS("t.created_at") ", " TS("t.last_used_at") ", " TS("t.revoked_at")
#define ALLOC_COLS "l.id, l.account_id, l.prefix, " TS("l.created_at")
#define ZONE_COLS                                                                                            \
	"z.id, z.name, z.prefix, array_to_json(z.nameservers)::text, z.default_ptr,"                         \
	" array_to_json(z.notify)::text, z.soa_mname, z.soa_rname, z.soa_refresh, z.soa_retry,"              \
	" z.soa_expire, z.soa_minimum, z.ttl, z.serial, rdns_zone_pending(z.id), " ZONE_TIMES ","            \
	" " ZONE_RECORDS ", z.classless_label"
/* dirty: rdns_zone_pending(), an index probe whatever the plan (an EXISTS was hashed over
 * all of zone_changes, a sequential scan of the backlog per listing). records: the zone's
 * custom PTRs, the sum of its rows of zone_record_counts (migration 014), a few rows, where
 * a count(*) read every record of the zone. */
#define ZONE_RECORDS "(SELECT coalesce(sum(c.records), 0) FROM zone_record_counts c WHERE c.zone_id = z.id)"
#define ZONE_TIMES   TS("z.rendered_at") ", z.notify_status::text, " TS("z.created_at") ", " TS("z.updated_at")
#define AUDIT_COLS                                                                                           \
	"g.id, " AUDIT_AT ", g.actor_id, g.actor_name, g.action, host(g.ip), g.object, g.old_value,"         \
	" g.new_value, g.request_id, g.detail::text"
#define AUDIT_AT TS("g.at")

DB_STMT(st_audit, "SELECT rdns_audit($1, $2, $3, $4, $5, $6, $7, NULL, $8)", 8);
/* One statement per filter, each on its own index of migration 014, (filter, id), with the
 * cursor ($n: the id to stay below, INT64_MAX for the first page) in the index condition: a
 * page reads about a heap page per entry, however rare the filter and deep the page. (One
 * statement with "$n IS NULL OR ..." filters has a generic plan that walks the whole log
 * backwards for a rare action: all 2,476 pages of the log at 1/20 of the provider profile
 * for an empty page.) An address's history is short: by address, the other filters are filters.
 * The action is a column of a few values: "action = $n ORDER BY id" has a generic plan that
 * takes the primary key backwards with a filter (it reckons a tenth of the log matches), 3,079
 * pages for an action with no entry; written as the row comparison below, only the
 * (..., action, id) index gives the order asked, and it is taken. */
#define BY_ACTION(action, before)                                                                            \
	"(g.action, g.id) < (" action "::text, " before "::bigint) AND g.action >= " action "::text"
DB_STMT(st_audit_by_ip,
        "SELECT " AUDIT_COLS " FROM audit_log g WHERE g.ip = $1::inet AND g.id < $4::bigint"
        " AND ($2::bigint IS NULL OR g.actor_id = $2) AND ($3::text IS NULL OR g.action = $3)"
        " ORDER BY g.id DESC LIMIT $5",
        5);
DB_STMT(st_audit_by_actor,
        "SELECT " AUDIT_COLS " FROM audit_log g WHERE g.actor_id = $1 AND g.id < $2::bigint"
        " ORDER BY g.id DESC LIMIT $3",
        3);
/* clang-format off */
DB_STMT(st_audit_by_actor_action,
        "SELECT " AUDIT_COLS " FROM audit_log g WHERE g.actor_id = $1 AND " BY_ACTION("$2", "$3")
        " ORDER BY g.action DESC, g.id DESC LIMIT $4",
        4);
DB_STMT(st_audit_by_action,
        "SELECT " AUDIT_COLS " FROM audit_log g WHERE " BY_ACTION("$1", "$2")
        " ORDER BY g.action DESC, g.id DESC LIMIT $3",
        3);
/* clang-format on */
DB_STMT(st_audit_all,
        "SELECT " AUDIT_COLS " FROM audit_log g WHERE g.id < $1::bigint ORDER BY g.id DESC LIMIT $2", 2);

DB_STMT(st_account_get, "SELECT " ACCT_COLS " FROM accounts a WHERE a.id = $1", 1);
/* Pages of accounts (GET /v1/accounts), one statement per filter on its index with the cursor
 * in the index condition: by id (the primary key, $n the id to stay above, 0 for the first
 * page), by role and id (migration 016), a list of ids (the panel's names of the accounts on
 * its screen: a probe each), by name in the C collation from a prefix (migration 016: $1 the
 * prefix, $2 the end of its range, core_text_prefix_end; $n the name to stay above, '' for the
 * first page). */
DB_STMT(st_account_list,
        "SELECT " ACCT_COLS " FROM accounts a WHERE a.id > $1::bigint ORDER BY a.id LIMIT $2", 2);
/* (the row comparison, as BY_ACTION above: "role = $1 ... ORDER BY id" had a generic plan
 * that walked the primary key with a filter, all 10,000 accounts at 1/20 of the profile, 113
 * pages, for an empty page of staff accounts) */
DB_STMT(st_account_list_role,
        "SELECT " ACCT_COLS
        " FROM accounts a WHERE (a.role, a.id) > ($1::text, $2::bigint) AND a.role <= $1::text"
        " ORDER BY a.role, a.id LIMIT $3",
        3);
DB_STMT(st_account_list_ids,
        "SELECT " ACCT_COLS " FROM accounts a WHERE a.id = ANY ($1::bigint[]) AND a.id > $2::bigint"
        " AND ($3::text IS NULL OR a.role = $3) ORDER BY a.id LIMIT $4",
        4);
#define NAME_C "a.name COLLATE \"C\""
DB_STMT(st_account_search,
        "SELECT " ACCT_COLS " FROM accounts a WHERE " NAME_C " >= $1::text AND " NAME_C " < $2::text"
        " AND " NAME_C " > $3::text ORDER BY " NAME_C " LIMIT $4",
        4);
/* a prefix whose range has no end (all U+10FFFF): every name from it on begins with it */
DB_STMT(st_account_search_open,
        "SELECT " ACCT_COLS " FROM accounts a WHERE " NAME_C " >= $1::text AND " NAME_C " > $2::text"
        " ORDER BY " NAME_C " LIMIT $3",
        3);

DB_STMT(st_token_list, "SELECT " TOKEN_COLS " FROM api_tokens t WHERE t.account_id = $1 ORDER BY t.id", 1);
/* Revocations of staff tokens one at a time: each sees the others' commits before it
 * counts the live staff tokens, so two at once cannot both leave the other as the last. */
DB_STMT(st_staff_lock, "SELECT id FROM accounts WHERE role = 'staff' ORDER BY id FOR NO KEY UPDATE", 0);
/* The token's account, and whether it was the last live token of any staff account. */
DB_STMT(st_token_revoke,
        "UPDATE api_tokens t SET revoked_at = now() FROM accounts a"
        " WHERE t.id = $1 AND t.revoked_at IS NULL AND a.id = t.account_id"
        " RETURNING t.account_id, a.role = 'staff' AND NOT EXISTS (SELECT 1 FROM api_tokens o"
        " JOIN accounts oa ON oa.id = o.account_id WHERE oa.role = 'staff' AND o.revoked_at IS NULL"
        " AND o.id <> t.id)",
        1);

DB_STMT(st_alloc_insert,
        "INSERT INTO allocations AS l (account_id, prefix) VALUES ($1, $2) RETURNING " ALLOC_COLS, 2);
/* Pages of allocations by prefix (GET /v1/allocations) from the cursor (the last prefix of the
 * page before), one statement per filter on its index: all (allocations_prefix), an
 * account's (allocations_account, (account_id, prefix)); a first page has a statement of its
 * own, as no cidr sorts before 0.0.0.0/0, which may be allocated. LIMIT NULL is no limit. The
 * allocation holding an address is a floor lookup (db/floor.h), one row at most, which the
 * other filters then filter. */
DB_STMT(st_alloc_list_first, "SELECT " ALLOC_COLS " FROM allocations l ORDER BY l.prefix LIMIT $1", 1);
DB_STMT(st_alloc_list,
        "SELECT " ALLOC_COLS " FROM allocations l WHERE l.prefix > $1::cidr ORDER BY l.prefix LIMIT $2", 2);
DB_STMT(st_alloc_list_account_first,
        "SELECT " ALLOC_COLS " FROM allocations l WHERE l.account_id = $1::bigint ORDER BY l.prefix LIMIT $2",
        2);
DB_STMT(st_alloc_list_account,
        "SELECT " ALLOC_COLS " FROM allocations l WHERE l.account_id = $1::bigint AND l.prefix > $2::cidr"
        " ORDER BY l.prefix LIMIT $3",
        3);
/* clang-format off */
DB_STMT(st_alloc_list_ip,
        "SELECT " ALLOC_COLS
        " FROM (SELECT * FROM allocations WHERE prefix <= $1::inet ORDER BY prefix DESC LIMIT 1) l" /* floor.h */
        " WHERE l.prefix >>= $1::inet AND ($2::bigint IS NULL OR l.account_id = $2)"
        " AND ($3::cidr IS NULL OR l.prefix > $3)",
        3);
/* clang-format on */
DB_STMT(st_alloc_overlap,
        "SELECT " ALLOC_COLS " FROM allocations l WHERE l.prefix && $1::cidr ORDER BY l.prefix LIMIT 20", 1);
DB_STMT(st_alloc_delete, "SELECT rdns_allocation_delete($1, $2, $3)", 3);

DB_STMT(st_zone_insert,
        "INSERT INTO reverse_zones (name, prefix, nameservers, default_ptr, notify, soa_mname, soa_rname,"
        " soa_refresh, soa_retry, soa_expire, soa_minimum, ttl, classless_label)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        13);
DB_STMT(st_zone_update,
        "UPDATE reverse_zones SET nameservers = $2, default_ptr = $3, notify = $4, soa_mname = $5,"
        " soa_rname = $6, soa_refresh = $7, soa_retry = $8, soa_expire = $9, soa_minimum = $10, ttl = $11,"
        " classless_label = $12 WHERE id = $1",
        12);
DB_STMT(st_zone_delete, "DELETE FROM reverse_zones WHERE id = $1", 1);
/* Pending requests for addresses of a zone being deleted can never be approved. */
DB_STMT(st_zone_requests_close,
        "UPDATE ptr_requests SET state = 'superseded', decided_at = now()"
        " WHERE ip <<= $1::cidr AND state IN ('pending_review', 'waiting_forward')",
        1);
/* Waits for the PTR changes in flight and holds new ones back (db/migrations/003). */
DB_STMT(st_zone_lock_writers, "LOCK TABLE reverse_zones IN EXCLUSIVE MODE", 0);
DB_STMT(st_zone_touch, "SELECT rdns_zone_touch($1)", 1);
DB_STMT(st_zone_get, "SELECT " ZONE_COLS " FROM reverse_zones z WHERE z.name = $1", 1);
DB_STMT(st_zone_get_lock,
        "SELECT " ZONE_COLS " FROM reverse_zones z WHERE z.name = $1 FOR NO KEY UPDATE OF z", 1);
/* A page of zones by prefix from the cursor $1 (the last prefix of the page before, or
 * 0.0.0.0/0, which sorts before every zone): a range of reverse_zones_prefix. */
DB_STMT(st_zone_list,
        "SELECT " ZONE_COLS " FROM reverse_zones z WHERE z.prefix > $1::cidr ORDER BY z.prefix LIMIT $2", 2);
DB_STMT(st_zone_overlap,
        "SELECT " ZONE_COLS " FROM reverse_zones z WHERE z.prefix && $1::cidr ORDER BY z.prefix LIMIT 20", 1);

/* Decimal text of v in buf (at least 24 bytes). */
static const char *num(char *buf, long long v)
{
	snprintf(buf, 24, "%lld", v);
	return buf;
}

/* Like num(), but NULL for 0 ("no filter"). */
static const char *num_or_null(char *buf, long long v)
{
	return v ? num(buf, v) : NULL;
}

/* A PostgreSQL text[] literal of v: {"a","b"} with '"' and '\' escaped. Free with free(). */
static char *text_array(const char *const *v, size_t n)
{
	size_t len = 3;
	for (size_t i = 0; i < n; i++)
		len += 2 * strlen(v[i]) + 3;
	char *out = malloc(len);
	if (!out)
		return NULL;
	char *p = out;
	*p++ = '{';
	for (size_t i = 0; i < n; i++) {
		if (i)
			*p++ = ',';
		*p++ = '"';
		for (const char *s = v[i]; *s; s++) {
			if (*s == '"' || *s == '\\')
				*p++ = '\\';
			*p++ = *s;
		}
		*p++ = '"';
	}
	*p++ = '}';
	*p = 0;
	return out;
}

/* Run a statement whose rows are not needed. */
static int exec_only(db_t *db, db_stmt_t *st, const char *const *params)
{
	int err;
	PGresult *r = db_exec(db, st, params, &err);
	PQclear(r);
	return err;
}

/* The audit entry of a unit of work done by staff_id / staff_name (no address). */
static int audit(db_t *db, long long staff_id, const char *staff_name, const char *action, const char *object,
                 const char *old_value, const char *new_value, const char *detail)
{
	char actor[24];
	const char *p[8] = {staff_id ? num(actor, staff_id) : NULL,
	                    staff_name,
	                    action,
	                    NULL,
	                    object,
	                    old_value,
	                    new_value,
	                    detail};
	return exec_only(db, &st_audit, p);
}

/* {"account":N}: the detail of the token and allocation entries. buf: 48 bytes. */
static const char *account_detail(char *buf, long long account_id)
{
	snprintf(buf, 48, "{\"account\":%lld}", account_id);
	return buf;
}

/* The end of a unit of work: on failure roll back, and clear the row it would have
 * handed out (res may be NULL). Returns err. */
static int finish(db_t *db, int err, PGresult **res)
{
	if (err != RDNS_OK) {
		db_rollback(db);
		if (res) {
			PQclear(*res);
			*res = NULL;
		}
	}
	return err;
}

PGresult *db_staff_audit_list(db_t *db, const db_audit_filter_t *f, int *err)
{
	char actor[24], before[24], limit[24];
	num(limit, f->limit);
	num(before, f->before_id ? f->before_id : INT64_MAX);
	if (f->ip) {
		const char *p[5] = {f->ip, num_or_null(actor, f->actor_id), f->action, before, limit};
		return db_exec(db, &st_audit_by_ip, p, err);
	}
	if (f->actor_id && f->action) {
		const char *p[4] = {num(actor, f->actor_id), f->action, before, limit};
		return db_exec(db, &st_audit_by_actor_action, p, err);
	}
	if (f->actor_id) {
		const char *p[3] = {num(actor, f->actor_id), before, limit};
		return db_exec(db, &st_audit_by_actor, p, err);
	}
	if (f->action) {
		const char *p[3] = {f->action, before, limit};
		return db_exec(db, &st_audit_by_action, p, err);
	}
	const char *p[2] = {before, limit};
	return db_exec(db, &st_audit_all, p, err);
}

PGresult *db_staff_account_get(db_t *db, long long id, int *err)
{
	char ids[24];
	const char *p[1] = {num(ids, id)};
	return db_exec(db, &st_account_get, p, err);
}

/* A PostgreSQL bigint[] literal of v[0..n), "{1,2,3}". Free with free(). */
static char *id_array(const long long *v, size_t n)
{
	char *out = malloc(n * 21 + 3), *p = out;
	if (!out)
		return NULL;
	*p++ = '{';
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s%lld", i ? "," : "", v[i]);
	*p++ = '}';
	*p = 0;
	return out;
}

PGresult *db_staff_account_list(db_t *db, const db_account_filter_t *f, int *err)
{
	char after[24], limit[24];
	num(after, f->after);
	num(limit, f->limit);
	if (f->n_ids) {
		char *ids = id_array(f->ids, f->n_ids);
		if (!ids) {
			*err = RDNS_ENOMEM;
			return NULL;
		}
		const char *p[4] = {ids, after, f->role, limit};
		PGresult *r = db_exec(db, &st_account_list_ids, p, err);
		free(ids);
		return r;
	}
	if (f->role) {
		const char *p[3] = {f->role, after, limit};
		return db_exec(db, &st_account_list_role, p, err);
	}
	const char *p[2] = {after, limit};
	return db_exec(db, &st_account_list, p, err);
}

PGresult *db_staff_account_search(db_t *db, const char *prefix, const char *after, int limit, int *err)
{
	char lim[24];
	size_t cap = strlen(prefix) + 2;
	char *end = malloc(cap);
	if (!end) {
		*err = RDNS_ENOMEM;
		return NULL;
	}
	PGresult *r;
	if (core_text_prefix_end(prefix, end, cap)) {
		const char *p[4] = {prefix, end, after ? after : "", num(lim, limit)};
		r = db_exec(db, &st_account_search, p, err);
	} else {
		const char *p[3] = {prefix, after ? after : "", num(lim, limit)};
		r = db_exec(db, &st_account_search_open, p, err);
	}
	free(end);
	return r;
}

PGresult *db_staff_token_list(db_t *db, long long account_id, int *err)
{
	char ids[24];
	const char *p[1] = {num(ids, account_id)};
	return db_exec(db, &st_token_list, p, err);
}

int db_staff_account_create(db_t *db, const char *name, const char *role, long long staff_id,
                            const char *staff_name, const char *audit_new, PGresult **row)
{
	char object[48];
	long long id = 0;
	*row = NULL;
	int err = db_begin(db);
	if (err == RDNS_OK)
		err = db_account_create(db, name, role, &id);
	if (err == RDNS_OK)
		*row = db_staff_account_get(db, id, &err);
	if (err == RDNS_OK) {
		snprintf(object, sizeof(object), "account %lld", id);
		err = audit(db, staff_id, staff_name, "account.create", object, NULL, audit_new, NULL);
	}
	if (err == RDNS_OK)
		err = db_commit(db);
	return finish(db, err, row);
}

/* RDNS_ENOTFOUND unless the account exists. */
static int account_exists(db_t *db, long long id)
{
	int err;
	PGresult *r = db_staff_account_get(db, id, &err);
	if (r && PQntuples(r) != 1)
		err = RDNS_ENOTFOUND;
	PQclear(r);
	return err;
}

int db_staff_token_create(db_t *db, long long account_id, long long staff_id, const char *staff_name,
                          char *token, size_t len, long long *token_id)
{
	char object[48], detail[48];
	int err = db_begin(db);
	if (err == RDNS_OK)
		err = account_exists(db, account_id);
	if (err == RDNS_OK)
		err = db_token_create(db, account_id, token, len, token_id);
	if (err == RDNS_OK) {
		snprintf(object, sizeof(object), "token %lld", *token_id);
		err = audit(db, staff_id, staff_name, "token.create", object, NULL, NULL,
		            account_detail(detail, account_id));
	}
	if (err == RDNS_OK)
		err = db_commit(db);
	return finish(db, err, NULL);
}

/* Revoke a token; *account_id receives its account. RDNS_ENOTFOUND when there is
 * no such token or it is revoked already, RDNS_EDENIED when it is the last live staff
 * token (the caller rolls back). */
static int token_revoke(db_t *db, long long id, long long *account_id)
{
	char ids[24];
	const char *p[1] = {num(ids, id)};
	int err = exec_only(db, &st_staff_lock, NULL);
	if (err != RDNS_OK)
		return err;
	PGresult *r = db_exec(db, &st_token_revoke, p, &err);
	if (!r)
		return err;
	if (PQntuples(r) == 1) {
		*account_id = atoll(PQgetvalue(r, 0, 0));
		if (PQgetvalue(r, 0, 1)[0] == 't')
			err = RDNS_EDENIED;
	} else {
		err = RDNS_ENOTFOUND;
	}
	PQclear(r);
	return err;
}

int db_staff_token_revoke(db_t *db, long long id, long long staff_id, const char *staff_name)
{
	char object[48], detail[48];
	long long account_id = 0;
	int err = db_begin(db);
	if (err == RDNS_OK)
		err = token_revoke(db, id, &account_id);
	if (err == RDNS_OK) {
		snprintf(object, sizeof(object), "token %lld", id);
		err = audit(db, staff_id, staff_name, "token.revoke", object, NULL, NULL,
		            account_detail(detail, account_id));
	}
	if (err == RDNS_OK)
		err = db_commit(db);
	return finish(db, err, NULL);
}

int db_staff_allocation_create(db_t *db, long long account_id, const char *prefix, long long staff_id,
                               const char *staff_name, PGresult **row)
{
	char ids[24], object[48], detail[48];
	const char *p[2] = {num(ids, account_id), prefix};
	*row = NULL;
	int err = db_begin(db);
	if (err == RDNS_OK)
		err = account_exists(db, account_id);
	if (err == RDNS_OK)
		*row = db_exec(db, &st_alloc_insert, p, &err);
	if (err == RDNS_OK) {
		snprintf(object, sizeof(object), "allocation %lld", atoll(PQgetvalue(*row, 0, DB_ALLOC_ID)));
		err = audit(db, staff_id, staff_name, "allocation.create", object, NULL, prefix,
		            account_detail(detail, account_id));
	}
	if (err == RDNS_OK)
		err = db_commit(db);
	return finish(db, err, row);
}

PGresult *db_staff_allocation_list(db_t *db, const db_alloc_filter_t *f, int *err)
{
	char account[24], limit[24];
	const char *lim = f->limit > 0 ? num(limit, f->limit) : NULL;
	if (f->ip) {
		const char *p[3] = {f->ip, num_or_null(account, f->account_id), f->after};
		return db_exec(db, &st_alloc_list_ip, p, err);
	}
	if (f->account_id && f->after) {
		const char *p[3] = {num(account, f->account_id), f->after, lim};
		return db_exec(db, &st_alloc_list_account, p, err);
	}
	if (f->account_id) {
		const char *p[2] = {num(account, f->account_id), lim};
		return db_exec(db, &st_alloc_list_account_first, p, err);
	}
	if (f->after) {
		const char *p[2] = {f->after, lim};
		return db_exec(db, &st_alloc_list, p, err);
	}
	const char *p[1] = {lim};
	return db_exec(db, &st_alloc_list_first, p, err);
}

PGresult *db_staff_allocation_overlapping(db_t *db, const char *prefix, int *err)
{
	const char *p[1] = {prefix};
	return db_exec(db, &st_alloc_overlap, p, err);
}

int db_staff_allocation_delete(db_t *db, long long id, long long staff_id, const char *staff_name,
                               long long *reset)
{
	char ids[24], staff[24];
	const char *p[3] = {num(ids, id), num(staff, staff_id), staff_name};
	PGresult *r = NULL;
	int err = db_begin(db);
	if (err == RDNS_OK && !(r = db_exec(db, &st_alloc_delete, p, &err)) &&
	    strcmp(db_last_sqlstate(db), "P0002") == 0)
		err =
		    RDNS_ENOTFOUND; /* rdns_allocation_delete raises no_data_found for a missing allocation */
	if (err == RDNS_OK && reset)
		*reset = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (err == RDNS_OK)
		err = db_commit(db);
	return finish(db, err, NULL);
}

static int zone_insert(db_t *db, const db_zone_conf_t *z, long long *id)
{
	char refresh[24], retry[24], expire[24], minimum[24], ttl[24];
	int err = RDNS_ENOMEM;
	char *ns = text_array(z->nameservers, z->n_nameservers);
	char *notify = text_array(z->notify, z->n_notify);
	if (!ns || !notify)
		goto cleanup;
	const char *p[13] = {z->name,
	                     z->prefix,
	                     ns,
	                     z->default_ptr,
	                     notify,
	                     z->soa_mname,
	                     z->soa_rname,
	                     num(refresh, z->refresh),
	                     num(retry, z->retry),
	                     num(expire, z->expire),
	                     num(minimum, z->minimum),
	                     num(ttl, z->ttl),
	                     z->classless_label ? z->classless_label : "range"};
	PGresult *r = db_exec(db, &st_zone_insert, p, &err);
	if (r) {
		*id = atoll(PQgetvalue(r, 0, 0));
		PQclear(r);
	}
cleanup:
	free(ns);
	free(notify);
	return err;
}

static int zone_update(db_t *db, long long id, const db_zone_conf_t *z)
{
	char ids[24], refresh[24], retry[24], expire[24], minimum[24], ttl[24];
	int err = RDNS_ENOMEM;
	char *ns = text_array(z->nameservers, z->n_nameservers);
	char *notify = text_array(z->notify, z->n_notify);
	if (!ns || !notify)
		goto cleanup;
	const char *p[12] = {num(ids, id),
	                     ns,
	                     z->default_ptr,
	                     notify,
	                     z->soa_mname,
	                     z->soa_rname,
	                     num(refresh, z->refresh),
	                     num(retry, z->retry),
	                     num(expire, z->expire),
	                     num(minimum, z->minimum),
	                     num(ttl, z->ttl),
	                     z->classless_label ? z->classless_label : "range"};
	PGresult *r = db_exec(db, &st_zone_update, p, &err);
	if (r && strcmp(PQcmdTuples(r), "1") != 0)
		err = RDNS_ENOTFOUND;
	PQclear(r);
cleanup:
	free(ns);
	free(notify);
	return err;
}

static int zone_delete(db_t *db, long long id)
{
	char ids[24];
	const char *p[1] = {num(ids, id)};
	int err;
	PGresult *r = db_exec(db, &st_zone_delete, p, &err);
	if (r && strcmp(PQcmdTuples(r), "1") != 0)
		err = RDNS_ENOTFOUND;
	PQclear(r);
	return err;
}

static int zone_close_requests(db_t *db, const char *prefix, long long *closed)
{
	const char *p[1] = {prefix};
	int err;
	PGresult *r = db_exec(db, &st_zone_requests_close, p, &err);
	if (!r)
		return err;
	*closed = atoll(PQcmdTuples(r));
	PQclear(r);
	return RDNS_OK;
}

static int zone_lock_writers(db_t *db)
{
	return exec_only(db, &st_zone_lock_writers, NULL);
}

static int zone_touch(db_t *db, long long id)
{
	char ids[24];
	const char *p[1] = {num(ids, id)};
	return exec_only(db, &st_zone_touch, p);
}

static PGresult *zone_get(db_t *db, const char *name, bool lock, int *err)
{
	const char *p[1] = {name};
	return db_exec(db, lock ? &st_zone_get_lock : &st_zone_get, p, err);
}

PGresult *db_staff_zone_get(db_t *db, const char *name, int *err)
{
	return zone_get(db, name, false, err);
}

PGresult *db_staff_zone_list(db_t *db, const char *after, int limit, int *err)
{
	char lim[24];
	const char *p[2] = {after ? after : "0.0.0.0/0", num(lim, limit)};
	return db_exec(db, &st_zone_list, p, err);
}

PGresult *db_staff_zone_overlapping(db_t *db, const char *prefix, int *err)
{
	const char *p[1] = {prefix};
	return db_exec(db, &st_zone_overlap, p, err);
}

int db_staff_zone_create(db_t *db, const db_zone_conf_t *z, long long staff_id, const char *staff_name,
                         const db_zone_hooks_t *hooks, PGresult **row)
{
	char object[CORE_REVNAME_MAX + 16], *value = NULL;
	long long id = 0;
	*row = NULL;
	int err = db_begin(db);
	if (err == RDNS_OK)
		err = zone_insert(db, z, &id);
	if (err == RDNS_OK)
		err = zone_touch(db, id);
	if (err == RDNS_OK)
		*row = zone_get(db, z->name, false, &err);
	if (err == RDNS_OK) {
		value = hooks->value(*row, hooks->arg);
		snprintf(object, sizeof(object), "zone %s", z->name);
		err = audit(db, staff_id, staff_name, "zone.create", object, NULL, value, NULL);
	}
	if (err == RDNS_OK)
		err = db_commit(db);
	free(value);
	return finish(db, err, row);
}

int db_staff_zone_update(db_t *db, const char *name, long long staff_id, const char *staff_name,
                         const db_zone_hooks_t *hooks, PGresult **after)
{
	char object[CORE_REVNAME_MAX + 16], *old_value = NULL, *new_value = NULL;
	db_zone_conf_t conf = {.name = name};
	PGresult *before = NULL;
	long long id = 0;
	*after = NULL;
	int err = db_begin(db);
	if (err == RDNS_OK)
		before = zone_get(db, name, true, &err);
	if (err == RDNS_OK && PQntuples(before) != 1)
		err = RDNS_ENOTFOUND;
	if (err == RDNS_OK) {
		id = atoll(PQgetvalue(before, 0, DB_ZONE_ID));
		err = hooks->change(before, &conf, hooks->arg);
	}
	if (err == RDNS_OK)
		err = zone_update(db, id, &conf);
	if (err == RDNS_OK)
		err = zone_touch(db, id);
	if (err == RDNS_OK)
		*after = zone_get(db, name, false, &err);
	if (err == RDNS_OK) {
		old_value = hooks->value(before, hooks->arg);
		new_value = hooks->value(*after, hooks->arg);
		snprintf(object, sizeof(object), "zone %s", name);
		err = audit(db, staff_id, staff_name, "zone.update", object, old_value, new_value, NULL);
	}
	if (err == RDNS_OK)
		err = db_commit(db);
	free(old_value);
	free(new_value);
	PQclear(before);
	return finish(db, err, after);
}

int db_staff_zone_delete(db_t *db, const char *name, bool force, long long staff_id, const char *staff_name,
                         const db_zone_hooks_t *hooks, long long *records)
{
	char object[CORE_REVNAME_MAX + 16], detail[128], *old_value = NULL;
	PGresult *row = NULL;
	long long id = 0, closed = 0;
	*records = 0;
	int err = db_begin(db);
	if (err == RDNS_OK)
		err = zone_lock_writers(db);
	if (err == RDNS_OK)
		row = zone_get(db, name, true, &err);
	if (err == RDNS_OK && PQntuples(row) != 1)
		err = RDNS_ENOTFOUND;
	if (err == RDNS_OK) {
		id = atoll(PQgetvalue(row, 0, DB_ZONE_ID));
		*records = atoll(PQgetvalue(row, 0, DB_ZONE_RECORDS));
		if (*records > 0 && !force)
			err = RDNS_EDENIED;
	}
	/* The change row stays after the delete: rdns-zonegen wakes up, finds the zone gone
	 * and stops serving it. Pending requests in the zone could never be approved: they
	 * are closed, as an allocation's deletion does. */
	if (err == RDNS_OK)
		err = zone_touch(db, id);
	if (err == RDNS_OK)
		err = zone_close_requests(db, PQgetvalue(row, 0, DB_ZONE_PREFIX), &closed);
	if (err == RDNS_OK)
		err = zone_delete(db, id);
	if (err == RDNS_OK) {
		old_value = hooks->value(row, hooks->arg);
		snprintf(detail, sizeof(detail),
		         "{\"force\":%s,\"records\":%lld,\"requests_superseded\":%lld}",
		         force ? "true" : "false", *records, closed);
		snprintf(object, sizeof(object), "zone %s", name);
		err = audit(db, staff_id, staff_name, "zone.delete", object, old_value, NULL, detail);
	}
	if (err == RDNS_OK)
		err = db_commit(db);
	free(old_value);
	PQclear(row);
	return finish(db, err, NULL);
}
