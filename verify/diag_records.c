/* diag_records.c - DMARC and DKIM tag-lists, SMTP reply lines and name tests: no I/O. */
#include "verify/diag_records.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* One "tag=value" of a tag-list (RFC 6376 section 3.2: tags separated by ';',
 * white space around tags and values ignored). Advances *p past it. false at
 * the end of the list. An item without '=' gives an empty tag and the text as
 * value (so that callers can call it malformed). */
typedef struct {
	char tag[32];
	char value[1024];
	bool has_eq;
} tag_t;

static bool next_tag(const char **p, tag_t *t)
{
	const char *s = *p;

	while (*s && (is_ws(*s) || *s == ';'))
		s++;
	if (!*s) {
		*p = s;
		return false;
	}
	const char *end = strchr(s, ';');
	if (!end)
		end = s + strlen(s);
	const char *eq = memchr(s, '=', (size_t)(end - s));
	const char *ts = s, *te = eq ? eq : end, *vs = eq ? eq + 1 : s, *ve = end;

	while (te > ts && is_ws(te[-1]))
		te--;
	while (vs < ve && is_ws(*vs))
		vs++;
	while (ve > vs && is_ws(ve[-1]))
		ve--;
	t->has_eq = eq != NULL;
	snprintf(t->tag, sizeof(t->tag), "%.*s", eq ? (int)(te - ts) : 0, ts);
	snprintf(t->value, sizeof(t->value), "%.*s", (int)(ve - vs), vs);
	*p = end;
	return true;
}

/* The tags of one list seen so far: RFC 6376 3.2 and RFC 7489 6.4 make a list that
 * names a tag twice invalid as a whole. */
typedef struct {
	char tag[24][32];
	size_t n;
} seen_t;

/* false when tag was seen already (a list longer than 24 tags stops being checked) */
static bool seen_first(seen_t *s, const char *tag)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->tag[i], tag) == 0)
			return false;
	if (s->n < sizeof(s->tag) / sizeof(s->tag[0]))
		snprintf(s->tag[s->n++], sizeof(s->tag[0]), "%s", tag);
	return true;
}

/* ---- DMARC ---- */

bool vf_dmarc_is_record(const char *txt)
{
	const char *s = txt;
	tag_t t;

	return next_tag(&s, &t) && t.has_eq && strcmp(t.tag, "v") == 0 && strcmp(t.value, "DMARC1") == 0;
}

static bool dmarc_policy(const char *v, vf_dmarc_policy_t *p)
{
	if (strcasecmp(v, "none") == 0)
		*p = VF_DMARC_NONE;
	else if (strcasecmp(v, "quarantine") == 0)
		*p = VF_DMARC_QUARANTINE;
	else if (strcasecmp(v, "reject") == 0)
		*p = VF_DMARC_REJECT;
	else
		return false;
	return true;
}

const char *vf_dmarc_policy_str(vf_dmarc_policy_t p)
{
	return p == VF_DMARC_REJECT ? "reject" : p == VF_DMARC_QUARANTINE ? "quarantine" : "none";
}

#define DMARC_FAIL(...)                                                                                      \
	do {                                                                                                 \
		snprintf(out->error, sizeof(out->error), __VA_ARGS__);                                       \
		return;                                                                                      \
	} while (0)

void vf_dmarc_parse(const char *txt, vf_dmarc_t *out)
{
	const char *s = txt;
	bool first = true, has_p = false;
	seen_t seen = {.n = 0};
	tag_t t;

	memset(out, 0, sizeof(*out));
	out->pct = 100;
	while (next_tag(&s, &t)) {
		if (!t.has_eq || t.tag[0] == '\0')
			DMARC_FAIL("has an item without a tag (\"%.40s\")", t.value);
		if (!seen_first(&seen, t.tag))
			DMARC_FAIL("has the tag %.31s twice", t.tag);
		if (first) {
			/* RFC 7489 6.4: v=DMARC1 must be the first tag */
			if (strcmp(t.tag, "v") != 0 || strcmp(t.value, "DMARC1") != 0)
				DMARC_FAIL("does not start with v=DMARC1");
			first = false;
			continue;
		}
		if (strcmp(t.tag, "p") == 0) {
			if (!dmarc_policy(t.value, &out->p))
				DMARC_FAIL("has an unknown policy p=%.32s (none, quarantine or reject)",
				           t.value);
			has_p = true;
		} else if (strcmp(t.tag, "sp") == 0) {
			if (!dmarc_policy(t.value, &out->sp))
				DMARC_FAIL("has an unknown subdomain policy sp=%.32s", t.value);
			out->has_sp = true;
		} else if (strcmp(t.tag, "pct") == 0) {
			int n = 0;
			size_t i = 0;
			for (; t.value[i] >= '0' && t.value[i] <= '9' && n <= 100; i++)
				n = n * 10 + (t.value[i] - '0');
			if (i == 0 || t.value[i] != '\0' || n > 100)
				DMARC_FAIL("has pct=%.16s, not a number from 0 to 100", t.value);
			out->pct = n;
		} else if (strcmp(t.tag, "rua") == 0) {
			out->has_rua = t.value[0] != '\0';
		}
		/* other tags (ruf, adkim, aspf, fo, rf, ri) do not change the verdict */
	}
	if (first)
		DMARC_FAIL("is empty");
	if (!has_p)
		DMARC_FAIL("has no p= tag (the policy)");
	out->valid = true;
}

/* ---- DKIM ---- */

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decoded length of base64 text (white space skipped); false when it is not base64. */
static bool b64_len(const char *s, size_t *out)
{
	size_t n = 0, pad = 0;

	for (; *s; s++) {
		if (is_ws(*s))
			continue;
		if (*s == '=') {
			pad++;
			continue;
		}
		if (pad || b64_value(*s) < 0)
			return false;
		n++;
	}
	if (pad > 2 || (n + pad) % 4 == 1)
		return false;
	*out = n * 6 / 8;
	return true;
}

#define DKIM_FAIL(...)                                                                                       \
	do {                                                                                                 \
		snprintf(out->error, sizeof(out->error), __VA_ARGS__);                                       \
		return;                                                                                      \
	} while (0)

void vf_dkim_parse(const char *txt, vf_dkim_t *out)
{
	const char *s = txt;
	bool first = true, has_p = false;
	seen_t seen = {.n = 0};
	tag_t t;

	memset(out, 0, sizeof(*out));
	snprintf(out->k, sizeof(out->k), "rsa");
	out->known_k = true;
	while (next_tag(&s, &t)) {
		if (!t.has_eq || t.tag[0] == '\0')
			DKIM_FAIL("has an item without a tag (\"%.40s\")", t.value);
		if (!seen_first(&seen, t.tag))
			DKIM_FAIL("has the tag %.31s twice", t.tag);
		if (strcmp(t.tag, "v") == 0) {
			/* RFC 6376 3.6.1: v= is optional; when present it is first and DKIM1 */
			if (!first)
				DKIM_FAIL("has v= after other tags (it must come first)");
			if (strcmp(t.value, "DKIM1") != 0)
				DKIM_FAIL("has v=%.16s, not DKIM1", t.value);
		} else if (strcmp(t.tag, "k") == 0) {
			snprintf(out->k, sizeof(out->k), "%.15s", t.value);
			out->known_k = strcasecmp(t.value, "rsa") == 0 || strcasecmp(t.value, "ed25519") == 0;
		} else if (strcmp(t.tag, "t") == 0) {
			out->testing = strchr(t.value, 'y') != NULL;
		} else if (strcmp(t.tag, "p") == 0) {
			has_p = true;
			if (t.value[0] == '\0') {
				out->revoked = true;
			} else if (!b64_len(t.value, &out->key_bytes)) {
				DKIM_FAIL("has a p= that is not base64");
			}
		}
		first = false;
	}
	if (first)
		DKIM_FAIL("is empty");
	if (!has_p)
		DKIM_FAIL("has no p= tag (the public key)");
	out->valid = true;
}

/* ---- SMTP ---- */

bool vf_smtp_reply_line(const char *line, int *code, bool *more, char *name, size_t name_len)
{
	if (name_len)
		name[0] = '\0';
	for (int i = 0; i < 3; i++)
		if (line[i] < '0' || line[i] > '9')
			return false;
	if (line[0] < '1' || line[0] > '5')
		return false;
	if (line[3] != ' ' && line[3] != '-' && line[3] != '\0' && line[3] != '\r')
		return false;
	*code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	*more = line[3] == '-';
	if (line[3] == '\0' || line[3] == '\r')
		return true;
	const char *s = line + 4, *e;
	while (*s == ' ')
		s++;
	for (e = s; *e && !is_ws(*e); e++)
		;
	if (name_len)
		snprintf(name, name_len, "%.*s", (int)(e - s), s);
	return true;
}

/* ---- names ---- */

bool vf_diag_same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	return la == lb && la > 0 && strncasecmp(a, b, la) == 0;
}

bool vf_diag_is_web_name(const char *hostname)
{
	if (strncasecmp(hostname, "www", 3) != 0)
		return false;
	const char *s = hostname + 3;
	while (*s >= '0' && *s <= '9')
		s++;
	return *s == '.';
}

const char *vf_diag_parent_domain(const char *hostname)
{
	const char *dot = strchr(hostname, '.');

	if (!dot || !dot[1])
		return NULL;
	return strchr(dot + 1, '.') ? dot + 1 : hostname;
}

bool vf_diag_selector_ok(const char *s)
{
	size_t total = 0, label = 0;

	for (; *s; s++, total++) {
		if (*s == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		bool ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		          *s == '-' || *s == '_';
		if (!ok || ++label > 63)
			return false;
	}
	return total > 0 && total <= 128 && label > 0;
}
