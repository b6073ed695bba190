-- 005: "does the zone already have a pending change?" answered by an index probe, always.
--
-- A change wakes rdns-zonegen (NOTIFY) only when its zone had no pending change: both
-- apply functions asked NOT EXISTS (SELECT 1 FROM zone_changes WHERE zone_id = ...).
-- zone_changes is a queue: empty most of the time, but it grows whenever rdns-zonegen is
-- stopped or behind, and its statistics are whatever the last ANALYZE saw. The planner
-- made the batch's test a hash anti-join over the whole table (a sequential scan of it
-- per batch), and a plan cached by a long-lived session while the table was small stays
-- in use once it is large: with 8,239 rows waiting, 3.3 ms of a 4.5 ms batch, and verified
-- PUTs slowed round after round (PostgreSQL CPU per change 330 -> 415 us over five 8 s
-- rounds of the A2 benchmark, where nothing consumes the queue).
--
-- rdns_zone_pending() asks through the (zone_id, seq) index whatever the statistics say
-- (enable_seqscan off for its one statement; a function with a SET clause is not inlined).
-- It is STABLE, so it sees the calling statement's snapshot: not that statement's own
-- zone_changes rows. The functions below are 003's and 004's with that test.

CREATE FUNCTION rdns_zone_pending(p_zone bigint) RETURNS boolean
LANGUAGE sql STABLE SET enable_seqscan = off
AS $$ SELECT EXISTS (SELECT 1 FROM zone_changes WHERE zone_id = p_zone) $$;

CREATE OR REPLACE FUNCTION rdns_ptr_apply(p_ip inet, p_hostname text, p_owner bigint, p_actor bigint,
                                          p_actor_name text, p_forced boolean, p_checks jsonb, p_reason text,
                                          p_request_id bigint, OUT o_request bigint,
                                          OUT o_updated_at timestamptz, OUT o_verified_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    v_zone bigint;
    v_old text;
    v_holder bigint;
    v_pending boolean;
    v_first boolean;
BEGIN
    -- One writer per address at a time; the final state equals one committed request.
    PERFORM pg_advisory_xact_lock(hashtextextended(host(p_ip), 7400522));
    -- Neither the zone nor the allocation can be deleted until this commits (see the top).
    LOCK TABLE reverse_zones, allocations IN ROW SHARE MODE;
    SELECT (SELECT id FROM reverse_zones WHERE prefix >>= p_ip),
           (SELECT account_id FROM allocations WHERE prefix >>= p_ip),
           (SELECT hostname FROM ptr_records WHERE ip = p_ip),
           EXISTS (SELECT 1 FROM ptr_requests WHERE ip = p_ip AND state = 'pending_review')
      INTO v_zone, v_holder, v_old, v_pending;
    IF v_zone IS NULL THEN
        RAISE EXCEPTION 'address % is in no reverse zone', p_ip USING ERRCODE = 'no_data_found';
    END IF;
    IF p_owner IS NOT NULL AND v_holder IS DISTINCT FROM p_owner THEN
        RAISE EXCEPTION 'address % is not allocated to the account', p_ip USING ERRCODE = 'no_data_found';
    END IF;
    IF v_pending THEN
        -- (the request being applied, if any, is 'approved' by now)
        UPDATE ptr_requests SET state = 'superseded', decided_at = now()
         WHERE ip = p_ip AND state = 'pending_review';
    END IF;
    IF p_hostname IS NULL THEN
        DELETE FROM ptr_records WHERE ip = p_ip;
    ELSE
        -- The record belongs to the address's customer, also when staff set it.
        INSERT INTO ptr_records AS p (ip, zone_id, hostname, account_id, verified_at, forced, updated_at)
        VALUES (p_ip, v_zone, p_hostname, v_holder, CASE WHEN p_forced THEN NULL ELSE now() END, p_forced, now())
        ON CONFLICT (ip) DO UPDATE SET zone_id = EXCLUDED.zone_id, hostname = EXCLUDED.hostname,
            account_id = EXCLUDED.account_id, verified_at = EXCLUDED.verified_at, forced = EXCLUDED.forced,
            updated_at = EXCLUDED.updated_at
        RETURNING p.updated_at, p.verified_at INTO o_updated_at, o_verified_at;
    END IF;
    -- A new request unless one (approved) is being applied; the audit entry; the zone's
    -- change mark when the name changes. v_first: the zone had no pending change before
    -- (the statement's snapshot does not see its own inserts), so rdns-zonegen is woken.
    WITH req AS (
        INSERT INTO ptr_requests (account_id, ip, hostname, action, exception_reason, forced, state, checks)
        SELECT p_actor, p_ip, p_hostname, CASE WHEN p_hostname IS NULL THEN 'delete' ELSE 'set' END,
               p_reason, p_forced, 'applied', coalesce(p_checks, '[]')
         WHERE p_request_id IS NULL
        RETURNING id
    ), rid AS (
        SELECT coalesce((SELECT id FROM req), p_request_id) AS id
    ), aud AS (
        INSERT INTO audit_log (actor_id, actor_name, action, ip, object, old_value, new_value, request_id, detail)
        SELECT p_actor, p_actor_name,
               CASE WHEN p_hostname IS NULL THEN 'ptr.delete' WHEN p_forced THEN 'ptr.force' ELSE 'ptr.set' END,
               p_ip, 'ptr ' || host(p_ip), v_old, p_hostname, rid.id, jsonb_build_object('forced', p_forced)
          FROM rid
    ), chg AS (
        INSERT INTO zone_changes (zone_id) SELECT v_zone WHERE v_old IS DISTINCT FROM p_hostname RETURNING seq
    )
    SELECT rid.id, EXISTS (SELECT 1 FROM chg) AND NOT rdns_zone_pending(v_zone)
      INTO o_request, v_first FROM rid;
    IF v_first THEN
        PERFORM pg_notify('rdns_changes', v_zone::text);
    END IF;
END $$;


CREATE OR REPLACE FUNCTION rdns_ptr_apply_batch(p_ips inet[], p_hostnames text[], p_owners bigint[], p_actors bigint[],
                                     p_actor_names text[], p_forced boolean[], p_checks text[], p_reasons text[])
RETURNS TABLE (o_idx integer, o_request bigint, o_updated_at timestamptz, o_verified_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    v_idx integer[];
    v_zone bigint[];
    v_holder bigint[];
    v_old text[];
    v_pending boolean;
BEGIN
    -- In one order for every caller, so two batches never wait on each other in a cycle.
    PERFORM pg_advisory_xact_lock(h)
       FROM (SELECT DISTINCT hashtextextended(host(x), 7400522) AS h FROM unnest(p_ips) AS x ORDER BY 1) s;
    LOCK TABLE reverse_zones, allocations IN ROW SHARE MODE;
    SELECT array_agg(t.idx), array_agg(t.zone), array_agg(t.holder), array_agg(t.old), bool_or(t.pending)
      INTO v_idx, v_zone, v_holder, v_old, v_pending
      FROM (SELECT u.idx::integer AS idx, z.id AS zone, u.owner,
                   (SELECT a.account_id FROM allocations a WHERE a.prefix >>= u.ip) AS holder,
                   (SELECT p.hostname FROM ptr_records p WHERE p.ip = u.ip) AS old,
                   EXISTS (SELECT 1 FROM ptr_requests r WHERE r.ip = u.ip AND r.state = 'pending_review') AS pending
              FROM unnest(p_ips, p_owners) WITH ORDINALITY AS u(ip, owner, idx)
              JOIN reverse_zones z ON z.prefix >>= u.ip) t
     WHERE t.owner IS NULL OR t.holder = t.owner;
    IF v_idx IS NULL THEN
        RETURN;
    END IF;
    IF v_pending THEN
        UPDATE ptr_requests SET state = 'superseded', decided_at = now()
         WHERE state = 'pending_review' AND ip IN (SELECT p_ips[i] FROM unnest(v_idx) AS i);
    END IF;
    RETURN QUERY
    WITH b AS (
        SELECT v.idx, p_ips[v.idx] AS ip, p_hostnames[v.idx] AS hostname, p_actors[v.idx] AS actor,
               p_actor_names[v.idx] AS actor_name, p_forced[v.idx] AS forced,
               coalesce(p_checks[v.idx], '[]')::jsonb AS checks, p_reasons[v.idx] AS reason,
               v.zone, v.holder, v.old
          FROM unnest(v_idx, v_zone, v_holder, v_old) AS v(idx, zone, holder, old)
    ), up AS (
        INSERT INTO ptr_records AS p (ip, zone_id, hostname, account_id, verified_at, forced, updated_at)
        SELECT b.ip, b.zone, b.hostname, b.holder, CASE WHEN b.forced THEN NULL ELSE now() END, b.forced, now()
          FROM b
        ON CONFLICT (ip) DO UPDATE SET zone_id = EXCLUDED.zone_id, hostname = EXCLUDED.hostname,
            account_id = EXCLUDED.account_id, verified_at = EXCLUDED.verified_at, forced = EXCLUDED.forced,
            updated_at = EXCLUDED.updated_at
        RETURNING p.ip, p.updated_at, p.verified_at
    ), req AS (
        INSERT INTO ptr_requests (account_id, ip, hostname, action, exception_reason, forced, state, checks)
        SELECT b.actor, b.ip, b.hostname, 'set', b.reason, b.forced, 'applied', b.checks FROM b
        RETURNING id, ip
    ), aud AS (
        INSERT INTO audit_log (actor_id, actor_name, action, ip, object, old_value, new_value, request_id, detail)
        SELECT b.actor, b.actor_name, CASE WHEN b.forced THEN 'ptr.force' ELSE 'ptr.set' END, b.ip,
               'ptr ' || host(b.ip), b.old, b.hostname, req.id, jsonb_build_object('forced', b.forced)
          FROM b JOIN req ON req.ip = b.ip
    ), changed AS MATERIALIZED (
        SELECT DISTINCT b.zone FROM b WHERE b.old IS DISTINCT FROM b.hostname
    ), chg AS (
        INSERT INTO zone_changes (zone_id) SELECT changed.zone FROM changed
    ), woken AS (
        -- zones that had no pending change before (the snapshot does not see chg's rows);
        -- one probe per zone (MATERIALIZED: not pushed down to every change)
        SELECT changed.zone FROM changed WHERE NOT rdns_zone_pending(changed.zone)
    ), notified AS (
        SELECT count(*) AS n FROM woken w, LATERAL (SELECT pg_notify('rdns_changes', w.zone::text)) AS s
    )
    SELECT b.idx, req.id, up.updated_at, up.verified_at
      FROM b JOIN req ON req.ip = b.ip JOIN up ON up.ip = b.ip, notified;
END $$;
