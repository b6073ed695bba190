-- rdns_zone_pending() - does the zone already have a pending change? Answered by an
-- index probe, always (migration 005 tells why).
--
-- A change wakes rdns-zonegen (NOTIFY) only when its zone had no pending change.
-- zone_changes is a queue: empty most of the time, but it grows whenever rdns-zonegen is
-- stopped or behind, and its statistics are whatever the last ANALYZE saw; a plan that
-- scans it (cached by a long-lived session while the table was small) slows every change
-- once it is large. This asks through the (zone_id, seq) index whatever the statistics
-- say (enable_seqscan off for its one statement; a function with a SET clause is not
-- inlined). It is STABLE, so it sees the calling statement's snapshot: not that
-- statement's own zone_changes rows.

CREATE OR REPLACE FUNCTION rdns_zone_pending(p_zone bigint) RETURNS boolean
LANGUAGE sql STABLE SET enable_seqscan = off
AS $$ SELECT EXISTS (SELECT 1 FROM zone_changes WHERE zone_id = p_zone) $$;
