/* hostname.c - PTR target hostname validation, special-use suffixes and generic-name detection. */
#include "hostname.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "err.h"

/* RFC 1035 §2.3.4: 63 octets per label, 255 on the wire, i.e. 253 in text without the root dot. */
#define LABEL_MAX     63
#define NAME_MAX_TEXT 253

const char *const core_hostname_special_default[] = {
    "localhost",    /* RFC 6761 */
    "local",        /* RFC 6762 (mDNS) */
    "localdomain",  /* common internal default */
    "internal",     /* ICANN reserved for private use (2024) */
    "intranet",     /* RFC 6762 appendix G */
    "lan",          /* RFC 6762 appendix G */
    "home",         /* RFC 6762 appendix G */
    "corp",         /* RFC 6762 appendix G */
    "private",      /* RFC 6762 appendix G */
    "invalid",      /* RFC 6761 */
    "test",         /* RFC 6761 */
    "example",      /* RFC 6761: the TLD only; example.com/.net/.org are ordinary names */
    "onion",        /* RFC 7686 */
    "alt",          /* RFC 9476 */
    "home.arpa",    /* RFC 8375 */
    "in-addr.arpa", /* a PTR target is never itself a reverse name */
    "ip6.arpa",
    "ipv4only.arpa", /* RFC 8880 */
    "resolver.arpa", /* RFC 9462 */
    NULL,
};

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_hex(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* Reason for a byte that may not appear in a hostname, or NULL when it may. */
static const char *bad_char_reason(unsigned char c)
{
	if (is_alpha(c) || is_digit(c) || c == '-' || c == '.')
		return NULL;
	if (c >= 0x80)
		return "contains non-ASCII bytes (raw UTF-8); use the A-label (xn--) form";
	if (c < 0x20 || c == 0x7f)
		return "contains a control character";
	switch (c) {
	case ' ': return "contains a space";
	case '_': return "contains an underscore";
	case ';': return "contains the character ';'";
	case '$': return "contains the character '$'";
	case '(': return "contains the character '('";
	case ')': return "contains the character ')'";
	case '"': return "contains the character '\"'";
	case '\\': return "contains the character '\\'";
	case '@': return "contains the character '@'";
	case '*': return "contains the character '*'";
	case '/': return "contains the character '/'";
	case ',': return "contains the character ','";
	}
	return "contains a character other than letters, digits, hyphens and dots";
}

static int fail(const char **reason, const char *why)
{
	if (reason)
		*reason = why;
	return RDNS_EINVAL;
}

/* Byte classes for the fast scan: 0 not allowed, 1 lower-case letter or
 * digit or hyphen, 2 upper-case letter, 3 dot. */
#define L1(c) [c] = 1
#define U2(c) [c] = 2
static const unsigned char hn_class[256] = {
    L1('a'), L1('b'), L1('c'), L1('d'), L1('e'), L1('f'), L1('g'), L1('h'), L1('i'),   L1('j'), L1('k'),
    L1('l'), L1('m'), L1('n'), L1('o'), L1('p'), L1('q'), L1('r'), L1('s'), L1('t'),   L1('u'), L1('v'),
    L1('w'), L1('x'), L1('y'), L1('z'), L1('0'), L1('1'), L1('2'), L1('3'), L1('4'),   L1('5'), L1('6'),
    L1('7'), L1('8'), L1('9'), L1('-'), U2('A'), U2('B'), U2('C'), U2('D'), U2('E'),   U2('F'), U2('G'),
    U2('H'), U2('I'), U2('J'), U2('K'), U2('L'), U2('M'), U2('N'), U2('O'), U2('P'),   U2('Q'), U2('R'),
    U2('S'), U2('T'), U2('U'), U2('V'), U2('W'), U2('X'), U2('Y'), U2('Z'), ['.'] = 3,
};
#undef L1
#undef U2

int core_hostname_normalize(const char *in, char *out, size_t outlen, const char **reason)
{
	if (reason)
		*reason = NULL;
	if (!in || !*in)
		return fail(reason, "is empty");

	/* Pass 1: bytes (a bad byte anywhere wins over structural faults). */
	size_t len = 0;
	for (; in[len]; len++)
		if (!hn_class[(unsigned char)in[len]])
			return fail(reason, bad_char_reason((unsigned char)in[len]));
	if (in[len - 1] == '.')
		len--; /* one optional trailing (root) dot */
	if (len == 0)
		return fail(reason, "is empty");
	if (in[0] == '.')
		return fail(reason, "starts with a dot");
	if (len > NAME_MAX_TEXT)
		return fail(reason, "is longer than 253 octets");

	/* Pass 2: labels. */
	size_t labels = 0, start = 0;
	bool all_digits = true; /* of the current label; the last one is the TLD */
	for (size_t i = 0; i <= len; i++) {
		if (i < len && in[i] != '.') {
			if (!is_digit(in[i]))
				all_digits = false;
			continue;
		}
		size_t ll = i - start;
		if (ll == 0)
			return fail(reason, "contains an empty label (two dots in a row)");
		if (ll > LABEL_MAX)
			return fail(reason, "has a label longer than 63 octets");
		if (in[start] == '-' || in[i - 1] == '-')
			return fail(reason, "has a label that starts or ends with a hyphen");
		labels++;
		start = i + 1;
		if (i < len)
			all_digits = true;
	}
	if (labels < 2)
		return fail(reason, "has a single label; a fully qualified name is needed");
	if (all_digits)
		return fail(reason, "has an all-numeric top-level label (an IP address is not a hostname)");

	if (!out || outlen < len + 1)
		return RDNS_ESPACE;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		out[i] = (char)(hn_class[c] == 2 ? c + ('a' - 'A') : c);
	}
	out[len] = '\0';
	return RDNS_OK;
}

bool core_hostname_matches_suffix(const char *name, const char *const *list, size_t n, const char **which)
{
	if (which)
		*which = NULL;
	if (!name || !list)
		return false;
	size_t nl = strlen(name);
	if (nl > 0 && name[nl - 1] == '.')
		nl--;
	for (size_t i = 0; i < n && list[i]; i++) {
		const char *suf = list[i];
		size_t sl = strlen(suf);
		if (sl > 0 && suf[sl - 1] == '.')
			sl--;
		if (sl == 0 || sl > nl)
			continue;
		/* Whole labels only: equal, or preceded by a dot in name. */
		if (sl < nl && name[nl - sl - 1] != '.')
			continue;
		if (strncasecmp(name + nl - sl, suf, sl) != 0)
			continue;
		if (which)
			*which = list[i];
		return true;
	}
	return false;
}

core_policy_t core_hostname_policy(const char *name, const char *const *special, size_t n_special,
                                   const char *const *denied, size_t n_denied, const char **which)
{
	if (special == NULL) {
		special = core_hostname_special_default;
		n_special = SIZE_MAX; /* up to its NULL */
	}
	if (core_hostname_matches_suffix(name, special, n_special, which))
		return CORE_POLICY_SPECIAL;
	if (denied != NULL && n_denied > 0 && core_hostname_matches_suffix(name, denied, n_denied, which))
		return CORE_POLICY_DENIED;
	return CORE_POLICY_OK;
}

/* ---- generic-name detection ---- */

/* Whether needle occurs in s[0..n) with a character on neither side that
 * satisfies glue (which would make the match part of a longer number or
 * hex string). */
static bool find_bounded(const char *s, size_t n, const char *needle, int (*glue)(int))
{
	size_t k = strlen(needle);
	if (k == 0 || k > n)
		return false;
	for (size_t i = 0; i + k <= n; i++) {
		if (memcmp(s + i, needle, k) != 0)
			continue;
		if (i > 0 && glue((unsigned char)s[i - 1]))
			continue;
		if (i + k < n && glue((unsigned char)s[i + k]))
			continue;
		return true;
	}
	return false;
}

/* Finds four decimal numbers 0..255 (1-3 digits each, leading zeros
 * allowed) separated by '-' or '.', not glued to further digits. With want,
 * only a quad equal to want (forward) or to want reversed counts. Writes
 * the quad found, whether it was reversed, and a word for its separators. */
static bool find_quad(const char *s, size_t n, const uint8_t *want, uint8_t q[4], bool *rev,
                      const char **form)
{
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]) || (i > 0 && is_digit(s[i - 1])))
			continue;
		size_t p = i;
		int dashes = 0, dots = 0;
		bool ok = true;
		for (int k = 0; k < 4 && ok; k++) {
			unsigned v = 0, nd = 0;
			while (p < n && is_digit(s[p]) && nd < 4) {
				v = v * 10 + (unsigned)(s[p] - '0');
				p++;
				nd++;
			}
			if (nd == 0 || nd > 3 || v > 255) {
				ok = false;
				break;
			}
			q[k] = (uint8_t)v;
			if (k < 3) {
				if (p + 1 < n && (s[p] == '-' || s[p] == '.') && is_digit(s[p + 1])) {
					if (s[p] == '-')
						dashes++;
					else
						dots++;
					p++;
				} else {
					ok = false;
				}
			}
		}
		if (!ok)
			continue;
		*form = dashes == 3 ? "dashed" : dots == 3 ? "dotted" : "mixed separators";
		if (!want) {
			*rev = false;
			return true;
		}
		if (q[0] == want[0] && q[1] == want[1] && q[2] == want[2] && q[3] == want[3]) {
			*rev = false;
			return true;
		}
		if (q[0] == want[3] && q[1] == want[2] && q[2] == want[1] && q[3] == want[0]) {
			*rev = true;
			return true;
		}
	}
	return false;
}

/* IPv4 forms of b[0..4) in s. Writes a description to d. */
static bool generic_v4(const char *s, size_t n, const uint8_t *b, char *d, size_t dlen)
{
	uint8_t q[4];
	bool rev = false;
	const char *form = NULL;
	char txt[32];

	if (find_quad(s, n, b, q, &rev, &form)) {
		snprintf(d, dlen, "contains the address %u.%u.%u.%u (%s%s)", b[0], b[1], b[2], b[3],
		         rev ? "reversed, " : "", form);
		return true;
	}
	snprintf(txt, sizeof(txt), "%02x%02x%02x%02x", b[0], b[1], b[2], b[3]);
	if (find_bounded(s, n, txt, is_hex)) {
		snprintf(d, dlen, "contains the address %u.%u.%u.%u (hex)", b[0], b[1], b[2], b[3]);
		return true;
	}
	snprintf(txt, sizeof(txt), "%03u%03u%03u%03u", b[0], b[1], b[2], b[3]);
	if (find_bounded(s, n, txt, is_digit)) {
		snprintf(d, dlen, "contains the address %u.%u.%u.%u (zero-padded digits)", b[0], b[1], b[2],
		         b[3]);
		return true;
	}
	snprintf(txt, sizeof(txt), "%03u%03u%03u%03u", b[3], b[2], b[1], b[0]);
	if (find_bounded(s, n, txt, is_digit)) {
		snprintf(d, dlen, "contains the address %u.%u.%u.%u (reversed zero-padded digits)", b[0],
		         b[1], b[2], b[3]);
		return true;
	}
	return false;
}

/* IPv6 text with groups joined by sep: RFC 5952 compression when compress,
 * else all eight groups, each zero-padded to four digits when pad. */
static void v6_text(const uint8_t *b, char sep, bool compress, bool pad, char *out, size_t outlen)
{
	unsigned g[8];
	for (int i = 0; i < 8; i++)
		g[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
	int best = -1, bestlen = 0;
	if (compress) {
		for (int i = 0; i < 8;) {
			if (g[i] != 0) {
				i++;
				continue;
			}
			int j = i;
			while (j < 8 && g[j] == 0)
				j++;
			if (j - i > bestlen && j - i >= 2) {
				best = i;
				bestlen = j - i;
			}
			i = j;
		}
	}
	size_t o = 0;
	out[0] = '\0';
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			o += (size_t)snprintf(out + o, outlen - o, "%c%c", sep, sep);
			i += bestlen - 1;
			continue;
		}
		if (i > 0 && !(best >= 0 && i == best + bestlen))
			o += (size_t)snprintf(out + o, outlen - o, "%c", sep);
		o += (size_t)snprintf(out + o, outlen - o, pad ? "%04x" : "%x", g[i]);
	}
}

static bool generic_v6(const char *s, size_t n, const uint8_t *b, char *d, size_t dlen)
{
	char txt[64], canon[48];
	v6_text(b, ':', true, false, canon, sizeof(canon));

	size_t o = 0;
	for (int i = 0; i < 16; i++)
		o += (size_t)snprintf(txt + o, sizeof(txt) - o, "%02x", b[i]);
	if (find_bounded(s, n, txt, is_hex)) {
		snprintf(d, dlen, "contains the address %s (32 hex digits)", canon);
		return true;
	}
	o = 0;
	for (int i = 15; i >= 0; i--)
		o += (size_t)snprintf(txt + o, sizeof(txt) - o, "%x%x", b[i] & 0xf, b[i] >> 4);
	if (find_bounded(s, n, txt, is_hex)) {
		snprintf(d, dlen, "contains the address %s (reversed nibbles)", canon);
		return true;
	}
	static const struct {
		bool compress, pad;
		const char *form;
	} forms[] = {
	    {true, false, "dashed, compressed"},
	    {false, false, "dashed"},
	    {false, true, "dashed, zero-padded"},
	};
	for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
		v6_text(b, '-', forms[f].compress, forms[f].pad, txt, sizeof(txt));
		/* Very short compressed forms ("--1") would match by accident. */
		if (strlen(txt) < 7)
			continue;
		if (find_bounded(s, n, txt, is_hex)) {
			snprintf(d, dlen, "contains the address %s (%s)", canon, forms[f].form);
			return true;
		}
	}
	return false;
}

/* Words that mark a name as generic (access networks, dynamic pools).
 * Matched in the labels left of the registered domain (all but the last
 * two labels, so an ISP's own domain such as pool.example does not count).
 * A plain word must stand alone between non-letters: "dsl-1", "pool3",
 * "dynamic-pool" match, "liverpool", "dynamics", "custom" do not. An affix
 * word is distinctive enough to match inside a longer run of letters
 * ("dhcpclient", "adslgw"). Deliberately absent: "static" (many real
 * servers are static-something; an embedded address catches the generic
 * ones) and "host" (host1.example.com is an ordinary server name). */
static const struct {
	const char *word;
	bool affix;
} generic_words[] = {
    {"dynamic", false}, {"dyn", false},     {"dhcp", true},      {"pool", false},    {"dsl", false},
    {"adsl", true},     {"xdsl", true},     {"vdsl", true},      {"cable", false},   {"broadband", true},
    {"client", false},  {"clients", false}, {"dialup", true},    {"dial-up", false}, {"dialin", false},
    {"ppp", false},     {"pppoe", true},    {"customer", false}, {"cust", false},    {"unassigned", true},
    {"cpe", false},
};

static bool generic_word(const char *s, size_t n, const char **word)
{
	/* Scan only up to the dot before the second-to-last label. */
	size_t dots = 0, end = n;
	while (end > 0) {
		if (s[end - 1] == '.' && ++dots == 2)
			break;
		end--;
	}
	if (dots < 2)
		return false;
	end--; /* drop that dot */

	/* Position first, so the reason names the leftmost word. */
	for (size_t i = 0; i < end; i++) {
		for (size_t w = 0; w < sizeof(generic_words) / sizeof(generic_words[0]); w++) {
			const char *wd = generic_words[w].word;
			size_t k = strlen(wd);
			if (i + k > end || memcmp(s + i, wd, k) != 0)
				continue;
			if (!generic_words[w].affix) {
				if (i > 0 && is_alpha(s[i - 1]))
					continue;
				if (i + k < n && is_alpha(s[i + k]))
					continue;
			}
			*word = wd;
			return true;
		}
	}
	return false;
}

unsigned core_hostname_generic(const char *name, const core_addr_t *addr, char *why, size_t whylen)
{
	char s[1024];
	char d_addr[160] = "";
	unsigned flags = 0;

	if (why && whylen)
		why[0] = '\0';
	if (!name)
		return 0;
	size_t n = strlen(name);
	if (n >= sizeof(s))
		n = sizeof(s) - 1;
	for (size_t i = 0; i < n; i++)
		s[i] = (char)lower((unsigned char)name[i]);
	s[n] = '\0';
	if (n > 0 && s[n - 1] == '.')
		s[--n] = '\0';

	if (!addr) {
		uint8_t q[4];
		bool rev;
		const char *form;
		if (find_quad(s, n, NULL, q, &rev, &form)) {
			snprintf(d_addr, sizeof(d_addr), "contains the IPv4-like address %u.%u.%u.%u (%s)",
			         q[0], q[1], q[2], q[3], form);
			flags |= CORE_GENERIC_ADDR;
		}
	} else if (addr->family == CORE_AF_INET) {
		if (generic_v4(s, n, addr->b, d_addr, sizeof(d_addr)))
			flags |= CORE_GENERIC_ADDR;
	} else if (addr->family == CORE_AF_INET6) {
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		if (generic_v6(s, n, addr->b, d_addr, sizeof(d_addr)))
			flags |= CORE_GENERIC_ADDR;
		else if (memcmp(addr->b, mapped, sizeof(mapped)) == 0 &&
		         generic_v4(s, n, addr->b + 12, d_addr, sizeof(d_addr)))
			flags |= CORE_GENERIC_ADDR;
	}

	const char *word = NULL;
	if (generic_word(s, n, &word))
		flags |= CORE_GENERIC_WORD;

	if (why && whylen) {
		if (flags == (CORE_GENERIC_ADDR | CORE_GENERIC_WORD))
			snprintf(why, whylen, "%s; contains the word '%s'", d_addr, word);
		else if (flags & CORE_GENERIC_ADDR)
			snprintf(why, whylen, "%s", d_addr);
		else if (flags & CORE_GENERIC_WORD)
			snprintf(why, whylen, "contains the word '%s'", word);
	}
	return flags;
}
