-- 008: the rate limit of the deliverability diagnostics (issue #18), a token bucket per account.
--
-- A diagnosis sends queries to the world (the zone's name servers, the sending domain's
-- name servers, the blocklists, port 25 of the address): diagnose_rate of them a minute per
-- customer account, shared by every rdns-api instance as the write bucket of 006 is.
-- rdns_diag_take() (db/functions) does the arithmetic; the buckets are apart from the
-- write buckets so that diagnosing never costs a customer a PTR change.

CREATE TABLE diag_buckets (
    account_id  bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    tokens      double precision NOT NULL,
    updated_at  timestamptz NOT NULL
);
