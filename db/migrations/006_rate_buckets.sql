-- 006: the write rate limit as a token bucket per account, not a calendar-minute counter.
--
-- rate_limits counted writes per (account, date_trunc('minute', now())): a customer
-- limited to 120 writes a minute could make 120 in the last second of one minute and 120
-- in the first of the next (240 accepted in 1.7 s were measured across a boundary). A
-- bucket holds at most rate_limit_writes tokens, refills at rate_limit_writes a minute and
-- each write takes one: no boundary to straddle, and one row per account instead of one
-- per account and minute. rdns_rate_take() (db/functions) does the arithmetic.
--
-- rate_limits stays for a rolling upgrade (an rdns-api of schema 005 still counts in it
-- until it is replaced); nothing of this release reads or writes it.

CREATE TABLE rate_buckets (
    account_id  bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    tokens      double precision NOT NULL,
    updated_at  timestamptz NOT NULL
);
