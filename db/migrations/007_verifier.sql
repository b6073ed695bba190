-- 007_verifier.sql - rdns-verifier: PTR sets that wait for forward DNS, and the event feed.
--
-- A PUT with "wait_for_forward" whose forward check failed for a reason time can fix
-- (NXDOMAIN, NODATA, the address missing, a timeout, SERVFAIL) is stored as a request in
-- state 'waiting_forward' with a row in verify_jobs. rdns-verifier instances claim due
-- jobs with FOR UPDATE SKIP LOCKED and hold each claim for a lease (claimed_until): a
-- worker killed mid-job leaves its job to be claimed again once the lease is over. Each
-- claim bumps the job's claim number, and only the holder of the current number may finish
-- the job (rdns_verify_finish): a worker that outlived its lease finds its claim taken and
-- applies nothing, so no job is applied twice however many workers run.
--
-- Jobs are a table of their own, not columns of ptr_requests: the claim query scans only
-- the few waiting requests, and the hot request table gets no index that every PUT writes.

ALTER DOMAIN rdns_request_state DROP CONSTRAINT rdns_request_state_check;
ALTER DOMAIN rdns_request_state ADD CONSTRAINT rdns_request_state_check
    CHECK (VALUE IN ('applied', 'failed_checks', 'pending_review', 'approved', 'rejected', 'superseded',
                     'waiting_forward', 'expired', 'cancelled'));

CREATE TABLE verify_jobs (
    request_id     bigint PRIMARY KEY REFERENCES ptr_requests (id),
    run_at         timestamptz NOT NULL,          -- next try
    expires_at     timestamptz NOT NULL,          -- created + verify_wait_max: then 'expired'
    tries          integer NOT NULL DEFAULT 0,
    claim          bigint NOT NULL DEFAULT 0,     -- bumped by every claim; the finisher must hold it
    claimed_by     text,
    claimed_until  timestamptz
);
CREATE INDEX verify_jobs_due ON verify_jobs (run_at);

-- A request that stops waiting (superseded by a newer one, cancelled, decided) takes its
-- job with it, whichever function moved it. Defined here because the trigger needs it; its
-- current body is db/functions/110_rdns_request_unwait.sql.
CREATE FUNCTION rdns_request_unwait() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM verify_jobs WHERE request_id = OLD.id;
    RETURN NULL;
END $$;
CREATE TRIGGER ptr_requests_unwait AFTER UPDATE OF state ON ptr_requests
    FOR EACH ROW WHEN (OLD.state = 'waiting_forward' AND NEW.state IS DISTINCT FROM 'waiting_forward')
    EXECUTE FUNCTION rdns_request_unwait();

-- The event feed (GET /v1/events): what happened to an account's requests and records
-- without a client waiting for the answer (applied by the worker or on approval, rejected,
-- expired, drifted, reset), written in the transaction of the change itself. Read by
-- account and id (the cursor); staff read all by id.
CREATE TABLE events (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    account_id  bigint,                -- no FK: history, like audit_log
    kind        text NOT NULL,
    ip          inet,
    request_id  bigint,
    detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX events_account ON events (account_id, id);

-- Continuous re-verification: every custom PTR that was verified (not forced) is verified
-- again every reverify_interval by rdns-verifier. Its state is a table of its own, not
-- columns of ptr_records: the hot paths (GET and PUT of /v1/ptr/{ip}, the zone renders)
-- never read or write it, and the re-verifier's updates leave ptr_records' pages alone.
-- A row is made by the re-verifier when it finds a record without one (due at a random
-- point of the interval, so a million records are spread evenly over it); hostname is the
-- name it checks, and a record whose name changed (a new PUT, verified then) starts afresh.
CREATE TABLE ptr_checks (
    ip             inet PRIMARY KEY,      -- no FK: a removed record's row is dropped at its next check
    hostname       text NOT NULL,
    state          text NOT NULL DEFAULT 'verified' CHECK (state IN ('verified', 'drifted')),
    due_at         timestamptz NOT NULL,
    checked_at     timestamptz,
    drifted_since  timestamptz,
    finding        jsonb                  -- the failed forward check, while drifted
);
CREATE INDEX ptr_checks_due ON ptr_checks (due_at);
CREATE INDEX ptr_checks_drifted ON ptr_checks (ip) WHERE state = 'drifted';

-- reverify_qps across every rdns-verifier instance: one token bucket, refilled at
-- reverify_qps a second, at most one second's worth held. Each claim of a batch takes its
-- tokens in the claim's own statement.
CREATE TABLE reverify_budget (
    id          integer PRIMARY KEY CHECK (id = 1),
    tokens      double precision NOT NULL,
    updated_at  timestamptz NOT NULL
);
INSERT INTO reverify_budget VALUES (1, 0, now());
