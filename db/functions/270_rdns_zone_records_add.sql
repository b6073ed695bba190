-- rdns_zone_records_add() - add p_deltas[i] to the record count of zone p_zones[i]
-- (zone_record_counts, migration 014), in the caller's transaction; zones that are gone (a
-- cascade from the zone's own deletion) are skipped.
--
-- The delta goes to a row of the zone that no other transaction holds (FOR UPDATE SKIP
-- LOCKED: never a wait, so concurrent writers of one zone neither queue nor deadlock
-- here), or to a new row when every row of the zone is held. A zone's count is the sum of
-- its rows. Zones in id order, so one transaction takes its rows in one order.

CREATE OR REPLACE FUNCTION rdns_zone_records_add(p_zones bigint[], p_deltas bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_zone bigint;
    v_delta bigint;
BEGIN
    FOR v_zone, v_delta IN SELECT d.z, sum(d.n) FROM unnest(p_zones, p_deltas) AS d(z, n)
                            WHERE EXISTS (SELECT 1 FROM reverse_zones r WHERE r.id = d.z)
                            GROUP BY d.z HAVING sum(d.n) <> 0 ORDER BY d.z LOOP
        UPDATE zone_record_counts c SET records = c.records + v_delta
         WHERE c.zone_id = v_zone
           AND c.stripe = (SELECT s.stripe FROM zone_record_counts s WHERE s.zone_id = v_zone
                            LIMIT 1 FOR UPDATE SKIP LOCKED);
        IF NOT FOUND THEN
            INSERT INTO zone_record_counts (zone_id, records) VALUES (v_zone, v_delta);
        END IF;
    END LOOP;
END $$;
