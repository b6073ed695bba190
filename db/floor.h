/* floor.h - which allocation, which zone holds an address: a btree floor lookup.
 *
 * Allocations and zones never overlap (their EXCLUDE constraints), so the one that holds
 * an address x, if any, is the greatest prefix <= x in inet order (family, then network
 * bits, then length: a prefix sorts before every address inside it, and any prefix that
 * sorted between it and x would overlap it). That is one backward step of a btree
 * (migration 011), 2-4 pages at any size. The GiST of the EXCLUDE constraint answers
 * "prefix >>= x" too, but its union keys discriminate poorly between many prefixes that
 * share their leading bits: 14-21 pages per lookup at 100,000 allocations, 63-179 at
 * 1,000,000 (1.5-7 ms), on every GET and PUT (issue #17). The GiST stays, for the
 * constraint and for overlap searches (&&). x may be an inet or a cidr expression, and is
 * pasted more than once: a parameter or a column, never a subquery. */
#ifndef RDNS_DB_FLOOR_H
#define RDNS_DB_FLOOR_H

/* clang-format off */
/* The account_id of the allocation holding x, or NULL. */
#define DB_HOLDER_OF(x)                                                                          \
	"(SELECT f.account_id FROM (SELECT account_id, prefix FROM allocations WHERE prefix <= " x \
	" ORDER BY prefix DESC LIMIT 1) f WHERE f.prefix >>= " x ")"

/* " LEFT JOIN" of the zone holding x as z (every column of reverse_zones; NULLs if none). */
#define DB_ZONE_JOIN(x)                                                                          \
	" LEFT JOIN LATERAL (SELECT * FROM reverse_zones WHERE prefix <= " x                       \
	" ORDER BY prefix DESC LIMIT 1) z ON z.prefix >>= " x
/* clang-format on */

#endif
