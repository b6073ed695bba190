-- rdns_request_decide() - staff decision on a pending request; an approval applies it
-- with rdns_ptr_apply(). Raises P0002 if there is no such request,
-- 'object_not_in_prerequisite_state' (55000) if it is not pending, 'RD409' when
-- approving a request whose address is no longer the requester's or in a zone, and
-- rdns_ptr_apply's 'RDDLG' (DETAIL: the delegation) when approving one whose address was
-- delegated since it was submitted: nothing is decided, the request stays pending (staff
-- reject it, or approve it once the delegation is gone).

CREATE OR REPLACE FUNCTION rdns_request_decide(p_id bigint, p_staff bigint, p_staff_name text,
                                               p_approve boolean, p_note text) RETURNS void
LANGUAGE plpgsql AS $$
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
    -- (7400522: DB_LOCK_ADDR, db/locks.h)
    PERFORM pg_advisory_xact_lock(hashtextextended(host(v_ip), 7400522));
    SELECT * INTO r FROM ptr_requests WHERE id = p_id FOR UPDATE;
    IF r.state <> 'pending_review' THEN
        RAISE EXCEPTION 'request % is %', p_id, r.state USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    -- btree floor lookups of the zone and the allocation (db/floor.h)
    IF p_approve AND (NOT EXISTS (SELECT 1 FROM (SELECT prefix FROM reverse_zones WHERE prefix <= r.ip
                                                 ORDER BY prefix DESC LIMIT 1) f WHERE f.prefix >>= r.ip)
                      OR NOT EXISTS (SELECT 1 FROM (SELECT prefix, account_id FROM allocations WHERE prefix <= r.ip
                                                    ORDER BY prefix DESC LIMIT 1) f
                                      WHERE f.prefix >>= r.ip AND f.account_id = r.account_id)) THEN
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
    -- The requester learns the outcome from the event feed (GET /v1/events).
    PERFORM rdns_event(r.account_id, CASE WHEN p_approve THEN 'request.applied' ELSE 'request.rejected' END,
                       r.ip, p_id, jsonb_build_object('hostname', r.hostname, 'by', p_staff_name, 'note', p_note));
END $$;
