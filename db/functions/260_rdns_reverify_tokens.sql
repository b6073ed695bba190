-- rdns_reverify_tokens() - refill the re-verification budget (reverify_budget, migration
-- 007) and say how many whole tokens it holds, the bucket's row locked until the caller's
-- transaction ends: the claim that asked spends what it took (rdns_reverify_spend) before
-- anyone else sees the bucket. One bucket for every rdns-verifier instance and both kinds
-- of background check (PTR re-verifications, delegation re-checks): refilled at p_qps a
-- second, at most one second's worth held.

CREATE OR REPLACE FUNCTION rdns_reverify_tokens(p_qps double precision) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_tokens double precision;
BEGIN
    UPDATE reverify_budget
       SET tokens = least(p_qps, tokens + p_qps * extract(epoch FROM now() - updated_at)), updated_at = now()
     WHERE id = 1
    RETURNING tokens INTO v_tokens;
    RETURN floor(v_tokens)::integer;
END $$;
