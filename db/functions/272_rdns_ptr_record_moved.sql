-- rdns_ptr_record_moved() - row trigger of ptr_records (migration 014): an UPDATE that moves
-- a record to another zone (none of ours does: a record's zone never changes) moves its
-- count with it.

CREATE OR REPLACE FUNCTION rdns_ptr_record_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rdns_zone_records_add(ARRAY[OLD.zone_id, NEW.zone_id], ARRAY[-1, 1]::bigint[]);
    RETURN NULL;
END $$;
