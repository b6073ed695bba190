/* endpoint.c - the one "host[:port]" grammar of listen addresses, resolvers and NOTIFY targets. */
#include "endpoint.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

bool core_tsig_keyname_ok(const char *k)
{
	size_t n = strlen(k);
	if (n == 0 || n > CORE_TSIG_KEYNAME_MAX || k[0] == '.' || strstr(k, ".."))
		return false;
	return strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

/* Not one host: the unspecified address, IPv4 limited broadcast (RFC 919) or multicast
 * (RFC 5771, RFC 4291 2.7), IPv4-mapped ones included. A NOTIFY sent there reaches no
 * secondary, or every host on a link. */
static const char *not_unicast(const core_addr_t *a)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const uint8_t *v4 = NULL;
	if (a->family == CORE_AF_INET)
		v4 = a->b;
	else if (memcmp(a->b, mapped, sizeof(mapped)) == 0)
		v4 = a->b + 12;
	if (v4) {
		if ((v4[0] | v4[1] | v4[2] | v4[3]) == 0)
			return "the unspecified address 0.0.0.0 is not a host";
		if ((v4[0] & v4[1] & v4[2] & v4[3]) == 0xff)
			return "the broadcast address 255.255.255.255 is not a host";
		if ((v4[0] & 0xf0) == 0xe0)
			return "a multicast address (224.0.0.0/4) is not a host";
		return NULL;
	}
	static const uint8_t zero[16];
	if (memcmp(a->b, zero, sizeof(zero)) == 0)
		return "the unspecified address :: is not a host";
	if (a->b[0] == 0xff)
		return "a multicast address (ff00::/8) is not a host";
	return NULL;
}

static int fail(const char **why, const char *text)
{
	if (why)
		*why = text;
	return RDNS_EINVAL;
}

int core_endpoint_parse(const char *s, unsigned flags, uint16_t default_port, core_endpoint_t *out,
                        const char **why)
{
	bool need_port = flags & CORE_EP_PORT_REQUIRED;
	const char *shape =
	    need_port ? "expected ip:port or [ipv6]:port" : "expected ip, ip:port or [ipv6]:port";
	core_endpoint_t ep = {.port = default_port};
	char host[CORE_ADDR_STRLEN + 8];
	const char *port = NULL;
	char *addr = host;

	if (s == NULL)
		return fail(why, shape);
	const char *at = (flags & CORE_EP_KEY) ? strchr(s, '@') : NULL;
	size_t hlen = at ? (size_t)(at - s) : strlen(s);
	if (at) {
		if (!core_tsig_keyname_ok(at + 1))
			return fail(
			    why, "the key name after '@' must be 1 to 63 letters, digits, '-', '_' or '.'");
		memcpy(ep.key, at + 1, strlen(at + 1) + 1);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return fail(why, shape);
	memcpy(host, s, hlen);
	host[hlen] = '\0';

	if (host[0] == '[') {
		char *close = strchr(host, ']');
		if (close == NULL || (close[1] != '\0' && close[1] != ':'))
			return fail(why, need_port ? shape : "expected [ipv6] or [ipv6]:port");
		*close = '\0';
		addr = host + 1;
		if (close[1] == ':')
			port = close + 2;
		if (core_addr_parse(addr, &ep.addr) != RDNS_OK ||
		    (ep.addr.family != CORE_AF_INET6 && !(flags & CORE_EP_BRACKET_V4)))
			return fail(why, "brackets must hold an IPv6 address");
	} else {
		char *colon = strchr(host, ':');
		if (colon && !strchr(colon + 1, ':')) { /* one colon: IPv4 with a port */
			*colon = '\0';
			port = colon + 1;
		}
		if (core_addr_parse(addr, &ep.addr) != RDNS_OK)
			return fail(why, "not an IP address (names are not resolved)");
		if (port && ep.addr.family != CORE_AF_INET)
			return fail(why, "not an IP address");
	}
	const char *group = (flags & CORE_EP_UNICAST) ? not_unicast(&ep.addr) : NULL;
	if (group)
		return fail(why, group);
	if (port == NULL && need_port)
		return fail(why, shape);
	if (port) {
		size_t n = strspn(port, "0123456789");
		unsigned long v = 0;
		for (size_t i = 0; i < n && i < 6; i++)
			v = v * 10 + (unsigned long)(port[i] - '0');
		if (n == 0 || n > 5 || port[n] != '\0' || v > 65535 ||
		    (v == 0 && !(flags & CORE_EP_PORT_ZERO)))
			return fail(why, (flags & CORE_EP_PORT_ZERO)
			                     ? "the port must be a decimal 0 to 65535"
			                     : "the port must be a decimal 1 to 65535");
		ep.port = (uint16_t)v;
	}
	*out = ep;
	return RDNS_OK;
}

int core_endpoint_format(const core_endpoint_t *ep, char *buf, size_t len)
{
	char text[CORE_ADDR_STRLEN];
	if (len > 0)
		buf[0] = '\0';
	if (core_addr_format(&ep->addr, text, sizeof(text)) != RDNS_OK)
		return RDNS_EINVAL;
	int n = snprintf(buf, len, ep->addr.family == CORE_AF_INET6 ? "[%s]:%u%s%s" : "%s:%u%s%s", text,
	                 (unsigned)ep->port, ep->key[0] ? "@" : "", ep->key);
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		return RDNS_ESPACE;
	}
	return RDNS_OK;
}

void core_endpoint_sockaddr(const core_endpoint_t *ep, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (ep->addr.family == CORE_AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(ep->port);
		memcpy(&in->sin_addr, ep->addr.b, 4);
		*len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(ep->port);
		memcpy(&in6->sin6_addr, ep->addr.b, 16);
		*len = sizeof(*in6);
	}
}

/* One address of notify_source into the slot of its family. */
static int source_set(core_addr_t src[2], const core_addr_t *a, const char **why)
{
	/* the same "one host" rule as NOTIFY targets: no 0.0.0.0, ::, broadcast, multicast */
	if (not_unicast(a))
		return fail(why, "a notify_source address must be one host's (not unspecified, broadcast or "
		                 "multicast)");
	core_addr_t *slot = &src[a->family == CORE_AF_INET6 ? 1 : 0];
	if (slot->family != 0)
		return fail(why, "notify_source holds at most one IPv4 and one IPv6 address");
	*slot = *a;
	return RDNS_OK;
}

int core_notify_source_parse(const char *spec, const char *dns_listen, core_addr_t src[2], const char **why)
{
	memset(src, 0, 2 * sizeof(*src));
	if (!spec || !spec[0] || strcmp(spec, "0") == 0)
		return RDNS_OK;
	if (strcmp(spec, "dns_listen") == 0) {
		core_endpoint_t ep;
		if (!dns_listen || !dns_listen[0])
			return RDNS_OK; /* no hidden primary: nothing to speak for */
		if (core_endpoint_parse(dns_listen, CORE_EP_PORT_REQUIRED | CORE_EP_PORT_ZERO, 0, &ep,
		                        NULL) != RDNS_OK)
			return fail(why,
			            "notify_source = dns_listen, and dns_listen is not ip:port or [v6]:port");
		if (not_unicast(&ep.addr))
			return RDNS_OK; /* a wildcard listen address: the kernel picks, as it always did */
		return source_set(src, &ep.addr, why);
	}
	char buf[256];
	size_t n = strlen(spec);
	if (n >= sizeof(buf))
		return fail(why, "notify_source is too long");
	memcpy(buf, spec, n + 1);
	char *save = NULL;
	for (char *tok = strtok_r(buf, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
		core_addr_t a;
		if (core_addr_parse(tok, &a) != RDNS_OK)
			return fail(why,
			            "notify_source must be 0, dns_listen, or one or two addresses (no port)");
		if (source_set(src, &a, why) != RDNS_OK)
			return RDNS_EINVAL;
	}
	return RDNS_OK;
}
