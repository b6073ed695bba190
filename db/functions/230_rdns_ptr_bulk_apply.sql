-- rdns_ptr_bulk_apply() - the verified items of one bulk change (POST /v1/ptr:batch), sets
-- (p_hostnames[i] not null) and resets (null), applied in one transaction and a handful of
-- statements: each gets what rdns_ptr_apply() gives a change (the address's advisory lock,
-- its pending request superseded, the record upserted or deleted, a request, an audit entry,
-- its zone's change mark with the address and its old name (migration 010: rdns-zonegen
-- serves the change from the difference) and a NOTIFY when the zone becomes dirty).
--
-- p_owner: the customer whose allocations must hold the addresses (null: staff). An
-- address in no zone or not the owner's is not applied and has no row; one inside a
-- delegation (migration 009) is not applied and has a row with o_request NULL and
-- o_delegation "<prefix> <ns>, <ns>". ROW SHARE on delegations holds a new delegation
-- back until this commits (rdns_delegation_put takes EXCLUSIVE), as in rdns_ptr_apply.
-- p_atomic: all or none, so such an address raises 'RD409' and nothing is applied. The
-- addresses must be distinct. One row per item applied: o_idx (its 1-based position), the
-- new request's id and the record's timestamps (null for a reset).
-- The items travel between the statements as arrays (as in rdns_ptr_apply_batch): no
-- temporary table, so no catalog writes and plans that stay cached.

DROP FUNCTION IF EXISTS rdns_ptr_bulk_apply(inet[], text[], bigint, bigint, text, text[], boolean);
CREATE OR REPLACE FUNCTION rdns_ptr_bulk_apply(p_ips inet[], p_hostnames text[], p_owner bigint, p_actor bigint,
                                               p_actor_name text, p_checks text[], p_atomic boolean)
RETURNS TABLE (o_idx integer, o_request bigint, o_updated_at timestamptz, o_verified_at timestamptz,
               o_delegation text)
LANGUAGE plpgsql AS $$
DECLARE
    v_idx integer[];
    v_zone bigint[];
    v_holder bigint[];
    v_old text[];
    v_pending boolean;
    v_dlg integer[];
    v_dlg_text text[];
BEGIN
    -- In one order for every caller, so two batches never wait on each other in a cycle.
    -- (7400522: DB_LOCK_ADDR, db/locks.h)
    PERFORM pg_advisory_xact_lock(h)
       FROM (SELECT DISTINCT hashtextextended(host(x), 7400522) AS h FROM unnest(p_ips) AS x ORDER BY 1) s;
    LOCK TABLE reverse_zones, allocations, delegations IN ROW SHARE MODE;
    SELECT array_agg(t.idx) FILTER (WHERE t.deleg IS NULL), array_agg(t.zone) FILTER (WHERE t.deleg IS NULL),
           array_agg(t.holder) FILTER (WHERE t.deleg IS NULL), array_agg(t.old) FILTER (WHERE t.deleg IS NULL),
           bool_or(t.pending) FILTER (WHERE t.deleg IS NULL),
           array_agg(t.idx) FILTER (WHERE t.deleg IS NOT NULL), array_agg(t.deleg) FILTER (WHERE t.deleg IS NOT NULL)
      INTO v_idx, v_zone, v_holder, v_old, v_pending, v_dlg, v_dlg_text
      -- OFFSET 0: evaluated once per item; flattened, each subquery ran once per reference
      -- (the delegation's seven times, the holder's twice)
      FROM (SELECT u.idx::integer AS idx, z.id AS zone,
                   -- the allocation and the zone holding u.ip: btree floor lookups (db/floor.h)
                   (SELECT f.account_id FROM (SELECT account_id, prefix FROM allocations WHERE prefix <= u.ip
                                              ORDER BY prefix DESC LIMIT 1) f WHERE f.prefix >>= u.ip) AS holder,
                   (SELECT p.hostname FROM ptr_records p WHERE p.ip = u.ip) AS old,
                   EXISTS (SELECT 1 FROM ptr_requests r WHERE r.ip = u.ip
                              AND r.state IN ('pending_review', 'waiting_forward')) AS pending,
                   (SELECT d.prefix::text || ' ' || array_to_string(d.nameservers, ', ') FROM delegations d
                     WHERE d.prefix >>= u.ip) AS deleg
              FROM unnest(p_ips) WITH ORDINALITY AS u(ip, idx)
              JOIN LATERAL (SELECT id, prefix FROM reverse_zones WHERE prefix <= u.ip
                            ORDER BY prefix DESC LIMIT 1) z ON z.prefix >>= u.ip OFFSET 0) t
     WHERE p_owner IS NULL OR t.holder = p_owner;
    IF p_atomic AND coalesce(cardinality(v_idx), 0) < cardinality(p_ips) THEN
        RAISE EXCEPTION 'an address of the batch is not the caller''s, in no zone or delegated'
            USING ERRCODE = 'RD409';
    END IF;
    IF v_dlg IS NOT NULL THEN
        RETURN QUERY SELECT d.i, NULL::bigint, NULL::timestamptz, NULL::timestamptz, d.t
                       FROM unnest(v_dlg, v_dlg_text) AS d(i, t);
    END IF;
    IF v_idx IS NULL THEN
        RETURN;
    END IF;
    IF v_pending THEN
        -- as rdns_ptr_apply: a request waiting for forward DNS would otherwise be applied
        -- over this one later by rdns-verifier
        UPDATE ptr_requests SET state = 'superseded', decided_at = now()
         WHERE state IN ('pending_review', 'waiting_forward') AND ip IN (SELECT p_ips[i] FROM unnest(v_idx) AS i);
    END IF;
    -- The transaction's id before the statement below, whose snapshot is taken before its
    -- first row is written (and would give it one): a render of a zone that commits after
    -- that snapshot deletes the change mark it saw (so woken stays silent), and rdns-zonegen
    -- then waits only for the transactions that held an id at the render's commit before it
    -- looks for the changes that came meanwhile (daemon.c, late_watch_t). Without an id yet,
    -- this one's change would wait for the reconcile. (A nextval() of the statement's
    -- defaults gives one in 32 calls; the single rdns_ptr_apply writes its record in a
    -- statement before its look.)
    PERFORM pg_current_xact_id();
    RETURN QUERY
    WITH b AS MATERIALIZED (
        SELECT v.idx, p_ips[v.idx] AS ip, p_hostnames[v.idx] AS hostname,
               coalesce(p_checks[v.idx], '[]')::jsonb AS checks, v.zone, v.holder, v.old
          FROM unnest(v_idx, v_zone, v_holder, v_old) AS v(idx, zone, holder, old)
    ), del AS (
        DELETE FROM ptr_records p WHERE p.ip IN (SELECT b.ip FROM b WHERE b.hostname IS NULL)
    ), up AS (
        INSERT INTO ptr_records AS p (ip, zone_id, hostname, account_id, verified_at, forced, updated_at)
        SELECT b.ip, b.zone, b.hostname, b.holder, now(), false, now() FROM b WHERE b.hostname IS NOT NULL
        -- (not zone_id: a record's zone never changes, and the count trigger of migration
        -- 014 fires for an UPDATE that names it)
        ON CONFLICT (ip) DO UPDATE SET hostname = EXCLUDED.hostname, account_id = EXCLUDED.account_id,
            verified_at = EXCLUDED.verified_at, forced = EXCLUDED.forced, updated_at = EXCLUDED.updated_at
        RETURNING p.ip, p.updated_at, p.verified_at
    ), req AS (
        INSERT INTO ptr_requests (account_id, ip, hostname, action, forced, state, checks)
        SELECT p_actor, b.ip, b.hostname, CASE WHEN b.hostname IS NULL THEN 'delete' ELSE 'set' END, false,
               'applied', b.checks FROM b
        RETURNING id, ip
    ), aud AS (
        INSERT INTO audit_log (actor_id, actor_name, action, ip, object, old_value, new_value, request_id, detail)
        SELECT p_actor, p_actor_name, CASE WHEN b.hostname IS NULL THEN 'ptr.delete' ELSE 'ptr.set' END, b.ip,
               'ptr ' || host(b.ip), b.old, b.hostname, req.id, jsonb_build_object('forced', false, 'batch', true)
          FROM b JOIN req ON req.ip = b.ip
    ), changed AS MATERIALIZED (
        SELECT DISTINCT b.zone FROM b WHERE b.old IS DISTINCT FROM b.hostname
    ), chg AS (
        -- one row per address changed (migration 010: rdns-zonegen applies it alone)
        INSERT INTO zone_changes (zone_id, ip, old_hostname)
        SELECT b.zone, b.ip, b.old FROM b WHERE b.old IS DISTINCT FROM b.hostname
    ), woken AS (
        SELECT changed.zone FROM changed WHERE NOT rdns_zone_pending(changed.zone)
    ), notified AS (
        SELECT count(*) AS n FROM woken w, LATERAL (SELECT pg_notify('rdns_changes', w.zone::text)) AS s
    )
    SELECT b.idx, req.id, up.updated_at, up.verified_at, NULL::text
      FROM b JOIN req ON req.ip = b.ip LEFT JOIN up ON up.ip = b.ip, notified;
END $$;
