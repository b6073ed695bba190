/* ptr.c - PTR records, requests and rate limits: parameterised SQL only. */
#include "ptr.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/strbuf.h"
#include "db/floor.h"

/* The SQL reads better laid out by hand. */
/* clang-format off */
#define TS(x) "to_char(" x " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
/* The delegation that holds an address (migration 009), "<prefix> <ns>, <ns>", or NULL:
 * one probe of the delegations' exclusion index. */
#define DELEG(ip) "(SELECT d.prefix::text || ' ' || array_to_string(d.nameservers, ', ') FROM delegations d" \
	" WHERE d.prefix >>= " ip ")"

DB_STMT(st_ctx,
	"SELECT z.id, z.name, coalesce(z.default_ptr, ''),"
	" " DB_HOLDER_OF("$1::inet") ","
	" p.hostname, " TS("p.verified_at") ", " TS("p.updated_at") ", " DELEG("$1::inet")
	" FROM (SELECT 1) one"
	DB_ZONE_JOIN("$1::inet")
	" LEFT JOIN ptr_records p ON p.ip = $1::inet",
	1);

/* Token (as db/accounts.c's st_token_get) and st_ctx together: the GET hot path. */
DB_STMT(st_auth_ctx,
        "SELECT encode(t.secret_hash, 'hex'), a.id, a.role, a.name,"
        " t.last_used_at IS NULL OR t.last_used_at < now() - interval '60 seconds',"
        " z.id, z.name, coalesce(z.default_ptr, ''),"
        " " DB_HOLDER_OF("$2::inet") ","
        " p.hostname, " TS("p.verified_at") ", " TS("p.updated_at") ", " DELEG("$2::inet")
        " FROM api_tokens t JOIN accounts a ON a.id = t.account_id"
        DB_ZONE_JOIN("$2::inet")
        " LEFT JOIN ptr_records p ON p.ip = $2::inet"
        " WHERE t.id = $1 AND t.revoked_at IS NULL",
        2);

/* st_auth_ctx for several lookups at once, a row per lookup whose token is live, in
 * any order: column 0 is the lookup's 1-based index. */
DB_STMT(st_auth_ctx_batch,
        "SELECT q.i, encode(t.secret_hash, 'hex'), a.id, a.role, a.name,"
        " t.last_used_at IS NULL OR t.last_used_at < now() - interval '60 seconds',"
        " z.id, z.name, coalesce(z.default_ptr, ''),"
        " " DB_HOLDER_OF("q.ip") ","
        " p.hostname, " TS("p.verified_at") ", " TS("p.updated_at") ", " DELEG("q.ip")
        " FROM unnest($1::bigint[], $2::inet[]) WITH ORDINALITY AS q(tid, ip, i)"
        " JOIN api_tokens t ON t.id = q.tid AND t.revoked_at IS NULL"
        " JOIN accounts a ON a.id = t.account_id"
        DB_ZONE_JOIN("q.ip")
        " LEFT JOIN ptr_records p ON p.ip = q.ip",
        2);

DB_STMT(st_apply,
	"SELECT o_request, " TS("o_updated_at") ", " TS("o_verified_at")
	" FROM rdns_ptr_apply($1::inet, $2, $3::bigint, $4::bigint, $5, $6::boolean, $7::jsonb, $8, NULL)",
	8);
DB_STMT(st_apply_batch,
	"SELECT o_idx, o_request, " TS("o_updated_at") ", " TS("o_verified_at") ", o_delegation"
	" FROM rdns_ptr_apply_batch($1::inet[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::boolean[],"
	" $7::text[], $8::text[])",
	8);
DB_STMT(st_request, "SELECT rdns_ptr_request($1::inet, $2, $3::bigint, $4, $5, $6::jsonb, $7)", 7);
DB_STMT(st_decide, "SELECT rdns_request_decide($1::bigint, $2::bigint, $3, $4::boolean, $5)", 5);

#define REQUEST_JSON                                                                                         \
	"json_build_object('id', r.id, 'account_id', r.account_id, 'ip', host(r.ip), 'hostname', r.hostname,"  \
	" 'action', r.action, 'state', r.state, 'exception_reason', r.exception_reason, 'forced', r.forced,"  \
	" 'checks', r.checks, 'created_at', " TS("r.created_at") ", 'decided_at', " TS("r.decided_at") ","  \
	" 'decided_by', r.decided_by, 'decision_note', r.decision_note)"

DB_STMT(st_request_get,
	"SELECT " REQUEST_JSON " FROM ptr_requests r WHERE r.id = $1::bigint AND ($2::bigint = 0 OR r.account_id = $2)",
	2);

/* A page of requests, newest first: the rows of cond, which bounds r.id by the cursor, in
 * order, and the next cursor when more follow. One statement per filter, each on its own
 * index of migration 014 with the cursor in the index condition: the generic plan of one
 * statement with "$n IS NULL OR ..." filters scanned the whole table for
 * ?state=pending_review. The state is a column of a few values: "state = $n ORDER BY id" has
 * a generic plan that takes the primary key backwards with a filter (2,771 pages for a state
 * no request is in); as the row comparison of BY_STATE, only the (..., state, id) index
 * gives the order asked, and it is taken (as db/staff.c's BY_ACTION). */
#define REQUEST_PAGE(cond, order, limit)                                                                     \
	"WITH page AS (SELECT * FROM ptr_requests r WHERE " cond " ORDER BY " order " LIMIT " limit "::int + 1)" \
	" SELECT coalesce((SELECT json_agg(x.j ORDER BY x.id DESC) FROM (SELECT r.id, " REQUEST_JSON " AS j"   \
	"   FROM page r ORDER BY r.id DESC LIMIT " limit "::int) x), '[]'::json),"                               \
	" CASE WHEN (SELECT count(*) FROM page) > " limit "::int"                                              \
	"   THEN (SELECT min(id) FROM (SELECT id FROM page ORDER BY id DESC LIMIT " limit "::int) y) END"
#define BY_STATE(state, before) "(r.state::text, r.id) < (" state "::text, " before "::bigint) AND r.state::text >= " state "::text"
#define NEWEST   "r.id DESC"
#define BY_STATE_ORDER "r.state DESC, r.id DESC"

/* An address's history (ptr_requests_ip): short, the other filters are filters. */
DB_STMT(st_request_list_ip,
	REQUEST_PAGE("r.ip = $3::inet AND r.id < $4::bigint AND ($1::bigint = 0 OR r.account_id = $1)"
	             " AND ($2::text IS NULL OR r.state = $2)", NEWEST, "$5"),
	5);
DB_STMT(st_request_list_account,
	REQUEST_PAGE("r.account_id = $1::bigint AND r.id < $2::bigint", NEWEST, "$3"), 3);
DB_STMT(st_request_list_account_state,
	REQUEST_PAGE("r.account_id = $1::bigint AND " BY_STATE("$2", "$3"), BY_STATE_ORDER, "$4"), 4);
DB_STMT(st_request_list_state, REQUEST_PAGE(BY_STATE("$1", "$2"), BY_STATE_ORDER, "$3"), 3);
DB_STMT(st_request_list_all, REQUEST_PAGE("r.id < $1::bigint", NEWEST, "$2"), 2);

/* A record in a list: as GET /v1/ptr/{ip} shows it, with its re-verification state
 * (ptr_checks, migration 007; a row of an older name does not count): verified (also
 * before the first re-verification: the PUT verified it), drifted (since, the finding)
 * or forced. */
#define PTR_ITEM_JSON(x, c)                                                                                  \
	"json_build_object('ip', host(" x ".ip), 'hostname', " x ".hostname, 'source', 'custom',"           \
	" 'verified_at', " TS(x ".verified_at") ", 'updated_at', " TS(x ".updated_at") ","                   \
	" 'state', CASE WHEN " x ".forced THEN 'forced' ELSE coalesce(" c ".state, 'verified') END,"        \
	" 'checked_at', " TS(c ".checked_at") ", 'drifted_since', " TS(c ".drifted_since") ","              \
	" 'finding', " c ".finding)"

/* Addresses col inside prefix (cidr text or NULL: any) and after the cursor (an address or
 * NULL), as range conditions an index takes in a generic plan (0.0.0.0/0 sorts before
 * every address, the last IPv6 address after them all). "col <<= $n" with "$n IS NULL OR"
 * is none: the whole index walked from its start with a filter, and a page deep in a
 * large prefix read every record before it. */
#define ADDR_MIN "'0.0.0.0/0'::inet"
#define ADDR_MAX "'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'::inet"
#define START(prefix, after)                                                                                  \
	"greatest(coalesce(" after "::inet, " ADDR_MIN "), coalesce(host(" prefix "::cidr)::inet, " ADDR_MIN "))"
#define IN_RANGE(col, prefix, after)                                                                         \
	col " > coalesce(" after "::inet, " ADDR_MIN ") AND " col " >= coalesce(host(" prefix "::cidr)::inet, "  \
	ADDR_MIN ") AND " col " <= coalesce(host(broadcast(" prefix "::cidr))::inet, " ADDR_MAX ")"
/* Addresses col inside allocation a: from its first to its last, as a range of an index. */
#define IN_ALLOC(col, a) col " >= host(" a ".prefix)::inet AND " col " <= host(broadcast(" a ".prefix))::inet"
/* A customer's allocations that may hold an address in range, in prefix order, which is
 * the order of their addresses (prefixes never overlap): from the one holding the start
 * (the greatest prefix of the account <= the start, db/floor.h) to the prefix's end. */
#define OWN_ALLOCS(account, prefix, after)                                                                   \
	"(SELECT a.prefix FROM allocations a WHERE a.account_id = " account "::bigint AND a.prefix <= "          \
	"coalesce(host(broadcast(" prefix "::cidr))::inet, " ADDR_MAX ") AND a.prefix >= coalesce((SELECT"      \
	" f.prefix FROM allocations f WHERE f.account_id = " account "::bigint AND f.prefix <= "               \
	START(prefix, after) " ORDER BY f.prefix DESC LIMIT 1), " ADDR_MIN "::cidr) ORDER BY a.prefix) a"

/* The page's JSON (the records in page, each with its re-verification state through
 * checks_join) and the next cursor when more follow. */
#define PTR_PAGE(limit, checks_join)                                                                          \
	" SELECT coalesce((SELECT json_agg(" PTR_ITEM_JSON("x", "c") " ORDER BY x.ip)"                           \
	"   FROM (SELECT * FROM page ORDER BY ip LIMIT " limit "::int) x " checks_join "), '[]'::json),"       \
	" CASE WHEN (SELECT count(*) FROM page) > " limit "::int"                                               \
	"   THEN (SELECT host(max(ip)) FROM (SELECT ip FROM page ORDER BY ip LIMIT " limit "::int) y) END"
#define ANY_CHECK   "LEFT JOIN ptr_checks c ON c.ip = x.ip AND c.hostname = x.hostname"
#define DRIFT_CHECK "JOIN ptr_checks c ON c.ip = x.ip"

/* Staff: every record in range, a range of ptr_records_pkey. */
DB_STMT(st_ptr_list,
	"WITH page AS (SELECT p.* FROM ptr_records p WHERE " IN_RANGE("p.ip", "$1", "$2")
	" ORDER BY p.ip LIMIT $3::int + 1)" PTR_PAGE("$3", ANY_CHECK),
	3);
/* A customer: allocation by allocation in prefix order (allocations_account, migration
 * 014), a range of ptr_records_pkey in each, merged by the incremental sort that the
 * allocations' order allows: a page reads the allocations it spans, not every record of
 * the prefix (an EXISTS per record read everyone's records in a shared prefix). */
DB_STMT(st_ptr_list_own,
	"WITH page AS (SELECT p.* FROM " OWN_ALLOCS("$1", "$2", "$3")
	" CROSS JOIN LATERAL (SELECT p.* FROM ptr_records p WHERE " IN_RANGE("p.ip", "$2", "$3")
	" AND " IN_ALLOC("p.ip", "a") " ORDER BY p.ip LIMIT $4::int + 1) p"
	" ORDER BY a.prefix, p.ip LIMIT $4::int + 1)" PTR_PAGE("$4", ANY_CHECK),
	4);

/* ?state=drifted: driven by the partial index of drifted rows, not by a scan of every
 * record (they are few among many); for a customer, allocation by allocation as above. */
DB_STMT(st_ptr_list_drifted,
	"WITH page AS (SELECT p.* FROM ptr_checks c JOIN ptr_records p ON p.ip = c.ip AND p.hostname = c.hostname"
	" WHERE c.state = 'drifted' AND NOT p.forced AND " IN_RANGE("c.ip", "$1", "$2")
	" ORDER BY c.ip LIMIT $3::int + 1)" PTR_PAGE("$3", DRIFT_CHECK),
	3);
DB_STMT(st_ptr_list_drifted_own,
	"WITH page AS (SELECT p.* FROM " OWN_ALLOCS("$1", "$2", "$3")
	" CROSS JOIN LATERAL (SELECT p.* FROM ptr_checks c JOIN ptr_records p ON p.ip = c.ip"
	" AND p.hostname = c.hostname WHERE c.state = 'drifted' AND NOT p.forced AND "
	IN_RANGE("c.ip", "$2", "$3") " AND " IN_ALLOC("c.ip", "a") " ORDER BY c.ip LIMIT $4::int + 1) p"
	" ORDER BY a.prefix, p.ip LIMIT $4::int + 1)" PTR_PAGE("$4", DRIFT_CHECK),
	4);

/* The token bucket of db/functions/100_rdns_rate_take.sql. */
DB_STMT(st_rate, "SELECT o_allowed, o_retry_after FROM rdns_rate_take($1::bigint, $2::integer)", 2);
DB_STMT(st_rate_many, "SELECT o_idx, o_allowed, o_retry_after FROM rdns_rate_take_many($1::bigint[], $2::integer)", 2);
/* clang-format on */

static void copy_val(char *dst, size_t len, const PGresult *r, int row, int col)
{
	const char *v = db_val(r, row, col);
	snprintf(dst, len, "%s", v ? v : "");
}

/* Fill ctx from row's eight context columns starting at column c. */
static void fill_ctx(const PGresult *r, int row, int c, db_ptr_ctx_t *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	if (PQgetisnull(r, row, c))
		return;
	ctx->in_zone = true;
	ctx->zone_id = atoll(PQgetvalue(r, row, c));
	copy_val(ctx->zone, sizeof(ctx->zone), r, row, c + 1);
	copy_val(ctx->default_ptr, sizeof(ctx->default_ptr), r, row, c + 2);
	ctx->owner = PQgetisnull(r, row, c + 3) ? 0 : atoll(PQgetvalue(r, row, c + 3));
	ctx->has_record = !PQgetisnull(r, row, c + 4);
	copy_val(ctx->hostname, sizeof(ctx->hostname), r, row, c + 4);
	copy_val(ctx->verified_at, sizeof(ctx->verified_at), r, row, c + 5);
	copy_val(ctx->updated_at, sizeof(ctx->updated_at), r, row, c + 6);
	db_deleg_ref_t d;
	db_deleg_ref_parse(db_val(r, row, c + 7), &d);
	memcpy(ctx->delegation, d.prefix, sizeof(ctx->delegation));
	memcpy(ctx->delegation_ns, d.ns, sizeof(ctx->delegation_ns));
}

int db_ptr_context(db_t *db, const char *ip, db_ptr_ctx_t *ctx)
{
	const char *p[1] = {ip};
	int err;
	memset(ctx, 0, sizeof(*ctx));
	PGresult *r = db_exec(db, &st_ctx, p, &err);
	if (!r)
		return err;
	if (PQntuples(r) == 1)
		fill_ctx(r, 0, 0, ctx);
	PQclear(r);
	return RDNS_OK;
}

int db_ptr_auth_context_key(db_t *db, const db_token_key_t *k, const char *ip, db_principal_t *who,
                            db_ptr_ctx_t *ctx)
{
	PGresult *r = NULL;
	memset(ctx, 0, sizeof(*ctx));
	int rc = db_token_check_key(db, k, who, &st_auth_ctx, ip, &r);
	if (rc == RDNS_OK)
		fill_ctx(r, 0, 5, ctx);
	PQclear(r);
	return rc;
}

int db_ptr_auth_context_batch(db_t *db, db_ptr_lookup_t *const *q, size_t n)
{
	core_strbuf_t ids = {0}, ips = {0};
	core_strbuf_str(&ids, "{");
	core_strbuf_str(&ips, "{");
	for (size_t i = 0; i < n; i++) {
		q[i]->err = RDNS_EDENIED; /* until its row says otherwise */
		memset(&q[i]->ctx, 0, sizeof(q[i]->ctx));
		if (i) {
			core_strbuf_str(&ids, ",");
			core_strbuf_str(&ips, ",");
		}
		core_strbuf_str(&ids, q[i]->key->id);
		core_strbuf_str(&ips, q[i]->ip); /* canonical text: nothing to quote */
	}
	core_strbuf_str(&ids, "}");
	core_strbuf_str(&ips, "}");
	int err = RDNS_ENOMEM;
	PGresult *r = NULL;
	if (!ids.failed && !ips.failed) {
		const char *p[2] = {ids.p, ips.p};
		r = db_exec(db, &st_auth_ctx_batch, p, &err);
	}
	free(ids.p);
	free(ips.p);
	if (!r)
		return err;
	for (int row = 0; row < PQntuples(r); row++) {
		long i = db_row_item(r, row, n);
		if (i < 0)
			continue;
		db_ptr_lookup_t *l = q[i];
		bool stale;
		if (db_token_match(r, row, 1, l->key, &l->who, &stale) != RDNS_OK)
			continue;
		l->err = RDNS_OK;
		l->stale = stale;
		fill_ctx(r, row, 6, &l->ctx);
	}
	PQclear(r);
	return RDNS_OK;
}

static int id_result(PGresult *r, int err, long long *id)
{
	if (!r)
		return err;
	*id = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	return RDNS_OK;
}

/* The conditions the functions raise: P0002 (no_data_found) "not yours / not
 * there", 55000 (object_not_in_prerequisite_state) "not pending", RD409 "the
 * address left the requester", RDDLG "the address is delegated" (the delegation in
 * its DETAIL). */
static int map_raise(db_t *db, int err)
{
	const char *st = db_last_sqlstate(db);
	if (strcmp(st, "P0002") == 0)
		return RDNS_ENOTFOUND;
	if (strcmp(st, "55000") == 0)
		return RDNS_EEXIST;
	if (strcmp(st, "RD409") == 0)
		return RDNS_EDENIED;
	if (strcmp(st, "RDDLG") == 0)
		return RDNS_EDELEGATED;
	return err;
}

int db_ptr_apply(db_t *db, const char *ip, const char *hostname, long long owner, long long actor,
                 const char *actor_name, bool forced, const char *checks_json, const char *reason,
                 db_ptr_applied_t *out)
{
	char owner_s[24], actor_s[24];
	snprintf(owner_s, sizeof(owner_s), "%lld", owner);
	snprintf(actor_s, sizeof(actor_s), "%lld", actor);
	const char *p[8] = {ip,          hostname,   owner ? owner_s : NULL,
	                    actor_s,     actor_name, forced ? "t" : "f",
	                    checks_json, reason};
	int err;
	memset(out, 0, sizeof(*out));
	PGresult *r = db_exec(db, &st_apply, p, &err);
	if (!r) {
		err = map_raise(db, err);
		if (err == RDNS_EDELEGATED)
			db_deleg_ref_parse(db_last_detail(db), &out->delegation);
		return err;
	}
	out->request_id = atoll(PQgetvalue(r, 0, 0));
	copy_val(out->updated_at, sizeof(out->updated_at), r, 0, 1);
	copy_val(out->verified_at, sizeof(out->verified_at), r, 0, 2);
	PQclear(r);
	return RDNS_OK;
}

int db_ptr_apply_batch(db_t *db, db_ptr_change_t *const *c, size_t n)
{
	core_strbuf_t a[8];
	memset(a, 0, sizeof(a));
	for (size_t i = 0; i < n; i++) {
		char owner[24], actor[24];
		snprintf(owner, sizeof(owner), "%lld", c[i]->owner);
		snprintf(actor, sizeof(actor), "%lld", c[i]->actor);
		db_array_elem(&a[0], i, c[i]->ip);
		db_array_elem(&a[1], i, c[i]->hostname);
		db_array_elem(&a[2], i, c[i]->owner ? owner : NULL);
		db_array_elem(&a[3], i, actor);
		db_array_elem(&a[4], i, c[i]->actor_name);
		db_array_elem(&a[5], i, c[i]->forced ? "t" : "f");
		db_array_elem(&a[6], i, c[i]->checks_json);
		db_array_elem(&a[7], i, c[i]->reason);
		c[i]->err = RDNS_ENOTFOUND; /* unless the function returns its row */
		memset(&c[i]->out, 0, sizeof(c[i]->out));
	}
	int err = RDNS_ENOMEM;
	const char *p[8];
	bool ok = n > 0;
	for (int k = 0; k < 8; k++) {
		core_strbuf_put(&a[k], "}", 1);
		ok = ok && !a[k].failed;
		p[k] = a[k].p;
	}
	PGresult *r = ok ? db_exec(db, &st_apply_batch, p, &err) : NULL;
	for (int k = 0; k < 8; k++)
		free(a[k].p);
	if (!r)
		return ok ? map_raise(db, err) : err;
	for (int row = 0; row < PQntuples(r); row++) {
		long idx = atol(PQgetvalue(r, row, 0));
		if (idx < 1 || (size_t)idx > n)
			continue;
		db_ptr_change_t *x = c[idx - 1];
		if (PQgetisnull(r, row, 1)) { /* not applied: delegated */
			x->err = RDNS_EDELEGATED;
			db_deleg_ref_parse(db_val(r, row, 4), &x->out.delegation);
			continue;
		}
		x->err = RDNS_OK;
		x->out.request_id = atoll(PQgetvalue(r, row, 1));
		snprintf(x->out.updated_at, sizeof(x->out.updated_at), "%s", PQgetvalue(r, row, 2));
		snprintf(x->out.verified_at, sizeof(x->out.verified_at), "%s", PQgetvalue(r, row, 3));
	}
	PQclear(r);
	return RDNS_OK;
}

int db_ptr_request(db_t *db, const char *ip, const char *hostname, long long account, const char *actor_name,
                   const char *state, const char *checks_json, const char *reason, long long *request_id)
{
	char acct[24];
	snprintf(acct, sizeof(acct), "%lld", account);
	const char *p[7] = {ip, hostname, acct, actor_name, state, checks_json, reason};
	int err;
	PGresult *r = db_exec(db, &st_request, p, &err);
	return id_result(r, err, request_id);
}

PGresult *db_request_json(db_t *db, long long id, long long account, int *err)
{
	char id_s[24], acct[24];
	snprintf(id_s, sizeof(id_s), "%lld", id);
	snprintf(acct, sizeof(acct), "%lld", account);
	const char *p[2] = {id_s, acct};
	PGresult *r = db_exec(db, &st_request_get, p, err);
	if (r && PQntuples(r) == 0) {
		PQclear(r);
		return NULL;
	}
	return r;
}

PGresult *db_request_list(db_t *db, long long account, const char *state, const char *ip, long long before,
                          int limit, int *err)
{
	char acct[24], before_s[24], limit_s[16];
	snprintf(acct, sizeof(acct), "%lld", account);
	snprintf(before_s, sizeof(before_s), "%lld", before ? before : INT64_MAX);
	snprintf(limit_s, sizeof(limit_s), "%d", limit);
	if (ip) {
		const char *p[5] = {acct, state, ip, before_s, limit_s};
		return db_exec(db, &st_request_list_ip, p, err);
	}
	if (account && state) {
		const char *p[4] = {acct, state, before_s, limit_s};
		return db_exec(db, &st_request_list_account_state, p, err);
	}
	if (account) {
		const char *p[3] = {acct, before_s, limit_s};
		return db_exec(db, &st_request_list_account, p, err);
	}
	if (state) {
		const char *p[3] = {state, before_s, limit_s};
		return db_exec(db, &st_request_list_state, p, err);
	}
	const char *p[2] = {before_s, limit_s};
	return db_exec(db, &st_request_list_all, p, err);
}

PGresult *db_ptr_list(db_t *db, long long account, const char *prefix, const char *after, bool drifted,
                      int limit, int *err)
{
	char acct[24], limit_s[16];
	snprintf(acct, sizeof(acct), "%lld", account);
	snprintf(limit_s, sizeof(limit_s), "%d", limit);
	if (account) {
		const char *p[4] = {acct, prefix, after, limit_s};
		return db_exec(db, drifted ? &st_ptr_list_drifted_own : &st_ptr_list_own, p, err);
	}
	const char *p[3] = {prefix, after, limit_s};
	return db_exec(db, drifted ? &st_ptr_list_drifted : &st_ptr_list, p, err);
}

int db_request_decide(db_t *db, long long id, long long staff, const char *staff_name, bool approve,
                      const char *note, db_deleg_ref_t *deleg)
{
	char id_s[24], staff_s[24];
	snprintf(id_s, sizeof(id_s), "%lld", id);
	snprintf(staff_s, sizeof(staff_s), "%lld", staff);
	const char *p[5] = {id_s, staff_s, staff_name, approve ? "t" : "f", note};
	int err;
	PGresult *r = db_exec(db, &st_decide, p, &err);
	if (!r) {
		err = map_raise(db, err);
		if (err == RDNS_EDELEGATED && deleg)
			db_deleg_ref_parse(db_last_detail(db), deleg);
		return err;
	}
	PQclear(r);
	return RDNS_OK;
}

int db_rate_hit(db_t *db, long long account, long limit, int *retry_after)
{
	if (limit <= 0)
		return RDNS_OK;
	char acct[24], lim[24];
	snprintf(acct, sizeof(acct), "%lld", account);
	snprintf(lim, sizeof(lim), "%ld", limit);
	const char *p[2] = {acct, lim};
	int err;
	PGresult *r = db_exec(db, &st_rate, p, &err);
	if (!r)
		return err;
	bool allowed = PQgetvalue(r, 0, 0)[0] == 't';
	*retry_after = atoi(PQgetvalue(r, 0, 1));
	if (*retry_after < 1)
		*retry_after = 1;
	PQclear(r);
	return allowed ? RDNS_OK : RDNS_ELIMIT;
}

int db_rate_hit_many(db_t *db, db_rate_take_t *const *q, size_t n)
{
	if (n == 0)
		return RDNS_OK;
	core_strbuf_t ids = {0};
	core_strbuf_str(&ids, "{");
	for (size_t i = 0; i < n; i++) {
		q[i]->err = RDNS_EDB; /* until its row says otherwise */
		q[i]->retry_after = 0;
		char acct[24];
		snprintf(acct, sizeof(acct), "%s%lld", i ? "," : "", q[i]->account);
		core_strbuf_str(&ids, acct);
	}
	core_strbuf_str(&ids, "}");
	if (ids.failed) {
		free(ids.p);
		return RDNS_ENOMEM;
	}
	char lim[24];
	snprintf(lim, sizeof(lim), "%ld", q[0]->limit);
	const char *p[2] = {ids.p, lim};
	int err;
	PGresult *r = db_exec(db, &st_rate_many, p, &err);
	free(ids.p);
	if (!r)
		return err;
	for (int row = 0; row < PQntuples(r); row++) {
		long i = db_row_item(r, row, n);
		if (i < 0)
			continue;
		db_rate_take_t *t = q[i];
		t->retry_after = atoi(PQgetvalue(r, row, 2));
		if (t->retry_after < 1)
			t->retry_after = 1;
		t->err = PQgetvalue(r, row, 1)[0] == 't' ? RDNS_OK : RDNS_ELIMIT;
	}
	PQclear(r);
	return RDNS_OK;
}
