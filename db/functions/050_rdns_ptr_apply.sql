-- rdns_ptr_apply() - set (p_hostname not null) or remove (null) the custom PTR of one
-- address, in one transaction with its request, its audit entry, its zone's change mark
-- and the NOTIFY to rdns-zonegen.
--
-- p_owner: the customer whose allocation must contain the address (null: staff, no check).
-- p_request_id: null records a new request in state 'applied'; else the (already
-- decided) request being applied. Supersedes older requests pending review or waiting for forward DNS (007), marks the zone
-- dirty and wakes rdns-zonegen when the name changes, audits. Returns the request id
-- and the record's timestamps as written (null for a delete).
-- Raises 'P0002' (no_data_found) when the address is outside the owner's allocations or any zone,
-- 'RDDLG' when it is inside a delegation (migration 009), with DETAIL the delegation as
-- "<prefix> <ns>, <ns>" (db/ptr.c's DELEG): its PTR is the customer's name servers' to serve.
--
-- No row locks on shared rows (migration 003): ROW SHARE table locks on reverse_zones and
-- allocations keep the zone and the allocation from being deleted until this commits
-- (deleting either takes the EXCLUSIVE table lock), and ROW SHARE on delegations keeps a
-- delegation from being created (rdns_delegation_put takes EXCLUSIVE) between the check
-- here and this commit: a delegation committed before the lock is seen by the read
-- after it, one created later waits for this PTR (which it then keeps, unrendered).
-- Five statements: one read of the zone, the owner, the old name, the delegation and
-- whether a request is pending; the supersede UPDATE
-- only when one is; the record; the request, its audit entry and the zone's change mark
-- in one INSERT ... WITH; the NOTIFY when the zone was clean (rdns_zone_pending, 005).

CREATE OR REPLACE FUNCTION rdns_ptr_apply(p_ip inet, p_hostname text, p_owner bigint, p_actor bigint,
                                          p_actor_name text, p_forced boolean, p_checks jsonb,
                                          p_reason text, p_request_id bigint, OUT o_request bigint,
                                          OUT o_updated_at timestamptz, OUT o_verified_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    v_zone bigint;
    v_old text;
    v_holder bigint;
    v_pending boolean;
    v_first boolean;
    v_deleg text;
BEGIN
    -- One writer per address at a time; the final state equals one committed request.
    -- (7400522: DB_LOCK_ADDR, db/locks.h)
    PERFORM pg_advisory_xact_lock(hashtextextended(host(p_ip), 7400522));
    -- Neither the zone nor the allocation can be deleted, nor a delegation created, until
    -- this commits (see the top).
    LOCK TABLE reverse_zones, allocations, delegations IN ROW SHARE MODE;
    -- the zone and the allocation holding p_ip: a btree floor lookup (db/floor.h)
    SELECT (SELECT f.id FROM (SELECT id, prefix FROM reverse_zones WHERE prefix <= p_ip
                              ORDER BY prefix DESC LIMIT 1) f WHERE f.prefix >>= p_ip),
           (SELECT f.account_id FROM (SELECT account_id, prefix FROM allocations WHERE prefix <= p_ip
                                      ORDER BY prefix DESC LIMIT 1) f WHERE f.prefix >>= p_ip),
           (SELECT hostname FROM ptr_records WHERE ip = p_ip),
           EXISTS (SELECT 1 FROM ptr_requests WHERE ip = p_ip AND state IN ('pending_review', 'waiting_forward')),
           (SELECT d.prefix::text || ' ' || array_to_string(d.nameservers, ', ') FROM delegations d
             WHERE d.prefix >>= p_ip)
      INTO v_zone, v_holder, v_old, v_pending, v_deleg;
    IF v_zone IS NULL THEN
        RAISE EXCEPTION 'address % is in no reverse zone', p_ip USING ERRCODE = 'no_data_found';
    END IF;
    IF p_owner IS NOT NULL AND v_holder IS DISTINCT FROM p_owner THEN
        RAISE EXCEPTION 'address % is not allocated to the account', p_ip USING ERRCODE = 'no_data_found';
    END IF;
    IF v_deleg IS NOT NULL THEN
        RAISE EXCEPTION 'address % is inside the delegation %', p_ip, v_deleg USING ERRCODE = 'RDDLG', DETAIL = v_deleg;
    END IF;
    IF v_pending THEN
        -- (the request being applied, if any, is 'approved' by now)
        UPDATE ptr_requests SET state = 'superseded', decided_at = now()
         WHERE ip = p_ip AND state IN ('pending_review', 'waiting_forward');
    END IF;
    -- The record belongs to the address's customer, also when staff set it. An UPDATE when
    -- the address has one (v_old, read under its lock, which every writer takes first) and an
    -- INSERT only for a new one, a DELETE only of one there is: the statement triggers of
    -- ptr_records (migration 014: the zone's count, the discovery queue) fire for every
    -- INSERT and DELETE statement, rows or none, and cost a PUT about a fifth of its
    -- throughput when an upsert ran them for every change of a name.
    IF p_hostname IS NULL THEN
        IF v_old IS NOT NULL THEN
            DELETE FROM ptr_records WHERE ip = p_ip;
        END IF;
    ELSIF v_old IS NOT NULL THEN
        -- (not zone_id: a record's zone never changes, and the count trigger of migration
        -- 014 fires for an UPDATE that names it)
        UPDATE ptr_records SET hostname = p_hostname, account_id = v_holder,
               verified_at = CASE WHEN p_forced THEN NULL ELSE now() END, forced = p_forced, updated_at = now()
         WHERE ip = p_ip
        RETURNING updated_at, verified_at INTO o_updated_at, o_verified_at;
    ELSE
        -- (ON CONFLICT: a record made meanwhile by a writer that does not take the lock, by hand)
        INSERT INTO ptr_records AS p (ip, zone_id, hostname, account_id, verified_at, forced, updated_at)
        VALUES (p_ip, v_zone, p_hostname, v_holder, CASE WHEN p_forced THEN NULL ELSE now() END, p_forced, now())
        ON CONFLICT (ip) DO UPDATE SET hostname = EXCLUDED.hostname, account_id = EXCLUDED.account_id,
            verified_at = EXCLUDED.verified_at, forced = EXCLUDED.forced, updated_at = EXCLUDED.updated_at
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
        INSERT INTO zone_changes (zone_id, ip, old_hostname) SELECT v_zone, p_ip, v_old
         WHERE v_old IS DISTINCT FROM p_hostname RETURNING seq
    )
    SELECT rid.id, EXISTS (SELECT 1 FROM chg) AND NOT rdns_zone_pending(v_zone)
      INTO o_request, v_first FROM rid;
    IF v_first THEN
        PERFORM pg_notify('rdns_changes', v_zone::text);
    END IF;
END $$;
