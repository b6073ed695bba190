/* xfr.h - zone transfers from the hidden primary: AXFR (RFC 5936) and IXFR (RFC 1995). */
#ifndef RDNS_ZONEGEN_XFR_H
#define RDNS_ZONEGEN_XFR_H

#include "zonegen/query.h"
#include "zonegen/zonedb.h"

/* Answer an AXFR of the snapshot sn (the query has passed every check of
 * zg_query_handle). Over UDP: FORMERR (RFC 5936 §4.2 allows refusing it;
 * BIND does the same). Over TCP: the SOA, every record in file order, the
 * SOA again (RFC 5936 §2.2), in messages of at most 64 KiB, the question
 * only in the first, each signed when the query was. Returns RDNS_OK,
 * RDNS_EIO when emit failed or the transfer broke off midway (SERVFAIL if
 * nothing had been sent; close the connection either way), RDNS_ENOMEM. */
int zg_xfr_axfr(zg_query_t *q, const zg_zonedb_snap_t *sn);

/* How an IXFR is answered. */
typedef enum {
	ZG_XFR_SOA,         /* our SOA alone */
	ZG_XFR_INCREMENTAL, /* difference sequences from the journal */
	ZG_XFR_FULL,        /* the whole zone, AXFR-style */
} zg_xfr_plan_t;

/* The decision, pure: a client whose serial is not older than ours (RFC 1982;
 * newer included, RFC 1995 §2), or any IXFR over UDP ("use TCP", RFC 1995 §2),
 * gets our SOA; over TCP, a serial the journal of sn starts an entry at gets
 * the incremental answer from that entry (*entry) on; anything else (older
 * than the history, no history, no serial) the whole zone (RFC 1995 §4). */
zg_xfr_plan_t zg_xfr_ixfr_plan(const zg_zonedb_snap_t *sn, bool has_serial, uint32_t serial, int transport,
                               long *entry);

/* Answer an IXFR for sn as zg_xfr_ixfr_plan decides. The incremental answer
 * (RFC 1995 §4) is not condensed: our SOA, then for each version since the
 * client's, its difference sequence (old SOA, deletions, new SOA, additions),
 * then our SOA; in messages as zg_xfr_axfr's, each signed when the query was.
 * Each transfer is logged at info ("IXFR from <client>: serial A -> B,
 * incremental (n versions)|full ...: R records in M messages, B bytes").
 * Returns as zg_xfr_axfr. */
int zg_xfr_ixfr(zg_query_t *q, const zg_zonedb_snap_t *sn);

#endif
