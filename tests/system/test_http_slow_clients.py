"""Slow and idle clients (issue #13, item 3): with the shipped defaults a whole request
must arrive within api_request_timeout_ms of its first byte (a trickle does not extend
it: 408 problem+json and a close), one address holds at most api_per_ip_connections
(more: 503 problem+json with Retry-After, at once), so that another client keeps at least
95% of its success rate during such an attack. Behind a proxy the client address comes
from X-Forwarded-For or the PROXY protocol, and only from api_trusted_proxies.
Loopback only: 127.0.0.0/8 is all local on Linux, so 127.0.0.2 and 127.0.1.x stand for
other hosts. Each attack is bounded to a few hundred connections and a few seconds."""
import re
import os
import subprocess
import selectors
import socket
import struct
import threading
import time

import pytest
import requests

from conftest import Client
import harness
from harness import wait_until
from rawhttp import assert_problem, connect, exchange, parse_responses, read_until_eof

ATTACKER = "127.0.0.2"
PROXY = "127.0.0.3"
# Never completes: one byte of it is sent every `every` seconds.
SLOW_HEAD = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100000


class Conn:
    def __init__(self, sock, src):
        self.sock, self.src = sock, src
        self.sent = 0
        self.t_first = None   # first byte sent
        self.t_closed = None  # EOF or reset seen
        self.data = b""


class Trickle:
    """n connections from the given source addresses (round robin), each sent one byte of
    payload every `every` seconds, none reopened. Records when each was closed and what
    the server sent on it."""

    def __init__(self, port, sources, n, payload=SLOW_HEAD, every=0.5):
        self.port, self.sources, self.n, self.payload, self.every = port, sources, n, payload, every
        self.conns = []
        self._stop = threading.Event()
        self._th = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        for i in range(self.n):
            src = self.sources[i % len(self.sources)]
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((src, 0))
            s.settimeout(2)
            s.connect(("127.0.0.1", self.port))
            s.setblocking(False)
            c = Conn(s, src)
            self._send(c)
            self.conns.append(c)
        self.t0 = time.monotonic()
        self._th.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._th.join(10)
        for c in self.conns:
            c.sock.close()

    def _send(self, c):
        if c.t_closed is not None or c.sent >= len(self.payload):
            return
        try:
            c.sock.send(self.payload[c.sent:c.sent + 1])
            c.sent += 1
            if c.t_first is None:
                c.t_first = time.monotonic()
        except BlockingIOError:
            pass
        except OSError:
            self._closed(c)

    def _closed(self, c):
        if c.t_closed is None:
            c.t_closed = time.monotonic()

    def _run(self):
        sel = selectors.DefaultSelector()
        for c in self.conns:
            sel.register(c.sock, selectors.EVENT_READ, c)
        next_round = time.monotonic() + self.every
        while not self._stop.is_set() and sel.get_map():
            for key, _ in sel.select(max(0.0, min(0.05, next_round - time.monotonic()))):
                c = key.data
                try:
                    d = c.sock.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    d = b""
                c.data += d
                if not d:
                    self._closed(c)
                    sel.unregister(c.sock)
            if time.monotonic() >= next_round:
                next_round += self.every
                for c in self.conns:
                    self._send(c)
        sel.close()

    def open(self):
        return [c for c in self.conns if c.t_closed is None]


def victim(api, token, seconds):
    """Sequential requests from 127.0.0.1 for `seconds`: /healthz on a new connection each
    time, and GET /v1/me on a keep-alive session. (ok, total, slowest seconds)."""
    sess = Client(api.base, token)
    ok = total = 0
    slowest = 0.0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for do in (lambda: requests.get(api.base + "/healthz", timeout=2, headers={"Connection": "close"}),
                   lambda: sess.get("/v1/me", timeout=2)):
            total += 1
            t0 = time.monotonic()
            try:
                if do().status_code == 200:
                    ok += 1
            except requests.RequestException:
                pass
            slowest = max(slowest, time.monotonic() - t0)
        time.sleep(0.02)
    return ok, total, slowest


@pytest.fixture(scope="module")
def token(staff):
    return staff.s.headers["Authorization"].split()[1]


def check_cut_off(att, timeout_s, slack=1.0):
    """Every trickling connection was answered 408 problem+json (or 503 at once, for those
    above the per-address limit) and closed within timeout_s + slack of its first byte."""
    try:
        wait_until(lambda: not att.open(), timeout=timeout_s + slack + 1.0, interval=0.1)
    except TimeoutError:
        raise AssertionError(f"{len(att.open())} of {len(att.conns)} trickling connections still open "
                             f"{time.monotonic() - att.t0:.1f} s after the attack began") from None
    kinds = {408: 0, 503: 0}
    for c in att.conns:
        assert c.data.count(b"HTTP/1.1 ") == 1, c.data[:400]
        [r] = parse_responses(c.data)
        assert r.status in kinds, r
        assert_problem(r, r.status)
        took = c.t_closed - c.t_first
        if r.status == 408:
            assert timeout_s - 0.3 <= took <= timeout_s + slack, f"408 after {took:.2f} s"
        else:
            assert took <= 1.0 and r.header("Retry-After"), (took, r)
        kinds[r.status] += 1
    return kinds


def test_trickled_heads_cut_at_the_request_timeout(api_factory, token):
    # 300 connections from 15 addresses (20 each: within the per-address default of 32),
    # a header byte every 0.5 s: before the fix each byte reset the 30 s idle timer.
    api = api_factory({"api_request_timeout_ms": 1500})
    sources = [f"127.0.1.{i}" for i in range(1, 16)]
    with Trickle(api.port, sources, 300) as att:
        ok, total, slowest = victim(api, token, 5.0)
        assert ok >= 0.95 * total, f"victim: {ok}/{total} succeeded, slowest {slowest:.2f} s"
        kinds = check_cut_off(att, 1.5)
    assert kinds[408] == 300, kinds
    api.stop()


def shipped_default(key):
    """The default of an option as rdns-api --help prints it."""
    out = subprocess.run([os.path.join(harness.BIN, "rdns-api"), "--help"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
    m = re.search(rf"^\s*{key}\s.*\(default: \"([^\"]*)\"\)$", out, re.M)
    assert m, out
    return m.group(1)


def test_trickle_and_flood_from_one_address_with_shipped_defaults(api_factory, token):
    # 1,100 trickling connections from one address (above api_max_connections, 1024, as in
    # the issue: 300-600 would stay below it and not lock anyone out even today), the
    # shipped defaults: 32 are held (and cut off at 10 s), the rest refused at once; the
    # victim does not notice.
    # The harness turns the per-address limit off for the rest of the suite (all its
    # clients are 127.0.0.1); here it is the shipped default again, read off the binary.
    default = shipped_default("api_per_ip_connections")
    assert default == "32", default
    api = api_factory({"api_per_ip_connections": default})
    with Trickle(api.port, [ATTACKER], 1100) as att:
        ok, total, slowest = victim(api, token, 5.0)
        assert ok >= 0.95 * total, f"victim: {ok}/{total} succeeded, slowest {slowest:.2f} s"
        kinds = check_cut_off(att, 10.0)
    assert kinds[503] >= 1100 - 32 and kinds[408] <= 32, kinds
    api.stop()


def test_idle_connections_above_the_per_address_limit_get_503(api_factory, token):
    api = api_factory({"api_per_ip_connections": 8})
    socks = [connect(api.port, ATTACKER) for _ in range(20)]
    try:
        time.sleep(0.5)
        answered = []
        for s in socks:
            s.setblocking(False)
            try:
                d = s.recv(65536)
            except BlockingIOError:
                continue  # held, as it should be for 8 of them
            s.setblocking(True)
            d += read_until_eof(s, 1.0)[0]
            answered.append(d)
        assert len(answered) == 20 - 8, f"{len(answered)} refused, want 12"
        for d in answered:
            assert d.count(b"HTTP/1.1 ") == 1, d[:300]
            [r] = parse_responses(d)
            assert_problem(r, 503)
            assert r.header("Retry-After"), r
        # Another address is not affected, and the attacker's own requests still go
        # through its 8 connections.
        ok, total, _ = victim(api, token, 1.0)
        assert ok == total
    finally:
        for s in socks:
            s.close()
    api.stop()


def test_trickled_body_and_silence(api_factory, token):
    api = api_factory({"api_request_timeout_ms": 1500, "api_idle_timeout": 2})
    head = (f"PUT /v1/ptr/198.51.100.1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n").encode()
    # The head at once, then the body one byte every 0.3 s: the deadline counts from the
    # first byte of the request.
    s = connect(api.port, ATTACKER)
    t0 = time.monotonic()
    s.sendall(head)
    stop = threading.Event()

    def drip():
        while not stop.wait(0.3):
            try:
                s.send(b" ")
            except OSError:
                return
    th = threading.Thread(target=drip, daemon=True)
    th.start()
    data, eof, _ = read_until_eof(s, 4.0)
    took = time.monotonic() - t0
    stop.set()
    th.join()
    s.close()
    assert eof and 1.2 <= took <= 2.5, f"eof={eof} after {took:.2f} s"
    [r] = parse_responses(data)
    assert_problem(r, 408)
    # Nothing sent at all: closed without a word (an answer to no request is noise).
    s = connect(api.port, ATTACKER)
    data, eof, took = read_until_eof(s, 4.0)
    s.close()
    assert eof and data == b"" and took <= 3.0, (eof, data[:200], took)
    # Keep-alive after an answer: idle for api_idle_timeout, then closed silently.
    s = connect(api.port, ATTACKER)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    data, eof, took = read_until_eof(s, 4.0)
    s.close()
    assert eof and 1.5 <= took <= 3.0 and data.count(b"HTTP/1.1 ") == 1, (eof, took, data[:300])
    api.stop()


# ---------------------------------------------------------------- behind a proxy

def log_line(api, marker):
    """The log line that names marker (a request path), waited for."""
    def find():
        return [ln for ln in api.log().splitlines() if marker in ln]
    return wait_until(find, timeout=3, what=f"a log line for {marker}")[-1]


def get(port, path, source, extra=b"", prefix=b""):
    data, eof, _ = exchange(port, prefix + b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n" + extra +
                            b"Connection: close\r\n\r\n", timeout=2.0, source=source)
    return parse_responses(data), eof


def test_x_forwarded_for_only_from_trusted_proxies(api_factory):
    api = api_factory({"log_level": "debug", "api_trusted_proxies": f"{PROXY}/32, ::1/128",
                       "api_per_ip_connections": 4})
    xff = b"X-Forwarded-For: 192.0.2.200, 198.51.100.9, 127.0.0.3\r\n"
    get(api.port, "/v1/xff-trusted", PROXY, xff)
    assert "client 198.51.100.9" in log_line(api, "/v1/xff-trusted")
    get(api.port, "/v1/xff-untrusted", ATTACKER, xff)
    line = log_line(api, "/v1/xff-untrusted")
    assert "client 127.0.0.2" in line and "198.51.100.9" not in line, line
    get(api.port, "/v1/xff-none", PROXY)
    assert "client 127.0.0.3" in log_line(api, "/v1/xff-none")
    # A proxy (without the PROXY protocol) carries many clients: it is not held to the
    # per-address limit.
    socks = [connect(api.port, PROXY) for _ in range(12)]
    try:
        time.sleep(0.5)
        for s in socks:
            s.setblocking(False)
            with pytest.raises(BlockingIOError):
                s.recv(1)  # held: no 503, no close
    finally:
        for s in socks:
            s.close()
    api.stop()


def proxy_v1(src, sport=40000):
    return f"PROXY TCP4 {src} 127.0.0.1 {sport} 80\r\n".encode()


def proxy_v2(src, sport=40000):
    addrs = socket.inet_aton(src) + socket.inet_aton("127.0.0.1") + struct.pack("!HH", sport, 80)
    return b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x11]) + struct.pack("!H", len(addrs)) + addrs


def test_proxy_protocol(api_factory):
    api = api_factory({"log_level": "debug", "api_trusted_proxies": f"{PROXY}/32",
                       "api_proxy_protocol": "on", "api_per_ip_connections": 4})
    rs, _ = get(api.port, "/v1/proxy-v1", PROXY, prefix=proxy_v1("198.51.100.7"))
    assert [r.status for r in rs] == [404], rs
    assert "client 198.51.100.7" in log_line(api, "/v1/proxy-v1")
    rs, _ = get(api.port, "/v1/proxy-v2", PROXY, prefix=proxy_v2("198.51.100.8"))
    assert [r.status for r in rs] == [404], rs
    assert "client 198.51.100.8" in log_line(api, "/v1/proxy-v2")
    # A PROXY header from an address that is not a trusted proxy: 400 and closed.
    for prefix in (proxy_v1("198.51.100.7"), proxy_v2("198.51.100.7")):
        rs, eof = get(api.port, "/v1/proxy-spoofed", ATTACKER, prefix=prefix)
        assert eof and [r.status for r in rs] == [400], rs
        assert_problem(rs[0], 400)
    # From the trusted proxy without one: refused too (it must begin with the header).
    rs, eof = get(api.port, "/v1/proxy-missing", PROXY)
    assert eof and [r.status for r in rs] == [400], rs
    # Untrusted clients speak plain HTTP as before.
    rs, _ = get(api.port, "/healthz", "127.0.0.1")
    assert [r.status for r in rs] == [200], rs

    # The per-address limit counts PROXY-announced clients: 6 from one client, 4 held and
    # 2 refused; 4 from another client all held.
    def announce(src, n):
        out = []
        for i in range(n):
            s = connect(api.port, PROXY)
            s.sendall(proxy_v1(src, 40000 + i))
            out.append(s)
        return out
    one, two = announce("198.51.100.1", 6), announce("198.51.100.2", 4)
    try:
        time.sleep(0.5)
        refused = 0
        for s in one + two:
            s.setblocking(False)
            try:
                d = s.recv(65536)
            except BlockingIOError:
                continue
            s.setblocking(True)
            d += read_until_eof(s, 1.0)[0]
            [r] = parse_responses(d)
            assert_problem(r, 503)
            assert r.header("Retry-After") and s in one, r
            refused += 1
        assert refused == 2
    finally:
        for s in one + two:
            s.close()
    api.stop()
