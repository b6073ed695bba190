/* metrics.h - rdns-zonegen's Prometheus metrics: what is counted, and the GET /metrics
 * listener on metrics_listen (metrics_http.c). */
#ifndef RDNS_ZONEGEN_METRICS_H
#define RDNS_ZONEGEN_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/conf.h"
#include "core/strbuf.h"

/* Make the registry (metrics = on); also hands the database layer its counters.
 * Before it, or with metrics = off, every count below does nothing. */
int zg_metrics_init(const rdns_conf_t *conf);
void zg_metrics_free(void);
bool zg_metrics_on(void);

/* A render of zone: outcome "changed" (new content, new serial), "rewritten" (file
 * written again, same content), "unchanged" (nothing written) or "failed"; serial is
 * the zone's serial now (ignored when failed). */
void zg_metrics_render(const char *zone, const char *outcome, uint64_t ns, uint32_t serial);
/* A NOTIFY target finished ("ip:port@key" as notify.c names it; outcome acked,
 * refused, notimp, failed, error). */
void zg_metrics_notify(const char *target, const char *outcome);
/* Whether this process leads (serves and renders). */
void zg_metrics_leader(bool leading);
/* A transfer answered: type "axfr", "ixfr" (incremental), "ixfr_full" (an IXFR answered
 * with the whole zone), "ixfr_soa" (an IXFR answered with our SOA only: up to date, or
 * over UDP); ok false: it failed part way; bytes sent. */
void zg_metrics_transfer(const char *type, bool ok, uint64_t bytes);
/* A signed request whose TSIG failed: reason badsig, badkey, badtime, badtrunc, replay. */
void zg_metrics_tsig_failure(const char *reason);
/* A refused request: kind "query" or "transfer"; reason acl, not_served, class, tsig,
 * transfer_key; or a TCP connection closed at accept: kind "tcp", reason acl, full,
 * per_address. */
void zg_metrics_refused(const char *kind, const char *reason);

bool zg_metrics_expose(core_strbuf_t *out);

/* The listener: a thread answering GET /metrics on metrics_listen, one request per
 * connection, at most 8 KiB of head within 2 s. NULL (and nothing to stop) when
 * metrics_listen is empty; *err RDNS_OK then, else RDNS_EIO / RDNS_ECONFIG / RDNS_ENOMEM. */
typedef struct zg_metrics_http zg_metrics_http_t;
zg_metrics_http_t *zg_metrics_http_start(const char *listen, int *err);
void zg_metrics_http_stop(zg_metrics_http_t *h); /* accepts NULL */

#endif
