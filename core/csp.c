/* csp.c - the Content-Security-Policy source grammar of panel_frame_ancestors. */
#include "csp.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static bool scheme_char(char c)
{
	return isalnum((unsigned char)c) || c == '+' || c == '-' || c == '.';
}

static bool host_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '.';
}

/* CSP3 path-part: RFC 3986 path characters, without ";" and "," (they end a source list); not
 * the NUL (strchr would find the set's own). */
static bool path_char(char c)
{
	return c && (isalnum((unsigned char)c) || strchr("-._~!$&()*+=:@/%", c) != NULL);
}

static bool fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return false;
}

bool core_csp_source_ok(const char *s, const char **why)
{
	if (!s || !s[0])
		return fail(why, "is empty");
	if (strlen(s) > CORE_CSP_SOURCE_MAX)
		return fail(why, "is longer than 160 characters");
	if (strcasecmp(s, "'none'") == 0 || strcasecmp(s, "'self'") == 0)
		return true;
	if (s[0] == '\'')
		return fail(why,
		            "is not a source frame-ancestors takes ('none', 'self', a scheme or a host)");
	const char *p = s;
	/* scheme-source or the scheme of a host-source */
	if (isalpha((unsigned char)p[0])) {
		const char *q = p;
		while (scheme_char(*q))
			q++;
		if (*q == ':' && q[1] == 0)
			return true; /* "https:" */
		if (*q == ':' && q[1] == '/' && q[2] == '/')
			p = q + 3;
	}
	/* host-char: "*", "*." labels, or labels */
	if (p[0] == '*') {
		p++;
		if (*p == '.') {
			p++;
			if (!host_char(*p))
				return fail(why, "has no host after '*.'");
		}
	} else if (!host_char(*p)) {
		return fail(why, "has no host");
	}
	while (host_char(*p)) {
		if (p[0] == '.' && (p[1] == '.' || !host_char(p[1])))
			return fail(why, "has an empty label in its host");
		p++;
	}
	if (*p == ':') {
		p++;
		if (*p == '*') {
			p++;
		} else {
			const char *d = p;
			while (isdigit((unsigned char)*p))
				p++;
			if (p == d || p - d > 5)
				return fail(why, "has a bad port (digits or '*')");
		}
	}
	if (*p == '/') {
		while (path_char(*p))
			p++;
	}
	if (*p)
		return fail(why, "has a character a CSP source may not hold (';', ',', quotes, white space, "
		                 "control or non-ASCII)");
	return true;
}
