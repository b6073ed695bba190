/* test_tls.c - unit tests for api/tls.c's credentials: a certificate and key made here
 * with GnuTLS (EC P-256, self-signed) load and are described; every bad file gives a
 * message naming the option, the file and why; references keep them alive. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "api/tls.h"
#include "core/err.h"

static char dir[64];

static void write_file(const char *name, const void *data, size_t len, char *path, size_t plen)
{
	snprintf(path, plen, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* A key and a self-signed certificate for it named cn, as PEM files; their paths. */
static void make_pair(const char *name, const char *cn, char *cert, char *key, size_t len)
{
	gnutls_x509_privkey_t k;
	gnutls_x509_crt_t c;
	gnutls_datum_t d;
	char fname[64];
	assert_int_equal(gnutls_x509_privkey_init(&k), 0);
	assert_int_equal(gnutls_x509_privkey_generate(k, GNUTLS_PK_ECDSA,
	                                              GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
	                 0);
	assert_int_equal(gnutls_x509_crt_init(&c), 0);
	unsigned char serial[] = {1, 2, 3};
	time_t now = time(NULL);
	assert_int_equal(gnutls_x509_crt_set_version(c, 3), 0);
	assert_int_equal(gnutls_x509_crt_set_serial(c, serial, sizeof(serial)), 0);
	assert_int_equal(gnutls_x509_crt_set_activation_time(c, now - 60), 0);
	assert_int_equal(gnutls_x509_crt_set_expiration_time(c, now + 86400), 0);
	assert_int_equal(gnutls_x509_crt_set_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0, cn, strlen(cn)), 0);
	assert_int_equal(gnutls_x509_crt_set_key(c, k), 0);
	assert_int_equal(gnutls_x509_crt_sign2(c, c, k, GNUTLS_DIG_SHA256, 0), 0);
	assert_int_equal(gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_PEM, &d), 0);
	snprintf(fname, sizeof(fname), "%s.pem", name);
	write_file(fname, d.data, d.size, cert, len);
	gnutls_free(d.data);
	assert_int_equal(gnutls_x509_privkey_export2(k, GNUTLS_X509_FMT_PEM, &d), 0);
	snprintf(fname, sizeof(fname), "%s.key", name);
	write_file(fname, d.data, d.size, key, len);
	gnutls_free(d.data);
	gnutls_x509_crt_deinit(c);
	gnutls_x509_privkey_deinit(k);
}

static rdns_conf_t conf_of(char *cert, char *key, char *prio)
{
	rdns_conf_t c;
	memset(&c, 0, sizeof(c));
	c.api_tls_cert = cert;
	c.api_tls_key = key;
	c.api_tls_priority = prio;
	return c;
}

static char prio[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";

static void test_good_pair_loads_and_is_described(void **state)
{
	(void)state;
	char cert[128], key[128], msg[512] = "";
	make_pair("good", "api.example.net", cert, key, sizeof(cert));
	rdns_conf_t c = conf_of(cert, key, prio);
	assert_true(api_tls_configured(&c));
	api_tls_creds_t *cr = api_tls_creds_load(&c, msg, sizeof(msg));
	if (!cr)
		fail_msg("refused: %s", msg);
	assert_non_null(strstr(api_tls_creds_describe(cr), "CN=api.example.net"));
	assert_non_null(strstr(api_tls_creds_describe(cr), "expires 20"));
	assert_null(strstr(api_tls_creds_describe(cr), "EXPIRED"));
	/* a session holds a reference: the credentials outlive the loader's */
	api_tls_t *t = api_tls_new(cr, -1);
	assert_non_null(t);
	api_tls_creds_unref(cr);
	assert_false(api_tls_ready(t));
	assert_false(api_tls_pending(t));
	assert_true(api_tls_prebuffer(t, "abc", 3));
	api_tls_free(t); /* the last reference: freed (ASan's leak check sees it otherwise) */
	assert_int_equal(api_tls_conf_check(&c, msg, sizeof(msg)), RDNS_OK);
}

typedef struct {
	const char *what;
	const char *why; /* a fragment of the message */
} bad_t;

static void test_bad_files_say_which_and_why(void **state)
{
	(void)state;
	char cert[128], key[128], cert2[128], key2[128], junk[128], missing[128], msg[512];
	make_pair("one", "one.example.net", cert, key, sizeof(cert));
	make_pair("two", "two.example.net", cert2, key2, sizeof(cert2));
	write_file("junk.txt", "not PEM\n", 8, junk, sizeof(junk));
	snprintf(missing, sizeof(missing), "%s/missing.pem", dir);
	char badprio[] = "NORMAL:+NOPE";
	struct {
		char *cert, *key, *prio;
		const char *want[2];
	} cases[] = {
	    {cert, missing, prio, {"api_tls_key '", "cannot read: No such file or directory"}},
	    {missing, key, prio, {"api_tls_cert '", "cannot read"}},
	    {cert, dir, prio, {"api_tls_key '", "not a regular file"}},
	    {cert, junk, prio, {"api_tls_key '", "not an unencrypted PEM private key"}},
	    {junk, key, prio, {"api_tls_cert '", "not a PEM certificate"}},
	    {key, key, prio, {"api_tls_cert '", "not a PEM certificate"}},
	    {cert, key2, prio, {"and api_tls_cert '", "do not match"}},
	    {cert, key, badprio, {"api_tls_priority 'NORMAL:+NOPE'", "NOPE"}},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rdns_conf_t c = conf_of(cases[i].cert, cases[i].key, cases[i].prio);
		msg[0] = 0;
		assert_null(api_tls_creds_load(&c, msg, sizeof(msg)));
		assert_int_equal(api_tls_conf_check(&c, msg, sizeof(msg)), RDNS_ECONFIG);
		for (int j = 0; j < 2; j++)
			if (!strstr(msg, cases[i].want[j]))
				fail_msg("case %zu: '%s' lacks '%s'", i, msg, cases[i].want[j]);
		/* the file named is the one at fault */
		const char *named = strstr(cases[i].want[0], "key") ? cases[i].key : cases[i].cert;
		if (!strstr(cases[i].want[0], "priority") && !strstr(msg, named))
			fail_msg("case %zu: '%s' does not name %s", i, msg, named);
	}
	/* TLS off: nothing to check */
	char empty[] = "";
	rdns_conf_t off = conf_of(empty, empty, prio);
	assert_false(api_tls_configured(&off));
	assert_int_equal(api_tls_conf_check(&off, msg, sizeof(msg)), RDNS_OK);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/rdns-test-tls-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_pair_loads_and_is_described),
	    cmocka_unit_test(test_bad_files_say_which_and_why),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
