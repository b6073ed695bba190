/* diag_findings.h - the diagnostics' findings as data and their wording from plain outcomes (no I/O). */
#ifndef RDNS_VERIFY_DIAG_FINDINGS_H
#define RDNS_VERIFY_DIAG_FINDINGS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "verify/diag_records.h"
#include "verify/verdict.h"

typedef enum { VF_DIAG_PASS, VF_DIAG_WARN, VF_DIAG_FAIL, VF_DIAG_SKIP } vf_diag_status_t;

/* One finding of a diagnosis: the verifier's shape plus "skip". id is static. */
typedef struct {
	const char *id;
	vf_diag_status_t status;
	vf_check_severity_t severity;
	char detail[768];
	char next_step[512];
} vf_diag_finding_t;

const char *vf_diag_status_str(vf_diag_status_t s);

/* {"id", "status", "severity", "detail", "next_step"}; NULL on allocation failure. */
json_t *vf_diag_finding_json(const vf_diag_finding_t *f);

/* Each vf_diag_words_<check>() sets f->status, f->detail and f->next_step
 * (and f->severity where the outcome decides it: ptr_published while
 * propagating is low) from its outcome; f->id and the default severity are
 * the caller's. */

/* A check that did not run or could not finish: skip with this reason. */
void vf_diag_words_skip(vf_diag_finding_t *f, const char *reason);

/* ---- ptr_published ---- */

typedef enum {
	VF_NS_PTR,         /* answered with PTR records: ptr */
	VF_NS_NXDOMAIN,    /* the name does not exist there */
	VF_NS_NODATA,      /* no PTR record there */
	VF_NS_RCODE,       /* an error rcode: rcode_name */
	VF_NS_TIMEOUT,     /* no answer in time */
	VF_NS_UNREACHABLE, /* refused or unreachable */
	VF_NS_BAD          /* only answers that did not parse or match */
} vf_ns_kind_t;

#define VF_DIAG_MAX_NS 8

typedef struct {
	char server[320]; /* "ns1.example.net (192.0.2.1:53)" or "192.0.2.1:53" */
	vf_ns_kind_t kind;
	char ptr[256]; /* VF_NS_PTR: the first PTR target, no trailing dot */
	size_t n_ptr;  /* PTR records in the answer */
	const char *rcode_name;
	bool has_serial; /* its SOA serial of the zone was read */
	uint32_t serial;
} vf_ns_answer_t;

typedef struct {
	const char *ip;
	const char *expected; /* what rdns holds (custom or default name); NULL: no PTR */
	const char *zone;
	uint32_t serial;        /* the zone's serial in rdns */
	bool from_option;       /* servers from diagnose_resolvers, not the zone's NS */
	const char *no_servers; /* why no server could be asked (NS lookup failed), or NULL */
	vf_ns_answer_t ns[VF_DIAG_MAX_NS];
	size_t n_ns;
} vf_diag_published_t;

void vf_diag_words_published(const vf_diag_published_t *o, vf_diag_finding_t *f);

/* ---- ptr_generic, mail_hostname ---- */

typedef struct {
	const char *hostname; /* NULL: no PTR */
	bool is_default;      /* the zone's default template, not a custom PTR */
	unsigned flags;       /* core_hostname_generic */
	const char *why;
} vf_diag_generic_t;

void vf_diag_words_generic(const vf_diag_generic_t *o, vf_diag_finding_t *f);
/* hostname NULL: skip (no PTR). */
void vf_diag_words_mail_hostname(const char *hostname, vf_diag_finding_t *f);

/* ---- helo ---- */

typedef enum {
	VF_HELO_OK,          /* banner and EHLO answered: banner_name, ehlo_name */
	VF_HELO_REFUSED,     /* connection refused */
	VF_HELO_UNREACHABLE, /* no route, or another connect error: err */
	VF_HELO_TIMEOUT,     /* the connection or a reply did not come before the deadline: stage */
	VF_HELO_CLOSED,      /* the server closed the connection: stage */
	VF_HELO_REJECTED,    /* a greeting or EHLO reply that is not 220 / 250: code, line */
	VF_HELO_GARBLED      /* a reply that is not SMTP */
} vf_helo_kind_t;

typedef struct {
	const char *ip;
	int port;
	const char *ptr; /* NULL: no PTR */
	vf_helo_kind_t kind;
	const char *stage; /* "connect", "greeting", "EHLO" */
	int code;
	char line[128];        /* the reply line, printable ASCII */
	char banner_name[256]; /* the name of the 220 greeting */
	char ehlo_name[256];   /* the name of the first line of the EHLO reply */
	int err;               /* errno for VF_HELO_UNREACHABLE */
} vf_diag_helo_t;

void vf_diag_words_helo(const vf_diag_helo_t *o, vf_diag_finding_t *f);

/* ---- spf ---- */

typedef enum {
	VF_SPF_PASS,
	VF_SPF_FAIL,
	VF_SPF_SOFTFAIL,
	VF_SPF_NEUTRAL,
	VF_SPF_NONE,
	VF_SPF_TEMPERROR,
	VF_SPF_PERMERROR,
	VF_SPF_LOOPBACK /* a loopback address: libspf2 passes it without evaluating (not asked) */
} vf_spf_result_t;

typedef struct {
	const char *ip;
	const char *domain;
	vf_spf_result_t result;
	char why[256];  /* libspf2's comment or error, printable; may be empty */
	bool timed_out; /* a lookup timed out (the deadline): temperror means unfinished */
} vf_diag_spf_t;

void vf_diag_words_spf(const vf_diag_spf_t *o, vf_diag_finding_t *f);

/* ---- dmarc, dkim: what the TXT lookup gave ---- */

typedef enum {
	VF_TXT_FOUND,   /* records: n_records of the kind, first one parsed */
	VF_TXT_MISSING, /* NXDOMAIN, NODATA or no TXT of the kind */
	VF_TXT_ERROR,   /* an error rcode or bad answers: error */
	VF_TXT_TIMEOUT  /* the deadline */
} vf_txt_kind_t;

typedef struct {
	const char *domain;
	vf_txt_kind_t kind;
	const char *error;
	size_t n_records; /* DMARC records found (v=DMARC1) */
	vf_dmarc_t rec;
} vf_diag_dmarc_t;

void vf_diag_words_dmarc(const vf_diag_dmarc_t *o, vf_diag_finding_t *f);

typedef struct {
	const char *domain;
	const char *selector; /* NULL: none given */
	vf_txt_kind_t kind;
	const char *error;
	vf_dkim_t rec;
} vf_diag_dkim_t;

void vf_diag_words_dkim(const vf_diag_dkim_t *o, vf_diag_finding_t *f);

/* ---- dnsbl ---- */

typedef enum {
	VF_BL_CLEAN,   /* NXDOMAIN: not listed */
	VF_BL_LISTED,  /* 127.0.0.0/8 answer (not 127.255.255.x): codes, reason */
	VF_BL_REFUSED, /* 127.255.255.x: the list refused to answer us (blocked or rate-limited) */
	VF_BL_ERROR,   /* an error rcode, an answer outside 127/8, bad answers */
	VF_BL_TIMEOUT
} vf_bl_kind_t;

#define VF_DIAG_MAX_BL 16

typedef struct {
	char zone[256];
	vf_bl_kind_t kind;
	char codes[128];  /* the A records of a listing, ", "-separated */
	char reason[256]; /* its TXT, printable, may be empty */
} vf_bl_answer_t;

typedef struct {
	const char *ip;
	vf_bl_answer_t bl[VF_DIAG_MAX_BL];
	size_t n_bl;
} vf_diag_dnsbl_t;

void vf_diag_words_dnsbl(const vf_diag_dnsbl_t *o, vf_diag_finding_t *f);

/* Copy src into dst (dst_len bytes), printable ASCII only (others as '?'), cut. */
void vf_diag_printable(char *dst, size_t dst_len, const char *src);

#endif
