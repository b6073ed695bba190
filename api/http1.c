/* http1.c - strict HTTP/1.1 request framing (RFC 9112): the head, chunked bodies, targets
 * and query strings. Pure: no I/O, no allocation, no global state. */
#include "http1.h"

#include <string.h>

#include "core/text.h"

#define CHUNK_LINE_MAX 256  /* chunk-size and its extensions, without the CRLF */
#define TRAILER_MAX    4096 /* the whole trailer section */

static h1_rc_t fail(h1_error_t *err, unsigned status, const char *detail)
{
	if (err) {
		err->status = status;
		err->detail = detail;
	}
	return H1_ERROR;
}

/* ---- character classes (RFC 9110 5.6.2, 5.5; RFC 3986 2) ---- */

static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_vchar(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e;
}

static bool is_ws(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* a field-value byte: VCHAR, obs-text, SP or HTAB (RFC 9110 5.5) */
static bool is_field_byte(unsigned char c)
{
	return is_vchar(c) || c >= 0x80 || is_ws(c);
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool ieq(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

static bool all_tchar(const char *p, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_tchar((unsigned char)p[i]))
			return false;
	return true;
}

/* uri-host [ ":" port ] (RFC 9110 7.2, RFC 3986 3.2.2): reg-name, IP-literal or IPv4,
 * checked for its characters only. An empty host is allowed when allow_empty. */
static bool authority_valid(const char *p, size_t n, bool allow_empty)
{
	size_t i = 0;
	if (n > 0 && p[0] == '[') {
		for (i = 1; i < n && p[i] != ']'; i++) {
			unsigned char c = (unsigned char)p[i];
			if (!(hexval(c) >= 0 || c == ':' || c == '.' || (c >= 'a' && c <= 'z') ||
			      (c >= 'A' && c <= 'Z') || strchr("-_~!$&'()*+,;=", c)))
				return false;
		}
		if (i == n || i == 1)
			return false;
		i++;
	} else {
		for (; i < n && p[i] != ':'; i++) {
			unsigned char c = (unsigned char)p[i];
			if (c == '%') {
				if (i + 2 >= n || hexval((unsigned char)p[i + 1]) < 0 ||
				    hexval((unsigned char)p[i + 2]) < 0)
					return false;
				i += 2;
				continue;
			}
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			      (c && strchr("-._~!$&'()*+,;=", c))))
				return false;
		}
		if (i == 0 && !allow_empty)
			return false;
	}
	if (i == n)
		return true;
	if (p[i] != ':')
		return false;
	for (i++; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

/* ---- the request line (RFC 9112 3) ---- */

static const char BAD_LINE[] = "the request line is not HTTP/1.x";

/* Checks the version at p[0..n), a prefix of it when !complete. 0: fine (or a fine prefix),
 * else the status. */
static unsigned version_check(const char *p, size_t n, bool complete, int *minor)
{
	static const char pat[] = "HTTP/d.d";
	if (n > 8)
		return 400;
	for (size_t i = 0; i < n; i++) {
		if (pat[i] == 'd' ? (p[i] < '0' || p[i] > '9') : p[i] != pat[i])
			return 400;
	}
	if (!complete)
		return 0;
	if (n != 8)
		return 400;
	if (p[5] != '1')
		return 505;
	/* RFC 9112 2.3: a higher minor version of HTTP/1 is processed as 1.1, the highest
	 * this server implements */
	*minor = p[7] == '0' ? 0 : 1;
	return 0;
}

/* Reduces an absolute-form target (RFC 9112 3.2.2) to its path and query. */
static h1_rc_t absolute_form(h1_request_t *req, h1_error_t *err)
{
	const char *t = req->target;
	size_t n = req->target_len, s;
	if (n >= 7 && ieq(t, 7, "http://"))
		s = 7;
	else if (n >= 8 && ieq(t, 8, "https://"))
		s = 8;
	else
		return fail(err, 400, "the request-target is not origin-form, absolute-form or *");
	size_t e = s;
	while (e < n && t[e] != '/' && t[e] != '?')
		e++;
	if (memchr(t + s, '@', e - s))
		return fail(err, 400, "the request-target has userinfo");
	if (!authority_valid(t + s, e - s, false))
		return fail(err, 400, "the request-target has an invalid authority");
	if (e == n) {
		/* an empty path is "/": the last '/' of "://" is one, inside the buffer */
		req->target = t + s - 1;
		req->target_len = 1;
		return H1_OK;
	}
	if (t[e] == '?')
		return fail(err, 400, "an absolute-form target with a query needs a path");
	req->target = t + e;
	req->target_len = n - e;
	return H1_OK;
}

/* Parses the request line p[0..n) (without its line end); when !complete, p is the start
 * of a line still arriving and only what is there is checked: H1_INCOMPLETE if it is fine
 * so far. */
static h1_rc_t request_line(const char *p, size_t n, bool complete, h1_request_t *req, h1_error_t *err)
{
	size_t i = 0;
	while (i < n && is_tchar((unsigned char)p[i]))
		i++;
	if (i == n && !complete)
		return H1_INCOMPLETE;
	if (i == 0 || i == n || p[i] != ' ')
		return fail(err, 400, BAD_LINE);
	req->method = p;
	req->method_len = i;

	size_t t = ++i;
	while (i < n && p[i] != ' ') {
		if (!is_vchar((unsigned char)p[i]))
			return fail(err, 400, "the request-target has a byte that is not visible ASCII");
		if (i - t >= H1_MAX_TARGET)
			return fail(err, 414, "the request-target is too long");
		i++;
	}
	if (i == n && !complete)
		return H1_INCOMPLETE;
	if (i == t || i == n)
		return fail(err, 400, BAD_LINE);
	req->target = p + t;
	req->target_len = i - t;

	i++;
	unsigned st = version_check(p + i, n - i, complete, &req->minor);
	if (st == 505)
		return fail(err, 505, "the HTTP version is not supported");
	if (st)
		return fail(err, 400, BAD_LINE);
	if (!complete)
		return H1_INCOMPLETE;

	if (req->target[0] == '/')
		return H1_OK;
	if (req->target_len == 1 && req->target[0] == '*') {
		if (req->method_len == 7 && !memcmp(req->method, "OPTIONS", 7))
			return H1_OK;
		return fail(err, 400, "the request-target * is only for OPTIONS");
	}
	return absolute_form(req, err);
}

/* ---- field semantics ---- */

/* Walks the comma-separated list elements (RFC 9110 5.6.1) of every field called name,
 * OWS trimmed; empty elements are counted in *empty and not passed on. */
typedef struct {
	const h1_request_t *req;
	const char *name;
	size_t field; /* next field to look at */
	const char *v;
	size_t vlen, pos;
	bool in_field;
} list_iter_t;

static bool list_next(list_iter_t *it, const char **el, size_t *el_len, size_t *empty)
{
	for (;;) {
		if (!it->in_field) {
			while (it->field < it->req->n_headers &&
			       !ieq(it->req->headers[it->field].name, it->req->headers[it->field].name_len,
			            it->name))
				it->field++;
			if (it->field == it->req->n_headers)
				return false;
			it->v = it->req->headers[it->field].value;
			it->vlen = it->req->headers[it->field].value_len;
			it->pos = 0;
			it->in_field = true;
			it->field++;
		}
		if (it->pos > it->vlen) {
			it->in_field = false;
			continue;
		}
		size_t s = it->pos, e = s;
		while (e < it->vlen && it->v[e] != ',')
			e++;
		it->pos = e + 1;
		while (s < e && is_ws((unsigned char)it->v[s]))
			s++;
		while (e > s && is_ws((unsigned char)it->v[e - 1]))
			e--;
		if (s == e) {
			(*empty)++;
			continue;
		}
		*el = it->v + s;
		*el_len = e - s;
		return true;
	}
}

static size_t count_fields(const h1_request_t *req, const char *name, size_t *first)
{
	size_t n = 0;
	for (size_t i = 0; i < req->n_headers; i++) {
		if (ieq(req->headers[i].name, req->headers[i].name_len, name)) {
			if (n++ == 0)
				*first = i;
		}
	}
	return n;
}

static h1_rc_t semantics(h1_request_t *req, h1_error_t *err)
{
	size_t at = 0;
	/* RFC 9112 3.2: no Host in HTTP/1.1, more than one, or an invalid one is a 400 */
	size_t hosts = count_fields(req, "Host", &at);
	if (hosts == 0 && req->minor == 1)
		return fail(err, 400, "no Host field");
	if (hosts > 1)
		return fail(err, 400, "two Host fields");
	if (hosts == 1 && !authority_valid(req->headers[at].value, req->headers[at].value_len, true))
		return fail(err, 400, "the Host field is not a host and port");

	/* RFC 9112 6.3: Content-Length is 1*DIGIT, once */
	size_t cls = count_fields(req, "Content-Length", &at);
	if (cls > 1)
		return fail(err, 400, "two Content-Length fields");
	if (cls == 1) {
		const h1_header_t *h = &req->headers[at];
		uint64_t v = 0;
		if (h->value_len == 0)
			return fail(err, 400, "Content-Length is not a number");
		for (size_t i = 0; i < h->value_len; i++) {
			char c = h->value[i];
			if (c < '0' || c > '9')
				return fail(err, 400, "Content-Length is not a number");
			if (v > (UINT64_MAX - (uint64_t)(c - '0')) / 10)
				return fail(err, 400, "Content-Length is too large");
			v = v * 10 + (uint64_t)(c - '0');
		}
		req->framing = H1_BODY_LENGTH;
		req->content_length = v;
	}

	/* RFC 9112 6.1: Transfer-Encoding overrides Content-Length, which is a smuggling
	 * attempt; in HTTP/1.0 the framing is faulty. Only a single "chunked" is served. */
	size_t tes = count_fields(req, "Transfer-Encoding", &at);
	if (tes > 0) {
		if (cls > 0)
			return fail(err, 400, "Transfer-Encoding with Content-Length");
		if (req->minor == 0)
			return fail(err, 400, "Transfer-Encoding in HTTP/1.0");
		list_iter_t it = {.req = req, .name = "Transfer-Encoding"};
		const char *el;
		size_t el_len, empty = 0, n = 0;
		bool chunked = false;
		while (list_next(&it, &el, &el_len, &empty)) {
			/* transfer-coding = token *( OWS ";" OWS transfer-parameter ) */
			size_t k = 0;
			while (k < el_len && is_tchar((unsigned char)el[k]))
				k++;
			if (k == 0)
				return fail(err, 400, "Transfer-Encoding is not a list of codings");
			chunked = k == el_len && ieq(el, el_len, "chunked");
			n++;
		}
		if (empty)
			return fail(err, 400, "Transfer-Encoding has an empty element");
		if (n != 1 || !chunked)
			return fail(err, 501, "unsupported transfer coding");
		req->framing = H1_BODY_CHUNKED;
	}

	/* RFC 9112 9.3: persistence */
	list_iter_t it = {.req = req, .name = "Connection"};
	const char *el;
	size_t el_len, empty = 0;
	bool close = false, keep = false;
	while (list_next(&it, &el, &el_len, &empty)) {
		if (!all_tchar(el, el_len))
			return fail(err, 400, "Connection is not a list of tokens");
		if (ieq(el, el_len, "close"))
			close = true;
		else if (ieq(el, el_len, "keep-alive"))
			keep = true;
	}
	req->keep_alive = !close && (req->minor == 1 || keep);

	/* RFC 9110 10.1.1: 100-continue is the only expectation; ignored in HTTP/1.0 */
	it = (list_iter_t){.req = req, .name = "Expect"};
	bool cont = false;
	while (list_next(&it, &el, &el_len, &empty)) {
		if (!ieq(el, el_len, "100-continue"))
			return fail(err, 417, "unsupported expectation");
		cont = true;
	}
	req->expect_continue = cont && req->minor == 1;
	return H1_OK;
}

/* ---- the head ---- */

/* Parses the field line p[0..n) (without its line end) into req. */
static h1_rc_t field_line(const char *p, size_t n, h1_request_t *req, h1_error_t *err)
{
	if (is_ws((unsigned char)p[0]))
		return fail(err, 400, "a field line starts with white space (obs-fold)");
	size_t i = 0;
	while (i < n && is_tchar((unsigned char)p[i]))
		i++;
	if (i < n && is_ws((unsigned char)p[i]))
		return fail(err, 400, "white space before a field's colon");
	if (i == n || p[i] != ':')
		return fail(err, 400, "a field line is not name: value");
	if (i == 0)
		return fail(err, 400, "a field has an empty name");
	size_t s = i + 1, e = n;
	while (s < e && is_ws((unsigned char)p[s]))
		s++;
	while (e > s && is_ws((unsigned char)p[e - 1]))
		e--;
	for (size_t k = s; k < e; k++)
		if (!is_field_byte((unsigned char)p[k]))
			return fail(err, 400, "a field value has a control character");
	if (req->n_headers == H1_MAX_HEADERS)
		return fail(err, 431, "too many header fields");
	h1_header_t *h = &req->headers[req->n_headers++];
	h->name = p;
	h->name_len = i;
	h->value = p + s;
	h->value_len = e - s;
	return H1_OK;
}

h1_rc_t h1_parse_head(const char *buf, size_t len, h1_request_t *req, h1_error_t *err)
{
	static const char BARE_CR[] = "a bare CR in the head";
	size_t pos = 0;
	bool have_line = false;

	memset(req, 0, sizeof(*req));
	/* RFC 9112 2.2: empty lines before the request line are ignored */
	while (pos < len && (buf[pos] == '\n' || buf[pos] == '\r')) {
		if (buf[pos] == '\n') {
			pos++;
		} else if (pos + 1 == len) {
			break;
		} else if (buf[pos + 1] == '\n') {
			pos += 2;
		} else {
			return fail(err, 400, BARE_CR);
		}
	}
	while (pos < len) {
		const char *lf = memchr(buf + pos, '\n', len - pos);
		if (!lf)
			break;
		size_t end = (size_t)(lf - buf), n = end - pos;
		if (n > 0 && buf[end - 1] == '\r')
			n--;
		if (memchr(buf + pos, '\r', n))
			return fail(err, 400, BARE_CR);
		/* the head is this line and at least one more LF, or ends here */
		if (end + 1 + (have_line && n == 0 ? 0 : 1) > H1_MAX_HEAD)
			return fail(err, 431, "the head is too long");
		if (!have_line) {
			if (request_line(buf + pos, n, true, req, err) != H1_OK)
				return H1_ERROR;
			have_line = true;
		} else if (n == 0) {
			req->head_len = end + 1;
			return semantics(req, err);
		} else if (field_line(buf + pos, n, req, err) != H1_OK) {
			return H1_ERROR;
		}
		pos = end + 1;
	}
	/* the line still arriving at buf[pos..len) */
	size_t n = len - pos;
	if (n > 0 && buf[len - 1] == '\r')
		n--; /* perhaps the CR of a CRLF */
	if (memchr(buf + pos, '\r', n))
		return fail(err, 400, BARE_CR);
	if (!have_line && request_line(buf + pos, n, false, req, err) == H1_ERROR)
		return H1_ERROR;
	if (have_line && n > 0 && req->n_headers == H1_MAX_HEADERS)
		return fail(err, 431, "too many header fields");
	if (len >= H1_MAX_HEAD)
		return fail(err, 431, "the head is too long");
	return H1_INCOMPLETE;
}

/* Whether the line ending with the LF at buf[lf] is empty ("" or "\r"). */
static bool empty_line(const char *buf, size_t lf)
{
	if (lf == 0 || buf[lf - 1] == '\n')
		return true;
	return buf[lf - 1] == '\r' && (lf == 1 || buf[lf - 2] == '\n');
}

size_t h1_head_end(const char *buf, size_t len, size_t *from)
{
	size_t i = *from < len ? *from : len;
	for (;;) {
		const char *lf = memchr(buf + i, '\n', len - i);
		if (!lf) {
			*from = len;
			return 0;
		}
		i = (size_t)(lf - buf);
		/* The head ends at the first empty line after a non-empty one: an empty line
		 * after an empty one is still before the request line (RFC 9112 2.2). The look
		 * back is at most three bytes, so the scan is O(new bytes). */
		if (empty_line(buf, i)) {
			size_t start = i > 0 && buf[i - 1] == '\r' ? i - 1 : i;
			if (start > 0 && !empty_line(buf, start - 1)) {
				*from = i + 1;
				return i + 1;
			}
		}
		i++;
	}
}

const char *h1_header(const h1_request_t *req, const char *name, size_t *len)
{
	for (size_t i = 0; i < req->n_headers; i++) {
		if (ieq(req->headers[i].name, req->headers[i].name_len, name)) {
			*len = req->headers[i].value_len;
			return req->headers[i].value;
		}
	}
	*len = 0;
	return NULL;
}

/* ---- chunked bodies (RFC 9112 7.1) ---- */

enum {
	CK_SIZE0,      /* first hex digit of chunk-size */
	CK_SIZE,       /* more hex digits */
	CK_EXT_SEMI,   /* BWS before ";" */
	CK_EXT_NAME0,  /* BWS after ";", before the name */
	CK_EXT_NAME,   /* in the name */
	CK_EXT_EQ,     /* BWS after the name: "=" or ";" */
	CK_EXT_VAL0,   /* BWS after "=" */
	CK_EXT_TOKEN,  /* in a token value */
	CK_EXT_QUOTED, /* in a quoted-string value */
	CK_EXT_ESC,    /* after a backslash in it */
	CK_EXT_AFTERQ, /* after the closing quote */
	CK_SIZE_LF,    /* CR seen at the end of the size line */
	CK_DATA,
	CK_DATA_CR, /* the line end after the data */
	CK_DATA_LF,
	CK_TR_START, /* start of a trailer line, or of the final empty line */
	CK_TR_NAME,
	CK_TR_VALUE,
	CK_TR_LF,  /* CR seen at the end of a trailer field */
	CK_END_LF, /* CR seen on the final empty line */
	CK_DONE,
	CK_FAILED,
};

void h1_chunked_init(h1_chunked_t *c)
{
	c->state = CK_SIZE0;
	c->left = 0;
	c->line = 0;
}

/* The size line ended: data follows, or the trailer section after the last chunk. */
static int size_line_end(h1_chunked_t *c, size_t out_len, size_t out_cap, h1_error_t *err)
{
	c->line = 0;
	if (c->left == 0)
		return CK_TR_START; /* c->left now counts the trailer section's bytes */
	if (c->left > out_cap - out_len) {
		fail(err, 413, "the body is too large");
		return CK_FAILED;
	}
	return CK_DATA;
}

/* Where a chunk extension's token or value ends: the state after byte ch, or CK_FAILED. */
static int ext_after(unsigned char ch)
{
	if (ch == ';')
		return CK_EXT_NAME0;
	if (is_ws(ch))
		return CK_EXT_SEMI;
	if (ch == '\r')
		return CK_SIZE_LF;
	return CK_FAILED;
}

h1_rc_t h1_chunked_feed(h1_chunked_t *c, const char *in, size_t len, size_t *used, char *out, size_t *out_len,
                        size_t out_cap, h1_error_t *err)
{
	static const char BAD_SIZE[] = "a chunk-size line is malformed";
	static const char BAD_TRAILER[] = "a trailer field is malformed";
	size_t i = 0;

	if (c->state == CK_DONE) {
		*used = 0;
		return H1_OK;
	}
	if (c->state == CK_FAILED) {
		*used = 0;
		return fail(err, 400, "the chunked body was already refused");
	}
	while (i < len) {
		unsigned char ch = (unsigned char)in[i];
		int st = c->state, next = CK_FAILED;
		const char *detail = BAD_SIZE;

		if (st == CK_DATA) {
			size_t n = len - i;
			if (n > c->left)
				n = (size_t)c->left;
			if (n > out_cap - *out_len) {
				c->state = CK_FAILED;
				*used = i;
				return fail(err, 413, "the body is too large");
			}
			memcpy(out + *out_len, in + i, n);
			*out_len += n;
			c->left -= n;
			i += n;
			if (c->left == 0)
				c->state = CK_DATA_CR;
			continue;
		}
		if (st <= CK_SIZE_LF) {
			/* the size line: bounded, its LF (or CRLF) ends it */
			if (++c->line > CHUNK_LINE_MAX + 2) {
				c->state = CK_FAILED;
				*used = i;
				return fail(err, 400, "a chunk-size line is too long");
			}
			if (ch == '\n' && st != CK_SIZE0 && st != CK_EXT_SEMI && st != CK_EXT_NAME0 &&
			    st != CK_EXT_EQ && st != CK_EXT_VAL0 && st != CK_EXT_QUOTED && st != CK_EXT_ESC) {
				next = size_line_end(c, *out_len, out_cap, err);
				if (next == CK_FAILED) {
					c->state = CK_FAILED;
					*used = i;
					return H1_ERROR;
				}
				c->state = next;
				i++;
				continue;
			}
		}
		switch (st) {
		case CK_SIZE0:
		case CK_SIZE: {
			int h = hexval(ch);
			if (h >= 0) {
				if (c->left > UINT64_MAX >> 4) {
					detail = "a chunk size is too large";
					break;
				}
				c->left = c->left << 4 | (uint64_t)h;
				next = CK_SIZE;
			} else if (st == CK_SIZE) {
				next = ext_after(ch);
			}
			break;
		}
		case CK_EXT_SEMI:
			next = is_ws(ch) ? CK_EXT_SEMI : ch == ';' ? CK_EXT_NAME0 : CK_FAILED;
			break;
		case CK_EXT_NAME0:
			next = is_ws(ch) ? CK_EXT_NAME0 : is_tchar(ch) ? CK_EXT_NAME : CK_FAILED;
			break;
		case CK_EXT_NAME:
			next = is_tchar(ch) ? CK_EXT_NAME : ch == '=' ? CK_EXT_VAL0 : ext_after(ch);
			if (next == CK_EXT_SEMI)
				next = CK_EXT_EQ;
			break;
		case CK_EXT_EQ:
			next = is_ws(ch)   ? CK_EXT_EQ
			       : ch == '=' ? CK_EXT_VAL0
			       : ch == ';' ? CK_EXT_NAME0
			                   : CK_FAILED;
			break;
		case CK_EXT_VAL0:
			next = is_ws(ch)      ? CK_EXT_VAL0
			       : ch == '"'    ? CK_EXT_QUOTED
			       : is_tchar(ch) ? CK_EXT_TOKEN
			                      : CK_FAILED;
			break;
		case CK_EXT_TOKEN: next = is_tchar(ch) ? CK_EXT_TOKEN : ext_after(ch); break;
		case CK_EXT_QUOTED:
			/* qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text */
			next = ch == '"'           ? CK_EXT_AFTERQ
			       : ch == '\\'        ? CK_EXT_ESC
			       : is_field_byte(ch) ? CK_EXT_QUOTED
			                           : CK_FAILED;
			break;
		case CK_EXT_ESC: next = is_field_byte(ch) ? CK_EXT_QUOTED : CK_FAILED; break;
		case CK_EXT_AFTERQ: next = ext_after(ch); break;
		case CK_SIZE_LF:
			detail = "a bare CR in a chunk-size line";
			break; /* the LF was taken above */
		case CK_DATA_CR:
			next = ch == '\r' ? CK_DATA_LF : ch == '\n' ? CK_SIZE0 : CK_FAILED;
			detail = "chunk data not followed by CRLF";
			break;
		case CK_DATA_LF:
			next = ch == '\n' ? CK_SIZE0 : CK_FAILED;
			detail = "chunk data not followed by CRLF";
			break;
		case CK_TR_START:
		case CK_TR_NAME:
		case CK_TR_VALUE:
		case CK_TR_LF:
		case CK_END_LF:
			if (++c->left > TRAILER_MAX) {
				detail = "the trailer section is too long";
				break;
			}
			detail = BAD_TRAILER;
			if (st == CK_TR_START) {
				next = ch == '\r'     ? CK_END_LF
				       : ch == '\n'   ? CK_DONE
				       : is_tchar(ch) ? CK_TR_NAME
				                      : CK_FAILED;
				if (is_ws(ch))
					detail = "a trailer line starts with white space (obs-fold)";
			} else if (st == CK_TR_NAME) {
				next = is_tchar(ch) ? CK_TR_NAME : ch == ':' ? CK_TR_VALUE : CK_FAILED;
				if (is_ws(ch))
					detail = "white space before a trailer field's colon";
			} else if (st == CK_TR_VALUE) {
				next = ch == '\r'          ? CK_TR_LF
				       : ch == '\n'        ? CK_TR_START
				       : is_field_byte(ch) ? CK_TR_VALUE
				                           : CK_FAILED;
			} else if (st == CK_TR_LF) {
				next = ch == '\n' ? CK_TR_START : CK_FAILED;
				detail = "a bare CR in a trailer field";
			} else {
				next = ch == '\n' ? CK_DONE : CK_FAILED;
				detail = "a bare CR after the trailer section";
			}
			break;
		default: break;
		}
		if (next == CK_FAILED) {
			c->state = CK_FAILED;
			*used = i;
			return fail(err, 400, detail);
		}
		c->state = next;
		i++;
		if (next == CK_DONE) {
			*used = i;
			return H1_OK;
		}
	}
	*used = i;
	return H1_INCOMPLETE;
}

/* ---- targets and query strings ---- */

/* Decodes one byte of percent-encoded text at s[*i..n): '%XX' but "%00", and '+' as a
 * space when plus. *i is advanced. *lit is set to the bytes it stands for (1 or 3). */
static size_t decode_at(const char *s, size_t n, size_t *i, bool plus, char lit[3])
{
	char c = s[*i];
	if (c == '%' && n - *i >= 3) {
		int hi = hexval((unsigned char)s[*i + 1]), lo = hexval((unsigned char)s[*i + 2]);
		if (hi >= 0 && lo >= 0) {
			if (hi == 0 && lo == 0) {
				memcpy(lit, s + *i, 3);
				*i += 3;
				return 3;
			}
			lit[0] = (char)(hi << 4 | lo);
			*i += 3;
			return 1;
		}
	}
	lit[0] = plus && c == '+' ? ' ' : c;
	(*i)++;
	return 1;
}

size_t h1_form_decode(const char *s, size_t n, char *out)
{
	size_t o = 0, i = 0;
	while (i < n) {
		char lit[3];
		size_t k = decode_at(s, n, &i, true, lit);
		memcpy(out + o, lit, k);
		o += k;
	}
	out[o] = '\0';
	return o;
}

bool h1_target_path(const char *target, size_t target_len, char *path, size_t cap, const char **query,
                    size_t *query_len, h1_error_t *err)
{
	const char *q = memchr(target, '?', target_len);
	size_t plen = q ? (size_t)(q - target) : target_len;
	*query = q ? q + 1 : NULL;
	*query_len = q ? target_len - plen - 1 : 0;
	if (cap == 0) {
		fail(err, 400, "the decoded path does not fit");
		return false;
	}
	size_t o = 0, i = 0;
	while (i < plen) {
		char lit[3];
		size_t k = decode_at(target, plen, &i, false, lit);
		if (o + k >= cap) {
			path[0] = '\0';
			fail(err, 400, "the decoded path does not fit");
			return false;
		}
		memcpy(path + o, lit, k);
		o += k;
	}
	path[o] = '\0';
	if (!core_text_utf8_valid(path, o)) {
		path[0] = '\0';
		fail(err, 400, "the decoded path is not UTF-8");
		return false;
	}
	return true;
}

long h1_query_arg(const char *query, size_t query_len, const char *name, char *out, size_t cap)
{
	if (!query || !name)
		return -1;
	size_t nlen = strlen(name), s = 0;
	while (s <= query_len) {
		size_t e = s;
		while (e < query_len && query[e] != '&')
			e++;
		/* the key, decoded, against name */
		size_t i = s, m = 0;
		bool same = true;
		while (i < e && query[i] != '=') {
			char lit[3];
			size_t k = decode_at(query, e, &i, true, lit);
			if (m + k > nlen || memcmp(name + m, lit, k))
				same = false;
			m += k;
		}
		if (same && m == nlen && e > s) {
			size_t o = 0;
			if (i < e)
				i++; /* the '=' */
			while (i < e) {
				char lit[3];
				size_t k = decode_at(query, e, &i, true, lit);
				if (o + k >= cap)
					return -1;
				memcpy(out + o, lit, k);
				o += k;
			}
			if (o >= cap)
				return -1;
			out[o] = '\0';
			return (long)o;
		}
		s = e + 1;
	}
	return -1;
}
