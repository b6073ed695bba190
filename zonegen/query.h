/* query.h - the hidden primary's packet handler: one DNS query in, its responses out, no socket
 * I/O (which is what lets tests and the fuzzer drive it directly). */
#ifndef RDNS_ZONEGEN_QUERY_H
#define RDNS_ZONEGEN_QUERY_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "zonegen/acl.h"
#include "zonegen/tsig.h"
#include "zonegen/tsig_replay.h"
#include "zonegen/wire.h"
#include "zonegen/zonedb.h"

/* A limit on info lines per second, so that a flood cannot fill the disk: refusals (query.c)
 * and transfers served (xfr.c) each have one. */
typedef struct {
	pthread_mutex_t mu;
	long long window;      /* monotonic second of the current window */
	unsigned in_window;    /* lines logged in it */
	unsigned long dropped; /* lines suppressed since the last one logged */
	unsigned per_sec;
} zg_log_limit_t;
#define ZG_LOG_LIMIT_INIT(n)                                                                                 \
	{                                                                                                    \
		PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, (n)                                                      \
	}

/* Whether a line may be logged now; *dropped: how many were suppressed before it. */
bool zg_log_limit_allow(zg_log_limit_t *l, unsigned long *dropped);

/* Transport a query came over. */
enum { ZG_QUERY_UDP = 0, ZG_QUERY_TCP = 1 };

/* Receives each response message (without the TCP length prefix). A
 * negative return aborts the exchange (e.g. the peer went away). */
typedef int (*zg_query_emit_fn)(void *arg, const uint8_t *msg, size_t len);

/* What queries are answered from. Set up once (dnssrv.c), then only read,
 * by any number of threads at once (replay points to state of its own, locked inside). */
typedef struct {
	const zg_acl_t *acl;       /* sources allowed to transfer and to query (transfer_allow) */
	const zg_acl_t *query_acl; /* further sources allowed to query, not to transfer; NULL: none */
	zg_zonedb_t *zones;        /* the published zones */
	const zg_tsig_key_t *keys; /* known keys, checked */
	size_t n_keys;
	/* Per-key replay state for keys[] (tsig_replay.h); NULL: no replay check. */
	zg_tsig_replay_t *replay;
	/* Set: zones are served only while CLOCK_MONOTONIC, in ms, is below it (the
	 * leader's lease, zg_dnssrv_serve_until); NULL: always. */
	const _Atomic long long *serve_until;
	/* Set: AXFR and IXFR must be signed with this key (lower-cased wire name). */
	bool has_xfr_key;
	uint8_t xfr_key[ZG_WIRE_NAME_MAX];
	size_t xfr_key_len;
} zg_query_env_t;

/* One query being answered: what zg_query_handle() parsed and verified,
 * and where its responses go. xfr.c answers transfers from it. */
typedef struct {
	uint16_t id;
	uint16_t flags; /* of the query */
	unsigned opcode;
	bool has_q;
	uint8_t qname[ZG_WIRE_NAME_MAX];
	size_t qname_len;
	uint16_t qtype;
	uint16_t qclass;
	bool has_opt;
	uint16_t opt_size;
	uint8_t opt_version;
	bool has_ixfr_serial; /* IXFR: the client's SOA serial (RFC 1995 §3) */
	uint32_t ixfr_serial;
	bool has_tsig; /* signed and verified: every response is signed */
	size_t tsig_off;
	zg_tsig_ctx_t tsig;
	int transport;               /* ZG_QUERY_UDP or ZG_QUERY_TCP */
	const struct sockaddr *from; /* the client (NULL: unknown) */
	size_t sent_bytes;           /* emitted by zg_query_send so far (for log lines) */
	zg_query_emit_fn emit;
	void *arg;
} zg_query_t;

/* The key name a verified request was signed with as text ("xfr-key."), "none" unsigned. */
void zg_query_key_text(const zg_query_t *r, char *buf, size_t len);

/* Handle one query received over transport from the given source address
 * (no socket I/O; zone files are read). Responses go to emit: exactly one
 * for UDP; for an AXFR (or IXFR answered in full) over TCP a sequence of
 * messages of at most 64 KiB, each signed when the query was. Behaviour:
 * - QR set or shorter than a header: dropped (returns RDNS_EDNS, nothing emitted).
 * - opcode other than QUERY (NOTIFY included): NOTIMP.
 * - QDCOUNT != 1, bad names (loops, bad label types, truncation), RRs
 *   running past the end, trailing bytes, misplaced TSIG, malformed TSIG,
 *   several OPTs: FORMERR.
 * - TSIG failing verification: NOTAUTH with the TSIG error (BADKEY, BADSIG
 *   unsigned; BADTIME, BADTRUNC signed). EDNS version > 0: BADVERS.
 * - A verified request that env->replay calls a replay (zg_tsig_replay_check:
 *   the same signed message again, or signed more than its fudge before the
 *   newest accepted for its key): NOTAUTH, BADTIME, signed, with our time in
 *   Other Data (RFC 8945 §5.2.3), whatever it asked for.
 * - qtype OPT or TSIG: FORMERR.
 * - class not IN, a source in neither ACL (AXFR and IXFR: not in acl), a
 *   name in no published zone, AXFR/IXFR of a name that is not an apex, or an
 *   unsigned (or wrongly keyed) AXFR/IXFR when a transfer key is set:
 *   REFUSED. Refused transfers and failed TSIG checks (replays too) are logged at info with
 *   the client, zone, key name and reason, at most 10 lines a second.
 * - Any other query in a published zone: an authoritative answer (AA) from
 *   zg_zonedb_lookup: the records of the name and type (ANY: all of the
 *   name's; a CNAME owner: its CNAME); NODATA (NOERROR, no answer, the SOA in
 *   the authority section with the TTL of RFC 2308 §3) when the name exists
 *   (empty non-terminals included) without that type; NXDOMAIN with the SOA
 *   in the authority section when it does not exist. SERVFAIL when the zone
 *   file cannot be read. Over UDP a response longer than 512 bytes (or the
 *   query's EDNS size, at most 1232 offered) is cut to the header and
 *   question with TC.
 * - AXFR and IXFR: as zg_xfr_axfr() and zg_xfr_ixfr() (xfr.h) answer them.
 * Returns RDNS_OK when answered, RDNS_EDNS when dropped, RDNS_EIO when emit
 * failed or a transfer broke off midway (close the connection), RDNS_ENOMEM. */
int zg_query_handle(const zg_query_env_t *env, const uint8_t *query, size_t qlen, const struct sockaddr *from,
                    int transport, zg_query_emit_fn emit, void *arg);

/* Whether from may query at all (acl or query_acl): server.c gives no TCP slot to
 * anyone else. */
bool zg_query_source_allowed(const zg_query_env_t *env, const struct sockaddr *from);

/* "192.0.2.1:5300", "[2001:db8::1]:5300" or "?" (NULL, another family), for log lines. */
void zg_query_addr_text(const struct sockaddr *sa, char *buf, size_t len);

/* Building responses to q (for xfr.c). */

/* Header flags of a response: QR, the query's opcode and RD, AA when asked. */
uint16_t zg_query_resp_flags(const zg_query_t *q, bool aa);

/* An OPT RR (RFC 6891 §6.1.2) in the additional section when the query had
 * one; ext_rcode is the upper 8 bits of an extended rcode. RDNS_OK or the
 * zg_wire_msg_* error (RDNS_ESPACE). */
int zg_query_put_opt(zg_wire_msg_t *m, const zg_query_t *q, unsigned ext_rcode);

/* Finish m, sign it when the query was signed (continuing q's TSIG
 * context: each message of a transfer), and emit it. RDNS_OK, RDNS_EIO when
 * emit failed, or the signing error. */
int zg_query_send(zg_query_t *q, zg_wire_msg_t *m);

/* A single-message answer with rcode (the upper bits of an extended rcode
 * go into the OPT) and, when sn is given, its SOA in the answer section (AA
 * with NOERROR). Over UDP a response longer than 512 bytes, or than the
 * query's EDNS size, is cut to header and question with TC (RFC 1035
 * §4.2.1). Signed when the query was. RDNS_OK, RDNS_EIO when emit failed,
 * or the signing error. */
int zg_query_respond(zg_query_t *q, unsigned rcode, const zg_zonedb_snap_t *sn);

#endif
