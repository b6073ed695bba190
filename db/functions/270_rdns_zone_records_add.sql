-- rdns_zone_records_add() - add p_delta to the record count of zone p_zone
-- (zone_record_counts, migration 014), in the caller's transaction.
--
-- The delta goes to a row of the zone that no other transaction holds (FOR UPDATE SKIP
-- LOCKED: never a wait, so concurrent writers of one zone neither queue nor deadlock
-- here), or to a new row when every row of the zone is held. A zone's count is the sum of
-- its rows.
--
-- enable_seqscan off: the row of a zone is always found through the primary key. The
-- plan of the probe below is made once per session, and the first statement that adds
-- records to a fresh install (a bulk import, COPY, bench/scale.py's build) makes it while
-- the table is empty: a sequential scan, which that statement then ran once per zone over
-- the rows it had added itself, quadratic in zones (81,162 scans reading 3.3 billion rows,
-- 306 s for 1M PTRs over 81,920 zones, where the build took 64 s before the counts).

CREATE OR REPLACE FUNCTION rdns_zone_records_add(p_zone bigint, p_delta bigint) RETURNS void
LANGUAGE plpgsql SET enable_seqscan = off AS $$
BEGIN
    UPDATE zone_record_counts c SET records = c.records + p_delta
     WHERE c.zone_id = p_zone
       AND c.stripe = (SELECT s.stripe FROM zone_record_counts s WHERE s.zone_id = p_zone
                        LIMIT 1 FOR UPDATE SKIP LOCKED);
    IF NOT FOUND THEN
        INSERT INTO zone_record_counts (zone_id, records) VALUES (p_zone, p_delta);
    END IF;
END $$;
