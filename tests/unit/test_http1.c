/* test_http1.c - unit tests for api/http1.c: request heads, chunked bodies, targets and
 * query arguments, and that any split of the input gives the same answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/http1.h"

/* a literal with its length, so that a NUL inside counts */
#define S(x) x, sizeof(x) - 1

/* ---- heads that parse ---- */

static const struct {
	const char *in;
	size_t len;
	const char *method, *target;
	int minor;
	h1_framing_t framing;
	uint64_t content_length;
	bool keep_alive, expect_continue;
	size_t n_headers;
	size_t tail; /* bytes after the head */
} good[] = {
    {S("GET /v1/ptr?addr=192.0.2.1 HTTP/1.1\r\nHost: api.example\r\n\r\n"), "GET", "/v1/ptr?addr=192.0.2.1",
     1, H1_BODY_NONE, 0, true, false, 1, 0},
    {S("GET http://api.example:8080/v1/zones?x=1 HTTP/1.1\r\nHost: api.example\r\n\r\n"), "GET",
     "/v1/zones?x=1", 1, H1_BODY_NONE, 0, true, false, 1, 0},
    {S("GET HTTPS://api.example HTTP/1.1\r\nHost: api.example\r\n\r\n"), "GET", "/", 1, H1_BODY_NONE, 0, true,
     false, 1, 0},
    {S("GET http://[2001:db8::1]:80/a HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n\r\n"), "GET", "/a", 1,
     H1_BODY_NONE, 0, true, false, 1, 0},
    {S("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), "OPTIONS", "*", 1, H1_BODY_NONE, 0, true, false, 1, 0},
    {S("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), "GET", "/", 0, H1_BODY_NONE, 0, true, false, 1,
     0},
    {S("GET / HTTP/1.0\r\n\r\n"), "GET", "/", 0, H1_BODY_NONE, 0, false, false, 0, 0},
    /* RFC 9112 2.3: a higher minor version of HTTP/1 is served as 1.1 */
    {S("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), "GET", "/", 1, H1_BODY_NONE, 0, true, false, 1, 0},
    {S("GET / HTTP/1.9\r\nHost: a\r\nConnection: close\r\n\r\n"), "GET", "/", 1, H1_BODY_NONE, 0, false,
     false, 2, 0},
    {S("GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n"), "GET", "/", 0, H1_BODY_NONE, 0, false, false, 1, 0},
    {S("\r\n\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), "GET", "/", 1, H1_BODY_NONE, 0, true, false, 1, 0},
    {S("GET / HTTP/1.1\nHost: a\nX-A:\tb c \n\n"), "GET", "/", 1, H1_BODY_NONE, 0, true, false, 2, 0},
    {S("GET / HTTP/1.1\r\nHost: a\n\r\n"), "GET", "/", 1, H1_BODY_NONE, 0, true, false, 1, 0},
    {S("GET / HTTP/1.1\r\nHost:\r\nConnection: upgrade, CLOSE\r\n\r\n"), "GET", "/", 1, H1_BODY_NONE, 0,
     false, false, 2, 0},
    {S("POST /v1/ptr HTTP/1.1\r\nHost: a\r\nContent-Length: 0005\r\n\r\nhello"), "POST", "/v1/ptr", 1,
     H1_BODY_LENGTH, 5, true, false, 2, 5},
    {S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551615\r\n\r\n"), "POST", "/", 1,
     H1_BODY_LENGTH, UINT64_MAX, true, false, 2, 0},
    {S("PUT /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  Chunked \r\nExpect: 100-Continue\r\n\r\n0\r\n\r\n"),
     "PUT", "/x", 1, H1_BODY_CHUNKED, 0, true, true, 3, 5},
    {S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"), "POST", "/", 1, H1_BODY_CHUNKED,
     0, true, false, 2, 0},
    {S("M-SEARCH /a%20b?q=%00&x HTTP/1.1\r\nHost: a\r\nX-Obs: caf\xc3\xa9\x80\r\n\r\n"), "M-SEARCH",
     "/a%20b?q=%00&x", 1, H1_BODY_NONE, 0, true, false, 2, 0},
};

static void test_good_heads(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		h1_request_t r;
		h1_error_t e = {0, NULL};
		h1_rc_t rc = h1_parse_head(good[i].in, good[i].len, &r, &e);
		if (rc != H1_OK)
			fail_msg("case %zu: rc %d, %u %s", i, rc, e.status, e.detail ? e.detail : "");
		size_t want = good[i].len - good[i].tail;
		assert_int_equal(r.head_len, want);
		assert_int_equal(r.method_len, strlen(good[i].method));
		assert_memory_equal(r.method, good[i].method, r.method_len);
		assert_int_equal(r.target_len, strlen(good[i].target));
		assert_memory_equal(r.target, good[i].target, r.target_len);
		assert_int_equal(r.minor, good[i].minor);
		assert_int_equal(r.framing, good[i].framing);
		assert_true(r.content_length == good[i].content_length);
		assert_int_equal(r.keep_alive, good[i].keep_alive);
		assert_int_equal(r.expect_continue, good[i].expect_continue);
		assert_int_equal(r.n_headers, good[i].n_headers);
		size_t from = 0;
		assert_int_equal(h1_head_end(good[i].in, good[i].len, &from), want);
	}
}

static void test_header_lookup(void **state)
{
	(void)state;
	static const char in[] =
	    "GET / HTTP/1.1\r\nhost:  a.example \r\nX-Twice: 1\r\nx-twice: 2\r\nEmpty:\r\n\r\n";
	h1_request_t r;
	h1_error_t e;
	size_t n;
	assert_int_equal(h1_parse_head(in, sizeof(in) - 1, &r, &e), H1_OK);
	const char *v = h1_header(&r, "Host", &n);
	assert_non_null(v);
	assert_int_equal(n, 9);
	assert_memory_equal(v, "a.example", 9);
	assert_memory_equal(r.headers[0].name, "host", 4);
	v = h1_header(&r, "X-TWICE", &n);
	assert_non_null(v);
	assert_int_equal(n, 1);
	assert_int_equal(v[0], '1');
	v = h1_header(&r, "empty", &n);
	assert_non_null(v);
	assert_int_equal(n, 0);
	assert_null(h1_header(&r, "Missing", &n));
}

/* ---- heads that are refused ---- */

static const struct {
	const char *in;
	size_t len;
	unsigned status;
	const char *detail; /* a part of it */
} bad[] = {
    /* request line */
    {S("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505, "version"},
    {S("GET / HTTP/0.9\r\nHost: a\r\n\r\n"), 505, "version"},
    {S("GET / http/1.1\r\nHost: a\r\n\r\n"), 400, "not HTTP/1.x"},
    {S("GET / HTTP/1.10\r\nHost: a\r\n\r\n"), 400, "not HTTP/1.x"},
    {S("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), 400, "not HTTP/1.x"},
    {S("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "not HTTP/1.x"},
    {S("GET /  HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "not HTTP/1.x"},
    {S("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "not HTTP/1.x"},
    {S("GET /\r\n\r\n"), 400, "not HTTP/1.x"},
    {S("G(T / HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "not HTTP/1.x"},
    {S("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), 400, "not HTTP/1.x"},
    {S(" GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "not HTTP/1.x"},
    /* request-target */
    {S("GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "visible ASCII"},
    {S("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "visible ASCII"},
    {S("GET * HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "only for OPTIONS"},
    {S("OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "not origin-form"},
    {S("CONNECT api.example:443 HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "not origin-form"},
    {S("GET ftp://a/b HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "not origin-form"},
    {S("GET http:///b HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "authority"},
    {S("GET http://u:p@a/b HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "userinfo"},
    {S("GET http://a:8x/b HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "authority"},
    {S("GET http://a?q HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "needs a path"},
    /* line ends and field syntax */
    {S("GET / HTTP/1.1\rHost: a\r\n\r\n"), 400, "bare CR"},
    {S("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"), 400, "bare CR"},
    {S("\r\rGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "bare CR"},
    {S("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n"), 400, "control character"},
    {S("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01\r\n\r\n"), 400, "control character"},
    {S("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n"), 400, "control character"},
    {S("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n"), 400, "obs-fold"},
    {S("GET / HTTP/1.1\r\n\tHost: a\r\n\r\n"), 400, "obs-fold"},
    {S("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), 400, "before a field's colon"},
    {S("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n"), 400, "before a field's colon"},
    {S("GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n"), 400, "empty name"},
    {S("GET / HTTP/1.1\r\nHost: a\r\nX(: b\r\n\r\n"), 400, "name: value"},
    {S("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n"), 400, "name: value"},
    /* Host */
    {S("GET / HTTP/1.1\r\n\r\n"), 400, "no Host"},
    {S("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n"), 400, "two Host"},
    {S("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"), 400, "two Host"},
    {S("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), 400, "Host field"},
    {S("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), 400, "Host field"},
    {S("GET / HTTP/1.1\r\nHost: a, b\r\n\r\n"), 400, "Host field"},
    /* Content-Length */
    {S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"), 400,
     "two Content-Length fields"},
    {S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length: 6\r\n\r\n"), 400,
     "two Content-Length fields"},
    {S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n"), 400, "not a number"},
    {S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n"), 400, "not a number"},
    {S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"), 400, "not a number"},
    {S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n"), 400, "not a number"},
    {S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 0\r\n\r\n"), 400, "not a number"},
    {S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n"), 400, "not a number"},
    {S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\n"), 400, "too large"},
    {S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n"), 400, "too large"},
    /* Transfer-Encoding */
    {S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"), 400,
     "Transfer-Encoding with Content-Length"},
    {S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: gzip\r\n\r\n"), 400,
     "Transfer-Encoding with Content-Length"},
    {S("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400, "HTTP/1.0"},
    {S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"), 501, "unsupported transfer coding"},
    {S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n"), 501,
     "unsupported transfer coding"},
    {S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n"), 501,
     "unsupported transfer coding"},
    {S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 501,
     "unsupported transfer coding"},
    {S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"), 501,
     "unsupported transfer coding"},
    {S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"), 501,
     "unsupported transfer coding"},
    {S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;x=1\r\n\r\n"), 501,
     "unsupported transfer coding"},
    {S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunkedx\r\n\r\n"), 501,
     "unsupported transfer coding"},
    {S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,\r\n\r\n"), 400, "empty element"},
    {S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n"), 400, "empty element"},
    {S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n"), 400, "list of codings"},
    /* Connection, Expect */
    {S("GET / HTTP/1.1\r\nHost: a\r\nConnection: close x\r\n\r\n"), 400, "Connection"},
    {S("GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue-please\r\n\r\n"), 417, "expectation"},
    {S("GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n"), 417, "expectation"},
    {S("GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, x\r\n\r\n"), 417, "expectation"},
};

static void test_bad_heads(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		h1_request_t r;
		h1_error_t e = {0, NULL};
		h1_rc_t rc = h1_parse_head(bad[i].in, bad[i].len, &r, &e);
		if (rc != H1_ERROR || e.status != bad[i].status || !e.detail ||
		    !strstr(e.detail, bad[i].detail))
			fail_msg("case %zu (%.30s): rc %d, %u %s", i, bad[i].in, rc, e.status,
			         e.detail ? e.detail : "(null)");
	}
}

/* ---- limits: refused as soon as they are known ---- */

static char big[H1_MAX_HEAD * 2];

static void test_limits(void **state)
{
	(void)state;
	h1_request_t r;
	h1_error_t e;
	size_t n;

	/* a target of exactly H1_MAX_TARGET is fine, one more is 414 before the line ends */
	n = (size_t)snprintf(big, sizeof(big), "GET /");
	memset(big + n, 'a', H1_MAX_TARGET - 1);
	n += H1_MAX_TARGET - 1;
	n += (size_t)snprintf(big + n, sizeof(big) - n, " HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(h1_parse_head(big, n, &r, &e), H1_OK);
	assert_int_equal(r.target_len, H1_MAX_TARGET);
	n = 4 + H1_MAX_TARGET + 1;
	memset(big + 4, 'a', n - 4);
	big[4] = '/';
	assert_int_equal(h1_parse_head(big, n - 1, &r, &e), H1_INCOMPLETE);
	assert_int_equal(h1_parse_head(big, n, &r, &e), H1_ERROR);
	assert_int_equal(e.status, 414);

	/* 64 fields are fine, a 65th is 431 as soon as it starts */
	n = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 1; i < H1_MAX_HEADERS; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "X-%d: %d\r\n", i, i);
	assert_int_equal(h1_parse_head(big, n, &r, &e), H1_INCOMPLETE);
	memcpy(big + n, "\r\n", 2);
	assert_int_equal(h1_parse_head(big, n + 2, &r, &e), H1_OK);
	assert_int_equal(r.n_headers, H1_MAX_HEADERS);
	big[n] = 'X';
	assert_int_equal(h1_parse_head(big, n + 1, &r, &e), H1_ERROR);
	assert_int_equal(e.status, 431);
	assert_non_null(strstr(e.detail, "too many header fields"));

	/* a head of exactly H1_MAX_HEAD is fine; one that cannot fit is 431 before its end */
	n = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ");
	memset(big + n, 'p', H1_MAX_HEAD - n - 4);
	memcpy(big + H1_MAX_HEAD - 4, "\r\n\r\n", 4);
	assert_int_equal(h1_parse_head(big, H1_MAX_HEAD, &r, &e), H1_OK);
	assert_int_equal(r.head_len, H1_MAX_HEAD);
	memset(big + H1_MAX_HEAD - 4, 'p', 4);
	assert_int_equal(h1_parse_head(big, H1_MAX_HEAD - 1, &r, &e), H1_INCOMPLETE);
	assert_int_equal(h1_parse_head(big, H1_MAX_HEAD, &r, &e), H1_ERROR);
	assert_int_equal(e.status, 431);
	memcpy(big + H1_MAX_HEAD - 3, "\r\n\r\n", 4);
	assert_int_equal(h1_parse_head(big, H1_MAX_HEAD + 1, &r, &e), H1_ERROR);
	assert_int_equal(e.status, 431);

	/* empty lines before the request line count too */
	memset(big, '\n', H1_MAX_HEAD);
	assert_int_equal(h1_parse_head(big, H1_MAX_HEAD - 1, &r, &e), H1_INCOMPLETE);
	assert_int_equal(h1_parse_head(big, H1_MAX_HEAD, &r, &e), H1_ERROR);
	assert_int_equal(e.status, 431);

	/* garbage is refused before the line ends */
	assert_int_equal(h1_parse_head(S("GET /a\x01"), &r, &e), H1_ERROR);
	assert_int_equal(h1_parse_head(S("GET / HTTPS"), &r, &e), H1_ERROR);
	assert_int_equal(h1_parse_head(S("GET / HTTP/2"), &r, &e), H1_INCOMPLETE); /* HTTP/2.0 is a 505 */
	assert_int_equal(h1_parse_head(S("GET / HTTP/1.1\r"), &r, &e), H1_INCOMPLETE);
	assert_int_equal(h1_parse_head(S("\r"), &r, &e), H1_INCOMPLETE);
	assert_int_equal(h1_parse_head(S(""), &r, &e), H1_INCOMPLETE);
}

/* ---- the head scan ---- */

static void test_head_end(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		size_t len, end;
	} cases[] = {
	    {S("GET / HTTP/1.1\r\nHost: a\r\n\r\nbody"), 27}, {S("GET / HTTP/1.1\nHost: a\n\nbody"), 24},
	    {S("GET / HTTP/1.1\r\nHost: a\n\r\n"), 26},       {S("GET / HTTP/1.1\r\nHost: a\r\n\n"), 26},
	    {S("\r\n\n\r\nGET / HTTP/1.1\r\n\r\n"), 23},      {S("\r\n\r\n"), 0},
	    {S("GET / HTTP/1.1\r\nHost: a\r\n\r"), 0},        {S("GET / HTTP/1.1\r\nHost: a\r\n"), 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t from = 0;
		assert_int_equal(h1_head_end(cases[i].in, cases[i].len, &from), cases[i].end);
		/* byte by byte, the state carried in from */
		size_t e = 0, l;
		from = 0;
		for (l = 1; l <= cases[i].len && !e; l++)
			e = h1_head_end(cases[i].in, l, &from);
		assert_int_equal(e, cases[i].end);
		if (e)
			assert_int_equal(l - 1, e);
	}
}

/* ---- chunked bodies ---- */

static const struct {
	const char *in;
	size_t len;
	h1_rc_t rc;
	unsigned status;
	const char *out; /* the data (H1_OK), or a part of the detail (H1_ERROR) */
	size_t used;     /* H1_OK: 0 for all of in */
} chunked[] = {
    {S("5\r\nhello\r\n0\r\n\r\n"), H1_OK, 0, "hello", 0},
    {S("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nGET / HTTP/1.1\r\n"), H1_OK, 0, "hello world", 26},
    {S("5\nhello\n0\n\n"), H1_OK, 0, "hello", 0},
    {S("A\r\n0123456789\r\n00\r\n\r\n"), H1_OK, 0, "0123456789", 0},
    {S("5;ext\r\nhello\r\n0\r\n\r\n"), H1_OK, 0, "hello", 0},
    {S("5 ; a = b ;c;d=\"q\\\"x y\"\r\nhello\r\n0;last\r\n\r\n"), H1_OK, 0, "hello", 0},
    {S("5\r\nhello\r\n0\r\nX-Sum: 1\r\nEmpty:\r\n\r\n"), H1_OK, 0, "hello", 0},
    {S("5\r\nhello\r\n0\nX-Sum: \xc3\xa9\n\n"), H1_OK, 0, "hello", 0},
    {S("0\r\n\r\n"), H1_OK, 0, "", 0},
    {S("5\r\nhello\r\n0\r\n"), H1_INCOMPLETE, 0, "hello", 0},
    {S("5\r\nhel"), H1_INCOMPLETE, 0, "hel", 0},
    {S(""), H1_INCOMPLETE, 0, "", 0},
    /* errors */
    {S("\r\n"), H1_ERROR, 400, "malformed", 0},
    {S("x\r\n"), H1_ERROR, 400, "malformed", 0},
    {S("-5\r\n"), H1_ERROR, 400, "malformed", 0},
    {S("5 \r\nhello\r\n0\r\n\r\n"), H1_ERROR, 400, "malformed", 0},
    {S("5;\r\nhello\r\n0\r\n\r\n"), H1_ERROR, 400, "malformed", 0},
    {S("5;a=\r\nhello\r\n0\r\n\r\n"), H1_ERROR, 400, "malformed", 0},
    {S("5;a=\"x\r\nhello\r\n"), H1_ERROR, 400, "malformed", 0},
    {S("5;a b\r\nhello\r\n"), H1_ERROR, 400, "malformed", 0},
    {S("5\rhello"), H1_ERROR, 400, "bare CR", 0},
    {S("5\r\nhelloX\r\n0\r\n\r\n"), H1_ERROR, 400, "not followed by CRLF", 0},
    {S("5\r\nhello\rX"), H1_ERROR, 400, "not followed by CRLF", 0},
    {S("10000000000000000\r\n"), H1_ERROR, 400, "too large", 0},
    {S("5\r\nhello\r\n0\r\n folded\r\n\r\n"), H1_ERROR, 400, "obs-fold", 0},
    {S("5\r\nhello\r\n0\r\nX : 1\r\n\r\n"), H1_ERROR, 400, "colon", 0},
    {S("5\r\nhello\r\n0\r\nX: \x01\r\n\r\n"), H1_ERROR, 400, "trailer field", 0},
    {S("5\r\nhello\r\n0\r\nNoColon\r\n\r\n"), H1_ERROR, 400, "trailer field", 0},
    {S("5\r\nhello\r\n0\r\n\rX"), H1_ERROR, 400, "bare CR", 0},
    {S("1001\r\n"), H1_ERROR, 413, "too large", 0}, /* out_cap is 4096 */
};

static void test_chunked(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(chunked) / sizeof(chunked[0]); i++) {
		h1_chunked_t c;
		char out[4096];
		size_t used = 0, out_len = 0;
		h1_error_t e = {0, NULL};
		h1_chunked_init(&c);
		h1_rc_t rc =
		    h1_chunked_feed(&c, chunked[i].in, chunked[i].len, &used, out, &out_len, sizeof(out), &e);
		if (rc != chunked[i].rc)
			fail_msg("case %zu: rc %d, %u %s", i, rc, e.status, e.detail ? e.detail : "");
		if (rc == H1_ERROR) {
			assert_int_equal(e.status, chunked[i].status);
			if (!strstr(e.detail, chunked[i].out))
				fail_msg("case %zu: %s", i, e.detail);
			continue;
		}
		assert_int_equal(used, rc == H1_OK && chunked[i].used ? chunked[i].used : chunked[i].len);
		assert_int_equal(out_len, strlen(chunked[i].out));
		assert_memory_equal(out, chunked[i].out, out_len);
	}
}

static void test_chunked_limits(void **state)
{
	(void)state;
	char line[400], out[16];
	h1_chunked_t c;
	h1_error_t e;
	size_t used, out_len;

	/* a size line of 256 bytes is fine, 257 is too long */
	for (size_t n = 256; n <= 257; n++) {
		memset(line, 'x', sizeof(line));
		memcpy(line, "1;e=", 4);
		memcpy(line + n, "\r\nA\r\n0\r\n\r\n", 10);
		h1_chunked_init(&c);
		out_len = 0;
		h1_rc_t rc = h1_chunked_feed(&c, line, n + 10, &used, out, &out_len, sizeof(out), &e);
		assert_int_equal(rc, n == 256 ? H1_OK : H1_ERROR);
		if (rc == H1_ERROR)
			assert_non_null(strstr(e.detail, "too long"));
	}
	/* leading zeros are no overflow; the data fills out_cap exactly */
	h1_chunked_init(&c);
	out_len = 0;
	assert_int_equal(h1_chunked_feed(&c, S("00000000000000000000010\r\n0123456789abcdef\r\n0\r\n\r\n"),
	                                 &used, out, &out_len, sizeof(out), &e),
	                 H1_OK);
	assert_int_equal(out_len, 16);
	/* one byte more than out_cap across two chunks */
	h1_chunked_init(&c);
	out_len = 0;
	assert_int_equal(
	    h1_chunked_feed(&c, S("10\r\n0123456789abcdef\r\n1\r\n"), &used, out, &out_len, sizeof(out), &e),
	    H1_ERROR);
	assert_int_equal(e.status, 413);
	/* a trailer section past its bound */
	static char tr[8192];
	size_t n = (size_t)snprintf(tr, sizeof(tr), "0\r\n");
	while (n < sizeof(tr) - 16)
		n += (size_t)snprintf(tr + n, sizeof(tr) - n, "X-T: 0123456789\r\n");
	h1_chunked_init(&c);
	out_len = 0;
	assert_int_equal(h1_chunked_feed(&c, tr, n, &used, out, &out_len, sizeof(out), &e), H1_ERROR);
	assert_int_equal(e.status, 400);
	/* after the end, nothing more is taken */
	h1_chunked_init(&c);
	out_len = 0;
	assert_int_equal(h1_chunked_feed(&c, S("0\r\n\r\n"), &used, out, &out_len, sizeof(out), &e), H1_OK);
	assert_int_equal(h1_chunked_feed(&c, S("0\r\n\r\n"), &used, out, &out_len, sizeof(out), &e), H1_OK);
	assert_int_equal(used, 0);
}

/* ---- property: any split gives the answer of all at once ---- */

static const struct {
	const char *in;
	size_t len;
} pipelined[] = {
    {S("POST /v1/batch HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
       "5;ext=1;q=\"a\\\"b\"\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: t\r\n\r\n"
       "GET / HTTP/1.1\r\nHost: a\r\n\r\n")},
    {S("\r\nPUT /x HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\nnext")},
    {S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
       "000a ; n = \"v\"\r\n0123456789\r\n3\nxyz\r\n0 ;z\nA: b\r\nB:c\n\r\n")},
    {S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\nworldX")},
    {S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n")},
    {S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n")},
};

typedef struct {
	size_t head_end;
	h1_rc_t rc;
	size_t used, out_len;
	unsigned status;
	const char *detail;
	char out[256];
} run_t;

static uint32_t rng = 2463534242u;
static size_t next_split(size_t max)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return 1 + rng % max;
}

/* pieces: 0 all at once, 1 byte by byte, else random pieces of 1..pieces bytes */
static void run(const char *in, size_t len, size_t pieces, run_t *r)
{
	memset(r, 0, sizeof(*r));
	size_t from = 0, l = 0;
	while (!r->head_end && l < len) {
		l = pieces == 0 ? len : l + (pieces == 1 ? 1 : next_split(pieces));
		if (l > len)
			l = len;
		r->head_end = h1_head_end(in, l, &from);
	}
	assert_true(r->head_end > 0);
	h1_request_t req;
	h1_error_t e = {0, NULL};
	assert_int_equal(h1_parse_head(in, l, &req, &e), H1_OK);
	assert_int_equal(req.head_len, r->head_end);
	assert_int_equal(req.framing, H1_BODY_CHUNKED);

	h1_chunked_t c;
	h1_chunked_init(&c);
	const char *body = in + r->head_end;
	size_t blen = len - r->head_end;
	r->rc = H1_INCOMPLETE;
	while (r->rc == H1_INCOMPLETE && r->used < blen) {
		size_t n = pieces == 0 ? blen : pieces == 1 ? 1 : next_split(pieces);
		if (n > blen - r->used)
			n = blen - r->used;
		size_t used = 0;
		r->rc =
		    h1_chunked_feed(&c, body + r->used, n, &used, r->out, &r->out_len, sizeof(r->out), &e);
		r->used += used;
	}
	if (r->rc == H1_ERROR) {
		r->status = e.status;
		r->detail = e.detail;
	}
}

static void test_splits(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(pipelined) / sizeof(pipelined[0]); i++) {
		run_t whole, part;
		run(pipelined[i].in, pipelined[i].len, 0, &whole);
		for (size_t k = 0; k < 200; k++) {
			run(pipelined[i].in, pipelined[i].len, k == 0 ? 1 : 1 + k % 23, &part);
			assert_int_equal(part.head_end, whole.head_end);
			assert_int_equal(part.rc, whole.rc);
			assert_int_equal(part.used, whole.used);
			assert_int_equal(part.out_len, whole.out_len);
			assert_memory_equal(part.out, whole.out, whole.out_len);
			assert_int_equal(part.status, whole.status);
			assert_ptr_equal(part.detail, whole.detail);
		}
	}
	/* and what each case gives, so that the property is not vacuous */
	run_t r;
	run(pipelined[0].in, pipelined[0].len, 0, &r);
	assert_int_equal(r.rc, H1_OK);
	assert_int_equal(r.out_len, 31);
	assert_memory_equal(pipelined[0].in + r.head_end + r.used, "GET /", 5);
	run(pipelined[3].in, pipelined[3].len, 0, &r);
	assert_int_equal(r.rc, H1_ERROR);
	assert_int_equal(r.out_len, 10);
	run(pipelined[4].in, pipelined[4].len, 0, &r);
	assert_int_equal(r.rc, H1_ERROR);
	assert_int_equal(r.status, 400);
	run(pipelined[5].in, pipelined[5].len, 0, &r);
	assert_int_equal(r.rc, H1_INCOMPLETE);
}

/* ---- targets and query arguments ---- */

static const struct {
	const char *target;
	bool ok;
	const char *path;  /* decoded, or a part of the detail */
	const char *query; /* NULL: none */
} paths[] = {
    {"/v1/ptr", true, "/v1/ptr", NULL},
    {"/v1/ptr?addr=1", true, "/v1/ptr", "addr=1"},
    {"/a?", true, "/a", ""},
    {"/a%20b/%2F%2f", true, "/a b///", NULL},
    {"/caf%C3%A9", true, "/caf\xc3\xa9", NULL},
    {"/%F0%9F%98%80", true, "/\xf0\x9f\x98\x80", NULL},
    {"/a%00b", true, "/a%00b", NULL},
    {"/a%zzb%4", true, "/a%zzb%4", NULL},
    {"/a+b?x=%41", true, "/a+b", "x=%41"},
    {"/%C0%AF", false, "UTF-8", NULL},       /* overlong '/' */
    {"/%E0%80%AF", false, "UTF-8", NULL},    /* overlong, 3 bytes */
    {"/%ED%A0%80", false, "UTF-8", NULL},    /* a surrogate */
    {"/%F4%90%80%80", false, "UTF-8", NULL}, /* above U+10FFFF */
    {"/%C3", false, "UTF-8", NULL},          /* cut short */
    {"/%80", false, "UTF-8", NULL},          /* a lone continuation byte */
    {"/%FF", false, "UTF-8", NULL},
    {"/0123456789abcdef", false, "does not fit", NULL}, /* cap is 16 */
};

static void test_target_path(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		char path[16];
		const char *q;
		size_t qlen;
		h1_error_t e = {0, NULL};
		const char *t = paths[i].target;
		bool ok = h1_target_path(t, strlen(t), path, sizeof(path), &q, &qlen, &e);
		if (ok != paths[i].ok)
			fail_msg("case %zu (%s): %d %s", i, t, ok, e.detail ? e.detail : "");
		if (!ok) {
			assert_int_equal(e.status, 400);
			assert_non_null(strstr(e.detail, paths[i].path));
			continue;
		}
		assert_string_equal(path, paths[i].path);
		if (!paths[i].query) {
			assert_null(q);
			assert_int_equal(qlen, 0);
		} else {
			assert_non_null(q);
			assert_int_equal(qlen, strlen(paths[i].query));
			assert_memory_equal(q, paths[i].query, qlen);
		}
	}
	/* exactly cap with the NUL */
	char p4[4];
	const char *q;
	size_t qlen;
	h1_error_t e;
	assert_true(h1_target_path("/ab", 3, p4, sizeof(p4), &q, &qlen, &e));
	assert_string_equal(p4, "/ab");
	assert_false(h1_target_path("/abc", 4, p4, sizeof(p4), &q, &qlen, &e));
	assert_int_equal(e.status, 400);
}

static void test_query_arg(void **state)
{
	(void)state;
	static const char q[] =
	    "addr=192.0.2.1&name=a+b%20c&empty=&flag&dup=1&dup=2&nul=%00x&bad=%zz%4&na%6De2=v&&=e";
	static const struct {
		const char *name;
		long len;
		const char *value;
	} cases[] = {
	    {"addr", 9, "192.0.2.1"}, {"name", 5, "a b c"}, {"empty", 0, ""},
	    {"flag", 0, ""},          {"dup", 1, "1"},      {"nul", 4, "%00x"},
	    {"bad", 5, "%zz%4"},      {"name2", 1, "v"},    {"", 1, "e"},
	    {"missing", -1, NULL},    {"add", -1, NULL},    {"addr=192", -1, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[32];
		long n = h1_query_arg(q, sizeof(q) - 1, cases[i].name, out, sizeof(out));
		if (n != cases[i].len)
			fail_msg("case %zu (%s): %ld", i, cases[i].name, n);
		if (n >= 0)
			assert_string_equal(out, cases[i].value);
	}
	char out[10];
	assert_int_equal(h1_query_arg(q, sizeof(q) - 1, "addr", out, 10), 9);
	assert_int_equal(h1_query_arg(q, sizeof(q) - 1, "addr", out, 9), -1);
	assert_int_equal(h1_query_arg(NULL, 0, "addr", out, sizeof(out)), -1);
	assert_int_equal(h1_query_arg("a=1", 1, "a", out, sizeof(out)), 0); /* only "a" is in the query */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_heads),     cmocka_unit_test(test_header_lookup),
	    cmocka_unit_test(test_bad_heads),      cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_head_end),       cmocka_unit_test(test_chunked),
	    cmocka_unit_test(test_chunked_limits), cmocka_unit_test(test_splits),
	    cmocka_unit_test(test_target_path),    cmocka_unit_test(test_query_arg),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
