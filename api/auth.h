/* auth.h - bearer-token authentication of API requests. */
#ifndef RDNS_API_AUTH_H
#define RDNS_API_AUTH_H

#include <stdbool.h>

#include "api/http.h"
#include "db/accounts.h"

/* Authenticate r from its Authorization header and fill r->caller. On
 * failure answers (401 with WWW-Authenticate, or 503) and returns false. */
bool api_auth(api_req_t *r);

/* The token check with a statement that also fetches what the request needs next
 * (see db_token_check_with); used by API_AUTH_HANDLER routes. */
typedef int (*api_token_check_fn)(db_t *db, const char *token, db_principal_t *who, void *arg);
bool api_auth_with(api_req_t *r, api_token_check_fn check, void *arg);

#endif
