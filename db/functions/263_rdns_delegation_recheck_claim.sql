-- rdns_delegation_recheck_claim() - claim at most p_n delegations due for their re-check
-- for p_lease_ms, within the budget p_qps (0: none) that PTR re-verifications share
-- (rdns_reverify_tokens: one token per delegation), as rdns_reverify_claim does: FOR
-- UPDATE SKIP LOCKED, the claimed row's due_at moved to the end of the lease. Returns what
-- the check needs: the delegation, its name servers (space-separated: host names hold no
-- space), its zone's prefix and classless label (the child zone's name is core/deleg.c's);
-- a single row with a NULL id when some were due but the budget was spent.

CREATE OR REPLACE FUNCTION rdns_delegation_recheck_claim(p_n integer, p_qps double precision, p_lease_ms integer)
RETURNS TABLE (o_id bigint, o_prefix cidr, o_ns text, o_zone_prefix cidr, o_label text)
LANGUAGE plpgsql AS $$
DECLARE
    v_n integer := p_n;
    v_got integer;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM delegation_checks WHERE due_at <= now()) THEN
        RETURN; -- nothing due: the bucket is not touched
    END IF;
    IF p_qps > 0 THEN
        v_n := least(p_n, rdns_reverify_tokens(p_qps));
        IF v_n <= 0 THEN
            RETURN NEXT; -- all NULL: spent
            RETURN;
        END IF;
    END IF;
    RETURN QUERY
    WITH due AS (
        SELECT c.delegation_id FROM delegation_checks c WHERE c.due_at <= now() ORDER BY c.due_at LIMIT v_n
           FOR UPDATE SKIP LOCKED
    ), claimed AS (
        UPDATE delegation_checks c SET due_at = now() + p_lease_ms * interval '1 millisecond'
          FROM due WHERE c.delegation_id = due.delegation_id
        RETURNING c.delegation_id
    )
    SELECT d.id, d.prefix, array_to_string(d.nameservers, ' '), z.prefix, z.classless_label
      FROM claimed JOIN delegations d ON d.id = claimed.delegation_id JOIN reverse_zones z ON z.id = d.zone_id;
    GET DIAGNOSTICS v_got = ROW_COUNT;
    IF p_qps > 0 THEN
        PERFORM rdns_reverify_spend(v_got);
    END IF;
END $$;
