-- rdns_delegation_put() - create or replace the delegation of a prefix, in one
-- transaction with its audit entry and its zone's change mark (the NOTIFY to
-- rdns-zonegen at commit).
--
-- p_owner: the customer whose allocation must hold the whole prefix (null: staff, no
-- check). The prefix must lie strictly inside a reverse zone; rdns-api has checked its
-- length (core/deleg.c). Raises 'P0002' (no_data_found) when the prefix is in no zone or
-- not in the owner's allocation, '23P01' when it overlaps another delegation.
-- o_created: whether the delegation is new. Its re-check state (delegation_checks,
-- migration 013) becomes what this check found: lame when forced past failed checks
-- (since when it already was, for the same name servers), else pass; its schedule is
-- kept (a new one is scheduled by rdns-verifier's discovery).
--
-- ROW SHARE on reverse_zones and allocations, as rdns_ptr_apply: neither the zone nor the
-- allocation is deleted until this commits (their deletions take EXCLUSIVE).
-- EXCLUSIVE on delegations (after those, in the order every writer takes them): the PTR
-- writers (rdns_ptr_apply, _apply_batch, _bulk_apply, through them the staff approval and
-- rdns-verifier) take ROW SHARE on it before they check that an address is not
-- delegated, so a delegation waits for the PTR changes in flight to commit (their PTRs are
-- kept, unrendered) and the changes after it see it and are refused. Readers (the
-- renderer, the lookups) take ACCESS SHARE, which EXCLUSIVE does not block.

CREATE OR REPLACE FUNCTION rdns_delegation_put(p_prefix cidr, p_ns text[], p_owner bigint, p_actor bigint,
                                               p_actor_name text, p_forced boolean, p_checks jsonb,
                                               OUT o_id bigint, OUT o_created boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_zone bigint;
    v_holder bigint;
    v_old text[];
    v_lame boolean;
BEGIN
    LOCK TABLE reverse_zones, allocations IN ROW SHARE MODE;
    LOCK TABLE delegations IN EXCLUSIVE MODE;
    SELECT (SELECT id FROM reverse_zones WHERE prefix >> p_prefix),
           (SELECT account_id FROM allocations WHERE prefix >>= p_prefix),
           (SELECT nameservers FROM delegations WHERE prefix = p_prefix)
      INTO v_zone, v_holder, v_old;
    IF v_zone IS NULL THEN
        RAISE EXCEPTION 'prefix % is inside no reverse zone', p_prefix USING ERRCODE = 'no_data_found';
    END IF;
    IF p_owner IS NOT NULL AND v_holder IS DISTINCT FROM p_owner THEN
        RAISE EXCEPTION 'prefix % is not inside an allocation of the account', p_prefix
            USING ERRCODE = 'no_data_found';
    END IF;
    INSERT INTO delegations AS d (prefix, zone_id, account_id, nameservers, checks, forced)
    VALUES (p_prefix, v_zone, v_holder, p_ns, coalesce(p_checks, '[]'), p_forced)
    ON CONFLICT (prefix) DO UPDATE SET zone_id = EXCLUDED.zone_id, account_id = EXCLUDED.account_id,
        nameservers = EXCLUDED.nameservers, checks = EXCLUDED.checks, forced = EXCLUDED.forced,
        updated_at = now()
    RETURNING d.id INTO o_id;
    o_created := v_old IS NULL;
    v_lame := coalesce(p_checks, '[]') @> '[{"status": "fail"}]';
    INSERT INTO delegation_checks AS c (delegation_id, state, checks, checked_at, lame_since)
    VALUES (o_id, CASE WHEN v_lame THEN 'lame' ELSE 'pass' END, coalesce(p_checks, '[]'), now(),
            CASE WHEN v_lame THEN now() END)
    ON CONFLICT (delegation_id) DO UPDATE SET state = EXCLUDED.state, checks = EXCLUDED.checks,
        checked_at = EXCLUDED.checked_at,
        lame_since = CASE WHEN v_lame AND c.state = 'lame' AND v_old = p_ns THEN c.lame_since
                          ELSE EXCLUDED.lame_since END;
    IF v_old IS DISTINCT FROM p_ns THEN
        PERFORM rdns_zone_touch(v_zone);
    END IF;
    PERFORM rdns_audit(p_actor, p_actor_name, CASE WHEN p_forced THEN 'delegation.force' ELSE 'delegation.set' END,
                       NULL, 'delegation ' || p_prefix::text, array_to_string(v_old, ' '),
                       array_to_string(p_ns, ' '), NULL,
                       jsonb_build_object('forced', p_forced, 'zone', v_zone, 'account', v_holder,
                                          'checks', coalesce(p_checks, '[]')));
END $$;
