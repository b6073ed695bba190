/* main.c - rdns-zonegen: renders reverse zones, sends NOTIFY, serves SOA/AXFR. */
#include <getopt.h>
#include <stdio.h>

#include "core/conf.h"
#include "core/err.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: rdns-zonegen [-c FILE] [--once [--full]]   render zones (daemon by default)\n"
		   "       rdns-zonegen [-c FILE] --check-config\n\n");
	conf_print_help(f, "zonegen");
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	int o;
	while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c': path = optarg; break;
		case 'h': usage(stdout); return 0;
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
	fprintf(stderr, "rdns-zonegen: the renderer daemon lands with the zonegen issue\n");
	conf_free(&conf);
	return 1;
}
