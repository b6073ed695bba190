-- rdns_rate_take_n() - take p_n tokens at once from an account's write bucket (the bucket
-- of rdns_rate_take, 100): a bulk change counts its items. All or nothing: o_allowed is
-- false when fewer than p_n are left (nothing is taken), and o_retry_after the whole seconds
-- until they are (at least 1; p_n above p_limit can never be taken: -1).

CREATE OR REPLACE FUNCTION rdns_rate_take_n(p_account bigint, p_limit integer, p_n integer,
                                            OUT o_allowed boolean, OUT o_retry_after integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_rate   double precision := p_limit / 60.0; -- tokens a second
    v_tokens double precision;
    v_at     timestamptz;
    v_now    timestamptz;
BEGIN
    IF p_n > p_limit THEN
        o_allowed := false;
        o_retry_after := -1;
        RETURN;
    END IF;
    SELECT tokens, updated_at INTO v_tokens, v_at FROM rate_buckets WHERE account_id = p_account FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO rate_buckets (account_id, tokens, updated_at) VALUES (p_account, p_limit, clock_timestamp())
        ON CONFLICT (account_id) DO NOTHING;
        SELECT tokens, updated_at INTO v_tokens, v_at FROM rate_buckets WHERE account_id = p_account FOR UPDATE;
    END IF;
    v_now := clock_timestamp();
    v_tokens := least(p_limit::double precision,
                      v_tokens + greatest(0, extract(epoch FROM v_now - v_at)::double precision) * v_rate);
    o_allowed := v_tokens >= p_n;
    IF o_allowed THEN
        v_tokens := v_tokens - p_n;
        o_retry_after := 0;
    ELSE
        o_retry_after := greatest(1, ceil((p_n - v_tokens) / v_rate)::integer);
    END IF;
    UPDATE rate_buckets SET tokens = v_tokens, updated_at = v_now WHERE account_id = p_account;
END $$;
