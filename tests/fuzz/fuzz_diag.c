/* fuzz_diag.c - libFuzzer target for the diagnostics' parsers of outside bytes: DMARC and DKIM
 * records and SMTP reply lines (what any name server or mail server may send), and the
 * wording written from what they give. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verify/diag_findings.h"
#include "verify/diag_records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;

	vf_dmarc_t d;
	vf_dmarc_parse(s, &d);
	if (d.valid && (d.pct < 0 || d.pct > 100 || !vf_dmarc_is_record(s)))
		abort();
	vf_diag_finding_t f = {.id = "dmarc", .severity = VF_SEV_MEDIUM};
	vf_diag_dmarc_t od = {.domain = "example.com", .kind = VF_TXT_FOUND, .n_records = 1, .rec = d};
	vf_diag_words_dmarc(&od, &f);
	if (strnlen(f.detail, sizeof(f.detail)) == sizeof(f.detail))
		abort();

	vf_dkim_t k;
	vf_dkim_parse(s, &k);
	if (k.valid && k.revoked && k.key_bytes != 0)
		abort();
	vf_diag_dkim_t ok = {.domain = "example.com", .selector = "s1", .kind = VF_TXT_FOUND, .rec = k};
	vf_diag_words_dkim(&ok, &f);

	int code = 0;
	bool more = false;
	char name[64];
	if (vf_smtp_reply_line(s, &code, &more, name, sizeof(name)) && (code < 100 || code > 599))
		abort();

	/* a reply line as helo reports it: printable, cut */
	vf_diag_helo_t h = {
	    .ip = "192.0.2.10", .port = 25, .ptr = "mail.example.com", .kind = VF_HELO_GARBLED};
	vf_diag_printable(h.line, sizeof(h.line), s);
	for (const char *c = h.line; *c; c++)
		if (*c < 0x20 || *c >= 0x7f)
			abort();
	vf_diag_words_helo(&h, &f);
	vf_diag_selector_ok(s);
	vf_diag_is_web_name(s);
	vf_diag_parent_domain(s);
	free(s);
	return 0;
}
