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

/* Answer an IXFR for sn. A client whose serial is not older than ours, or
 * a query over UDP (meaning "use TCP"), gets a single SOA (RFC 1995 §2,
 * §4). Otherwise, as no history of the zone is kept, the whole zone in
 * AXFR form, which RFC 1995 §4 allows. Incremental answers (a journal of
 * differences between snapshots) belong here. Returns as zg_xfr_axfr. */
int zg_xfr_ixfr(zg_query_t *q, const zg_zonedb_snap_t *sn);

#endif
