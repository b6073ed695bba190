"""HTTP/1.1 framing and error answers over raw sockets (issue #13, items 5 and 6): where a
request ends is decided by one strict reading of RFC 9112 section 6, so a conflicting or
unsupported framing is refused at once and the connection closed (nothing smuggled behind
it is ever answered); every error, whoever finds it, is one status line and an RFC 9457
problem+json body; limits give 413, 414 and 431, not resets or HTML."""
import re
import time

import pytest

from harness import wait_until
from rawhttp import assert_problem, connect, exchange, parse_responses, read_until_eof

STATUS_LINE = b"HTTP/1.1 "
SMUGGLED = b"GET /v1/smuggled HTTP/1.1\r\nHost: x\r\n\r\n"


@pytest.fixture(scope="module")
def port(api):
    return api.port


@pytest.fixture(scope="module")
def auth(staff):
    return staff.s.headers["Authorization"]


def refused(port, payload, status, within=1.0):
    """payload gets exactly one answer, a problem+json with status, then Connection: close and
    EOF, all within `within` seconds (not at the idle timeout). Returns the problem body."""
    data, eof, took = exchange(port, payload, timeout=within + 1.0)
    assert eof, f"connection kept open {took:.1f} s after {payload[:120]!r}; got {data[:300]!r}"
    assert took < within, f"answered after {took:.2f} s: {payload[:120]!r}"
    assert data.count(STATUS_LINE) == 1, f"{data.count(STATUS_LINE)} status lines: {data[:600]!r}"
    [r] = parse_responses(data)
    p = assert_problem(r, r.status if isinstance(status, tuple) and r.status in status else status)
    assert [v.lower() for v in r.header("Connection")] == ["close"], r
    return p


def put_head(auth, extra, target="/v1/ptr/198.51.100.1"):
    return (f"PUT {target} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n"
            f"Content-Type: application/json\r\n{extra}\r\n").encode()


# ---------------------------------------------------------------- item 5: framing headers

@pytest.mark.parametrize("lengths", [(0, len(SMUGGLED)), (len(SMUGGLED), 0), (5, 5)])
def test_two_content_lengths_are_400_and_nothing_is_smuggled(port, lengths):
    a, b = lengths
    req = (f"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: {a}\r\nContent-Length: {b}\r\n\r\n"
           ).encode() + SMUGGLED + SMUGGLED
    refused(port, req, 400)  # one status line: the smuggled GETs were never answered


def test_content_length_in_a_list_is_400(port):
    refused(port, b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello", 400)


def test_content_length_with_chunked_is_400_and_closed(port):
    req = (b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"0\r\n\r\n" + SMUGGLED)
    refused(port, req, 400)
    req = (b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"
           b"0\r\n\r\n" + SMUGGLED)
    refused(port, req, 400)


@pytest.mark.parametrize("coding", ["gzip", "identity", "chunked, identity", "gzip, chunked"])
def test_unsupported_transfer_coding_is_refused_at_once(port, coding):
    # RFC 9112 6.1: a coding the server does not understand is a 501; 6.3: a request whose
    # final coding is not chunked cannot be framed, MUST be a 400. Either is an answer at
    # once and a close; today the server says nothing until the idle timeout.
    req = f"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: {coding}\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    data, eof, took = exchange(port, req.encode(), timeout=2.0)
    assert eof and took < 1.0, f"{coding}: eof={eof} after {took:.2f} s, got {data[:300]!r}"
    assert data.count(STATUS_LINE) == 1, data[:600]
    [r] = parse_responses(data)
    want = (501,) if coding == "gzip, chunked" else (501, 400)
    assert r.status in want, r
    assert_problem(r, r.status)
    assert [v.lower() for v in r.header("Connection")] == ["close"], r


def test_transfer_encoding_in_http10_is_400(port):
    req = b"POST /healthz HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    data, eof, took = exchange(port, req, timeout=3.0)
    assert eof and took < 1.0, (eof, took, data[:300])
    assert data.count(STATUS_LINE) == 1, data[:600]
    [r] = parse_responses(data)
    assert_problem(r, 400)


# ---------------------------------------------------------------- item 6: bad framing values

@pytest.mark.parametrize("value", ["-1", "+34", "0x22", "1 2", ""])
def test_bad_content_length_is_one_400_problem(port, value):
    req = f"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: {value}\r\n\r\n".encode() + b"x" * 34
    refused(port, req, 400)


@pytest.mark.parametrize("body", [b"zz\r\nhello\r\n0\r\n\r\n", b"5\r\nhelloXX0\r\n\r\n",
                                  b"-5\r\nhello\r\n0\r\n\r\n", b"5\r\nhello\r\n0\r\nbad trailer\r\n\r\n"])
def test_bad_chunk_is_400_problem(port, auth, body):
    refused(port, put_head(auth, "Transfer-Encoding: chunked\r\n") + body, 400)


def test_body_over_16k_by_length_is_413_before_it_is_sent(port, auth):
    # Only the head is sent: the limit is known from Content-Length, so the answer comes at once.
    refused(port, put_head(auth, "Content-Length: 16385\r\n"), 413)
    refused(port, put_head(auth, "Content-Length: 18446744073709551616\r\n"), (413, 400))  # 2^64: overflows


def test_body_over_16k_by_chunks_is_413(port, auth):
    chunks = b"".join(b"1000\r\n" + b"a" * 4096 + b"\r\n" for _ in range(5)) + b"0\r\n\r\n"
    refused(port, put_head(auth, "Transfer-Encoding: chunked\r\n") + chunks, 413)


def test_long_target_is_414(port):
    refused(port, b"GET /v1/ptr/" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414)


def test_large_header_is_431(port):
    refused(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 17000 + b"\r\n\r\n", 431)
    many = b"".join(b"X-F%d: v\r\n" % i for i in range(100))
    refused(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n", 431)


def test_http_versions(port):
    refused(port, b"GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", 505)
    # RFC 9112 2.3: a higher minor version of a major one the server implements is
    # processed as the highest it implements (1.1), keep-alive and Host rules included.
    data, eof, took = exchange(port, b"GET /healthz HTTP/1.2\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert eof and took < 1.0 and data.count(STATUS_LINE) == 1, (eof, took, data[:300])
    [r] = parse_responses(data)
    assert r.status == 200, data[:300]
    refused(port, b"GET /healthz HTTP/1.9\r\n\r\n", 400)  # no Host: a 1.1 request's fault


@pytest.mark.parametrize("line", [b"HELLO\r\n\r\n", b"GET\r\n\r\n", b"GET /healthz\r\n\r\n",
                                  b"GET  /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
                                  b"G(T /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
                                  b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"])
def test_garbage_request_line_is_400(port, line):
    refused(port, line, 400)


def test_missing_or_repeated_host_is_400(port):
    refused(port, b"GET /healthz HTTP/1.1\r\n\r\n", 400)
    refused(port, b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400)


def test_obs_fold_and_space_before_colon_are_400(port):
    refused(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n", 400)
    refused(port, b"GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n", 400)


@pytest.mark.parametrize("target", [b"/%ff", b"/v1/ptr/%c0%ae", b"/v1/ptr/%ed%a0%80"])
def test_path_not_utf8_is_400_problem(port, auth, target):
    req = b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nAuthorization: " + auth.encode() + \
        b"\r\nConnection: close\r\n\r\n"
    data, eof, _ = exchange(port, req)
    assert eof and data.count(STATUS_LINE) == 1, data[:600]
    [r] = parse_responses(data)
    assert_problem(r, 400)


# ---------------------------------------------------------------- what well-formed clients rely on

def test_expect_100_continue(port, auth):
    body = b'{"hostname": "x.example.com"}'
    s = connect(port)
    try:
        s.sendall(put_head(auth, f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n"))
        s.settimeout(1.0)
        got = s.recv(4096)  # before any byte of the body
        assert got.startswith(b"HTTP/1.1 100 Continue\r\n"), got
        s.sendall(body)
        data, _, _ = read_until_eof(s, 2.0)
        rest = got[got.index(b"\r\n\r\n") + 4:] + data
        [r] = parse_responses(rest)
        assert 200 <= r.status < 500 and r.status not in (400, 408, 417), r
        assert r.header("Content-Type")[0].startswith("application/"), r
    finally:
        s.close()


def test_unknown_expectation_is_417(port, auth):
    refused(port, put_head(auth, "Content-Length: 2\r\nExpect: something-else\r\n") + b"{}", 417)


def test_pipelined_requests_are_answered_in_order(port):
    reqs = (b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /v1/no-such-route HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /v1/ptr/192.0.2.1 HTTP/1.1\r\nHost: x\r\n\r\n"
            b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data, eof, _ = exchange(port, reqs)
    assert eof, data[-300:]
    rs = parse_responses(data, head_requests={3})
    assert [r.status for r in rs] == [200, 404, 401, 200, 200], rs
    assert_problem(rs[1], 404)
    assert_problem(rs[2], 401)


def test_a_deep_pipeline_is_answered_whole_and_in_order(port):
    # 3,000 requests in one burst (~100 KB, more than a connection's input buffer): each is
    # answered, in order, and the server neither recurses per request nor stalls on a full
    # buffer.
    n = 3000
    reqs = b"".join(b"GET /healthz?n=%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(n))
    data, eof, took = exchange(port, reqs + b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                               timeout=20.0)
    assert eof and took < 15, (eof, took, len(data))
    assert data.count(b"HTTP/1.1 200 OK\r\n") == n + 1, data[-300:]


def test_head_has_headers_and_no_body(port):
    data, eof, _ = exchange(port, b"HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert eof
    head, sep, body = data.partition(b"\r\n\r\n")
    assert sep and head.startswith(b"HTTP/1.1 200 ") and body == b"", data[:400]


def test_server_still_serves_after_all_this(port):
    data, eof, _ = exchange(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert eof and data.startswith(b"HTTP/1.1 200 "), data[:300]


def complete(buf):
    head, sep, body = buf.partition(b"\r\n\r\n")
    if not sep:
        return False
    [r] = parse_responses(head + sep)
    return len(body) >= int(r.header("Content-Length")[0])


def test_keep_alive_survives_a_route_error(port):
    # A 404 is not a framing error: the connection stays usable.
    s = connect(port)
    try:
        for _ in range(3):
            s.sendall(b"GET /v1/nope HTTP/1.1\r\nHost: x\r\n\r\n")
            t0 = time.monotonic()
            buf = b""
            while not complete(buf):
                chunk = s.recv(4096)
                assert chunk and time.monotonic() - t0 < 2, buf
                buf += chunk
            assert parse_responses(buf)[0].status == 404
    finally:
        s.close()


def test_every_answer_has_a_request_id_and_problems_carry_it(port):
    # The client's X-Request-Id when it is sane, echoed in the answer and in a problem body;
    # else one made by the server (16 hex digits), different for each request.
    data, eof, _ = exchange(port, b"GET /v1/nothing HTTP/1.1\r\nHost: x\r\nX-Request-Id: lb-7f3a.42:x_y\r\n"
                                  b"Connection: close\r\n\r\n")
    [r] = parse_responses(data)
    assert r.header("X-Request-Id") == ["lb-7f3a.42:x_y"], r
    assert r.json()["x_request_id"] == "lb-7f3a.42:x_y"
    seen = set()
    for bad in (b"", b"X-Request-Id: " + b"a" * 65 + b"\r\n", b"X-Request-Id: a b\r\n",
                b"X-Request-Id: <script>\r\n"):
        data, eof, _ = exchange(port, b"GET /v1/nothing HTTP/1.1\r\nHost: x\r\n" + bad + b"Connection: close\r\n\r\n")
        [r] = parse_responses(data)
        [rid] = r.header("X-Request-Id")
        assert re.fullmatch(r"[0-9a-f]{16}", rid) and r.json()["x_request_id"] == rid, r
        seen.add(rid)
    assert len(seen) == 4
    # a request the server refuses before routing it gets one too
    data, eof, _ = exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
    [r] = parse_responses(data)
    assert r.status == 400 and re.fullmatch(r"[0-9a-f]{16}", r.json()["x_request_id"]), r


def test_log_lines_about_a_request_name_its_id(api_factory):
    api = api_factory({"log_level": "debug"})
    data, eof, _ = exchange(api.port, b"GET /v1/ptr/192.0.2.1 HTTP/1.1\r\nHost: x\r\nX-Request-Id: trace-me-1\r\n"
                                      b"Authorization: Bearer rdns_999_nope\r\nConnection: close\r\n\r\n")
    [r] = parse_responses(data)
    assert r.status == 401 and r.json()["x_request_id"] == "trace-me-1", r
    lines = wait_until(lambda: [ln for ln in api.log().splitlines() if "request trace-me-1" in ln] or None,
                       timeout=5, what="a log line naming the request")
    assert any("GET /v1/ptr/192.0.2.1 -> 401" in ln for ln in lines), lines
