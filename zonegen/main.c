/* main.c - rdns-zonegen: renders reverse zones, sends NOTIFY, serves SOA/AXFR. */
#include <getopt.h>
#include <stdio.h>
#include <sys/resource.h>

#include "core/conf.h"
#include "core/err.h"
#include "core/log.h"
#include "zonegen/daemon.h"
#include "zonegen/metrics.h"

/* Half the soft limit is for the zone files of idle versions (fdcache.c), the rest for
 * sockets and transfers: take what the hard limit allows. */
static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: rdns-zonegen [-c FILE] [--once [--full]]   render zones (daemon by default)\n"
	           "       rdns-zonegen [-c FILE] --check-config\n\n");
	conf_print_help(f, "zonegen");
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	int once = 0, full = 0, check = 0;
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'},
	    {"once", no_argument, NULL, 'o'},         {"full", no_argument, NULL, 'f'},
	    {"check-config", no_argument, NULL, 'k'}, {NULL, 0, NULL, 0}};
	int o;
	while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c': path = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'o': once = 1; break;
		case 'f': full = 1; break;
		case 'k': check = 1; break;
		default: usage(stderr); return 2;
		}
	}
	rdns_conf_t conf;
	char msg[512];
	if (conf_load(&conf, path, msg, sizeof(msg)) != RDNS_OK) {
		fprintf(stderr, "rdns-zonegen: configuration: %s\n", msg);
		conf_free(&conf);
		return 2;
	}
	log_set_level(log_level_parse(conf.log_level));
	int ret;
	if (check) { /* conf_load has checked every value (core/conf.c) */
		conf_print(stdout, &conf);
		printf("configuration ok\n");
		ret = 0;
	} else if (once) {
		ret = zg_once(&conf, full);
	} else {
		int err;
		zg_metrics_http_t *mh = NULL;
		raise_nofile();
		ret = 1;
		if (zg_metrics_init(&conf) == RDNS_OK &&
		    ((mh = zg_metrics_http_start(conf.metrics_listen, &err)) || err == RDNS_OK))
			ret = zg_daemon_run(&conf);
		zg_metrics_http_stop(mh);
		zg_metrics_free();
	}
	conf_free(&conf);
	return ret;
}
