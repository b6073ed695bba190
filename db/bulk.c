/* bulk.c - bulk PTR changes: parameterised SQL only. */
#include "bulk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "db/deleg.h"
#include "db/floor.h"
#include "core/strbuf.h"

/* clang-format off */
#define TS(x) "to_char(" x " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

DB_STMT(st_ctx,
	"SELECT q.i, z.name, coalesce(z.default_ptr, ''),"
	" " DB_HOLDER_OF("q.ip") ","
	" d.prefix, array_to_string(d.nameservers, ', ')"
	" FROM unnest($1::inet[]) WITH ORDINALITY AS q(ip, i)"
	DB_ZONE_JOIN("q.ip")
	" LEFT JOIN delegations d ON d.prefix >>= q.ip",
	1);
DB_STMT(st_apply,
	"SELECT o_idx, o_request, " TS("o_updated_at") ", " TS("o_verified_at") ", o_delegation"
	" FROM rdns_ptr_bulk_apply($1::inet[], $2::text[], $3::bigint, $4::bigint, $5, $6::text[], $7::boolean)",
	7);
DB_STMT(st_rate_n, "SELECT o_allowed, o_retry_after FROM rdns_rate_take_n($1::bigint, $2::integer, $3::integer)",
	3);
/* clang-format on */

/* An array literal of n texts (NULL elements for NULL), quoted and escaped by
 * db_array_elem (runs without a quote or backslash copied whole: the findings of 1,000
 * items are some 600 KB). */
static void put_array(core_strbuf_t *b, const char *const *v, size_t n, size_t stride)
{
	for (size_t i = 0; i < n; i++)
		db_array_elem(b, i, *(const char *const *)((const char *)v + i * stride));
	core_strbuf_str(b, n ? "}" : "{}");
}

static void copy(char *dst, size_t len, const PGresult *r, int row, int col)
{
	const char *v = db_val(r, row, col);
	snprintf(dst, len, "%s", v ? v : "");
}

int db_bulk_context(db_t *db, const char *const *ips, size_t n, db_bulk_ctx_t *ctx)
{
	core_strbuf_t a = {0};
	memset(ctx, 0, n * sizeof(*ctx));
	put_array(&a, ips, n, sizeof(*ips));
	if (a.failed) {
		free(a.p);
		return RDNS_ENOMEM;
	}
	const char *p[1] = {a.p};
	int err;
	PGresult *r = db_exec(db, &st_ctx, p, &err);
	free(a.p);
	if (!r)
		return err;
	for (int row = 0; row < PQntuples(r); row++) {
		long i = db_row_item(r, row, n);
		if (i < 0)
			continue;
		db_bulk_ctx_t *c = &ctx[i];
		c->in_zone = !PQgetisnull(r, row, 1);
		copy(c->zone, sizeof(c->zone), r, row, 1);
		copy(c->default_ptr, sizeof(c->default_ptr), r, row, 2);
		c->owner = PQgetisnull(r, row, 3) ? 0 : atoll(PQgetvalue(r, row, 3));
		copy(c->delegation, sizeof(c->delegation), r, row, 4);
		copy(c->delegation_ns, sizeof(c->delegation_ns), r, row, 5);
	}
	PQclear(r);
	return RDNS_OK;
}

int db_bulk_apply(db_t *db, db_bulk_item_t *it, size_t n, long long owner, long long actor,
                  const char *actor_name, bool atomic)
{
	core_strbuf_t ips = {0}, hosts = {0}, checks = {0};
	put_array(&ips, &it[0].ip, n, sizeof(*it));
	put_array(&hosts, &it[0].hostname, n, sizeof(*it));
	put_array(&checks, &it[0].checks_json, n, sizeof(*it));
	char owner_s[24], actor_s[24];
	snprintf(owner_s, sizeof(owner_s), "%lld", owner);
	snprintf(actor_s, sizeof(actor_s), "%lld", actor);
	int err = RDNS_ENOMEM;
	PGresult *r = NULL;
	if (!ips.failed && !hosts.failed && !checks.failed) {
		const char *p[7] = {ips.p,      hosts.p,  owner ? owner_s : NULL, actor_s,
		                    actor_name, checks.p, atomic ? "t" : "f"};
		r = db_exec(db, &st_apply, p, &err);
		if (!r && strcmp(db_last_sqlstate(db), "RD409") == 0)
			err = RDNS_EDENIED;
	}
	free(ips.p);
	free(hosts.p);
	free(checks.p);
	if (!r)
		return err;
	for (size_t i = 0; i < n; i++) {
		it[i].applied = false;
		it[i].delegation.prefix[0] = 0;
	}
	for (int row = 0; row < PQntuples(r); row++) {
		long i = db_row_item(r, row, n);
		if (i < 0)
			continue;
		db_bulk_item_t *x = &it[i];
		if (PQgetisnull(r, row, 1)) { /* not applied: delegated since the lookup */
			db_deleg_ref_parse(db_val(r, row, 4), &x->delegation);
			continue;
		}
		x->applied = true;
		x->request_id = atoll(PQgetvalue(r, row, 1));
		copy(x->updated_at, sizeof(x->updated_at), r, row, 2);
		copy(x->verified_at, sizeof(x->verified_at), r, row, 3);
	}
	PQclear(r);
	return RDNS_OK;
}

int db_rate_hit_n(db_t *db, long long account, long limit, size_t n, int *retry_after)
{
	if (limit <= 0)
		return RDNS_OK;
	char acct[24], lim[24], cnt[24];
	snprintf(acct, sizeof(acct), "%lld", account);
	snprintf(lim, sizeof(lim), "%ld", limit);
	snprintf(cnt, sizeof(cnt), "%zu", n);
	const char *p[3] = {acct, lim, cnt};
	int err;
	PGresult *r = db_exec(db, &st_rate_n, p, &err);
	if (!r)
		return err;
	bool allowed = PQgetvalue(r, 0, 0)[0] == 't';
	*retry_after = atoi(PQgetvalue(r, 0, 1));
	PQclear(r);
	return allowed ? RDNS_OK : RDNS_ELIMIT;
}
