/* addresses.c - every address of a block with its record, and allocations by id or by a
 * prefix they hold: the reads of the web panel (issue 15). (The allocation holding an
 * address is a filter of the staff list, db/staff.c.) */
#include "addresses.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "db/floor.h"

#define TS(x) "to_char(" x " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* clang-format off */
/* One row per address: generate_series over the offsets keeps the page's size bounded
 * by the caller (at most API_LIMIT_MAX rows), whatever the block's. The record by one probe
 * per address (a lateral subquery, OFFSET 0: not pulled up into a join): joined, the
 * generic plan reckoned a thousand addresses and hashed every record, a sequential scan of
 * ptr_records per page (issue #17). */
DB_STMT(st_addr_page,
	"SELECT host(x.ip), z.id, z.name, coalesce(z.default_ptr, ''),"
	" " DB_HOLDER_OF("x.ip") ","
	" p.hostname, " TS("p.verified_at") ", " TS("p.updated_at")
	" FROM generate_series($2::bigint, $3::bigint) g"
	" CROSS JOIN LATERAL (SELECT $1::inet + g AS ip) x"
	DB_ZONE_JOIN("x.ip")
	" LEFT JOIN LATERAL (SELECT r.hostname, r.verified_at, r.updated_at FROM ptr_records r"
	" WHERE r.ip = x.ip OFFSET 0) p ON true"
	" ORDER BY g",
	3);

DB_STMT(st_alloc_holds,
	"SELECT 1 FROM allocations WHERE account_id = $1::bigint AND prefix >>= $2::cidr", 2);

DB_STMT(st_alloc_get,
	"SELECT l.id, l.account_id, l.prefix, " TS("l.created_at") ","
	/* as a range of ptr_records_pkey: "ip <<= l.prefix" of the row was a sequential scan */
	" (SELECT count(*) FROM ptr_records p WHERE p.ip >= host(l.prefix)::inet"
	" AND p.ip <= host(broadcast(l.prefix))::inet)"
	" FROM allocations l WHERE l.id = $1::bigint",
	1);
/* clang-format on */

PGresult *db_addresses_page(db_t *db, const char *base, long long first, long long last, int *err)
{
	char f[24], l[24];
	snprintf(f, sizeof(f), "%lld", first);
	snprintf(l, sizeof(l), "%lld", last);
	const char *p[3] = {base, f, l};
	return db_exec(db, &st_addr_page, p, err);
}

static void copy_val(char *dst, size_t len, const PGresult *r, int row, int col)
{
	const char *v = db_val(r, row, col);
	snprintf(dst, len, "%s", v ? v : "");
}

void db_addresses_ctx(const PGresult *res, int row, db_ptr_ctx_t *ctx)
{
	int c = DB_ADDR_CTX;
	memset(ctx, 0, sizeof(*ctx));
	ctx->owner = PQgetisnull(res, row, c + 3) ? 0 : atoll(PQgetvalue(res, row, c + 3));
	if (PQgetisnull(res, row, c))
		return;
	ctx->in_zone = true;
	ctx->zone_id = atoll(PQgetvalue(res, row, c));
	copy_val(ctx->zone, sizeof(ctx->zone), res, row, c + 1);
	copy_val(ctx->default_ptr, sizeof(ctx->default_ptr), res, row, c + 2);
	ctx->has_record = !PQgetisnull(res, row, c + 4);
	copy_val(ctx->hostname, sizeof(ctx->hostname), res, row, c + 4);
	copy_val(ctx->verified_at, sizeof(ctx->verified_at), res, row, c + 5);
	copy_val(ctx->updated_at, sizeof(ctx->updated_at), res, row, c + 6);
}

int db_allocation_holds(db_t *db, long long account, const char *prefix)
{
	char a[24];
	snprintf(a, sizeof(a), "%lld", account);
	const char *p[2] = {a, prefix};
	int err;
	PGresult *r = db_exec(db, &st_alloc_holds, p, &err);
	if (!r)
		return err;
	int rc = PQntuples(r) > 0 ? RDNS_OK : RDNS_ENOTFOUND;
	PQclear(r);
	return rc;
}

PGresult *db_allocation_get(db_t *db, long long id, int *err)
{
	char i[24];
	snprintf(i, sizeof(i), "%lld", id);
	const char *p[1] = {i};
	return db_exec(db, &st_alloc_get, p, err);
}
