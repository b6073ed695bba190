-- rdns_allocation_delete() - delete an allocation: every custom PTR inside it is reset
-- (so the next customer of a recycled address never inherits the old name), pending
-- requests in it are superseded, its delegations removed (migration 009), all audited.
-- Raises P0002 when there is no such allocation.
--
-- Behind the EXCLUSIVE lock (migration 003): changes in flight finish first (their PTRs
-- are then reset here), later ones find no allocation.

CREATE OR REPLACE FUNCTION rdns_allocation_delete(p_id bigint, p_staff bigint,
                                                  p_staff_name text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    a allocations%ROWTYPE;
    rec record;
    n integer := 0;
BEGIN
    LOCK TABLE allocations IN EXCLUSIVE MODE;
    SELECT * INTO a FROM allocations WHERE id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no allocation %', p_id USING ERRCODE = 'no_data_found';
    END IF;
    FOR rec IN DELETE FROM ptr_records WHERE ip <<= a.prefix RETURNING ip, zone_id, hostname LOOP
        PERFORM rdns_audit(p_staff, p_staff_name, 'ptr.reset', rec.ip, 'ptr ' || host(rec.ip), rec.hostname, NULL,
                           NULL, jsonb_build_object('allocation', p_id));
        n := n + 1;
    END LOOP;
    -- The next holder starts with the provider's records, not the old holder's servers.
    FOR rec IN DELETE FROM delegations WHERE prefix <<= a.prefix RETURNING prefix, zone_id, nameservers LOOP
        PERFORM rdns_audit(p_staff, p_staff_name, 'delegation.delete', NULL, 'delegation ' || rec.prefix::text,
                           array_to_string(rec.nameservers, ' '), NULL, NULL,
                           jsonb_build_object('allocation', p_id, 'zone', rec.zone_id));
    END LOOP;
    PERFORM rdns_zone_touch(z.id) FROM reverse_zones z WHERE z.prefix && a.prefix;
    UPDATE ptr_requests SET state = 'superseded', decided_at = now()
     WHERE ip <<= a.prefix AND state IN ('pending_review', 'waiting_forward');
    DELETE FROM allocations WHERE id = p_id;
    PERFORM rdns_audit(p_staff, p_staff_name, 'allocation.delete', NULL, 'allocation ' || p_id,
                       a.prefix::text, NULL, NULL, jsonb_build_object('account', a.account_id, 'reset', n));
    RETURN n;
END $$;
