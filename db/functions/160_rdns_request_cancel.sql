-- rdns_request_cancel() - the requester (p_account) or staff (p_account null) withdraws a
-- request that is waiting for forward DNS or pending review: 'cancelled', audited.
-- Raises P0002 when there is no such request visible to p_account, and
-- 'object_not_in_prerequisite_state' (55000) when it is neither waiting nor pending.

CREATE OR REPLACE FUNCTION rdns_request_cancel(p_id bigint, p_account bigint, p_actor bigint,
                                               p_actor_name text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r ptr_requests%ROWTYPE;
    v_ip inet;
BEGIN
    SELECT ip INTO v_ip FROM ptr_requests WHERE id = p_id AND (p_account IS NULL OR account_id = p_account);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no request %', p_id USING ERRCODE = 'no_data_found';
    END IF;
    -- (7400522: DB_LOCK_ADDR, db/locks.h)
    PERFORM pg_advisory_xact_lock(hashtextextended(host(v_ip), 7400522));
    SELECT * INTO r FROM ptr_requests WHERE id = p_id FOR UPDATE;
    IF r.state NOT IN ('waiting_forward', 'pending_review') THEN
        RAISE EXCEPTION 'request % is %', p_id, r.state USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    UPDATE ptr_requests SET state = 'cancelled', decided_at = now(), decided_by = p_actor WHERE id = p_id;
    PERFORM rdns_audit(p_actor, p_actor_name, 'request.cancel', r.ip, 'request ' || p_id, NULL, r.hostname, p_id,
                       jsonb_build_object('was', r.state::text));
END $$;
