-- rdns_verify_claim() - claim at most p_n due jobs for worker p_worker for p_lease_ms.
--
-- FOR UPDATE SKIP LOCKED: concurrent claimers never wait on each other and never take
-- the same row; the lease (claimed_until) keeps a claimed job from everyone else after
-- this commits, until it ends: a worker killed mid-job leaves its job to the next claim
-- after the lease. Each claim bumps claim; rdns_verify_finish accepts only the current one.

CREATE OR REPLACE FUNCTION rdns_verify_claim(p_worker text, p_lease_ms integer, p_n integer)
RETURNS TABLE (o_request bigint, o_claim bigint, o_tries integer, o_ip inet, o_hostname text)
LANGUAGE plpgsql AS $$
DECLARE
    v_ids bigint[];
BEGIN
    -- The due jobs in run_at order (verify_jobs_due), locked; then those rows by key. (One
    -- UPDATE ... FROM the locked rows had a generic plan that hashed them and joined every
    -- job to them, a sequential scan of verify_jobs per claim: the planner reckons a LIMIT
    -- it cannot see at a tenth of the due jobs, issue #17.)
    SELECT array_agg(d.request_id) INTO v_ids
      FROM (SELECT j.request_id FROM verify_jobs j
             WHERE j.run_at <= now() AND (j.claimed_until IS NULL OR j.claimed_until < now())
             ORDER BY j.run_at
             LIMIT p_n
               FOR UPDATE SKIP LOCKED) d;
    IF v_ids IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY
    WITH c AS (
        UPDATE verify_jobs j SET claim = j.claim + 1, tries = j.tries + 1, claimed_by = p_worker,
               claimed_until = now() + p_lease_ms * interval '1 millisecond'
         WHERE j.request_id = ANY (v_ids)
        RETURNING j.request_id, j.claim, j.tries
    )
    SELECT c.request_id, c.claim, c.tries, r.ip, r.hostname
      FROM c JOIN ptr_requests r ON r.id = c.request_id;
END $$;
