/* diag_records.h - pure parsers of the diagnostics: DMARC and DKIM key records, SMTP replies, names. */
#ifndef RDNS_VERIFY_DIAG_RECORDS_H
#define RDNS_VERIFY_DIAG_RECORDS_H

#include <stdbool.h>
#include <stddef.h>

/* ---- DMARC (RFC 7489 section 6.3) ---- */

typedef enum {
	VF_DMARC_NONE, /* p=none: reports only, no enforcement */
	VF_DMARC_QUARANTINE,
	VF_DMARC_REJECT
} vf_dmarc_policy_t;

typedef struct {
	bool valid;          /* v=DMARC1 first and a known p= */
	char error[128];     /* !valid: what is wrong, a predicate ("has no p= tag") */
	vf_dmarc_policy_t p; /* valid: the policy */
	bool has_sp;         /* sp= given (the subdomain policy) */
	vf_dmarc_policy_t sp;
	int pct;      /* pct=, 0..100; 100 when absent */
	bool has_rua; /* aggregate reports requested */
} vf_dmarc_t;

/* Whether txt is a DMARC record at all: it starts with "v=DMARC1" (spaces
 * allowed around "="; records that do not are ignored, RFC 7489 6.6.3). */
bool vf_dmarc_is_record(const char *txt);

/* Parse one DMARC record (a TXT record's strings joined). Always fills *out. */
void vf_dmarc_parse(const char *txt, vf_dmarc_t *out);

const char *vf_dmarc_policy_str(vf_dmarc_policy_t p);

/* ---- DKIM key records (RFC 6376 section 3.6.1) ---- */

typedef struct {
	bool valid;       /* a tag-list with p=, and v=DKIM1 first when v= is there */
	bool revoked;     /* p= is empty: the key was revoked */
	char error[128];  /* !valid: what is wrong */
	char k[16];       /* key type, "rsa" when absent */
	bool known_k;     /* rsa or ed25519 */
	size_t key_bytes; /* decoded length of p= (base64, white space ignored) */
	bool testing;     /* t=y: the signer is testing DKIM */
} vf_dkim_t;

void vf_dkim_parse(const char *txt, vf_dkim_t *out);

/* ---- SMTP (RFC 5321 section 4.2) ---- */

/* One reply line "250-name text" or "220 name text": its code (100..599) and
 * whether more lines follow ('-'); *name the first word after the code (the
 * domain of a 220 greeting or of the first line of an EHLO reply), cut to
 * name_len. false: not a reply line. */
bool vf_smtp_reply_line(const char *line, int *code, bool *more, char *name, size_t name_len);

/* ---- names ---- */

/* Whether two host names are the same (ASCII case-insensitive, a trailing dot ignored). */
bool vf_diag_same_name(const char *a, const char *b);

/* Whether hostname names a web server ("www." or "www<digits>." first label)
 * rather than a mail identity. */
bool vf_diag_is_web_name(const char *hostname);

/* The parent domain of a host name (what is after its first label), or NULL
 * when it has fewer than three labels ("example.com" is its own domain:
 * returned as is). Points into hostname. */
const char *vf_diag_parent_domain(const char *hostname);

/* Whether s is a valid DKIM selector: dot-separated labels of letters, digits,
 * hyphens and underscores, 1..63 each, 1..128 in all. */
bool vf_diag_selector_ok(const char *s);

#endif
