/* rows.h - data-layer result rows as the API's JSON: single values, lists, and the staff
 * resources (accounts, tokens, allocations, zones, audit entries). */
#ifndef RDNS_API_ROWS_H
#define RDNS_API_ROWS_H

#include <jansson.h>
#include <libpq-fe.h>

/* One column of a row as a new JSON value; JSON null when the column is NULL (and for a
 * value that does not convert). str: the text; int: an integer; json: the JSON the text
 * holds; addr / prefix: the canonical text (RFC 5952) of an inet / cidr, which
 * PostgreSQL prints close to it but not always the same. */
json_t *api_row_str(const PGresult *res, int row, int col);
json_t *api_row_int(const PGresult *res, int row, int col);
json_t *api_row_json(const PGresult *res, int row, int col);
json_t *api_row_addr(const PGresult *res, int row, int col);
json_t *api_row_prefix(const PGresult *res, int row, int col);

/* One row as a JSON object. */
typedef json_t *(*api_row_fn)(const PGresult *res, int row);

/* [f(row) for each row] */
json_t *api_rows_json(const PGresult *res, api_row_fn f);
/* {"items": [f(row) for each row]} */
json_t *api_items_json(const PGresult *res, api_row_fn f);

/* The staff resources, from the rows of db/staff.h (DB_ACCT_*, DB_ALLOC_*, DB_TOKEN_*,
 * DB_ZONE_*, DB_AUDIT_* columns). A token is its metadata only. */
json_t *api_account_json(const PGresult *res, int row);
json_t *api_allocation_json(const PGresult *res, int row);
json_t *api_token_json(const PGresult *res, int row);
json_t *api_zone_json(const PGresult *res, int row);
json_t *api_audit_json(const PGresult *res, int row);

/* An account's allocations as GET /v1/me and GET /v1/accounts/{id} embed them: at most
 * API_EMBED_ALLOCS, the first by prefix; the rest are GET /v1/allocations's pages (a
 * reseller may hold thousands). res: db_staff_allocation_list with limit
 * API_EMBED_ALLOCS + 1. Sets "allocations" and "allocations_next" (the cursor, after=, of
 * the next page; null when the list is whole) in obj. */
#define API_EMBED_ALLOCS 100
void api_embed_allocations(json_t *obj, const PGresult *res);

/* The JSON text of an audit value: compact, keys sorted; NULL for NULL. Free with free(). */
char *api_json_text(const json_t *v);

#endif
