-- rdns_diag_take() - take one token from an account's diagnostics bucket (migration 008).
--
-- The bucket holds at most p_limit tokens and refills at p_limit a minute, continuously;
-- a diagnosis takes one. A new account starts full. o_allowed is false when less than one
-- token is left (nothing is taken then), and o_retry_after the whole seconds until one
-- is (at least 1). Every rdns-api instance shares the bucket, and the row lock serialises
-- the diagnoses of one account: the refill is measured on clock_timestamp() once the lock is
-- held, so a caller that waited does not count the wait twice.

CREATE OR REPLACE FUNCTION rdns_diag_take(p_account bigint, p_limit integer, OUT o_allowed boolean,
                                          OUT o_retry_after integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_rate   double precision := p_limit / 60.0; -- tokens a second
    v_tokens double precision;
    v_at     timestamptz;
    v_now    timestamptz;
BEGIN
    SELECT tokens, updated_at INTO v_tokens, v_at FROM diag_buckets WHERE account_id = p_account FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO diag_buckets (account_id, tokens, updated_at) VALUES (p_account, p_limit, clock_timestamp())
        ON CONFLICT (account_id) DO NOTHING;
        SELECT tokens, updated_at INTO v_tokens, v_at FROM diag_buckets WHERE account_id = p_account FOR UPDATE;
    END IF;
    v_now := clock_timestamp();
    -- a lowered limit caps what is left at once; a clock step back refills nothing
    v_tokens := least(p_limit::double precision,
                      v_tokens + greatest(0, extract(epoch FROM v_now - v_at)::double precision) * v_rate);
    o_allowed := v_tokens >= 1;
    IF o_allowed THEN
        v_tokens := v_tokens - 1;
        o_retry_after := 0;
    ELSE
        o_retry_after := greatest(1, ceil((1 - v_tokens) / v_rate)::integer);
    END IF;
    UPDATE diag_buckets SET tokens = v_tokens, updated_at = v_now WHERE account_id = p_account;
END $$;
