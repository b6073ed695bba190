-- 009_delegations.sql - reverse delegations (issue 16): a customer's block served by the
-- customer's own name servers.
--
-- A delegation is a prefix inside one reverse zone and (for a customer) inside one of the
-- customer's allocations. rdns-zonegen renders NS records at the child's name and, for an
-- IPv4 /25 to /32, one RFC 2317 CNAME per address into the child instead of the PTRs. The
-- custom PTRs of a delegated block stay in ptr_records, unrendered, and come back when the
-- delegation goes. Written by rdns_delegation_put() / rdns_delegation_delete(); deleting
-- the allocation deletes its delegations (rdns_allocation_delete).

-- The RFC 2317 child label of a zone's classless delegations: "range" 0-63, "slash" 0/26.
ALTER TABLE reverse_zones ADD COLUMN classless_label text NOT NULL DEFAULT 'range'
    CHECK (classless_label IN ('range', 'slash'));

CREATE TABLE delegations (
    id           bigserial PRIMARY KEY,
    prefix       cidr NOT NULL UNIQUE,
    zone_id      bigint NOT NULL REFERENCES reverse_zones (id) ON DELETE CASCADE,
    account_id   bigint,                 -- the allocation's customer; NULL: staff's, unallocated
    nameservers  text[] NOT NULL CHECK (cardinality(nameservers) BETWEEN 1 AND 13),
    checks       jsonb NOT NULL DEFAULT '[]',   -- the lame-delegation findings when published
    forced       boolean NOT NULL DEFAULT false, -- published by staff despite failed checks
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT delegations_no_overlap EXCLUDE USING gist (prefix inet_ops WITH &&)
);
CREATE INDEX delegations_zone ON delegations (zone_id, prefix);
CREATE INDEX delegations_account ON delegations (account_id, prefix);
