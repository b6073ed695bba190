/* xfr.c - zone transfers from the hidden primary: AXFR (RFC 5936) and IXFR (RFC 1995), the
 * latter from the zone's journal when it reaches back to the client's serial. */
#include "zonegen/xfr.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/err.h"
#include "core/log.h"
#include "core/serial.h"
#include "zonegen/metrics.h"

#define CT_SIZE 8192 /* compression slots per AXFR message */
/* Records fill an AXFR message up to 60 KiB; what is left of the 64 KiB is
 * room for the OPT and TSIG RRs. Fewer, bigger messages cost fewer syscalls
 * and MACs; 16 KiB messages measured no faster. */
#define XFR_MSG_LIMIT (60 * 1024)

/* What streaming a transfer needs (RFC 5936 §2.2, RFC 1995 §4). */
typedef struct {
	uint8_t msg[ZG_WIRE_MSG_MAX];
	char rbuf[ZG_ZONEDB_LINE_MAX];
	zg_wire_ct_t ct[CT_SIZE];
	zg_wire_zrr_t rr;
	zg_wire_zrr_t soa; /* the version's, first and last */
	zg_wire_msg_t m;
	unsigned sent;  /* messages */
	size_t records; /* records */
} xfr_t;

static int flush_xfr(zg_query_t *r, xfr_t *x)
{
	int rc = zg_query_put_opt(&x->m, r, 0);
	if (rc == RDNS_OK)
		rc = zg_query_send(r, &x->m);
	if (rc != RDNS_OK)
		return rc;
	x->sent++;
	zg_wire_msg_reset(&x->m, r->id, zg_query_resp_flags(r, true));
	return RDNS_OK;
}

/* The first message: the question (only there; RFC 5936 §2.2.1 allows it). */
static int begin_xfr(zg_query_t *r, xfr_t *x)
{
	zg_wire_msg_init(&x->m, x->msg, sizeof(x->msg), x->ct, CT_SIZE);
	zg_wire_msg_reset(&x->m, r->id, zg_query_resp_flags(r, true));
	return zg_wire_msg_put_question(&x->m, r->qname, r->qname_len, r->qtype, r->qclass);
}

/* One record, after the message so far when it fits below XFR_MSG_LIMIT (the
 * rest of the 64 KiB is for OPT and TSIG), else in the next. RDNS_ESPACE
 * only for a record that fits in no message. */
static int put_xfr(zg_query_t *r, xfr_t *x, const zg_wire_zrr_t *rr)
{
	if (x->m.len + zg_wire_zrr_maxlen(rr) > XFR_MSG_LIMIT) {
		int rc = flush_xfr(r, x);
		if (rc != RDNS_OK)
			return rc;
	}
	int rc = zg_wire_msg_put_zrr(&x->m, ZG_SEC_AN, rr);
	if (rc == RDNS_OK)
		x->records++;
	return rc;
}

/* The zone's name for a log line (the apex of its SOA). */
static void zone_text(const zg_zonedb_snap_t *sn, char *buf, size_t len)
{
	if (zg_wire_name_to_text(sn->soa.owner, sn->soa.owner_len, buf, len) != RDNS_OK)
		snprintf(buf, len, "?");
}

/* Stream a transfer: the SOA, then either the version's records but its SOA
 * (journal_entry < 0: an AXFR, or an IXFR answered in full) or the journal's
 * difference sequences from journal_entry on, then the SOA. */
static int send_xfr(zg_query_t *r, const zg_zonedb_snap_t *sn, long journal_entry, xfr_t *x)
{
	/* the file read is held open from here to the end of the transfer */
	zg_zonedb_reader_t rd;
	zg_zonedb_iter_t it;
	if (journal_entry < 0)
		zg_zonedb_iter_init(&it, sn, x->rbuf, sizeof(x->rbuf));
	else
		zg_zonedb_reader_init_file(&rd, &sn->journal->file, sn->journal->e[journal_entry].off,
		                           x->rbuf, sizeof(x->rbuf));
	zg_zonedb_soa_rr(&sn->soa, &x->soa);
	int rc = begin_xfr(r, x);
	if (rc == RDNS_OK)
		rc = put_xfr(r, x, &x->soa);
	if (rc != RDNS_OK) {
		rc = rc == RDNS_EIO ? RDNS_EIO : RDNS_ESPACE;
		goto cleanup;
	}
	int got;
	while ((got = journal_entry < 0 ? zg_zonedb_iter_next(&it, &x->rr)
	                                : zg_zonedb_reader_next(&rd, &x->rr)) == 1) {
		if (journal_entry < 0 && x->rr.type == ZG_TYPE_SOA)
			continue; /* it went first and goes last */
		if ((rc = put_xfr(r, x, &x->rr)) != RDNS_OK)
			goto cleanup;
	}
	if (got < 0) {
		rc = RDNS_EINVAL; /* the file was checked at publish and cannot change */
		goto cleanup;
	}
	rc = put_xfr(r, x, &x->soa);
	if (rc == RDNS_OK)
		rc = flush_xfr(r, x);
cleanup:
	if (journal_entry < 0)
		zg_zonedb_iter_done(&it);
	else
		zg_zonedb_reader_done(&rd);
	return rc;
}

/* Transfer lines logged at info at most this often: a transfer costs a TCP connection and
 * the zone's stream, so a secondary's every one is logged, and a flood cannot fill the disk. */
#define XFR_LOG_PER_SEC 50
static zg_log_limit_t served_limit = ZG_LOG_LIMIT_INIT(XFR_LOG_PER_SEC);

/* One info line per transfer served: "dnssrv: zone <zone>: IXFR from <client>, key <name|none>:
 * serial <theirs> -> <ours>, incremental (<n> versions) | full ...: <records> records in
 * <messages> messages, <bytes> bytes" (AXFR: "serial <ours>, full"). Never a secret. */
static void log_served(const zg_query_t *r, const zg_zonedb_snap_t *sn, const char *zone, const char *what,
                       const xfr_t *x)
{
	unsigned long dropped = 0;
	if (!zg_log_limit_allow(&served_limit, &dropped))
		return;
	char client[INET6_ADDRSTRLEN + 10], key[ZG_WIRE_NAME_MAX * 4 + 2], serials[48];
	zg_query_addr_text(r->from, client, sizeof(client));
	zg_query_key_text(r, key, sizeof(key));
	if (r->qtype == ZG_TYPE_IXFR && r->has_ixfr_serial)
		snprintf(serials, sizeof(serials), "%u -> %u", r->ixfr_serial, sn->soa.soa[0]);
	else
		snprintf(serials, sizeof(serials), "%u", sn->soa.soa[0]);
	if (dropped > 0)
		log_info("dnssrv: %lu more transfer lines were suppressed (at most %d a second)", dropped,
		         XFR_LOG_PER_SEC);
	log_zone_info("dnssrv", zone,
	              "%s from %s, key %s: serial %s, %s: %zu records in %u messages, %zu bytes",
	              r->qtype == ZG_TYPE_IXFR ? "IXFR" : "AXFR", client, key, serials, what, x->records,
	              x->sent, r->sent_bytes);
}

/* A transfer of sn, from the zone file (journal_entry < 0) or from the journal's
 * entry on. Failures are logged; returns as zg_xfr_axfr. */
static int transfer(zg_query_t *r, const zg_zonedb_snap_t *sn, long journal_entry, const char *what)
{
	char zone[ZG_WIRE_NAME_MAX * 4 + 2];
	xfr_t *x = malloc(sizeof(*x));
	if (x == NULL)
		return RDNS_ENOMEM;
	x->sent = 0;
	x->records = 0;
	r->sent_bytes = 0;
	int rc = send_xfr(r, sn, journal_entry, x);
	zone_text(sn, zone, sizeof(zone));
	zg_metrics_transfer(r->qtype != ZG_TYPE_IXFR ? "axfr"
	                    : journal_entry >= 0     ? "ixfr"
	                                             : "ixfr_full",
	                    rc == RDNS_OK, r->sent_bytes);
	if (rc == RDNS_OK) {
		log_served(r, sn, zone, what, x);
	} else if (rc != RDNS_ENOMEM && rc != RDNS_EIO) {
		/* (RDNS_EIO: emit failed, the client went away; the caller closes the connection) */
		log_zone_err("dnssrv", zone, "%s of serial %u failed after %u messages: %s",
		             r->qtype == ZG_TYPE_IXFR ? "IXFR" : "transfer", sn->soa.soa[0], x->sent,
		             rdns_strerror(rc));
		/* Nothing sent yet: a clean SERVFAIL is still possible. The caller
		 * closes the connection either way. */
		if (x->sent == 0)
			(void)zg_query_respond(r, ZG_RCODE_SERVFAIL, NULL);
		rc = RDNS_EIO;
	}
	free(x);
	return rc;
}

int zg_xfr_axfr(zg_query_t *r, const zg_zonedb_snap_t *sn)
{
	if (r->transport != ZG_QUERY_TCP)
		return zg_query_respond(r, ZG_RCODE_FORMERR, NULL);
	return transfer(r, sn, -1, "full");
}

zg_xfr_plan_t zg_xfr_ixfr_plan(const zg_zonedb_snap_t *sn, bool has_serial, uint32_t serial, int transport,
                               long *entry)
{
	*entry = -1;
	/* RFC 1995 §2: a client as new as we are, or newer (RFC 1982), gets our SOA. */
	if (has_serial && !core_serial_lt(serial, sn->soa.soa[0]))
		return ZG_XFR_SOA;
	/* RFC 1995 §2: over UDP, a single SOA means "use TCP". */
	if (transport != ZG_QUERY_TCP)
		return ZG_XFR_SOA;
	if (has_serial && (*entry = zg_journal_find(sn->journal, serial)) >= 0)
		return ZG_XFR_INCREMENTAL;
	/* Older than the history, or none kept: the whole zone (RFC 1995 §4). */
	return ZG_XFR_FULL;
}

int zg_xfr_ixfr(zg_query_t *r, const zg_zonedb_snap_t *sn)
{
	long entry;
	char what[64];
	switch (zg_xfr_ixfr_plan(sn, r->has_ixfr_serial, r->ixfr_serial, r->transport, &entry)) {
	case ZG_XFR_INCREMENTAL:
		snprintf(what, sizeof(what), "incremental (%zu versions)", sn->journal->n - (size_t)entry);
		return transfer(r, sn, entry, what);
	case ZG_XFR_FULL: return transfer(r, sn, -1, "full (no history from that serial)");
	case ZG_XFR_SOA:
	default: break;
	}
	zg_metrics_transfer("ixfr_soa", true, 0); /* its size is the one answer's */
	if (log_level() >= LOG_LVL_DEBUG) {
		char zone[ZG_WIRE_NAME_MAX * 4 + 2], client[INET6_ADDRSTRLEN + 10];
		zone_text(sn, zone, sizeof(zone));
		zg_query_addr_text(r->from, client, sizeof(client));
		log_zone_debug("dnssrv", zone, "IXFR from %s over %s: serial %u -> %u, our SOA only", client,
		               r->transport == ZG_QUERY_TCP ? "TCP" : "UDP", r->ixfr_serial, sn->soa.soa[0]);
	}
	return zg_query_respond(r, ZG_RCODE_NOERROR, sn);
}
