-- 002_functions.sql - server-side units of work: each runs in one transaction,
-- so a PTR change, its zone's dirty mark, its audit entry and the NOTIFY to
-- rdns-zonegen commit together or not at all.

-- Mark a zone dirty and wake rdns-zonegen (delivered at commit). An insert, not an
-- UPDATE of the zone's row: concurrent writers of one zone do not serialise on it,
-- and readers of the zone row do not wade through its dead versions.
-- (plpgsql, not sql: its statements are planned once per session, not per call.)
-- The notification is sent only when the zone had no pending change yet (each
-- notifying commit takes a cluster-wide lock); rdns-zonegen looks again after each
-- render for changes committed while it ran.
CREATE FUNCTION rdns_zone_touch(p_zone bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_seq bigint;
BEGIN
    INSERT INTO zone_changes (zone_id) VALUES (p_zone) RETURNING seq INTO v_seq;
    IF NOT EXISTS (SELECT 1 FROM zone_changes WHERE zone_id = p_zone AND seq < v_seq) THEN
        PERFORM pg_notify('rdns_changes', p_zone::text);
    END IF;
END $$;

CREATE FUNCTION rdns_audit(p_actor bigint, p_actor_name text, p_action text, p_ip inet, p_object text,
                           p_old text, p_new text, p_request bigint, p_detail jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_log (actor_id, actor_name, action, ip, object, old_value, new_value, request_id, detail)
    VALUES (p_actor, p_actor_name, p_action, p_ip, p_object, p_old, p_new, p_request, p_detail);
END $$;

-- Set (p_hostname not null) or remove (null) the custom PTR of one address.
-- p_owner: the customer whose allocation must contain the address (null: staff, no check).
-- p_request_id: null records a new request in state 'applied'; else the (already
-- decided) request being applied. Supersedes older pending requests, marks the zone
-- dirty and wakes rdns-zonegen when the name changes, audits. Returns the request id
-- and the record's timestamps as written (null for a delete).
-- Raises 'P0002' (no_data_found) when the address is outside the owner's allocations or any zone.
CREATE FUNCTION rdns_ptr_apply(p_ip inet, p_hostname text, p_owner bigint, p_actor bigint, p_actor_name text,
                               p_forced boolean, p_checks jsonb, p_reason text, p_request_id bigint,
                               OUT o_request bigint, OUT o_updated_at timestamptz, OUT o_verified_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    v_zone bigint;
    v_old text;
    v_holder bigint;
BEGIN
    o_request := p_request_id;
    -- One writer per address at a time; the final state equals one committed request.
    PERFORM pg_advisory_xact_lock(hashtextextended(host(p_ip), 7400522));
    -- KEY SHARE locks keep the zone and the allocation from being deleted under us
    -- (rdns_allocation_delete locks its row FOR UPDATE and then resets the PTRs in it).
    SELECT id INTO v_zone FROM reverse_zones WHERE prefix >>= p_ip FOR KEY SHARE;
    IF v_zone IS NULL THEN
        RAISE EXCEPTION 'address % is in no reverse zone', p_ip USING ERRCODE = 'no_data_found';
    END IF;
    SELECT account_id INTO v_holder FROM allocations WHERE prefix >>= p_ip FOR KEY SHARE;
    IF p_owner IS NOT NULL AND v_holder IS DISTINCT FROM p_owner THEN
        RAISE EXCEPTION 'address % is not allocated to the account', p_ip USING ERRCODE = 'no_data_found';
    END IF;
    SELECT hostname INTO v_old FROM ptr_records WHERE ip = p_ip;
    IF o_request IS NULL THEN
        INSERT INTO ptr_requests (account_id, ip, hostname, action, exception_reason, forced, state, checks)
        VALUES (p_actor, p_ip, p_hostname, CASE WHEN p_hostname IS NULL THEN 'delete' ELSE 'set' END,
                p_reason, p_forced, 'applied', coalesce(p_checks, '[]'))
        RETURNING id INTO o_request;
    END IF;
    UPDATE ptr_requests SET state = 'superseded', decided_at = now()
     WHERE ip = p_ip AND state = 'pending_review' AND id <> o_request;
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
    IF v_old IS DISTINCT FROM p_hostname THEN
        PERFORM rdns_zone_touch(v_zone);
    END IF;
    PERFORM rdns_audit(p_actor, p_actor_name,
                       CASE WHEN p_hostname IS NULL THEN 'ptr.delete'
                            WHEN p_forced THEN 'ptr.force' ELSE 'ptr.set' END,
                       p_ip, 'ptr ' || host(p_ip), v_old, p_hostname, o_request,
                       jsonb_build_object('forced', p_forced));
END $$;

-- Record a request that was not applied: 'failed_checks' or 'pending_review'.
-- A pending request supersedes older pending ones for the same address.
CREATE FUNCTION rdns_ptr_request(p_ip inet, p_hostname text, p_account bigint, p_actor_name text,
                                 p_state text, p_checks jsonb, p_reason text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_req bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(host(p_ip), 7400522));
    IF p_state = 'pending_review' THEN
        UPDATE ptr_requests SET state = 'superseded', decided_at = now()
         WHERE ip = p_ip AND state = 'pending_review';
    END IF;
    INSERT INTO ptr_requests (account_id, ip, hostname, action, exception_reason, state, checks)
    VALUES (p_account, p_ip, p_hostname, 'set', p_reason, p_state, coalesce(p_checks, '[]'))
    RETURNING id INTO v_req;
    PERFORM rdns_audit(p_account, p_actor_name,
                       CASE WHEN p_state = 'pending_review' THEN 'request.submit' ELSE 'request.failed' END,
                       p_ip, 'request ' || v_req, NULL, p_hostname, v_req, jsonb_build_object('reason', p_reason));
    RETURN v_req;
END $$;

-- Staff decision on a pending request. Raises P0002 if there is no such request,
-- 'object_not_in_prerequisite_state' (55000) if it is not pending, and 'RD409' when
-- approving a request whose address is no longer the requester's or in a zone.
CREATE FUNCTION rdns_request_decide(p_id bigint, p_staff bigint, p_staff_name text, p_approve boolean,
                                    p_note text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    r ptr_requests%ROWTYPE;
    v_ip inet;
BEGIN
    -- The address lock first, as every writer of this address takes it first:
    -- taking the row lock first could deadlock with a newer PUT superseding it.
    SELECT ip INTO v_ip FROM ptr_requests WHERE id = p_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no request %', p_id USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended(host(v_ip), 7400522));
    SELECT * INTO r FROM ptr_requests WHERE id = p_id FOR UPDATE;
    IF r.state <> 'pending_review' THEN
        RAISE EXCEPTION 'request % is %', p_id, r.state USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF p_approve AND (NOT EXISTS (SELECT 1 FROM reverse_zones WHERE prefix >>= r.ip) OR NOT EXISTS (
            SELECT 1 FROM allocations WHERE prefix >>= r.ip AND account_id = r.account_id)) THEN
        RAISE EXCEPTION 'the address of request % is no longer the requester''s or in a zone', p_id
            USING ERRCODE = 'RD409';
    END IF;
    UPDATE ptr_requests SET state = CASE WHEN p_approve THEN 'approved' ELSE 'rejected' END,
           decided_at = now(), decided_by = p_staff, decision_note = p_note
     WHERE id = p_id;
    PERFORM rdns_audit(p_staff, p_staff_name, CASE WHEN p_approve THEN 'request.approve' ELSE 'request.reject' END,
                       r.ip, 'request ' || p_id, NULL, r.hostname, p_id,
                       jsonb_build_object('note', p_note, 'requester', r.account_id));
    IF p_approve THEN
        PERFORM rdns_ptr_apply(r.ip, r.hostname, r.account_id, p_staff, p_staff_name, true, r.checks,
                               r.exception_reason, p_id);
    END IF;
END $$;

-- Delete an allocation: every custom PTR inside it is reset (so the next customer
-- of a recycled address never inherits the old name), pending requests in it are
-- superseded, all audited. Raises P0002 when there is no such allocation.
CREATE FUNCTION rdns_allocation_delete(p_id bigint, p_staff bigint, p_staff_name text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    a allocations%ROWTYPE;
    rec record;
    n integer := 0;
BEGIN
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
