/* dnssrv.h - the hidden primary: serves SOA, AXFR and IXFR of published zone files over UDP and TCP. */
/* It logs through core/log.h as component "dnssrv" (lines about one zone via
 * log_zone_*), from its own threads too; no line holds a secret. */
#ifndef RDNS_ZONEGEN_DNSSRV_H
#define RDNS_ZONEGEN_DNSSRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "zonegen/tsig.h"

typedef struct zg_dnssrv zg_dnssrv_t;

typedef struct {
	/* "127.0.0.1:5300" or "[::1]:5300" (brackets required for IPv6). Port 0
	 * picks a free port shared by UDP and TCP (see zg_dnssrv_port). NULL:
	 * bind nothing; only zg_dnssrv_handle is usable (fuzzing, tests). */
	const char *listen;
	/* Sources allowed to query (SOA, AXFR and IXFR alike): addresses or
	 * prefixes separated by spaces, tabs or commas, e.g. "127.0.0.1 ::1
	 * 10.0.0.0/8"; "0.0.0.0/0 ::/0" allows everyone. NULL or empty: nobody
	 * (every query is REFUSED). A prefix with host bits set is an error. */
	const char *transfer_allow;
	/* Known keys (hmac-sha256). Copied. */
	const zg_tsig_key_t *keys;
	size_t n_keys;
	/* NULL: TSIG optional (a signed query is verified and its answer
	 * signed). Set: AXFR and IXFR must be signed with this key (one of keys)
	 * or are REFUSED; SOA queries stay governed by transfer_allow only, as
	 * BIND's allow-transfer does. */
	const char *transfer_key;
	int tcp_idle_timeout_ms; /* <= 0: 10000; also bounds a stalled write */
	int max_tcp_clients;     /* <= 0: 64; one thread per TCP connection */
} zg_dnssrv_conf_t;

/* Transport of a query given to zg_dnssrv_handle. */
enum { ZG_DNSSRV_UDP = 0, ZG_DNSSRV_TCP = 1 };

/* Receives each response message (without the TCP length prefix). A
 * negative return aborts the exchange (e.g. the peer went away). */
typedef int (*zg_dnssrv_emit_fn)(void *arg, const uint8_t *msg, size_t len);

/* Parse and check the configuration, then bind UDP and TCP sockets (when
 * listen is set). Returns NULL with *err set: RDNS_ECONFIG for a bad listen
 * address, transfer_allow entry, key or transfer_key not among keys;
 * RDNS_EEXIST when the address is already in use; RDNS_EIO for other socket
 * errors; RDNS_ENOMEM. */
zg_dnssrv_t *zg_dnssrv_new(const zg_dnssrv_conf_t *conf, int *err);

/* The bound port (useful after listening on port 0), 0 without sockets. */
uint16_t zg_dnssrv_port(const zg_dnssrv_t *s);

/* Start the server thread: one poll loop for UDP and TCP accepts, and one
 * thread per TCP connection (at most max_tcp_clients; more are closed at
 * once). RDNS_OK, RDNS_EINVAL without sockets or when already started,
 * RDNS_ENOMEM. */
int zg_dnssrv_start(zg_dnssrv_t *s);

/* Open path, check the whole file (every line a record of our fixed
 * format, the first the SOA of zone, only one SOA, all owners inside the
 * zone) and make the open file the zone's current snapshot. Transfers in
 * progress keep the snapshot they started with; the file may be renamed
 * over or unlinked afterwards. zone is case-insensitive, trailing dot
 * optional. RDNS_OK, RDNS_EINVAL (bad zone name or file content), RDNS_EIO
 * (cannot open or read), RDNS_ENOMEM. */
int zg_dnssrv_publish(zg_dnssrv_t *s, const char *zone, const char *path);

/* Stop serving zone (queries get REFUSED); running transfers finish. */
void zg_dnssrv_unpublish(zg_dnssrv_t *s, const char *zone);

/* Serial of the published snapshot of zone; *found tells whether there is one. */
uint32_t zg_dnssrv_serial(zg_dnssrv_t *s, const char *zone, bool *found);

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
 * - class not IN, source outside transfer_allow, zone not published (names
 *   below an apex included), qtype other than SOA/AXFR/IXFR, or an unsigned
 *   (or wrongly keyed) AXFR/IXFR when transfer_key is set: REFUSED.
 * - SOA at a published apex: AA answer with the SOA.
 * - AXFR over UDP: FORMERR (RFC 5936 §4.2 allows refusing it; BIND does the same).
 * - IXFR: a single SOA when the client's serial is not older than ours or
 *   over UDP (meaning "use TCP"); otherwise a full AXFR-style transfer (RFC 1995 §4).
 * Returns RDNS_OK when answered, RDNS_EDNS when dropped, RDNS_EIO when emit
 * failed or a transfer broke off midway (close the connection), RDNS_ENOMEM. */
int zg_dnssrv_handle(zg_dnssrv_t *s, const uint8_t *query, size_t qlen, const struct sockaddr *from,
                     int transport, zg_dnssrv_emit_fn emit, void *arg);

/* Stop the threads and close client connections (transfers are cut off).
 * Published zones stay. Idempotent. */
void zg_dnssrv_stop(zg_dnssrv_t *s);

/* Stop if needed and free everything; NULL is fine. */
void zg_dnssrv_free(zg_dnssrv_t *s);

#endif
