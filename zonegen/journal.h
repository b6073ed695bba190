/* journal.h - a zone's IXFR history: the differences between its consecutive versions, made
 * by merging the old and the new zone file at render time, kept in <zone>.ixfr beside them. */
#ifndef RDNS_ZONEGEN_JOURNAL_H
#define RDNS_ZONEGEN_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "zonegen/fdcache.h"

/*
 * The journal file, text in the zone files' own line format:
 *
 *   ;rdns-ixfr 1
 *   ;entry <from> <to> <deleted> <added> <body bytes> <FNV-1a 64 of the body, 16 hex>
 *   <old SOA line>
 *   <deleted record lines>
 *   <new SOA line>
 *   <added record lines>
 *   ;entry ...
 *
 * Each body is one RFC 1995 difference sequence exactly as it goes on the
 * wire, and entries are oldest first, each starting at the serial the one
 * before it ends at: from an entry to the end of the file, the records (the
 * ";" lines are comments to the zone-file reader) are the body of an
 * uncondensed incremental answer. A file whose entries do not parse, whose
 * lengths or checksums do not match, or whose chain is broken is not trusted
 * at all (full transfers).
 */

/* How much history a zone keeps. */
typedef struct {
	long versions; /* differences kept; <= 0: none (the journal is removed) */
	long bytes;    /* most bytes of the journal file; an entry alone bigger is not kept */
} zg_journal_limits_t;

/* The journal path of a zone file: "<dir>/<name>.zone" -> "<dir>/<name>.ixfr"
 * (any other name gets ".ixfr" appended). RDNS_OK or RDNS_ESPACE. */
int zg_journal_path(const char *zone_path, char *out, size_t len);

/* What zg_journal_diff found. */
typedef struct {
	uint32_t from, to; /* the serials of the old and the new file */
	size_t deleted, added;
} zg_journal_diff_t;

/* The order of owner names in our files (uncompressed wire names, any case): right
 * to left by label, decimal labels as numbers, others as octets case-insensitively,
 * a prefix first (so the apex first, then the renderer's address order). <0, 0, >0. */
int zg_journal_owner_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl);

/* One difference sequence (RFC 1995 §4: old SOA, deletions, new SOA,
 * additions), one record line each, written to out: the linear merge of two
 * zone files of our format (SOA first, the records of one owner together,
 * owners in ascending order: right to left by label, numeric labels as
 * numbers, which is the renderer's address order for in-addr.arpa and
 * ip6.arpa alike). Records are equal when their lines are. Stops with
 * RDNS_ERANGE once more than max bytes would be written. RDNS_OK, RDNS_EINVAL
 * (a file not in that order or not of our format: no difference is
 * trusted), RDNS_ERANGE, RDNS_EIO, RDNS_ENOMEM. */
int zg_journal_diff(int old_fd, int new_fd, FILE *out, size_t max, zg_journal_diff_t *st);

/* After a render that changed the zone: the difference between old_zone (the
 * zone file still in place, if any) and new_zone (the file about to replace
 * it) becomes the journal's newest entry; the older entries up to the one
 * that ends where it starts are kept, as many as lim allows (newest first;
 * entries past it are of versions that never took the file's place: a render
 * whose commit failed after writing the journal). Written to a
 * temporary file ".<name>.ixfr.XXXXXX" beside it, fsynced, renamed over
 * journal_path, folder fsynced. Without an old file, with history off, or
 * when the difference cannot be made or kept, the journal is removed (the
 * next IXFR is answered in full, which is correct). *st (optional) gets the
 * difference's size. RDNS_OK (also when history was dropped for a reason
 * logged), RDNS_EIO (the journal could not be written; it was removed). */
int zg_journal_update(const char *journal_path, const char *old_zone, const char *new_zone,
                      const zg_journal_limits_t *lim, zg_journal_diff_t *st);

/* The same with the difference made already: body (old SOA, deletions, new SOA,
 * additions, one line each with its newline) from d->from to d->to becomes the
 * journal's newest entry, the older ones kept as zg_journal_update keeps them.
 * RDNS_OK; RDNS_ENOTFOUND when history is off or the entry is over the limits (the
 * journal was removed, logged); RDNS_EIO (it could not be written; removed). */
int zg_journal_append(const char *journal_path, const char *body, size_t body_len, const zg_journal_diff_t *d,
                      const zg_journal_limits_t *lim);

/* One loaded entry. */
typedef struct {
	uint32_t from, to;
	off_t off;  /* of its ";entry" line */
	size_t len; /* that line and the body */
	size_t deleted, added;
} zg_journal_entry_t;

/* A checked journal: the entries stay readable through file (pinned, opened on demand:
 * zg_fdc_get/zg_fdc_put), whatever happens to the path afterwards. Read-only once opened. */
typedef struct {
	zg_fdc_t file;
	zg_journal_entry_t *e; /* oldest first, chained */
	size_t n;
} zg_journal_t;

/* Open and check path (every entry's length and checksum, the chain); *out is
 * NULL when there is no journal, when it does not check, or when it does not
 * end at serial (it is then not this zone file's history). RDNS_OK (with or
 * without a journal) or RDNS_ENOMEM. */
int zg_journal_open(const char *path, uint32_t serial, zg_journal_t **out);

/* Close and free; NULL is fine. */
void zg_journal_free(zg_journal_t *j);

/* The index of the entry that starts at serial, -1 when there is none. */
long zg_journal_find(const zg_journal_t *j, uint32_t serial);

#endif
