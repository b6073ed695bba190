/* strbuf.h - a growing NUL-terminated text buffer (shared by the API's JSON writer and
 * the data layer's array literals). */
#ifndef RDNS_CORE_STRBUF_H
#define RDNS_CORE_STRBUF_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	char *p; /* malloc()ed, NUL-terminated once anything was put; NULL before */
	size_t len, cap;
	bool failed; /* an allocation failed: later puts do nothing */
} core_strbuf_t;

/* Append n bytes of s. */
static inline void core_strbuf_put(core_strbuf_t *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (b->len + n + 1 > cap)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np) {
			b->failed = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

static inline void core_strbuf_str(core_strbuf_t *b, const char *s)
{
	core_strbuf_put(b, s, strlen(s));
}

#endif
