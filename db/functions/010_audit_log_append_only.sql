-- audit_log_append_only() - the trigger function that keeps audit_log append-only: the
-- trigger of the same name (migration 001) runs it before every UPDATE, DELETE and TRUNCATE.

CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;
