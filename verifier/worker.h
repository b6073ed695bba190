/* worker.h - rdns-verifier's threads: claim due jobs from PostgreSQL, verify, finish. */
#ifndef RDNS_VERIFIER_WORKER_H
#define RDNS_VERIFIER_WORKER_H

#include "core/conf.h"

/* Run verifier_threads worker threads until SIGINT or SIGTERM; each holds one
 * PostgreSQL connection and reconnects with backoff when it is lost. Returns the exit
 * status (0 after a signal). */
int vr_run(const rdns_conf_t *conf);

#endif
