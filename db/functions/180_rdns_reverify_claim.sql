-- rdns_reverify_claim() - claim at most p_n due re-verifications for p_lease_ms, within
-- the global budget p_qps (0: none).
--
-- The budget is one token bucket in reverify_budget shared by every instance and by the
-- delegation re-checks (rdns_reverify_tokens, rdns_reverify_spend): refilled at p_qps a
-- second, at most one second's worth held, each claimed record taking one token, all in
-- this one statement's transaction (the bucket row's lock orders the claimers; a
-- claim is a few ms, a few per second at the budgets this is for). Rows are claimed with
-- FOR UPDATE SKIP LOCKED, and a claimed row's due_at moves to the end of the lease, so
-- nobody else takes it meanwhile and a worker that dies leaves it due again after it.
-- Returns the claimed (ip, hostname) rows; a single row with a NULL ip when records were
-- due but the budget was spent (the caller then waits a moment rather than its poll).

CREATE OR REPLACE FUNCTION rdns_reverify_claim(p_n integer, p_qps double precision, p_lease_ms integer)
RETURNS TABLE (o_ip inet, o_hostname text)
LANGUAGE plpgsql AS $$
DECLARE
    v_n integer := p_n;
    v_got integer;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM ptr_checks WHERE due_at <= now()) THEN
        RETURN; -- nothing due: the bucket is not touched
    END IF;
    IF p_qps > 0 THEN
        v_n := least(p_n, rdns_reverify_tokens(p_qps));
        IF v_n <= 0 THEN
            o_ip := NULL;
            o_hostname := NULL;
            RETURN NEXT;
            RETURN;
        END IF;
    END IF;
    RETURN QUERY
    WITH due AS (
        SELECT c.ip FROM ptr_checks c WHERE c.due_at <= now() ORDER BY c.due_at LIMIT v_n FOR UPDATE SKIP LOCKED
    )
    UPDATE ptr_checks c SET due_at = now() + p_lease_ms * interval '1 millisecond'
      FROM due WHERE c.ip = due.ip
    RETURNING c.ip, c.hostname;
    GET DIAGNOSTICS v_got = ROW_COUNT;
    IF p_qps > 0 THEN
        PERFORM rdns_reverify_spend(v_got);
    END IF;
END $$;
