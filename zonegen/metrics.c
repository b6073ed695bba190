/* metrics.c - rdns-zonegen's Prometheus metrics: the families and the counts. */
#include "metrics.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/metrics.h"
#include "db/db.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
/* Seconds, as nanoseconds: 1 ms to 60 s (a big zone renders in seconds). */
static const uint64_t seconds_ns[] = {
    1000000,   2500000,    5000000,    10000000,   25000000,    50000000,    100000000,   250000000,
    500000000, 1000000000, 2500000000, 5000000000, 10000000000, 30000000000, 60000000000,
};

static struct {
	core_metrics_t *reg;
	core_metric_t *renders, *render_duration, *serial, *notify, *leader;
	core_metric_t *transfers, *transfer_bytes, *tsig, *refused;
	core_metric_t *db_errors, *db_reconnects;
} M;

static const char *const L_zone_outcome[] = {"zone", "outcome", NULL};
static const char *const L_zone[] = {"zone", NULL};
static const char *const L_target_outcome[] = {"target", "outcome", NULL};
static const char *const L_type_outcome[] = {"type", "outcome", NULL};
static const char *const L_type[] = {"type", NULL};
static const char *const L_reason[] = {"reason", NULL};
static const char *const L_kind_reason[] = {"kind", "reason", NULL};
static const char *const L_class[] = {"class", NULL};

int zg_metrics_init(const rdns_conf_t *conf)
{
	zg_metrics_free();
	if (strcmp(conf->metrics, "on") != 0)
		return RDNS_OK;
	core_metrics_t *m = M.reg = core_metrics_new();
	if (!m)
		return RDNS_ENOMEM;
	const core_metric_type_t C = CORE_METRIC_COUNTER, G = CORE_METRIC_GAUGE, H = CORE_METRIC_HISTOGRAM;
	M.renders =
	    core_metric_new(m, C, "rdns_zonegen_renders_total",
	                    "Zone renders, by zone and outcome (changed: new content and serial; "
	                    "incremental: a new serial served from the difference, its file written later; "
	                    "rewritten: the same content written again; unchanged: nothing written; "
	                    "failed).",
	                    L_zone_outcome, NULL, 0, 1);
	M.render_duration = core_metric_new(m, H, "rdns_zonegen_render_duration_seconds",
	                                    "Duration of zone renders (snapshot, file, journal), by zone.",
	                                    L_zone, seconds_ns, N(seconds_ns), CORE_METRICS_NS);
	M.serial = core_metric_new(m, G, "rdns_zonegen_zone_serial", "The SOA serial of each zone rendered.",
	                           L_zone, NULL, 0, 1);
	M.notify =
	    core_metric_new(m, C, "rdns_zonegen_notify_total",
	                    "NOTIFY outcomes, by target (ip:port@key) and outcome (acked, refused, notimp, "
	                    "failed: no answer after every try, error).",
	                    L_target_outcome, NULL, 0, 1);
	M.leader = core_metric_new(m, G, "rdns_zonegen_leader",
	                           "1 while this process leads (renders, serves, notifies), else 0.", NULL,
	                           NULL, 0, 1);
	M.transfers =
	    core_metric_new(m, C, "rdns_zonegen_transfers_total",
	                    "Zone transfers answered, by type (axfr; ixfr: incremental; ixfr_full: an "
	                    "IXFR answered with the whole zone; ixfr_soa: with our SOA only) and outcome "
	                    "(ok, failed).",
	                    L_type_outcome, NULL, 0, 1);
	M.transfer_bytes =
	    core_metric_new(m, C, "rdns_zonegen_transfer_bytes_total",
	                    "Bytes of DNS messages sent in zone transfers, by type.", L_type, NULL, 0, 1);
	M.tsig = core_metric_new(m, C, "rdns_zonegen_tsig_failures_total",
	                         "Signed requests whose TSIG failed, by reason (badsig, badkey, badtime, "
	                         "badtrunc, replay).",
	                         L_reason, NULL, 0, 1);
	M.refused =
	    core_metric_new(m, C, "rdns_zonegen_refused_total",
	                    "Requests answered REFUSED or NOTAUTH (kind query or transfer; reason acl, "
	                    "not_served, class, tsig, transfer_key), and TCP connections closed at accept "
	                    "(kind tcp; reason acl, full, per_address).",
	                    L_kind_reason, NULL, 0, 1);
	M.db_errors =
	    core_metric_new(m, C, "rdns_db_errors_total",
	                    "PostgreSQL errors, by SQLSTATE class (08: connection; empty: no SQLSTATE).",
	                    L_class, NULL, 0, 1);
	M.db_reconnects =
	    core_metric_new(m, C, "rdns_db_reconnects_total",
	                    "PostgreSQL sessions made again after one was lost.", NULL, NULL, 0, 1);
	static const char *const types[] = {"axfr", "ixfr", "ixfr_full", "ixfr_soa"};
	for (size_t i = 0; i < N(types); i++) {
		core_metric_l2(M.transfers, types[i], "ok");
		core_metric_l1(M.transfer_bytes, types[i]);
	}
	db_metrics_set(M.db_errors, M.db_reconnects);
	return RDNS_OK;
}

void zg_metrics_free(void)
{
	db_metrics_set(NULL, NULL);
	core_metrics_free(M.reg);
	memset(&M, 0, sizeof(M));
}

bool zg_metrics_on(void)
{
	return M.reg != NULL;
}

void zg_metrics_render(const char *zone, const char *outcome, uint64_t ns, uint32_t serial)
{
	if (!M.reg)
		return;
	core_series_add(core_metric_l2(M.renders, zone, outcome), 1);
	core_series_observe(core_metric_l1(M.render_duration, zone), ns);
	if (strcmp(outcome, "failed") != 0)
		core_series_gauge_set(core_metric_l1(M.serial, zone), serial);
}

void zg_metrics_notify(const char *target, const char *outcome)
{
	core_series_add(core_metric_l2(M.notify, target, outcome), 1);
}

void zg_metrics_leader(bool leading)
{
	core_series_gauge_set(core_metric_series(M.leader, NULL), leading ? 1 : 0);
}

void zg_metrics_transfer(const char *type, bool ok, uint64_t bytes)
{
	if (!M.reg)
		return;
	core_series_add(core_metric_l2(M.transfers, type, ok ? "ok" : "failed"), 1);
	core_series_add(core_metric_l1(M.transfer_bytes, type), bytes);
}

void zg_metrics_tsig_failure(const char *reason)
{
	core_series_add(core_metric_l1(M.tsig, reason), 1);
}

void zg_metrics_refused(const char *kind, const char *reason)
{
	core_series_add(core_metric_l2(M.refused, kind, reason), 1);
}

bool zg_metrics_expose(core_strbuf_t *out)
{
	return core_metrics_expose(M.reg, out);
}
