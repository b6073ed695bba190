/* fuzz_core.c - libFuzzer target for the parsers that see request bytes: addresses,
 * prefixes, endpoints (host[:port][@key]), reverse zone names, hostnames, generic detection,
 * templates, ids, account names. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/endpoint.h"
#include "core/err.h"
#include "core/hostname.h"
#include "core/id.h"
#include "core/revname.h"
#include "core/text.h"
#include "core/zonefile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;

	core_addr_t a, b;
	char buf[CORE_REVNAME_MAX], txt[CORE_ADDR_STRLEN];
	if (core_addr_parse(s, &a) == RDNS_OK) {
		/* print → parse must give the same address */
		if (core_addr_format(&a, txt, sizeof(txt)) != RDNS_OK ||
		    core_addr_parse(txt, &b) != RDNS_OK || !core_addr_equal(&a, &b))
			abort();
		core_revname_from_addr(&a, buf, sizeof(buf));
	}
	core_prefix_t p, q, cover[8];
	char ptxt[CORE_PREFIX_STRLEN];
	if (core_prefix_parse(s, &p) == RDNS_OK) {
		if (core_prefix_format(&p, ptxt, sizeof(ptxt)) != RDNS_OK ||
		    core_prefix_parse(ptxt, &q) != RDNS_OK || q.len != p.len ||
		    !core_addr_equal(&p.addr, &q.addr))
			abort();
		core_revname_cover(&p, cover, 8);
		core_revname_zone(&p, buf, sizeof(buf));
	}
	if (core_revname_zone_parse(s, &p) == RDNS_OK && core_revname_zone(&p, buf, sizeof(buf)) != RDNS_OK)
		abort();

	char norm[CORE_HOSTNAME_MAX], why[256];
	const char *reason = NULL;
	if (core_hostname_normalize(s, norm, sizeof(norm), &reason) == RDNS_OK) {
		/* a valid name is stable and contains nothing a zone file would interpret */
		char again[CORE_HOSTNAME_MAX];
		if (core_hostname_normalize(norm, again, sizeof(again), &reason) != RDNS_OK ||
		    strcmp(norm, again))
			abort();
		if (strpbrk(norm, " \t\r\n;$()\"\\@*/_"))
			abort();
		core_addr_parse("192.0.2.10", &a);
		core_hostname_generic(norm, &a, why, sizeof(why));
		core_hostname_matches_suffix(norm, core_hostname_special_default, SIZE_MAX, NULL);
	} else if (!reason) {
		abort();
	}
	/* an endpoint's canonical text parses back to the same endpoint */
	static const unsigned ep_flags[] = {0, CORE_EP_KEY, CORE_EP_PORT_REQUIRED | CORE_EP_PORT_ZERO,
	                                    CORE_EP_BRACKET_V4, CORE_EP_NOTIFY};
	for (size_t i = 0; i < sizeof(ep_flags) / sizeof(ep_flags[0]); i++) {
		core_endpoint_t ep, ep2;
		const char *ep_why = NULL;
		char eptxt[CORE_ENDPOINT_STRLEN];
		if (core_endpoint_parse(s, ep_flags[i], 53, &ep, &ep_why) != RDNS_OK) {
			if (!ep_why)
				abort();
			continue;
		}
		if (core_endpoint_format(&ep, eptxt, sizeof(eptxt)) != RDNS_OK ||
		    core_endpoint_parse(eptxt, ep_flags[i] | CORE_EP_KEY, 53, &ep2, NULL) != RDNS_OK ||
		    memcmp(&ep, &ep2, sizeof(ep)) != 0)
			abort();
	}
	size_t idn = core_id_span(s);
	if (idn > CORE_ID_MAX_DIGITS || (idn && (s[0] == '0' || strspn(s, "0123456789") != idn)))
		abort();
	char text_why[CORE_TEXT_WHY_MAX];
	core_text_name_problem(s, 200, text_why);
	core_addr_parse("198.51.100.7", &a);
	char out[300];
	core_zonefile_template(s, &a, out, sizeof(out));
	free(s);
	return 0;
}
