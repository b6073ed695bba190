-- rdns_ptr_record_unforced() - row trigger of ptr_records (migration 014): a record that an
-- UPDATE unforces is one rdns-verifier re-verifies again; it is queued in ptr_discover for
-- rdns_reverify_discover() (an inserted one is queued by rdns_ptr_records_changed).

CREATE OR REPLACE FUNCTION rdns_ptr_record_unforced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ptr_discover (ip) VALUES (NEW.ip) ON CONFLICT (ip) DO NOTHING;
    RETURN NULL;
END $$;
