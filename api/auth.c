/* auth.c - bearer-token authentication; tokens are never logged. */
#include "auth.h"

#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "db/accounts.h"

static int plain_check(db_t *db, const char *token, db_principal_t *who, void *arg)
{
	return db_token_check(db, token, who);
}

bool api_auth(api_req_t *r)
{
	return api_auth_with(r, plain_check, NULL);
}

bool api_auth_with(api_req_t *r, api_token_check_fn check, void *arg)
{
	const char *h = api_req_header(r, "Authorization");
	int rc = RDNS_EDENIED;
	if (h && strncasecmp(h, "Bearer ", 7) == 0) {
		const char *tok = h + 7;
		while (*tok == ' ')
			tok++;
		db_principal_t who;
		rc = check(r->db, tok, &who, arg);
		if (rc == RDNS_OK) {
			r->authed = true;
			r->caller.account_id = who.account_id;
			r->caller.token_id = who.token_id;
			r->caller.staff = who.staff;
			memcpy(r->caller.name, who.name, sizeof(r->caller.name));
			return true;
		}
	}
	if (rc == RDNS_EDB) {
		api_db_error(r, rc);
		return false;
	}
	api_problem(r, 401, "unauthorized", "Unauthorized", NULL, "%s",
	            h ? "the bearer token is invalid or revoked"
	              : "an Authorization: Bearer token is required");
	api_header(r, "WWW-Authenticate", "Bearer realm=\"rdns\"");
	return false;
}
