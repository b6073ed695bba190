/* rows.c - data-layer result rows as the API's JSON: single values, lists, and the staff
 * resources (accounts, tokens, allocations, zones, audit entries). */
#include "rows.h"

#include <stdlib.h>

#include "core/addr.h"
#include "core/err.h"
#include "db/db.h"
#include "db/staff.h"

json_t *api_row_str(const PGresult *res, int row, int col)
{
	const char *v = db_val(res, row, col);
	json_t *j = v ? json_string(v) : NULL;
	return j ? j : json_null();
}

json_t *api_row_int(const PGresult *res, int row, int col)
{
	const char *v = db_val(res, row, col);
	return v ? json_integer(atoll(v)) : json_null();
}

json_t *api_row_json(const PGresult *res, int row, int col)
{
	const char *v = db_val(res, row, col);
	json_t *j = v ? json_loads(v, JSON_DECODE_ANY, NULL) : NULL;
	return j ? j : json_null();
}

json_t *api_row_addr(const PGresult *res, int row, int col)
{
	const char *v = db_val(res, row, col);
	core_addr_t a;
	char buf[CORE_ADDR_STRLEN];
	if (v && core_addr_parse(v, &a) == RDNS_OK && core_addr_format(&a, buf, sizeof(buf)) == RDNS_OK)
		return json_string(buf);
	return api_row_str(res, row, col);
}

json_t *api_row_prefix(const PGresult *res, int row, int col)
{
	const char *v = db_val(res, row, col);
	core_prefix_t p;
	char buf[CORE_PREFIX_STRLEN];
	if (v && core_prefix_parse(v, &p) == RDNS_OK && core_prefix_format(&p, buf, sizeof(buf)) == RDNS_OK)
		return json_string(buf);
	return api_row_str(res, row, col);
}

json_t *api_account_json(const PGresult *res, int row)
{
	return json_pack("{s:o, s:o, s:o, s:o}", "id", api_row_int(res, row, DB_ACCT_ID), "name",
	                 api_row_str(res, row, DB_ACCT_NAME), "role", api_row_str(res, row, DB_ACCT_ROLE),
	                 "created_at", api_row_str(res, row, DB_ACCT_CREATED_AT));
}

json_t *api_allocation_json(const PGresult *res, int row)
{
	return json_pack("{s:o, s:o, s:o, s:o}", "id", api_row_int(res, row, DB_ALLOC_ID), "account_id",
	                 api_row_int(res, row, DB_ALLOC_ACCOUNT_ID), "prefix",
	                 api_row_prefix(res, row, DB_ALLOC_PREFIX), "created_at",
	                 api_row_str(res, row, DB_ALLOC_CREATED_AT));
}

json_t *api_token_json(const PGresult *res, int row)
{
	return json_pack("{s:o, s:o, s:o, s:o}", "id", api_row_int(res, row, DB_TOKEN_ID), "created_at",
	                 api_row_str(res, row, DB_TOKEN_CREATED_AT), "last_used_at",
	                 api_row_str(res, row, DB_TOKEN_LAST_USED_AT), "revoked_at",
	                 api_row_str(res, row, DB_TOKEN_REVOKED_AT));
}

json_t *api_zone_json(const PGresult *res, int row)
{
	const char *dirty = db_val(res, row, DB_ZONE_DIRTY);
	return json_pack(
	    "{s:o, s:o, s:o, s:o, s:o, s:{s:o, s:o, s:o, s:o, s:o, s:o}, s:o, s:o, s:b, s:o, s:o, s:o,"
	    " s:o, s:o, s:o}",
	    "name", api_row_str(res, row, DB_ZONE_NAME), "prefix", api_row_prefix(res, row, DB_ZONE_PREFIX),
	    "nameservers", api_row_json(res, row, DB_ZONE_NAMESERVERS), "default_ptr",
	    api_row_str(res, row, DB_ZONE_DEFAULT_PTR), "notify", api_row_json(res, row, DB_ZONE_NOTIFY),
	    "soa", "mname", api_row_str(res, row, DB_ZONE_SOA_MNAME), "rname",
	    api_row_str(res, row, DB_ZONE_SOA_RNAME), "refresh", api_row_int(res, row, DB_ZONE_REFRESH),
	    "retry", api_row_int(res, row, DB_ZONE_RETRY), "expire", api_row_int(res, row, DB_ZONE_EXPIRE),
	    "minimum", api_row_int(res, row, DB_ZONE_MINIMUM), "ttl", api_row_int(res, row, DB_ZONE_TTL),
	    "serial", api_row_int(res, row, DB_ZONE_SERIAL), "dirty", dirty && dirty[0] == 't', "rendered_at",
	    api_row_str(res, row, DB_ZONE_RENDERED_AT), "notify_status",
	    api_row_json(res, row, DB_ZONE_NOTIFY_STATUS), "created_at",
	    api_row_str(res, row, DB_ZONE_CREATED_AT), "updated_at",
	    api_row_str(res, row, DB_ZONE_UPDATED_AT), "records", api_row_int(res, row, DB_ZONE_RECORDS),
	    "classless_label", api_row_str(res, row, DB_ZONE_CLASSLESS_LABEL));
}

json_t *api_audit_json(const PGresult *res, int row)
{
	return json_pack(
	    "{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
	    api_row_int(res, row, DB_AUDIT_ID), "at", api_row_str(res, row, DB_AUDIT_AT), "actor_id",
	    api_row_int(res, row, DB_AUDIT_ACTOR_ID), "actor_name",
	    api_row_str(res, row, DB_AUDIT_ACTOR_NAME), "action", api_row_str(res, row, DB_AUDIT_ACTION),
	    "ip", api_row_addr(res, row, DB_AUDIT_IP), "object", api_row_str(res, row, DB_AUDIT_OBJECT),
	    "old_value", api_row_str(res, row, DB_AUDIT_OLD_VALUE), "new_value",
	    api_row_str(res, row, DB_AUDIT_NEW_VALUE), "request_id",
	    api_row_int(res, row, DB_AUDIT_REQUEST_ID), "detail", api_row_json(res, row, DB_AUDIT_DETAIL));
}

json_t *api_rows_json(const PGresult *res, api_row_fn f)
{
	json_t *items = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_array_append_new(items, f(res, i));
	return items;
}

void api_embed_allocations(json_t *obj, const PGresult *res)
{
	int n = PQntuples(res);
	json_t *items = json_array();
	for (int i = 0; i < n && i < API_EMBED_ALLOCS; i++)
		json_array_append_new(items, api_allocation_json(res, i));
	json_object_set_new(obj, "allocations", items);
	json_object_set_new(obj, "allocations_next",
	                    n > API_EMBED_ALLOCS ? api_row_prefix(res, API_EMBED_ALLOCS - 1, DB_ALLOC_PREFIX)
	                                         : json_null());
}

json_t *api_items_json(const PGresult *res, api_row_fn f)
{
	return json_pack("{s:o}", "items", api_rows_json(res, f));
}

char *api_json_text(const json_t *v)
{
	return v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
}
