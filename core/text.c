/* text.c - free-text names that people read (account names): what they may hold, and how
 * they sort. */
#include "text.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* One code point of valid UTF-8 at *p; advances *p. */
static uint32_t next_cp(const unsigned char **p)
{
	const unsigned char *s = *p;
	uint32_t c;
	size_t n;
	if (s[0] < 0x80) {
		c = s[0];
		n = 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		c = s[0] & 0x1f;
		n = 2;
	} else if ((s[0] & 0xf0) == 0xe0) {
		c = s[0] & 0x0f;
		n = 3;
	} else {
		c = s[0] & 0x07;
		n = 4;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) { /* not valid UTF-8 after all: one byte, U+FFFD */
			*p = s + 1;
			return 0xfffd;
		}
		c = c << 6 | (s[i] & 0x3f);
	}
	*p = s + n;
	return c;
}

/* Unicode White_Space. */
static bool is_space(uint32_t c)
{
	return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
	       (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
	       c == 0x3000;
}

static bool is_control(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

/* General category Cf (Unicode 15.0), and the Hangul fillers, which show as nothing. */
static bool is_format(uint32_t c)
{
	static const struct {
		uint32_t lo, hi;
	} cf[] = {
	    {0x00ad, 0x00ad},   {0x0600, 0x0605},   {0x061c, 0x061c},   {0x06dd, 0x06dd},
	    {0x070f, 0x070f},   {0x0890, 0x0891},   {0x08e2, 0x08e2},   {0x115f, 0x1160},
	    {0x180e, 0x180e},   {0x200b, 0x200f},   {0x202a, 0x202e},   {0x2060, 0x2064},
	    {0x2066, 0x206f},   {0x3164, 0x3164},   {0xfeff, 0xfeff},   {0xffa0, 0xffa0},
	    {0xfff9, 0xfffb},   {0x110bd, 0x110bd}, {0x110cd, 0x110cd}, {0x13430, 0x1343f},
	    {0x1bca0, 0x1bca3}, {0x1d173, 0x1d17a}, {0xe0000, 0xe007f},
	};
	for (size_t i = 0; i < sizeof(cf) / sizeof(cf[0]); i++)
		if (c >= cf[i].lo && c <= cf[i].hi)
			return true;
	return false;
}

const char *core_text_name_problem(const char *s, size_t max_chars, char why[CORE_TEXT_WHY_MAX])
{
	const unsigned char *p = (const unsigned char *)s;
	size_t chars = 0;
	uint32_t c = 0;
	if (*p == 0) {
		snprintf(why, CORE_TEXT_WHY_MAX, "must not be empty");
		return why;
	}
	while (*p) {
		c = next_cp(&p);
		chars++;
		if (is_control(c)) {
			snprintf(why, CORE_TEXT_WHY_MAX, "must not contain control characters");
			return why;
		}
		if (c == 0x2028 || c == 0x2029) {
			snprintf(why, CORE_TEXT_WHY_MAX,
			         "must not contain U+%04X (a line or paragraph separator)", (unsigned)c);
			return why;
		}
		if (is_format(c)) {
			snprintf(why, CORE_TEXT_WHY_MAX,
			         "must not contain U+%04X (a bidirectional or invisible format character)",
			         (unsigned)c);
			return why;
		}
		if (chars == 1 && is_space(c)) {
			snprintf(why, CORE_TEXT_WHY_MAX, "must not begin or end with a space (U+%04X)",
			         (unsigned)c);
			return why;
		}
	}
	if (is_space(c)) { /* the last character */
		snprintf(why, CORE_TEXT_WHY_MAX, "must not begin or end with a space (U+%04X)", (unsigned)c);
		return why;
	}
	if (chars > max_chars) {
		snprintf(why, CORE_TEXT_WHY_MAX, "must be at most %zu characters", max_chars);
		return why;
	}
	return NULL;
}

bool core_text_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		unsigned char c = p[i];
		size_t k;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3;
		else
			return false;
		if (n - i <= k)
			return false;
		for (size_t j = 1; j <= k; j++)
			if ((p[i + j] & 0xc0) != 0x80)
				return false;
		unsigned char d = p[i + 1];
		if ((c == 0xe0 && d < 0xa0) || (c == 0xed && d > 0x9f) || (c == 0xf0 && d < 0x90) ||
		    (c == 0xf4 && d > 0x8f))
			return false;
		i += k + 1;
	}
	return true;
}

/* The UTF-8 of code point c (not a surrogate, at most U+10FFFF) at out; its length. */
static size_t put_cp(uint32_t c, char *out)
{
	unsigned char *o = (unsigned char *)out;
	if (c < 0x80) {
		o[0] = (unsigned char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (unsigned char)(0xc0 | c >> 6);
		o[1] = (unsigned char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (unsigned char)(0xe0 | c >> 12);
		o[1] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
		o[2] = (unsigned char)(0x80 | (c & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | c >> 18);
	o[1] = (unsigned char)(0x80 | (c >> 12 & 0x3f));
	o[2] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
	o[3] = (unsigned char)(0x80 | (c & 0x3f));
	return 4;
}

size_t core_text_prefix_end(const char *prefix, char *out, size_t cap)
{
	size_t n = strlen(prefix);
	assert(cap >= n + 2);
	(void)cap;
	/* the start of each code point's bytes is where the next one ends */
	while (n > 0) {
		size_t start = n - 1;
		while (start > 0 && ((unsigned char)prefix[start] & 0xc0) == 0x80)
			start--;
		const unsigned char *p = (const unsigned char *)prefix + start;
		uint32_t c = next_cp(&p);
		if (c < 0x10ffff) {
			c = c == 0xd7ff ? 0xe000 : c + 1; /* (U+D800-DFFF are not characters) */
			memcpy(out, prefix, start);
			size_t len = start + put_cp(c, out + start);
			out[len] = 0;
			return len;
		}
		n = start; /* nothing follows U+10FFFF: the range ends where the one before ends */
	}
	out[0] = 0;
	return 0;
}
