-- rdns_delegation_delete() - remove the delegation of a prefix, audited, its zone marked
-- dirty: the block's custom PTRs and defaults are rendered again.
--
-- p_owner: the customer whose delegation it must be (null: staff). Raises 'P0002'
-- (no_data_found) when there is no such delegation (or not the owner's).

CREATE OR REPLACE FUNCTION rdns_delegation_delete(p_prefix cidr, p_owner bigint, p_actor bigint,
                                                  p_actor_name text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    d delegations%ROWTYPE;
BEGIN
    LOCK TABLE reverse_zones, allocations IN ROW SHARE MODE;
    DELETE FROM delegations WHERE prefix = p_prefix AND (p_owner IS NULL OR account_id = p_owner)
    RETURNING * INTO d;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no delegation %', p_prefix USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM rdns_zone_touch(d.zone_id);
    PERFORM rdns_audit(p_actor, p_actor_name, 'delegation.delete', NULL, 'delegation ' || d.prefix::text,
                       array_to_string(d.nameservers, ' '), NULL, NULL,
                       jsonb_build_object('zone', d.zone_id, 'account', d.account_id));
END $$;
