/* dnssrv.c - the hidden primary as the daemon sees it: checks the configuration and ties
 * together the ACL (acl.c), the zones (zonedb.c), the packet handler (query.c, xfr.c) and the
 * sockets and threads (server.c). */
#include "zonegen/dnssrv.h"

#include <limits.h>

#include <stdatomic.h>

#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "zonegen/acl.h"
#include "zonegen/query.h"
#include "zonegen/server.h"
#include "zonegen/zonedb.h"

struct zg_dnssrv {
	zg_query_env_t env; /* what the handler answers from: the three below and the transfer key */
	zg_tsig_key_t *keys;
	size_t n_keys;
	zg_acl_t *acl;
	zg_acl_t *query_acl;
	zg_zonedb_t *zones;
	zg_tsig_replay_t *replay;      /* per-key replay check (tsig_replay.h) */
	zg_server_t *server;           /* NULL without listen */
	_Atomic long long serve_until; /* see zg_dnssrv_serve_until */
};

zg_dnssrv_t *zg_dnssrv_new(const zg_dnssrv_conf_t *conf, int *err)
{
	int rc = RDNS_ENOMEM;
	zg_dnssrv_t *s = calloc(1, sizeof(*s));
	if (s == NULL)
		goto cleanup;
	s->zones = zg_zonedb_new();
	if (s->zones == NULL)
		goto cleanup;

	rc = RDNS_ECONFIG;
	if (conf->n_keys > 0 && conf->keys == NULL)
		goto cleanup;
	if (conf->n_keys > 0) {
		s->keys = calloc(conf->n_keys, sizeof(*s->keys));
		if (s->keys == NULL) {
			rc = RDNS_ENOMEM;
			goto cleanup;
		}
		memcpy(s->keys, conf->keys, conf->n_keys * sizeof(*s->keys));
		s->n_keys = conf->n_keys;
	}
	for (size_t i = 0; i < s->n_keys; i++) {
		uint8_t kn[ZG_WIRE_NAME_MAX];
		size_t kl;
		if (zg_tsig_key_wire_name(&s->keys[i], kn, &kl) != RDNS_OK || s->keys[i].secret_len == 0 ||
		    s->keys[i].secret_len > sizeof(s->keys[i].secret)) {
			log_err("dnssrv: bad TSIG key #%zu (name or secret length)", i);
			goto cleanup;
		}
	}
	if (conf->transfer_key != NULL) {
		zg_tsig_key_t probe = {0};
		size_t n = strlen(conf->transfer_key);
		if (n == 0 || n >= sizeof(probe.name))
			goto cleanup;
		memcpy(probe.name, conf->transfer_key, n);
		if (zg_tsig_key_wire_name(&probe, s->env.xfr_key, &s->env.xfr_key_len) != RDNS_OK)
			goto cleanup;
		bool known = false;
		for (size_t i = 0; i < s->n_keys && !known; i++) {
			uint8_t kn[ZG_WIRE_NAME_MAX];
			size_t kl;
			zg_tsig_key_wire_name(&s->keys[i], kn, &kl);
			known = kl == s->env.xfr_key_len && memcmp(kn, s->env.xfr_key, kl) == 0;
		}
		if (!known) {
			log_err("dnssrv: transfer key %s is not among the keys", conf->transfer_key);
			goto cleanup;
		}
		s->env.has_xfr_key = true;
	}
	s->acl = zg_acl_new(conf->transfer_allow, &rc);
	if (s->acl == NULL) {
		log_err("dnssrv: bad transfer_allow list");
		goto cleanup;
	}
	s->query_acl = zg_acl_new(conf->query_allow, &rc);
	if (s->query_acl == NULL) {
		log_err("dnssrv: bad query_allow list");
		goto cleanup;
	}
	s->env.query_acl = s->query_acl;
	atomic_init(&s->serve_until, LLONG_MAX);
	s->env.serve_until = &s->serve_until;
	s->env.acl = s->acl;
	s->env.zones = s->zones;
	s->env.keys = s->keys;
	s->env.n_keys = s->n_keys;
	s->replay = zg_tsig_replay_new(s->n_keys);
	if (s->replay == NULL) {
		rc = RDNS_ENOMEM;
		goto cleanup;
	}
	s->env.replay = s->replay;
	if (conf->listen != NULL) {
		zg_server_conf_t sc = {.listen = conf->listen,
		                       .tcp_idle_timeout_ms = conf->tcp_idle_timeout_ms,
		                       .tcp_query_timeout_ms = conf->tcp_query_timeout_ms,
		                       .max_tcp_clients = conf->max_tcp_clients,
		                       .max_tcp_per_addr = conf->max_tcp_per_addr};
		s->server = zg_server_new(&sc, &s->env, &rc);
		if (s->server == NULL)
			goto cleanup;
	}
	rc = RDNS_OK;
cleanup:
	if (rc != RDNS_OK) {
		zg_dnssrv_free(s);
		s = NULL;
	}
	if (err)
		*err = rc;
	return s;
}

uint16_t zg_dnssrv_port(const zg_dnssrv_t *s)
{
	return s->server != NULL ? zg_server_port(s->server) : 0;
}

int zg_dnssrv_publish(zg_dnssrv_t *s, const char *zone, const char *path)
{
	return zg_zonedb_publish(s->zones, zone, path);
}

int zg_dnssrv_publish_overlay(zg_dnssrv_t *s, const char *zone, const zg_zonedb_ovl_t *ovl, size_t n,
                              const char *soa_line, size_t soa_len, const char *journal_path)
{
	return zg_zonedb_publish_overlay(s->zones, zone, ovl, n, soa_line, soa_len, journal_path);
}

int zg_dnssrv_publish_written(zg_dnssrv_t *s, const char *zone, const char *path,
                              const zg_zonedb_snap_t *like)
{
	return zg_zonedb_publish_written(s->zones, zone, path, like);
}

zg_zonedb_snap_t *zg_dnssrv_get(zg_dnssrv_t *s, const char *zone)
{
	return zg_zonedb_get_text(s->zones, zone);
}

void zg_dnssrv_put(zg_dnssrv_t *s, zg_zonedb_snap_t *sn)
{
	zg_zonedb_put(s->zones, sn);
}

void zg_dnssrv_serve_until(zg_dnssrv_t *s, long long mono_ms)
{
	atomic_store(&s->serve_until, mono_ms);
}

void zg_dnssrv_serve_extend(zg_dnssrv_t *s, long long mono_ms)
{
	long long cur = atomic_load(&s->serve_until);
	while (cur < mono_ms && !atomic_compare_exchange_weak(&s->serve_until, &cur, mono_ms))
		;
}

void zg_dnssrv_unpublish(zg_dnssrv_t *s, const char *zone)
{
	zg_zonedb_unpublish(s->zones, zone);
}

uint32_t zg_dnssrv_serial(zg_dnssrv_t *s, const char *zone, bool *found)
{
	return zg_zonedb_serial(s->zones, zone, found);
}

int zg_dnssrv_handle(zg_dnssrv_t *s, const uint8_t *q, size_t qlen, const struct sockaddr *from,
                     int transport, zg_dnssrv_emit_fn emit, void *arg)
{
	return zg_query_handle(&s->env, q, qlen, from, transport, emit, arg);
}

int zg_dnssrv_start(zg_dnssrv_t *s)
{
	return s->server != NULL ? zg_server_start(s->server) : RDNS_EINVAL;
}

void zg_dnssrv_stop(zg_dnssrv_t *s)
{
	if (s != NULL)
		zg_server_stop(s->server);
}

void zg_dnssrv_free(zg_dnssrv_t *s)
{
	if (s == NULL)
		return;
	zg_server_free(s->server); /* stops first: no query runs after this */
	zg_zonedb_free(s->zones);
	if (s->keys)
		explicit_bzero(s->keys, s->n_keys * sizeof(*s->keys)); /* secrets */
	free(s->keys);
	zg_acl_free(s->acl);
	zg_acl_free(s->query_acl);
	zg_tsig_replay_free(s->replay);
	free(s);
}
