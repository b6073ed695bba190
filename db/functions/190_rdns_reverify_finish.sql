-- rdns_reverify_finish() - the outcomes of one claimed batch of re-verifications.
--
-- p_outcomes[i]: 'pass' (confirmed), 'fail' (a definite answer that it is not: NXDOMAIN,
-- NODATA, other addresses, a CNAME loop; or syntax or policy fail now) with p_checks[i]
-- the findings, or 'unknown' (the resolvers did not say: timeouts, SERVFAIL, refused: the
-- state stays, tried again after p_retry_ms). p_hostnames[i]: the name that was checked.
-- A record that is gone or forced loses its row; one whose name changed since the claim
-- (a new PUT, verified then) starts afresh as verified. State changes are audited (actor
-- p_worker) and told in the event feed: ptr.drift / ptr.drifted (since-when and the
-- finding), ptr.verify / ptr.verified again. With p_reset (drift_action = reset) a record
-- drifted for p_grace_s is reset to the zone's default as a DELETE would (zone marked dirty,
-- audited ptr.reset, event ptr.reset); a drifted record is checked again at the end of its
-- grace so that the reset comes on time. Returns (ip, outcome) for each row handled:
-- verified, drifted, still_drifted, verified_again, reset, unknown, changed, gone.

CREATE OR REPLACE FUNCTION rdns_reverify_finish(p_ips inet[], p_hostnames text[], p_outcomes text[],
                                                p_checks text[], p_interval_s integer, p_retry_ms integer,
                                                p_worker text, p_reset boolean, p_grace_s integer)
RETURNS TABLE (o_ip inet, o_outcome text)
LANGUAGE plpgsql AS $$
DECLARE
    i integer;
    v_ip inet;
    c ptr_checks%ROWTYPE;
    v_host text;
    v_forced boolean;
    v_account bigint;
    v_zone bigint;
    v_finding jsonb;
    v_next timestamptz := now() + p_interval_s * interval '1 second';
    v_drift_next timestamptz;
BEGIN
    -- In the order of the address locks, as every batch takes them (rdns_ptr_apply_batch):
    -- a reset below takes one. (7400522: DB_LOCK_ADDR, db/locks.h)
    FOR i IN SELECT u.idx FROM unnest(p_ips) WITH ORDINALITY AS u(ip, idx)
              ORDER BY hashtextextended(host(u.ip), 7400522) LOOP
        v_ip := p_ips[i];
        SELECT * INTO c FROM ptr_checks WHERE ip = v_ip FOR UPDATE;
        IF NOT FOUND THEN
            CONTINUE;
        END IF;
        SELECT p.hostname, p.forced, p.account_id INTO v_host, v_forced, v_account
          FROM ptr_records p WHERE p.ip = v_ip;
        IF NOT FOUND OR v_forced THEN
            DELETE FROM ptr_checks WHERE ip = v_ip;
            o_ip := v_ip; o_outcome := 'gone'; RETURN NEXT;
            CONTINUE;
        END IF;
        IF v_host <> c.hostname OR v_host <> p_hostnames[i] THEN
            UPDATE ptr_checks SET hostname = v_host, state = 'verified', drifted_since = NULL, finding = NULL,
                   checked_at = NULL, due_at = v_next
             WHERE ip = v_ip;
            o_ip := v_ip; o_outcome := 'changed'; RETURN NEXT;
            CONTINUE;
        END IF;
        IF p_outcomes[i] = 'unknown' THEN
            UPDATE ptr_checks SET due_at = least(v_next, now() + p_retry_ms * interval '1 millisecond')
             WHERE ip = v_ip;
            o_ip := v_ip; o_outcome := 'unknown'; RETURN NEXT;
            CONTINUE;
        END IF;
        IF p_outcomes[i] = 'pass' THEN
            UPDATE ptr_checks SET state = 'verified', drifted_since = NULL, finding = NULL, checked_at = now(),
                   due_at = v_next
             WHERE ip = v_ip;
            IF c.state = 'drifted' THEN
                PERFORM rdns_audit(NULL, p_worker, 'ptr.verify', v_ip, 'ptr ' || host(v_ip), NULL, v_host, NULL,
                                   jsonb_build_object('drifted_since', c.drifted_since));
                PERFORM rdns_event(v_account, 'ptr.verified', v_ip, NULL,
                                   jsonb_build_object('hostname', v_host, 'drifted_since', c.drifted_since));
                o_ip := v_ip; o_outcome := 'verified_again'; RETURN NEXT;
            ELSE
                o_ip := v_ip; o_outcome := 'verified'; RETURN NEXT;
            END IF;
            CONTINUE;
        END IF;
        -- 'fail': the first failed check is the finding.
        SELECT x INTO v_finding FROM jsonb_array_elements(coalesce(p_checks[i], '[]')::jsonb) AS x
         WHERE x->>'status' = 'fail' LIMIT 1;
        IF c.state = 'verified' THEN
            v_drift_next := CASE WHEN p_reset THEN least(v_next, now() + p_grace_s * interval '1 second')
                                 ELSE v_next END;
            UPDATE ptr_checks SET state = 'drifted', drifted_since = now(), finding = v_finding, checked_at = now(),
                   due_at = v_drift_next
             WHERE ip = v_ip;
            PERFORM rdns_audit(NULL, p_worker, 'ptr.drift', v_ip, 'ptr ' || host(v_ip), NULL, v_host, NULL,
                               jsonb_build_object('finding', v_finding));
            PERFORM rdns_event(v_account, 'ptr.drifted', v_ip, NULL,
                               jsonb_build_object('hostname', v_host, 'finding', v_finding));
            o_ip := v_ip; o_outcome := 'drifted'; RETURN NEXT;
            CONTINUE;
        END IF;
        IF p_reset AND c.drifted_since + p_grace_s * interval '1 second' <= now() THEN
            -- The address's lock, as every writer of it. (7400522: DB_LOCK_ADDR, db/locks.h)
            PERFORM pg_advisory_xact_lock(hashtextextended(host(v_ip), 7400522));
            DELETE FROM ptr_records WHERE ip = v_ip AND hostname = c.hostname RETURNING zone_id INTO v_zone;
            IF v_zone IS NOT NULL THEN
                PERFORM rdns_zone_touch(v_zone);
                PERFORM rdns_audit(NULL, p_worker, 'ptr.reset', v_ip, 'ptr ' || host(v_ip), v_host, NULL, NULL,
                                   jsonb_build_object('reason', 'drift', 'drifted_since', c.drifted_since,
                                                      'finding', v_finding));
                PERFORM rdns_event(v_account, 'ptr.reset', v_ip, NULL,
                                   jsonb_build_object('hostname', v_host, 'drifted_since', c.drifted_since,
                                                      'finding', v_finding));
            END IF;
            DELETE FROM ptr_checks WHERE ip = v_ip;
            o_ip := v_ip; o_outcome := CASE WHEN v_zone IS NULL THEN 'changed' ELSE 'reset' END; RETURN NEXT;
            CONTINUE;
        END IF;
        UPDATE ptr_checks SET finding = v_finding, checked_at = now(),
               due_at = CASE WHEN p_reset THEN least(v_next, c.drifted_since + p_grace_s * interval '1 second')
                             ELSE v_next END
         WHERE ip = v_ip;
        o_ip := v_ip; o_outcome := 'still_drifted'; RETURN NEXT;
    END LOOP;
END $$;
