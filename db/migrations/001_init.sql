-- 001_init.sql - the rdns schema: accounts, tokens, allocations, zones, PTRs, requests, audit.

CREATE TABLE accounts (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    role        text NOT NULL CHECK (role IN ('customer', 'staff')),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- A token is "rdns_<id>_<secret>"; only sha256(secret) is stored.
CREATE TABLE api_tokens (
    id           bigserial PRIMARY KEY,
    account_id   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    secret_hash  bytea NOT NULL CHECK (length(secret_hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_tokens_account ON api_tokens (account_id);

CREATE TABLE allocations (
    id          bigserial PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts (id),
    prefix      cidr NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT allocations_no_overlap EXCLUDE USING gist (prefix inet_ops WITH &&)
);
CREATE INDEX allocations_account ON allocations (account_id);

CREATE TABLE reverse_zones (
    id             bigserial PRIMARY KEY,
    name           text NOT NULL UNIQUE,           -- "2.0.192.in-addr.arpa" (no trailing dot)
    prefix         cidr NOT NULL,
    nameservers    text[] NOT NULL CHECK (cardinality(nameservers) >= 1),
    default_ptr    text,                           -- template, IPv4 zones only
    notify         text[] NOT NULL DEFAULT '{}',
    soa_mname      text NOT NULL,
    soa_rname      text NOT NULL,
    soa_refresh    integer NOT NULL DEFAULT 3600 CHECK (soa_refresh > 0),
    soa_retry      integer NOT NULL DEFAULT 900 CHECK (soa_retry > 0),
    soa_expire     integer NOT NULL DEFAULT 1209600 CHECK (soa_expire > 0),
    soa_minimum    integer NOT NULL DEFAULT 3600 CHECK (soa_minimum >= 0),
    ttl            integer NOT NULL DEFAULT 3600 CHECK (ttl >= 0),
    serial         bigint NOT NULL DEFAULT 0 CHECK (serial BETWEEN 0 AND 4294967295),
    content_hash   bytea,                          -- of the last rendered content, to bump only on change
    rendered_at    timestamptz,
    notify_status  jsonb NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT reverse_zones_no_overlap EXCLUDE USING gist (prefix inet_ops WITH &&)
);

-- Changes not yet rendered: a zone is dirty while it has rows here. Insert-only for
-- writers (no hot UPDATE of the zone row per change); rdns-zonegen deletes the rows
-- its render's snapshot saw, in the same transaction.
CREATE TABLE zone_changes (
    seq      bigserial PRIMARY KEY,
    zone_id  bigint NOT NULL REFERENCES reverse_zones (id) ON DELETE CASCADE,
    at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX zone_changes_zone ON zone_changes (zone_id, seq);

CREATE TABLE ptr_records (
    ip           inet PRIMARY KEY CHECK (masklen(ip) = CASE family(ip) WHEN 4 THEN 32 ELSE 128 END),
    zone_id      bigint NOT NULL REFERENCES reverse_zones (id) ON DELETE CASCADE,
    hostname     text NOT NULL,
    account_id   bigint REFERENCES accounts (id),
    verified_at  timestamptz,
    forced       boolean NOT NULL DEFAULT false,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ptr_records_zone ON ptr_records (zone_id, ip);

CREATE TABLE ptr_requests (
    id               bigserial PRIMARY KEY,
    account_id       bigint NOT NULL REFERENCES accounts (id),
    ip               inet NOT NULL,
    hostname         text,                          -- normalised when valid; NULL for a delete
    action           text NOT NULL DEFAULT 'set' CHECK (action IN ('set', 'delete')),
    exception_reason text,
    forced           boolean NOT NULL DEFAULT false,
    state            text NOT NULL CHECK (state IN ('applied', 'failed_checks', 'pending_review',
                                                    'approved', 'rejected', 'superseded')),
    checks           jsonb NOT NULL DEFAULT '[]',
    created_at       timestamptz NOT NULL DEFAULT now(),
    decided_at       timestamptz,
    decided_by       bigint REFERENCES accounts (id),
    decision_note    text
);
CREATE INDEX ptr_requests_account ON ptr_requests (account_id, id);
CREATE INDEX ptr_requests_ip ON ptr_requests (ip);
CREATE UNIQUE INDEX ptr_requests_one_pending ON ptr_requests (ip) WHERE state = 'pending_review';

CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_id    bigint,                 -- no FK: the log outlives what it names
    actor_name  text,
    action      text NOT NULL,
    ip          inet,
    object      text,                   -- e.g. "zone 2.0.192.in-addr.arpa", "allocation 7"
    old_value   text,
    new_value   text,
    request_id  bigint,
    detail      jsonb
);
CREATE INDEX audit_log_ip ON audit_log (ip);
CREATE INDEX audit_log_actor ON audit_log (actor_id);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Per-account write counters for rate limiting, shared by all rdns-api instances.
CREATE TABLE rate_limits (
    account_id    bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    window_start  timestamptz NOT NULL,
    count         integer NOT NULL,
    PRIMARY KEY (account_id, window_start)
);
