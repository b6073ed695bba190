/* notify.h - sending DNS NOTIFY (RFC 1996) to secondaries from a background thread. */
#ifndef RDNS_ZONEGEN_NOTIFY_H
#define RDNS_ZONEGEN_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/endpoint.h"

/* Most targets in one job (one outcome holds one result per target). */
#define ZG_NOTIFY_MAX_TARGETS CORE_NOTIFY_MAX_TARGETS
/* Most tries per target that a configuration may ask for. */
#define ZG_NOTIFY_MAX_TRIES 32
/* Completed outcomes kept for the caller; beyond this the oldest is dropped (and logged). */
#define ZG_NOTIFY_MAX_QUEUED 1024
/* Room for a zone name in text with its trailing dot and NUL. */
#define ZG_NOTIFY_ZONE_LEN 256

/* State of one target (zg_notify_result_t.state). */
enum {
	ZG_NOTIFY_PENDING = 0, /* still being tried (only in an outcome that is not final) */
	ZG_NOTIFY_ACKED = 1,   /* the secondary answered NOERROR */
	ZG_NOTIFY_NOTIMP = 2,  /* it answered NOTIMP: RFC 1996 says stop */
	ZG_NOTIFY_FAILED = 3,  /* tries exhausted: no answer, or only error answers (rcode in detail) */
	ZG_NOTIFY_ERROR = 4,   /* a local error (socket, bind, packet build, randomness); not retried */
	ZG_NOTIFY_REFUSED =
	    5, /* it answered REFUSED or NOTAUTH: a policy answer, retries would not change it */
};

typedef struct {
	char host[64];     /* IPv4 or IPv6 literal, no brackets */
	uint16_t port;     /* default 53 */
	char key_name[64]; /* TSIG key name (informational unless key_len > 0) */
	uint8_t key[128];  /* TSIG secret, raw bytes; algorithm hmac-sha256 */
	size_t key_len;    /* 0: no TSIG */
} zg_notify_target_t;

/* Parse "ip", "ip:port", "[v6]", "[v6]:port" or a bare IPv6 literal (whose
 * last group is never taken for a port: "::1:53" is the address ::1:53 on
 * port 53), optionally followed by "@keyname". The port is decimal 1..65535
 * (53 when absent). Zone ids ("%eth0"), white space, brackets around IPv4 and
 * an empty key name are rejected. On success fills *out (host, port,
 * key_name; key_len 0: the caller looks the key up and fills key/key_len) and
 * copies the key name (or "" when none) to keyname_out unless it is NULL.
 * Returns RDNS_OK, RDNS_EINVAL, or RDNS_ESPACE when keyname_out is too short. */
int zg_notify_target_parse(const char *s, zg_notify_target_t *out, char *keyname_out, size_t keyname_len);

/* Format a target as "192.0.2.1:53" or "[2001:db8::1]:53" (at most 80
 * bytes with the NUL). Returns RDNS_OK or RDNS_ESPACE. */
int zg_notify_target_format(const zg_notify_target_t *t, char *buf, size_t len);

/* Room for a target's identity with its NUL (see zg_notify_target_id). */
#define ZG_NOTIFY_ID_LEN 128

/* A target's identity: zg_notify_target_format's text, then "@keyname"
 * when it has a key name: "192.0.2.1:53@xfr-key". Two targets that differ
 * only by key are two targets; the same identity listed twice is one.
 * notify_status and the log name targets by it. RDNS_OK or RDNS_ESPACE. */
int zg_notify_target_id(const zg_notify_target_t *t, char *buf, size_t len);

typedef struct {
	int tries;            /* tries per target; default 8, at most ZG_NOTIFY_MAX_TRIES */
	int first_timeout_ms; /* wait after the first try; default 250; doubled each try */
	int max_timeout_ms;   /* cap of the wait; default 8000 */
	int max_active;       /* jobs (zones) in flight at once; default 64; the rest wait in order */
	/* Source address of NOTIFY to IPv4 / IPv6 targets (port: the kernel's
	 * choice); ss_family 0 leaves the address to the kernel as well.
	 * Secondaries accept NOTIFY only from the primary they know, so this is
	 * the hidden primary's address (zg_notify_source_parse). */
	struct sockaddr_storage source4, source6;
} zg_notify_conf_t;

/* The notify_source option into c->source4 / c->source6. spec:
 * - NULL, "" or "0": both left to the kernel;
 * - "dns_listen" (the default): the address of dns_listen ("ip:port" or
 *   "[v6]:port") for targets of its family; targets of the other family,
 *   and all targets when dns_listen is empty or a wildcard (0.0.0.0, ::),
 *   leave from the kernel's choice;
 * - one or two addresses separated by spaces or commas, at most one per
 *   family ("192.0.2.53 2001:db8::53"): each for the targets of its family,
 *   the kernel's choice for a family not given.
 * Addresses follow core_addr_parse; no port, no unspecified, broadcast or
 * multicast address. Returns RDNS_OK or RDNS_ECONFIG with *why (if not
 * NULL) a sentence for the user. */
int zg_notify_source_parse(const char *spec, const char *dns_listen, zg_notify_conf_t *c, const char **why);

typedef struct {
	char target[ZG_NOTIFY_ID_LEN]; /* as zg_notify_target_id */
	int state;                     /* ZG_NOTIFY_*; ZG_NOTIFY_PENDING while still being tried */
	int rcode;                     /* rcode of the last accepted answer, -1 if none came */
	int tries;                     /* NOTIFY messages sent to this target */
	char detail[128]; /* human-readable reason, e.g. "no answer after 8 tries", "answered REFUSED" */
	bool fresh;       /* this target finished since the job's previous outcome */
} zg_notify_result_t;

/* A job's state when one or more of its targets finished: every target's
 * result, those still being tried as ZG_NOTIFY_PENDING. A job yields one
 * outcome each time targets finish (so a slow or dead target does not hide
 * the others), the last one with final set. */
typedef struct {
	char zone[ZG_NOTIFY_ZONE_LEN]; /* as submitted */
	uint32_t serial;
	bool final;       /* every target has finished: the job's last outcome */
	size_t n_results; /* = n_targets of the job */
	zg_notify_result_t results[ZG_NOTIFY_MAX_TARGETS]; /* in the order of the submitted targets */
} zg_notify_outcome_t;

typedef struct zg_notifier zg_notifier_t;

/* Start a notifier thread. It logs through core/log.h (component "notify",
 * one line per target when that target finishes, per-try lines at debug; keys are
 * never logged). conf may be NULL; fields <= 0 take the defaults. On failure
 * returns NULL and sets *err (if err is not NULL) to RDNS_ERANGE (tries above
 * ZG_NOTIFY_MAX_TRIES, the first timeout above the cap, max_active above
 * 4096), RDNS_EINVAL (a source of the wrong family), RDNS_ENOMEM or RDNS_EIO. */
zg_notifier_t *zg_notifier_new(const zg_notify_conf_t *conf, int *err);

/* Queue a NOTIFY of zone (a domain name, trailing dot optional) with serial
 * to the targets (copied; 1..ZG_NOTIFY_MAX_TARGETS). Only the newest
 * submission for a zone matters (names compare case-insensitively): a job
 * still waiting for the zone is replaced in place (keeping its place in the
 * queue), and one already in flight is abandoned without further outcomes
 * (those of its targets that finished were reported). Each job that runs to
 * its end yields exactly one final outcome. Targets with the same identity
 * (zg_notify_target_id) are notified once. Returns RDNS_OK,
 * RDNS_EINVAL (bad zone name, bad target address, port 0, a key without a
 * valid key name or longer than 128 bytes), RDNS_ELIMIT (no or too many
 * targets) or RDNS_ENOMEM. */
int zg_notifier_submit(zg_notifier_t *n, const char *zone, uint32_t serial, const zg_notify_target_t *targets,
                       size_t n_targets);

/* Drop every job, waiting or in flight, without an outcome: the caller is no longer
 * the one to announce anything (rdns-zonegen that lost the leadership). Outcomes
 * already finished stay to be polled. */
void zg_notifier_cancel_all(zg_notifier_t *n);

/* Move up to max finished outcomes, oldest first, into out. Returns how many
 * were written, 0 if none. Never blocks for long (takes a mutex). */
size_t zg_notifier_poll(zg_notifier_t *n, zg_notify_outcome_t *out, size_t max);

/* A descriptor that is readable while outcomes are waiting to be polled
 * (an eventfd, reset when zg_notifier_poll empties the queue). Owned by the
 * notifier: poll() it, do not read or close it. */
int zg_notifier_fd(zg_notifier_t *n);

/* Stop the thread (promptly, even in the middle of a backoff), drop pending
 * and unfinished jobs and unpolled outcomes, and free everything. NULL is fine. */
void zg_notifier_free(zg_notifier_t *n);

#endif
