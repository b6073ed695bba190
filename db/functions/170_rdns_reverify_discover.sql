-- rdns_reverify_discover() - give every verified (not forced) custom PTR without one its
-- re-verification row, due at a random point of the next p_interval_s seconds: records
-- made together (an import, a first start on a million records) are spread evenly over
-- the interval instead of all coming due at once. Returns how many were added. Any
-- number of workers may run it at once (ON CONFLICT: the first one's row stays).

CREATE OR REPLACE FUNCTION rdns_reverify_discover(p_interval_s integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    INSERT INTO ptr_checks (ip, hostname, due_at)
    SELECT p.ip, p.hostname, now() + random() * p_interval_s * interval '1 second'
      FROM ptr_records p
     WHERE NOT p.forced AND NOT EXISTS (SELECT 1 FROM ptr_checks c WHERE c.ip = p.ip)
    ON CONFLICT (ip) DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;
