"""rawhttp.py - HTTP/1.1 over raw sockets for the framing and slow-client tests: a client
library would normalise exactly the bytes these tests are about. Send bytes, read until
EOF (or a time limit), and split what came back into responses."""
import json
import socket
import time


def connect(port, source="127.0.0.1", timeout=3.0, host="127.0.0.1"):
    """A TCP connection to host:port from source (any 127.0.0.0/8 address is local on Linux)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.settimeout(timeout)
    s.connect((host, port))
    return s


def read_until_eof(s, timeout):
    """Everything received until EOF or reset; (data, eof, seconds). eof False: still open at timeout."""
    t0 = time.monotonic()
    deadline = t0 + timeout
    data = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return data, False, time.monotonic() - t0
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return data, False, time.monotonic() - t0
        except (ConnectionResetError, BrokenPipeError):
            return data, True, time.monotonic() - t0
        if not chunk:
            return data, True, time.monotonic() - t0
        data += chunk


def exchange(port, payload, timeout=3.0, source="127.0.0.1"):
    """Send payload (bytes, sent in one go) on a new connection; what came back until EOF.
    A write the server refuses half-way (it answered and closed early) is not an error."""
    s = connect(port, source)
    try:
        try:
            s.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass
        return read_until_eof(s, timeout)
    finally:
        s.close()


class Response:
    def __init__(self, version, status, reason, headers, body):
        self.version, self.status, self.reason, self.headers, self.body = version, status, reason, headers, body

    def header(self, name):
        """The values of header name (case-insensitive), a list."""
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<{self.status} {self.reason} {self.headers} {self.body[:200]!r}>"


def parse_responses(data, head_requests=()):
    """Split a byte stream into Responses (bodies by Content-Length or chunked; a response
    without either runs to the end). head_requests: indices of responses to HEAD
    requests, which have no body. Raises ValueError on anything that is not HTTP/1.x."""
    out = []
    while data:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            raise ValueError(f"truncated head: {data[:300]!r}")
        head, data = data[:end].decode("latin-1"), data[end + 4:]
        lines = head.split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise ValueError(f"not a status line: {lines[0]!r}")
        headers = []
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            headers.append((k, v.strip()))
        r = Response(parts[0], int(parts[1]), parts[2] if len(parts) > 2 else "", headers, b"")
        cl = r.header("Content-Length")
        if len(out) in head_requests or r.status in (204, 304) or 100 <= r.status < 200:
            pass
        elif any(v.lower() == "chunked" for v in r.header("Transfer-Encoding")):
            body = b""
            while True:
                eol = data.find(b"\r\n")
                n = int(data[:eol].split(b";")[0], 16)
                body += data[eol + 2:eol + 2 + n]
                data = data[eol + 2 + n + 2:]
                if n == 0:
                    break
            r.body = body
        elif cl:
            n = int(cl[0])
            r.body, data = data[:n], data[n:]
        else:
            r.body, data = data, b""
        out.append(r)
    return out


def assert_problem(r, status):
    """r is an RFC 9457 problem+json answer with this status; its body."""
    assert r.status == status, r
    assert r.header("Content-Type") == ["application/problem+json"], r
    p = r.json()
    assert p["status"] == status and p["title"] and p["type"] and "detail" in p, p
    return p
