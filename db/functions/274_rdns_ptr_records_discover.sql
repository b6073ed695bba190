-- rdns_ptr_records_discover() - triggers of ptr_records (migration 014): a record that
-- becomes one rdns-verifier re-verifies (inserted unforced, by a statement trigger; or
-- unforced by an UPDATE, by a row trigger) is queued in ptr_discover for
-- rdns_reverify_discover(), which then reads the queue instead of every record.

CREATE OR REPLACE FUNCTION rdns_ptr_records_discover() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO ptr_discover (ip) SELECT n.ip FROM new_records n WHERE NOT n.forced ON CONFLICT (ip) DO NOTHING;
    ELSE
        INSERT INTO ptr_discover (ip) VALUES (NEW.ip) ON CONFLICT (ip) DO NOTHING;
    END IF;
    RETURN NULL;
END $$;
