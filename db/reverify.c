/* reverify.c - continuous re-verification's SQL: parameterised only. */
#include "reverify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/strbuf.h"

DB_STMT(st_discover, "SELECT rdns_reverify_discover($1::integer)", 1);
DB_STMT(st_claim,
        "SELECT host(o_ip), o_hostname FROM rdns_reverify_claim($1::integer, $2::float8, $3::integer)", 3);
DB_STMT(st_finish,
        "SELECT o_outcome, count(*) FROM rdns_reverify_finish($1::inet[], $2::text[], $3::text[], $4::text[],"
        " $5::integer, $6::integer, $7, $8::boolean, $9::integer) GROUP BY o_outcome",
        9);

int db_reverify_discover(db_t *db, long interval_s, long *added)
{
	char iv[24];
	snprintf(iv, sizeof(iv), "%ld", interval_s);
	const char *p[1] = {iv};
	int err;
	PGresult *r = db_exec(db, &st_discover, p, &err);
	if (!r)
		return err;
	*added = atol(PQgetvalue(r, 0, 0));
	PQclear(r);
	return RDNS_OK;
}

int db_reverify_claim(db_t *db, size_t n, double qps, long lease_ms, db_reverify_t *out, size_t *got,
                      bool *spent)
{
	char n_s[24], qps_s[32], lease[24];
	snprintf(n_s, sizeof(n_s), "%zu", n);
	snprintf(qps_s, sizeof(qps_s), "%.3f", qps);
	snprintf(lease, sizeof(lease), "%ld", lease_ms);
	const char *p[3] = {n_s, qps_s, lease};
	int err;
	*got = 0;
	*spent = false;
	PGresult *r = db_exec(db, &st_claim, p, &err);
	if (!r)
		return err;
	for (int row = 0; row < PQntuples(r); row++) {
		if (PQgetisnull(r, row, 0)) {
			*spent = true;
			continue;
		}
		if (*got == n)
			break;
		db_reverify_t *x = &out[(*got)++];
		memset(x, 0, sizeof(*x));
		snprintf(x->ip, sizeof(x->ip), "%s", PQgetvalue(r, row, 0));
		snprintf(x->hostname, sizeof(x->hostname), "%s", PQgetvalue(r, row, 1));
		x->result = DB_REVERIFY_UNKNOWN;
	}
	PQclear(r);
	return RDNS_OK;
}

static const char *result_word(db_reverify_result_t r)
{
	return r == DB_REVERIFY_PASS ? "pass" : r == DB_REVERIFY_FAIL ? "fail" : "unknown";
}

static void count(db_reverify_counts_t *c, const char *what, size_t k)
{
	static const struct {
		const char *word;
		size_t off;
	} words[] = {
	    {"verified", offsetof(db_reverify_counts_t, verified)},
	    {"drifted", offsetof(db_reverify_counts_t, drifted)},
	    {"still_drifted", offsetof(db_reverify_counts_t, still_drifted)},
	    {"verified_again", offsetof(db_reverify_counts_t, verified_again)},
	    {"reset", offsetof(db_reverify_counts_t, reset)},
	    {"unknown", offsetof(db_reverify_counts_t, unknown)},
	    {"changed", offsetof(db_reverify_counts_t, changed)},
	    {"gone", offsetof(db_reverify_counts_t, gone)},
	};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(what, words[i].word) == 0)
			*(size_t *)((char *)c + words[i].off) += k;
}

int db_reverify_finish(db_t *db, const db_reverify_t *x, size_t n, long interval_s, long retry_ms,
                       const char *worker, bool reset, long grace_s, db_reverify_counts_t *counts)
{
	core_strbuf_t a[4];
	memset(a, 0, sizeof(a));
	memset(counts, 0, sizeof(*counts));
	for (size_t i = 0; i < n; i++) {
		db_array_elem(&a[0], i, x[i].ip);
		db_array_elem(&a[1], i, x[i].hostname);
		db_array_elem(&a[2], i, result_word(x[i].result));
		db_array_elem(&a[3], i, x[i].checks_json);
	}
	char iv[24], retry[24], grace[24];
	snprintf(iv, sizeof(iv), "%ld", interval_s);
	snprintf(retry, sizeof(retry), "%ld", retry_ms);
	snprintf(grace, sizeof(grace), "%ld", grace_s);
	bool ok = n > 0;
	for (int k = 0; k < 4; k++) {
		core_strbuf_put(&a[k], "}", 1);
		ok = ok && !a[k].failed;
	}
	int err = RDNS_ENOMEM;
	PGresult *r = NULL;
	if (ok) {
		const char *p[9] = {a[0].p, a[1].p, a[2].p, a[3].p, iv, retry, worker, reset ? "t" : "f",
		                    grace};
		r = db_exec(db, &st_finish, p, &err);
	}
	for (int k = 0; k < 4; k++)
		free(a[k].p);
	if (!r)
		return n == 0 ? RDNS_OK : err;
	for (int row = 0; row < PQntuples(r); row++)
		count(counts, PQgetvalue(r, row, 0), (size_t)atol(PQgetvalue(r, row, 1)));
	PQclear(r);
	return RDNS_OK;
}
