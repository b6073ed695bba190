-- 011: btree indexes on the prefixes of allocations and zones, for the floor lookups of
-- db/floor.h (issue #17). "Which allocation (zone) holds this address" was answered by
-- the GiST index of the no-overlap constraint, which reads 14-21 pages per lookup at
-- 100,000 allocations and 63-179 at 1,000,000 (1.5-7 ms, on every GET and PUT); the
-- greatest prefix <= the address, which is the only candidate since prefixes never
-- overlap, is one backward step of a btree: 2-4 pages at any size. The GiST indexes stay
-- (they are the constraints, and serve overlap searches). Building these takes about
-- 1.3 s per million allocations, under a lock that holds writers back meanwhile.
CREATE INDEX allocations_prefix ON allocations (prefix);
CREATE INDEX reverse_zones_prefix ON reverse_zones (prefix);
