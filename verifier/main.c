/* main.c - rdns-verifier: re-verifies PTR sets waiting for forward DNS and applies them. */
#include <getopt.h>
#include <stdio.h>

#include "core/conf.h"
#include "core/err.h"
#include "core/log.h"
#include "verifier/worker.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: rdns-verifier [-c FILE]                 run the worker (until SIGINT or SIGTERM)\n"
	        "       rdns-verifier [-c FILE] --check-config  validate the configuration and print it\n\n");
	conf_print_help(f, "verifier");
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	int check = 0;
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {"check-config", no_argument, NULL, 'k'},
	                                     {NULL, 0, NULL, 0}};
	int o;
	while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c': path = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'k': check = 1; break;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	rdns_conf_t conf;
	char msg[512];
	if (conf_load(&conf, path, msg, sizeof(msg)) != RDNS_OK) {
		fprintf(stderr, "rdns-verifier: configuration: %s\n", msg);
		conf_free(&conf);
		return 2;
	}
	log_set_level(log_level_parse(conf.log_level));
	int ret;
	if (check) { /* conf_load has checked every value (core/conf.c) */
		conf_print(stdout, &conf);
		printf("configuration ok\n");
		ret = 0;
	} else {
		ret = vr_run(&conf);
	}
	conf_free(&conf);
	return ret;
}
