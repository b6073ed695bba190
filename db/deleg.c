/* deleg.c - reverse delegations: parameterised SQL only. */
#include "deleg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "db/floor.h"

void db_deleg_ref_parse(const char *text, db_deleg_ref_t *out)
{
	memset(out, 0, sizeof(*out));
	if (!text)
		return;
	const char *sp = strchr(text, ' ');
	size_t pl = sp ? (size_t)(sp - text) : strlen(text);
	snprintf(out->prefix, sizeof(out->prefix), "%.*s", (int)pl, text);
	snprintf(out->ns, sizeof(out->ns), "%s", sp ? sp + 1 : "");
}

/* clang-format off */
#define TS(x) "to_char(" x " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
#define DELEG_COLS                                                                                   \
	"d.prefix, z.name, d.account_id, array_to_json(d.nameservers)::text, z.classless_label,"     \
	" d.forced, d.checks::text, " TS("d.created_at") ", " TS("d.updated_at") ","             \
	" c.state, c.checks::text, " TS("c.checked_at") ", " TS("c.lame_since")

DB_STMT(st_ctx,
	"SELECT z.name, z.prefix, z.classless_label,"
	" " DB_HOLDER_OF("$1::cidr") ","
	" d.prefix IS NOT NULL, d.account_id,"
	" (SELECT o.prefix FROM delegations o WHERE o.prefix && $1::cidr AND o.prefix <> $1::cidr LIMIT 1),"
	" (SELECT o.account_id FROM delegations o WHERE o.prefix && $1::cidr AND o.prefix <> $1::cidr LIMIT 1)"
	" FROM (SELECT 1) one"
	DB_ZONE_JOIN("$1::cidr")
	" LEFT JOIN delegations d ON d.prefix = $1::cidr",
	1);
#define DELEG_FROM                                                                                   \
	" FROM delegations d JOIN reverse_zones z ON z.id = d.zone_id"                               \
	" LEFT JOIN delegation_checks c ON c.delegation_id = d.id"
DB_STMT(st_get,
	"SELECT " DELEG_COLS DELEG_FROM
	" WHERE d.prefix = $1::cidr AND ($2::bigint IS NULL OR d.account_id = $2)",
	2);
DB_STMT(st_list,
	"SELECT " DELEG_COLS DELEG_FROM
	" WHERE ($1::bigint IS NULL OR d.account_id = $1) AND ($2::cidr IS NULL OR d.prefix > $2::cidr)"
	" AND ($4::text IS NULL OR c.state = $4::text)"
	" ORDER BY d.prefix LIMIT $3::int + 1",
	4);
DB_STMT(st_put,
	"SELECT o_id, o_created FROM rdns_delegation_put($1::cidr, $2::text[], $3::bigint, $4::bigint, $5,"
	" $6::boolean, $7::jsonb)",
	7);
DB_STMT(st_delete, "SELECT rdns_delegation_delete($1::cidr, $2::bigint, $3::bigint, $4)", 4);
DB_STMT(st_zone_delegations,
	"SELECT d.prefix, d.nameservers, z.classless_label FROM delegations d"
	" JOIN reverse_zones z ON z.id = d.zone_id WHERE d.zone_id = $1::bigint ORDER BY d.prefix",
	1);
/* #17: the same for the zones of a batch ($1: a bigint[] literal), led by the zone's id. */
DB_STMT(st_zones_delegations,
	"SELECT d.prefix, d.nameservers, z.classless_label, d.zone_id FROM delegations d"
	" JOIN reverse_zones z ON z.id = d.zone_id WHERE d.zone_id = ANY ($1::bigint[])"
	" ORDER BY d.zone_id, d.prefix",
	1);
/* clang-format on */

static const char *num_or_null(char *buf, long long v)
{
	if (!v)
		return NULL;
	snprintf(buf, 24, "%lld", v);
	return buf;
}

static void copy_val(char *dst, size_t len, const PGresult *r, int col)
{
	const char *v = db_val(r, 0, col);
	snprintf(dst, len, "%s", v ? v : "");
}

int db_deleg_context(db_t *db, const char *prefix, db_deleg_ctx_t *ctx)
{
	const char *p[1] = {prefix};
	int err;
	memset(ctx, 0, sizeof(*ctx));
	PGresult *r = db_exec(db, &st_ctx, p, &err);
	if (!r)
		return err;
	if (PQntuples(r) == 1) {
		ctx->in_zone = !PQgetisnull(r, 0, 0);
		copy_val(ctx->zone, sizeof(ctx->zone), r, 0);
		copy_val(ctx->zone_prefix, sizeof(ctx->zone_prefix), r, 1);
		copy_val(ctx->classless_label, sizeof(ctx->classless_label), r, 2);
		ctx->holder = PQgetisnull(r, 0, 3) ? 0 : atoll(PQgetvalue(r, 0, 3));
		ctx->exists = strcmp(PQgetvalue(r, 0, 4), "t") == 0;
		ctx->account = PQgetisnull(r, 0, 5) ? 0 : atoll(PQgetvalue(r, 0, 5));
		copy_val(ctx->overlapping, sizeof(ctx->overlapping), r, 6);
		ctx->overlapping_acct = PQgetisnull(r, 0, 7) ? 0 : atoll(PQgetvalue(r, 0, 7));
	}
	PQclear(r);
	return RDNS_OK;
}

PGresult *db_deleg_get(db_t *db, const char *prefix, long long account, int *err)
{
	char acct[24];
	const char *p[2] = {prefix, num_or_null(acct, account)};
	return db_exec(db, &st_get, p, err);
}

PGresult *db_deleg_list(db_t *db, long long account, const char *after, const char *state, int limit,
                        int *err)
{
	char acct[24], lim[24];
	snprintf(lim, sizeof(lim), "%d", limit);
	const char *p[4] = {num_or_null(acct, account), after, lim, state};
	return db_exec(db, &st_list, p, err);
}

/* P0002 raised by the functions: "not there / not yours". */
static int map_raise(db_t *db, int err)
{
	return strcmp(db_last_sqlstate(db), "P0002") == 0 ? RDNS_ENOTFOUND : err;
}

int db_deleg_put(db_t *db, const char *prefix, const char *ns, long long owner, long long actor,
                 const char *actor_name, bool forced, const char *checks_json, bool *created)
{
	char owner_s[24], actor_s[24];
	snprintf(actor_s, sizeof(actor_s), "%lld", actor);
	const char *p[7] = {
	    prefix, ns, num_or_null(owner_s, owner), actor_s, actor_name, forced ? "t" : "f", checks_json};
	int err;
	PGresult *r = db_exec(db, &st_put, p, &err);
	if (!r)
		return map_raise(db, err);
	*created = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 1), "t") == 0;
	PQclear(r);
	return RDNS_OK;
}

int db_deleg_delete(db_t *db, const char *prefix, long long owner, long long actor, const char *actor_name)
{
	char owner_s[24], actor_s[24];
	snprintf(actor_s, sizeof(actor_s), "%lld", actor);
	const char *p[4] = {prefix, num_or_null(owner_s, owner), actor_s, actor_name};
	int err;
	PGresult *r = db_exec(db, &st_delete, p, &err);
	if (!r)
		return map_raise(db, err);
	PQclear(r);
	return RDNS_OK;
}

char *db_text_array(const char *const *v, size_t n)
{
	size_t len = 3;
	for (size_t i = 0; i < n; i++)
		len += 2 * strlen(v[i]) + 3;
	char *out = malloc(len), *p = out;
	if (!out)
		return NULL;
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

PGresult *db_zone_delegations(db_t *db, long long zone_id, int *err)
{
	char id[24];
	snprintf(id, sizeof(id), "%lld", zone_id);
	const char *p[1] = {id};
	return db_exec(db, &st_zone_delegations, p, err);
}

PGresult *db_zones_delegations(db_t *db, const char *ids_lit, int *err)
{
	const char *p[1] = {ids_lit};
	return db_exec(db, &st_zones_delegations, p, err);
}
