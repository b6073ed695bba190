/* zonefile.c - rendering reverse zones as master-file text (SOA, NS, PTR; default-PTR templates). */
#include "zonefile.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "hostname.h"
#include "revname.h"

/* RFC 1035 §2.3.4: 255 octets on the wire are 253 in text without the root dot. */
#define NAME_TEXT_MAX 253

/* Bytes allowed in a name we write. Letters, digits and '-' are hostnames;
 * '_' and '/' occur in other owner names (RFC 2317 "0/25") and need no
 * escaping in a zone file (RFC 1035 §5.1). */
static bool name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '_' || c == '/';
}

/* Checks a name and gives its length without one optional trailing dot. */
static int name_check(const char *s, size_t *n)
{
	size_t i = 0;
	if (!s)
		return RDNS_EINVAL;
	for (; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			/* no empty label: not first, not after another dot */
			if (i == 0 || s[i - 1] == '.')
				return RDNS_EINVAL;
		} else if (!name_char(c)) {
			return RDNS_EINVAL;
		}
		if (i > NAME_TEXT_MAX + 1)
			return RDNS_EINVAL;
	}
	if (i > 0 && s[i - 1] == '.')
		i--;
	if (i == 0 || i > NAME_TEXT_MAX)
		return RDNS_EINVAL;
	*n = i;
	return RDNS_OK;
}

static char *put_mem(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

/* Name plus exactly one trailing dot. */
static char *put_name(char *p, const char *s, size_t n)
{
	p = put_mem(p, s, n);
	*p++ = '.';
	return p;
}

static char *put_u32(char *p, uint32_t v)
{
	char tmp[10];
	size_t k = 0;
	do {
		tmp[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (k)
		*p++ = tmp[--k];
	return p;
}

#define PUT_LIT(p, lit) put_mem((p), (lit), sizeof(lit) - 1)

static int write_all(FILE *f, const char *buf, size_t n)
{
	return fwrite(buf, 1, n, f) == n ? RDNS_OK : RDNS_EIO;
}

int core_zonefile_head(FILE *f, const core_zone_head_t *h)
{
	/* comment + SOA: three names of at most 254 with the dot, six numbers, text */
	char buf[1024];
	size_t zl, ml, rl, nl;
	char *p;
	int rc;

	if (!f || !h || h->n_ns == 0 || !h->ns)
		return RDNS_EINVAL;
	if (name_check(h->zone, &zl) || name_check(h->mname, &ml) || name_check(h->rname, &rl))
		return RDNS_EINVAL;
	for (size_t i = 0; i < h->n_ns; i++)
		if (name_check(h->ns[i], &nl))
			return RDNS_EINVAL;

	p = PUT_LIT(buf, "; rdns zone ");
	p = put_name(p, h->zone, zl);
	p = PUT_LIT(p, " serial ");
	p = put_u32(p, h->serial);
	*p++ = '\n';
	p = put_name(p, h->zone, zl);
	*p++ = ' ';
	p = put_u32(p, h->ttl);
	p = PUT_LIT(p, " IN SOA ");
	p = put_name(p, h->mname, ml);
	*p++ = ' ';
	p = put_name(p, h->rname, rl);
	const uint32_t nums[] = {h->serial, h->refresh, h->retry, h->expire, h->minimum};
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		*p++ = ' ';
		p = put_u32(p, nums[i]);
	}
	*p++ = '\n';
	rc = write_all(f, buf, (size_t)(p - buf));
	if (rc)
		return rc;

	for (size_t i = 0; i < h->n_ns; i++) {
		name_check(h->ns[i], &nl);
		p = put_name(buf, h->zone, zl);
		*p++ = ' ';
		p = put_u32(p, h->ttl);
		p = PUT_LIT(p, " IN NS ");
		p = put_name(p, h->ns[i], nl);
		*p++ = '\n';
		rc = write_all(f, buf, (size_t)(p - buf));
		if (rc)
			return rc;
	}
	return RDNS_OK;
}

/* One "<owner>. <ttl> IN <type> <target>." line from names already checked (lengths
 * without the trailing dot); type is "PTR", "NS" or "CNAME". */
static int rr_line(FILE *f, const char *owner, size_t ol, uint32_t ttl, const char *type, const char *target,
                   size_t tl)
{
	/* two names of at most 254 with the dot, a TTL, text */
	char buf[600];
	char *p = put_name(buf, owner, ol);
	*p++ = ' ';
	p = put_u32(p, ttl);
	p = PUT_LIT(p, " IN ");
	p = put_mem(p, type, strlen(type));
	*p++ = ' ';
	p = put_name(p, target, tl);
	*p++ = '\n';
	return write_all(f, buf, (size_t)(p - buf));
}

static int ptr_line(FILE *f, const char *owner, size_t ol, uint32_t ttl, const char *target, size_t tl)
{
	return rr_line(f, owner, ol, ttl, "PTR", target, tl);
}

int core_zonefile_ptr(FILE *f, const char *owner, uint32_t ttl, const char *target)
{
	size_t ol, tl;

	if (!f || name_check(owner, &ol) || name_check(target, &tl))
		return RDNS_EINVAL;
	return ptr_line(f, owner, ol, ttl, target, tl);
}

/* ---- default-PTR templates ---- */

static const char hexdig[] = "0123456789abcdef";

static size_t put_dec8(char *p, unsigned v)
{
	char *s = p;
	if (v >= 100)
		*p++ = (char)('0' + v / 100);
	if (v >= 10)
		*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return (size_t)(p - s);
}

/* Expands placeholder name[0..n) for b into p (at most 16 bytes); returns
 * the length, or -1 for an unknown placeholder. */
static int expand_one(const char *name, size_t n, const uint8_t *b, char *p)
{
#define IS(lit) (n == sizeof(lit) - 1 && memcmp(name, lit, n) == 0)
	size_t k = 0;
	if (IS("dashed") || IS("reverse")) {
		bool rev = IS("reverse");
		for (int i = 0; i < 4; i++) {
			if (i)
				p[k++] = '-';
			k += put_dec8(p + k, b[rev ? 3 - i : i]);
		}
	} else if (n == 1 && name[0] >= 'a' && name[0] <= 'd') {
		k = put_dec8(p, b[name[0] - 'a']);
	} else if (IS("hex")) {
		for (int i = 0; i < 4; i++) {
			p[k++] = hexdig[b[i] >> 4];
			p[k++] = hexdig[b[i] & 0xf];
		}
	} else {
		return -1;
	}
	return (int)k;
#undef IS
}

int core_zonefile_template(const char *tmpl, const core_addr_t *a, char *out, size_t outlen)
{
	size_t o = 0;
	bool full = false;

	if (!tmpl || !a || !out)
		return RDNS_EINVAL;
	if (a->family != CORE_AF_INET)
		return RDNS_EINVAL; /* IPv6 zones carry explicit records only */

	/* Parse all of it even when out is full, so a bad template is always EINVAL. */
	for (const char *s = tmpl; *s;) {
		char piece[16];
		size_t k;
		const char *src;
		if (*s == '}')
			return RDNS_EINVAL;
		if (*s == '{') {
			const char *close = strchr(s + 1, '}');
			if (!close)
				return RDNS_EINVAL;
			int r = expand_one(s + 1, (size_t)(close - s - 1), a->b, piece);
			if (r < 0)
				return RDNS_EINVAL;
			src = piece;
			k = (size_t)r;
			s = close + 1;
		} else {
			src = s;
			k = 1;
			s++;
		}
		if (full || o + k >= outlen) {
			full = true;
			continue;
		}
		memcpy(out + o, src, k);
		o += k;
	}
	if (full) {
		if (outlen)
			out[0] = '\0';
		return RDNS_ESPACE;
	}
	out[o] = '\0';
	return RDNS_OK;
}

/* ---- streaming zone writer ---- */

struct core_zonefile_w {
	FILE *f;
	core_prefix_t zone;
	char *tmpl; /* NULL: no defaults (always NULL for IPv6) */
	uint32_t ttl;
	int err; /* sticky RDNS_EIO */
	bool finished;
	uint64_t written, skipped;
	/* IPv4: the next address that has no record yet, and the end of the zone (exclusive) */
	uint64_t next, end;
	/* IPv6: the last address added */
	bool have_last;
	core_addr_t last;
	/* delegations (core_zonefile_w_delegations), the first not yet passed, and whether
	 * its NS records are written */
	const core_zonefile_deleg_t *dg;
	size_t n_dg, di;
	bool di_ns;
	bool added; /* a record was added: too late for delegations */
	uint64_t occluded;
};

static uint32_t v4_u32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

core_zonefile_w_t *core_zonefile_w_new(FILE *f, const core_prefix_t *zone_prefix,
                                       const char *default_template, uint32_t ttl)
{
	core_zonefile_w_t *w;

	if (!f || !zone_prefix)
		return NULL;
	int fam = zone_prefix->addr.family;
	if ((fam != CORE_AF_INET && fam != CORE_AF_INET6) || zone_prefix->len > core_addr_bits(fam))
		return NULL;

	bool v4 = fam == CORE_AF_INET;
	if (v4 && default_template) {
		/* 255.255.255.255 gives every placeholder its longest expansion. */
		core_addr_t all = {.family = CORE_AF_INET, .b = {255, 255, 255, 255}};
		char tmp[CORE_ZONEFILE_TMPL_MAX];
		if (core_zonefile_template(default_template, &all, tmp, sizeof(tmp)) != RDNS_OK)
			return NULL;
	}

	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->f = f;
	w->ttl = ttl;
	w->zone = *zone_prefix;
	/* Clear host bits, whatever the caller passed. */
	for (unsigned i = 0, lo = 0; i < 16; i++, lo += 8) {
		if (lo >= w->zone.len)
			w->zone.addr.b[i] = 0;
		else if (w->zone.len - lo < 8)
			w->zone.addr.b[i] &= (uint8_t)(0xff << (8 - (w->zone.len - lo)));
	}
	if (v4) {
		w->next = v4_u32(w->zone.addr.b);
		w->end = w->next + ((uint64_t)1 << (32 - w->zone.len));
		if (default_template) {
			w->tmpl = strdup(default_template);
			if (!w->tmpl) {
				free(w);
				return NULL;
			}
		}
	}
	return w;
}

void core_zonefile_w_free(core_zonefile_w_t *w)
{
	if (!w)
		return;
	free(w->tmpl);
	free(w);
}

/* host has been checked (hl: its length without a trailing dot); the owner
 * name comes from core_revname_from_addr and needs no check. */
static int put_ptr(core_zonefile_w_t *w, const core_addr_t *a, const char *host, size_t hl)
{
	char owner[CORE_REVNAME_MAX];
	int rc = core_revname_from_addr(a, owner, sizeof(owner));
	if (rc)
		return rc;
	rc = ptr_line(w->f, owner, strlen(owner) - 1, w->ttl, host, hl);
	if (rc)
		w->err = rc;
	else
		w->written++;
	return rc;
}

/* First and one past the last address of an IPv4 prefix. */
static void v4_range(const core_prefix_t *p, uint64_t *lo, uint64_t *hi)
{
	*lo = v4_u32(p->addr.b);
	*hi = *lo + ((uint64_t)1 << (32 - p->len));
}

static void v4_addr(uint64_t x, core_addr_t *a)
{
	*a = (core_addr_t){.family = CORE_AF_INET};
	a->b[0] = (uint8_t)(x >> 24);
	a->b[1] = (uint8_t)(x >> 16);
	a->b[2] = (uint8_t)(x >> 8);
	a->b[3] = (uint8_t)x;
}

/* The NS records of delegation d. */
static int put_ns(core_zonefile_w_t *w, const core_zonefile_deleg_t *d)
{
	char owner[CORE_REVNAME_MAX];
	size_t ol, nl;
	int rc = core_deleg_child_name(&d->prefix, d->style, owner, sizeof(owner));
	if (rc)
		return rc;
	if (name_check(owner, &ol))
		return RDNS_EINVAL;
	for (size_t i = 0; i < d->n_ns; i++) {
		if (name_check(d->ns[i], &nl))
			return RDNS_EINVAL; /* checked when the delegations were set */
		rc = rr_line(w->f, owner, ol, w->ttl, "NS", d->ns[i], nl);
		if (rc) {
			w->err = rc;
			return rc;
		}
		w->written++;
	}
	return RDNS_OK;
}

/* The CNAME of address x of classless block d (RFC 2317 section 4). */
static int put_cname(core_zonefile_w_t *w, const core_zonefile_deleg_t *d, uint64_t x)
{
	core_addr_t a;
	char owner[CORE_REVNAME_MAX], target[CORE_REVNAME_MAX];
	v4_addr(x, &a);
	int rc = core_revname_from_addr(&a, owner, sizeof(owner));
	if (rc == RDNS_OK)
		rc = core_deleg_cname_target(&d->prefix, d->style, &a, target, sizeof(target));
	if (rc)
		return rc;
	rc = rr_line(w->f, owner, strlen(owner) - 1, w->ttl, "CNAME", target, strlen(target) - 1);
	if (rc)
		w->err = rc;
	else
		w->written++;
	return rc;
}

/* The records of delegation d for its addresses in [w->next, to), which lie inside it. */
static int put_delegated(core_zonefile_w_t *w, const core_zonefile_deleg_t *d, uint64_t to)
{
	uint64_t lo, hi;
	v4_range(&d->prefix, &lo, &hi);
	if (d->kind == CORE_DELEG_CUT) {
		if (!w->di_ns) {
			int rc = put_ns(w, d);
			if (rc)
				return rc;
			w->di_ns = true;
		}
		w->next = to;
		return RDNS_OK;
	}
	for (; w->next < to; w->next++) {
		int rc = put_cname(w, d, w->next);
		if (rc)
			return rc;
		/* "0-63" sorts after "0" and before "1" (zonegen/journal.c) */
		if (w->next == lo && !w->di_ns) {
			if ((rc = put_ns(w, d)) != RDNS_OK)
				return rc;
			w->di_ns = true;
		}
	}
	return RDNS_OK;
}

/* Defaults for the IPv4 addresses [w->next, to) outside delegations. */
static int put_plain_defaults(core_zonefile_w_t *w, uint64_t to)
{
	core_addr_t a;
	char exp[CORE_ZONEFILE_TMPL_MAX], host[CORE_HOSTNAME_MAX];

	if (!w->tmpl) {
		w->next = to;
		return RDNS_OK;
	}
	for (; w->next < to; w->next++) {
		v4_addr(w->next, &a);
		if (core_zonefile_template(w->tmpl, &a, exp, sizeof(exp)) != RDNS_OK ||
		    core_hostname_normalize(exp, host, sizeof(host), NULL) != RDNS_OK) {
			w->skipped++;
			continue;
		}
		int rc = put_ptr(w, &a, host, strlen(host));
		if (rc)
			return rc;
	}
	return RDNS_OK;
}

/* What the IPv4 addresses [w->next, to) get without a custom record: their defaults, or
 * the records of the delegation that holds them. */
static int put_defaults(core_zonefile_w_t *w, uint64_t to)
{
	while (w->next < to) {
		uint64_t lo = w->end, hi = w->end;
		/* skip the delegations passed */
		while (w->di < w->n_dg) {
			v4_range(&w->dg[w->di].prefix, &lo, &hi);
			if (hi > w->next)
				break;
			w->di++;
			w->di_ns = false;
			lo = hi = w->end;
		}
		int rc;
		if (w->di < w->n_dg && lo <= w->next)
			rc = put_delegated(w, &w->dg[w->di], hi < to ? hi : to);
		else
			rc = put_plain_defaults(w, lo < to ? lo : to);
		if (rc)
			return rc;
	}
	return RDNS_OK;
}

/* IPv6: the NS records of the delegations that begin at or before a (NULL: all that are
 * left); whether a lies inside one of them. */
static int v6_delegations_upto(core_zonefile_w_t *w, const core_addr_t *a, bool *inside)
{
	*inside = false;
	while (w->di < w->n_dg) {
		const core_zonefile_deleg_t *d = &w->dg[w->di];
		if (a && memcmp(d->prefix.addr.b, a->b, sizeof(a->b)) > 0)
			return RDNS_OK; /* begins after a */
		if (!w->di_ns) {
			int rc = put_ns(w, d);
			if (rc)
				return rc;
			w->di_ns = true;
		}
		if (a && core_prefix_contains(&d->prefix, a)) {
			*inside = true;
			return RDNS_OK;
		}
		w->di++;
		w->di_ns = false;
	}
	return RDNS_OK;
}

int core_zonefile_deleg_ok(const core_prefix_t *zone, const core_zonefile_deleg_t *d)
{
	core_deleg_kind_t kind;
	size_t nl;
	if (!zone || !d || core_deleg_check(zone, &d->prefix, &kind) != RDNS_OK || kind != d->kind ||
	    d->n_ns == 0 || d->n_ns > 64 || !d->ns)
		return RDNS_EINVAL;
	for (size_t k = 0; k < d->n_ns; k++)
		if (name_check(d->ns[k], &nl))
			return RDNS_EINVAL;
	return RDNS_OK;
}

int core_zonefile_w_delegations(core_zonefile_w_t *w, const core_zonefile_deleg_t *d, size_t n)
{
	if (!w || (n && !d) || w->added || w->finished)
		return RDNS_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (core_zonefile_deleg_ok(&w->zone, &d[i]) != RDNS_OK)
			return RDNS_EINVAL;
		if (i > 0) {
			/* ascending and disjoint: the previous one ends before this one begins */
			core_addr_t last = d[i - 1].prefix.addr;
			core_addr_host_bits(&last, d[i - 1].prefix.len, true);
			if (memcmp(last.b, d[i].prefix.addr.b, sizeof(last.b)) >= 0)
				return RDNS_EINVAL;
		}
	}
	w->dg = d;
	w->n_dg = n;
	w->di = 0;
	w->di_ns = false;
	return RDNS_OK;
}

uint64_t core_zonefile_w_occluded(const core_zonefile_w_t *w)
{
	return w ? w->occluded : 0;
}

int core_zonefile_w_add(core_zonefile_w_t *w, const core_addr_t *a, const char *hostname)
{
	size_t hl;

	if (!w || !a)
		return RDNS_EINVAL;
	if (w->err)
		return w->err;
	if (w->finished || name_check(hostname, &hl) || !core_prefix_contains(&w->zone, a))
		return RDNS_EINVAL;

	w->added = true;
	if (a->family == CORE_AF_INET) {
		uint64_t x = v4_u32(a->b);
		if (x < w->next)
			return RDNS_EINVAL; /* duplicate or out of order */
		int rc = put_defaults(w, x);
		if (rc)
			return rc;
		if (w->di < w->n_dg && core_prefix_contains(&w->dg[w->di].prefix, a)) {
			w->occluded++; /* the delegation's records stand for it */
			return put_defaults(w, x + 1);
		}
		w->next = x + 1;
		return put_ptr(w, a, hostname, hl);
	}
	if (w->have_last && memcmp(a->b, w->last.b, sizeof(a->b)) <= 0)
		return RDNS_EINVAL;
	w->have_last = true;
	w->last = *a;
	bool inside;
	int rc = v6_delegations_upto(w, a, &inside);
	if (rc)
		return rc;
	if (inside) {
		w->occluded++;
		return RDNS_OK;
	}
	return put_ptr(w, a, hostname, hl);
}

int core_zonefile_w_finish(core_zonefile_w_t *w)
{
	if (!w)
		return RDNS_EINVAL;
	if (w->err)
		return w->err;
	if (w->finished)
		return RDNS_EINVAL;
	w->finished = true;
	if (w->zone.addr.family == CORE_AF_INET) {
		int rc = put_defaults(w, w->end);
		if (rc)
			return rc;
	} else {
		bool inside;
		int rc = v6_delegations_upto(w, NULL, &inside);
		if (rc)
			return rc;
	}
	if (ferror(w->f)) {
		w->err = RDNS_EIO;
		return RDNS_EIO;
	}
	return RDNS_OK;
}

void core_zonefile_w_stats(const core_zonefile_w_t *w, uint64_t *written, uint64_t *skipped)
{
	if (written)
		*written = w ? w->written : 0;
	if (skipped)
		*skipped = w ? w->skipped : 0;
}
