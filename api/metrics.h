/* metrics.h - rdns-api's Prometheus metrics: what is counted, and GET /metrics. */
#ifndef RDNS_API_METRICS_H
#define RDNS_API_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/conf.h"
#include "core/strbuf.h"
#include "verify/verdict.h"

/* Make the registry (metrics = on) and parse metrics_allow; also hands the database
 * layer its counters. Before it, or with metrics = off, every count below does nothing.
 * RDNS_OK, or RDNS_ECONFIG / RDNS_ENOMEM. */
int api_metrics_init(const rdns_conf_t *conf);
void api_metrics_free(void);
bool api_metrics_on(void);

/* One routed request: route is the router's pattern ("/v1/ptr/ *") or NULL (no route:
 * "other"); method is the request's (folded to a known method or "other"). */
void api_metrics_request(const char *route, const char *method, unsigned status, uint64_t ns);
/* A request or connection the HTTP server answered by itself (400, 408, 413, 431, 503);
 * reason may be NULL (then it follows the status). */
void api_metrics_refused(unsigned status, const char *reason);
/* A finished verification: each check's status, and its duration. */
void api_metrics_verify(const vf_verdict_t *v, int rc, uint64_t ns);
/* A verification not started: "busy" (verify_max_inflight), "account" (verify_per_account). */
void api_metrics_verify_refused(const char *reason);
/* A verification tried on the HTTP worker first (verify_inline_ms): answered there, or
 * handed to a verification thread to run again. */
void api_metrics_verify_inline(bool answered);
/* A finished diagnosis (issue #18): the status of each of its n findings, by id
 * ("ptr_published", ...) and status ("pass", "warn", "fail", "skip"). */
void api_metrics_diag(const char *const *ids, const char *const *statuses, size_t n);
/* A group commit (group "ptr") or grouped lookup ("auth") of n items; failed: the
 * batch statement failed and its items were retried one by one. */
void api_metrics_batch(const char *group, size_t n, bool failed);

/* Whether client (an address string) is in metrics_allow. */
bool api_metrics_allowed(const char *client);
/* The exposition; false if it could not be built. */
bool api_metrics_expose(core_strbuf_t *out);

#endif
