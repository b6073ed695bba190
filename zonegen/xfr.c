/* xfr.c - zone transfers from the hidden primary: AXFR (RFC 5936) and IXFR (RFC 1995), so far
 * always answered with the full zone. */
#include "zonegen/xfr.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/err.h"
#include "core/log.h"

#define CT_SIZE 8192 /* compression slots per AXFR message */
/* Records fill an AXFR message up to 60 KiB; what is left of the 64 KiB is
 * room for the OPT and TSIG RRs. Fewer, bigger messages cost fewer syscalls
 * and MACs; 16 KiB messages measured no faster. */
#define XFR_MSG_LIMIT (60 * 1024)

/* What streaming a full zone needs (RFC 5936 §2.2: SOA, records in file order, SOA). */
typedef struct {
	uint8_t msg[ZG_WIRE_MSG_MAX];
	char rbuf[ZG_ZONEDB_LINE_MAX];
	zg_wire_ct_t ct[CT_SIZE];
	zg_wire_zrr_t rr;
	zg_wire_msg_t m;
} xfr_t;

static int flush_xfr(zg_query_t *r, xfr_t *x, unsigned *sent)
{
	int rc = zg_query_put_opt(&x->m, r, 0);
	if (rc == RDNS_OK)
		rc = zg_query_send(r, &x->m);
	if (rc != RDNS_OK)
		return rc;
	(*sent)++;
	zg_wire_msg_reset(&x->m, r->id, zg_query_resp_flags(r, true));
	return RDNS_OK;
}

/* The zone's name for a log line (the apex of its SOA). */
static void zone_text(const zg_zonedb_snap_t *sn, char *buf, size_t len)
{
	if (zg_wire_name_to_text(sn->soa.owner, sn->soa.owner_len, buf, len) != RDNS_OK)
		snprintf(buf, len, "?");
}

static int send_full_zone(zg_query_t *r, const zg_zonedb_snap_t *sn)
{
	int rc = RDNS_ENOMEM;
	unsigned sent = 0;
	size_t records = 0;
	char zone[ZG_WIRE_NAME_MAX * 4 + 2];
	xfr_t *x = malloc(sizeof(*x));
	if (x == NULL)
		return RDNS_ENOMEM;
	zg_zonedb_reader_t rd;
	zg_zonedb_reader_init(&rd, sn, x->rbuf, sizeof(x->rbuf));
	/* Records fill up to XFR_MSG_LIMIT (checked before each one); the rest
	 * of the 64 KiB is for OPT and TSIG. */
	zg_wire_msg_init(&x->m, x->msg, sizeof(x->msg), x->ct, CT_SIZE);
	zg_wire_msg_reset(&x->m, r->id, zg_query_resp_flags(r, true));
	/* The question only in the first message (RFC 5936 §2.2.1 allows it). */
	rc = zg_wire_msg_put_question(&x->m, r->qname, r->qname_len, r->qtype, r->qclass);
	if (rc == RDNS_OK)
		rc = zg_wire_msg_put_zrr(&x->m, ZG_SEC_AN, &sn->soa);
	if (rc != RDNS_OK)
		goto cleanup;

	int got;
	while ((got = zg_zonedb_reader_next(&rd, &x->rr)) == 1) {
		if (x->rr.type == ZG_TYPE_SOA)
			continue; /* it went first and goes last */
		if (x->m.len + zg_wire_zrr_maxlen(&x->rr) > XFR_MSG_LIMIT) {
			rc = flush_xfr(r, x, &sent);
			if (rc != RDNS_OK)
				goto cleanup;
		}
		rc = zg_wire_msg_put_zrr(&x->m, ZG_SEC_AN, &x->rr);
		if (rc != RDNS_OK)
			goto broken;
		records++;
	}
	if (got < 0) {
		/* The file was checked at publish and cannot change. */
		rc = RDNS_EIO;
		goto broken;
	}
	if (x->m.len + zg_wire_zrr_maxlen(&sn->soa) > XFR_MSG_LIMIT) {
		rc = flush_xfr(r, x, &sent);
		if (rc != RDNS_OK)
			goto cleanup;
	}
	rc = zg_wire_msg_put_zrr(&x->m, ZG_SEC_AN, &sn->soa);
	if (rc == RDNS_OK)
		rc = flush_xfr(r, x, &sent);
	if (rc == RDNS_OK && log_level() >= LOG_LVL_DEBUG) {
		zone_text(sn, zone, sizeof(zone));
		log_zone_debug("dnssrv", zone, "transfer of serial %u: %zu records in %u messages%s",
		               sn->soa.soa[0], records + 2, sent, r->has_tsig ? ", signed" : "");
	}
	goto cleanup;
broken:
	zone_text(sn, zone, sizeof(zone));
	log_zone_err("dnssrv", zone, "transfer of serial %u failed after %u messages: %s", sn->soa.soa[0],
	             sent, rdns_strerror(rc));
	/* Nothing sent yet: a clean SERVFAIL is still possible. The caller
	 * closes the connection either way. */
	if (sent == 0)
		(void)zg_query_respond(r, ZG_RCODE_SERVFAIL, NULL);
	rc = RDNS_EIO;
cleanup:
	free(x);
	return rc == RDNS_OK || rc == RDNS_ENOMEM ? rc : RDNS_EIO;
}

int zg_xfr_axfr(zg_query_t *r, const zg_zonedb_snap_t *sn)
{
	if (r->transport != ZG_QUERY_TCP)
		return zg_query_respond(r, ZG_RCODE_FORMERR, NULL);
	return send_full_zone(r, sn);
}

int zg_xfr_ixfr(zg_query_t *r, const zg_zonedb_snap_t *sn)
{
	/* RFC 1995 §2, §4: up to date, or UDP, gets just our SOA. */
	bool newer = !r->has_ixfr_serial || (int32_t)(sn->soa.soa[0] - r->ixfr_serial) > 0;
	if (!newer || r->transport != ZG_QUERY_TCP)
		return zg_query_respond(r, ZG_RCODE_NOERROR, sn);
	/* No journal of differences: the whole zone (RFC 1995 §4 allows it). */
	return send_full_zone(r, sn);
}
