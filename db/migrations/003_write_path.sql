-- 003_write_path.sql - a PTR change without row locks on shared rows.
--
-- Until now every change locked rows that all changes share: FOR KEY SHARE on its
-- zone's and its allocation's row, and the foreign-key checks of its request row
-- (accounts) and of its zone_changes row (reverse_zones) locked the account's and the
-- zone's row again. Concurrent lockers of one row turn its lock into a MultiXact and
-- every lock writes WAL and dirties the page of that row, so all writers of a zone
-- queued on one page: 64 writers managed fewer changes per second than 8.
--
-- Now a change takes weak table locks instead (ROW SHARE on reverse_zones and
-- allocations: fast-path locks, no tuple write, no WAL), and the rare operations that
-- remove what a change relies on (deleting a zone or an allocation) take the EXCLUSIVE
-- table lock, which waits for the changes in flight and holds new ones back until it
-- commits. Plain reads (GET) are never blocked by it.
--
-- And less work per change (callgrind, PostgreSQL single-user mode, the token check and
-- the apply of one verified PUT, fresh database: 1.29M instructions with 002 -> 1.07M):
-- the function runs five statements instead of eleven, and the CHECK constraints the
-- change hits become domains (a table's CHECK is read back from its stored text and
-- planned again by every statement that writes the table; a domain's is cached).

CREATE DOMAIN rdns_request_state AS text
    CHECK (VALUE IN ('applied', 'failed_checks', 'pending_review', 'approved', 'rejected', 'superseded'));
CREATE DOMAIN rdns_request_action AS text CHECK (VALUE IN ('set', 'delete'));
-- A host address: /32 for IPv4, /128 for IPv6.
CREATE DOMAIN rdns_host_addr AS inet
    CHECK (masklen(VALUE) = CASE family(VALUE) WHEN 4 THEN 32 ELSE 128 END);
ALTER TABLE ptr_requests DROP CONSTRAINT ptr_requests_state_check, DROP CONSTRAINT ptr_requests_action_check,
    ALTER COLUMN state TYPE rdns_request_state, ALTER COLUMN action TYPE rdns_request_action;
ALTER TABLE ptr_records DROP CONSTRAINT ptr_records_ip_check, ALTER COLUMN ip TYPE rdns_host_addr;

-- Requests are history, like audit_log: they keep the id of the account that made
-- them. Accounts are never deleted (tokens are revoked instead), and the functions
-- below take the account id from an authenticated token.
ALTER TABLE ptr_requests DROP CONSTRAINT ptr_requests_account_id_fkey;

-- zone_changes is a queue for rdns-zonegen. Its rows are inserted under the ROW SHARE
-- lock of reverse_zones, so no change can point at a zone being deleted. The change
-- row a zone's deletion leaves behind tells rdns-zonegen to stop serving the zone now
-- (not at the next reconcile); rdns-zonegen then deletes that row.
ALTER TABLE zone_changes DROP CONSTRAINT zone_changes_zone_id_fkey;

-- As in 002, with the zone and allocation locks above and fewer statements: one read
-- of the zone, the owner, the old name and whether a request is pending; the supersede
-- UPDATE only when one is; the request, its audit entry and the zone's change mark in
-- one INSERT ... WITH.
CREATE OR REPLACE FUNCTION rdns_ptr_apply(p_ip inet, p_hostname text, p_owner bigint, p_actor bigint,
                                          p_actor_name text, p_forced boolean, p_checks jsonb, p_reason text,
                                          p_request_id bigint, OUT o_request bigint,
                                          OUT o_updated_at timestamptz, OUT o_verified_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    v_zone bigint;
    v_old text;
    v_holder bigint;
    v_pending boolean;
    v_first boolean;
BEGIN
    -- One writer per address at a time; the final state equals one committed request.
    PERFORM pg_advisory_xact_lock(hashtextextended(host(p_ip), 7400522));
    -- Neither the zone nor the allocation can be deleted until this commits (see the top).
    LOCK TABLE reverse_zones, allocations IN ROW SHARE MODE;
    SELECT (SELECT id FROM reverse_zones WHERE prefix >>= p_ip),
           (SELECT account_id FROM allocations WHERE prefix >>= p_ip),
           (SELECT hostname FROM ptr_records WHERE ip = p_ip),
           EXISTS (SELECT 1 FROM ptr_requests WHERE ip = p_ip AND state = 'pending_review')
      INTO v_zone, v_holder, v_old, v_pending;
    IF v_zone IS NULL THEN
        RAISE EXCEPTION 'address % is in no reverse zone', p_ip USING ERRCODE = 'no_data_found';
    END IF;
    IF p_owner IS NOT NULL AND v_holder IS DISTINCT FROM p_owner THEN
        RAISE EXCEPTION 'address % is not allocated to the account', p_ip USING ERRCODE = 'no_data_found';
    END IF;
    IF v_pending THEN
        -- (the request being applied, if any, is 'approved' by now)
        UPDATE ptr_requests SET state = 'superseded', decided_at = now()
         WHERE ip = p_ip AND state = 'pending_review';
    END IF;
    IF p_hostname IS NULL THEN
        DELETE FROM ptr_records WHERE ip = p_ip;
    ELSE
        -- The record belongs to the address's customer, also when staff set it.
        INSERT INTO ptr_records AS p (ip, zone_id, hostname, account_id, verified_at, forced, updated_at)
        VALUES (p_ip, v_zone, p_hostname, v_holder, CASE WHEN p_forced THEN NULL ELSE now() END, p_forced, now())
        ON CONFLICT (ip) DO UPDATE SET zone_id = EXCLUDED.zone_id, hostname = EXCLUDED.hostname,
            account_id = EXCLUDED.account_id, verified_at = EXCLUDED.verified_at, forced = EXCLUDED.forced,
            updated_at = EXCLUDED.updated_at
        RETURNING p.updated_at, p.verified_at INTO o_updated_at, o_verified_at;
    END IF;
    -- A new request unless one (approved) is being applied; the audit entry; the zone's
    -- change mark when the name changes. v_first: the zone had no pending change before
    -- (the statement's snapshot does not see its own inserts), so rdns-zonegen is woken.
    WITH req AS (
        INSERT INTO ptr_requests (account_id, ip, hostname, action, exception_reason, forced, state, checks)
        SELECT p_actor, p_ip, p_hostname, CASE WHEN p_hostname IS NULL THEN 'delete' ELSE 'set' END,
               p_reason, p_forced, 'applied', coalesce(p_checks, '[]')
         WHERE p_request_id IS NULL
        RETURNING id
    ), rid AS (
        SELECT coalesce((SELECT id FROM req), p_request_id) AS id
    ), aud AS (
        INSERT INTO audit_log (actor_id, actor_name, action, ip, object, old_value, new_value, request_id, detail)
        SELECT p_actor, p_actor_name,
               CASE WHEN p_hostname IS NULL THEN 'ptr.delete' WHEN p_forced THEN 'ptr.force' ELSE 'ptr.set' END,
               p_ip, 'ptr ' || host(p_ip), v_old, p_hostname, rid.id, jsonb_build_object('forced', p_forced)
          FROM rid
    ), chg AS (
        INSERT INTO zone_changes (zone_id) SELECT v_zone WHERE v_old IS DISTINCT FROM p_hostname RETURNING seq
    )
    SELECT rid.id, EXISTS (SELECT 1 FROM chg) AND NOT EXISTS (SELECT 1 FROM zone_changes WHERE zone_id = v_zone)
      INTO o_request, v_first FROM rid;
    IF v_first THEN
        PERFORM pg_notify('rdns_changes', v_zone::text);
    END IF;
END $$;

-- As in 002, behind the EXCLUSIVE lock: changes in flight finish first (their PTRs
-- are then reset here), later ones find no allocation.
CREATE OR REPLACE FUNCTION rdns_allocation_delete(p_id bigint, p_staff bigint, p_staff_name text) RETURNS integer
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
    PERFORM rdns_zone_touch(z.id) FROM reverse_zones z WHERE z.prefix && a.prefix;
    UPDATE ptr_requests SET state = 'superseded', decided_at = now()
     WHERE ip <<= a.prefix AND state = 'pending_review';
    DELETE FROM allocations WHERE id = p_id;
    PERFORM rdns_audit(p_staff, p_staff_name, 'allocation.delete', NULL, 'allocation ' || p_id,
                       a.prefix::text, NULL, NULL, jsonb_build_object('account', a.account_id, 'reset', n));
    RETURN n;
END $$;
