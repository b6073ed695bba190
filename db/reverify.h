/* reverify.h - continuous re-verification of custom PTRs (ptr_checks, migration 007):
 * discovery, claims within the global budget, and the batch of outcomes. */
#ifndef RDNS_DB_REVERIFY_H
#define RDNS_DB_REVERIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "db/db.h"

/* Give each verified custom PTR without one its row, due at a random point of the next
 * interval_s seconds (rdns_reverify_discover). RDNS_OK with *added, or an rdns_err_t. */
int db_reverify_discover(db_t *db, long interval_s, long *added);

/* One claimed re-verification, and its outcome once verified. */
typedef enum { DB_REVERIFY_PASS, DB_REVERIFY_FAIL, DB_REVERIFY_UNKNOWN } db_reverify_result_t;
typedef struct {
	char ip[48];
	char hostname[256];
	db_reverify_result_t result;
	char *checks_json; /* the findings of a FAIL (malloc()ed, the caller's), else NULL */
} db_reverify_t;

/* Claim at most n due records for lease_ms within the budget qps (0: none) shared by every
 * instance (rdns_reverify_claim). RDNS_OK with *got in out, and *spent true when records
 * were due but the budget allowed none now; or an rdns_err_t. */
int db_reverify_claim(db_t *db, size_t n, double qps, long lease_ms, db_reverify_t *out, size_t *got,
                      bool *spent);

/* What one finish did, counted per outcome (rdns_reverify_finish's words). */
typedef struct {
	size_t verified, drifted, still_drifted, verified_again, reset, unknown, changed, gone;
} db_reverify_counts_t;

/* Record the outcomes of n claimed records in one transaction (rdns_reverify_finish):
 * next check interval_s from now, an unknown one retry_ms from now; drift audited and
 * told as events; with reset, a record drifted for grace_s goes back to the default.
 * RDNS_OK with *counts, or an rdns_err_t (nothing recorded: the rows are due again after
 * their lease). */
int db_reverify_finish(db_t *db, const db_reverify_t *r, size_t n, long interval_s, long retry_ms,
                       const char *worker, bool reset, long grace_s, db_reverify_counts_t *counts);

#endif
