"""HTTPS (issue #14): rdns-api with api_tls_cert and api_tls_key speaks TLS (GnuTLS) on
api_listen. The certificates are made here with openssl: a CA and server certificates
for 127.0.0.1 and localhost that requests and curl verify against the CA. Keep-alive,
pipelining and a large answer over TLS; a plain HTTP request on the TLS port is closed,
not left hanging; a handshake that stalls or trickles is cut at api_request_timeout_ms;
SIGHUP reloads the certificate for new connections while open ones keep their session,
and a broken reload keeps the old certificate; bad files refuse the start and
--check-config with a message naming the file and why. Loopback only."""
import os
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import warnings

import pytest
import requests
import urllib3

import harness
from harness import wait_until
from rawhttp import parse_responses, read_until_eof


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE, timeout=60)


class Pki:
    """A CA in dir and server certificates it signs (EC P-256, SAN 127.0.0.1 and localhost)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="rdns-tls-")
        self.ca = os.path.join(self.dir, "ca.pem")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=rdns test CA",
                cwd=self.dir)

    def server(self, name):
        """Files name.pem (the certificate, then the CA: a chain) and name.key; their paths."""
        d = self.dir
        with open(os.path.join(d, f"{name}.ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.crt", cwd=d)
        with open(os.path.join(d, f"{name}.pem"), "w") as out:
            for part in (f"{name}.crt", "ca.pem"):
                with open(os.path.join(d, part)) as f:
                    out.write(f.read())
        return os.path.join(d, f"{name}.pem"), os.path.join(d, f"{name}.key")

    def der(self, name):
        with open(os.path.join(self.dir, f"{name}.crt")) as f:
            return ssl.PEM_cert_to_DER_cert(f.read())


def install(src, dst):
    """Replace dst with a copy of src: write to a temporary file, fsync, rename."""
    tmp = dst + ".tmp"
    with open(src, "rb") as f, open(tmp, "wb") as g:
        g.write(f.read())
        g.flush()
        os.fsync(g.fileno())
    os.rename(tmp, dst)


class TlsApi(harness.Api):
    def __init__(self, pg_url, ca, extra):
        super().__init__(pg_url, extra)
        self.ca = ca
        self.base = f"https://127.0.0.1:{self.port}"

    def start(self):
        harness.Daemon.start(self)
        wait_until(lambda: requests.get(self.base + "/healthz", timeout=1, verify=self.ca).status_code == 200,
                   what="rdns-api /healthz over HTTPS")
        return self


@pytest.fixture(scope="module")
def pki():
    p = Pki()
    p.files = {n: p.server(n) for n in ("one", "two", "other")}
    yield p
    subprocess.run(["rm", "-rf", p.dir], check=False)


@pytest.fixture(scope="module")
def tls_api(dburl, pki):
    """rdns-api on HTTPS with the certificate "one", copied to files that the reload tests
    replace."""
    cert, key = os.path.join(pki.dir, "live.pem"), os.path.join(pki.dir, "live.key")
    install(pki.files["one"][0], cert)
    install(pki.files["one"][1], key)
    a = TlsApi(dburl, pki.ca, {"api_tls_cert": cert, "api_tls_key": key, "api_request_timeout_ms": 1500,
                               "api_idle_timeout": 30, "log_level": "debug"})
    a.cert, a.key = cert, key
    a.run("migrate")
    a.start()
    a.token = a.add_staff("tls-staff")
    yield a
    assert a.stop() == 0
    a.close()


def tls_connect(api, server_hostname="localhost"):
    ctx = ssl.create_default_context(cafile=api.ca)
    ctx.set_alpn_protocols(["http/1.1"])
    raw = socket.create_connection(("127.0.0.1", api.port), timeout=5)
    return ctx.wrap_socket(raw, server_hostname=server_hostname)


def read_responses(s, n, timeout=10):
    """Read from s until n whole responses have come (each framed by Content-Length),
    counting them as they come (a linear scan: the large-answer test reads megabytes)."""
    data = bytearray()
    pos = count = 0
    deadline = time.monotonic() + timeout
    while count < n and time.monotonic() < deadline:
        end = data.find(b"\r\n\r\n", pos)
        if end >= 0:
            head = bytes(data[pos:end]).lower()
            i = head.find(b"content-length:")
            cl = int(head[i + 15:].split(b"\r\n")[0]) if i >= 0 else 0
            if len(data) >= end + 4 + cl:
                pos, count = end + 4 + cl, count + 1
                continue
        s.settimeout(max(0.05, deadline - time.monotonic()))
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    assert count == n and pos == len(data), (count, n, pos, len(data), bytes(data[:300]))
    rs = parse_responses(bytes(data))
    assert len(rs) == n
    return rs


def get(path, extra=b""):
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: localhost\r\n" + extra + b"\r\n"


def test_requests_and_curl_verify_and_get_put(tls_api):
    api = tls_api
    r = requests.get(api.base + "/healthz", verify=api.ca, timeout=5)
    assert r.status_code == 200
    # by name too: the certificate is for localhost as well
    r = requests.get(f"https://localhost:{api.port}/healthz", verify=api.ca, timeout=5)
    assert r.status_code == 200
    # an unknown CA is refused by the client: this is really TLS with our certificate
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(api.base + "/healthz", timeout=5)
    auth = {"Authorization": f"Bearer {api.token}"}
    r = requests.post(api.base + "/v1/accounts", json={"name": "over-tls", "role": "customer"}, headers=auth,
                      verify=api.ca, timeout=5)
    assert r.status_code == 201, r.text
    # a PUT with a body, answered by the handler (no allocation holds the address)
    r = requests.put(api.base + "/v1/ptr/198.51.100.77", json={"hostname": "mx.example.com"}, headers=auth,
                     verify=api.ca, timeout=10)
    assert r.headers["Content-Type"].startswith("application/problem+json"), r.text
    assert 400 <= r.status_code < 500 and r.json()["status"] == r.status_code
    out = subprocess.run(["curl", "-sS", "--cacert", api.ca, "-w", "\n%{http_code} %{http_version}",
                          api.base + "/healthz"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.rstrip().endswith("200 1.1"), out.stdout
    out = subprocess.run(["curl", "-sS", "--cacert", api.ca, "-X", "PUT", "-H", f"Authorization: Bearer {api.token}",
                          "-H", "Content-Type: application/json", "--data", '{"hostname": "mx.example.com"}',
                          "-w", "\n%{http_code}", api.base + "/v1/ptr/198.51.100.77"],
                          capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.rstrip().endswith(str(r.status_code)), out.stdout


def test_alpn_and_versions(tls_api):
    s = tls_connect(tls_api)
    assert s.selected_alpn_protocol() == "http/1.1"
    assert s.version() in ("TLSv1.3", "TLSv1.2")
    s.close()
    # TLS 1.1 and older are refused by the default api_tls_priority
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(tls_api.ca)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # offering them is the point
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    except (ValueError, ssl.SSLError):
        pytest.skip("this OpenSSL cannot offer TLS 1.1")
    raw = socket.create_connection(("127.0.0.1", tls_api.port), timeout=5)
    with pytest.raises((ssl.SSLError, ConnectionError)) as e:
        ctx.wrap_socket(raw, server_hostname="localhost")
    assert "no protocols available" not in str(e.value)  # offered, and refused by the server
    raw.close()


def test_keep_alive_and_pipelining(tls_api):
    s = tls_connect(tls_api)
    # keep-alive: one request after the other on the same TLS connection
    for i in range(3):
        s.sendall(get("/healthz", f"X-Request-Id: ka-{i}\r\n".encode()))
        [r] = read_responses(s, 1)
        assert r.status == 200 and r.header("X-Request-Id") == [f"ka-{i}"], r
    # pipelined: several requests in one write, answered in order
    s.sendall(b"".join(get("/healthz", f"X-Request-Id: p-{i}\r\n".encode()) for i in range(8)))
    rs = read_responses(s, 8)
    assert [r.header("X-Request-Id") for r in rs] == [[f"p-{i}"] for i in range(8)]
    assert all(r.status == 200 for r in rs)
    s.close()
    # a client library's keep-alive: five requests, one TLS connection (urllib3, as
    # requests uses it, counts the connections it opened)
    pool = urllib3.HTTPSConnectionPool("127.0.0.1", tls_api.port, maxsize=1, ca_certs=tls_api.ca,
                                       cert_reqs="CERT_REQUIRED", assert_hostname="localhost")
    for _ in range(5):
        assert pool.request("GET", "/healthz", timeout=5).status == 200
    assert pool.num_connections == 1
    pool.close()


def test_large_answer_over_tls(tls_api):
    r = requests.get(tls_api.base + "/v1/openapi.yaml", verify=tls_api.ca, timeout=10)
    assert r.status_code == 200
    assert int(r.headers["Content-Length"]) == len(r.content) > 16384  # more than one TLS record
    # 200 of them (6 MB, more than the kernel buffers) pipelined to a client that reads nothing for a second, through a small
    # receive window: the server's writes block midway (EAGAIN) and must resume with the
    # same bytes, or the stream would be corrupt
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.settimeout(5)
    raw.connect(("127.0.0.1", tls_api.port))
    ctx = ssl.create_default_context(cafile=tls_api.ca)
    s = ctx.wrap_socket(raw, server_hostname="localhost")
    n = 200
    s.sendall(b"".join(get("/v1/openapi.yaml") for _ in range(n)) + get("/healthz"))
    time.sleep(1.0)
    rs = read_responses(s, n + 1, timeout=30)
    assert all(x.status == 200 and x.body == r.content for x in rs[:n])
    assert rs[n].status == 200 and rs[n].body.startswith(b"{")
    s.close()


def test_plain_http_on_the_tls_port_is_closed(tls_api):
    s = socket.create_connection(("127.0.0.1", tls_api.port), timeout=5)
    t0 = time.monotonic()
    s.sendall(get("/healthz"))
    data, eof, took = read_until_eof(s, 5)
    s.close()
    assert eof and took < 3.0, (data, eof, took)
    assert b"HTTP/1.1 200" not in data
    # and the server goes on
    assert requests.get(tls_api.base + "/healthz", verify=tls_api.ca, timeout=5).status_code == 200
    assert time.monotonic() - t0 < 5


def client_hello():
    """A real ClientHello's bytes (from an in-memory handshake)."""
    ctx = ssl.create_default_context()
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    return out.read()


@pytest.mark.parametrize("how", ["silent", "trickle"])
def test_stalled_handshake_is_cut_at_the_request_timeout(tls_api, how):
    hello = client_hello()
    assert len(hello) > 100
    s = socket.create_connection(("127.0.0.1", tls_api.port), timeout=5)
    t0 = time.monotonic()
    s.setblocking(False)
    closed = None
    sent = 0
    while time.monotonic() - t0 < 6:
        if how == "trickle" and sent < len(hello) - 1:
            try:
                s.send(hello[sent:sent + 1])
                sent += 1
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                pass
        try:
            d = s.recv(4096)
            if not d:
                closed = time.monotonic() - t0
                break
        except BlockingIOError:
            pass
        except ConnectionResetError:
            closed = time.monotonic() - t0
            break
        time.sleep(0.1)
    s.close()
    assert closed is not None, "the stalled handshake was not cut"
    assert 1.2 <= closed <= 3.0, closed  # api_request_timeout_ms = 1500, ticks of 200 ms
    if how == "trickle":
        assert sent >= 10


def peer_der(api):
    s = tls_connect(api)
    der = s.getpeercert(binary_form=True)
    return s, der


def wait_log(api, text, since):
    wait_until(lambda: text in api.log()[since:], timeout=10, what=f"log line '{text}'")


def test_sighup_reload(tls_api, pki):
    api = tls_api
    old, d_old = peer_der(api)
    assert d_old == pki.der("one")
    old.sendall(get("/healthz"))
    assert read_responses(old, 1)[0].status == 200
    # new certificate and key, then SIGHUP
    install(pki.files["two"][0], api.cert)
    install(pki.files["two"][1], api.key)
    n = len(api.log())
    api.proc.send_signal(signal.SIGHUP)
    wait_log(api, "TLS reloaded", n)
    assert "CN=two" in api.log()[n:] and "expires 20" in api.log()[n:]
    # the connection opened before keeps working, on its session with the old certificate
    old.sendall(get("/healthz"))
    assert read_responses(old, 1)[0].status == 200
    assert old.getpeercert(binary_form=True) == pki.der("one")
    # a new one gets the new certificate
    new, d_new = peer_der(api)
    assert d_new == pki.der("two")
    new.close()
    # the old credentials are freed when the last connection that uses them closes
    assert "TLS credentials freed" not in api.log()[n:]
    old.close()
    wait_log(api, "TLS credentials freed", n)
    assert "CN=one" in [l for l in api.log()[n:].splitlines() if "TLS credentials freed" in l][0]
    # a broken key: the reload fails, is logged with the reason, the old one stays
    with open(api.key + ".tmp", "w") as f:
        f.write("-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n")
    os.rename(api.key + ".tmp", api.key)
    n = len(api.log())
    api.proc.send_signal(signal.SIGHUP)
    wait_log(api, "TLS reload failed", n)
    line = [l for l in api.log()[n:].splitlines() if "TLS reload failed" in l][0]
    assert f"api_tls_key '{api.key}'" in line and "still serving the previous certificate" in line, line
    s, d = peer_der(api)
    assert d == pki.der("two")
    s.close()
    # a key that is not the certificate's: refused too
    install(pki.files["other"][1], api.key)
    n = len(api.log())
    api.proc.send_signal(signal.SIGHUP)
    wait_log(api, "TLS reload failed", n)
    assert "do not match" in api.log()[n:], api.log()[n:]
    s, d = peer_der(api)
    assert d == pki.der("two")
    s.close()
    assert requests.get(api.base + "/healthz", verify=api.ca, timeout=5).status_code == 200
    install(pki.files["two"][1], api.key)


def bad_configs(pki):
    cert1, key1 = pki.files["one"]
    _, key2 = pki.files["other"]
    notpem = os.path.join(pki.dir, "notpem.txt")
    with open(notpem, "w") as f:
        f.write("hello, not a PEM file\n")
    missing = os.path.join(pki.dir, "missing.key")
    return [
        ({"api_tls_cert": cert1, "api_tls_key": missing},
         [f"api_tls_key: '{missing}': cannot be read: No such file or directory"]),
        ({"api_tls_cert": cert1, "api_tls_key": pki.dir}, ["api_tls_key", "not a regular file"]),
        ({"api_tls_cert": cert1, "api_tls_key": notpem},
         [f"api_tls_key '{notpem}': not an unencrypted PEM private key"]),
        ({"api_tls_cert": notpem, "api_tls_key": key1}, [f"api_tls_cert '{notpem}': not a PEM certificate"]),
        ({"api_tls_cert": cert1, "api_tls_key": key2},
         [f"api_tls_key '{key2}' and api_tls_cert '{cert1}'", "do not match"]),
        ({"api_tls_cert": key1, "api_tls_key": key1}, ["api_tls_cert", "not a PEM certificate"]),
        ({"api_tls_cert": cert1}, ["api_tls_cert is set but api_tls_key is not"]),
        ({"api_tls_cert": cert1, "api_tls_key": key1, "api_tls_priority": "NORMAL:+NOPE"},
         ["api_tls_priority 'NORMAL:+NOPE'"]),
    ]


def test_bad_files_refuse_check_config_and_start(dburl, pki):
    for extra, words in bad_configs(pki):
        a = harness.Api(dburl, extra)
        try:
            r = a.run("--check-config", check=False)
            assert r.returncode == 2, (extra, r.returncode, r.stdout, r.stderr)
            for w in words:
                assert w in r.stderr, (extra, r.stderr)
            r = subprocess.run([os.path.join(harness.BIN, "rdns-api"), "-c", a.conf_path], capture_output=True,
                               text=True, env=a.env, timeout=30)
            assert r.returncode in (1, 2), (extra, r.returncode, r.stderr)
            for w in words:
                assert w in r.stderr, (extra, r.stderr)
        finally:
            a.close()
    # and the good pair passes --check-config
    cert1, key1 = pki.files["one"]
    a = harness.Api(dburl, {"api_tls_cert": cert1, "api_tls_key": key1})
    try:
        r = a.run("--check-config", check=False)
        assert r.returncode == 0 and "configuration ok" in r.stdout, r.stderr
    finally:
        a.close()


PROXY = "127.0.0.3"


class BioTls:
    """A TLS client over a plain socket through memory BIOs, so that the bytes before TLS
    (a PROXY header) go out in the same segment as the ClientHello."""

    def __init__(self, sock, ca, prefix=b""):
        self.sock = sock
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = ssl.create_default_context(cafile=ca).wrap_bio(self.inc, self.out,
                                                                   server_hostname="localhost")
        pending = prefix
        for _ in range(20):
            try:
                self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                pending += self.out.read()
                if pending:
                    sock.sendall(pending)
                    pending = b""
                d = sock.recv(65536)
                if not d:
                    raise ConnectionError("closed during the handshake")
                self.inc.write(d)
        else:
            raise AssertionError("handshake did not finish")
        self._send()

    def _send(self):
        d = self.out.read()
        if d:
            self.sock.sendall(d)

    def exchange(self, payload, timeout=5):
        """Send payload, read until the server closes."""
        self.obj.write(payload)
        self._send()
        data = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                while True:
                    d = self.obj.read(65536)
                    if not d:
                        return data  # close_notify
                    data += d
            except ssl.SSLWantReadError:
                pass
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return data
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            d = self.sock.recv(65536)
            if not d:
                return data
            self.inc.write(d)
        return data


def src_connect(port, source):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    return s


def log_line(api, marker):
    def find():
        return [ln for ln in api.log().splitlines() if marker in ln]
    return wait_until(find, timeout=3, what=f"a log line for {marker}")[-1]


def test_proxy_protocol_before_tls_and_per_address_limit(dburl, pki):
    cert, key = pki.files["one"]
    api = TlsApi(dburl, pki.ca, {"api_tls_cert": cert, "api_tls_key": key, "log_level": "debug",
                                 "api_trusted_proxies": f"{PROXY}/32", "api_proxy_protocol": "on",
                                 "api_per_ip_connections": 2})
    try:
        api.start()
        # the PROXY header and the ClientHello in one segment: GnuTLS reads what followed it
        for src, path in (("198.51.100.7", "/v1/tls-proxy-a"), ("198.51.100.8", "/v1/tls-proxy-b")):
            s = src_connect(api.port, PROXY)
            t = BioTls(s, pki.ca, f"PROXY TCP4 {src} 127.0.0.1 40000 443\r\n".encode())
            [r] = parse_responses(t.exchange(get(path, b"Connection: close\r\n")))
            s.close()
            assert r.status == 404, r
            assert f"client {src}" in log_line(api, path)
        # the per-address limit holds over TLS: a third connection from one address is closed
        held = [tls_connect_from(api, "127.0.0.2") for _ in range(2)]
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            tls_connect_from(api, "127.0.0.2").sendall(get("/healthz"))
        for h in held:
            h.sendall(get("/healthz"))
            assert read_responses(h, 1)[0].status == 200
            h.close()
        assert api.stop() == 0
    finally:
        api.close()


def tls_connect_from(api, source):
    ctx = ssl.create_default_context(cafile=api.ca)
    return ctx.wrap_socket(src_connect(api.port, source), server_hostname="localhost")


def test_x_forwarded_for_over_tls(dburl, pki):
    cert, key = pki.files["one"]
    api = TlsApi(dburl, pki.ca, {"api_tls_cert": cert, "api_tls_key": key, "log_level": "debug",
                                 "api_trusted_proxies": f"{PROXY}/32"})
    try:
        api.start()
        xff = b"X-Forwarded-For: 192.0.2.200, 198.51.100.9\r\n"
        for src, path, want in ((PROXY, "/v1/tls-xff-trusted", "198.51.100.9"),
                                ("127.0.0.2", "/v1/tls-xff-untrusted", "127.0.0.2")):
            s = tls_connect_from(api, src)
            s.sendall(get(path, xff))
            assert read_responses(s, 1)[0].status == 404
            s.close()
            assert f"client {want} " in log_line(api, path) + " "
        assert api.stop() == 0
    finally:
        api.close()
