-- 014: the list routes and the zones' record counts at a provider's size (issue #17).
--
-- GET /v1/zones counted each zone's records (count(*) over ptr_records_zone: O(records) per
-- zone, every listing) and listed every zone at once; GET /v1/audit, GET /v1/requests and
-- GET /v1/events filtered with "$n IS NULL OR col = $n", which a generic plan cannot use as
-- an index condition: a rare filter (an action, the review queue) walked the whole table
-- backwards, 2,476 pages for an empty page of audit_log at 1/20 of the profile, a sequential
-- scan of ptr_requests for ?state=pending_review. Each filter now has its statement and its
-- index, by (filter, id) so that the cursor is part of the index condition: a page reads
-- about one index leaf and one heap page per row however deep it is.

-- Audit log: by address, by account, by account and action, by action (db/staff.c). The
-- address and account indexes gain the id; the two others are new (two more index entries
-- per audit entry).
DROP INDEX audit_log_ip;
DROP INDEX audit_log_actor;
CREATE INDEX audit_log_ip ON audit_log (ip, id);
CREATE INDEX audit_log_actor ON audit_log (actor_id, id);
CREATE INDEX audit_log_actor_action ON audit_log (actor_id, action, id);
CREATE INDEX audit_log_action ON audit_log (action, id);

-- Requests: staff by state (the review queue), a customer's by state (the panel's filter),
-- by address with the id (db/ptr.c). Requests change state (superseded, decided), so these
-- are not HOT-updated; the partial indexes of 001 and 012 already cost that.
DROP INDEX ptr_requests_ip;
CREATE INDEX ptr_requests_ip ON ptr_requests (ip, id);
CREATE INDEX ptr_requests_state ON ptr_requests (state, id);
CREATE INDEX ptr_requests_account_state ON ptr_requests (account_id, state, id);

-- A customer's records and drifted records (GET /v1/ptr) are read allocation by allocation,
-- in prefix order: the account's allocations by (account_id, prefix).
DROP INDEX allocations_account;
CREATE INDEX allocations_account ON allocations (account_id, prefix);

-- The number of custom PTRs of each zone, exact and read in a few pages: the sum of a zone's
-- rows here. Kept by triggers on ptr_records, so every way a record comes or goes (the apply
-- functions, an allocation's or a zone's deletion, a drift reset, COPY and INSERT by hand) is
-- counted in the transaction that makes it. A writer adds its delta to a row of the zone
-- that no other transaction holds (FOR UPDATE SKIP LOCKED), or makes a new row when every
-- row is held: concurrent writers of one zone never wait for each other here (the zone's
-- own row is not touched, as migration 003 wants, and no row lock is waited for, so none
-- can deadlock). A zone has about as many rows as writers it had at once at its busiest.
-- No foreign key (a key check would lock the zone's row): a zone's deletion removes its rows.
CREATE TABLE zone_record_counts (
    zone_id  bigint NOT NULL,
    stripe   bigserial,
    records  bigint NOT NULL,
    PRIMARY KEY (zone_id, stripe)
);

-- rdns-verifier's discovery (rdns_reverify_discover, every minute) looked for the verified
-- records without a re-verification row with an anti-join of ptr_records and ptr_checks: both
-- tables read whole each time (1,341 pages at 1/20 of the profile, 27,000 at its full size),
-- to find the few records made since. Now the records that may need a row are queued here
-- when they become such a record (inserted unforced, or unforced by an UPDATE), and a
-- discovery reads only the queue. A row costs a new record's INSERT one more index entry.
CREATE TABLE ptr_discover (
    ip  inet PRIMARY KEY
);

-- Defined here because the triggers need them; their current bodies are
-- db/functions/270 to 274.
CREATE FUNCTION rdns_zone_records_add(p_zone bigint, p_delta bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE zone_record_counts c SET records = c.records + p_delta
     WHERE c.zone_id = p_zone
       AND c.stripe = (SELECT s.stripe FROM zone_record_counts s WHERE s.zone_id = p_zone
                        LIMIT 1 FOR UPDATE SKIP LOCKED);
    IF NOT FOUND THEN
        INSERT INTO zone_record_counts (zone_id, records) VALUES (p_zone, p_delta);
    END IF;
END $$;

CREATE FUNCTION rdns_ptr_records_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_zone bigint;
    v_n bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- (the zones exist: the records' foreign key)
        FOR v_zone, v_n IN SELECT zone_id, count(*) FROM new_records GROUP BY zone_id ORDER BY zone_id LOOP
            PERFORM rdns_zone_records_add(v_zone, v_n);
        END LOOP;
        IF FOUND THEN -- (an upsert that updated inserted nothing)
            INSERT INTO ptr_discover (ip) SELECT n.ip FROM new_records n WHERE NOT n.forced
            ON CONFLICT (ip) DO NOTHING;
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        FOR v_zone, v_n IN SELECT o.zone_id, count(*) FROM old_records o
                            WHERE EXISTS (SELECT 1 FROM reverse_zones z WHERE z.id = o.zone_id)
                            GROUP BY o.zone_id ORDER BY o.zone_id LOOP
            PERFORM rdns_zone_records_add(v_zone, -v_n);
        END LOOP;
    ELSE -- TRUNCATE
        DELETE FROM zone_record_counts;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION rdns_ptr_record_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rdns_zone_records_add(OLD.zone_id, -1) WHERE EXISTS (SELECT 1 FROM reverse_zones WHERE id = OLD.zone_id);
    PERFORM rdns_zone_records_add(NEW.zone_id, 1);
    RETURN NULL;
END $$;

CREATE FUNCTION rdns_ptr_record_unforced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ptr_discover (ip) VALUES (NEW.ip) ON CONFLICT (ip) DO NOTHING;
    RETURN NULL;
END $$;

CREATE FUNCTION rdns_zone_records_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM zone_record_counts WHERE zone_id = OLD.id;
    RETURN NULL;
END $$;

-- Writers wait here for the record changes in flight and are held back until this commits:
-- the counts below are those of the records as they are then.
LOCK TABLE ptr_records IN SHARE ROW EXCLUSIVE MODE;
-- (one statement trigger per event: the INSERT's counts the records and queues them for the
-- discovery below)
CREATE TRIGGER ptr_records_changed_insert AFTER INSERT ON ptr_records
    REFERENCING NEW TABLE AS new_records FOR EACH STATEMENT EXECUTE FUNCTION rdns_ptr_records_changed();
CREATE TRIGGER ptr_records_changed_delete AFTER DELETE ON ptr_records
    REFERENCING OLD TABLE AS old_records FOR EACH STATEMENT EXECUTE FUNCTION rdns_ptr_records_changed();
CREATE TRIGGER ptr_records_changed_truncate AFTER TRUNCATE ON ptr_records
    FOR EACH STATEMENT EXECUTE FUNCTION rdns_ptr_records_changed();
-- A record's zone never changes (zones do not overlap, and a zone's deletion takes its
-- records): the apply functions no longer set zone_id on a conflict (db/functions 050, 060,
-- 230), so this fires only for an UPDATE that names the column.
CREATE TRIGGER ptr_records_count_move AFTER UPDATE OF zone_id ON ptr_records
    FOR EACH ROW WHEN (OLD.zone_id IS DISTINCT FROM NEW.zone_id) EXECUTE FUNCTION rdns_ptr_record_moved();
CREATE TRIGGER reverse_zones_forget_counts AFTER DELETE ON reverse_zones
    FOR EACH ROW EXECUTE FUNCTION rdns_zone_records_forget();
INSERT INTO zone_record_counts (zone_id, records) SELECT zone_id, count(*) FROM ptr_records GROUP BY zone_id;

-- (the apply functions' upserts name forced; the WHEN keeps the function for the rare row)
CREATE TRIGGER ptr_records_unforced AFTER UPDATE OF forced ON ptr_records
    FOR EACH ROW WHEN (OLD.forced AND NOT NEW.forced) EXECUTE FUNCTION rdns_ptr_record_unforced();
-- what the discovery of 007 would find now
INSERT INTO ptr_discover (ip)
SELECT p.ip FROM ptr_records p WHERE NOT p.forced AND NOT EXISTS (SELECT 1 FROM ptr_checks c WHERE c.ip = p.ip);
