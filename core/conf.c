/* conf.c - option table, INI file parsing (inih), environment overrides. */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csp.h"
#include "endpoint.h"
#include "err.h"
#include "hostname.h"
#include "tsigkey.h"

#define OFF(f) offsetof(rdns_conf_t, f)
#define LISTEN (CORE_EP_PORT_REQUIRED | CORE_EP_PORT_ZERO)

static const char *const log_levels[] = {"error", "warn", "info", "debug", NULL};
static const char *const on_off[] = {"on", "off", NULL};
static const char *const drift_actions[] = {"keep", "reset", NULL};

const conf_opt_t conf_options[] = {
    {"database_url", CONF_STR, "", 0, 0, OFF(database_url), "both",
     "PostgreSQL connection: libpq conninfo or URI; empty uses libpq's PG* environment defaults", CONF_ANY, 0,
     NULL, 0},
    {"log_level", CONF_STR, "info", 0, 0, OFF(log_level), "both", "error, warn, info or debug", CONF_ENUM, 0,
     log_levels, 0},
    {"metrics", CONF_STR, "on", 0, 0, OFF(metrics), "both",
     "on: count requests, verifications, renders, transfers... for GET /metrics (api_listen, "
     "metrics_listen); off: count nothing and answer GET /metrics 404",
     CONF_ENUM, 0, on_off, 0},
    {"api_listen", CONF_STR, "127.0.0.1:8053", 0, 0, OFF(api_listen), "api",
     "HTTP listen address ip:port ([v6]:port for IPv6)", CONF_ENDPOINT, LISTEN, NULL, 0},
    {"api_threads", CONF_INT, "32", 1, 512, OFF(api_threads), "api",
     "HTTP worker threads; each holds one PostgreSQL connection (plus three per instance: lookups, changes, "
     "rate takes)",
     CONF_ANY, 0, NULL, 0},
    {"api_max_connections", CONF_INT, "1024", 1, 65536, OFF(api_max_connections), "api",
     "maximum concurrent HTTP connections", CONF_ANY, 0, NULL, 0},
    {"api_per_ip_connections", CONF_INT, "32", 0, 65536, OFF(api_per_ip_connections), "api",
     "maximum concurrent HTTP connections from one client address; more are answered 503 and closed "
     "(0: no limit). A trusted proxy's own connections are exempt; with api_proxy_protocol the "
     "addresses it announces are counted",
     CONF_ANY, 0, NULL, 0},
    {"api_idle_timeout", CONF_INT, "30", 1, 3600, OFF(api_idle_timeout), "api",
     "seconds before an idle keep-alive HTTP connection is closed", CONF_ANY, 0, NULL, 0},
    {"api_request_timeout_ms", CONF_INT, "10000", 100, 600000, OFF(api_request_timeout_ms), "api",
     "a request (head and body) must arrive whole within this of its first byte, however slowly it "
     "trickles (408 and close); also the time a client has to take an answer, and a new connection to "
     "start its first request",
     CONF_ANY, 0, NULL, 0},
    {"api_trusted_proxies", CONF_LIST, "", 0, 0, OFF(api_trusted_proxies), "api",
     "addresses or prefixes of the load balancers in front of rdns-api: from them the client's address "
     "is the last X-Forwarded-For entry that is not itself a trusted proxy (or the PROXY header's "
     "source with api_proxy_protocol); from anyone else both are ignored",
     CONF_PREFIX_LIST, 0, NULL, 0},
    {"api_proxy_protocol", CONF_STR, "off", 0, 0, OFF(api_proxy_protocol), "api",
     "on: connections from api_trusted_proxies begin with a PROXY protocol v1 or v2 header (HAProxy's "
     "send-proxy) giving the client's address; off: they do not",
     CONF_ENUM, 0, on_off, 0},
    {"api_sched_slice_us", CONF_INT, "100", 0, 100000, OFF(api_sched_slice_us), "api",
     "time slice the API's threads ask of the Linux scheduler (EEVDF, Linux 6.12+), in microseconds: "
     "a woken worker then runs sooner; 0 keeps the kernel's default",
     CONF_ANY, 0, NULL, 0},
    {"api_tls_cert", CONF_STR, "", 0, 0, OFF(api_tls_cert), "api",
     "PEM file of the HTTPS certificate, the server's first, then its intermediates; with api_tls_key "
     "rdns-api speaks only HTTPS on api_listen (SIGHUP reloads both files); empty: plain HTTP",
     CONF_FILE, 0, NULL, 0},
    {"api_tls_key", CONF_STR, "", 0, 0, OFF(api_tls_key), "api",
     "PEM file of the certificate's private key (unencrypted; keep it private)", CONF_FILE, 0, NULL, 0},
    {"api_tls_priority", CONF_STR, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", 0, 0, OFF(api_tls_priority),
     "api", "GnuTLS priority string of the HTTPS sessions (protocol versions, ciphers)", CONF_NONEMPTY, 0,
     NULL, 0},
    {"rate_limit_writes", CONF_INT, "120", 0, 1000000, OFF(rate_limit_writes), "api",
     "PTR writes per account per minute: a token bucket of that many, refilled continuously, shared by all "
     "instances through PostgreSQL (0: off)",
     CONF_ANY, 0, NULL, 0},
    {"resolvers", CONF_LIST, "", 0, 0, OFF(resolvers), "api,verifier",
     "resolvers for the forward check, ip[:port] list; empty: nameservers of /etc/resolv.conf",
     CONF_ENDPOINT_LIST, CORE_EP_BRACKET_V4, NULL, 0},
    {"verify_timeout_ms", CONF_INT, "1000", 50, 60000, OFF(verify_timeout_ms), "api,verifier",
     "timeout of one forward-check query attempt", CONF_ANY, 0, NULL, 0},
    {"verify_retries", CONF_INT, "2", 0, 10, OFF(verify_retries), "api,verifier",
     "retries of a forward-check query", CONF_ANY, 0, NULL, 0},
    {"verify_deadline_ms", CONF_INT, "5000", 100, 120000, OFF(verify_deadline_ms), "api,verifier",
     "deadline of one whole verification", CONF_ANY, 0, NULL, 0},
    {"verify_inline_ms", CONF_INT, "2", 0, 50, OFF(verify_inline_ms), "api",
     "a verification is first tried on the HTTP worker, its queries given this long in all and no "
     "retry; one not settled by then runs again, whole, on a verification thread (0: always there)",
     CONF_ANY, 0, NULL, 0},
    {"verify_threads", CONF_INT, "32", 1, 1024, OFF(verify_threads), "api",
     "threads that run verifications (their DNS queries), off the HTTP workers", CONF_ANY, 0, NULL, 0},
    {"verify_max_inflight", CONF_INT, "256", 1, 65536, OFF(verify_max_inflight), "api",
     "verifications queued or running at once in this instance; more PUTs are answered 503 with "
     "Retry-After",
     CONF_ANY, 0, NULL, 0},
    {"verify_per_account", CONF_INT, "16", 1, 65536, OFF(verify_per_account), "api",
     "verifications queued or running at once for one customer account; more are answered 429 with "
     "Retry-After (staff are held to verify_max_inflight only)",
     CONF_ANY, 0, NULL, 0},
    /* delegations (issue 16) */
    {"delegation_check_port", CONF_INT, "53", 1, 65535, OFF(delegation_check_port), "api,verifier",
     "port on which the lame-delegation check (a PUT's, and rdns-verifier's re-check) asks a "
     "delegation's name servers for the child zone's SOA",
     CONF_ANY, 0, NULL, 0},
    {"delegation_recheck_interval", CONF_INT, "86400", 0, 315360000, OFF(delegation_recheck_interval),
     "verifier",
     "seconds between two lame-delegation re-checks of each published delegation (spread evenly over "
     "the interval, within reverify_qps); 0: off",
     CONF_ANY, 0, NULL, 0},
    {"special_names", CONF_LIST,
     "localhost local localdomain internal intranet lan home corp private invalid test example onion alt "
     "home.arpa in-addr.arpa ip6.arpa ipv4only.arpa resolver.arpa",
     0, 0, OFF(special_names), "api,verifier", "special-use and internal suffixes a PTR may never point into",
     CONF_SUFFIX_LIST, 0, NULL, 0},
    {"denied_domains", CONF_LIST, "", 0, 0, OFF(denied_domains), "api,verifier",
     "domains customers may not use (the provider's own namespace, brands); suffix match", CONF_SUFFIX_LIST,
     0, NULL, 0},
    /* deliverability diagnostics (issue #18): GET /v1/ptr/{ip}/diagnostics */
    {"diagnose_resolvers", CONF_LIST, "", 0, 0, OFF(diagnose_resolvers), "api",
     "servers asked for the PTR and the zone's serial by the ptr_published diagnostic, ip[:port] list; "
     "empty: the zone's NS, resolved through resolvers",
     CONF_ENDPOINT_LIST, CORE_EP_BRACKET_V4, NULL, 0},
    {"diagnose_deadline_ms", CONF_INT, "8000", 200, 60000, OFF(diagnose_deadline_ms), "api",
     "deadline of one whole diagnosis (its checks run in parallel); a check unfinished by then is skip",
     CONF_ANY, 0, NULL, 0},
    {"diagnose_smtp_port", CONF_INT, "25", 1, 65535, OFF(diagnose_smtp_port), "api",
     "port the helo diagnostic (smtp=1) connects to on the diagnosed address", CONF_ANY, 0, NULL, 0},
    {"diagnose_rate", CONF_INT, "10", 0, 100000, OFF(diagnose_rate), "api",
     "diagnoses per customer account per minute (a token bucket, per rdns-api instance); more are "
     "answered 429 with Retry-After (0: no limit; staff are not limited)",
     CONF_ANY, 0, NULL, 0},
    {"dnsbl_zones", CONF_LIST, "", 0, 0, OFF(dnsbl_zones), "api",
     "DNS blocklist zones the dnsbl diagnostic asks (e.g. zen.spamhaus.org); empty: none. Public lists "
     "have usage terms (volume limits, no queries through public resolvers): read them first",
     CONF_SUFFIX_LIST, 0, NULL, 16},
    {"metrics_allow", CONF_LIST, "127.0.0.0/8 ::1/128", 0, 0, OFF(metrics_allow), "api",
     "addresses or prefixes (the client's, after api_trusted_proxies) that may GET /metrics without a "
     "token; anyone else needs a staff Bearer token",
     CONF_ACL_LIST, 0, NULL, 0},
    /* the web panel (issue 15) */
    {"panel", CONF_STR, "on", 0, 0, OFF(panel), "api",
     "on: serve the web panel under /panel/ (and redirect / there); off: both are 404", CONF_ENUM, 0, on_off,
     0},
    {"panel_frame_ancestors", CONF_LIST, "'none'", 0, 0, OFF(panel_frame_ancestors), "api",
     "who may frame the panel: the sources of its CSP frame-ancestors ('none', 'self', https:, "
     "https://portal.example.com ...); 'none' alone forbids framing",
     CONF_CSP_LIST, 0, NULL, 8},
    {"zone_dir", CONF_STR, "var/zones", 0, 0, OFF(zone_dir), "zonegen",
     "folder the zone files are written to", CONF_NONEMPTY, 0, NULL, 0},
    {"dns_listen", CONF_STR, "127.0.0.1:5300", 0, 0, OFF(dns_listen), "zonegen",
     "hidden primary listen address (queries, SOA, AXFR, IXFR over UDP/TCP); empty: off", CONF_ENDPOINT,
     LISTEN | CONF_F_EMPTY_OK, NULL, 0},
    {"dns_tcp_clients", CONF_INT, "64", 1, 4096, OFF(dns_tcp_clients), "zonegen",
     "TCP connections the hidden primary serves at once (one thread each); more are closed at once; "
     "one from outside transfer_allow and query_allow never takes one (REFUSED to one query within 1 s, then "
     "closed)",
     CONF_ANY, 0, NULL, 0},
    {"dns_tcp_per_address", CONF_INT, "8", 1, 4096, OFF(dns_tcp_per_address), "zonegen",
     "TCP connections one source address may hold on the hidden primary; more are closed at once", CONF_ANY,
     0, NULL, 0},
    {"dns_tcp_idle_timeout_ms", CONF_INT, "10000", 100, 3600000, OFF(dns_tcp_idle_timeout_ms), "zonegen",
     "longest silence on a hidden-primary TCP connection (between queries, inside one, or a stalled "
     "write) before it is closed",
     CONF_ANY, 0, NULL, 0},
    {"dns_tcp_query_timeout_ms", CONF_INT, "10000", 100, 3600000, OFF(dns_tcp_query_timeout_ms), "zonegen",
     "time from the first byte of a query over TCP to its last; a query trickling in slower is cut off",
     CONF_ANY, 0, NULL, 0},
    {"notify", CONF_LIST, "", 0, 0, OFF(notify), "zonegen",
     "NOTIFY targets for every zone: ip[:port][@tsigkey] list (the zone's own targets are added)",
     CONF_ENDPOINT_LIST, CORE_EP_NOTIFY, NULL, CORE_NOTIFY_MAX_TARGETS},
    {"notify_tries", CONF_INT, "8", 1, 100, OFF(notify_tries), "zonegen", "NOTIFY attempts per target",
     CONF_ANY, 0, NULL, 0},
    {"notify_timeout_ms", CONF_INT, "250", 10, 60000, OFF(notify_timeout_ms), "zonegen",
     "first NOTIFY retransmit timeout; doubled each try up to 8 s", CONF_ANY, 0, NULL, 0},
    {"notify_source", CONF_STR, "dns_listen", 0, 0, OFF(notify_source), "zonegen",
     "source address of NOTIFY (secondaries accept NOTIFY only from their primary's address): dns_listen "
     "(the address of dns_listen, for targets of its family; the kernel picks for the other family and for "
     "a wildcard dns_listen), one IPv4 and/or one IPv6 address, or 0 / empty for the kernel's choice",
     CONF_NOTIFY_SOURCE, 0, NULL, 0},
    {"transfer_allow", CONF_LIST, "127.0.0.1 ::1", 0, 0, OFF(transfer_allow), "zonegen",
     "addresses or prefixes allowed to transfer zones (AXFR, IXFR) and to query them", CONF_ACL_LIST, 0, NULL,
     0},
    {"query_allow", CONF_LIST, "", 0, 0, OFF(query_allow), "zonegen",
     "addresses or prefixes allowed to query the hidden primary (PTR, SOA, NS, ...) besides transfer_allow, "
     "which may always query; \"0.0.0.0/0 ::/0\" lets everyone; no transfers",
     CONF_ACL_LIST, 0, NULL, 0},
    {"tsig_keys", CONF_LIST, "", 0, 0, OFF(tsig_keys), "zonegen",
     "TSIG keys name:hmac-sha256:base64secret (secrets: keep this file private)", CONF_TSIG_KEYS, 0, NULL,
     CORE_TSIG_KEYS_MAX},
    {"transfer_tsig_key", CONF_STR, "", 0, 0, OFF(transfer_tsig_key), "zonegen",
     "when set, transfers must be signed with this key", CONF_TSIG_KEYNAME, 0, NULL, 0},
    {"debounce_ms", CONF_INT, "100", 0, 60000, OFF(debounce_ms), "zonegen",
     "the longest gap between two renders of changes: a change renders at once unless a render ran "
     "just before; the gap after a render is its duration, at most this many ms",
     CONF_ANY, 0, NULL, 0},
    {"ixfr_history", CONF_INT, "100", 0, 100000, OFF(ixfr_history), "zonegen",
     "versions of each zone whose differences are kept (zone_dir/<zone>.ixfr) so that IXFR answers a "
     "secondary that far behind incrementally; older serials get the whole zone (0: no history, every IXFR "
     "is answered in full)",
     CONF_ANY, 0, NULL, 0},
    {"ixfr_history_bytes", CONF_INT, "16777216", 0, 1099511627776, OFF(ixfr_history_bytes), "zonegen",
     "most bytes of one zone's IXFR history file; the oldest differences go first, and a difference bigger "
     "than this alone is not kept (0: no history)",
     CONF_ANY, 0, NULL, 0},
    /* #19: a large zone's change served from the difference (zonegen/incr.c) */
    {"incremental_min_records", CONF_INT, "100000", 0, 1000000000, OFF(incremental_min_records), "zonegen",
     "zones with at least this many records serve a change of PTRs from the difference at once and write "
     "their file afterwards (incremental_write_ms); smaller ones, and changes of anything else, render the "
     "whole zone (0: every zone)",
     CONF_ANY, 0, NULL, 0},
    {"incremental_write_ms", CONF_INT, "1000", 0, 600000, OFF(incremental_write_ms), "zonegen",
     "how long after the last change served from the difference its zone file is written (a stream of "
     "changes is written once; at most 4096 names wait)",
     CONF_ANY, 0, NULL, 0},
    {"reconcile_interval", CONF_INT, "300", 1, 86400, OFF(reconcile_interval), "zonegen",
     "seconds between full reconciliations of all zones", CONF_ANY, 0, NULL, 0},
    {"post_write_command", CONF_STR, "", 0, 0, OFF(post_write_command), "zonegen",
     "command run after a zone file is replaced; {zone} and {file} are substituted (e.g. knotc zone-reload "
     "{zone})",
     CONF_ANY, 0, NULL, 0},
    {"metrics_listen", CONF_STR, "", 0, 0, OFF(metrics_listen), "zonegen",
     "ip:port of the HTTP listener answering GET /metrics (Prometheus text); empty: off", CONF_ENDPOINT,
     LISTEN | CONF_F_EMPTY_OK, NULL, 0},
    /* rdns-verifier (issue 18) */
    {"verifier_threads", CONF_INT, "4", 1, 256, OFF(verifier_threads), "verifier",
     "rdns-verifier threads running jobs; each holds one PostgreSQL connection", CONF_ANY, 0, NULL, 0},
    {"verifier_lease_ms", CONF_INT, "120000", 1000, 86400000, OFF(verifier_lease_ms), "verifier",
     "how long a claimed job is the claimer's: a worker that dies mid-job leaves it to another after this; "
     "must exceed verify_deadline_ms",
     CONF_ANY, 0, NULL, 0},
    {"verifier_poll_ms", CONF_INT, "1000", 10, 60000, OFF(verifier_poll_ms), "verifier",
     "how often an idle rdns-verifier thread looks for due jobs", CONF_ANY, 0, NULL, 0},
    {"verify_wait_max", CONF_INT, "86400", 1, 31536000, OFF(verify_wait_max), "api,verifier",
     "seconds a PUT with wait_for_forward waits for forward DNS before it expires", CONF_ANY, 0, NULL, 0},
    {"verify_retry_min_ms", CONF_INT, "30000", 10, 86400000, OFF(verify_retry_min_ms), "api,verifier",
     "first wait before a waiting PTR set is verified again; doubled per try up to verify_retry_max_ms",
     CONF_ANY, 0, NULL, 0},
    {"verify_retry_max_ms", CONF_INT, "1800000", 10, 86400000, OFF(verify_retry_max_ms), "verifier",
     "longest wait between two tries of a waiting PTR set", CONF_ANY, 0, NULL, 0},
    {"reverify_interval", CONF_INT, "604800", 1, 315360000, OFF(reverify_interval), "verifier",
     "seconds between two re-verifications of each custom PTR (spread evenly over the interval)", CONF_ANY, 0,
     NULL, 0},
    {"reverify_qps", CONF_INT, "50", 0, 1000000, OFF(reverify_qps), "verifier",
     "re-verifications (one forward query each, CNAMEs aside) per second across all rdns-verifier "
     "instances, a token bucket in PostgreSQL; 0: no budget",
     CONF_ANY, 0, NULL, 0},
    {"drift_action", CONF_STR, "keep", 0, 0, OFF(drift_action), "verifier",
     "a custom PTR whose forward DNS stopped confirming it (drifted): keep it, or reset it to the zone's "
     "default after drift_grace",
     CONF_ENUM, 0, drift_actions, 0},
    {"drift_grace", CONF_INT, "604800", 0, 315360000, OFF(drift_grace), "verifier",
     "seconds a drifted PTR is kept before drift_action = reset resets it", CONF_ANY, 0, NULL, 0},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL, CONF_ANY, 0, NULL, 0},
};

const conf_opt_t *conf_find(const char *key)
{
	for (const conf_opt_t *o = conf_options; o->key; o++)
		if (strcmp(o->key, key) == 0)
			return o;
	return NULL;
}

void conf_list_free(conf_list_t *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int conf_list_parse(const char *s, conf_list_t *out)
{
	out->v = NULL;
	out->n = 0;
	size_t cap = 0;
	const char *p = s;
	while (*p) {
		while (*p && (isspace((unsigned char)*p) || *p == ','))
			p++;
		const char *b = p;
		while (*p && !isspace((unsigned char)*p) && *p != ',')
			p++;
		if (p == b)
			break;
		if (out->n == cap) {
			cap = cap ? cap * 2 : 4;
			char **nv = realloc(out->v, cap * sizeof(*nv));
			if (!nv)
				goto oom;
			out->v = nv;
		}
		out->v[out->n] = strndup(b, (size_t)(p - b));
		if (!out->v[out->n])
			goto oom;
		out->n++;
	}
	return RDNS_OK;
oom:
	conf_list_free(out);
	return RDNS_ENOMEM;
}

/* ---- checks (conf_check_t) ---- */

/* One item of a list, or a whole scalar value: NULL when good, else why not. */
static const char *check_item(const conf_opt_t *o, const char *v, char *buf, size_t len)
{
	const char *why = NULL;
	core_endpoint_t ep;
	core_prefix_t p;
	switch (o->check) {
	case CONF_ANY: return NULL;
	case CONF_NONEMPTY: return v[0] ? NULL : "must not be empty";
	case CONF_ENUM: {
		size_t n = 0;
		for (const char *const *w = o->words; *w; w++) {
			if (strcmp(v, *w) == 0)
				return NULL;
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s",
			                      n ? ", " : "is not one of ", *w);
		}
		return buf;
	}
	case CONF_ENDPOINT:
		if (!v[0] && (o->flags & CONF_F_EMPTY_OK))
			return NULL;
		/* fall through */
	case CONF_ENDPOINT_LIST:
		if (core_endpoint_parse(v, o->flags & ~CONF_F_EMPTY_OK, 53, &ep, &why) != RDNS_OK)
			return why ? why : "not an address";
		return NULL;
	case CONF_PREFIX_LIST:
		return core_prefix_parse(v, &p) == RDNS_OK ? NULL
		                                           : "is not an address or prefix (addr/len without "
		                                             "host bits, length without sign or "
		                                             "leading zero)";
	case CONF_ACL_LIST:
		return core_prefix_parse_acl(v, &p) == RDNS_OK
		           ? NULL
		           : "is not an address or prefix (addr/len, without host bits beyond the length)";
	case CONF_SUFFIX_LIST: {
		/* a suffix may be one label ("local"): check it as the name "x.<suffix>" */
		char name[CORE_HOSTNAME_MAX + 2];
		const char *reason = NULL;
		if (!v[0] || v[0] == '.' || strlen(v) + 2 >= sizeof(name))
			return "is not a domain name";
		snprintf(name, sizeof(name), "x.%s", v);
		if (core_hostname_normalize(name, name, sizeof(name), &reason) != RDNS_OK)
			return reason ? reason : "is not a domain name";
		return NULL;
	}
	case CONF_TSIG_KEYS: {
		core_tsig_key_t k;
		int rc = core_tsig_key_parse(v, &k, &why);
		OPENSSL_cleanse(&k, sizeof(k));
		return rc == RDNS_OK ? NULL : why;
	}
	case CONF_TSIG_KEYNAME:
		return !v[0] || core_tsig_keyname_ok(v)
		           ? NULL
		           : "is not a TSIG key name (1 to 63 letters, digits, '-', "
		             "'_' or '.')";
	case CONF_NOTIFY_SOURCE: {
		/* dns_listen is checked against it once both are known (conf_check_refs) */
		core_addr_t src[2];
		if (strcmp(v, "dns_listen") == 0)
			return NULL;
		return core_notify_source_parse(v, NULL, src, &why) == RDNS_OK ? NULL : why;
	}
	case CONF_CSP_LIST: return core_csp_source_ok(v, &why) ? NULL : why;
	case CONF_FILE: {
		struct stat st;
		if (!v[0])
			return NULL;
		if (stat(v, &st) != 0 || access(v, R_OK) != 0) {
			snprintf(buf, len, "cannot be read: %s", strerror(errno));
			return buf;
		}
		return S_ISREG(st.st_mode) ? NULL : "is not a regular file";
	}
	}
	return NULL;
}

int conf_check_value(const conf_opt_t *o, const char *value, char *err, size_t errlen)
{
	char buf[160];
	if (o->type != CONF_LIST) {
		const char *why = check_item(o, value, buf, sizeof(buf));
		if (!why)
			return RDNS_OK;
		snprintf(err, errlen, "%s: '%s': %s", o->key, value, why);
		return RDNS_EINVAL;
	}
	conf_list_t l;
	if (conf_list_parse(value, &l) != RDNS_OK) {
		snprintf(err, errlen, "%s: out of memory", o->key);
		return RDNS_ENOMEM;
	}
	int rc = RDNS_OK;
	if (o->max_items && l.n > o->max_items) {
		snprintf(err, errlen, "%s: %zu entries, at most %zu", o->key, l.n, o->max_items);
		rc = RDNS_EINVAL;
	}
	for (size_t i = 0; rc == RDNS_OK && i < l.n; i++) {
		const char *why = check_item(o, l.v[i], buf, sizeof(buf));
		if (!why)
			continue;
		if (o->check == CONF_TSIG_KEYS) { /* never the secret */
			core_tsig_key_t k;
			core_tsig_key_parse(l.v[i], &k, NULL);
			if (k.name[0])
				snprintf(err, errlen, "%s: entry %zu (key '%s'): %s", o->key, i + 1, k.name,
				         why);
			else
				snprintf(err, errlen, "%s: entry %zu: %s", o->key, i + 1, why);
			OPENSSL_cleanse(&k, sizeof(k));
		} else {
			snprintf(err, errlen, "%s: '%s': %s", o->key, l.v[i], why);
		}
		rc = RDNS_EINVAL;
	}
	conf_list_free(&l);
	return rc;
}

static bool has_key(const rdns_conf_t *c, const char *name)
{
	bool found = false;
	for (size_t i = 0; i < c->tsig_keys.n && !found; i++) {
		core_tsig_key_t k;
		found =
		    core_tsig_key_parse(c->tsig_keys.v[i], &k, NULL) == RDNS_OK && strcmp(k.name, name) == 0;
		OPENSSL_cleanse(&k, sizeof(k));
	}
	return found;
}

int conf_check_refs(const rdns_conf_t *c, char *err, size_t errlen)
{
	const char *why = NULL;
	core_addr_t src[2];
	if (core_notify_source_parse(c->notify_source, c->dns_listen, src, &why) != RDNS_OK) {
		snprintf(err, errlen, "notify_source: '%s': %s", c->notify_source, why);
		return RDNS_EINVAL;
	}
	if (c->transfer_tsig_key[0] && !has_key(c, c->transfer_tsig_key)) {
		snprintf(err, errlen, "transfer_tsig_key: '%s': not a key of tsig_keys",
		         c->transfer_tsig_key);
		return RDNS_EINVAL;
	}
	if (!c->api_tls_cert[0] != !c->api_tls_key[0]) {
		snprintf(err, errlen,
		         "%s is set but %s is not: HTTPS needs both (or neither, for plain HTTP)",
		         c->api_tls_cert[0] ? "api_tls_cert" : "api_tls_key",
		         c->api_tls_cert[0] ? "api_tls_key" : "api_tls_cert");
		return RDNS_EINVAL;
	}
	/* the web panel (issue 15): CSP3 ignores 'none' beside other sources, so refuse the mix */
	for (size_t i = 0; c->panel_frame_ancestors.n > 1 && i < c->panel_frame_ancestors.n; i++)
		if (strcasecmp(c->panel_frame_ancestors.v[i], "'none'") == 0) {
			snprintf(err, errlen, "panel_frame_ancestors: 'none' must stand alone");
			return RDNS_EINVAL;
		}
	if (c->verifier_lease_ms <= c->verify_deadline_ms) {
		snprintf(err, errlen,
		         "verifier_lease_ms: %ld is not longer than verify_deadline_ms (%ld): a job would be "
		         "claimed "
		         "again while its verification still runs",
		         c->verifier_lease_ms, c->verify_deadline_ms);
		return RDNS_EINVAL;
	}
	for (size_t i = 0; i < c->notify.n; i++) {
		core_endpoint_t ep;
		if (core_endpoint_parse(c->notify.v[i], CORE_EP_NOTIFY, 53, &ep, NULL) == RDNS_OK &&
		    ep.key[0] && !has_key(c, ep.key)) {
			snprintf(err, errlen, "notify: '%s': the key %s is not in tsig_keys", c->notify.v[i],
			         ep.key);
			return RDNS_EINVAL;
		}
	}
	return RDNS_OK;
}

int conf_set(rdns_conf_t *c, const char *key, const char *value, char *err, size_t errlen)
{
	const conf_opt_t *o = conf_find(key);
	if (!o) {
		snprintf(err, errlen, "unknown option '%s'", key);
		return RDNS_ENOTFOUND;
	}
	int rc = conf_check_value(o, value, err, errlen);
	if (rc != RDNS_OK)
		return rc;
	void *field = (char *)c + o->off;
	switch (o->type) {
	case CONF_STR: {
		char *dup = strdup(value);
		if (!dup)
			return RDNS_ENOMEM;
		free(*(char **)field);
		*(char **)field = dup;
		break;
	}
	case CONF_INT: {
		char *end;
		errno = 0;
		long v = strtol(value, &end, 10);
		if (errno || end == value || *end || v < o->min || v > o->max) {
			snprintf(err, errlen, "%s: '%s' is not an integer from %ld to %ld", key, value,
			         o->min, o->max);
			return RDNS_EINVAL;
		}
		*(long *)field = v;
		break;
	}
	case CONF_LIST: {
		conf_list_t l;
		if (conf_list_parse(value, &l) != RDNS_OK)
			return RDNS_ENOMEM;
		conf_list_free((conf_list_t *)field);
		*(conf_list_t *)field = l;
		break;
	}
	}
	return RDNS_OK;
}

struct ini_ctx {
	rdns_conf_t *c;
	char *err;
	size_t errlen;
	int failed;
};

static int on_ini_pair(void *user, const char *section, const char *name, const char *value)
{
	struct ini_ctx *ctx = user;
	if (ctx->failed)
		return 0;
	char msg[256];
	if (section && *section) {
		snprintf(ctx->err, ctx->errlen, "sections are not used ([%s])", section);
		ctx->failed = 1;
		return 0;
	}
	if (conf_set(ctx->c, name, value, msg, sizeof(msg)) != RDNS_OK) {
		snprintf(ctx->err, ctx->errlen, "%s", msg);
		ctx->failed = 1;
		return 0;
	}
	return 1;
}

int conf_load(rdns_conf_t *c, const char *path, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	char msg[256];
	for (const conf_opt_t *o = conf_options; o->key; o++)
		if (conf_set(c, o->key, o->def, msg, sizeof(msg)) != RDNS_OK) {
			snprintf(err, errlen, "default of %s: %s", o->key, msg);
			return RDNS_ECONFIG;
		}
	if (path) {
		struct ini_ctx ctx = {c, err, errlen, 0};
		int rc = ini_parse(path, on_ini_pair, &ctx);
		if (rc < 0) {
			snprintf(err, errlen, "%s: cannot open", path);
			return RDNS_ECONFIG;
		}
		if (ctx.failed) {
			size_t l = strlen(err);
			snprintf(err + l, errlen - l, " (in %s, line %d)", path, rc);
			return RDNS_ECONFIG;
		}
		if (rc > 0) {
			snprintf(err, errlen, "%s: line %d: syntax error (expected key = value)", path, rc);
			return RDNS_ECONFIG;
		}
	}
	for (const conf_opt_t *o = conf_options; o->key; o++) {
		char env[96] = "RDNS_";
		size_t n = 5;
		for (const char *k = o->key; *k && n < sizeof(env) - 1; k++)
			env[n++] = (char)toupper((unsigned char)*k);
		env[n] = 0;
		const char *v = getenv(env);
		if (v && conf_set(c, o->key, v, msg, sizeof(msg)) != RDNS_OK) {
			snprintf(err, errlen, "%s: %s", env, msg);
			return RDNS_ECONFIG;
		}
	}
	if (conf_check_refs(c, msg, sizeof(msg)) != RDNS_OK) {
		snprintf(err, errlen, "%s", msg);
		return RDNS_ECONFIG;
	}
	return RDNS_OK;
}

bool conf_verifier_uses_api_key(const char *key)
{
	return strcmp(key, "database_url") == 0 || strcmp(key, "log_level") == 0;
}

bool conf_used_by(const conf_opt_t *o, const char *who)
{
	if (strcmp(o->who, "both") == 0)
		return strcmp(who, "verifier") != 0 || conf_verifier_uses_api_key(o->key);
	size_t n = strlen(who);
	for (const char *p = o->who; (p = strstr(p, who)) != NULL; p += n)
		if ((p == o->who || p[-1] == ',') && (p[n] == 0 || p[n] == ','))
			return true;
	return false;
}

void conf_print_help(FILE *f, const char *who)
{
	fprintf(f, "Configuration keys (file: key = value; environment: RDNS_<KEY>):\n");
	for (const conf_opt_t *o = conf_options; o->key; o++) {
		if (!conf_used_by(o, who))
			continue;
		fprintf(f, "  %-24s %s (default: \"%s\")\n", o->key, o->help, o->def);
	}
}

void conf_print(FILE *f, const rdns_conf_t *c)
{
	for (const conf_opt_t *o = conf_options; o->key; o++) {
		const void *field = (const char *)c + o->off;
		fprintf(f, "%s = ", o->key);
		switch (o->type) {
		case CONF_STR: {
			const char *s = *(char *const *)field;
			if (strcmp(o->key, "database_url") == 0 && strstr(s, "password"))
				fputs("(set, contains a password)", f);
			else
				fputs(s, f);
			break;
		}
		case CONF_INT: fprintf(f, "%ld", *(const long *)field); break;
		case CONF_LIST: {
			const conf_list_t *l = field;
			if (strcmp(o->key, "tsig_keys") == 0 && l->n) {
				fprintf(f, "(%zu keys)", l->n);
				break;
			}
			for (size_t i = 0; i < l->n; i++)
				fprintf(f, "%s%s", i ? " " : "", l->v[i]);
			break;
		}
		}
		fputc('\n', f);
	}
}

void conf_free(rdns_conf_t *c)
{
	if (!c)
		return;
	for (const conf_opt_t *o = conf_options; o->key; o++) {
		void *field = (char *)c + o->off;
		if (o->type == CONF_STR) {
			free(*(char **)field);
			*(char **)field = NULL;
		} else if (o->type == CONF_LIST) {
			conf_list_free(field);
		}
	}
}
