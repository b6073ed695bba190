/* addr.c - IPv4/IPv6 addresses and prefixes: strict parsing, RFC 5952 printing, containment. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "err.h"
#include "outbuf.h"

/* Longest valid text of one address: "0000:0000:0000:0000:0000:0000:255.255.255.255". */
#define ADDR_TEXT_MAX 45

unsigned core_addr_bits(int family)
{
	switch (family) {
	case CORE_AF_INET: return 32;
	case CORE_AF_INET6: return 128;
	}
	return 0;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_xdigit(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A strict dotted quad: four decimal octets 0..255 and nothing else. A
 * leading zero ("010") is refused: inet_aton() and many tools read it as
 * octal, so its meaning is ambiguous. */
static bool parse_v4(const char *s, uint8_t out[4])
{
	for (int i = 0; i < 4; i++) {
		if (i > 0) {
			if (*s != '.')
				return false;
			s++;
		}
		const char *start = s;
		unsigned v = 0;
		while (is_digit(*s)) {
			if (s - start == 3)
				return false;
			v = v * 10 + (unsigned)(*s - '0');
			s++;
		}
		if (s == start || v > 255 || (s - start > 1 && *start == '0'))
			return false;
		out[i] = (uint8_t)v;
	}
	return *s == '\0';
}

/* RFC 4291 section 2.2 text forms. inet_pton() does the grammar; we first
 * refuse any character outside it (so no zone id, brackets or spaces,
 * whatever the libc accepts) and check an embedded IPv4 tail ourselves so
 * that it is held to the same strict rules as a plain dotted quad. */
static bool parse_v6(const char *s, size_t n, uint8_t out[16])
{
	const char *last_colon = NULL;
	bool has_dot = false;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == ':')
			last_colon = s + i;
		else if (s[i] == '.')
			has_dot = true;
		else if (!is_xdigit(s[i]))
			return false;
	}
	if (last_colon == NULL)
		return false;
	if (has_dot) {
		uint8_t v4[4];
		if (!parse_v4(last_colon + 1, v4))
			return false;
	}
	return inet_pton(AF_INET6, s, out) == 1;
}

int core_addr_parse(const char *s, core_addr_t *out)
{
	core_addr_t a;
	size_t n;

	if (s == NULL || out == NULL)
		return RDNS_EINVAL;
	n = strnlen(s, ADDR_TEXT_MAX + 1);
	if (n == 0 || n > ADDR_TEXT_MAX)
		return RDNS_EINVAL;

	memset(&a, 0, sizeof(a));
	if (memchr(s, ':', n) != NULL) {
		a.family = CORE_AF_INET6;
		if (!parse_v6(s, n, a.b))
			return RDNS_EINVAL;
	} else {
		a.family = CORE_AF_INET;
		if (!parse_v4(s, a.b))
			return RDNS_EINVAL;
	}
	*out = a;
	return RDNS_OK;
}

/* Decimal 0..999 without leading zeros; returns the characters written. */
static size_t put_dec(char *p, unsigned v)
{
	size_t n = 0;
	if (v >= 100)
		p[n++] = (char)('0' + v / 100);
	if (v >= 10)
		p[n++] = (char)('0' + v / 10 % 10);
	p[n++] = (char)('0' + v % 10);
	return n;
}

/* One 16-bit group in lower case without leading zeros (RFC 5952 4.1, 4.3). */
static size_t put_hex16(char *p, unsigned v)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	for (int shift = 12; shift >= 0; shift -= 4) {
		unsigned d = (v >> shift) & 0xf;
		if (d != 0 || n > 0 || shift == 0)
			p[n++] = hex[d];
	}
	return n;
}

static size_t format_v4(const uint8_t b[4], char *p)
{
	size_t n = 0;
	for (int i = 0; i < 4; i++) {
		if (i > 0)
			p[n++] = '.';
		n += put_dec(p + n, b[i]);
	}
	return n;
}

static bool is_v4_mapped(const uint8_t b[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return memcmp(b, mapped, sizeof(mapped)) == 0;
}

/* RFC 5952 section 4: compress the longest run of two or more zero groups
 * (the first one on a tie, 4.2.3), never a single zero group (4.2.2);
 * section 5: ::ffff:0:0/96 is written with its IPv4 address dotted. */
static size_t format_v6(const uint8_t b[16], char *p)
{
	unsigned g[8];
	int best = -1, best_len = 0;
	size_t n = 0;

	if (is_v4_mapped(b)) {
		memcpy(p, "::ffff:", 7);
		return 7 + format_v4(b + 12, p + 7);
	}

	for (int i = 0; i < 8; i++)
		g[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > best_len) {
			best = i;
			best_len = j - i;
		}
		i = j > i ? j : i + 1;
	}
	if (best_len < 2)
		best = -1;

	for (int i = 0; i < 8;) {
		if (i == best) {
			p[n++] = ':';
			p[n++] = ':';
			i += best_len;
			continue;
		}
		if (i > 0 && !(best >= 0 && i == best + best_len))
			p[n++] = ':';
		n += put_hex16(p + n, g[i]);
		i++;
	}
	return n;
}

static int format_addr(const core_addr_t *a, char *p, size_t *n)
{
	if (a == NULL)
		return RDNS_EINVAL;
	switch (a->family) {
	case CORE_AF_INET: *n = format_v4(a->b, p); return RDNS_OK;
	case CORE_AF_INET6: *n = format_v6(a->b, p); return RDNS_OK;
	}
	return RDNS_EINVAL;
}

int core_addr_format(const core_addr_t *a, char *buf, size_t len)
{
	char text[CORE_ADDR_STRLEN];
	size_t n;
	int rc = format_addr(a, text, &n);

	if (rc != RDNS_OK) {
		core_outbuf_copy("", 0, buf, len);
		return rc;
	}
	return core_outbuf_copy(text, n, buf, len);
}

/* Whether the first len bits of x and y agree. */
static bool bits_equal(const uint8_t *x, const uint8_t *y, unsigned len)
{
	unsigned full = len / 8, rem = len % 8;

	if (memcmp(x, y, full) != 0)
		return false;
	if (rem == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rem));
	return ((x[full] ^ y[full]) & mask) == 0;
}

static bool host_bits_zero(const core_addr_t *a, unsigned len)
{
	unsigned nbytes = core_addr_bits(a->family) / 8;

	for (unsigned i = 0; i < nbytes; i++) {
		unsigned lo = i * 8;
		uint8_t host_mask = len >= lo + 8 ? 0x00 : len <= lo ? 0xff : (uint8_t)(0xff >> (len - lo));
		if (a->b[i] & host_mask)
			return false;
	}
	return true;
}

/* A prefix length: 1..3 decimal digits, no sign, no space, no leading zero. */
static bool parse_len(const char *s, unsigned max, unsigned *out)
{
	unsigned v = 0;
	size_t n = 0;

	while (is_digit(s[n])) {
		if (n == 3)
			return false;
		v = v * 10 + (unsigned)(s[n] - '0');
		n++;
	}
	if (n == 0 || s[n] != '\0' || (n > 1 && s[0] == '0') || v > max)
		return false;
	*out = v;
	return true;
}

int core_prefix_parse(const char *s, core_prefix_t *out)
{
	char text[ADDR_TEXT_MAX + 1];
	const char *slash;
	core_addr_t a;
	size_t n;
	unsigned len;

	if (s == NULL || out == NULL)
		return RDNS_EINVAL;
	slash = strchr(s, '/');
	n = slash != NULL ? (size_t)(slash - s) : strnlen(s, ADDR_TEXT_MAX + 1);
	if (n > ADDR_TEXT_MAX)
		return RDNS_EINVAL;
	memcpy(text, s, n);
	text[n] = '\0';
	if (core_addr_parse(text, &a) != RDNS_OK)
		return RDNS_EINVAL;

	len = core_addr_bits(a.family);
	if (slash != NULL && !parse_len(slash + 1, len, &len))
		return RDNS_EINVAL;
	if (!host_bits_zero(&a, len))
		return RDNS_EINVAL;

	out->addr = a;
	out->len = len;
	return RDNS_OK;
}

int core_prefix_parse_acl(const char *s, core_prefix_t *out)
{
	char tok[CORE_PREFIX_ACL_ENTRY_MAX];
	core_addr_t a;
	long plen = -1;
	size_t n = strnlen(s, sizeof(tok));
	if (n >= sizeof(tok))
		return RDNS_EINVAL;
	memcpy(tok, s, n + 1);
	char *slash = strchr(tok, '/');
	if (slash) {
		*slash = '\0';
		char *end;
		errno = 0;
		plen = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || errno || plen < 0)
			return RDNS_EINVAL;
	}
	if (core_addr_parse(tok, &a) != RDNS_OK)
		return RDNS_EINVAL;
	unsigned bits = core_addr_bits(a.family);
	unsigned len = plen < 0 ? bits : (unsigned)plen;
	if (len > bits)
		return RDNS_EINVAL;
	char canon[CORE_PREFIX_ACL_ENTRY_MAX + 8];
	snprintf(canon, sizeof(canon), "%s/%u", tok, len);
	return core_prefix_parse(canon, out) == RDNS_OK ? RDNS_OK : RDNS_EINVAL;
}

int core_prefix_format(const core_prefix_t *p, char *buf, size_t len)
{
	char text[CORE_PREFIX_STRLEN];
	size_t n;
	int rc = p != NULL ? format_addr(&p->addr, text, &n) : RDNS_EINVAL;

	if (rc == RDNS_OK && p->len > core_addr_bits(p->addr.family))
		rc = RDNS_EINVAL;
	if (rc != RDNS_OK) {
		core_outbuf_copy("", 0, buf, len);
		return rc;
	}
	text[n++] = '/';
	n += put_dec(text + n, p->len);
	return core_outbuf_copy(text, n, buf, len);
}

bool core_prefix_contains(const core_prefix_t *p, const core_addr_t *a)
{
	if (p == NULL || a == NULL || p->addr.family != a->family)
		return false;
	unsigned bits = core_addr_bits(a->family);
	if (bits == 0 || p->len > bits)
		return false;
	return bits_equal(p->addr.b, a->b, p->len);
}

bool core_prefix_contains_prefix(const core_prefix_t *outer, const core_prefix_t *inner)
{
	if (outer == NULL || inner == NULL || inner->len < outer->len)
		return false;
	if (!core_prefix_contains(outer, &inner->addr))
		return false;
	return inner->len <= core_addr_bits(inner->addr.family);
}

void core_addr_host_bits(core_addr_t *a, unsigned len, bool ones)
{
	unsigned bits = core_addr_bits(a->family);
	for (unsigned i = len; i < bits; i++) {
		uint8_t m = (uint8_t)(0x80u >> (i % 8));
		if (ones)
			a->b[i / 8] |= m;
		else
			a->b[i / 8] &= (uint8_t)~m;
	}
}

bool core_addr_equal(const core_addr_t *a, const core_addr_t *b)
{
	if (a == NULL || b == NULL || a->family != b->family)
		return false;
	unsigned nbytes = core_addr_bits(a->family) / 8;
	return memcmp(a->b, b->b, nbytes != 0 ? nbytes : sizeof(a->b)) == 0;
}
