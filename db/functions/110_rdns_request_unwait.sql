-- rdns_request_unwait() - trigger function (007): a request that leaves 'waiting_forward'
-- (superseded, cancelled, applied or expired by the worker) drops its verify_jobs row.

CREATE OR REPLACE FUNCTION rdns_request_unwait() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM verify_jobs WHERE request_id = OLD.id;
    RETURN NULL;
END $$;
