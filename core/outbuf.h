/* outbuf.h - copying a finished text into a caller's buffer (shared by core modules). */
#ifndef RDNS_CORE_OUTBUF_H
#define RDNS_CORE_OUTBUF_H

#include <stddef.h>
#include <string.h>

#include "core/err.h"

/* Copy text[0..n) and a NUL into buf; RDNS_ESPACE (buf emptied when possible) if it does not fit. */
static inline int core_outbuf_copy(const char *text, size_t n, char *buf, size_t len)
{
	if (buf == NULL || len < n + 1) {
		if (buf != NULL && len > 0)
			buf[0] = '\0';
		return RDNS_ESPACE;
	}
	memcpy(buf, text, n);
	buf[n] = '\0';
	return RDNS_OK;
}

#endif
