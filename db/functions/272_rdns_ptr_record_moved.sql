-- rdns_ptr_record_moved() - row trigger of ptr_records (migration 014): an UPDATE that moves
-- a record to another zone (none of ours does: a record's zone never changes) moves its
-- count with it.

CREATE OR REPLACE FUNCTION rdns_ptr_record_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rdns_zone_records_add(OLD.zone_id, -1) WHERE EXISTS (SELECT 1 FROM reverse_zones WHERE id = OLD.zone_id);
    PERFORM rdns_zone_records_add(NEW.zone_id, 1);
    RETURN NULL;
END $$;
