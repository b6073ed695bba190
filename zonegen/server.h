/* server.h - the hidden primary's sockets and threads: UDP and TCP on one port, a poll loop, one
 * thread per TCP connection; every query read goes to zg_query_handle(). */
#ifndef RDNS_ZONEGEN_SERVER_H
#define RDNS_ZONEGEN_SERVER_H

#include <stdint.h>

#include "zonegen/query.h"

typedef struct zg_server zg_server_t;

typedef struct {
	/* "127.0.0.1:5300" or "[::1]:5300" (core/endpoint.h, port required).
	 * Port 0 picks a free port shared by UDP and TCP. */
	const char *listen;
	/* <= 0: 10000. The longest silence: between queries, inside one, or a stalled write. */
	int tcp_idle_timeout_ms;
	/* <= 0: 10000. From a query's first byte to its last; more bytes do not reset it. */
	int tcp_query_timeout_ms;
	int max_tcp_clients;  /* <= 0: 64; more are closed at once */
	int max_tcp_per_addr; /* <= 0: 8; more from one source address are closed at once */
} zg_server_conf_t;

/* Bind the UDP and TCP sockets (IPV6_V6ONLY for IPv6; SO_REUSEADDR on
 * TCP, which only skips TIME_WAIT). Queries will be answered from env,
 * which must outlive the server. Returns NULL with *err set: RDNS_ECONFIG
 * for a bad listen address, RDNS_EEXIST when it is in use, RDNS_EIO for
 * other socket errors (these three logged), RDNS_ENOMEM. */
zg_server_t *zg_server_new(const zg_server_conf_t *conf, const zg_query_env_t *env, int *err);

/* The bound port (the kernel's choice after port 0). */
uint16_t zg_server_port(const zg_server_t *srv);

/* Start the poll loop thread for UDP queries and TCP accepts. A TCP
 * connection from a source outside env's ACL never takes a slot: the poll
 * loop gives it 1 s to send one query of at most 512 bytes, answers it
 * (REFUSED) and closes it; with 32 waiting, more are reset at once. One
 * beyond max_tcp_clients, or beyond max_tcp_per_addr from its address, is
 * reset at once. Every other one gets a thread that answers its
 * queries in order (RFC 7766 §6.2.1) until the peer closes, stays silent
 * past the idle timeout, takes longer than the query timeout to send one
 * query, or a query is dropped or a transfer breaks off. RDNS_OK,
 * RDNS_EINVAL when already started, RDNS_ENOMEM. */
int zg_server_start(zg_server_t *srv);

/* Stop the threads and close client connections (transfers are cut off);
 * when it returns no query is being handled. Idempotent; NULL is fine. */
void zg_server_stop(zg_server_t *srv);

/* Stop if needed, close the sockets and free; NULL is fine. */
void zg_server_free(zg_server_t *srv);

#endif
