/* http1.h - HTTP/1.1 request framing (RFC 9112), pure: no I/O, no allocation.
 *
 * rdns-api owns its HTTP framing because the only libmicrohttpd of Debian 12 (0.9.75)
 * takes the first of two Content-Length headers, serves TE + CL, hangs on unknown
 * transfer codings, answers its own errors in HTML with no hook to change them and
 * sends some of them twice (see api/server.c). Everything a client sends is parsed
 * here, strictly, so that one grammar decides where a request ends. */
#ifndef RDNS_API_HTTP1_H
#define RDNS_API_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define H1_MAX_HEADERS 64    /* more fields: 431 */
#define H1_MAX_TARGET  8192  /* longer request-target: 414 */
#define H1_MAX_HEAD    16384 /* request line + fields + blank line; more: 431 */

typedef enum { H1_OK = 0, H1_INCOMPLETE = 1, H1_ERROR = -1 } h1_rc_t;

typedef enum { H1_BODY_NONE, H1_BODY_LENGTH, H1_BODY_CHUNKED } h1_framing_t;

typedef struct {
	const char *name; /* as sent (not NUL-terminated), case kept */
	size_t name_len;
	const char *value; /* leading and trailing OWS removed (not NUL-terminated) */
	size_t value_len;
} h1_header_t;

typedef struct {
	const char *method; /* a token (RFC 9110 5.6.2), case-sensitive */
	size_t method_len;
	const char *target; /* origin-form "/p?q" (absolute-form is reduced to its path and query) */
	size_t target_len;
	int minor; /* HTTP/1.<minor>: 0 or 1 */
	h1_header_t headers[H1_MAX_HEADERS];
	size_t n_headers;
	h1_framing_t framing;
	uint64_t content_length; /* H1_BODY_LENGTH only */
	bool keep_alive;         /* 1.1 unless "Connection: close"; 1.0 only with "keep-alive" */
	bool expect_continue;    /* "Expect: 100-continue" */
	size_t head_len;         /* bytes of the head, its blank line included */
} h1_request_t;

/* Why a request is refused: the status to answer and a sentence for the problem's
 * detail (a static string). After any error the connection is closed. */
typedef struct {
	unsigned status; /* 400, 413, 414, 417, 431, 501 or 505 */
	const char *detail;
} h1_error_t;

/* Parses the head at buf[0..len). H1_OK: *req is filled, its pointers into buf.
 * H1_INCOMPLETE: the head has not ended yet (and is within the limits: a head that
 * can no longer fit is an error at once, without waiting for its end). H1_ERROR:
 * *err says why. Empty lines before the request line are skipped (RFC 9112 2.2);
 * a line may end in CRLF or a bare LF; a bare CR, NUL, obs-fold, white space before
 * a field's colon, a missing or repeated Host (HTTP/1.1), two Content-Length fields
 * (even equal ones) or a list in one, Transfer-Encoding together with Content-Length,
 * Transfer-Encoding in HTTP/1.0, and any transfer coding but a single "chunked" are
 * errors. */
h1_rc_t h1_parse_head(const char *buf, size_t len, h1_request_t *req, h1_error_t *err);

/* Length of the head at buf[0..len) if its end is there, else 0: a cheap scan for
 * the blank line, so that a head arriving a byte at a time is parsed once. from is
 * where the previous scan stopped (0 the first time; it is updated). */
size_t h1_head_end(const char *buf, size_t len, size_t *from);

/* The value of the first field called name (case-insensitive), or NULL; *len set. */
const char *h1_header(const h1_request_t *req, const char *name, size_t *len);

/* Chunked body decoder (RFC 9112 7.1): chunk extensions and trailer fields are
 * parsed and ignored. */
typedef struct {
	int state;
	uint64_t left; /* of the current chunk's data */
	size_t line;   /* length of the current size, extension or trailer line */
} h1_chunked_t;

void h1_chunked_init(h1_chunked_t *c);

/* Decodes in[0..len): data bytes are appended to out (at *out_len, up to out_cap:
 * more is a 413 error). *used is set to the bytes of in consumed. H1_OK: the body
 * ended (last chunk and trailers read; in[*used..] belongs to the next request).
 * H1_INCOMPLETE: all of in was used, more is needed. H1_ERROR: *err says why (400
 * for bad syntax, 413 beyond out_cap). */
h1_rc_t h1_chunked_feed(h1_chunked_t *c, const char *in, size_t len, size_t *used, char *out, size_t *out_len,
                        size_t out_cap, h1_error_t *err);

/* Splits target into its path and query and percent-decodes the path into path
 * (NUL-terminated, at most cap bytes with the NUL). "%00" stays as the three
 * characters (a decoded NUL would cut the text short); a '%' not followed by two hex
 * digits stays as it is. false (with *err: 400) when the decoded path is not valid
 * UTF-8 (RFC 3629: no overlong forms, no surrogates) or does not fit. *query points
 * after the '?' into target (length *query_len), or is NULL. */
bool h1_target_path(const char *target, size_t target_len, char *path, size_t cap, const char **query,
                    size_t *query_len, h1_error_t *err);

/* Decodes s[0..n) as application/x-www-form-urlencoded ('+' a space, "%hh" a byte,
 * "%00" kept as its three characters) into out, which must hold n + 1 bytes (decoding
 * never grows); NUL-terminated; returns the decoded length. */
size_t h1_form_decode(const char *s, size_t n, char *out);

/* Finds argument name in a query string (application/x-www-form-urlencoded: '&'
 * separated, '+' is a space) and decodes its value into out (NUL-terminated, cap with
 * the NUL; "%00" kept as in h1_target_path). Returns the decoded length, or -1 when
 * there is no such argument or the value does not fit. An argument with no '=' has the
 * empty value. The first occurrence wins. */
long h1_query_arg(const char *query, size_t query_len, const char *name, char *out, size_t cap);

#endif
