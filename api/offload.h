/* offload.h - work that waits on the network (forward checks), run off the HTTP workers.
 *
 * A handler that would wait (a verification's DNS queries take up to verify_deadline_ms)
 * parks its request: the work runs on one of verify_threads threads and the worker goes
 * on with its other connections; when the work is done, the request goes back to its
 * worker, which runs done and answers. So a slow resolver delays only the requests that
 * wait for it. Bounds: verify_max_inflight in all (queued or running; beyond: 503) and
 * verify_per_account per customer account (beyond: 429; staff accounts are held to the
 * total only), both with Retry-After. */
#ifndef RDNS_API_OFFLOAD_H
#define RDNS_API_OFFLOAD_H

#include <stdbool.h>

#include "api/http.h"

int api_offload_start(const rdns_conf_t *conf);
/* Joins the threads; work queued and not started is dropped (its requests stay parked
 * and are freed with their connections). */
void api_offload_stop(void);

/* Parks r and runs work(r) on a verification thread, then done(r) on r's worker. The
 * bound is counted for r->caller (authenticated). false: refused and answered (429 or
 * 503 with Retry-After); r is not parked. A request without a connection (tests) runs
 * work and done at once. job (freed with job_free when r is freed) holds what work and
 * done share. */
bool api_offload(api_req_t *r, void *job, void (*job_free)(void *), api_work_fn work, api_done_fn done);

/* Verifications queued or running now (for tests and metrics). */
long api_offload_inflight(void);

#endif
