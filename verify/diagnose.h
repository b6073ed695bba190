/* diagnose.h - deliverability diagnostics of one address: the receivers' checklist, run in parallel
 * within one deadline. */
#ifndef RDNS_VERIFY_DIAGNOSE_H
#define RDNS_VERIFY_DIAGNOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/conf.h"
#include "core/hostname.h"
#include "verify/diag_findings.h"
#include "verify/resolve.h"
#include "verify/verify.h"

/* Findings of a diagnosis, in this order: ptr_published, ptr_generic, fcrdns,
 * mail_hostname, helo, spf, dmarc, dkim, dnsbl. */
#define VF_DIAG_FINDINGS 9

typedef struct {
	/* the forward resolvers (resolvers, verify_timeout_ms, verify_retries) */
	const char *const *resolvers;
	size_t n_resolvers;
	int query_timeout_ms, retries;
	/* asked for ptr_published instead of the zone's NS (diagnose_resolvers) */
	const char *const *ns_servers;
	size_t n_ns_servers;
	const char *const *dnsbl; /* dnsbl_zones */
	size_t n_dnsbl;
	int smtp_port;           /* diagnose_smtp_port */
	int deadline_ms;         /* diagnose_deadline_ms */
	vf_verify_conf_t verify; /* for fcrdns: the verifier's own configuration */
} vf_diag_conf_t;

/* From the options; the lists point into conf, which must outlive *out. */
void vf_diag_conf_from(const rdns_conf_t *conf, vf_diag_conf_t *out);

typedef struct {
	core_addr_t ip;
	const char *ptr;            /* the PTR rdns holds (normalised), or NULL */
	bool ptr_is_default;        /* the zone's default name, not a custom PTR */
	const char *zone;           /* the reverse zone, no trailing dot */
	uint32_t serial;            /* its serial in rdns */
	const char *const *zone_ns; /* its NS names (no trailing dot) */
	size_t n_zone_ns;
	const char *domain;   /* the sending domain; NULL: the PTR's parent domain */
	const char *selector; /* DKIM selector, or NULL */
	bool smtp;            /* run helo: connect to ip on smtp_port. The caller has
	                         checked that the address is the caller's to probe. */
} vf_diag_request_t;

typedef struct {
	vf_diag_finding_t f[VF_DIAG_FINDINGS];
	size_t n;
	char domain[CORE_HOSTNAME_MAX]; /* the domain SPF/DMARC/DKIM were asked for; "" if none */
	int elapsed_ms;
} vf_diag_result_t;

/* Run every check of the request, each in its own thread (the NS and the
 * blocklists of a check in threads of their own), and fill *out. Returns
 * within conf->deadline_ms (plus a few ms) whatever the network does: a check
 * that could not finish is skip, with the reason. Returns RDNS_OK (findings
 * in *out) or RDNS_ENOMEM / RDNS_EINVAL. Thread-safe. */
int vf_diagnose(const vf_diag_conf_t *conf, const vf_diag_request_t *req, vf_diag_result_t *out);

#endif
