/* notify.h - sending DNS NOTIFY (RFC 1996) to secondaries from a background thread. */
#ifndef RDNS_ZONEGEN_NOTIFY_H
#define RDNS_ZONEGEN_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "core/endpoint.h"

/* Most targets in one job (one outcome holds one result per target). */
#define ZG_NOTIFY_MAX_TARGETS CORE_NOTIFY_MAX_TARGETS
/* Most tries per target that a configuration may ask for. */
#define ZG_NOTIFY_MAX_TRIES 32
/* Completed outcomes kept for the caller; beyond this the oldest is dropped (and logged). */
#define ZG_NOTIFY_MAX_QUEUED 1024
/* Room for a zone name in text with its trailing dot and NUL. */
#define ZG_NOTIFY_ZONE_LEN 256

/* Final state of one target (zg_notify_result_t.state). */
enum {
	ZG_NOTIFY_ACKED = 1,  /* the secondary answered NOERROR */
	ZG_NOTIFY_NOTIMP = 2, /* it answered NOTIMP: RFC 1996 says stop */
	ZG_NOTIFY_FAILED = 3, /* tries exhausted: no answer, or only error answers (rcode in detail) */
	ZG_NOTIFY_ERROR = 4,  /* a local error (socket, packet build, randomness); not retried */
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

typedef struct {
	int tries;            /* tries per target; default 8, at most ZG_NOTIFY_MAX_TRIES */
	int first_timeout_ms; /* wait after the first try; default 250; doubled each try */
	int max_timeout_ms;   /* cap of the wait; default 8000 */
	int max_active;       /* jobs (zones) in flight at once; default 64; the rest wait in order */
} zg_notify_conf_t;

typedef struct {
	char target[80];  /* as zg_notify_target_format */
	int state;        /* ZG_NOTIFY_* */
	int rcode;        /* rcode of the last accepted answer, -1 if none came */
	int tries;        /* NOTIFY messages sent to this target */
	char detail[128]; /* human-readable reason, e.g. "no answer after 8 tries", "last answer REFUSED" */
} zg_notify_result_t;

typedef struct {
	char zone[ZG_NOTIFY_ZONE_LEN]; /* as submitted */
	uint32_t serial;
	size_t n_results;                                  /* = n_targets of the job */
	zg_notify_result_t results[ZG_NOTIFY_MAX_TARGETS]; /* in the order of the submitted targets */
} zg_notify_outcome_t;

typedef struct zg_notifier zg_notifier_t;

/* Start a notifier thread. It logs through core/log.h (component "notify",
 * one line per target when a job ends, per-try lines at debug; keys are
 * never logged). conf may be NULL; fields <= 0 take the defaults. On failure
 * returns NULL and sets *err (if err is not NULL) to RDNS_ERANGE (tries above
 * ZG_NOTIFY_MAX_TRIES, the first timeout above the cap, max_active above
 * 4096), RDNS_ENOMEM or RDNS_EIO. */
zg_notifier_t *zg_notifier_new(const zg_notify_conf_t *conf, int *err);

/* Queue a NOTIFY of zone (a domain name, trailing dot optional) with serial
 * to the targets (copied; 1..ZG_NOTIFY_MAX_TARGETS). Only the newest
 * submission for a zone matters (names compare case-insensitively): a job
 * still waiting for the zone is replaced in place (keeping its place in the
 * queue), and one already in flight is abandoned without an outcome. Each
 * job that runs to its end yields exactly one outcome. Returns RDNS_OK,
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
