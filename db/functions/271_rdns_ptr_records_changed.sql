-- rdns_ptr_records_changed() - the statement triggers of ptr_records (migration 014), one
-- call per statement whatever its number of rows: each INSERT (and COPY) adds its new records
-- to zone_record_counts per zone and queues the unforced ones in ptr_discover for
-- rdns-verifier's discovery (rdns_reverify_discover); each DELETE (a reset, an allocation's
-- deletion, a zone's cascade: a zone that is gone is skipped) takes its old ones away; a
-- TRUNCATE empties the counts. Zones in id order, so one transaction takes their rows in
-- one order.

CREATE OR REPLACE FUNCTION rdns_ptr_records_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_zone bigint;
    v_n bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- (the zones exist: the records' foreign key)
        FOR v_zone, v_n IN SELECT zone_id, count(*) FROM new_records GROUP BY zone_id ORDER BY zone_id LOOP
            PERFORM rdns_zone_records_add(v_zone, v_n);
        END LOOP;
        IF FOUND THEN -- (an upsert that updated inserted nothing)
            INSERT INTO ptr_discover (ip) SELECT n.ip FROM new_records n WHERE NOT n.forced
            ON CONFLICT (ip) DO NOTHING;
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        FOR v_zone, v_n IN SELECT o.zone_id, count(*) FROM old_records o
                            WHERE EXISTS (SELECT 1 FROM reverse_zones z WHERE z.id = o.zone_id)
                            GROUP BY o.zone_id ORDER BY o.zone_id LOOP
            PERFORM rdns_zone_records_add(v_zone, -v_n);
        END LOOP;
    ELSE -- TRUNCATE
        DELETE FROM zone_record_counts;
    END IF;
    RETURN NULL;
END $$;
