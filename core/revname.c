/* revname.c - reverse owner names (in-addr.arpa, ip6.arpa), zone cuts and zone cover. */
#include <string.h>

#include "err.h"
#include "outbuf.h"
#include "revname.h"

#define V4_SUFFIX "in-addr.arpa"
#define V6_SUFFIX "ip6.arpa"

/* Longest zone name we read: 31 nibble labels + "ip6.arpa." is 71. */
#define ZONE_NAME_MAX 255

/* A reverse name has one label per octet for IPv4 (RFC 1035 3.5) and one
 * per nibble for IPv6 (RFC 3596 2.5): the "unit" below. */
static unsigned unit_bits(int family)
{
	return family == CORE_AF_INET ? 8 : 4;
}

static unsigned unit_count(int family)
{
	return core_addr_bits(family) / unit_bits(family);
}

static unsigned unit_value(const core_addr_t *a, unsigned i)
{
	if (a->family == CORE_AF_INET)
		return a->b[i];
	return i % 2 == 0 ? a->b[i / 2] >> 4 : a->b[i / 2] & 0xf;
}

static void set_unit(core_addr_t *a, unsigned i, unsigned v)
{
	if (a->family == CORE_AF_INET)
		a->b[i] = (uint8_t)v;
	else if (i % 2 == 0)
		a->b[i / 2] = (uint8_t)((a->b[i / 2] & 0x0f) | v << 4);
	else
		a->b[i / 2] = (uint8_t)((a->b[i / 2] & 0xf0) | v);
}

/* Clear every bit of a from bit len on. */
static void mask_addr(core_addr_t *a, unsigned len)
{
	for (unsigned i = 0; i < sizeof(a->b); i++) {
		unsigned lo = i * 8;
		if (len <= lo)
			a->b[i] = 0;
		else if (len < lo + 8)
			a->b[i] &= (uint8_t)(0xff << (lo + 8 - len));
	}
}

static bool prefix_ok(const core_prefix_t *p)
{
	if (p == NULL)
		return false;
	unsigned bits = core_addr_bits(p->addr.family);
	if (bits == 0 || p->len > bits)
		return false;
	core_addr_t masked = p->addr;
	mask_addr(&masked, p->len);
	return core_addr_equal(&masked, &p->addr);
}

/* Write the labels of units hi-1 down to lo, dot-separated, no trailing
 * dot; returns the characters written (at most 63). */
static size_t put_labels(const core_addr_t *a, unsigned lo, unsigned hi, char *p)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (unsigned i = hi; i > lo; i--) {
		unsigned v = unit_value(a, i - 1);
		if (i < hi)
			p[n++] = '.';
		if (a->family == CORE_AF_INET6) {
			p[n++] = hex[v];
			continue;
		}
		if (v >= 100)
			p[n++] = (char)('0' + v / 100);
		if (v >= 10)
			p[n++] = (char)('0' + v / 10 % 10);
		p[n++] = (char)('0' + v % 10);
	}
	return n;
}

/* Append ".in-addr.arpa." or ".ip6.arpa.". */
static size_t put_suffix(int family, char *p)
{
	const char *s = family == CORE_AF_INET ? "." V4_SUFFIX "." : "." V6_SUFFIX ".";
	size_t n = strlen(s);
	memcpy(p, s, n);
	return n;
}

static int fail(int rc, char *buf, size_t len)
{
	if (buf != NULL && len > 0)
		buf[0] = '\0';
	return rc;
}

int core_revname_from_addr(const core_addr_t *a, char *buf, size_t len)
{
	char text[CORE_REVNAME_MAX];
	size_t n;

	if (a == NULL || core_addr_bits(a->family) == 0)
		return fail(RDNS_EINVAL, buf, len);
	n = put_labels(a, 0, unit_count(a->family), text);
	n += put_suffix(a->family, text + n);
	return core_outbuf_copy(text, n, buf, len);
}

int core_revname_is_cut(const core_prefix_t *p)
{
	if (!prefix_ok(p))
		return 0;
	if (p->addr.family == CORE_AF_INET)
		return p->len == 8 || p->len == 16 || p->len == 24;
	/* RFC 3596: delegation on any nibble boundary; /0 is ip6.arpa itself and
	 * /128 a single name, neither a reverse zone we serve. */
	return p->len % 4 == 0 && p->len >= 4 && p->len <= 124;
}

int core_revname_zone(const core_prefix_t *p, char *buf, size_t len)
{
	char text[CORE_REVNAME_MAX];
	size_t n;

	if (!core_revname_is_cut(p))
		return fail(RDNS_EINVAL, buf, len);
	n = put_labels(&p->addr, 0, p->len / unit_bits(p->addr.family), text);
	n += put_suffix(p->addr.family, text + n);
	return core_outbuf_copy(text, n, buf, len);
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Whether name[0..n) ends with "." suffix, ignoring ASCII case, with at
 * least one character before that dot. */
static bool ends_with_label(const char *name, size_t n, const char *suffix)
{
	size_t sn = strlen(suffix);

	if (n < sn + 2 || name[n - sn - 1] != '.')
		return false;
	for (size_t i = 0; i < sn; i++)
		if (ascii_lower(name[n - sn + i]) != suffix[i])
			return false;
	return true;
}

/* One label of a reverse zone name: a decimal octet 0..255 without leading
 * zeros for IPv4, a single hex digit for IPv6. */
static bool parse_label(int family, const char *s, size_t n, unsigned *v)
{
	if (family == CORE_AF_INET6) {
		if (n != 1)
			return false;
		char c = ascii_lower(s[0]);
		if (c >= '0' && c <= '9')
			*v = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v = (unsigned)(c - 'a' + 10);
		else
			return false;
		return true;
	}
	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return false;
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return *v <= 255;
}

int core_revname_zone_parse(const char *name, core_prefix_t *out)
{
	core_prefix_t p;
	size_t n, body;
	unsigned count = 0, units;
	const char *label;

	if (name == NULL || out == NULL)
		return RDNS_EINVAL;
	n = strnlen(name, ZONE_NAME_MAX + 1);
	if (n == 0 || n > ZONE_NAME_MAX)
		return RDNS_EINVAL;
	if (name[n - 1] == '.')
		n--;

	memset(&p, 0, sizeof(p));
	if (ends_with_label(name, n, V4_SUFFIX)) {
		p.addr.family = CORE_AF_INET;
		body = n - strlen(V4_SUFFIX) - 1;
	} else if (ends_with_label(name, n, V6_SUFFIX)) {
		p.addr.family = CORE_AF_INET6;
		body = n - strlen(V6_SUFFIX) - 1;
	} else {
		return RDNS_EINVAL;
	}
	units = unit_count(p.addr.family);

	/* Count the labels first: the leftmost label is the least significant
	 * unit, so its position depends on how many there are. */
	for (size_t i = 0; i < body; i++)
		if (name[i] == '.')
			count++;
	count++;
	if (count >= units)
		return RDNS_EINVAL;

	label = name;
	for (unsigned k = 0; k < count; k++) {
		const char *end = memchr(label, '.', (size_t)(name + body - label));
		size_t ln = end != NULL ? (size_t)(end - label) : (size_t)(name + body - label);
		unsigned v;
		if (!parse_label(p.addr.family, label, ln, &v))
			return RDNS_EINVAL;
		set_unit(&p.addr, count - 1 - k, v);
		label += ln + 1;
	}
	p.len = count * unit_bits(p.addr.family);
	if (!core_revname_is_cut(&p))
		return RDNS_EINVAL;
	*out = p;
	return RDNS_OK;
}

int core_revname_cover(const core_prefix_t *p, core_prefix_t *out, size_t max)
{
	unsigned step, longest, cut, k, count;

	if (!prefix_ok(p) || (out == NULL && max > 0))
		return RDNS_EINVAL;
	step = unit_bits(p->addr.family);
	longest = core_addr_bits(p->addr.family) - step;

	if (core_revname_is_cut(p)) {
		if (max > 0)
			out[0] = *p;
		return 1;
	}
	if (p->len > longest) {
		/* Inside one zone of the longest cut; delegating a part of it
		 * (RFC 2317) is not a zone cut of ours. */
		if (max > 0) {
			out[0] = *p;
			mask_addr(&out[0].addr, longest);
			out[0].len = longest;
		}
		return 1;
	}

	/* Shorter than the next cut: enumerate the k bits between them. */
	cut = (p->len / step + 1) * step;
	k = cut - p->len;
	count = 1u << k;
	for (unsigned i = 0; i < count && i < max; i++) {
		out[i] = *p;
		out[i].len = cut;
		for (unsigned j = 0; j < k; j++) {
			unsigned pos = p->len + j;
			if ((i >> (k - 1 - j)) & 1)
				out[i].addr.b[pos / 8] |= (uint8_t)(0x80 >> (pos % 8));
		}
	}
	return (int)count;
}

int core_revname_relative(const core_addr_t *a, const core_prefix_t *zone, char *buf, size_t len)
{
	char text[CORE_REVNAME_MAX];
	size_t n;

	if (a == NULL || !core_revname_is_cut(zone) || !core_prefix_contains(zone, a))
		return fail(RDNS_EINVAL, buf, len);
	n = put_labels(a, zone->len / unit_bits(a->family), unit_count(a->family), text);
	return core_outbuf_copy(text, n, buf, len);
}
