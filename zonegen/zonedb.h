/* zonedb.h - the hidden primary's published zones: one immutable snapshot (an open, checked
 * zone file and its SOA) per zone, shared by reference with the transfers that read it. */
#ifndef RDNS_ZONEGEN_ZONEDB_H
#define RDNS_ZONEGEN_ZONEDB_H

#include <stdbool.h>
#include <stddef.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "zonegen/fdcache.h"
#include "zonegen/journal.h"
#include "zonegen/wire.h"

/* Read buffer a reader needs; also the longest line a zone file may have. */
#define ZG_ZONEDB_LINE_MAX (256 * 1024)

typedef struct zg_zonedb zg_zonedb_t;

/* One published version of a zone. It never changes: a new publish makes a
 * new snapshot, and this one lives on until the last holder gives it back.
 * Read-only outside zonedb.c. */
typedef struct zg_zonedb_index zg_zonedb_index_t;

/* One name of an overlay: its record set replaces the one the base file has. The names
 * of an overlay are complete address names (the owners of PTRs), which have no names
 * below them in a reverse zone. */
typedef struct {
	uint8_t owner[ZG_WIRE_NAME_MAX]; /* lower-case wire name */
	size_t owner_len;
	char *line; /* its one record, a line of our format (no newline); NULL: it owns none now */
	size_t line_len;
} zg_zonedb_ovl_t;

typedef struct zg_zonedb_snap zg_zonedb_snap_t;

/* A version's SOA as it is kept: the fields of its zg_wire_zrr_t with the three names in
 * one allocation of their own size (owner, then name1 and name2; a wire name is at most 255
 * bytes). A version of every zone is kept, and a zg_wire_zrr_t is 824 bytes, most of a
 * zone's memory at 81,920 zones (#17); zg_zonedb_soa_rr() gives the record back where one is
 * needed. */
typedef struct {
	uint8_t *owner; /* owner_len bytes, then name1's and name2's */
	uint8_t owner_len, name1_len, name2_len;
	uint32_t ttl;
	uint32_t soa[5]; /* serial refresh retry expire minimum */
} zg_zonedb_soa_t;

/* Keep rr (an SOA) in *s, which owns nothing yet: RDNS_OK or RDNS_ENOMEM. */
int zg_zonedb_soa_set(zg_zonedb_soa_t *s, const zg_wire_zrr_t *rr);

/* The record *s keeps, whole. */
void zg_zonedb_soa_rr(const zg_zonedb_soa_t *s, zg_wire_zrr_t *rr);

/* (#17: a version of each of a provider's 82k zones is kept, so its fields are packed: 136
 * bytes, not 248) */
struct zg_zonedb_snap {
	int refs; /* private: atomic */
	/* private: the apex's records are the first apex_rrs lines (ours always are),
	 * so apex lookups (SOA, NS: what secondaries ask) never need the index */
	uint32_t apex_rrs;
	uint32_t n_ovl; /* an overlay's names (below) */
	uint16_t soa_line_len;
	bool apex_first;
	/* every record below the apex is a PTR (no zone cut, no CNAME): what a version made
	 * from the difference of single addresses (incr.c) can start from */
	bool ptrs_only;
	zg_fdc_t file;       /* private: read it with zg_zonedb_reader_* (an overlay: unused, its base's) */
	zg_zonedb_soa_t soa; /* owns soa.owner */
	size_t records;      /* including the SOA */
	/* private: the owner-name index of zg_zonedb_lookup, built on first use (under a lock
	 * of the store's, one of a few shared by all versions: a mutex each was 40 bytes a zone) */
	zg_zonedb_index_t *index;
	/* the IXFR history ending at this version (<zone>.ixfr, checked at publish); NULL: none */
	zg_journal_t *journal;
	/* An overlay version (zg_zonedb_publish_overlay): the zone file of base (held) with
	 * the n_ovl names of ovl (sorted in our files' order) replaced and soa as its SOA
	 * (soa_line: its text, soa_line_len bytes). base is NULL for a version that is a zone
	 * file as it is. */
	zg_zonedb_snap_t *base;
	zg_zonedb_ovl_t *ovl;
	char *soa_line;
};

/* An empty store; NULL when out of memory. */
zg_zonedb_t *zg_zonedb_new(void);

/* Free the store and its snapshots (none may be held any more); NULL is fine. */
void zg_zonedb_free(zg_zonedb_t *db);

/* Open path, check the whole file (every line a record of our fixed format,
 * the first the SOA of zone, only one SOA, all owners inside the zone) and
 * make the open file the zone's current snapshot, with the journal beside it
 * (zg_journal_path) when it checks and ends at this serial. Holders of the previous
 * snapshot keep it; the file may be renamed over or unlinked afterwards.
 * zone is case-insensitive, trailing dot optional, not the root. RDNS_OK,
 * RDNS_EINVAL (bad zone name or file content), RDNS_EIO (cannot open or
 * read), RDNS_ENOMEM. Logs the outcome (component "dnssrv"). */
int zg_zonedb_publish(zg_zonedb_t *db, const char *zone, const char *path);

/* A new version of a published zone without a new file: the current snapshot's zone
 * file (its base, when it is an overlay itself) with the names of ovl[0..n) replaced,
 * those of the current overlay kept unless ovl replaces them, soa_line as the SOA, and
 * the journal at journal_path when it checks and ends at that SOA's serial. ovl's lines
 * are copied; its order does not matter, a name may appear once. The caller makes
 * sure the lines are what a render of the same content would write (incr.c). RDNS_OK,
 * RDNS_ENOTFOUND (the zone is not published), RDNS_EINVAL (a line or name that is not
 * ours, a serial that is not newer), RDNS_ENOMEM. Logs the outcome. */
int zg_zonedb_publish_overlay(zg_zonedb_t *db, const char *zone, const zg_zonedb_ovl_t *ovl, size_t n,
                              const char *soa_line, size_t soa_len, const char *journal_path);

/* Publish path, a file of our format holding exactly the records of the version like
 * (written from it: incr.c), without reading it all: like's SOA, head and record count.
 * The journal beside it as zg_zonedb_publish takes it. Only in like's place: RDNS_EAGAIN
 * (nothing changed) when the zone's current snapshot is another (a newer version published
 * while the file was written, zonegen/writer.c). RDNS_OK, RDNS_EINVAL, RDNS_EIO,
 * RDNS_ENOMEM. */
int zg_zonedb_publish_written(zg_zonedb_t *db, const char *zone, const char *path,
                              const zg_zonedb_snap_t *like);

/* The current snapshot of zone (text, trailing dot optional), held; NULL: not published. */
zg_zonedb_snap_t *zg_zonedb_get_text(zg_zonedb_t *db, const char *zone);

/* Drop the zone's snapshot; holders keep theirs. Unknown zones are fine. */
void zg_zonedb_unpublish(zg_zonedb_t *db, const char *zone);

/* Serial of the zone's current snapshot; *found (if not NULL) tells whether there is one. */
uint32_t zg_zonedb_serial(zg_zonedb_t *db, const char *zone, bool *found);

/* The current snapshot of the zone whose apex is the uncompressed wire name
 * (any case), held for the caller; NULL when no such zone is published (a
 * name below an apex included). Give it back with zg_zonedb_put(). */
zg_zonedb_snap_t *zg_zonedb_get(zg_zonedb_t *db, const uint8_t *name, size_t nlen);

/* Give back a snapshot from zg_zonedb_get(); NULL is fine. */
void zg_zonedb_put(zg_zonedb_t *db, zg_zonedb_snap_t *sn);

/* Most records one name may own for zg_zonedb_lookup (our zones have one PTR
 * per name, and the apex its SOA and NS set). */
#define ZG_ZONEDB_NAME_RRS 32

/* The records of sn owned by name (uncompressed wire form, any case), in
 * file order, into out[0..max); *n is their count. *exists tells whether the
 * name exists in the zone: it owns records or has records below it (an
 * empty non-terminal, RFC 8020: NODATA, not NXDOMAIN). name must be the apex
 * or below it. The apex is read from the head of the file. The first lookup of
 * another name in a snapshot indexes its file (one pass,
 * 16 bytes per owner name and per empty non-terminal, kept until the
 * snapshot is given back for the last time); later ones search the index
 * in memory and read only the lines of the name. Any number of threads at
 * once. RDNS_OK; RDNS_ERANGE when the name owns more than max records;
 * RDNS_EIO (read error, a file that no longer parses); RDNS_ENOMEM. */
int zg_zonedb_lookup(zg_zonedb_snap_t *sn, const uint8_t *name, size_t nlen, zg_wire_zrr_t *out, size_t max,
                     size_t *n, bool *exists);

/* The zone cut (delegation: NS records below the apex, issue 16) at or above name on the
 * way down from the apex, the highest one: its NS records into out[0..max), *n their
 * count, 0 when name is under no cut. Costs nothing in a zone without one (known once
 * the index is built). RDNS_OK, or zg_zonedb_lookup's errors. */
int zg_zonedb_cut(zg_zonedb_snap_t *sn, const uint8_t *name, size_t nlen, zg_wire_zrr_t *out, size_t max,
                  size_t *n);

/* Whether the uncompressed wire name is apex or below it (any case, label-aligned). */
bool zg_zonedb_in_zone(const uint8_t *name, size_t nlen, const uint8_t *apex, size_t alen);

/* The descriptor of the file sn reads (an overlay: its base's), held open until
 * zg_zonedb_file_put (which only a successful get is given back with); -1 with errno when it
 * cannot be opened. For readers of their own (incr.c). */
int zg_zonedb_file_get(const zg_zonedb_snap_t *sn);
void zg_zonedb_file_put(const zg_zonedb_snap_t *sn);

/* The records of a version in zone order, as an AXFR sends them and a file of it holds
 * them: the SOA first, then the base file's records with the overlay's names replaced
 * (a plain snapshot: its file's records). line/line_len: the record's text, valid until
 * the next call. */
typedef struct zg_zonedb_reader zg_zonedb_reader_t;
typedef struct zg_zonedb_iter zg_zonedb_iter_t;

/* The records of a snapshot in file order, comments skipped. Readers of one
 * snapshot are independent (pread on the shared file, held by each). */
struct zg_zonedb_reader {
	int fd;
	zg_fdc_t *held; /* the version's file, given back by zg_zonedb_reader_done */
	off_t off;
	char *buf;
	size_t cap;
	size_t start;
	size_t end;
	bool eof;
	off_t line_off;   /* file offset of the line of the last record returned */
	const char *line; /* its text (no newline), in buf: valid until the next call */
	size_t line_len;
};

/* buf of cap bytes (ZG_ZONEDB_LINE_MAX) is the caller's and bounds the line length. The
 * version's file (an overlay's: its base's) is held open until zg_zonedb_reader_done (a
 * file that cannot be opened: reads fail with RDNS_EIO). */
void zg_zonedb_reader_init(zg_zonedb_reader_t *rd, const zg_zonedb_snap_t *sn, char *buf, size_t cap);

/* Gives back what zg_zonedb_reader_init (or _init_file) holds; any reader, any number of times. */
void zg_zonedb_reader_done(zg_zonedb_reader_t *rd);

/* The same reader over a file kept by an fdcache entry (an IXFR history), from off. */
void zg_zonedb_reader_init_file(zg_zonedb_reader_t *rd, zg_fdc_t *file, off_t off, char *buf, size_t cap);

/* The same reader over any file of our format (a zone file, an IXFR journal),
 * from offset off. */
void zg_zonedb_reader_init_fd(zg_zonedb_reader_t *rd, int fd, off_t off, char *buf, size_t cap);

/* 1 with the next record in *rr, 0 at the end; RDNS_EINVAL for a line that
 * is not a record of our format, RDNS_ERANGE for a line longer than the
 * buffer, RDNS_EIO for a read error. */
int zg_zonedb_reader_next(zg_zonedb_reader_t *rd, zg_wire_zrr_t *rr);

/* The next line that is neither empty nor a ';' comment, unparsed (in buf,
 * valid until the next call): 1, 0 at the end, RDNS_ERANGE, RDNS_EIO. For
 * readers that compare lines before they parse them (journal.c). */
int zg_zonedb_reader_next_line(zg_zonedb_reader_t *rd, const char **line, size_t *len);

struct zg_zonedb_iter {
	zg_zonedb_reader_t rd; /* over the base file */
	const zg_zonedb_snap_t *sn;
	size_t oi;        /* the next overlay name */
	bool started;     /* the SOA went */
	bool la_has;      /* rd's last record is the lookahead (not yet returned) */
	bool base_done;   /* the base file is read to its end */
	zg_wire_zrr_t la; /* the lookahead */
	const char *line; /* the record returned last */
	size_t line_len;
};

/* buf of cap bytes (ZG_ZONEDB_LINE_MAX) is the caller's. The version's file is held open
 * until zg_zonedb_iter_done. */
void zg_zonedb_iter_init(zg_zonedb_iter_t *it, const zg_zonedb_snap_t *sn, char *buf, size_t cap);

/* Gives back the file zg_zonedb_iter_init holds; any number of times. */
void zg_zonedb_iter_done(zg_zonedb_iter_t *it);

/* 1 with the next record in *rr (its text in it->line), 0 at the end; RDNS_EINVAL,
 * RDNS_ERANGE or RDNS_EIO as zg_zonedb_reader_next. */
int zg_zonedb_iter_next(zg_zonedb_iter_t *it, zg_wire_zrr_t *rr);

#endif
