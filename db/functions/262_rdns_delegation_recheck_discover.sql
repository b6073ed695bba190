-- rdns_delegation_recheck_discover() - schedule every re-check row not scheduled yet
-- (written by rdns_delegation_put or migration 013's backfill: due_at NULL) at a random
-- point of the next p_interval_s seconds, so that delegations made together are not all
-- re-checked at once. Returns how many rows were scheduled. Any number of workers may run
-- it at once (the second waits for the first's rows and then finds them scheduled).
--
-- Every delegation has its row: rdns_delegation_put writes it in the transaction that
-- writes the delegation, and 013 wrote those made before. So this reads the unscheduled
-- rows by the due_at index (NULLs are in a btree) and nothing else, instead of an
-- anti-join of delegations and delegation_checks, which reads both tables whole every
-- minute to find none.

CREATE OR REPLACE FUNCTION rdns_delegation_recheck_discover(p_interval_s integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    UPDATE delegation_checks SET due_at = now() + random() * p_interval_s * interval '1 second'
     WHERE due_at IS NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;
