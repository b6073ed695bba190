-- rdns_verify_finish() - the outcome of one claimed job, in one transaction.
--
-- p_passed: the forward check passed now; the PTR is applied exactly as a passing PUT
-- would apply it (rdns_ptr_apply: record, audit entry naming the worker, zone marked
-- dirty, NOTIFY), the request becomes 'applied' and an event tells the account.
-- Otherwise: p_final (the failure is not one time can fix any more) or past the job's
-- expires_at: 'expired' with the last findings, audited, an event; else the findings are
-- kept and the job is due again in p_retry_ms (capped at its expiry).
-- Returns 'applied', 'expired', 'retry', 'lost' (the claim is not this worker's any
-- more: someone else claimed it after the lease, so nothing is done), 'gone' (the
-- request stopped waiting meanwhile, or its address left the requester or every zone) or
-- 'delegated' (it passed, but its address is inside a delegation now, migration 009: the
-- request ends 'delegated', audited, with a 'request.delegated' event naming the
-- delegation; rdns_ptr_apply refuses it under the lock that holds delegations back, so
-- none can be created between that check and this commit).

CREATE OR REPLACE FUNCTION rdns_verify_finish(p_request bigint, p_claim bigint, p_worker text, p_passed boolean,
                                              p_final boolean, p_checks jsonb, p_retry_ms integer) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    r ptr_requests%ROWTYPE;
    j verify_jobs%ROWTYPE;
    v_ip inet;
    v_owner bigint;
    v_deleg text;
BEGIN
    SELECT ip INTO v_ip FROM ptr_requests WHERE id = p_request;
    IF NOT FOUND THEN
        RETURN 'gone';
    END IF;
    -- The address lock first, as every writer of the address takes it first.
    -- (7400522: DB_LOCK_ADDR, db/locks.h)
    PERFORM pg_advisory_xact_lock(hashtextextended(host(v_ip), 7400522));
    SELECT * INTO j FROM verify_jobs WHERE request_id = p_request FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'gone';
    END IF;
    IF j.claim <> p_claim OR j.claimed_by IS DISTINCT FROM p_worker THEN
        RETURN 'lost';
    END IF;
    SELECT * INTO r FROM ptr_requests WHERE id = p_request FOR UPDATE;
    IF r.state <> 'waiting_forward' THEN
        DELETE FROM verify_jobs WHERE request_id = p_request;
        RETURN 'gone';
    END IF;
    IF p_passed THEN
        -- A staff member's request is applied as staff would (no allocation check).
        SELECT CASE WHEN a.role = 'staff' THEN NULL ELSE r.account_id END INTO v_owner
          FROM accounts a WHERE a.id = r.account_id;
        UPDATE ptr_requests SET state = 'applied', checks = coalesce(p_checks, checks), decided_at = now()
         WHERE id = p_request;
        BEGIN
            PERFORM rdns_ptr_apply(r.ip, r.hostname, v_owner, NULL, p_worker, false, p_checks, NULL, p_request);
        EXCEPTION WHEN no_data_found THEN
            -- The address is no longer the requester's, or in no zone: nothing to apply.
            UPDATE ptr_requests SET state = 'superseded', decided_at = now() WHERE id = p_request;
            RETURN 'gone';
        WHEN SQLSTATE 'RDDLG' THEN
            -- Delegated since the PUT: the customer's name servers serve its PTR now.
            GET STACKED DIAGNOSTICS v_deleg = PG_EXCEPTION_DETAIL;
            UPDATE ptr_requests SET state = 'delegated', decided_at = now() WHERE id = p_request;
            PERFORM rdns_audit(NULL, p_worker, 'request.delegated', r.ip, 'request ' || p_request, NULL,
                               r.hostname, p_request, jsonb_build_object('delegation', v_deleg));
            PERFORM rdns_event(r.account_id, 'request.delegated', r.ip, p_request,
                               jsonb_build_object('hostname', r.hostname, 'tries', j.tries,
                                                  'delegation', split_part(v_deleg, ' ', 1),
                                                  'nameservers', substr(v_deleg, strpos(v_deleg, ' ') + 1)));
            RETURN 'delegated';
        END;
        PERFORM rdns_event(r.account_id, 'request.applied', r.ip, p_request,
                           jsonb_build_object('hostname', r.hostname, 'by', p_worker, 'tries', j.tries));
        RETURN 'applied';
    END IF;
    IF p_final OR now() >= j.expires_at THEN
        UPDATE ptr_requests SET state = 'expired', checks = coalesce(p_checks, checks), decided_at = now()
         WHERE id = p_request;
        PERFORM rdns_audit(NULL, p_worker, 'request.expire', r.ip, 'request ' || p_request, NULL, r.hostname,
                           p_request, jsonb_build_object('tries', j.tries, 'final', p_final));
        PERFORM rdns_event(r.account_id, 'request.expired', r.ip, p_request,
                           jsonb_build_object('hostname', r.hostname, 'tries', j.tries, 'checks', p_checks));
        RETURN 'expired';
    END IF;
    UPDATE ptr_requests SET checks = coalesce(p_checks, checks) WHERE id = p_request;
    UPDATE verify_jobs SET run_at = least(now() + p_retry_ms * interval '1 millisecond', expires_at),
           claimed_by = NULL, claimed_until = NULL
     WHERE request_id = p_request;
    RETURN 'retry';
END $$;
