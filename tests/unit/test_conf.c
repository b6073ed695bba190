/* test_conf.c - unit tests for core/conf: each option's typed check, good and bad values. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/conf.h"
#include "core/err.h"

#define N(t) (sizeof(t) / sizeof((t)[0]))

#define SECRET "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=" /* 32 bytes */

typedef struct {
	const char *key;
	const char *value;
	const char *why; /* NULL: accepted; else a fragment of the refusal */
} conf_case_t;

static const conf_case_t cases[] = {
    {"log_level", "debug", NULL},
    {"log_level", "warn", NULL},
    {"log_level", "loud", "not one of error, warn, info, debug"},
    {"api_listen", "127.0.0.1:8053", NULL},
    {"api_listen", "[::1]:0", NULL},
    {"api_listen", "127.0.0.1", "ip:port"},
    {"api_listen", "", "ip:port"},
    {"api_listen", "localhost:80", "not an IP address"},
    {"metrics", "off", NULL},
    {"metrics", "yes", "not one of on, off"},
    {"drift_action", "reset", NULL},
    {"drift_action", "delete", "not one of keep, reset"},
    {"metrics_allow", "127.0.0.0/8 ::1/128 10.0.0.5", NULL},
    {"metrics_allow", "127.0.0.1/8", "host bits"},
    {"metrics_listen", "", NULL},
    {"metrics_listen", "127.0.0.1:9153", NULL},
    {"metrics_listen", "127.0.0.1", "ip:port"},
    {"api_tls_cert", "", NULL},
    {"api_tls_cert", "/proc/self/status", NULL},
    {"api_tls_cert", "/nonexistent/cert.pem", "cannot be read: No such file or directory"},
    {"api_tls_cert", "/", "not a regular file"},
    {"api_tls_key", "", NULL},
    {"api_tls_key", "/proc/self/status", NULL},
    {"api_tls_key", "/nonexistent/key.pem", "cannot be read"},
    {"api_tls_priority", "NORMAL", NULL},
    {"api_tls_priority", "", "must not be empty"},
    {"dns_listen", "", NULL},
    {"dns_listen", "0.0.0.0:53", NULL},
    {"dns_listen", "192.0.2.1", "ip:port"},
    {"dns_listen", "192.0.2.1:65536", "port"},
    {"resolvers", "", NULL},
    {"resolvers", "192.0.2.1 [192.0.2.2]:5353, 2001:db8::1", NULL},
    {"resolvers", "192.0.2.1 resolver.example", "'resolver.example'"},
    {"resolvers", "192.0.2.1:0", "port"},
    {"notify", "192.0.2.1 [2001:db8::2]:5353@xfr-key", NULL},
    {"notify", "0.0.0.0", "not a host"},
    {"notify", "224.0.0.1", "multicast"},
    {"notify", "192.0.2.1@bad/key", "'192.0.2.1@bad/key'"},
    {"notify",
     "192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.4 192.0.2.5 192.0.2.6 192.0.2.7 192.0.2.8 192.0.2.9 "
     "192.0.2.10 192.0.2.11 192.0.2.12 192.0.2.13 192.0.2.14 192.0.2.15 192.0.2.16 192.0.2.17",
     "at most 16"},
    {"notify_source", "dns_listen", NULL},
    {"notify_source", "0", NULL},
    {"notify_source", "", NULL},
    {"notify_source", "192.0.2.53 2001:db8::53", NULL},
    {"notify_source", "192.0.2.53:53", "no port"},
    {"notify_source", "192.0.2.53 192.0.2.54", "at most one IPv4"},
    {"notify_source", "255.255.255.255", "one host"},
    {"transfer_allow", "127.0.0.1 ::1 10.0.0.0/8", NULL},
    {"transfer_allow", "10.0.0.0/024", NULL}, /* the ACL grammar has always taken it */
    {"transfer_allow", "10.0.0.1/8", "host bits"},
    {"transfer_allow", "10.0.0.0/33", "address or prefix"},
    {"query_allow", "0.0.0.0/0 ::/0", NULL},
    {"query_allow", "", NULL},
    {"query_allow", "everyone", "'everyone'"},
    {"api_trusted_proxies", "10.0.0.5 2001:db8::/32", NULL},
    {"api_trusted_proxies", "10.0.0.1/8", "host bits"},
    {"api_trusted_proxies", "10.0.0.0/024", "leading zero"},
    {"tsig_keys", "xfr-key:hmac-sha256:" SECRET, NULL},
    {"tsig_keys", "a.b_c-1:hmac-sha256:" SECRET " k2:hmac-sha256:" SECRET, NULL},
    {"tsig_keys", "xfr-key:hmac-md5:" SECRET, "only the algorithm hmac-sha256"},
    {"tsig_keys", "xfr-key:HMAC-SHA256:" SECRET, "only the algorithm hmac-sha256"},
    {"tsig_keys", "xfr-key:" SECRET, "name:hmac-sha256:base64secret"},
    {"tsig_keys", ".key:hmac-sha256:" SECRET, "key name"},
    {"tsig_keys", "bad/key:hmac-sha256:" SECRET, "key name"},
    {"tsig_keys", "xfr-key:hmac-sha256:c2VjcmV0", "16 to 128 bytes"},
    {"tsig_keys", "xfr-key:hmac-sha256:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI", "base64"},
    {"tsig_keys", "xfr-key:hmac-sha256:c2Vj=mV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=", "not base64"},
    {"tsig_keys", "xfr-key:hmac-sha256:", "base64"},
    {"transfer_tsig_key", "", NULL},
    {"transfer_tsig_key", "xfr-key", NULL}, /* whether it is in tsig_keys: conf_check_refs */
    {"transfer_tsig_key", "bad key!", "not a TSIG key name"},
    {"api_proxy_protocol", "on", NULL},
    {"api_proxy_protocol", "off", NULL},
    {"api_proxy_protocol", "yes", "not one of on, off"},
    {"zone_dir", "/var/lib/rdns/zones", NULL},
    {"zone_dir", "", "must not be empty"},
    {"special_names", "local home.arpa in-addr.arpa", NULL},
    {"special_names", "a..b", "empty label"},
    {"special_names", ".local", "domain name"},
    {"denied_domains", "", NULL},
    {"denied_domains", "vps.example.net Brand.Example.", NULL},
    {"denied_domains", "ex_ample.com", "underscore"},
    {"denied_domains", "-bad.example", "hyphen"},
    /* deliverability diagnostics (issue #18) */
    {"diagnose_resolvers", "", NULL},
    {"diagnose_resolvers", "192.0.2.53 [2001:db8::53]:5353", NULL},
    {"diagnose_resolvers", "ns1.example.net", "'ns1.example.net'"},
    {"dnsbl_zones", "", NULL},
    {"dnsbl_zones", "zen.spamhaus.org bl.spamcop.net", NULL},
    {"dnsbl_zones", "bl..example", "empty label"},
    {"database_url", "anything at all; libpq parses it", NULL},
    {"post_write_command", "knotc zone-reload {zone}", NULL},
    /* the web panel (issue 15) */
    {"panel", "off", NULL},
    {"panel", "no", "not one of on, off"},
    {"panel_frame_ancestors", "'none'", NULL},
    {"panel_frame_ancestors", "'self' https://my.example.net https: *.example.org:443", NULL},
    {"panel_frame_ancestors", "https://a.example;script-src", "may not hold"},
    {"panel_frame_ancestors", "'unsafe-inline'", "not a source frame-ancestors takes"},
    {"panel_frame_ancestors",
     "a.example b.example c.example d.example e.example f.example g.example "
     "h.example i.example",
     "at most 8"},
    {"api_threads", "32", NULL},
    {"api_threads", "0", "integer from 1 to 512"},
    {"api_threads", "many", "integer"},
};

static void test_values(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		const conf_case_t *t = &cases[i];
		rdns_conf_t c;
		char err[512] = "";
		assert_int_equal(conf_load(&c, NULL, err, sizeof(err)), RDNS_OK);
		int rc = conf_set(&c, t->key, t->value, err, sizeof(err));
		if (t->why == NULL) {
			if (rc != RDNS_OK)
				fail_msg("%s = '%s' refused: %s", t->key, t->value, err);
		} else {
			if (rc != RDNS_EINVAL)
				fail_msg("%s = '%s' accepted", t->key, t->value);
			if (strncmp(err, t->key, strlen(t->key)) != 0 || !strstr(err, t->why))
				fail_msg("%s = '%s': message '%s' lacks the key or '%s'", t->key, t->value,
				         err, t->why);
		}
		conf_free(&c);
	}
}

/* Every option of the table has at least one good and one bad case above, but
 * the two whose consumers parse them (database_url, post_write_command) and the
 * integers (their range is the check). */
static void test_every_check_is_tested(void **state)
{
	(void)state;
	for (const conf_opt_t *o = conf_options; o->key; o++) {
		if (o->check == CONF_ANY)
			continue;
		bool good = false, bad = false;
		for (size_t i = 0; i < N(cases); i++)
			if (strcmp(cases[i].key, o->key) == 0)
				*(cases[i].why ? &bad : &good) = true;
		if (!good || !bad)
			fail_msg("option %s lacks a good or a bad case", o->key);
	}
}

/* A TSIG secret never appears in a message. */
static void test_secret_not_echoed(void **state)
{
	(void)state;
	rdns_conf_t c;
	char err[512] = "";
	assert_int_equal(conf_load(&c, NULL, err, sizeof(err)), RDNS_OK);
	assert_int_equal(conf_set(&c, "tsig_keys", "k:hmac-md5:" SECRET, err, sizeof(err)), RDNS_EINVAL);
	assert_non_null(strstr(err, "'k'"));
	assert_null(strstr(err, SECRET));
	assert_int_equal(conf_set(&c, "tsig_keys", "k:hmac-sha256:c2VjcmV0", err, sizeof(err)), RDNS_EINVAL);
	assert_null(strstr(err, "c2VjcmV0"));
	conf_free(&c);
}

static int write_conf(char *path, size_t len, const char *text)
{
	snprintf(path, len, "/tmp/test_conf.XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	FILE *f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	return 0;
}

typedef struct {
	const char *text;
	const char *why; /* NULL: loads */
} load_case_t;

/* What spans options, checked by conf_load after the file and the environment. */
static const load_case_t loads[] = {
    {"tsig_keys = xfr-key:hmac-sha256:" SECRET "\ntransfer_tsig_key = xfr-key\n", NULL},
    {"transfer_tsig_key = xfr-key\ntsig_keys = xfr-key:hmac-sha256:" SECRET "\n", NULL},
    {"transfer_tsig_key = other\ntsig_keys = xfr-key:hmac-sha256:" SECRET "\n",
     "transfer_tsig_key: 'other': not a key of tsig_keys"},
    {"notify = 192.0.2.1@xfr-key\ntsig_keys = xfr-key:hmac-sha256:" SECRET "\n", NULL},
    {"notify = 192.0.2.1@nokey\n", "notify: '192.0.2.1@nokey': the key nokey is not in tsig_keys"},
    {"dns_listen = \nnotify_source = dns_listen\n", NULL},
    {"dns_listen = 0.0.0.0:53\nnotify_source = dns_listen\n", NULL},
    {"dns_listen = [2001:db8::53]:53\nnotify_source = dns_listen\n", NULL},
    {"api_listen = 127.0.0.1\n", "api_listen: '127.0.0.1'"},
    {"api_tls_cert = /proc/self/status\napi_tls_key = /proc/self/status\n", NULL},
    {"api_tls_cert = /proc/self/status\n", "api_tls_cert is set but api_tls_key is not"},
    {"api_tls_key = /proc/self/status\n", "api_tls_key is set but api_tls_cert is not"},
    {"resolvers = 192.0.2.1:99999\n", "resolvers: '192.0.2.1:99999'"},
};

static void test_load(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(loads); i++) {
		char path[64], err[512] = "";
		rdns_conf_t c;
		assert_int_equal(write_conf(path, sizeof(path), loads[i].text), 0);
		int rc = conf_load(&c, path, err, sizeof(err));
		unlink(path);
		if (loads[i].why == NULL && rc != RDNS_OK)
			fail_msg("'%s' refused: %s", loads[i].text, err);
		if (loads[i].why != NULL && (rc != RDNS_ECONFIG || !strstr(err, loads[i].why)))
			fail_msg("'%s': rc %d, message '%s', expected '%s'", loads[i].text, rc, err,
			         loads[i].why);
		conf_free(&c);
	}
}

/* The environment is checked as the file is, and named in the message. */
static void test_env(void **state)
{
	(void)state;
	rdns_conf_t c;
	char err[512] = "";
	setenv("RDNS_NOTIFY", "192.0.2.1:0", 1);
	assert_int_equal(conf_load(&c, NULL, err, sizeof(err)), RDNS_ECONFIG);
	assert_non_null(strstr(err, "RDNS_NOTIFY: notify: '192.0.2.1:0'"));
	conf_free(&c);
	setenv("RDNS_NOTIFY", "192.0.2.1:5353", 1);
	assert_int_equal(conf_load(&c, NULL, err, sizeof(err)), RDNS_OK);
	assert_int_equal(c.notify.n, 1);
	conf_free(&c);
	unsetenv("RDNS_NOTIFY");
	setenv("RDNS_TRANSFER_TSIG_KEY", "xfr-key", 1);
	assert_int_equal(conf_load(&c, NULL, err, sizeof(err)), RDNS_ECONFIG);
	assert_non_null(strstr(err, "transfer_tsig_key"));
	conf_free(&c);
	unsetenv("RDNS_TRANSFER_TSIG_KEY");
}

/* The defaults pass their own checks. */
/* CSP3 ignores 'none' beside other sources: the mix is refused, not silently widened. */
static void test_frame_ancestors_none_alone(void **state)
{
	(void)state;
	rdns_conf_t c;
	char err[512] = "";
	assert_int_equal(conf_load(&c, NULL, err, sizeof(err)), RDNS_OK);
	assert_int_equal(c.panel_frame_ancestors.n, 1);
	assert_string_equal(c.panel_frame_ancestors.v[0], "'none'");
	assert_int_equal(
	    conf_set(&c, "panel_frame_ancestors", "'none' https://my.example.net", err, sizeof(err)),
	    RDNS_OK);
	assert_int_equal(conf_check_refs(&c, err, sizeof(err)), RDNS_EINVAL);
	assert_non_null(strstr(err, "'none' must stand alone"));
	assert_int_equal(
	    conf_set(&c, "panel_frame_ancestors", "'self' https://my.example.net", err, sizeof(err)),
	    RDNS_OK);
	assert_int_equal(conf_check_refs(&c, err, sizeof(err)), RDNS_OK);
	conf_free(&c);
}

static void test_defaults(void **state)
{
	(void)state;
	for (const conf_opt_t *o = conf_options; o->key; o++) {
		char err[512] = "";
		if (conf_check_value(o, o->def, err, sizeof(err)) != RDNS_OK)
			fail_msg("default of %s: %s", o->key, err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_every_check_is_tested),
	    cmocka_unit_test(test_secret_not_echoed),
	    cmocka_unit_test(test_load),
	    cmocka_unit_test(test_env),
	    cmocka_unit_test(test_frame_ancestors_none_alone),
	    cmocka_unit_test(test_defaults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
