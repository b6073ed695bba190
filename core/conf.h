/* conf.h - the one declarative option table of rdns, its parser and help. */
#ifndef RDNS_CORE_CONF_H
#define RDNS_CORE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum { CONF_STR, CONF_INT, CONF_LIST } conf_type_t;

/* A parsed list value: items split on commas and white space. */
typedef struct {
	char **v;
	size_t n;
} conf_list_t;

typedef struct {
	char *database_url;
	char *log_level;
	char *metrics; /* on|off: counting for GET /metrics (both daemons) */
	/* rdns-api */
	char *api_listen;
	long api_threads;
	long api_max_connections;
	long api_per_ip_connections;
	long api_idle_timeout;
	long api_request_timeout_ms;
	conf_list_t api_trusted_proxies;
	char *api_proxy_protocol;
	long api_sched_slice_us;
	char *api_tls_cert;
	char *api_tls_key;
	char *api_tls_priority;
	long rate_limit_writes;
	conf_list_t resolvers;
	long verify_timeout_ms;
	long verify_retries;
	long verify_deadline_ms;
	long verify_inline_ms;
	long verify_threads;
	long verify_max_inflight;
	long verify_per_account;
	long delegation_check_port; /* delegations (issue 16) */
	long delegation_recheck_interval;
	conf_list_t special_names;
	conf_list_t denied_domains;
	/* deliverability diagnostics (issue #18) */
	conf_list_t diagnose_resolvers;
	long diagnose_deadline_ms;
	long diagnose_smtp_port;
	long diagnose_rate;
	conf_list_t dnsbl_zones;
	conf_list_t metrics_allow;
	/* the web panel (issue 15) */
	char *panel;                       /* on|off: serve /panel/ */
	conf_list_t panel_frame_ancestors; /* CSP frame-ancestors sources */
	/* rdns-zonegen */
	char *zone_dir;
	char *dns_listen;
	long dns_tcp_clients;
	long dns_tcp_per_address;
	long dns_tcp_idle_timeout_ms;
	long dns_tcp_query_timeout_ms;
	conf_list_t notify;
	long notify_tries;
	long notify_timeout_ms;
	char *notify_source;
	conf_list_t transfer_allow;
	conf_list_t query_allow;
	conf_list_t tsig_keys;
	char *transfer_tsig_key;
	long debounce_ms;
	long ixfr_history;
	long ixfr_history_bytes;
	long incremental_min_records; /* #19 */
	long incremental_write_ms;
	long reconcile_interval;
	char *post_write_command;
	char *metrics_listen;
	/* rdns-verifier (issue 18); verify_wait_max and verify_retry_min_ms: rdns-api too */
	long verifier_threads;
	long verifier_lease_ms;
	long verifier_poll_ms;
	long verify_wait_max;
	long verify_retry_min_ms;
	long verify_retry_max_ms;
	long reverify_interval;
	long reverify_qps;
	char *drift_action; /* keep|reset */
	long drift_grace;
} rdns_conf_t;

/* What a value must be, beyond its storage type (Knot's YP_TADDR, PgBouncer's
 * CF_LOOKUP): conf_set runs the check on every value whatever its source, a list's
 * check on each of its items. */
typedef enum {
	CONF_ANY = 0,       /* any text: its consumer parses it (database_url: libpq) */
	CONF_NONEMPTY,      /* not empty */
	CONF_ENUM,          /* one of words */
	CONF_ENDPOINT,      /* core_endpoint_parse(flags); "" too with CONF_F_EMPTY_OK */
	CONF_ENDPOINT_LIST, /* each item core_endpoint_parse(flags) */
	CONF_PREFIX_LIST,   /* each item core_prefix_parse (api_trusted_proxies) */
	CONF_ACL_LIST,      /* each item core_prefix_parse_acl (transfer_allow, query_allow) */
	CONF_SUFFIX_LIST,   /* each item a domain name or suffix (core_hostname) */
	CONF_TSIG_KEYS,     /* each item core_tsig_key_parse */
	CONF_TSIG_KEYNAME,  /* "" or a key name, which must be in tsig_keys */
	CONF_NOTIFY_SOURCE, /* core_notify_source_parse, against dns_listen */
	CONF_FILE,          /* "" or a regular file this process can read (its content: its consumer) */
	CONF_CSP_LIST,      /* each item core_csp_source_ok (panel_frame_ancestors) */
} conf_check_t;

/* conf_opt_t.flags besides the CORE_EP_* ones of an endpoint check. */
#define CONF_F_EMPTY_OK (1u << 16)

typedef struct {
	const char *key;
	conf_type_t type;
	const char *def; /* default, as text */
	long min, max;   /* for CONF_INT */
	size_t off;      /* offset in rdns_conf_t */
	const char *who; /* "api", "zonegen" or "both" */
	const char *help;
	conf_check_t check;
	unsigned flags;           /* CORE_EP_* for endpoints, CONF_F_* */
	const char *const *words; /* CONF_ENUM: the allowed words, NULL-terminated */
	size_t max_items;         /* lists: most items (0: no limit) */
} conf_opt_t;

/* The table, terminated by an entry with key NULL. */
extern const conf_opt_t conf_options[];

/* Defaults, then the file (path may be NULL), then RDNS_<KEY> environment
 * variables, each value checked as it is set (conf_set); then the checks that
 * span options (conf_check_refs). On error returns RDNS_ECONFIG and writes a
 * message to err naming the key, the value (never a TSIG secret) and why. */
int conf_load(rdns_conf_t *c, const char *path, char *err, size_t errlen);

/* Set one key from text, after its check (conf_check_value). RDNS_EINVAL with a
 * message on a bad value (the option keeps its value), RDNS_ENOTFOUND for an
 * unknown key. */
int conf_set(rdns_conf_t *c, const char *key, const char *value, char *err, size_t errlen);

/* Check one value of option o as conf_set would; RDNS_OK or RDNS_EINVAL with a
 * message "key: 'value': why" in err. */
int conf_check_value(const conf_opt_t *o, const char *value, char *err, size_t errlen);

/* The checks that span options, on a loaded configuration: notify_source against
 * dns_listen, transfer_tsig_key and every NOTIFY target's "@key" in tsig_keys,
 * api_tls_cert and api_tls_key both set or neither.
 * RDNS_OK or RDNS_EINVAL with a message. */
int conf_check_refs(const rdns_conf_t *c, char *err, size_t errlen);

/* The option named key, or NULL. */
const conf_opt_t *conf_find(const char *key);

/* Whether option o is read by daemon who ("api", "zonegen", "verifier"): o->who is
 * "both" (api and zonegen; the verifier too for the keys conf_verifier_uses_api_key
 * names), one daemon or a comma list. */
bool conf_used_by(const conf_opt_t *o, const char *who);

/* The keys of the api's and both daemons' options that rdns-verifier reads as well (the
 * database, logging, the verifier's own options): true for key. */
bool conf_verifier_uses_api_key(const char *key);

/* Print the option table for --help (only options conf_used_by who). */
void conf_print_help(FILE *f, const char *who);

/* Print the effective configuration (database_url passwords masked). */
void conf_print(FILE *f, const rdns_conf_t *c);

void conf_free(rdns_conf_t *c);

/* Split "a, b c" into a list (used for list options and by callers). */
int conf_list_parse(const char *s, conf_list_t *out);
void conf_list_free(conf_list_t *l);

#endif
