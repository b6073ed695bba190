/* routes_accounts.c - staff routes for accounts and their API tokens (/v1/accounts, /v1/tokens). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/bodies.h"
#include "api/respond.h"
#include "api/routes.h"
#include "api/rows.h"
#include "core/err.h"
#include "core/text.h"
#include "db/accounts.h"
#include "db/staff.h"

static bool role_ok(const char *role)
{
	return strcmp(role, "customer") == 0 || strcmp(role, "staff") == 0;
}

bool api_account_body(api_req_t *r, api_account_new_t *out)
{
	static const api_field_t spec[] = {
	    {"name", API_FIELD_STRING, true}, {"role", API_FIELD_STRING, true}, {NULL, 0, false}};
	if (!api_check_fields(r, spec))
		return false;
	out->name = json_string_value(json_object_get(r->json, "name"));
	out->role = json_string_value(json_object_get(r->json, "role"));
	char e[API_ECHO_BUF], why_buf[CORE_TEXT_WHY_MAX];
	const char *why = core_text_name_problem(out->name, 200, why_buf);
	if (why) {
		api_bad_field(r, API_PROBLEM_NAMED, "name", "%s", why);
		return false;
	}
	if (!role_ok(out->role)) {
		api_bad_field(r, API_PROBLEM_NAMED, "role",
		              "'%s' is not a role: use \"customer\" or \"staff\"", api_echo(out->role, e));
		return false;
	}
	return true;
}

static void account_create(api_req_t *r)
{
	api_account_new_t body;
	if (!api_account_body(r, &body))
		return;
	const char *name = body.name, *role = body.role;
	char e[API_ECHO_BUF];

	PGresult *row = NULL;
	json_t *value = json_pack("{s:s, s:s}", "name", name, "role", role);
	char *new_value = api_json_text(value), location[64];
	int err =
	    db_staff_account_create(r->db, name, role, r->caller.account_id, r->caller.name, new_value, &row);
	if (err == RDNS_EEXIST) {
		api_problem(r, 409, "conflict", "Conflict", NULL, "an account named '%s' exists already",
		            api_echo(name, e));
	} else if (err != RDNS_OK) {
		api_db_error(r, err);
	} else {
		snprintf(location, sizeof(location), "/v1/accounts/%s", PQgetvalue(row, 0, DB_ACCT_ID));
		api_created(r, api_account_json(row, 0), location);
	}
	json_decref(value);
	free(new_value);
	PQclear(row);
}

/* ?ids= of GET /v1/accounts: the accounts a screen shows, at most this many. */
#define ACCOUNT_IDS_MAX 200

/* ?ids= as ids (comma-separated, api_parse_id each) into ids; answers 400 and returns
 * false when it is not such a list. */
static bool query_ids(api_req_t *r, const char *v, long long ids[ACCOUNT_IDS_MAX], size_t *n)
{
	char one[24];
	*n = 0;
	for (const char *p = v;; p++) {
		size_t len = strcspn(p, ",");
		if (*n == ACCOUNT_IDS_MAX || len == 0 || len >= sizeof(one)) {
			api_bad_param(r, API_PROBLEM_NAMED, "ids", v,
			              "a list of at most %d account ids separated by commas",
			              ACCOUNT_IDS_MAX);
			return false;
		}
		memcpy(one, p, len);
		one[len] = 0;
		if (!api_parse_id(one, &ids[*n])) {
			api_bad_param(r, API_PROBLEM_NAMED, "ids", v,
			              "a list of at most %d account ids separated by commas",
			              ACCOUNT_IDS_MAX);
			return false;
		}
		++*n;
		p += len;
		if (!*p)
			return true;
	}
}

/* Text of a name prefix or cursor: what an account name could begin with (UTF-8, 1 to 200
 * characters); answers 400 and returns false when it is not. */
static bool query_name(api_req_t *r, const char *name, const char *v, const char *what)
{
	if (v[0] && core_text_utf8_valid(v, strlen(v)) && api_utf8_chars(v) <= 200)
		return true;
	api_bad_param(r, API_PROBLEM_NAMED, name, v, "%s", what);
	return false;
}

/* The page of res (limit + 1 rows were asked for): {"items", "next"}, next being key_col
 * of the page's last row when another row follows (the cursor of the next page), else null. */
static json_t *account_page(const PGresult *res, int limit, bool by_name)
{
	json_t *items = json_array();
	int n = PQntuples(res);
	for (int i = 0; i < n && i < limit; i++)
		json_array_append_new(items, api_account_json(res, i));
	json_t *next = json_null();
	if (n > limit)
		next = by_name ? api_row_str(res, limit - 1, DB_ACCT_NAME)
		               : api_row_int(res, limit - 1, DB_ACCT_ID);
	return json_pack("{s:o, s:o}", "items", items, "next", next);
}

/* ?q=: a page of the accounts whose name begins with q, by name (byte order); the cursor is
 * the last name of the page before. The panel's account picker. */
static void account_search(api_req_t *r, const char *q, int limit)
{
	const char *after = api_query(r, "after");
	if (api_query(r, "role") || api_query(r, "ids")) {
		api_bad_param(r, API_PROBLEM_NAMED, "q", q,
		              "combinable with ?role= or ?ids=: give one of them");
		return;
	}
	if (!query_name(r, "q", q, "the start of an account name (1 to 200 characters)") ||
	    (after && !query_name(r, "after", after, "an account name (the \"next\" of the page before)")))
		return;
	int err;
	PGresult *res = db_staff_account_search(r->db, q, after, limit + 1, &err);
	if (!res) {
		api_db_error(r, err);
		return;
	}
	api_json(r, 200, account_page(res, limit, true));
	PQclear(res);
}

/* A page of accounts by id; "next" is the last one's id when more follow, the cursor
 * (?after=) of the next page. ?role= and ?ids= filter, ?q= searches by name. */
static void account_list(api_req_t *r)
{
	db_account_filter_t f = {.role = api_query(r, "role")};
	const char *q = api_query(r, "q"), *ids_q = api_query(r, "ids");
	long long ids[ACCOUNT_IDS_MAX];
	if (!api_query_limit(r, API_PROBLEM_NAMED, &f.limit))
		return;
	if (q) {
		account_search(r, q, f.limit);
		return;
	}
	if (f.role && !role_ok(f.role)) {
		api_bad_param(r, API_PROBLEM_NAMED, "role", f.role, "a role: use customer or staff");
		return;
	}
	if (!api_query_id(r, API_PROBLEM_NAMED, "after", "an account id (the \"next\" of the page before)",
	                  &f.after))
		return;
	if (ids_q && !query_ids(r, ids_q, ids, &f.n_ids))
		return;
	f.ids = ids;
	f.limit++; /* one more tells whether there is a next page */
	int err;
	PGresult *res = db_staff_account_list(r->db, &f, &err);
	if (!res) {
		api_db_error(r, err);
		return;
	}
	api_json(r, 200, account_page(res, f.limit - 1, false));
	PQclear(res);
}

static void account_get(api_req_t *r)
{
	long long id;
	if (!api_path_id(r, r->params[0], "account", &id))
		return;
	int err;
	PGresult *acct = NULL, *allocs = NULL, *tokens = NULL;
	if (!(acct = db_staff_account_get(r->db, id, &err)) ||
	    !(allocs = db_staff_allocation_list(
	          r->db, &(db_alloc_filter_t){.account_id = id, .limit = API_EMBED_ALLOCS + 1}, &err)) ||
	    !(tokens = db_staff_token_list(r->db, id, &err))) {
		api_db_error(r, err);
		goto cleanup;
	}
	if (PQntuples(acct) != 1) {
		api_not_found(r, "account", r->params[0]);
		goto cleanup;
	}
	json_t *body = api_account_json(acct, 0);
	api_embed_allocations(body, allocs);
	json_object_set_new(body, "tokens", api_rows_json(tokens, api_token_json));
	api_json(r, 200, body);
cleanup:
	PQclear(acct);
	PQclear(allocs);
	PQclear(tokens);
}

bool api_token_body(api_req_t *r)
{
	static const api_field_t spec[] = {{NULL, 0, false}};
	return api_check_fields(r, spec);
}

static void token_create(api_req_t *r)
{
	long long account_id, token_id;
	if (!api_token_body(r) || !api_path_id(r, r->params[0], "account", &account_id))
		return;
	char token[DB_TOKEN_MAX];
	int err = db_staff_token_create(r->db, account_id, r->caller.account_id, r->caller.name, token,
	                                sizeof(token), &token_id);
	if (err == RDNS_ENOTFOUND)
		api_not_found(r, "account", r->params[0]);
	else if (err != RDNS_OK)
		api_db_error(r, err);
	else
		api_json(r, 201,
		         json_pack("{s:I, s:s, s:I}", "id", (json_int_t)token_id, "token", token,
		                   "account_id", (json_int_t)account_id));
	explicit_bzero(token, sizeof(token));
}

static void token_revoke(api_req_t *r)
{
	long long id;
	if (!api_path_id(r, r->params[0], "token", &id))
		return;
	int err = db_staff_token_revoke(r->db, id, r->caller.account_id, r->caller.name);
	if (err == RDNS_ENOTFOUND)
		api_problem(r, 404, NULL, "Not Found", NULL, "no active token %lld", id);
	else if (err == RDNS_EDENIED)
		api_problem(r, 409, "last-staff-token", "Conflict", NULL,
		            "token %lld is the last live staff token; create another staff token first", id);
	else if (err != RDNS_OK)
		api_db_error(r, err);
	else
		api_no_content(r);
}

const api_route_t api_routes_accounts[] = {
    {"POST", "/v1/accounts", API_AUTH_STAFF, true, account_create},
    {"GET", "/v1/accounts", API_AUTH_STAFF, false, account_list},
    {"GET", "/v1/accounts/*", API_AUTH_STAFF, false, account_get},
    {"POST", "/v1/accounts/*/tokens", API_AUTH_STAFF, true, token_create},
    {"DELETE", "/v1/tokens/*", API_AUTH_STAFF, false, token_revoke},
    {NULL, NULL, 0, false, NULL},
};
