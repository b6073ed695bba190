/* diag.c - the diagnostics' rate limit: parameterised SQL only. */
#include "db/diag.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/err.h"

DB_STMT(st_diag_take, "SELECT o_allowed, o_retry_after FROM rdns_diag_take($1::bigint, $2::integer)", 2);

int db_diag_rate_hit(db_t *db, long long account, long limit, int *retry_after)
{
	char acct[24], lim[24];
	const char *p[2] = {acct, lim};
	int err;

	if (limit <= 0)
		return RDNS_OK;
	snprintf(acct, sizeof(acct), "%lld", account);
	snprintf(lim, sizeof(lim), "%ld", limit);
	PGresult *r = db_exec(db, &st_diag_take, p, &err);
	if (!r)
		return err;
	bool allowed = PQgetvalue(r, 0, 0)[0] == 't';
	*retry_after = atoi(PQgetvalue(r, 0, 1));
	if (*retry_after < 1)
		*retry_after = 1;
	PQclear(r);
	return allowed ? RDNS_OK : RDNS_ELIMIT;
}
