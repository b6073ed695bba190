-- rdns_reverify_discover() - give every verified (not forced) custom PTR without one its
-- re-verification row, due at a random point of the next p_interval_s seconds: records
-- made together (an import, a first start on a million records) are spread evenly over
-- the interval instead of all coming due at once. Returns how many were added. Any
-- number of workers may run it at once (ON CONFLICT: the first one's row stays; the queue
-- rows one takes, the other waits for and then finds gone).
--
-- The candidates are the records queued in ptr_discover since the last discovery (its
-- triggers, migration 014), not every record: an anti-join of ptr_records with ptr_checks
-- read both tables whole every minute to find the few new ones.

CREATE OR REPLACE FUNCTION rdns_reverify_discover(p_interval_s integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    WITH q AS (
        DELETE FROM ptr_discover RETURNING ip
    )
    INSERT INTO ptr_checks (ip, hostname, due_at)
    SELECT p.ip, p.hostname, now() + random() * p_interval_s * interval '1 second'
      -- OFFSET 0: one probe of ptr_records per queued address (joined, the plan was a hash
      -- join over every record once the queue held 1% of them)
      FROM q CROSS JOIN LATERAL (SELECT r.ip, r.hostname FROM ptr_records r
                                  WHERE r.ip = q.ip AND NOT r.forced OFFSET 0) p
    ON CONFLICT (ip) DO NOTHING; -- (a record that has its row keeps it)
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;
