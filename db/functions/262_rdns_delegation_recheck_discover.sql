-- rdns_delegation_recheck_discover() - give every delegation without one its re-check row
-- (its state as its publication's findings say), and schedule every row not scheduled yet
-- (written by rdns_delegation_put: due_at NULL) at a random point of the next
-- p_interval_s seconds, so that delegations made together are not all re-checked at once.
-- Returns how many rows were scheduled. Any number of workers may run it at once.

CREATE OR REPLACE FUNCTION rdns_delegation_recheck_discover(p_interval_s integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    INSERT INTO delegation_checks (delegation_id, state, checks, checked_at, lame_since)
    SELECT d.id, CASE WHEN d.checks @> '[{"status": "fail"}]' THEN 'lame' ELSE 'pass' END, d.checks,
           d.updated_at, CASE WHEN d.checks @> '[{"status": "fail"}]' THEN d.updated_at END
      FROM delegations d
     WHERE NOT EXISTS (SELECT 1 FROM delegation_checks c WHERE c.delegation_id = d.id)
    ON CONFLICT (delegation_id) DO NOTHING;
    UPDATE delegation_checks SET due_at = now() + random() * p_interval_s * interval '1 second'
     WHERE due_at IS NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;
