/* csp.h - the Content-Security-Policy source grammar of panel_frame_ancestors (CSP Level 3). */
#ifndef RDNS_CORE_CSP_H
#define RDNS_CORE_CSP_H

#include <stdbool.h>
#include <stddef.h>

/* Whether s is one source expression that frame-ancestors takes (W3C CSP3 §2.3.1):
 * 'none', 'self', a scheme-source ("https:"), or a host-source
 * ([scheme "://"] host [":" port] [path]) where host is "*", "*.example.com" or a DNS
 * name or IPv4 address, and port is digits or "*". Nothing that could end the
 * directive or the header (';', ',', quotes elsewhere, white space, control or
 * non-ASCII bytes) passes, nor one longer than CORE_CSP_SOURCE_MAX. When false, *why (may be NULL) says what
 * is wrong. */
#define CORE_CSP_SOURCE_MAX 160
bool core_csp_source_ok(const char *s, const char **why);

#endif
