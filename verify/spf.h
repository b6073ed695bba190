/* spf.h - SPF evaluation with libspf2, its DNS lookups sent through our resolver (never /etc/resolv.conf). */
#ifndef RDNS_VERIFY_SPF_H
#define RDNS_VERIFY_SPF_H

#include "core/addr.h"
#include "verify/diag_findings.h"
#include "verify/resolve.h"

/* Evaluate the SPF record of domain for a mail from postmaster@domain sent by
 * ip (helo: the PTR name, for %{h} macros; may be NULL), with libspf2. Every
 * DNS lookup libspf2 makes goes to the resolvers of rc in one session whose
 * deadline is start_us + rc->deadline_ms. Fills *out (ip and domain are the
 * caller's). Returns RDNS_OK or RDNS_ENOMEM / RDNS_ECONFIG. */
int vf_spf_check(const vf_resolver_conf_t *rc, int64_t start_us, const core_addr_t *ip, const char *domain,
                 const char *helo, vf_diag_spf_t *out);

#endif
