/* accounts.c - accounts and API tokens: creation and constant-time checking. */
#include "accounts.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/err.h"
#include "core/id.h"

DB_STMT(st_account_insert, "INSERT INTO accounts (name, role) VALUES ($1, $2) RETURNING id", 2);
DB_STMT(st_token_insert,
        "INSERT INTO api_tokens (account_id, secret_hash) VALUES ($1, decode($2, 'hex')) RETURNING id", 2);
DB_STMT(st_token_get,
        "SELECT encode(t.secret_hash, 'hex'), a.id, a.role, a.name,"
        " t.last_used_at IS NULL OR t.last_used_at < now() - interval '60 seconds'"
        " FROM api_tokens t JOIN accounts a ON a.id = t.account_id WHERE t.id = $1 AND t.revoked_at IS NULL",
        1);
/* Every worker that read a stale last_used_at gets here at about the same moment: one
 * updates it, the others skip the locked row instead of queueing behind its commit. */
DB_STMT(st_token_touch,
        "UPDATE api_tokens SET last_used_at = now() WHERE id = (SELECT id FROM api_tokens WHERE id = $1"
        " AND (last_used_at IS NULL OR last_used_at < now() - interval '60 seconds') FOR UPDATE SKIP LOCKED)",
        1);
/* st_token_touch for the stale tokens of a batch of lookups (api/batch.c), one statement
 * for all: with many accounts most lookups are a token's first use in a minute, and the
 * batch's leader ran one UPDATE for each while every other lookup waited (issue #17 S1).
 * ORDER BY id: two batches lock their rows in one order. */
DB_STMT(st_token_touch_many,
        "UPDATE api_tokens SET last_used_at = now() WHERE id IN (SELECT id FROM api_tokens"
        " WHERE id = ANY ($1::bigint[]) AND (last_used_at IS NULL OR last_used_at < now() - interval '60 "
        "seconds')"
        " ORDER BY id FOR UPDATE SKIP LOCKED)",
        1);

int db_account_create(db_t *db, const char *name, const char *role, long long *id)
{
	int err;
	const char *p[2] = {name, role};
	PGresult *r = db_exec(db, &st_account_insert, p, &err);
	if (!r)
		return err;
	*id = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	return RDNS_OK;
}

static void hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = 0;
}

int db_token_create(db_t *db, long long account_id, char *token, size_t len, long long *token_id)
{
	unsigned char raw[32], secret_b64[48], digest[SHA256_DIGEST_LENGTH];
	char hash_hex[2 * SHA256_DIGEST_LENGTH + 1], acct[24];
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return RDNS_EIO;
	int n = EVP_EncodeBlock(secret_b64, raw, sizeof(raw)); /* 44 chars with one '=' */
	while (n > 0 && secret_b64[n - 1] == '=')
		secret_b64[--n] = 0;
	for (int i = 0; i < n; i++) /* base64url */
		if (secret_b64[i] == '+')
			secret_b64[i] = '-';
		else if (secret_b64[i] == '/')
			secret_b64[i] = '_';
	SHA256(secret_b64, (size_t)n, digest);
	hex(digest, sizeof(digest), hash_hex);
	snprintf(acct, sizeof(acct), "%lld", account_id);
	const char *p[2] = {acct, hash_hex};
	int err;
	PGresult *r = db_exec(db, &st_token_insert, p, &err);
	if (!r)
		return err;
	*token_id = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	if ((size_t)snprintf(token, len, "rdns_%lld_%s", *token_id, (char *)secret_b64) >= len)
		return RDNS_ESPACE;
	return RDNS_OK;
}

int db_token_check(db_t *db, const char *token, db_principal_t *who)
{
	PGresult *r = NULL;
	int rc = db_token_check_with(db, token, who, &st_token_get, NULL, &r);
	PQclear(r);
	return rc;
}

int db_token_parse(const char *token, db_token_key_t *k)
{
	if (strncmp(token, "rdns_", 5) != 0)
		return RDNS_EDENIED;
	const char *idp = token + 5;
	size_t idlen = core_id_span(idp); /* "rdns_03_..." is not token 3 */
	if (idlen == 0 || idp[idlen] != '_')
		return RDNS_EDENIED;
	const char *secret = idp + idlen + 1;
	size_t slen = strlen(secret);
	if (slen != 43 ||
	    strspn(secret, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != slen)
		return RDNS_EDENIED;
	memcpy(k->id, idp, idlen);
	k->id[idlen] = 0;
	unsigned char digest[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)secret, slen, digest);
	hex(digest, sizeof(digest), k->hash_hex);
	return RDNS_OK;
}

int db_token_match(const PGresult *r, int row, int col, const db_token_key_t *k, db_principal_t *who,
                   bool *stale)
{
	if (PQgetisnull(r, row, col) || PQgetlength(r, row, col) != 2 * SHA256_DIGEST_LENGTH ||
	    CRYPTO_memcmp(PQgetvalue(r, row, col), k->hash_hex, 2 * SHA256_DIGEST_LENGTH) != 0)
		return RDNS_EDENIED;
	who->token_id = atoll(k->id);
	who->account_id = atoll(PQgetvalue(r, row, col + 1));
	who->staff = strcmp(PQgetvalue(r, row, col + 2), "staff") == 0;
	snprintf(who->name, sizeof(who->name), "%s", PQgetvalue(r, row, col + 3));
	*stale = PQgetvalue(r, row, col + 4)[0] == 't';
	return RDNS_OK;
}

void db_token_touch(db_t *db, const db_token_key_t *k)
{
	const char *p[1] = {k->id};
	int err;
	PGresult *u = db_exec(db, &st_token_touch, p, &err);
	PQclear(u); /* a failed refresh costs nothing but a later one */
}

void db_token_touch_many(db_t *db, const db_token_key_t *const *keys, size_t n)
{
	if (n == 0)
		return;
	if (n == 1) {
		db_token_touch(db, keys[0]);
		return;
	}
	core_strbuf_t ids = {0};
	for (size_t i = 0; i < n; i++)
		db_array_elem(&ids, i, keys[i]->id); /* digits only (db_token_parse) */
	core_strbuf_put(&ids, "}", 1);
	if (!ids.failed) {
		const char *p[1] = {ids.p};
		int err;
		PQclear(db_exec(db, &st_token_touch_many, p,
		                &err)); /* as db_token_touch: a failure costs a later one */
	}
	free(ids.p);
}

int db_token_check_key(db_t *db, const db_token_key_t *k, db_principal_t *who, db_stmt_t *st, const char *arg,
                       PGresult **res)
{
	*res = NULL;
	const char *p[2] = {k->id, arg};
	int err;
	PGresult *r = db_exec(db, st, p, &err);
	if (!r)
		return err;
	bool stale;
	if (PQntuples(r) != 1 || db_token_match(r, 0, 0, k, who, &stale) != RDNS_OK) {
		PQclear(r);
		return RDNS_EDENIED;
	}
	if (stale)
		db_token_touch(db, k);
	*res = r;
	return RDNS_OK;
}

int db_token_check_with(db_t *db, const char *token, db_principal_t *who, db_stmt_t *st, const char *arg,
                        PGresult **res)
{
	db_token_key_t k;
	*res = NULL;
	if (db_token_parse(token, &k) != RDNS_OK)
		return RDNS_EDENIED;
	return db_token_check_key(db, &k, who, st, arg, res);
}
