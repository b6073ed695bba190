/* deleg.c - reverse delegations: delegable prefixes and the names of their records. */
#include "deleg.h"

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "revname.h"

int core_deleg_check(const core_prefix_t *zone, const core_prefix_t *p, core_deleg_kind_t *kind)
{
	if (!zone || !p || !kind || zone->addr.family != p->addr.family ||
	    !core_prefix_contains_prefix(zone, p))
		return RDNS_EINVAL;
	if (p->addr.family == CORE_AF_INET) {
		if (p->len >= 25 && p->len <= 32) {
			*kind = CORE_DELEG_CLASSLESS; /* a zone is on a cut, so it holds the whole /24 */
			return RDNS_OK;
		}
		if (p->len % 8 == 0 && p->len > zone->len && core_revname_is_cut(p)) {
			*kind = CORE_DELEG_CUT;
			return RDNS_OK;
		}
		return RDNS_EINVAL;
	}
	/* RFC 3596 2.5: ip6.arpa cuts are on nibble boundaries */
	if (p->len % 4 == 0 && p->len > zone->len && core_revname_is_cut(p)) {
		*kind = CORE_DELEG_CUT;
		return RDNS_OK;
	}
	return RDNS_EINVAL;
}

int core_deleg_label_parse(const char *s, core_deleg_label_t *out)
{
	if (s && strcmp(s, "range") == 0)
		*out = CORE_DELEG_LABEL_RANGE;
	else if (s && strcmp(s, "slash") == 0)
		*out = CORE_DELEG_LABEL_SLASH;
	else
		return RDNS_EINVAL;
	return RDNS_OK;
}

const char *core_deleg_label_name(core_deleg_label_t l)
{
	return l == CORE_DELEG_LABEL_SLASH ? "slash" : "range";
}

static bool classless(const core_prefix_t *p)
{
	return p && p->addr.family == CORE_AF_INET && p->len >= 25 && p->len <= 32;
}

/* "<label>.c.b.a.in-addr.arpa." of a classless block. */
static int classless_name(const core_prefix_t *p, core_deleg_label_t style, char *buf, size_t len)
{
	core_prefix_t slash24 = {.addr = p->addr, .len = 24};
	slash24.addr.b[3] = 0;
	char parent[CORE_REVNAME_MAX];
	int rc = core_revname_zone(&slash24, parent, sizeof(parent));
	if (rc != RDNS_OK)
		return rc;
	unsigned first = p->addr.b[3], last = first + (1u << (32 - p->len)) - 1;
	int n = style == CORE_DELEG_LABEL_SLASH ? snprintf(buf, len, "%u/%u.%s", first, p->len, parent)
	                                        : snprintf(buf, len, "%u-%u.%s", first, last, parent);
	if (n < 0 || (size_t)n >= len) {
		if (len)
			buf[0] = 0;
		return RDNS_ESPACE;
	}
	return RDNS_OK;
}

int core_deleg_child_name(const core_prefix_t *p, core_deleg_label_t style, char *buf, size_t len)
{
	if (!p || !buf)
		return RDNS_EINVAL;
	if (classless(p))
		return classless_name(p, style, buf, len);
	return core_revname_zone(p, buf, len);
}

int core_deleg_cname_target(const core_prefix_t *p, core_deleg_label_t style, const core_addr_t *a, char *buf,
                            size_t len)
{
	if (!classless(p) || !a || !buf || !core_prefix_contains(p, a))
		return RDNS_EINVAL;
	char child[CORE_REVNAME_MAX];
	int rc = classless_name(p, style, child, sizeof(child));
	if (rc != RDNS_OK)
		return rc;
	int n = snprintf(buf, len, "%u.%s", a->b[3], child);
	if (n < 0 || (size_t)n >= len) {
		if (len)
			buf[0] = 0;
		return RDNS_ESPACE;
	}
	return RDNS_OK;
}
