/* smtp.h - the helo diagnostic's SMTP exchange with the diagnosed address, under a deadline. */
#ifndef RDNS_VERIFY_SMTP_H
#define RDNS_VERIFY_SMTP_H

#include <stdint.h>

#include "core/addr.h"
#include "verify/diag_findings.h"

/* Connect to ip on o->port, read the 220 greeting (all its lines), send EHLO with our
 * fully qualified name (else the address literal of our end, RFC 5321 4.1.3), read the
 * reply, send QUIT; every step before deadline_us (vf_resolve_now_us() time base). Fills
 * o->kind, o->stage, o->code, o->line (printable), o->banner_name, o->ehlo_name and
 * o->err; o->ip, o->port and o->ptr are the caller's. Only ever connects to ip. */
void vf_smtp_probe(const core_addr_t *ip, int64_t deadline_us, vf_diag_helo_t *o);

#endif
