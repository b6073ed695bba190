-- rdns_zone_records_forget() - row trigger of reverse_zones (migration 014): a deleted
-- zone's record counts go with it (zone_record_counts has no foreign key, see 014).

CREATE OR REPLACE FUNCTION rdns_zone_records_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM zone_record_counts WHERE zone_id = OLD.id;
    RETURN NULL;
END $$;
