/* proxy.c - the PROXY protocol header, versions 1 (text) and 2 (binary). */
#include "api/proxy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/http1.h"
#include "core/err.h"

static const char v2_sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

static bool port_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return atol(s) <= 65535;
}

static int v1(const char *buf, size_t len, core_addr_t *client, size_t *used, const char **why)
{
	const char *nl = memchr(buf, '\n', len < 107 ? len : 107);
	if (!nl) {
		if (len >= 107) {
			*why = "the PROXY protocol line is longer than 107 bytes";
			return H1_ERROR;
		}
		return H1_INCOMPLETE;
	}
	size_t ll = (size_t)(nl - buf);
	if (ll < 1 || buf[ll - 1] != '\r') {
		*why = "the PROXY protocol line does not end in CRLF";
		return H1_ERROR;
	}
	char line[108];
	memcpy(line, buf, ll - 1);
	line[ll - 1] = 0;
	char *f[7];
	size_t n = 0;
	for (char *p = line; n < 7;) {
		f[n++] = p;
		char *sp = strchr(p, ' ');
		if (!sp)
			break;
		*sp = 0;
		p = sp + 1;
	}
	*used = ll + 1;
	memset(client, 0, sizeof(*client));
	if (n >= 2 && strcmp(f[1], "UNKNOWN") == 0)
		return H1_OK;
	core_addr_t src, dst;
	if (n != 6 || (strcmp(f[1], "TCP4") != 0 && strcmp(f[1], "TCP6") != 0) ||
	    core_addr_parse(f[2], &src) != RDNS_OK || core_addr_parse(f[3], &dst) != RDNS_OK ||
	    src.family != (f[1][3] == '4' ? CORE_AF_INET : CORE_AF_INET6) || dst.family != src.family ||
	    !port_ok(f[4]) || !port_ok(f[5])) {
		*why = "malformed PROXY protocol line";
		return H1_ERROR;
	}
	*client = src;
	return H1_OK;
}

static int v2(const unsigned char *b, size_t len, core_addr_t *client, size_t *used, const char **why)
{
	if (len < 16)
		return H1_INCOMPLETE;
	size_t body = (size_t)b[14] << 8 | b[15];
	if ((b[12] & 0xF0) != 0x20 || (b[12] & 0x0F) > 1) {
		*why = "unknown PROXY protocol version 2 command";
		return H1_ERROR;
	}
	if (16 + body > API_PROXY_MAX) {
		*why = "the PROXY protocol header is too long";
		return H1_ERROR;
	}
	if (len < 16 + body)
		return H1_INCOMPLETE;
	*used = 16 + body;
	memset(client, 0, sizeof(*client));
	if ((b[12] & 0x0F) == 0) /* LOCAL: the proxy's own connection (health checks) */
		return H1_OK;
	switch (b[13]) {
	case 0x11: /* TCP over IPv4 */
		if (body < 12)
			break;
		client->family = CORE_AF_INET;
		memcpy(client->b, b + 16, 4);
		return H1_OK;
	case 0x21: /* TCP over IPv6 */
		if (body < 36)
			break;
		client->family = CORE_AF_INET6;
		memcpy(client->b, b + 16, 16);
		return H1_OK;
	case 0x00: return H1_OK; /* UNSPEC */
	default: *why = "the PROXY protocol header is not for TCP over IPv4 or IPv6"; return H1_ERROR;
	}
	*why = "the PROXY protocol header is shorter than its addresses";
	return H1_ERROR;
}

int api_proxy_parse(const char *buf, size_t len, core_addr_t *client, size_t *used, const char **why)
{
	static const char v1_sig[] = "PROXY ";
	size_t n = len < 6 ? len : 6;
	if (memcmp(buf, v1_sig, n) == 0)
		return len < 6 ? H1_INCOMPLETE : v1(buf, len, client, used, why);
	n = len < 12 ? len : 12;
	if (memcmp(buf, v2_sig, n) == 0)
		return len < 12 ? H1_INCOMPLETE : v2((const unsigned char *)buf, len, client, used, why);
	*why = "the connection from a trusted proxy did not start with a PROXY protocol header";
	return H1_ERROR;
}
