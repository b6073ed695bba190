/* lease.h - the leader's lease, proved from a session of its own while the leader's
 * session is busy (a long render, an fsync, a large publish). */
#ifndef RDNS_ZONEGEN_LEASE_H
#define RDNS_ZONEGEN_LEASE_H

#include "zonegen/dnssrv.h"

typedef struct zg_lease zg_lease_t;

/* A thread with its own connection (conninfo) that, while it watches a leader
 * session, asks PostgreSQL every every_ms whether that backend still holds the
 * leader lock, and on each yes extends srv's serving to half a lease (lease_ms / 2)
 * after the question was sent. It proves nothing while it watches nothing, or
 * while its own connection is down: the leader's own round trips still renew.
 * NULL when the thread cannot be started (logged). */
zg_lease_t *zg_lease_start(const char *conninfo, zg_dnssrv_t *srv, int lease_ms, int every_ms);
/* Watch the backend whose process id is pid (PQbackendPID of the session that took
 * the lock); 0: watch nothing (not leader). */
void zg_lease_watch(zg_lease_t *l, int pid);
/* Stop the thread and free it; NULL is fine. */
void zg_lease_free(zg_lease_t *l);

#endif
