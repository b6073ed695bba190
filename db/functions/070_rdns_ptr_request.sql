-- rdns_ptr_request() - record a request that was not applied: 'failed_checks' or
-- 'pending_review'. A pending request supersedes older pending ones for the same address;
-- any request supersedes one waiting for forward DNS (007: the newer request is the
-- customer's wish now, and the worker must not apply the old one over it later).

CREATE OR REPLACE FUNCTION rdns_ptr_request(p_ip inet, p_hostname text, p_account bigint,
                                            p_actor_name text, p_state text, p_checks jsonb,
                                            p_reason text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_req bigint;
BEGIN
    -- The address's lock (7400522: DB_LOCK_ADDR, db/locks.h).
    PERFORM pg_advisory_xact_lock(hashtextextended(host(p_ip), 7400522));
    UPDATE ptr_requests SET state = 'superseded', decided_at = now()
     WHERE ip = p_ip AND (state = 'waiting_forward' OR (state = 'pending_review' AND p_state = 'pending_review'));
    INSERT INTO ptr_requests (account_id, ip, hostname, action, exception_reason, state, checks)
    VALUES (p_account, p_ip, p_hostname, 'set', p_reason, p_state, coalesce(p_checks, '[]'))
    RETURNING id INTO v_req;
    PERFORM rdns_audit(p_account, p_actor_name,
                       CASE WHEN p_state = 'pending_review' THEN 'request.submit' ELSE 'request.failed' END,
                       p_ip, 'request ' || v_req, NULL, p_hostname, v_req, jsonb_build_object('reason', p_reason));
    RETURN v_req;
END $$;
