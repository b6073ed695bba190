/* verdict.c - the verifier's checks as JSON text: a hand-written ASCII-only writer, once per PUT. */
#include "verify/verdict.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/strbuf.h"

const char *vf_verify_status_str(vf_check_status_t s)
{
	switch (s) {
	case VF_CHECK_PASS: return "pass";
	case VF_CHECK_FAIL: return "fail";
	case VF_CHECK_WARN: return "warn";
	}
	return "fail";
}

const char *vf_verify_severity_str(vf_check_severity_t s)
{
	switch (s) {
	case VF_SEV_LOW: return "low";
	case VF_SEV_MEDIUM: return "medium";
	case VF_SEV_HIGH: return "high";
	}
	return "high";
}

/* The length of the valid UTF-8 sequence at s and its code point, or 0. */
static size_t utf8_seq(const unsigned char *s, uint32_t *cp)
{
	size_t n;
	uint32_t c, min;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2, c = s[0] & 0x1f, min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3, c = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4, c = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* A JSON string, ASCII only (as jansson's JSON_ENSURE_ASCII writes it): quotes,
 * backslashes and control characters escaped, other characters as \uXXXX; a byte
 * that is not valid UTF-8 (a detail cut short inside a character) becomes U+FFFD. */
static void json_string_ascii(core_strbuf_t *b, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	char esc[16];
	core_strbuf_put(b, "\"", 1);
	while (*s) {
		const unsigned char *run = s;
		while (*s >= 0x20 && *s < 0x80 && *s != '"' && *s != '\\')
			s++;
		core_strbuf_put(b, (const char *)run, (size_t)(s - run));
		if (!*s)
			break;
		uint32_t cp;
		size_t n = 1;
		switch (*s) {
		case '"': core_strbuf_put(b, "\\\"", 2); break;
		case '\\': core_strbuf_put(b, "\\\\", 2); break;
		case '\n': core_strbuf_put(b, "\\n", 2); break;
		case '\r': core_strbuf_put(b, "\\r", 2); break;
		case '\t': core_strbuf_put(b, "\\t", 2); break;
		case '\b': core_strbuf_put(b, "\\b", 2); break;
		case '\f': core_strbuf_put(b, "\\f", 2); break;
		default:
			if (*s < 0x20) {
				cp = *s;
			} else if (!(n = utf8_seq(s, &cp))) {
				n = 1;
				cp = 0xfffd;
			}
			if (cp >= 0x10000) {
				cp -= 0x10000;
				snprintf(esc, sizeof(esc), "\\u%04x\\u%04x", 0xd800 + (cp >> 10),
				         0xdc00 + (cp & 0x3ff));
			} else {
				snprintf(esc, sizeof(esc), "\\u%04x", cp);
			}
			core_strbuf_str(b, esc);
		}
		s += n;
	}
	core_strbuf_put(b, "\"", 1);
}

char *vf_checks_text(const vf_check_t *c, size_t n)
{
	core_strbuf_t b = {0};
	core_strbuf_put(&b, "[", 1);
	for (size_t i = 0; c && i < n; i++) {
		core_strbuf_str(&b, i ? ",{\"id\":" : "{\"id\":");
		json_string_ascii(&b, c[i].id ? c[i].id : "");
		core_strbuf_str(&b, ",\"status\":\"");
		core_strbuf_str(&b, vf_verify_status_str(c[i].status));
		core_strbuf_str(&b, "\",\"severity\":\"");
		core_strbuf_str(&b, vf_verify_severity_str(c[i].severity));
		core_strbuf_str(&b, "\",\"detail\":");
		json_string_ascii(&b, c[i].detail);
		core_strbuf_str(&b, ",\"next_step\":");
		json_string_ascii(&b, c[i].next_step);
		core_strbuf_put(&b, "}", 1);
	}
	core_strbuf_put(&b, "]", 1);
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

char *vf_verdict_checks_text(const vf_verdict_t *v)
{
	size_t max = sizeof(v->checks) / sizeof(v->checks[0]);
	return vf_checks_text(v ? v->checks : NULL, v ? (v->n < max ? v->n : max) : 0);
}

json_t *vf_verdict_checks_json(const vf_verdict_t *v)
{
	char *text = vf_verdict_checks_text(v);
	json_t *arr = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	return arr;
}
