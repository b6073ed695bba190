/* proxy.h - the PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2), pure. */
#ifndef RDNS_API_PROXY_H
#define RDNS_API_PROXY_H

#include <stddef.h>

#include "core/addr.h"

/* Longest header accepted: a v1 line is at most 107 bytes; a v2 header's TLVs beyond
 * this are refused. */
#define API_PROXY_MAX 536

/* Parses the header at buf[0..len). H1_OK (0): *used bytes are the header, *client the
 * source address it announces (family 0 for "UNKNOWN" and v2 LOCAL: the connection's own
 * address stands). H1_INCOMPLETE (1): buf is a beginning of a header. H1_ERROR (-1):
 * not a header, or a malformed one; *why says what. */
int api_proxy_parse(const char *buf, size_t len, core_addr_t *client, size_t *used, const char **why);

#endif
