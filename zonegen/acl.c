/* acl.c - who may query the hidden primary: the transfer_allow list of address prefixes. */
#include "zonegen/acl.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/err.h"

struct zg_acl {
	core_prefix_t *v;
	size_t n;
};

static bool is_sep(char c)
{
	return c == ' ' || c == '\t' || c == ',' || c == '\n';
}

zg_acl_t *zg_acl_new(const char *list, int *err)
{
	int rc = RDNS_ENOMEM;
	zg_acl_t *acl = calloc(1, sizeof(*acl));
	if (acl == NULL)
		goto cleanup;
	const char *p = list != NULL ? list : "";
	while (*p) {
		while (is_sep(*p))
			p++;
		if (!*p)
			break;
		const char *e = p;
		while (*e && !is_sep(*e))
			e++;
		char tok[CORE_PREFIX_ACL_ENTRY_MAX];
		size_t n = (size_t)(e - p);
		if (n >= sizeof(tok)) {
			rc = RDNS_ECONFIG;
			goto cleanup;
		}
		memcpy(tok, p, n);
		tok[n] = '\0';
		p = e;

		core_prefix_t pfx;
		if (core_prefix_parse_acl(tok, &pfx) != RDNS_OK) {
			rc = RDNS_ECONFIG;
			goto cleanup;
		}
		core_prefix_t *nv = realloc(acl->v, (acl->n + 1) * sizeof(*nv));
		if (nv == NULL) {
			rc = RDNS_ENOMEM;
			goto cleanup;
		}
		acl->v = nv;
		acl->v[acl->n++] = pfx;
	}
	rc = RDNS_OK;
cleanup:
	if (rc != RDNS_OK) {
		zg_acl_free(acl);
		acl = NULL;
	}
	if (err)
		*err = rc;
	return acl;
}

bool zg_acl_allows(const zg_acl_t *acl, const struct sockaddr *from)
{
	core_addr_t a = {0};
	if (acl == NULL || from == NULL)
		return false;
	if (from->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)from;
		a.family = CORE_AF_INET;
		memcpy(a.b, &sin->sin_addr, 4);
	} else if (from->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)from;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			a.family = CORE_AF_INET;
			memcpy(a.b, sin6->sin6_addr.s6_addr + 12, 4);
		} else {
			a.family = CORE_AF_INET6;
			memcpy(a.b, sin6->sin6_addr.s6_addr, 16);
		}
	} else {
		return false;
	}
	for (size_t i = 0; i < acl->n; i++)
		if (core_prefix_contains(&acl->v[i], &a))
			return true;
	return false;
}

size_t zg_acl_count(const zg_acl_t *acl)
{
	return acl != NULL ? acl->n : 0;
}

void zg_acl_free(zg_acl_t *acl)
{
	if (acl == NULL)
		return;
	free(acl->v);
	free(acl);
}
