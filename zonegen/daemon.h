/* daemon.h - the rdns-zonegen main loop: leadership, LISTEN, debounce, render, publish, NOTIFY. */
#ifndef RDNS_ZONEGEN_DAEMON_H
#define RDNS_ZONEGEN_DAEMON_H

#include <stdbool.h>

#include "core/conf.h"

/* Run the daemon until SIGINT/SIGTERM. Returns the process exit code. */
int zg_daemon_run(const rdns_conf_t *conf);

/* One pass for cron: render the dirty zones (every zone with full), send
 * NOTIFY and wait for the outcomes. Returns the process exit code. */
int zg_once(const rdns_conf_t *conf, bool full);

#endif
