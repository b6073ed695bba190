-- rdns_zone_touch() - mark a zone dirty and wake rdns-zonegen (delivered at commit).
--
-- An insert, not an UPDATE of the zone's row: concurrent writers of one zone do not
-- serialise on it, and readers of the zone row do not wade through its dead versions.
-- (plpgsql, not sql: its statements are planned once per session, not per call.)
-- The notification is sent only when the zone had no pending change yet (each
-- notifying commit takes a cluster-wide lock); rdns-zonegen looks again after each
-- render for changes committed while it ran.

CREATE OR REPLACE FUNCTION rdns_zone_touch(p_zone bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_seq bigint;
BEGIN
    INSERT INTO zone_changes (zone_id) VALUES (p_zone) RETURNING seq INTO v_seq;
    IF NOT EXISTS (SELECT 1 FROM zone_changes WHERE zone_id = p_zone AND seq < v_seq) THEN
        PERFORM pg_notify('rdns_changes', p_zone::text);
    END IF;
END $$;
