/* fuzz_http.c - libFuzzer target for api/http1.c: the head scan and parser agree, every
 * pointer stays inside the input, the chunked decoder gives one answer however its input
 * is split, and decoded paths are UTF-8. abort() on any broken invariant. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                             \
	do {                                                                                                 \
		if (!(x))                                                                                    \
			abort();                                                                             \
	} while (0)

static bool inside(const char *p, size_t n, const char *buf, size_t len)
{
	return p >= buf && n <= len && (size_t)(p - buf) <= len - n;
}

static bool tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool same_name(const char *a, size_t n, const char *b)
{
	return strlen(b) == n && strncasecmp(a, b, n) == 0;
}

/* An independent UTF-8 check: decode each code point and require its shortest form. */
static bool utf8_ok(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k;
		if (s[i] < 0x80) {
			i++;
			continue;
		} else if ((s[i] & 0xe0) == 0xc0) {
			cp = s[i] & 0x1f, k = 2;
		} else if ((s[i] & 0xf0) == 0xe0) {
			cp = s[i] & 0x0f, k = 3;
		} else if ((s[i] & 0xf8) == 0xf0) {
			cp = s[i] & 0x07, k = 4;
		} else {
			return false;
		}
		if (n - i < k)
			return false;
		for (size_t j = 1; j < k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
		if (cp < min[k] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k;
	}
	return true;
}

typedef struct {
	h1_rc_t rc;
	size_t used, out_len;
	unsigned status;
	const char *detail;
} ck_result_t;

/* Runs the decoder over in[0..len) in pieces of step(i) bytes (0: all at once). */
static ck_result_t decode(const char *in, size_t len, char *out, size_t cap, const uint8_t *steps,
                          size_t n_steps)
{
	h1_chunked_t c;
	h1_error_t err = {0, NULL};
	ck_result_t r = {H1_INCOMPLETE, 0, 0, 0, NULL};
	size_t k = 0;
	h1_chunked_init(&c);
	do {
		size_t piece = len - r.used;
		if (n_steps) {
			size_t s = (size_t)steps[k++ % n_steps] % 17 + 1;
			if (piece > s)
				piece = s;
		}
		size_t used = 0;
		r.rc = h1_chunked_feed(&c, in + r.used, piece, &used, out, &r.out_len, cap, &err);
		CHECK(used <= piece && r.out_len <= cap);
		CHECK(r.rc != H1_INCOMPLETE || used == piece);
		r.used += used;
	} while (r.rc == H1_INCOMPLETE && r.used < len);
	if (r.rc == H1_ERROR) {
		CHECK(err.detail && (err.status == 400 || err.status == 413));
		r.status = err.status;
		r.detail = err.detail;
	}
	return r;
}

static void check_chunked(const char *body, size_t len, const uint8_t *data, size_t size)
{
	enum { CAP = 4096 };
	char *a = malloc(CAP), *b = malloc(CAP);
	if (!a || !b)
		goto cleanup;
	static const uint8_t one[] = {0};
	ck_result_t ra = decode(body, len, a, CAP, NULL, 0);
	ck_result_t rb = decode(body, len, b, CAP, one, 1);
	CHECK(ra.rc == rb.rc && ra.used == rb.used && ra.out_len == rb.out_len && ra.status == rb.status &&
	      ra.detail == rb.detail && memcmp(a, b, ra.out_len) == 0);
	ck_result_t rc = decode(body, len, b, CAP, data, size < 64 ? size : 64);
	CHECK(ra.rc == rc.rc && ra.used == rc.used && ra.out_len == rc.out_len && ra.status == rc.status &&
	      ra.detail == rc.detail && memcmp(a, b, ra.out_len) == 0);
cleanup:
	free(a);
	free(b);
}

static void check_target(const char *target, size_t len, size_t cap)
{
	char *path = malloc(cap ? cap : 1), *out = malloc(cap ? cap : 1);
	if (!path || !out)
		goto cleanup;
	const char *q = NULL;
	size_t qlen = 0;
	h1_error_t err = {0, NULL};
	if (h1_target_path(target, len, path, cap, &q, &qlen, &err)) {
		const char *nul = memchr(path, '\0', cap);
		CHECK(nul);
		CHECK(utf8_ok((const unsigned char *)path, (size_t)(nul - path)));
	} else {
		CHECK(err.status == 400 && err.detail);
	}
	if (q) {
		CHECK(inside(q, qlen, target, len) && q[-1] == '?');
		/* the first key, and a fixed one */
		char name[32];
		size_t n = 0;
		while (n < qlen && n < sizeof(name) - 1 && q[n] != '=' && q[n] != '&' && q[n] != '%' &&
		       q[n] != '+' && q[n])
			n++;
		memcpy(name, q, n);
		name[n] = '\0';
		const char *names[] = {name, "a", ""};
		for (size_t i = 0; i < 3; i++) {
			long r = h1_query_arg(q, qlen, names[i], out, cap);
			CHECK(r >= -1 && (r == -1 || ((size_t)r < cap && out[r] == '\0')));
			/* a decoded NUL never cuts the value short ("%00" stays as text) */
			if (r > 0 && !memchr(q, '\0', qlen))
				CHECK(memchr(out, '\0', (size_t)r) == NULL);
			if (i == 0 && n > 0 && n < sizeof(name) - 1 &&
			    (n == qlen || q[n] == '=' || q[n] == '&') && cap > qlen)
				CHECK(r >= 0); /* the first key is there and anything fits */
		}
	} else {
		CHECK(qlen == 0 && !memchr(target, '?', len));
	}
cleanup:
	free(path);
	free(out);
}

static void check_head(const char *buf, size_t len, const h1_request_t *r)
{
	CHECK(r->head_len > 0 && r->head_len <= len && r->head_len <= H1_MAX_HEAD);
	CHECK(buf[r->head_len - 1] == '\n');
	CHECK(inside(r->method, r->method_len, buf, r->head_len) && r->method_len > 0);
	for (size_t i = 0; i < r->method_len; i++)
		CHECK(tchar((unsigned char)r->method[i]));
	CHECK(inside(r->target, r->target_len, buf, r->head_len));
	CHECK(r->target_len > 0 && r->target_len <= H1_MAX_TARGET);
	CHECK(r->target[0] == '/' || (r->target_len == 1 && r->target[0] == '*'));
	for (size_t i = 0; i < r->target_len; i++)
		CHECK(r->target[i] > 0x20 && r->target[i] < 0x7f);
	CHECK(r->minor == 0 || r->minor == 1);
	CHECK(r->n_headers <= H1_MAX_HEADERS);
	size_t cl = 0, te = 0, host = 0;
	for (size_t i = 0; i < r->n_headers; i++) {
		const h1_header_t *h = &r->headers[i];
		CHECK(inside(h->name, h->name_len, buf, r->head_len) && h->name_len > 0);
		CHECK(inside(h->value, h->value_len, buf, r->head_len));
		for (size_t k = 0; k < h->name_len; k++)
			CHECK(tchar((unsigned char)h->name[k]));
		for (size_t k = 0; k < h->value_len; k++) {
			unsigned char c = (unsigned char)h->value[k];
			CHECK(c >= 0x80 || (c >= 0x20 && c != 0x7f) || c == '\t');
		}
		if (h->value_len)
			CHECK(h->value[0] != ' ' && h->value[0] != '\t' &&
			      h->value[h->value_len - 1] != ' ' && h->value[h->value_len - 1] != '\t');
		cl += same_name(h->name, h->name_len, "content-length");
		te += same_name(h->name, h->name_len, "transfer-encoding");
		host += same_name(h->name, h->name_len, "host");
	}
	CHECK(host <= 1 && (r->minor == 0 || host == 1));
	CHECK(!(cl && te) && cl <= 1);
	switch (r->framing) {
	case H1_BODY_NONE: CHECK(!cl && !te); break;
	case H1_BODY_LENGTH: {
		size_t n;
		const char *v = h1_header(r, "Content-Length", &n);
		uint64_t x = 0;
		CHECK(cl == 1 && v && n > 0);
		for (size_t k = 0; k < n; k++) {
			CHECK(v[k] >= '0' && v[k] <= '9');
			x = x * 10 + (uint64_t)(v[k] - '0');
		}
		CHECK(x == r->content_length);
		break;
	}
	case H1_BODY_CHUNKED: CHECK(te >= 1 && r->minor == 1); break;
	default: abort();
	}
	CHECK(!r->expect_continue || r->minor == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact copy, so that ASan sees a read past the end */
	char *buf = malloc(size ? size : 1);
	h1_request_t *req = malloc(sizeof(*req)), *req2 = malloc(sizeof(*req2));
	if (!buf || !req || !req2)
		goto cleanup;
	memcpy(buf, data, size);

	h1_error_t err = {0, NULL};
	h1_rc_t rc = h1_parse_head(buf, size, req, &err);
	CHECK(rc == H1_OK || rc == H1_INCOMPLETE || rc == H1_ERROR);
	if (rc == H1_ERROR)
		CHECK(err.detail && (err.status == 400 || err.status == 414 || err.status == 417 ||
		                     err.status == 431 || err.status == 501 || err.status == 505));

	/* the scan: at once, then growing by 1, 7 and 61 bytes, with the state carried */
	size_t from = 0, end = h1_head_end(buf, size, &from);
	CHECK(end <= size);
	static const size_t steps[] = {1, 7, 61};
	for (size_t s = 0; s < 3; s++) {
		size_t f = 0, e = 0, l = 0;
		while (e == 0 && l < size) {
			l = l + steps[s] < size ? l + steps[s] : size;
			e = h1_head_end(buf, l, &f);
			CHECK(f <= l);
		}
		CHECK(e == end);
	}
	if (rc == H1_OK)
		CHECK(end == req->head_len);
	if (rc == H1_INCOMPLETE)
		CHECK(end == 0 && size < H1_MAX_HEAD);
	if (end)
		CHECK(rc != H1_INCOMPLETE);

	/* a prefix of a good head is incomplete, never refused; a refused prefix means a
	 * refused whole */
	size_t cuts = size < 8 ? size : 8;
	for (size_t k = 0; k < cuts; k++) {
		size_t l = size - 1 - k * (size / 8 ? size / 8 : 1);
		if (l >= size)
			break;
		h1_rc_t r2 = h1_parse_head(buf, l, req2, &err);
		if (rc == H1_OK && l < req->head_len)
			CHECK(r2 == H1_INCOMPLETE);
		if (r2 == H1_ERROR)
			CHECK(rc == H1_ERROR);
	}

	if (rc == H1_OK) {
		check_head(buf, size, req);
		/* the head alone parses the same */
		CHECK(h1_parse_head(buf, req->head_len, req2, &err) == H1_OK);
		CHECK(req2->head_len == req->head_len && req2->target == req->target &&
		      req2->n_headers == req->n_headers && req2->framing == req->framing &&
		      req2->content_length == req->content_length && req2->keep_alive == req->keep_alive);
		if (req->framing == H1_BODY_CHUNKED)
			check_chunked(buf + req->head_len, size - req->head_len, data, size);
		check_target(req->target, req->target_len, H1_MAX_TARGET + 1);
		check_target(req->target, req->target_len, 12);
	} else {
		/* the decoders see outside bytes whatever the head was */
		check_chunked(buf, size, data, size);
		check_target(buf, size, size + 1);
		check_target(buf, size, 5);
	}
cleanup:
	free(buf);
	free(req);
	free(req2);
	return 0;
}
