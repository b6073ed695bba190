/* delegcheck.c - the periodic re-check of delegations: parameterised SQL only. */
#include "delegcheck.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/strbuf.h"

DB_STMT(st_dc_discover, "SELECT rdns_delegation_recheck_discover($1::integer)", 1);
DB_STMT(st_dc_claim,
        "SELECT o_id, o_prefix, o_ns, o_zone_prefix, o_label"
        " FROM rdns_delegation_recheck_claim($1::integer, $2::float8, $3::integer)",
        3);
DB_STMT(st_dc_finish,
        "SELECT o_id, o_outcome FROM rdns_delegation_recheck_finish($1::bigint[], $2::text[], $3::text[],"
        " $4::text[], $5::integer, $6::integer, $7)",
        7);

int db_delegcheck_discover(db_t *db, long interval_s, long *added)
{
	char iv[24];
	snprintf(iv, sizeof(iv), "%ld", interval_s);
	const char *p[1] = {iv};
	int err;
	PGresult *r = db_exec(db, &st_dc_discover, p, &err);
	if (!r)
		return err;
	*added = atol(PQgetvalue(r, 0, 0));
	PQclear(r);
	return RDNS_OK;
}

int db_delegcheck_claim(db_t *db, size_t n, double qps, long lease_ms, db_delegcheck_t *out, size_t *got,
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
	PGresult *r = db_exec(db, &st_dc_claim, p, &err);
	if (!r)
		return err;
	for (int row = 0; row < PQntuples(r); row++) {
		if (PQgetisnull(r, row, 0)) {
			*spent = true;
			continue;
		}
		if (*got == n)
			break;
		db_delegcheck_t *x = &out[(*got)++];
		memset(x, 0, sizeof(*x));
		x->id = atoll(PQgetvalue(r, row, 0));
		snprintf(x->prefix, sizeof(x->prefix), "%s", PQgetvalue(r, row, 1));
		snprintf(x->ns, sizeof(x->ns), "%s", PQgetvalue(r, row, 2));
		snprintf(x->zone_prefix, sizeof(x->zone_prefix), "%s", PQgetvalue(r, row, 3));
		snprintf(x->classless_label, sizeof(x->classless_label), "%s", PQgetvalue(r, row, 4));
		x->result = DB_DELEGCHECK_UNKNOWN;
	}
	PQclear(r);
	return RDNS_OK;
}

static const char *result_word(db_delegcheck_result_t r)
{
	return r == DB_DELEGCHECK_PASS ? "pass" : r == DB_DELEGCHECK_LAME ? "lame" : "unknown";
}

static void count(db_delegcheck_counts_t *c, const char *what, size_t k)
{
	static const struct {
		const char *word;
		size_t off;
	} words[] = {
	    {"pass", offsetof(db_delegcheck_counts_t, pass)},
	    {"lame", offsetof(db_delegcheck_counts_t, lame)},
	    {"still_lame", offsetof(db_delegcheck_counts_t, still_lame)},
	    {"recovered", offsetof(db_delegcheck_counts_t, recovered)},
	    {"unknown", offsetof(db_delegcheck_counts_t, unknown)},
	    {"changed", offsetof(db_delegcheck_counts_t, changed)},
	};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(what, words[i].word) == 0)
			*(size_t *)((char *)c + words[i].off) += k;
}

int db_delegcheck_finish(db_t *db, const db_delegcheck_t *x, size_t n, long interval_s, long retry_ms,
                         const char *worker, db_delegcheck_counts_t *counts, const char **outcomes)
{
	core_strbuf_t a[4];
	memset(a, 0, sizeof(a));
	memset(counts, 0, sizeof(*counts));
	if (n == 0)
		return RDNS_OK;
	for (size_t i = 0; i < n; i++) {
		char id[24];
		snprintf(id, sizeof(id), "%lld", x[i].id);
		db_array_elem(&a[0], i, id);
		db_array_elem(&a[1], i, x[i].ns);
		db_array_elem(&a[2], i, result_word(x[i].result));
		db_array_elem(&a[3], i, x[i].checks_json);
	}
	char iv[24], retry[24];
	snprintf(iv, sizeof(iv), "%ld", interval_s);
	snprintf(retry, sizeof(retry), "%ld", retry_ms);
	bool ok = true;
	for (int k = 0; k < 4; k++) {
		core_strbuf_put(&a[k], "}", 1);
		ok = ok && !a[k].failed;
	}
	int err = RDNS_ENOMEM;
	PGresult *r = NULL;
	if (ok) {
		const char *p[7] = {a[0].p, a[1].p, a[2].p, a[3].p, iv, retry, worker};
		r = db_exec(db, &st_dc_finish, p, &err);
	}
	for (int k = 0; k < 4; k++)
		free(a[k].p);
	if (!r)
		return err;
	for (int row = 0; row < PQntuples(r); row++) {
		const char *word = PQgetvalue(r, row, 1);
		count(counts, word, 1);
		long long id = atoll(PQgetvalue(r, row, 0));
		for (size_t i = 0; outcomes && i < n; i++)
			if (x[i].id == id)
				outcomes[i] = strcmp(word, "lame") == 0        ? "lame"
				              : strcmp(word, "recovered") == 0 ? "recovered"
				                                               : NULL;
	}
	PQclear(r);
	return RDNS_OK;
}
