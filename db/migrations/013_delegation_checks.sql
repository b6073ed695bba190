-- 013: the periodic re-check of delegations by rdns-verifier (issue 16).
--
-- Every delegation is checked for lameness again every delegation_recheck_interval: each
-- named server must still answer authoritatively (AA) for the child zone's SOA, with the
-- same serial. The state of that is a table of its own, as ptr_checks is for PTRs: the
-- rows the verifier claims and updates (due_at moves on every claim) are not the rows
-- that the PTR writers' delegation lookups and rdns-zonegen's renders read. A row is
-- written by rdns_delegation_put with the PUT's own findings (due_at NULL: the verifier
-- schedules it at a random point of its interval when it next discovers), and by the
-- verifier's discovery for a delegation without one. A lame delegation stays published:
-- its state, findings and since-when are shown, told in the event feed and audited when
-- it becomes lame and when it recovers.
CREATE TABLE delegation_checks (
    delegation_id  bigint PRIMARY KEY REFERENCES delegations (id) ON DELETE CASCADE,
    state          text NOT NULL CHECK (state IN ('pass', 'lame')),
    checks         jsonb NOT NULL DEFAULT '[]',  -- the findings of the last check (PUT or re-check)
    checked_at     timestamptz NOT NULL DEFAULT now(),
    lame_since     timestamptz,                  -- while lame
    due_at         timestamptz                   -- next re-check; NULL: not scheduled yet
);
CREATE INDEX delegation_checks_due ON delegation_checks (due_at);
CREATE INDEX delegation_checks_lame ON delegation_checks (delegation_id) WHERE state = 'lame';

-- The delegations made before: their state as their publication's findings say (a forced
-- one with failed checks is lame since it was published), scheduled by the verifier.
INSERT INTO delegation_checks (delegation_id, state, checks, checked_at, lame_since)
SELECT d.id, CASE WHEN d.checks @> '[{"status": "fail"}]' THEN 'lame' ELSE 'pass' END, d.checks, d.updated_at,
       CASE WHEN d.checks @> '[{"status": "fail"}]' THEN d.updated_at END
  FROM delegations d;
