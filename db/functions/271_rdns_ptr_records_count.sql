-- rdns_ptr_records_count() - the statement triggers of ptr_records (migration 014) that keep
-- zone_record_counts exact: each INSERT (and COPY) adds its new records per zone, each
-- DELETE (a reset, an allocation's deletion, a zone's cascade) takes its old ones away, a
-- TRUNCATE empties the counts. One call per statement, whatever its number of rows.

CREATE OR REPLACE FUNCTION rdns_ptr_records_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM rdns_zone_records_add(array_agg(s.zone_id), array_agg(s.n))
           FROM (SELECT zone_id, count(*) AS n FROM new_records GROUP BY zone_id) s HAVING count(*) > 0;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM rdns_zone_records_add(array_agg(s.zone_id), array_agg(-s.n))
           FROM (SELECT zone_id, count(*) AS n FROM old_records GROUP BY zone_id) s HAVING count(*) > 0;
    ELSE -- TRUNCATE
        DELETE FROM zone_record_counts;
    END IF;
    RETURN NULL;
END $$;
