/* dnssrv.h - the hidden primary: serves SOA, AXFR and IXFR of published zone files over UDP and TCP.
 * The daemon's view of acl.h, zonedb.h, query.h, xfr.h and server.h. It logs through core/log.h
 * as component "dnssrv" (lines about one zone via log_zone_*), from its own threads too; no line
 * holds a secret. */
#ifndef RDNS_ZONEGEN_DNSSRV_H
#define RDNS_ZONEGEN_DNSSRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "zonegen/query.h"
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
	 * (every query is REFUSED). A prefix with host bits set is an error.
	 * The grammar is zg_acl_new()'s (acl.h). */
	const char *transfer_allow;
	/* Further sources allowed to query (every type but AXFR and IXFR), in
	 * the same grammar; sources in transfer_allow may always query. NULL or
	 * empty: nobody else. */
	const char *query_allow;
	/* Known keys (hmac-sha256). Copied. */
	const zg_tsig_key_t *keys;
	size_t n_keys;
	/* NULL: TSIG optional (a signed query is verified and its answer
	 * signed). Set: AXFR and IXFR must be signed with this key (one of keys)
	 * or are REFUSED; other queries stay governed by the ACLs only, as
	 * BIND's allow-transfer does. */
	const char *transfer_key;
	/* TCP limits, as zg_server_conf_t (server.h) has them. */
	int tcp_idle_timeout_ms;  /* <= 0: 10000; longest silence, also a stalled write */
	int tcp_query_timeout_ms; /* <= 0: 10000; to receive one whole query, however it trickles */
	int max_tcp_clients;      /* <= 0: 64; one thread per TCP connection */
	int max_tcp_per_addr;     /* <= 0: 8; from one source address */
} zg_dnssrv_conf_t;

/* Transport of a query given to zg_dnssrv_handle. */
enum { ZG_DNSSRV_UDP = ZG_QUERY_UDP, ZG_DNSSRV_TCP = ZG_QUERY_TCP };

/* Receives each response message (without the TCP length prefix). A
 * negative return aborts the exchange (e.g. the peer went away). */
typedef zg_query_emit_fn zg_dnssrv_emit_fn;

/* Parse and check the configuration, then bind UDP and TCP sockets (when
 * listen is set). Returns NULL with *err set: RDNS_ECONFIG for a bad listen
 * address, transfer_allow entry, key or transfer_key not among keys;
 * RDNS_EEXIST when the address is already in use; RDNS_EIO for other socket
 * errors; RDNS_ENOMEM. */
zg_dnssrv_t *zg_dnssrv_new(const zg_dnssrv_conf_t *conf, int *err);

/* The bound port (useful after listening on port 0), 0 without sockets. */
uint16_t zg_dnssrv_port(const zg_dnssrv_t *s);

/* Start the server thread: one poll loop for UDP and TCP accepts, and one
 * thread per TCP connection (at most max_tcp_clients, max_tcp_per_addr from
 * one address, none from outside transfer_allow, which gets REFUSED to one
 * query from the poll loop; the rest are closed at once). RDNS_OK, RDNS_EINVAL without sockets or when
 * already started, RDNS_ENOMEM. */
int zg_dnssrv_start(zg_dnssrv_t *s);

/* Open path, check the whole file (every line a record of our fixed
 * format, the first the SOA of zone, only one SOA, all owners inside the
 * zone) and make the open file the zone's current snapshot. Transfers in
 * progress keep the snapshot they started with; the file may be renamed
 * over or unlinked afterwards. zone is case-insensitive, trailing dot
 * optional. RDNS_OK, RDNS_EINVAL (bad zone name or file content), RDNS_EIO
 * (cannot open or read), RDNS_ENOMEM. */
int zg_dnssrv_publish(zg_dnssrv_t *s, const char *zone, const char *path);

/* zg_zonedb_publish_overlay on the zones served (#19: a version made from the difference). */
int zg_dnssrv_publish_overlay(zg_dnssrv_t *s, const char *zone, const zg_zonedb_ovl_t *ovl, size_t n,
                              const char *soa_line, size_t soa_len, const char *journal_path);

/* zg_zonedb_publish_written on the zones served (the file of a version from the difference). */
int zg_dnssrv_publish_written(zg_dnssrv_t *s, const char *zone, const char *path,
                              const zg_zonedb_snap_t *like);

/* The zone's current snapshot (text name), held; NULL: not published. zg_dnssrv_put gives it back. */
zg_zonedb_snap_t *zg_dnssrv_get(zg_dnssrv_t *s, const char *zone);
void zg_dnssrv_put(zg_dnssrv_t *s, zg_zonedb_snap_t *sn);

/* Serve the published zones only while CLOCK_MONOTONIC (in ms) is below mono_ms;
 * past it every zone is REFUSED as if unpublished, until a later call moves it on.
 * The leader's lease: rdns-zonegen moves it on after each round trip that proves its
 * session alive, so an instance that lost its session stops serving within the lease
 * even when it is too busy to notice. Default: always (LLONG_MAX). */
void zg_dnssrv_serve_until(zg_dnssrv_t *s, long long mono_ms);
/* Serve until mono_ms unless a later time is set already (a proof of the lease
 * from another thread never shortens one made meanwhile). */
void zg_dnssrv_serve_extend(zg_dnssrv_t *s, long long mono_ms);

/* Stop serving zone (queries get REFUSED); running transfers finish. */
void zg_dnssrv_unpublish(zg_dnssrv_t *s, const char *zone);

/* Serial of the published snapshot of zone; *found tells whether there is one. */
uint32_t zg_dnssrv_serial(zg_dnssrv_t *s, const char *zone, bool *found);

/* Handle one query received over transport from the given source address,
 * with this server's ACL, keys and zones: zg_query_handle() (query.h says
 * what every query gets). No socket I/O, so tests and the fuzzer call it
 * directly; the server's threads call it for every query they read. */
int zg_dnssrv_handle(zg_dnssrv_t *s, const uint8_t *query, size_t qlen, const struct sockaddr *from,
                     int transport, zg_dnssrv_emit_fn emit, void *arg);

/* Stop the threads and close client connections (transfers are cut off).
 * Published zones stay. Idempotent. */
void zg_dnssrv_stop(zg_dnssrv_t *s);

/* Stop if needed and free everything; NULL is fine. */
void zg_dnssrv_free(zg_dnssrv_t *s);

#endif
