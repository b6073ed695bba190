/* test_verify.c - the PTR verifier against a real knotd on loopback and a resolver that never answers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "core/err.h"
#include "verify/verify.h"

#define KNOTD "/usr/sbin/knotd"

static const char ZONE_COM[] =
    "$ORIGIN example.com.\n"
    "$TTL 300\n"
    "@        SOA   ns.example.com. hostmaster.example.com. 1 3600 900 604800 300\n"
    "@        NS    ns.example.com.\n"
    "ns       A     192.0.2.53\n"
    "mail     A     192.0.2.10\n"
    "wrong    A     198.51.100.20\n"
    "txtonly  TXT   \"no address here\"\n"
    "c1       CNAME c2\n"
    "c2       CNAME mail\n"
    "ext      CNAME host.example.net.\n"
    "extwrong CNAME other.example.net.\n"
    "dangling CNAME gone\n"
    "loop1    CNAME loop2\n"
    "loop2    CNAME loop1\n"
    "v6       AAAA  2001:db8::10\n"
    "multi    A     192.0.2.11\n"
    "multi    A     192.0.2.10\n"
    "multi    A     192.0.2.12\n"
    "host-192-0-2-10 A 192.0.2.10\n"
    "long0    CNAME long1\n"
    "long1    CNAME long2\n"
    "long2    CNAME long3\n"
    "long3    CNAME long4\n"
    "long4    CNAME long5\n"
    "long5    CNAME long6\n"
    "long6    CNAME long7\n"
    "long7    CNAME long8\n"
    "long8    CNAME mail\n";

static const char ZONE_NET[] =
    "$ORIGIN example.net.\n"
    "$TTL 300\n"
    "@        SOA   ns.example.net. hostmaster.example.net. 1 3600 900 604800 300\n"
    "@        NS    ns.example.net.\n"
    "ns       A     192.0.2.53\n"
    "host     A     192.0.2.10\n"
    "host     AAAA  2001:db8::10\n"
    "other    A     203.0.113.5\n";

static struct {
	char dir[64];
	pid_t knot;
	int port;
	bool v6;            /* knotd also listens on [::1] */
	char resolver[32];  /* "127.0.0.1:PORT" of knotd */
	char resolver6[48]; /* "[::1]:PORT" of knotd */
	int dead_fd;        /* a UDP socket nobody reads */
	char dead[32];      /* "127.0.0.1:PORT" of it */
} env = {.knot = -1, .dead_fd = -1};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* A port free for both UDP and TCP on 127.0.0.1 (and ::1 when v6). */
static int free_port(bool v6)
{
	for (int tries = 0; tries < 20; tries++) {
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		socklen_t sl = sizeof(sa);
		int u = socket(AF_INET, SOCK_DGRAM, 0), t = socket(AF_INET, SOCK_STREAM, 0), port = -1;

		if (u >= 0 && t >= 0 && bind(u, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		    getsockname(u, (struct sockaddr *)&sa, &sl) == 0 &&
		    bind(t, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			port = ntohs(sa.sin_port);
		if (port > 0 && v6) {
			struct sockaddr_in6 s6 = {.sin6_family = AF_INET6,
			                          .sin6_addr = IN6ADDR_LOOPBACK_INIT};
			int u6 = socket(AF_INET6, SOCK_DGRAM, 0), t6 = socket(AF_INET6, SOCK_STREAM, 0);

			s6.sin6_port = htons((uint16_t)port);
			if (u6 < 0 || t6 < 0 || bind(u6, (struct sockaddr *)&s6, sizeof(s6)) != 0 ||
			    bind(t6, (struct sockaddr *)&s6, sizeof(s6)) != 0)
				port = -1;
			if (u6 >= 0)
				close(u6);
			if (t6 >= 0)
				close(t6);
		}
		if (u >= 0)
			close(u);
		if (t >= 0)
			close(t);
		if (port > 0)
			return port;
	}
	return -1;
}

static bool have_ipv6_loopback(void)
{
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	int s = socket(AF_INET6, SOCK_DGRAM, 0);
	bool ok = s >= 0 && bind(s, (struct sockaddr *)&s6, sizeof(s6)) == 0;

	if (s >= 0)
		close(s);
	return ok;
}

/* Whether knotd answers authoritatively (AA, NOERROR) for zone's SOA. */
static bool knot_serves(const char *zone)
{
	ldns_resolver *r = ldns_resolver_new();
	ldns_rdf *ns = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, "127.0.0.1");
	ldns_pkt *q = ldns_pkt_query_new(ldns_dname_new_frm_str(zone), LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, 0);
	ldns_pkt *a = NULL;
	bool ok = false;

	if (r == NULL || ns == NULL || q == NULL || ldns_resolver_push_nameserver(r, ns) != LDNS_STATUS_OK)
		goto cleanup;
	ldns_resolver_set_port(r, (uint16_t)env.port);
	ldns_resolver_set_retry(r, 1);
	ldns_resolver_set_timeout(r, (struct timeval){.tv_sec = 0, .tv_usec = 200000});
	if (ldns_resolver_send_pkt(&a, r, q) == LDNS_STATUS_OK && a != NULL)
		ok = ldns_pkt_get_rcode(a) == LDNS_RCODE_NOERROR && ldns_pkt_aa(a);
cleanup:
	ldns_pkt_free(a);
	ldns_pkt_free(q);
	ldns_rdf_deep_free(ns);
	ldns_resolver_deep_free(r);
	return ok;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void stop_knot(void)
{
	if (env.knot > 0) {
		int status;

		kill(env.knot, SIGTERM);
		for (int i = 0; i < 100; i++) {
			if (waitpid(env.knot, &status, WNOHANG) == env.knot) {
				env.knot = -1;
				break;
			}
			usleep(50000);
		}
		if (env.knot > 0) {
			kill(env.knot, SIGKILL);
			waitpid(env.knot, &status, 0);
			env.knot = -1;
		}
	}
}

static int group_teardown(void **state)
{
	stop_knot();
	if (env.dead_fd >= 0)
		close(env.dead_fd);
	env.dead_fd = -1;
	if (env.dir[0] != '\0')
		nftw(env.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	env.dir[0] = '\0';
	return 0;
}

static int group_setup(void **state)
{
	char conf[1024], path[128];
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	pid_t parent = getpid();

	snprintf(env.dir, sizeof(env.dir), "/tmp/rdns-test-verify-XXXXXX");
	if (mkdtemp(env.dir) == NULL) {
		env.dir[0] = '\0';
		return -1;
	}
	env.v6 = have_ipv6_loopback();
	env.port = free_port(env.v6);
	if (env.port < 0)
		goto fail;
	if (env.v6)
		snprintf(conf, sizeof(conf), "server:\n  rundir: %s\n  listen: [ 127.0.0.1@%d, ::1@%d ]\n",
		         env.dir, env.port, env.port);
	else
		snprintf(conf, sizeof(conf), "server:\n  rundir: %s\n  listen: 127.0.0.1@%d\n", env.dir,
		         env.port);
	snprintf(conf + strlen(conf), sizeof(conf) - strlen(conf),
	         "database:\n  storage: %s\n"
	         "log:\n  - target: stderr\n    any: warning\n"
	         "template:\n  - id: default\n    storage: %s\n"
	         "zone:\n  - domain: example.com\n    file: example.com.zone\n"
	         "  - domain: example.net\n    file: example.net.zone\n",
	         env.dir, env.dir);
	/* ZONE_COM plus "big": 150 A records, the last one 192.0.2.10; its answer (about
	 * 2.4 KB) does not fit a 1232-octet UDP answer, so the verifier must go on over TCP. */
	static char zone_com[sizeof(ZONE_COM) + 150 * 48];
	size_t zl = (size_t)snprintf(zone_com, sizeof(zone_com), "%s", ZONE_COM);
	for (int i = 1; i < 150; i++)
		zl += (size_t)snprintf(zone_com + zl, sizeof(zone_com) - zl, "big A 198.51.100.%d\n", i);
	snprintf(zone_com + zl, sizeof(zone_com) - zl, "big A 192.0.2.10\n");
	if (write_file(env.dir, "knot.conf", conf) != 0 ||
	    write_file(env.dir, "example.com.zone", zone_com) != 0 ||
	    write_file(env.dir, "example.net.zone", ZONE_NET) != 0)
		goto fail;

	env.knot = fork();
	if (env.knot < 0)
		goto fail;
	if (env.knot == 0) {
		int log;

		/* die with the test program, whatever happens to it */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		snprintf(path, sizeof(path), "%s/knotd.log", env.dir);
		log = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (log >= 0) {
			dup2(log, 1);
			dup2(log, 2);
		}
		snprintf(path, sizeof(path), "%s/knot.conf", env.dir);
		execl(KNOTD, "knotd", "-c", path, (char *)NULL);
		_exit(127);
	}
	snprintf(env.resolver, sizeof(env.resolver), "127.0.0.1:%d", env.port);
	snprintf(env.resolver6, sizeof(env.resolver6), "[::1]:%d", env.port);

	/* wait until both zones are served */
	for (int64_t until = now_ms() + 15000;;) {
		if (knot_serves("example.com.") && knot_serves("example.net."))
			break;
		if (now_ms() > until || waitpid(env.knot, NULL, WNOHANG) == env.knot) {
			fprintf(stderr, "knotd did not come up; see %s/knotd.log\n", env.dir);
			goto fail;
		}
		usleep(50000);
	}

	env.dead_fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (env.dead_fd < 0 || bind(env.dead_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(env.dead_fd, (struct sockaddr *)&sa, &sl) != 0)
		goto fail;
	snprintf(env.dead, sizeof(env.dead), "127.0.0.1:%d", ntohs(sa.sin_port));
	return 0;
fail:
	group_teardown(state);
	return -1;
}

/* ---- helpers ---- */

static const vf_check_t *find_check(const vf_verdict_t *v, const char *id)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->checks[i].id, id) == 0)
			return &v->checks[i];
	return NULL;
}

static vf_verify_conf_t knot_conf(const char *const *resolvers, size_t n)
{
	vf_verify_conf_t c = {
	    .resolvers = resolvers,
	    .n_resolvers = n,
	    .query_timeout_ms = 1000,
	    .retries = 2,
	    .deadline_ms = 5000,
	};
	return c;
}

static void run(const vf_verify_conf_t *conf, const char *ip, const char *host, bool skip, vf_verdict_t *v)
{
	core_addr_t a;

	assert_int_equal(core_addr_parse(ip, &a), RDNS_OK);
	assert_int_equal(vf_verify(conf, &a, host, skip, v), RDNS_OK);
}

/* ---- forward checks against knotd (a table) ---- */

typedef struct {
	const char *ip;
	const char *host;
	vf_check_status_t forward;
	const char *detail;    /* exact forward detail, or NULL */
	const char *contains;  /* a fragment of the forward detail, or NULL */
	const char *next_step; /* a fragment of the forward next step, or NULL */
	const char *found;     /* exact found text, or NULL */
} fwd_case_t;

static const fwd_case_t fwd_cases[] = {
    /* match */
    {"192.0.2.10", "mail.example.com", VF_CHECK_PASS, "mail.example.com has A 192.0.2.10", NULL, NULL,
     "192.0.2.10"},
    /* case and trailing dot do not matter */
    {"192.0.2.10", "MAIL.Example.COM.", VF_CHECK_PASS, "mail.example.com has A 192.0.2.10", NULL, NULL,
     "192.0.2.10"},
    /* mismatch */
    {"192.0.2.10", "wrong.example.com", VF_CHECK_FAIL,
     "wrong.example.com has A 198.51.100.20, not 192.0.2.10", NULL,
     "Add or correct the A record of wrong.example.com so that it points to 192.0.2.10, then retry.",
     "198.51.100.20"},
    /* NXDOMAIN */
    {"192.0.2.10", "nosuch.example.com", VF_CHECK_FAIL, "nosuch.example.com does not exist (NXDOMAIN)", NULL,
     "nosuch.example.com pointing to 192.0.2.10", ""},
    /* NODATA */
    {"192.0.2.10", "txtonly.example.com", VF_CHECK_FAIL, "txtonly.example.com exists but has no A record",
     NULL, "Add an A record for txtonly.example.com pointing to 192.0.2.10", ""},
    /* two CNAME hops inside the zone */
    {"192.0.2.10", "c1.example.com", VF_CHECK_PASS,
     "c1.example.com is an alias (CNAME) of mail.example.com (via c2.example.com), which has A 192.0.2.10",
     NULL, NULL, "192.0.2.10"},
    /* CNAME into the second zone: the target must be asked for */
    {"192.0.2.10", "ext.example.com", VF_CHECK_PASS,
     "ext.example.com is an alias (CNAME) of host.example.net, which has A 192.0.2.10", NULL, NULL,
     "192.0.2.10"},
    {"2001:db8::10", "ext.example.com", VF_CHECK_PASS,
     "ext.example.com is an alias (CNAME) of host.example.net, which has AAAA 2001:db8::10", NULL, NULL,
     "2001:db8::10"},
    /* CNAME into the second zone, wrong address there */
    {"192.0.2.10", "extwrong.example.com", VF_CHECK_FAIL,
     "extwrong.example.com is an alias (CNAME) of other.example.net, which has A 203.0.113.5, not 192.0.2.10",
     NULL, "A record of other.example.net (the alias target of extwrong.example.com)", "203.0.113.5"},
    /* CNAME to a name that does not exist */
    {"192.0.2.10", "dangling.example.com", VF_CHECK_FAIL,
     "dangling.example.com is an alias (CNAME) of gone.example.com, which does not exist (NXDOMAIN)", NULL,
     "gone.example.com pointing to 192.0.2.10", ""},
    /* CNAME loop */
    {"192.0.2.10", "loop1.example.com", VF_CHECK_FAIL,
     "loop1.example.com leads into an alias (CNAME) loop: loop1.example.com -> loop2.example.com -> "
     "loop1.example.com",
     NULL, "Fix the CNAME records", ""},
    /* eight hops is the most followed, nine is too many */
    {"192.0.2.10", "long1.example.com", VF_CHECK_PASS, NULL, "which has A 192.0.2.10", NULL, "192.0.2.10"},
    {"192.0.2.10", "long0.example.com", VF_CHECK_FAIL, NULL, "follows more than 8 aliases (CNAME)", NULL, ""},
    /* IPv6 */
    {"2001:db8::10", "v6.example.com", VF_CHECK_PASS, "v6.example.com has AAAA 2001:db8::10", NULL, NULL,
     "2001:db8::10"},
    {"2001:DB8:0:0::10", "v6.example.com", VF_CHECK_PASS, "v6.example.com has AAAA 2001:db8::10", NULL, NULL,
     "2001:db8::10"},
    {"2001:db8::11", "v6.example.com", VF_CHECK_FAIL,
     "v6.example.com has AAAA 2001:db8::10, not 2001:db8::11", NULL,
     "Add or correct the AAAA record of v6.example.com so that it points to 2001:db8::11", "2001:db8::10"},
    {"2001:db8::10", "mail.example.com", VF_CHECK_FAIL, "mail.example.com exists but has no AAAA record",
     NULL, NULL, ""},
    /* an A record never confirms an IPv6 address: v6 has only AAAA */
    {"192.0.2.10", "v6.example.com", VF_CHECK_FAIL, "v6.example.com exists but has no A record", NULL, NULL,
     ""},
    /* several A records, one of which matches */
    {"192.0.2.10", "multi.example.com", VF_CHECK_PASS, NULL, "multi.example.com has A ", NULL, NULL},
    {"192.0.2.99", "multi.example.com", VF_CHECK_FAIL, NULL, ", not 192.0.2.99", NULL, NULL},
    /* an answer too big for UDP (TC): asked again over TCP; more than 32 addresses */
    {"192.0.2.10", "big.example.com", VF_CHECK_PASS, "big.example.com has A 192.0.2.10 among 150 addresses",
     NULL, NULL, NULL},
    {"192.0.2.99", "big.example.com", VF_CHECK_FAIL, NULL, " and 142 more, not 192.0.2.99", NULL, NULL},
    /* a zone knotd does not serve: it refuses */
    {"192.0.2.10", "mail.example.org", VF_CHECK_FAIL,
     "the resolvers refused to resolve mail.example.org (REFUSED)", NULL, NULL, ""},
};

static void test_forward_table(void **state)
{
	const char *res[] = {env.resolver};
	vf_verify_conf_t conf = knot_conf(res, 1);

	for (size_t i = 0; i < sizeof(fwd_cases) / sizeof(fwd_cases[0]); i++) {
		const fwd_case_t *tc = &fwd_cases[i];
		vf_verdict_t v;
		const vf_check_t *f;

		run(&conf, tc->ip, tc->host, false, &v);
		f = find_check(&v, "forward");
		if (f == NULL || f->status != tc->forward ||
		    (tc->detail && strcmp(f->detail, tc->detail) != 0) ||
		    (tc->contains && strstr(f->detail, tc->contains) == NULL) ||
		    (tc->next_step && strstr(f->next_step, tc->next_step) == NULL) ||
		    (tc->found && strcmp(v.found, tc->found) != 0))
			fail_msg(
			    "case %zu (%s for %s): status %d, detail \"%s\", next_step \"%s\", found \"%s\"",
			    i, tc->host, tc->ip, f ? (int)f->status : -1, f ? f->detail : "(none)",
			    f ? f->next_step : "(none)", v.found);
		assert_int_equal(v.n, 4);
		assert_true(v.syntax_ok);
		assert_string_equal(f->id, "forward");
		assert_int_equal(f->severity, VF_SEV_HIGH);
		assert_int_equal(v.ok, tc->forward != VF_CHECK_FAIL);
		if (tc->forward == VF_CHECK_FAIL)
			assert_true(f->next_step[0] != '\0');
	}
}

static void test_multi_lists_all(void **state)
{
	const char *res[] = {env.resolver};
	vf_verify_conf_t conf = knot_conf(res, 1);
	vf_verdict_t v;

	run(&conf, "192.0.2.99", "multi.example.com", false, &v);
	/* the order is the server's; each address must be named once */
	assert_non_null(strstr(v.found, "192.0.2.10"));
	assert_non_null(strstr(v.found, "192.0.2.11"));
	assert_non_null(strstr(v.found, "192.0.2.12"));
	assert_int_equal(strlen(v.found), strlen("192.0.2.10, 192.0.2.11, 192.0.2.12"));
	assert_non_null(strstr(v.checks[2].detail, v.found));
}

/* ---- the whole verdict ---- */

static void test_pass_verdict(void **state)
{
	const char *res[] = {env.resolver};
	vf_verify_conf_t conf = knot_conf(res, 1);
	vf_verdict_t v;

	run(&conf, "192.0.2.10", "Mail.Example.com", false, &v);
	assert_true(v.ok);
	assert_true(v.syntax_ok);
	assert_string_equal(v.hostname, "mail.example.com");
	assert_int_equal(v.n, 4);
	assert_string_equal(v.checks[0].id, "syntax");
	assert_string_equal(v.checks[1].id, "policy");
	assert_string_equal(v.checks[2].id, "forward");
	assert_string_equal(v.checks[3].id, "generic");
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(v.checks[i].status, VF_CHECK_PASS);
	assert_int_equal(v.checks[0].severity, VF_SEV_HIGH);
	assert_int_equal(v.checks[1].severity, VF_SEV_HIGH);
	assert_int_equal(v.checks[3].severity, VF_SEV_LOW);
}

static void test_generic_warns_but_ok(void **state)
{
	const char *res[] = {env.resolver};
	vf_verify_conf_t conf = knot_conf(res, 1);
	vf_verdict_t v;

	run(&conf, "192.0.2.10", "host-192-0-2-10.example.com", false, &v);
	assert_int_equal(v.n, 4);
	assert_int_equal(v.checks[2].status, VF_CHECK_PASS);
	assert_string_equal(v.checks[3].id, "generic");
	assert_int_equal(v.checks[3].status, VF_CHECK_WARN);
	assert_int_equal(v.checks[3].severity, VF_SEV_LOW);
	assert_non_null(strstr(v.checks[3].detail, "192.0.2.10"));
	assert_non_null(strstr(v.checks[3].next_step, "residential"));
	assert_true(v.ok);
	assert_true(v.syntax_ok);
}

typedef struct {
	const char *host;
	const char *reason; /* fragment of the syntax detail */
} syntax_case_t;

static void test_syntax_failure_skips_rest(void **state)
{
	static const syntax_case_t cases[] = {
	    {"bad_name.example.com", "underscore"},
	    {"", "empty"},
	    {"localhost", "single label"},
	    {"mail..example.com", "empty label"},
	    {"mail example.com", "space"},
	    {"-mail.example.com", "hyphen"},
	    {"192.0.2.10", "numeric"},
	};
	/* a resolver that never answers: a syntax failure must not query */
	const char *res[] = {env.dead};
	vf_verify_conf_t conf = knot_conf(res, 1);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vf_verdict_t v;
		int64_t t0 = now_ms();

		run(&conf, "192.0.2.10", cases[i].host, false, &v);
		assert_true(now_ms() - t0 < 500); /* no query: an attempt would take 1000 ms */
		assert_int_equal(v.n, 1);
		assert_string_equal(v.checks[0].id, "syntax");
		assert_int_equal(v.checks[0].status, VF_CHECK_FAIL);
		if (strstr(v.checks[0].detail, cases[i].reason) == NULL)
			fail_msg("\"%s\": detail \"%s\" lacks \"%s\"", cases[i].host, v.checks[0].detail,
			         cases[i].reason);
		assert_non_null(strstr(v.checks[0].next_step, "mail.example.com"));
		assert_false(v.ok);
		assert_false(v.syntax_ok);
		assert_string_equal(v.hostname, "");
		assert_string_equal(v.found, "");
	}
}

static void test_policy_special(void **state)
{
	const char *res[] = {env.dead};
	vf_verify_conf_t conf = knot_conf(res, 1);
	vf_verdict_t v;

	run(&conf, "192.0.2.10", "host.local", false, &v);
	assert_int_equal(v.n, 3);
	assert_string_equal(v.checks[0].id, "syntax");
	assert_int_equal(v.checks[0].status, VF_CHECK_PASS);
	assert_string_equal(v.checks[1].id, "policy");
	assert_int_equal(v.checks[1].status, VF_CHECK_FAIL);
	assert_int_equal(v.checks[1].severity, VF_SEV_HIGH);
	assert_non_null(strstr(v.checks[1].detail, "'local'"));
	assert_true(v.checks[1].next_step[0] != '\0');
	assert_string_equal(v.checks[2].id, "generic"); /* forward omitted */
	assert_null(find_check(&v, "forward"));
	assert_false(v.ok);
	assert_false(v.syntax_ok);

	/* a custom special list replaces the default */
	static const char *const special[] = {"corp.example.com"};
	conf.special = special;
	conf.n_special = 1;
	run(&conf, "192.0.2.10", "x.corp.example.com", false, &v);
	assert_int_equal(v.checks[1].status, VF_CHECK_FAIL);
	assert_non_null(strstr(v.checks[1].detail, "'corp.example.com'"));
	conf.resolvers = (const char *const[]){env.resolver};
	run(&conf, "192.0.2.10", "host.local", false, &v);
	assert_int_equal(v.checks[1].status, VF_CHECK_PASS); /* "local" no longer listed */
}

static void test_policy_denied(void **state)
{
	static const char *const denied[] = {"example.org", "example.net"};
	const char *res[] = {env.resolver};
	vf_verify_conf_t conf = knot_conf(res, 1);
	vf_verdict_t v;

	conf.denied = denied;
	conf.n_denied = 2;
	run(&conf, "192.0.2.10", "host.example.net", false, &v);
	assert_int_equal(v.checks[1].status, VF_CHECK_FAIL);
	assert_non_null(strstr(v.checks[1].detail, "'example.net'"));
	assert_non_null(strstr(v.checks[1].detail, "does not allow"));
	assert_null(find_check(&v, "forward"));
	assert_false(v.syntax_ok);
	assert_false(v.ok);

	/* a staff force does not override policy */
	run(&conf, "192.0.2.10", "host.example.net", true, &v);
	assert_false(v.syntax_ok);
	assert_null(find_check(&v, "forward"));

	/* label boundary: notexample.net is not under example.net */
	run(&conf, "192.0.2.10", "mail.notexample.net", false, &v);
	assert_int_equal(v.checks[1].status, VF_CHECK_PASS);
	assert_true(v.syntax_ok);

	/* and a CNAME into a denied domain is not a policy matter */
	run(&conf, "192.0.2.10", "ext.example.com", false, &v);
	assert_true(v.ok);
}

static void test_skip_forward(void **state)
{
	const char *res[] = {env.dead};
	vf_verify_conf_t conf = knot_conf(res, 1);
	vf_verdict_t v;
	int64_t t0 = now_ms();

	/* the name does not even exist: a forced change still goes through */
	run(&conf, "192.0.2.10", "nosuch.example.com", true, &v);
	assert_true(now_ms() - t0 < 500); /* no query sent to the dead resolver (1000 ms an attempt) */
	assert_int_equal(v.n, 4);
	assert_string_equal(v.checks[2].id, "forward");
	assert_int_equal(v.checks[2].status, VF_CHECK_WARN);
	assert_string_equal(v.checks[2].detail, "skipped (forced by staff)");
	assert_true(v.ok);
	assert_true(v.syntax_ok);
	assert_string_equal(v.found, "");
}

/* ---- resolvers that do not answer ---- */

static void test_timeout_deadline(void **state)
{
	const char *res[] = {env.dead};
	vf_verify_conf_t conf = knot_conf(res, 1);
	vf_verdict_t v;
	int64_t t0, el;

	conf.deadline_ms = 1500;
	t0 = now_ms();
	run(&conf, "192.0.2.10", "mail.example.com", false, &v);
	el = now_ms() - t0;
	assert_true(el < 1500 + 500);
	assert_true(el >= 1400); /* it did wait: 1000 ms, then the remaining 500 */
	assert_int_equal(v.checks[2].status, VF_CHECK_FAIL);
	char want[160];
	snprintf(want, sizeof(want), "timeout: no answer from the resolvers within 1500 ms (%s)", env.dead);
	assert_string_equal(v.checks[2].detail, want);
	assert_true(v.checks[2].next_step[0] != '\0');
	assert_false(v.ok);
	assert_true(v.syntax_ok);
}

static void test_timeout_attempts_exhausted(void **state)
{
	const char *res[] = {env.dead};
	vf_verify_conf_t conf = knot_conf(res, 1);
	vf_verdict_t v;
	int64_t t0, el;

	/* 2 attempts of 200 ms, well within the deadline */
	conf.query_timeout_ms = 200;
	conf.retries = 1;
	t0 = now_ms();
	run(&conf, "192.0.2.10", "mail.example.com", false, &v);
	el = now_ms() - t0;
	assert_true(el >= 380 && el < 1000);
	assert_int_equal(v.checks[2].status, VF_CHECK_FAIL);
	assert_int_equal(strncmp(v.checks[2].detail, "timeout: no answer from the resolvers within ", 45), 0);
}

static void test_failover_to_second_resolver(void **state)
{
	const char *res[] = {env.dead, env.resolver};
	vf_verify_conf_t conf = knot_conf(res, 2);
	vf_verdict_t v;
	int64_t t0 = now_ms(), el;

	conf.query_timeout_ms = 300;
	run(&conf, "192.0.2.10", "c1.example.com", false, &v);
	el = now_ms() - t0;
	assert_int_equal(v.checks[2].status, VF_CHECK_PASS);
	assert_true(v.ok);
	/* c1 is answered with its whole chain: one dead attempt, then knotd */
	assert_true(el >= 280 && el < 1500);
}

/* ---- forged and stray datagrams ---- */

/* A resolver in front of knotd that, for each query, first sends forgeries (a runt, the
 * query echoed with QR set and the wrong ID) and then, unless forge_only, knotd's answer. */
typedef struct {
	int fd;
	int port;
	bool forge_only;
	bool trunc_only; /* answer every query with an empty truncated answer (TC) instead */
	int queries;
} relay_t;

static void *relay_main(void *arg)
{
	relay_t *r = arg;
	uint8_t q[1500], a[4096];
	for (;;) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(r->fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
		if (n < 12)
			return NULL; /* closed by the test */
		r->queries++;
		if (r->trunc_only) {
			q[2] |= 0x82; /* QR, TC */
			sendto(r->fd, q, (size_t)n, 0, (struct sockaddr *)&from, fl);
			continue;
		}
		uint8_t forged[1500];
		memcpy(forged, q, (size_t)n);
		forged[2] |= 0x80;                    /* QR */
		forged[1] = (uint8_t)(forged[1] + 1); /* another ID */
		sendto(r->fd, "\x01\x02\x03", 3, 0, (struct sockaddr *)&from, fl);
		sendto(r->fd, forged, (size_t)n, 0, (struct sockaddr *)&from, fl);
		if (r->forge_only)
			continue;
		int up = socket(AF_INET, SOCK_DGRAM, 0);
		struct sockaddr_in k = {.sin_family = AF_INET,
		                        .sin_port = htons((uint16_t)env.port),
		                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		struct timeval tv = {2, 0};
		setsockopt(up, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		ssize_t m = -1;
		if (connect(up, (struct sockaddr *)&k, sizeof(k)) == 0 && send(up, q, (size_t)n, 0) == n)
			m = recv(up, a, sizeof(a), 0);
		close(up);
		if (m > 0)
			sendto(r->fd, a, (size_t)m, 0, (struct sockaddr *)&from, fl);
	}
}

static void relay_start(relay_t *r, pthread_t *th, bool forge_only, bool trunc_only)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	memset(r, 0, sizeof(*r));
	r->forge_only = forge_only;
	r->trunc_only = trunc_only;
	r->fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(r->fd >= 0);
	assert_int_equal(bind(r->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(r->fd, (struct sockaddr *)&sa, &sl), 0);
	r->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(th, NULL, relay_main, r), 0);
}

static void relay_stop(relay_t *r, pthread_t th)
{
	shutdown(r->fd, SHUT_RDWR); /* wakes recvfrom on Linux */
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons((uint16_t)r->port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	sendto(s, "", 0, 0, (struct sockaddr *)&sa, sizeof(sa)); /* and if not, a runt does */
	close(s);
	assert_int_equal(pthread_join(th, NULL), 0);
	close(r->fd);
}

static void test_forged_datagrams_are_ignored(void **state)
{
	relay_t r;
	pthread_t th;
	char addr[32];
	const char *res[] = {addr};
	vf_verdict_t v;

	relay_start(&r, &th, false, false);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", r.port);
	vf_verify_conf_t conf = knot_conf(res, 1);
	conf.retries = 0;
	int64_t t0 = now_ms();
	run(&conf, "192.0.2.10", "mail.example.com", false, &v);
	assert_int_equal(v.checks[2].status, VF_CHECK_PASS);
	assert_string_equal(v.checks[2].detail, "mail.example.com has A 192.0.2.10");
	assert_true(now_ms() - t0 < 900); /* the real answer was taken, no timeout waited */
	relay_stop(&r, th);
	assert_int_equal(r.queries, 1);

	/* Only forgeries: the lookup waits for a real answer, then says what it got. */
	relay_start(&r, &th, true, false);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", r.port);
	conf.query_timeout_ms = 300;
	t0 = now_ms();
	run(&conf, "192.0.2.10", "mail.example.com", false, &v);
	assert_true(now_ms() - t0 >= 280);
	assert_int_equal(v.checks[2].status, VF_CHECK_FAIL);
	assert_string_equal(v.checks[2].detail, "the resolvers sent no valid answer for mail.example.com");
	relay_stop(&r, th);
}

/* ---- resolvers that refuse or cannot be reached ---- */

/* "127.0.0.1:PORT" of a port where nothing listens (UDP nor TCP): queries there are
 * answered by ICMP port unreachable, connections by a reset. */
static void closed_port(char *buf, size_t len)
{
	int port = free_port(false);

	assert_true(port > 0);
	snprintf(buf, len, "127.0.0.1:%d", port);
}

static void test_refused_resolver(void **state)
{
	char closed[32], want[256];
	const char *res[] = {closed};
	vf_verify_conf_t conf;
	vf_verdict_t v;
	int64_t t0;

	closed_port(closed, sizeof(closed));
	conf = knot_conf(res, 1);
	t0 = now_ms();
	run(&conf, "192.0.2.10", "mail.example.com", false, &v);
	/* told at once, from the ICMP error on the connected socket, not after the timeouts */
	assert_true(now_ms() - t0 < 500);
	assert_int_equal(v.checks[2].status, VF_CHECK_FAIL);
	snprintf(want, sizeof(want),
	         "the provider's resolvers could not be asked about mail.example.com: %s refused the query "
	         "(connection refused: nothing answers on that port)",
	         closed);
	assert_string_equal(v.checks[2].detail, want);
	assert_non_null(strstr(v.checks[2].next_step, "provider's resolver configuration"));
	assert_non_null(strstr(v.checks[2].next_step, "not in the name servers of mail.example.com"));
	assert_null(strstr(v.checks[2].detail, "timeout"));
	assert_false(v.ok);
	assert_true(v.syntax_ok);
}

static void test_refused_and_silent_resolvers(void **state)
{
	char closed[32], head[160], tail[256];
	const char *res[] = {env.dead, closed};
	vf_verify_conf_t conf;
	vf_verdict_t v;
	int64_t t0, el;
	int ms = -1;

	closed_port(closed, sizeof(closed));
	conf = knot_conf(res, 2);
	conf.query_timeout_ms = 200;
	conf.retries = 1;
	t0 = now_ms();
	run(&conf, "192.0.2.10", "mail.example.com", false, &v);
	el = now_ms() - t0;
	assert_int_equal(v.checks[2].status, VF_CHECK_FAIL);
	/* one resolver did not answer in time: a timeout, with the real time waited (2 x 200 ms),
	 * and the one that refused named too */
	assert_int_equal(
	    sscanf(v.checks[2].detail, "timeout: no answer from the resolvers within %d ms", &ms), 1);
	assert_true(ms >= 380 && ms <= el + 1);
	snprintf(head, sizeof(head), "timeout: no answer from the resolvers within %d ms (%s); ", ms,
	         env.dead);
	snprintf(tail, sizeof(tail),
	         "%s refused the query (connection refused: nothing answers on that port)", closed);
	assert_int_equal(strncmp(v.checks[2].detail, head, strlen(head)), 0);
	assert_string_equal(v.checks[2].detail + strlen(head), tail);
}

static void test_tcp_connection_refused(void **state)
{
	relay_t r;
	pthread_t th;
	char addr[32], want[256];
	const char *res[] = {addr};
	vf_verdict_t v;
	int64_t t0;

	/* UDP answers are truncated, and nothing listens on TCP: the TCP retry is refused */
	relay_start(&r, &th, false, true);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", r.port);
	vf_verify_conf_t conf = knot_conf(res, 1);
	conf.retries = 0;
	t0 = now_ms();
	run(&conf, "192.0.2.10", "mail.example.com", false, &v);
	assert_true(now_ms() - t0 < 500);
	relay_stop(&r, th);
	assert_int_equal(r.queries, 1);
	assert_int_equal(v.checks[2].status, VF_CHECK_FAIL);
	snprintf(want, sizeof(want),
	         "the provider's resolvers could not be asked about mail.example.com: %s refused the query "
	         "(connection refused: nothing answers on that port)",
	         addr);
	assert_string_equal(v.checks[2].detail, want);
}

static void test_resolver_forms(void **state)
{
	vf_verdict_t v;
	core_addr_t a;
	char port_only[48];

	assert_int_equal(core_addr_parse("192.0.2.10", &a), RDNS_OK);
	static const char *const bad[] = {"not-an-ip",       "[::1",         "[::1]x",        "127.0.0.1:0",
	                                  "127.0.0.1:65536", "127.0.0.1:",   "127.0.0.1:53x", "",
	                                  "[]:53",           "[127.0.0.1]:x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *res[] = {bad[i]};
		vf_verify_conf_t conf = knot_conf(res, 1);

		if (vf_verify(&conf, &a, "mail.example.com", false, &v) != RDNS_ECONFIG)
			fail_msg("resolver \"%s\" was accepted", bad[i]);
	}
	if (env.v6) {
		const char *res[] = {env.resolver6};
		vf_verify_conf_t conf = knot_conf(res, 1);

		run(&conf, "192.0.2.10", "mail.example.com", false, &v);
		assert_int_equal(v.checks[2].status, VF_CHECK_PASS);
	}
	/* "[v4]:port" is accepted too */
	snprintf(port_only, sizeof(port_only), "[127.0.0.1]:%d", env.port);
	{
		const char *res[] = {port_only};
		vf_verify_conf_t conf = knot_conf(res, 1);

		run(&conf, "192.0.2.10", "mail.example.com", false, &v);
		assert_int_equal(v.checks[2].status, VF_CHECK_PASS);
	}
}

static void test_bad_arguments(void **state)
{
	vf_verdict_t v;
	core_addr_t a = {0};

	assert_int_equal(vf_verify(NULL, NULL, "mail.example.com", true, &v), RDNS_EINVAL);
	assert_int_equal(vf_verify(NULL, &a, "mail.example.com", true, &v), RDNS_EINVAL); /* family 0 */
	assert_int_equal(core_addr_parse("192.0.2.10", &a), RDNS_OK);
	assert_int_equal(vf_verify(NULL, &a, NULL, true, &v), RDNS_EINVAL);
	assert_int_equal(vf_verify(NULL, &a, "mail.example.com", true, NULL), RDNS_EINVAL);
}

/* ---- JSON ---- */

static void test_json(void **state)
{
	const char *res[] = {env.resolver};
	vf_verify_conf_t conf = knot_conf(res, 1);
	vf_verdict_t v;
	json_t *arr, *o;

	run(&conf, "192.0.2.10", "wrong.example.com", false, &v);
	arr = vf_verdict_checks_json(&v);
	assert_non_null(arr);
	assert_true(json_is_array(arr));
	assert_int_equal(json_array_size(arr), 4);
	o = json_array_get(arr, 2);
	assert_string_equal(json_string_value(json_object_get(o, "id")), "forward");
	assert_string_equal(json_string_value(json_object_get(o, "status")), "fail");
	assert_string_equal(json_string_value(json_object_get(o, "severity")), "high");
	assert_string_equal(json_string_value(json_object_get(o, "detail")),
	                    "wrong.example.com has A 198.51.100.20, not 192.0.2.10");
	assert_non_null(strstr(json_string_value(json_object_get(o, "next_step")), "192.0.2.10"));
	assert_int_equal(json_object_size(o), 5);
	o = json_array_get(arr, 3);
	assert_string_equal(json_string_value(json_object_get(o, "severity")), "low");
	assert_string_equal(json_string_value(json_object_get(o, "status")), "pass");
	assert_string_equal(json_string_value(json_object_get(o, "next_step")), "");
	json_decref(arr);

	/* a warning and a short verdict */
	run(&conf, "192.0.2.10", "bad_name", true, &v);
	arr = vf_verdict_checks_json(&v);
	assert_int_equal(json_array_size(arr), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "status")), "fail");
	json_decref(arr);
	run(&conf, "192.0.2.10", "mail.example.com", true, &v);
	arr = vf_verdict_checks_json(&v);
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 2), "status")), "warn");
	json_decref(arr);
}

/* The checks' JSON text is written by hand: every kind of character a detail may
 * carry comes back intact through a JSON parser, and the text is ASCII only. */
static void test_json_text_escaping(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"plain", "plain"},
	    {"", ""},
	    {"quote \" back\\slash /", "quote \" back\\slash /"},
	    {"ctl \n\r\t\b\f \x01\x1f end", "ctl \n\r\t\b\f \x01\x1f end"},
	    {"del \x7f", "del \x7f"},
	    {"utf8 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "utf8 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
	    /* cut inside a character, a stray continuation byte, an overlong form */
	    {"cut \xe2\x82", "cut \xef\xbf\xbd\xef\xbf\xbd"},
	    {"stray \x80 x", "stray \xef\xbf\xbd x"},
	    {"overlong \xc0\xaf", "overlong \xef\xbf\xbd\xef\xbf\xbd"},
	    {"$INCLUDE /etc/passwd ; @ 'x'", "$INCLUDE /etc/passwd ; @ 'x'"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vf_verdict_t v;
		memset(&v, 0, sizeof(v));
		v.n = 2;
		v.checks[0].id = "syntax";
		v.checks[0].status = VF_CHECK_FAIL;
		v.checks[0].severity = VF_SEV_HIGH;
		snprintf(v.checks[0].detail, sizeof(v.checks[0].detail), "%s", cases[i].in);
		snprintf(v.checks[0].next_step, sizeof(v.checks[0].next_step), "next: %s", cases[i].in);
		v.checks[1].id = "generic";
		v.checks[1].status = VF_CHECK_WARN;
		v.checks[1].severity = VF_SEV_LOW;

		char *text = vf_verdict_checks_text(&v);
		assert_non_null(text);
		for (const char *c = text; *c; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x80)
				fail_msg("case %zu: byte 0x%02x in %s", i, (unsigned char)*c, text);
		json_error_t jerr;
		json_t *arr = json_loads(text, 0, &jerr);
		if (!arr)
			fail_msg("case %zu: %s: %s", i, text, jerr.text);
		assert_int_equal(json_array_size(arr), 2);
		json_t *o = json_array_get(arr, 0);
		assert_int_equal(json_object_size(o), 5);
		assert_string_equal(json_string_value(json_object_get(o, "id")), "syntax");
		assert_string_equal(json_string_value(json_object_get(o, "status")), "fail");
		assert_string_equal(json_string_value(json_object_get(o, "severity")), "high");
		assert_string_equal(json_string_value(json_object_get(o, "detail")), cases[i].out);
		char next[600];
		snprintf(next, sizeof(next), "next: %s", cases[i].out);
		assert_string_equal(json_string_value(json_object_get(o, "next_step")), next);
		o = json_array_get(arr, 1);
		assert_string_equal(json_string_value(json_object_get(o, "status")), "warn");
		assert_string_equal(json_string_value(json_object_get(o, "detail")), "");
		json_decref(arr);
		free(text);
	}
	/* no checks at all */
	vf_verdict_t none;
	memset(&none, 0, sizeof(none));
	char *text = vf_verdict_checks_text(&none);
	assert_string_equal(text, "[]");
	free(text);
}

/* ---- many threads at once ---- */

typedef struct {
	int id;
	int failures;
	char msg[600];
} thr_t;

static void *thread_main(void *arg)
{
	thr_t *t = arg;
	const char *res[] = {env.resolver};
	vf_verify_conf_t conf = knot_conf(res, 1);
	static const struct {
		const char *ip, *host;
		vf_check_status_t want;
		const char *found;
	} work[] = {
	    {"192.0.2.10", "mail.example.com", VF_CHECK_PASS, "192.0.2.10"},
	    {"192.0.2.10", "wrong.example.com", VF_CHECK_FAIL, "198.51.100.20"},
	    {"192.0.2.10", "ext.example.com", VF_CHECK_PASS, "192.0.2.10"},
	    {"2001:db8::10", "v6.example.com", VF_CHECK_PASS, "2001:db8::10"},
	    {"192.0.2.10", "nosuch.example.com", VF_CHECK_FAIL, ""},
	    {"192.0.2.10", "c1.example.com", VF_CHECK_PASS, "192.0.2.10"},
	};

	for (int i = 0; i < 30; i++) {
		size_t k = (size_t)(i + t->id) % (sizeof(work) / sizeof(work[0]));
		vf_verdict_t v = {.n = 0};
		core_addr_t a;

		if (core_addr_parse(work[k].ip, &a) != RDNS_OK ||
		    vf_verify(&conf, &a, work[k].host, false, &v) != RDNS_OK || v.n != 4 ||
		    v.checks[2].status != work[k].want || strcmp(v.found, work[k].found) != 0) {
			t->failures++;
			snprintf(t->msg, sizeof(t->msg), "%s: %s", work[k].host,
			         v.n > 2 ? v.checks[2].detail : "?");
		}
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	enum { N = 8 };
	pthread_t th[N];
	thr_t t[N];

	for (int i = 0; i < N; i++) {
		t[i] = (thr_t){.id = i};
		assert_int_equal(pthread_create(&th[i], NULL, thread_main, &t[i]), 0);
	}
	for (int i = 0; i < N; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (int i = 0; i < N; i++)
		if (t[i].failures)
			fail_msg("thread %d: %d failures, last %s", i, t[i].failures, t[i].msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_forward_table),
	    cmocka_unit_test(test_multi_lists_all),
	    cmocka_unit_test(test_pass_verdict),
	    cmocka_unit_test(test_generic_warns_but_ok),
	    cmocka_unit_test(test_syntax_failure_skips_rest),
	    cmocka_unit_test(test_policy_special),
	    cmocka_unit_test(test_policy_denied),
	    cmocka_unit_test(test_skip_forward),
	    cmocka_unit_test(test_timeout_deadline),
	    cmocka_unit_test(test_timeout_attempts_exhausted),
	    cmocka_unit_test(test_failover_to_second_resolver),
	    cmocka_unit_test(test_forged_datagrams_are_ignored),
	    cmocka_unit_test(test_refused_resolver),
	    cmocka_unit_test(test_refused_and_silent_resolvers),
	    cmocka_unit_test(test_tcp_connection_refused),
	    cmocka_unit_test(test_resolver_forms),
	    cmocka_unit_test(test_bad_arguments),
	    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_json_text_escaping),
	    cmocka_unit_test(test_concurrent),
	};

	return cmocka_run_group_tests_name("verify", tests, group_setup, group_teardown);
}
