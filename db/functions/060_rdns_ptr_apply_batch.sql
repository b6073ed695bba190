-- rdns_ptr_apply_batch() - verified changes applied in batches (group commit).
--
-- rdns-api gathers the PTR sets that are ready at the same moment (one per address) and
-- applies them with one call. Each change gets what rdns_ptr_apply() gives it: the
-- address's advisory lock, ROW SHARE on zones and allocations, its pending request
-- superseded, the record upserted, a request and an audit entry, its zone's change mark
-- and a NOTIFY when the zone becomes dirty; all in one transaction and five statements
-- for the whole batch. Executor start-up of rdns_ptr_apply's statements is most of a
-- change's cost in PostgreSQL: a batch pays it once. The addresses of a call must be
-- distinct (rdns-api never puts one address twice in a batch).
--
-- One row per change applied: o_idx (its 1-based position in the arrays), the new
-- request's id and the record's timestamps. A change whose address is in no zone, or
-- not in its owner's allocation (p_owners[i] NULL: staff, any allocation), has no row:
-- the caller answers it as rdns_ptr_apply's no_data_found. A change whose address is
-- inside a delegation (migration 009) is not applied and has a row with o_request NULL
-- and o_delegation "<prefix> <ns>, <ns>" (rdns_ptr_apply's 'RDDLG'); ROW SHARE on
-- delegations holds a new delegation back until this commits, as in rdns_ptr_apply.

DROP FUNCTION IF EXISTS rdns_ptr_apply_batch(inet[], text[], bigint[], bigint[], text[], boolean[], text[], text[]);
CREATE OR REPLACE FUNCTION rdns_ptr_apply_batch(p_ips inet[], p_hostnames text[], p_owners bigint[],
                                                p_actors bigint[], p_actor_names text[], p_forced boolean[],
                                                p_checks text[], p_reasons text[])
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
      FROM (SELECT u.idx::integer AS idx, z.id AS zone, u.owner,
                   -- the allocation and the zone holding u.ip: btree floor lookups (db/floor.h)
                   (SELECT f.account_id FROM (SELECT account_id, prefix FROM allocations WHERE prefix <= u.ip
                                              ORDER BY prefix DESC LIMIT 1) f WHERE f.prefix >>= u.ip) AS holder,
                   (SELECT p.hostname FROM ptr_records p WHERE p.ip = u.ip) AS old,
                   EXISTS (SELECT 1 FROM ptr_requests r WHERE r.ip = u.ip AND r.state IN ('pending_review', 'waiting_forward')) AS pending,
                   (SELECT d.prefix::text || ' ' || array_to_string(d.nameservers, ', ') FROM delegations d
                     WHERE d.prefix >>= u.ip) AS deleg
              FROM unnest(p_ips, p_owners) WITH ORDINALITY AS u(ip, owner, idx)
              JOIN LATERAL (SELECT id, prefix FROM reverse_zones WHERE prefix <= u.ip
                            ORDER BY prefix DESC LIMIT 1) z ON z.prefix >>= u.ip OFFSET 0) t
     WHERE t.owner IS NULL OR t.holder = t.owner;
    IF v_dlg IS NOT NULL THEN
        RETURN QUERY SELECT d.i, NULL::bigint, NULL::timestamptz, NULL::timestamptz, d.t
                       FROM unnest(v_dlg, v_dlg_text) AS d(i, t);
    END IF;
    IF v_idx IS NULL THEN
        RETURN;
    END IF;
    IF v_pending THEN
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
        -- (not zone_id: a record's zone never changes, and the count trigger of migration
        -- 014 fires for an UPDATE that names it)
        ON CONFLICT (ip) DO UPDATE SET hostname = EXCLUDED.hostname, account_id = EXCLUDED.account_id,
            verified_at = EXCLUDED.verified_at, forced = EXCLUDED.forced, updated_at = EXCLUDED.updated_at
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
        -- one row per address changed (migration 010: rdns-zonegen applies it alone)
        INSERT INTO zone_changes (zone_id, ip, old_hostname)
        SELECT b.zone, b.ip, b.old FROM b WHERE b.old IS DISTINCT FROM b.hostname
    ), woken AS (
        -- zones that had no pending change before (the snapshot does not see chg's rows);
        -- one probe per zone (MATERIALIZED: not pushed down to every change)
        SELECT changed.zone FROM changed WHERE NOT rdns_zone_pending(changed.zone)
    ), notified AS (
        SELECT count(*) AS n FROM woken w, LATERAL (SELECT pg_notify('rdns_changes', w.zone::text)) AS s
    )
    SELECT b.idx, req.id, up.updated_at, up.verified_at, NULL::text
      FROM b JOIN req ON req.ip = b.ip JOIN up ON up.ip = b.ip, notified;
END $$;
