-- rdns_delegation_recheck_finish() - the outcomes of one claimed batch of delegation
-- re-checks.
--
-- p_outcomes[i]: 'pass' (every named server answers authoritatively, serials agree),
-- 'lame' (some does not, or they disagree) with p_checks[i] the findings (the PTR checks'
-- shape), or 'unknown' (the check could not say: the resolvers did not answer for a
-- server's address, or it could not run; the state stays, tried again after p_retry_ms).
-- p_ns[i]: the name servers checked, space-separated. A delegation that is gone is
-- skipped (its row went with it); one whose name servers changed since the claim (a new
-- PUT, checked then) is left as that PUT wrote it. A lame delegation stays published.
-- Changes of state are audited (actor p_worker) and told in the event feed:
-- delegation.lame (findings) when it becomes lame, delegation.recover / the event
-- delegation.recovered (lame_since) when it passes again; checks that change nothing are
-- not. Returns (id, outcome) for each row handled: pass, lame, still_lame, recovered,
-- unknown, changed.

CREATE OR REPLACE FUNCTION rdns_delegation_recheck_finish(p_ids bigint[], p_ns text[], p_outcomes text[],
                                                          p_checks text[], p_interval_s integer,
                                                          p_retry_ms integer, p_worker text)
RETURNS TABLE (o_id bigint, o_outcome text)
LANGUAGE plpgsql AS $$
DECLARE
    i integer;
    c delegation_checks%ROWTYPE;
    d delegations%ROWTYPE;
    v_checks jsonb;
    v_next timestamptz := now() + p_interval_s * interval '1 second';
BEGIN
    FOR i IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
        SELECT * INTO c FROM delegation_checks WHERE delegation_id = p_ids[i] FOR UPDATE;
        IF NOT FOUND THEN
            CONTINUE;
        END IF;
        SELECT * INTO d FROM delegations WHERE id = p_ids[i];
        IF NOT FOUND THEN
            CONTINUE;
        END IF;
        IF array_to_string(d.nameservers, ' ') <> p_ns[i] THEN
            o_id := d.id; o_outcome := 'changed'; RETURN NEXT;
            CONTINUE;
        END IF;
        IF p_outcomes[i] = 'unknown' THEN
            UPDATE delegation_checks SET due_at = least(v_next, now() + p_retry_ms * interval '1 millisecond')
             WHERE delegation_id = d.id;
            o_id := d.id; o_outcome := 'unknown'; RETURN NEXT;
            CONTINUE;
        END IF;
        v_checks := coalesce(p_checks[i], '[]')::jsonb;
        IF p_outcomes[i] = 'pass' THEN
            UPDATE delegation_checks SET state = 'pass', checks = v_checks, checked_at = now(), lame_since = NULL,
                   due_at = v_next
             WHERE delegation_id = d.id;
            IF c.state = 'lame' THEN
                PERFORM rdns_audit(NULL, p_worker, 'delegation.recover', NULL, 'delegation ' || d.prefix::text,
                                   NULL, array_to_string(d.nameservers, ' '), NULL,
                                   jsonb_build_object('lame_since', c.lame_since, 'checks', v_checks));
                PERFORM rdns_event(d.account_id, 'delegation.recovered', NULL, NULL,
                                   jsonb_build_object('prefix', d.prefix::text, 'nameservers', d.nameservers,
                                                      'lame_since', c.lame_since));
                o_id := d.id; o_outcome := 'recovered'; RETURN NEXT;
            ELSE
                o_id := d.id; o_outcome := 'pass'; RETURN NEXT;
            END IF;
            CONTINUE;
        END IF;
        -- 'lame'
        UPDATE delegation_checks SET state = 'lame', checks = v_checks, checked_at = now(),
               lame_since = CASE WHEN c.state = 'lame' THEN c.lame_since ELSE now() END, due_at = v_next
         WHERE delegation_id = d.id;
        IF c.state = 'pass' THEN
            PERFORM rdns_audit(NULL, p_worker, 'delegation.lame', NULL, 'delegation ' || d.prefix::text,
                               NULL, array_to_string(d.nameservers, ' '), NULL,
                               jsonb_build_object('checks', v_checks));
            PERFORM rdns_event(d.account_id, 'delegation.lame', NULL, NULL,
                               jsonb_build_object('prefix', d.prefix::text, 'nameservers', d.nameservers,
                                                  'checks', v_checks));
            o_id := d.id; o_outcome := 'lame'; RETURN NEXT;
        ELSE
            o_id := d.id; o_outcome := 'still_lame'; RETURN NEXT;
        END IF;
    END LOOP;
END $$;
