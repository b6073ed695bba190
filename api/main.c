/* main.c - rdns-api: the customer and staff REST API, plus its admin commands. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http.h"
#include "api/metrics.h"
#include "core/conf.h"
#include "core/err.h"
#include "core/log.h"
#include "db/accounts.h"
#include "db/db.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: rdns-api [-c FILE] [serve]          run the HTTP API (default)\n"
	    "       rdns-api [-c FILE] migrate          apply pending database migrations\n"
	    "       rdns-api [-c FILE] add-staff NAME   create a staff account; its token is the last line\n"
	    "       rdns-api [-c FILE] --check-config   validate the configuration and print it\n"
	    "       rdns-api --routes                   print the routes: method, path, auth, body\n"
	    "       rdns-api --help\n\n");
	conf_print_help(f, "api");
}

static int cmd_migrate(const rdns_conf_t *conf)
{
	db_t *db = db_new(conf->database_url);
	if (!db)
		return 1;
	int rc = db_migrate(db, stdout);
	if (rc < 0)
		fprintf(stderr, "rdns-api: migrate failed: %s: %s\n", rdns_strerror(rc), db_last_error(db));
	else if (rc == 0)
		printf("migrate: schema is up to date\n");
	db_free(db);
	return rc < 0 ? 1 : 0;
}

static int cmd_add_staff(const rdns_conf_t *conf, const char *name)
{
	db_t *db = db_new(conf->database_url);
	int ret = 1;
	long long id, token_id;
	char token[DB_TOKEN_MAX];
	if (!db)
		return 1;
	int rc = db_ensure(db);
	if (rc == RDNS_OK)
		rc = db_begin(db);
	if (rc == RDNS_OK)
		rc = db_account_create(db, name, "staff", &id);
	if (rc == RDNS_OK)
		rc = db_token_create(db, id, token, sizeof(token), &token_id);
	if (rc == RDNS_OK)
		rc = db_commit(db);
	if (rc != RDNS_OK) {
		db_rollback(db);
		if (rc == RDNS_EEXIST)
			fprintf(stderr, "rdns-api: an account named '%s' exists already\n", name);
		else
			fprintf(stderr, "rdns-api: add-staff failed: %s: %s\n", rdns_strerror(rc),
			        db_last_error(db));
		goto cleanup;
	}
	printf("staff account %lld '%s' created; its token (shown once):\n%s\n", id, name, token);
	ret = 0;
cleanup:
	db_free(db);
	return ret;
}

static int cmd_serve(const rdns_conf_t *conf)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* every thread inherits this */
	signal(SIGPIPE, SIG_IGN);

	db_t *db = db_new(conf->database_url);
	if (db) {
		int v = db_schema_version(db);
		if (v < 0)
			log_warn("api: database not reachable at start (%s); serving 503 until it is",
			         db_last_error(db));
		else if (v == 0)
			log_warn("api: the database has no schema; run 'rdns-api migrate'");
		db_free(db);
	}
	int err;
	if (api_metrics_init(conf) != RDNS_OK)
		return 1;
	api_app_t *app = api_app_new(conf, &err);
	if (!app) {
		api_metrics_free();
		return 1;
	}
	if (api_app_start(app) != RDNS_OK) {
		api_app_free(app);
		api_metrics_free();
		return 1;
	}
	int sig = 0;
	/* signals are taken here, synchronously, never in a handler */
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
		api_app_reload(app);
	log_info("api: signal %d, stopping", sig);
	api_app_free(app);
	api_metrics_free();
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	int check = 0;
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
	                                     {"check-config", no_argument, NULL, 'k'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {"routes", no_argument, NULL, 'r'},
	                                     {NULL, 0, NULL, 0}};
	int o;
	while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c': path = optarg; break;
		case 'k': check = 1; break;
		case 'h': usage(stdout); return 0;
		case 'r': api_routes_print(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	rdns_conf_t conf;
	char msg[512];
	if (conf_load(&conf, path, msg, sizeof(msg)) != RDNS_OK) {
		fprintf(stderr, "rdns-api: configuration: %s\n", msg);
		conf_free(&conf);
		return 2;
	}
	log_set_level(log_level_parse(conf.log_level));
	int ret;
	const char *cmd = optind < argc ? argv[optind] : "serve";
	if (check) {
		if (api_conf_check(&conf, msg, sizeof(msg)) != RDNS_OK) {
			fprintf(stderr, "rdns-api: configuration: %s\n", msg);
			ret = 2;
		} else {
			conf_print(stdout, &conf);
			printf("configuration ok\n");
			ret = 0;
		}
	} else if (strcmp(cmd, "serve") == 0) {
		ret = cmd_serve(&conf);
	} else if (strcmp(cmd, "migrate") == 0) {
		ret = cmd_migrate(&conf);
	} else if (strcmp(cmd, "add-staff") == 0 && optind + 1 < argc) {
		ret = cmd_add_staff(&conf, argv[optind + 1]);
	} else {
		usage(stderr);
		ret = 2;
	}
	conf_free(&conf);
	return ret;
}
