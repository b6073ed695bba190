/* auth.h - bearer-token authentication of API requests. */
#ifndef RDNS_API_AUTH_H
#define RDNS_API_AUTH_H

#include <stdbool.h>

#include "api/http.h"

/* Authenticate r from its Authorization header and fill r->caller. On
 * failure answers (401 with WWW-Authenticate, or 503) and returns false. */
bool api_auth(api_req_t *r);

#endif
