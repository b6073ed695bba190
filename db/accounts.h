/* accounts.h - accounts and API tokens in PostgreSQL. */
#ifndef RDNS_DB_ACCOUNTS_H
#define RDNS_DB_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>

#include "db/db.h"

/* "rdns_" + decimal id + "_" + 43 base64url characters + NUL. */
#define DB_TOKEN_MAX 80

/* Create an account; role "customer" or "staff". RDNS_EEXIST when the name is taken. */
int db_account_create(db_t *db, const char *name, const char *role, long long *id);

/* Create a token for an account. The token text is written to token (shown
 * once; only a hash of its secret is stored). RDNS_ENOTFOUND for no account. */
int db_token_create(db_t *db, long long account_id, char *token, size_t len, long long *token_id);

typedef struct {
	long long account_id;
	long long token_id;
	bool staff;
	char name[201];
} db_principal_t;

/* Authenticate a bearer token: RDNS_OK and *who filled, RDNS_EDENIED for an
 * unknown, malformed or revoked token, RDNS_EDB when the database is down.
 * The secret's hash is compared in constant time. last_used_at is refreshed
 * at most once a minute per token, by one request: no other waits for it. */
int db_token_check(db_t *db, const char *token, db_principal_t *who);

/* A bearer token taken apart: its id and the hex SHA-256 of its secret. */
typedef struct {
	char id[24];
	char hash_hex[65];
} db_token_key_t;

/* Split a token into *k: RDNS_OK, or RDNS_EDENIED when it is malformed. */
int db_token_parse(const char *token, db_token_key_t *k);

/* Compare row's columns col.. (hash, account id, role, name, stale) with k in constant
 * time: RDNS_OK with *who and *stale filled, or RDNS_EDENIED. */
int db_token_match(const PGresult *r, int row, int col, const db_token_key_t *k, db_principal_t *who,
                   bool *stale);

/* Refresh k's last_used_at if it is stale and no other request is doing it. */
void db_token_touch(db_t *db, const db_token_key_t *k);

/* db_token_touch for n tokens in one statement (duplicates allowed). */
void db_token_touch_many(db_t *db, const db_token_key_t *const *keys, size_t n);

/* The same check through another statement whose $1 is the token id and whose first
 * five columns are those of the token lookup (hash, account id, role, name, stale),
 * with arg as $2: one round trip for the token and what the request needs next. On
 * RDNS_OK *res holds the row (the caller clears it). */
int db_token_check_with(db_t *db, const char *token, db_principal_t *who, db_stmt_t *st, const char *arg,
                        PGresult **res);

/* db_token_check_with for a token already parsed. */
int db_token_check_key(db_t *db, const db_token_key_t *k, db_principal_t *who, db_stmt_t *st, const char *arg,
                       PGresult **res);

#endif
