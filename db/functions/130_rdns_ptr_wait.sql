-- rdns_ptr_wait() - record a PTR set whose forward check failed for a reason time can fix
-- as 'waiting_forward', with its job for rdns-verifier: first try p_first_ms from now,
-- given up p_max_s seconds from now. Supersedes the address's older waiting or pending
-- requests (a newer request is the customer's wish now). Returns the request id.

CREATE OR REPLACE FUNCTION rdns_ptr_wait(p_ip inet, p_hostname text, p_account bigint, p_actor_name text,
                                         p_checks jsonb, p_first_ms integer, p_max_s integer) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_req bigint;
BEGIN
    -- The address's lock (7400522: DB_LOCK_ADDR, db/locks.h).
    PERFORM pg_advisory_xact_lock(hashtextextended(host(p_ip), 7400522));
    UPDATE ptr_requests SET state = 'superseded', decided_at = now()
     WHERE ip = p_ip AND state IN ('pending_review', 'waiting_forward');
    INSERT INTO ptr_requests (account_id, ip, hostname, action, state, checks)
    VALUES (p_account, p_ip, p_hostname, 'set', 'waiting_forward', coalesce(p_checks, '[]'))
    RETURNING id INTO v_req;
    INSERT INTO verify_jobs (request_id, run_at, expires_at)
    VALUES (v_req, now() + p_first_ms * interval '1 millisecond', now() + p_max_s * interval '1 second');
    PERFORM rdns_audit(p_account, p_actor_name, 'request.wait', p_ip, 'request ' || v_req, NULL, p_hostname,
                       v_req, jsonb_build_object('wait_max_s', p_max_s));
    RETURN v_req;
END $$;
