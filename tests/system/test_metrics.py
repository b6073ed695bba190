"""GET /metrics of both daemons after real traffic: PUTs and GETs through rdns-api, renders,
AXFR, IXFR, a refused transfer, a failed TSIG check and a NOTIFY to a silent target against
rdns-zonegen. Every scrape passes `promtool check metrics`; the counts move by exactly what
the traffic did where that is deterministic; the API's /metrics is open to metrics_allow
and staff only; metrics = off turns it all off."""
import http.client
import re
import socket
import struct
import subprocess
import time

import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset
import dns.tsigkeyring
import psycopg2
import pytest
import requests

from conftest import Client
from harness import Zonegen, free_port, wait_until

FWD = "metrics.example.com"
FWD_ZONE = f"""$ORIGIN {FWD}.
$TTL 60
@ SOA ns1 hostmaster 1 3600 600 86400 60
@ NS ns1
ns1 A 192.0.2.53
ok A 198.18.7.10
"""
ZONE = "7.18.198.in-addr.arpa"
PROM_CT = "text/plain; version=0.0.4; charset=utf-8"

_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """{(name, ((label, value), ...)): float} of every sample."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _LINE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels = tuple(sorted(_LABEL.findall(m.group(2) or "")))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def val(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def promtool(text):
    r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(), r.stdout + r.stderr


def scrape(url, **kw):
    r = requests.get(url, timeout=10, **kw)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == PROM_CT
    promtool(r.text)
    return parse(r.text)


class Env:
    pass


@pytest.fixture(scope="module")
def env(api_factory, dburl, knot):
    knot.set_zone(FWD, FWD_ZONE)
    e = Env()
    # loopback but 127.0.0.2 is outside metrics_allow; short request timeout for the 408
    e.api = api_factory({"metrics_allow": "127.0.0.1/32 ::1", "api_request_timeout_ms": 1000})
    e.staff = Client(e.api.base, e.api.add_staff("metrics-staff"))
    r = e.staff.post("/v1/accounts", json={"name": "metrics-cust", "role": "customer"})
    assert r.status_code == 201, r.text
    acct = r.json()["id"]
    assert e.staff.post("/v1/allocations", json={"account_id": acct, "prefix": "198.18.7.0/28"}).status_code == 201
    e.cust = Client(e.api.base, e.staff.post(f"/v1/accounts/{acct}/tokens", json={}).json()["token"])
    e.cust_id = acct
    # a NOTIFY target that never answers: each NOTIFY ends "failed" after 2 tries
    e.silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    e.silent.bind(("127.0.0.1", 0))
    e.silent_port = e.silent.getsockname()[1]
    e.mport = free_port(udp_too=False)
    e.zg = Zonegen(dburl, {"metrics_listen": f"127.0.0.1:{e.mport}", "notify_tries": 2,
                           "notify_timeout_ms": 50})
    e.zg.start().wait_leader()
    e.murl = f"http://127.0.0.1:{e.mport}/metrics"
    wait_until(lambda: requests.get(e.murl, timeout=1).status_code == 200, what="zonegen /metrics")
    r = e.staff.post("/v1/zones", json={"prefix": "198.18.7.0/24", "nameservers": ["ns1.example.net"],
                                        "notify": [f"127.0.0.1:{e.silent_port}"]})
    assert r.status_code == 201, r.text
    assert r.json()["name"] == ZONE
    yield e
    try:
        assert e.zg.stop() == 0
    finally:
        e.zg.close()
        e.silent.close()


def soa_serial(port, zone):
    r = dns.query.udp(dns.message.make_query(zone + ".", "SOA"), "127.0.0.1", port=port, timeout=1)
    return r.answer[0][0].serial if r.answer else None


def raw_xfr(port, q):
    """Send q over TCP; read messages until one ends with the first SOA again (or an error).
    Returns (messages, wire bytes of the answer)."""
    wire = q.to_wire()
    total, msgs, first = 0, [], None
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(struct.pack("!H", len(wire)) + wire)
        f = s.makefile("rb")
        for _ in range(1000):
            n = struct.unpack("!H", f.read(2))[0]
            data = f.read(n)
            total += n
            m = dns.message.from_wire(data, one_rr_per_rrset=True)
            msgs.append(m)
            if m.rcode() != dns.rcode.NOERROR or not m.answer:
                break
            soas = [rr for rr in m.answer if rr.rdtype == dns.rdatatype.SOA]
            if first is None:
                first = soas[0][0].serial
                soas = soas[1:]
            last = m.answer[-1]
            if soas and last.rdtype == dns.rdatatype.SOA and last[0].serial == first:
                break
    return msgs, total


def test_api_counts_requests_verifications_and_batches(env):
    url = env.api.base + "/metrics"
    before = scrape(url)
    for _ in range(3):
        assert env.cust.get("/v1/ptr/198.18.7.10").status_code == 200
    assert env.cust.get("/no/such/route").status_code == 404
    r = env.cust.put("/v1/ptr/198.18.7.10", json={"hostname": f"ok.{FWD}"})
    assert r.status_code == 200, r.text
    r = env.cust.put("/v1/ptr/198.18.7.11", json={"hostname": f"ok.{FWD}"})  # resolves to .10, not .11
    assert r.status_code == 422, r.text
    after = scrape(url)

    def d(name, **labels):
        return val(after, name, **labels) - val(before, name, **labels)
    req = "rdns_api_http_requests_total"
    assert d(req, route="/v1/ptr/*", method="GET", status="200") == 3
    assert d(req, route="other", method="GET", status="404") == 1
    assert d(req, route="/v1/ptr/*", method="PUT", status="200") == 1
    assert d(req, route="/v1/ptr/*", method="PUT", status="422") == 1
    assert d(req, route="/metrics", method="GET", status="200") == 1  # the first scrape
    dur = "rdns_api_http_request_duration_seconds"
    assert d(dur + "_count", route="/v1/ptr/*", method="GET") == 3
    assert d(dur + "_bucket", route="/v1/ptr/*", method="GET", le="+Inf") == 3
    assert d(dur + "_sum", route="/v1/ptr/*", method="GET") > 0
    assert d("rdns_api_verify_checks_total", check="forward", status="pass") == 1
    assert d("rdns_api_verify_checks_total", check="forward", status="fail") == 1
    assert d("rdns_api_verify_checks_total", check="syntax", status="pass") == 2
    assert d("rdns_api_verifications_total", outcome="ok") == 1
    assert d("rdns_api_verifications_total", outcome="failed") == 1
    assert d("rdns_api_verify_duration_seconds_count") == 2
    assert d("rdns_api_batch_size_count", group="ptr") == 1  # the one applied change
    assert d("rdns_api_batch_size_bucket", group="ptr", le="1") == 1
    assert d("rdns_api_batch_size_count", group="auth") >= 3  # the GETs' token + address lookups
    assert ("rdns_db_reconnects_total", ()) in after


def test_api_reconnect_and_refusals_are_counted(env, dburl):
    url = env.api.base + "/metrics"
    before = scrape(url)
    # end the API's lookup session (zonegen's are left alone): the next GET finds it dead
    # and reconnects
    with psycopg2.connect(dburl) as c, c.cursor() as cur:
        cur.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = 'rdns-lookups'")
        assert cur.fetchone()[0] > 0
    wait_until(lambda: env.cust.get("/v1/ptr/198.18.7.10").status_code == 200, what="API back")
    # a head that never ends: 408 after api_request_timeout_ms (1 s)
    with socket.create_connection(("127.0.0.1", env.api.port), timeout=5) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 408 ")
    # a request line that is not one: 400, answered by the server itself
    with socket.create_connection(("127.0.0.1", env.api.port), timeout=5) as s:
        s.sendall(b"NOT A REQUEST\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 400 ")
    after = scrape(url)
    k = dict(status="400", reason="bad_request")
    assert val(after, "rdns_api_http_refused_total", **k) - val(before, "rdns_api_http_refused_total", **k) == 1
    assert val(after, "rdns_db_reconnects_total") - val(before, "rdns_db_reconnects_total") >= 1
    # the dead session's error (libpq gives it no SQLSTATE, or 57P01 when it read the FATAL)
    errors = lambda m: sum(v for (n, _), v in m.items() if n == "rdns_db_errors_total")  # noqa: E731
    assert errors(after) > errors(before)
    k = dict(status="408", reason="timeout")
    assert val(after, "rdns_api_http_refused_total", **k) - val(before, "rdns_api_http_refused_total", **k) == 1


def get_from(port, path, source, token=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        c.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
        r = c.getresponse()
        return r.status, r.getheader("Content-Type"), r.read().decode()
    finally:
        c.close()


def test_api_metrics_access(env):
    port = env.api.port
    st, ct, body = get_from(port, "/metrics", "127.0.0.1")
    assert st == 200 and ct == PROM_CT and "# TYPE rdns_api_http_requests_total counter" in body
    st, ct, body = get_from(port, "/metrics", "127.0.0.2")
    assert st == 403 and ct == "application/problem+json", body
    assert "metrics_allow" in body and "127.0.0.2" in body
    st, ct, body = get_from(port, "/metrics", "127.0.0.2", env.cust.s.headers["Authorization"][7:])
    assert st == 403 and ct == "application/problem+json", body
    st, ct, body = get_from(port, "/metrics", "127.0.0.2", "not-a-token")
    assert st == 401, body
    st, ct, body = get_from(port, "/metrics", "127.0.0.2", env.staff.s.headers["Authorization"][7:])
    assert st == 200 and ct == PROM_CT, body
    promtool(body)


def test_a_verification_tried_on_the_worker_is_counted_and_keeps_its_verdict(api_factory, env):
    """verify_inline_ms: with the resolver answering at once (knotd on loopback), a PUT's
    verification is answered on its HTTP worker (counted answered, none handed off) and gives
    what a verification thread gives (200 for a name with the address, 422 for one that
    resolves elsewhere, with the same checks); with 0 every verification runs on the threads
    and neither is counted. (50 ms, the most allowed: the ASan build beside another test
    worker, not the resolver, could otherwise take the 2 ms of the default.)"""
    seen = {}
    for inline in (50, 0):
        api = api_factory({"metrics_allow": "127.0.0.1/32 ::1", "verify_inline_ms": inline})
        staff = Client(api.base, api.add_staff(f"inline-staff-{inline}"))
        tok = staff.post("/v1/accounts/" + str(env.cust_id) + "/tokens", json={}).json()["token"]
        cust = Client(api.base, tok)
        url = api.base + "/metrics"
        before = scrape(url)
        ok = cust.put("/v1/ptr/198.18.7.10", json={"hostname": f"ok.{FWD}"})
        bad = cust.put("/v1/ptr/198.18.7.13", json={"hostname": f"ok.{FWD}"})  # resolves to .10
        after = scrape(url)
        assert ok.status_code == 200 and bad.status_code == 422, (ok.text, bad.text)
        seen[inline] = (ok.json()["checks"], bad.json()["checks"])

        def d(name, **labels):
            return val(after, name, **labels) - val(before, name, **labels)
        assert d("rdns_api_verify_inline_total", outcome="answered") == (2 if inline else 0)
        assert d("rdns_api_verify_inline_total", outcome="handed_off") == 0
        assert d("rdns_api_verifications_total", outcome="ok") == 1
        assert d("rdns_api_verifications_total", outcome="failed") == 1
        api.stop()
    assert seen[50] == seen[0]


def test_api_metrics_off(api_factory):
    a = api_factory({"metrics": "off"})
    r = requests.get(a.base + "/metrics", timeout=10)
    assert r.status_code == 404 and r.headers["Content-Type"] == "application/problem+json"
    assert requests.get(a.base + "/healthz", timeout=10).status_code == 200


def test_zonegen_counts_renders_transfers_notify_and_refusals(env):
    port = env.zg.port
    wait_until(lambda: soa_serial(port, ZONE), what="zone served")
    m0 = scrape(env.murl)
    assert val(m0, "rdns_zonegen_leader") == 1
    assert val(m0, "rdns_zonegen_renders_total", zone=ZONE, outcome="changed") >= 1
    serial0 = soa_serial(port, ZONE)
    assert val(m0, "rdns_zonegen_zone_serial", zone=ZONE) == serial0

    # a change: one more render with a new serial
    r = env.staff.put("/v1/ptr/198.18.7.5", json={"hostname": "five.example.net", "force": True})
    assert r.status_code == 200, r.text
    wait_until(lambda: soa_serial(port, ZONE) != serial0, what="new serial")
    serial1 = soa_serial(port, ZONE)
    target = f"127.0.0.1:{env.silent_port}"
    # the silent target: NOTIFYs end "failed" after 2 tries of 50 and 100 ms
    wait_until(lambda: val(scrape(env.murl), "rdns_zonegen_notify_total", target=target, outcome="failed") >= 2,
               timeout=15, what="NOTIFY outcomes counted")
    m1 = scrape(env.murl)
    assert val(m1, "rdns_zonegen_zone_serial", zone=ZONE) == serial1
    assert val(m1, "rdns_zonegen_renders_total", zone=ZONE, outcome="changed") - \
        val(m0, "rdns_zonegen_renders_total", zone=ZONE, outcome="changed") == 1
    assert val(m1, "rdns_zonegen_render_duration_seconds_count", zone=ZONE) >= 2

    # AXFR (its bytes exactly), IXFR incremental, IXFR older than the history (full), IXFR
    # over UDP (SOA only), an AXFR of a zone not served, a TSIG with an unknown key
    msgs, axfr_bytes = raw_xfr(port, dns.message.make_query(ZONE + ".", "AXFR"))
    assert msgs[0].rcode() == dns.rcode.NOERROR
    ixfr = dns.message.make_query(ZONE + ".", "IXFR")
    ixfr.authority.append(dns.rrset.from_text(ZONE + ".", 0, "IN", "SOA", f". . {serial0} 0 0 0 0"))
    msgs, ixfr_bytes = raw_xfr(port, ixfr)
    assert msgs[0].rcode() == dns.rcode.NOERROR
    old = dns.message.make_query(ZONE + ".", "IXFR")
    old.authority.append(dns.rrset.from_text(ZONE + ".", 0, "IN", "SOA", f". . {(serial0 - 1000) % 2**32} 0 0 0 0"))
    msgs, full_bytes = raw_xfr(port, old)
    assert msgs[0].rcode() == dns.rcode.NOERROR
    r = dns.query.udp(ixfr, "127.0.0.1", port=port, timeout=2)
    assert r.rcode() == dns.rcode.NOERROR and len(r.answer) == 1
    msgs, _ = raw_xfr(port, dns.message.make_query("9.9.10.in-addr.arpa.", "AXFR"))
    assert msgs[0].rcode() == dns.rcode.REFUSED
    signed = dns.message.make_query(ZONE + ".", "SOA")
    signed.use_tsig(dns.tsigkeyring.from_text({"nobody-knows": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}),
                    keyname="nobody-knows")
    try:
        dns.query.udp(signed, "127.0.0.1", port=port, timeout=2)
    except Exception:  # an unsigned NOTAUTH fails dnspython's own TSIG check
        pass
    m2 = scrape(env.murl)

    def d(name, **labels):
        return val(m2, name, **labels) - val(m1, name, **labels)
    assert d("rdns_zonegen_transfers_total", type="axfr", outcome="ok") == 1
    assert d("rdns_zonegen_transfers_total", type="ixfr", outcome="ok") == 1
    assert d("rdns_zonegen_transfers_total", type="ixfr_full", outcome="ok") == 1
    assert d("rdns_zonegen_transfers_total", type="ixfr_soa", outcome="ok") == 1
    assert d("rdns_zonegen_transfer_bytes_total", type="axfr") == axfr_bytes
    assert d("rdns_zonegen_transfer_bytes_total", type="ixfr") == ixfr_bytes
    assert d("rdns_zonegen_transfer_bytes_total", type="ixfr_full") == full_bytes
    assert d("rdns_zonegen_refused_total", kind="transfer", reason="not_served") == 1
    assert d("rdns_zonegen_tsig_failures_total", reason="badkey") == 1
    assert d("rdns_zonegen_refused_total", kind="query", reason="tsig") == 1
    assert ("rdns_db_errors_total", ()) not in m2  # labelled: no unlabelled series
    assert any(k[0] == "rdns_db_reconnects_total" for k in m2)


def test_zonegen_metrics_listener_answers_only_get_metrics(env):
    base = f"http://127.0.0.1:{env.mport}"
    r = requests.get(base + "/other", timeout=5)
    assert r.status_code == 404 and r.headers["Content-Type"] == "application/problem+json"
    r = requests.post(base + "/metrics", timeout=5)
    assert r.status_code == 405 and r.headers["Allow"] == "GET, HEAD"
    r = requests.head(base + "/metrics", timeout=5)
    assert r.status_code == 200 and not r.content
    with socket.create_connection(("127.0.0.1", env.mport), timeout=5) as s:
        s.sendall(b"GARBAGE\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 400 ")
    # a client that sends nothing is dropped after 2 s and does not block the next scrape for long
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", env.mport), timeout=5) as idle:
        r = requests.get(base + "/metrics", timeout=10)
        assert r.status_code == 200
        assert time.monotonic() - t0 < 4
        assert idle.recv(10) == b""
