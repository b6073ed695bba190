/* jobs.h - PTR sets waiting for forward DNS: their jobs for rdns-verifier, claimed with
 * FOR UPDATE SKIP LOCKED under a lease (db/migrations/007_verifier.sql). */
#ifndef RDNS_DB_JOBS_H
#define RDNS_DB_JOBS_H

#include <stdbool.h>
#include <stddef.h>

#include "db/db.h"

/* Record a PTR set as 'waiting_forward' with its job (rdns_ptr_wait): first try first_ms
 * from now, expired max_s from now; older waiting or pending requests of the address are
 * superseded. RDNS_OK with *request_id, or an rdns_err_t. */
int db_ptr_wait(db_t *db, const char *ip, const char *hostname, long long account, const char *actor_name,
                const char *checks_json, long first_ms, long max_s, long long *request_id);

/* Withdraw a waiting or pending request (rdns_request_cancel): account 0 for staff (any
 * request), else only that account's. RDNS_ENOTFOUND (none visible), RDNS_EEXIST (not
 * waiting or pending any more). */
int db_request_cancel(db_t *db, long long id, long long account, long long actor, const char *actor_name);

/* One claimed job. */
typedef struct {
	long long request_id;
	long long claim; /* the claim number the finish must present */
	int tries;       /* this one included */
	char ip[48];
	char hostname[256];
} db_job_t;

/* Claim at most n due jobs for worker (its name, as the audit shows it) for lease_ms
 * (rdns_verify_claim). RDNS_OK with *got (0..n) jobs in out, or an rdns_err_t. */
int db_jobs_claim(db_t *db, const char *worker, long lease_ms, db_job_t *out, size_t n, size_t *got);

/* What became of a finished job (rdns_verify_finish). */
typedef enum {
	DB_JOB_APPLIED,   /* passed: the PTR is applied */
	DB_JOB_EXPIRED,   /* out of time (or final): 'expired' */
	DB_JOB_RETRY,     /* due again later */
	DB_JOB_LOST,      /* the claim was taken by another worker after the lease: nothing done */
	DB_JOB_GONE,      /* the request stopped waiting meanwhile: nothing done */
	DB_JOB_DELEGATED, /* passed, but the address is delegated now: 'delegated', an event */
} db_job_outcome_t;

/* Finish job j: passed (apply), else final (expire now) or retry after retry_ms.
 * checks_json: the findings of this try. RDNS_OK with *outcome, or an rdns_err_t. */
int db_job_finish(db_t *db, const db_job_t *j, const char *worker, bool passed, bool final,
                  const char *checks_json, long retry_ms, db_job_outcome_t *outcome);

/* "applied", "expired", ... */
const char *db_job_outcome_str(db_job_outcome_t o);

#endif
