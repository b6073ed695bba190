/* jobs.c - PTR sets waiting for forward DNS and rdns-verifier's jobs: parameterised SQL only. */
#include "jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

DB_STMT(st_wait, "SELECT rdns_ptr_wait($1::inet, $2, $3::bigint, $4, $5::jsonb, $6::integer, $7::integer)",
        7);
DB_STMT(st_cancel, "SELECT rdns_request_cancel($1::bigint, $2::bigint, $3::bigint, $4)", 4);
DB_STMT(st_claim,
        "SELECT o_request, o_claim, o_tries, host(o_ip), o_hostname FROM rdns_verify_claim($1, $2::integer, "
        "$3::integer)",
        3);
DB_STMT(
    st_finish,
    "SELECT rdns_verify_finish($1::bigint, $2::bigint, $3, $4::boolean, $5::boolean, $6::jsonb, $7::integer)",
    7);

int db_ptr_wait(db_t *db, const char *ip, const char *hostname, long long account, const char *actor_name,
                const char *checks_json, long first_ms, long max_s, long long *request_id)
{
	char acct[24], first[24], max[24];
	snprintf(acct, sizeof(acct), "%lld", account);
	snprintf(first, sizeof(first), "%ld", first_ms);
	snprintf(max, sizeof(max), "%ld", max_s);
	const char *p[7] = {ip, hostname, acct, actor_name, checks_json, first, max};
	int err;
	PGresult *r = db_exec(db, &st_wait, p, &err);
	if (!r)
		return err;
	*request_id = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	return RDNS_OK;
}

int db_request_cancel(db_t *db, long long id, long long account, long long actor, const char *actor_name)
{
	char id_s[24], acct[24], actor_s[24];
	snprintf(id_s, sizeof(id_s), "%lld", id);
	snprintf(acct, sizeof(acct), "%lld", account);
	snprintf(actor_s, sizeof(actor_s), "%lld", actor);
	const char *p[4] = {id_s, account ? acct : NULL, actor_s, actor_name};
	int err;
	PGresult *r = db_exec(db, &st_cancel, p, &err);
	if (r) {
		PQclear(r);
		return RDNS_OK;
	}
	const char *st = db_last_sqlstate(db);
	if (strcmp(st, "P0002") == 0)
		return RDNS_ENOTFOUND;
	if (strcmp(st, "55000") == 0)
		return RDNS_EEXIST;
	return err;
}

int db_jobs_claim(db_t *db, const char *worker, long lease_ms, db_job_t *out, size_t n, size_t *got)
{
	char lease[24], n_s[24];
	snprintf(lease, sizeof(lease), "%ld", lease_ms);
	snprintf(n_s, sizeof(n_s), "%zu", n);
	const char *p[3] = {worker, lease, n_s};
	int err;
	*got = 0;
	PGresult *r = db_exec(db, &st_claim, p, &err);
	if (!r)
		return err;
	for (int row = 0; row < PQntuples(r) && *got < n; row++) {
		db_job_t *j = &out[(*got)++];
		memset(j, 0, sizeof(*j));
		j->request_id = atoll(PQgetvalue(r, row, 0));
		j->claim = atoll(PQgetvalue(r, row, 1));
		j->tries = atoi(PQgetvalue(r, row, 2));
		snprintf(j->ip, sizeof(j->ip), "%s", PQgetvalue(r, row, 3));
		snprintf(j->hostname, sizeof(j->hostname), "%s", PQgetvalue(r, row, 4));
	}
	PQclear(r);
	return RDNS_OK;
}

static const char *const outcome_names[] = {"applied", "expired", "retry", "lost", "gone", "delegated"};

const char *db_job_outcome_str(db_job_outcome_t o)
{
	return (unsigned)o < sizeof(outcome_names) / sizeof(outcome_names[0]) ? outcome_names[o] : "?";
}

int db_job_finish(db_t *db, const db_job_t *j, const char *worker, bool passed, bool final,
                  const char *checks_json, long retry_ms, db_job_outcome_t *outcome)
{
	char id[24], claim[24], retry[24];
	snprintf(id, sizeof(id), "%lld", j->request_id);
	snprintf(claim, sizeof(claim), "%lld", j->claim);
	snprintf(retry, sizeof(retry), "%ld", retry_ms);
	const char *p[7] = {id, claim, worker, passed ? "t" : "f", final ? "t" : "f", checks_json, retry};
	int err;
	PGresult *r = db_exec(db, &st_finish, p, &err);
	if (!r)
		return err;
	const char *v = PQgetvalue(r, 0, 0);
	int rc = RDNS_EDB;
	for (size_t i = 0; i < sizeof(outcome_names) / sizeof(outcome_names[0]); i++)
		if (strcmp(v, outcome_names[i]) == 0) {
			*outcome = (db_job_outcome_t)i;
			rc = RDNS_OK;
		}
	PQclear(r);
	return rc;
}
