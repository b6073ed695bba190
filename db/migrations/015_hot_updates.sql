-- 015: room on the page for the rows updated on every change (issue #17).
--
-- A zone's row is updated each time the zone is rendered (serial, content_hash,
-- rendered_at: none of them indexed), a zone's count row on each change of its records.
-- Such an update is HOT (the new version on the old one's page, no index touched) only
-- when the page has room for it; these tables were filled to 100%, so nearly every update
-- (93% of 303,872 in a cold start and S2 at the provider profile) put the new version on
-- another page and a new entry in every index, reverse_zones' GiST exclusion constraint
-- among them with its overlap search: 29 ms to commit the serials of a batch of 128 zones
-- (18,077 buffers), 1.1 ms (437 buffers) with room on the page.
ALTER TABLE reverse_zones SET (fillfactor = 50);
ALTER TABLE zone_record_counts SET (fillfactor = 50);
-- A record's upsert (hostname, verified_at, updated_at: not indexed) likewise; its table is
-- large, so it is not rewritten here: new pages keep the room, and old ones gain it as
-- their rows are updated once and vacuumed.
ALTER TABLE ptr_records SET (fillfactor = 90);
-- The small tables rewritten now, with the room (an ACCESS EXCLUSIVE lock for as long as
-- copying them takes: ~1 s for 81,920 zones).
CLUSTER reverse_zones USING reverse_zones_pkey;
CLUSTER zone_record_counts USING zone_record_counts_pkey;
