"""Deliverability diagnostics (issue #18): GET /v1/ptr/{ip}/diagnostics against real servers on
loopback: the forward knotd (A, SPF, DMARC, DKIM and a fake blocklist), rdns-zonegen as the
zone's server (ptr_published through diagnose_resolvers), a fake name server that lags or lies
about the zone, and small SMTP banner servers started here. Every finding in each of its
states; the deadline with a resolver that never answers; access rules; the rate limit."""
import re
import socket
import threading
import time

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.reversename
import dns.rrset
import pytest
import requests

from conftest import Client, new_account, problem
from harness import Zonegen, bind_same_port, wait_until

# Knot is shared by the session: this zone belongs to this module only.
FWD = "diagmail.example.net"
BL = f"bl.{FWD}"
ZONE_NET, ZONE = "127.0.0.0/24", "0.0.127.in-addr.arpa"   # custom PTRs, no default
DEF_NET, DEF_ZONE = "127.0.1.0/24", "1.0.127.in-addr.arpa"  # default names only
DEFAULT_TMPL = "host-{dashed}.pool.example.net"
PUB_NET, PUB_ZONE = "198.51.100.0/24", "100.51.198.in-addr.arpa"  # SPF: libspf2 passes loopback unasked
NS_NET, NS_ZONE = "127.0.3.0/24", "3.0.127.in-addr.arpa"  # its NS resolves to 127.0.0.153 (port 53)
V6_NET, V6_IP = "2001:db8:dd::/48", "2001:db8:dd::10"
V6_BL = dns.reversename.from_address(V6_IP).to_text().replace(".ip6.arpa.", "")
A_NETS = ["127.0.0.0/25", DEF_NET, PUB_NET, NS_NET, V6_NET]   # customer A
B_NET = "127.0.0.128/25"             # customer B
NO_ZONE = "127.0.2.1"

DKIM_KEY = ("MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP/UC3SBsEmGqZ9ZJW3/DkMoGeLnQg1fWn7/zYt"
            "IxN2SnFCjxOCKG9v3b4jYfcTNh5ijSsq631uBItLa7od+v/RtdC2UzJ1lWT947qR+Rcac2gbto/NMqJ0f"
            "zfVjH4OuKhitdY9tf6mcwGjaNBcWToIMmPSPDdQPNUYckcQ2QIDAQAB")

FWD_ZONE = f"""$ORIGIN {FWD}.
$TTL 60
@ SOA ns1 hostmaster 1 3600 600 86400 60
@ NS ns1
ns1 A 127.0.0.1
mail A 127.0.0.10
www A 127.0.0.11
other A 127.0.0.14
silent A 127.0.0.15
mx2 A 127.0.0.16
dyn-127-0-0-12 A 127.0.0.12
smtp A 198.51.100.10
nsfake A 127.0.0.153
v6 AAAA 2001:db8:dd::10
relay A 198.51.100.11
@ TXT "v=spf1 ip4:198.51.100.10 a:mail.{FWD} ip6:2001:db8:dd::10 -all"
_dmarc TXT "v=DMARC1; p=reject; rua=mailto:dmarc@{FWD}"
s1._domainkey TXT "v=DKIM1; k=rsa; " "p={DKIM_KEY}"
revoked._domainkey TXT "v=DKIM1; p="
broken._domainkey TXT "v=DKIM1; k=rsa"
soft TXT "v=spf1 ~all"
_dmarc.soft TXT "v=DMARC1; p=none"
neutral TXT "v=spf1 ?all"
_dmarc.neutral TXT "v=DMARC1; p=reject"
_dmarc.neutral TXT "v=DMARC1; p=none"
perm TXT "v=spf1 ip4:198.51.100.10 bogus:x -all"
_dmarc.perm TXT "v=DMARC1; p=bogus"
inc TXT "v=spf1 include:{FWD} -all"
tmp TXT "v=spf1 a:host.elsewhere.invalid -all"
none A 127.0.0.99
12.0.0.127.bl A 127.0.0.2
12.0.0.127.bl TXT "listed for testing: see https://bl.example/12"
16.0.0.127.bl A 127.255.255.254
{V6_BL}.bl A 127.0.0.3
"""

PTRS = {  # address -> PTR that staff force
    "127.0.0.10": f"mail.{FWD}",
    "127.0.0.11": f"www.{FWD}",
    "127.0.0.12": f"dyn-127-0-0-12.{FWD}",
    "127.0.0.13": f"nofwd.{FWD}",
    "127.0.0.14": f"other.{FWD}",
    "127.0.0.15": f"silent.{FWD}",
    "127.0.0.16": f"mx2.{FWD}",
    "127.0.0.130": f"mail.{FWD}",
    "198.51.100.10": f"smtp.{FWD}",
    "198.51.100.11": f"relay.{FWD}",
    V6_IP: f"v6.{FWD}",
}


class SmtpServers:
    """Banner servers on one port of several loopback addresses, each with its own script:
    'ok:NAME' (220 NAME, 250-NAME), 'reject' (554 at once), 'mute' (accepts, never speaks)."""

    def __init__(self, scripts):
        self.socks, self.stop, self.threads, self.ehlo = [], threading.Event(), [], []
        bound = bind_same_port([(addr, socket.SOCK_STREAM) for addr in scripts])
        self.port = bound[0].getsockname()[1]
        for s, script in zip(bound, scripts.values()):
            s.listen(8)
            s.settimeout(0.2)
            self.socks.append(s)
            t = threading.Thread(target=self._serve, args=(s, script), daemon=True)
            t.start()
            self.threads.append(t)

    def _serve(self, s, script):
        while not self.stop.is_set():
            try:
                c, _ = s.accept()
            except OSError:
                continue
            threading.Thread(target=self._session, args=(c, script), daemon=True).start()

    def _session(self, c, script):
        c.settimeout(5)
        try:
            if script == "mute":
                self.stop.wait(10)
                return
            if script == "reject":
                c.sendall(b"554 5.7.1 no service here\r\n")
                return
            name = script.split(":", 1)[1]
            c.sendall(f"220-{name} ESMTP test\r\n220 {name} ready\r\n".encode())
            buf = b""
            while b"\n" not in buf:
                d = c.recv(512)
                if not d:
                    return
                buf += d
            self.ehlo.append(buf.split(b"\r\n")[0].decode("ascii", "replace"))
            c.sendall(f"250-{name} hello\r\n250-PIPELINING\r\n250 8BITMIME\r\n".encode())
            c.recv(512)  # QUIT
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        self.stop.set()
        for t in self.threads:
            t.join(2)
        for s in self.socks:
            s.close()


class FakeNs:
    """A name server for the reverse zone that serves what the test says: a PTR target (or
    NXDOMAIN) and a SOA serial."""

    def __init__(self, addr="127.0.0.1", port=0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((addr, port))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.ptr, self.serial, self.stop = None, 1, threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
                q = dns.message.from_wire(data)
            except (OSError, dns.exception.DNSException):
                continue
            r = dns.message.make_response(q)
            r.flags |= dns.flags.AA
            qn, qt = q.question[0].name, q.question[0].rdtype
            if qt == dns.rdatatype.SOA:
                r.answer.append(dns.rrset.from_text(qn, 60, "IN", "SOA",
                                                    f"ns1.{FWD}. h.{FWD}. {self.serial} 3600 600 86400 60"))
            elif qt == dns.rdatatype.PTR and self.ptr:
                r.answer.append(dns.rrset.from_text(qn, 60, "IN", "PTR", self.ptr + "."))
            else:
                r.set_rcode(dns.rcode.NXDOMAIN)
            try:
                self.sock.sendto(r.to_wire(), peer)
            except OSError:
                pass

    def close(self):
        self.stop.set()
        self.thread.join(2)
        self.sock.close()


@pytest.fixture(scope="module")
def silent():
    """A resolver that reads every query and never answers."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    yield s.getsockname()[1]
    s.close()


@pytest.fixture(scope="module")
def env(api_factory, dburl, knot):
    knot.set_zone(FWD, FWD_ZONE)
    smtp = SmtpServers({"127.0.0.10": f"ok:mail.{FWD}", "127.0.0.11": "ok:other.example.org",
                        "127.0.0.14": "reject", "127.0.0.15": "mute", "127.0.0.130": f"ok:mail.{FWD}"})
    fake = FakeNs()
    zg = Zonegen(dburl, {"query_allow": "127.0.0.1"})
    zg.start().wait_leader()

    class Env:
        pass
    e = Env()
    e.smtp, e.fake, e.zg, e.knot = smtp, fake, zg, knot
    base = {"diagnose_resolvers": f"127.0.0.1:{zg.port}", "dnsbl_zones": BL,
            "diagnose_smtp_port": smtp.port, "diagnose_deadline_ms": 2500, "diagnose_rate": 0}
    e.conf = base
    try:
        e.api = api_factory(base)
        e.staff = Client(e.api.base, e.api.add_staff("diag-staff"))
        for net, tmpl in ((ZONE_NET, None), (DEF_NET, DEFAULT_TMPL), (PUB_NET, None), (NS_NET, None),
                          (V6_NET, None)):
            body = {"prefix": net, "nameservers": [f"nsfake.{FWD}" if net == NS_NET else f"ns1.{FWD}"]}
            if tmpl:
                body["default_ptr"] = tmpl
            r = e.staff.post("/v1/zones", json=body)
            assert r.status_code == 201, r.text
        e.tokens = {}
        for name, nets in (("diag-a", A_NETS), ("diag-b", [B_NET])):
            acct = new_account(e.staff, name)["id"]
            for net in nets:
                r = e.staff.post("/v1/allocations", json={"account_id": acct, "prefix": net})
                assert r.status_code == 201, r.text
            r = e.staff.post(f"/v1/accounts/{acct}/tokens", json={})
            assert r.status_code == 201, r.text
            e.tokens[name] = r.json()["token"]
        e.a = Client(e.api.base, e.tokens["diag-a"])
        e.b = Client(e.api.base, e.tokens["diag-b"])
        for ip, host in PTRS.items():
            r = e.staff.put(f"/v1/ptr/{ip}", json={"hostname": host, "force": True})
            assert r.status_code == 200, r.text

        def served():
            for ip, host in PTRS.items():
                q = dns.message.make_query(dns.reversename.from_address(ip), "PTR")
                r = dns.query.udp(q, "127.0.0.1", port=zg.port, timeout=1)
                if not r.answer or str(r.answer[0][0].target) != host + ".":
                    return False
            return True
        wait_until(served, what="zonegen serving the module's PTRs")
        yield e
    finally:
        try:
            if zg.proc:
                zg.stop()
        finally:
            zg.close()
            fake.close()
            smtp.close()


def diag(client, ip, **params):
    r = client.get(f"/v1/ptr/{ip}/diagnostics", params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    ids = [f["id"] for f in body["findings"]]
    assert ids == ["ptr_published", "ptr_generic", "fcrdns", "mail_hostname", "helo", "spf", "dmarc", "dkim",
                   "dnsbl"], ids
    for f in body["findings"]:
        assert set(f) == {"id", "status", "severity", "detail", "next_step"}
        assert f["status"] in ("pass", "warn", "fail", "skip") and f["detail"]
        assert f["severity"] in ("high", "medium", "low")
    return body, {f["id"]: f for f in body["findings"]}


# ---------------------------------------------------------------- the good address


def test_everything_passes_for_a_well_configured_mail_server(env):
    body, f = diag(env.a, "198.51.100.10", selector="s1")
    assert body["hostname"] == f"smtp.{FWD}" and body["source"] == "custom" and body["zone"] == PUB_ZONE
    assert body["domain"] == FWD and body["selector"] == "s1" and body["smtp"] is False
    for cid in f:
        assert f[cid]["status"] == ("skip" if cid == "helo" else "pass"), f[cid]
    sev = {cid: f[cid]["severity"] for cid in f}
    assert sev == {"ptr_published": "high", "ptr_generic": "medium", "fcrdns": "high", "mail_hostname": "low",
                   "helo": "medium", "spf": "medium", "dmarc": "medium", "dkim": "low", "dnsbl": "high"}
    assert f["ptr_published"]["detail"].startswith(f"all 1 of the configured servers serve smtp.{FWD}")
    assert f["fcrdns"]["detail"] == f"smtp.{FWD} has A 198.51.100.10"
    assert "authorizes 198.51.100.10" in f["spf"]["detail"]
    assert "p=reject" in f["dmarc"]["detail"]
    assert "selector s1" in f["dkim"]["detail"] and "rsa key" in f["dkim"]["detail"]
    assert "is on none of the 1 blocklists checked" in f["dnsbl"]["detail"]
    assert body["elapsed_ms"] < 2500
    # counted by check and status (GET /metrics from loopback, metrics_allow's default)
    text = requests.get(env.api.base + "/metrics", timeout=10).text
    assert re.search(r'^rdns_api_diag_findings_total\{check="spf",status="pass"\} [1-9]', text, re.M), text[-3000:]
    assert re.search(r'^rdns_api_diag_findings_total\{check="helo",status="skip"\} [1-9]', text, re.M)
    # the mail server itself, on loopback: libspf2 never evaluates SPF for 127/8
    body, f = diag(env.a, "127.0.0.10", selector="s1", smtp="1")
    assert body["smtp"] is True
    for cid in f:
        assert f[cid]["status"] == ("skip" if cid == "spf" else "pass"), f[cid]
    assert f"announces mail.{FWD}, the PTR" in f["helo"]["detail"]
    assert "loopback" in f["spf"]["detail"]
    # RFC 5321 4.1.1.1 / 4.1.3: EHLO with a fully qualified name or an address literal
    assert env.smtp.ehlo and re.fullmatch(r"EHLO (\[127\.0\.0\.1\]|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)",
                                          env.smtp.ehlo[-1]), env.smtp.ehlo


# ---------------------------------------------------------------- each finding's other states


def test_ptr_published_fail_without_a_ptr_and_default_name_is_generic(env):
    _, f = diag(env.a, "127.0.0.50")  # in ZONE, no custom PTR, no default
    assert f["ptr_published"]["status"] == "fail" and "holds no PTR" in f["ptr_published"]["detail"]
    for cid in ("ptr_generic", "fcrdns", "mail_hostname", "spf", "dmarc"):
        assert f[cid]["status"] == "skip", f[cid]
    body, f = diag(env.a, "127.0.1.7")
    assert body["source"] == "default" and body["hostname"] == "host-127-0-1-7.pool.example.net"
    assert f["ptr_generic"]["status"] == "warn" and "default name" in f["ptr_generic"]["detail"]
    assert "mail.example.com" in f["ptr_generic"]["next_step"]
    # rdns-zonegen renders the default name, so the zone's servers serve what rdns holds
    assert f["ptr_published"]["status"] == "pass", f["ptr_published"]
    assert f["fcrdns"]["status"] == "fail" and "(REFUSED)" in f["fcrdns"]["detail"]  # knotd: not its zone


def test_ptr_published_propagating_and_wrong(env, api_factory):
    fake = env.fake
    api = api_factory(dict(env.conf, diagnose_resolvers=f"127.0.0.1:{env.zg.port} 127.0.0.1:{fake.port}"))
    staff = Client(api.base, api.add_staff("diag-staff-2"))
    rdns_serial = int(dns.query.udp(dns.message.make_query(ZONE + ".", "SOA"), "127.0.0.1", port=env.zg.port,
                                    timeout=1).answer[0][0].serial)
    # a server behind: an older serial, the old PTR
    fake.ptr, fake.serial = "old.example.net", rdns_serial - 1
    _, f = diag(staff, "127.0.0.10")
    p = f["ptr_published"]
    assert p["status"] == "warn" and p["severity"] == "low" and p["detail"].startswith("propagating:"), p
    assert f"serves serial {rdns_serial - 1}" in p["detail"] and f"at serial {rdns_serial}" in p["detail"]
    assert "1 of 2 servers already serve it" in p["detail"]
    # a server at a newer serial with another PTR: wrong, not propagating
    fake.serial = rdns_serial + 5
    _, f = diag(staff, "127.0.0.10")
    p = f["ptr_published"]
    assert p["status"] == "fail" and p["severity"] == "high", p
    assert "old.example.net" in p["detail"] and f"serial {rdns_serial + 5}" in p["detail"]
    # the same PTR at the same serial: all serve it
    fake.ptr, fake.serial = f"mail.{FWD}", rdns_serial
    _, f = diag(staff, "127.0.0.10")
    assert f["ptr_published"]["status"] == "pass" and "all 2 of" in f["ptr_published"]["detail"]


def test_ptr_generic_and_mail_hostname(env):
    _, f = diag(env.a, "127.0.0.12")
    assert f["ptr_generic"]["status"] == "warn" and "contains the address 127.0.0.12" in f["ptr_generic"]["detail"], f["ptr_generic"]
    assert f["ptr_generic"]["next_step"].startswith("Set a custom PTR such as mail.example.com")
    _, f = diag(env.a, "127.0.0.11")
    assert f["mail_hostname"]["status"] == "warn" and "web server" in f["mail_hostname"]["detail"]
    assert f"mail.{FWD}" in f["mail_hostname"]["next_step"]


def test_fcrdns_fail_reuses_the_verifier(env):
    _, f = diag(env.a, "127.0.0.13")
    c = f["fcrdns"]
    assert c["status"] == "fail" and c["severity"] == "high"
    assert c["detail"] == f"nofwd.{FWD} does not exist (NXDOMAIN)"
    assert c["next_step"].startswith(f"Create an A record for nofwd.{FWD} pointing to 127.0.0.13")


def test_helo_states(env):
    _, f = diag(env.a, "127.0.0.11", smtp="1")  # announces another name
    h = f["helo"]
    assert h["status"] == "warn" and "announces other.example.org, but the PTR is www." in h["detail"], h
    _, f = diag(env.a, "127.0.0.14", smtp="1")  # 554 greeting
    assert f["helo"]["status"] == "fail" and "with 554" in f["helo"]["detail"], f["helo"]
    _, f = diag(env.a, "127.0.0.13", smtp="1")  # nothing listens
    assert f["helo"]["status"] == "fail" and "refused the connection" in f["helo"]["detail"]
    _, f = diag(env.a, "127.0.0.12")  # not asked
    assert f["helo"]["status"] == "skip" and "smtp=1" in f["helo"]["detail"]
    t0 = time.monotonic()
    body, f = diag(env.a, "127.0.0.15", smtp="1")  # accepts, never greets: the deadline
    took = time.monotonic() - t0
    assert f["helo"]["status"] == "skip" and "greeting before the deadline" in f["helo"]["detail"], f["helo"]
    assert took < 2.5 + 1.0 and body["elapsed_ms"] <= 2500 + 100


def test_spf_states(env):
    cases = {"soft": ("fail", "softfail"), "neutral": ("warn", "neutral"), "perm": ("fail", "invalid"),
             "none": ("fail", "has no SPF record"), "inc": ("pass", "authorizes"),
             "tmp": ("warn", "could not be evaluated (temporary DNS error")}
    for sub, (status, words) in cases.items():
        _, f = diag(env.a, "198.51.100.10", domain=f"{sub}.{FWD}")
        assert f["spf"]["status"] == status and words in f["spf"]["detail"], (sub, f["spf"])
    _, f = diag(env.a, "198.51.100.11")  # the PTR's domain, an address its SPF does not list
    assert f["spf"]["status"] == "fail" and "(fail)" in f["spf"]["detail"]
    assert "ip4:198.51.100.11" in f["spf"]["next_step"]


def test_dmarc_states(env):
    cases = {"soft": ("warn", "p=none"), "neutral": ("fail", "2 DMARC records"),
             "perm": ("fail", "unknown policy p=bogus"), "none": ("fail", "has no DMARC record")}
    for sub, (status, words) in cases.items():
        _, f = diag(env.a, "127.0.0.10", domain=f"{sub}.{FWD}")
        assert f["dmarc"]["status"] == status and words in f["dmarc"]["detail"], (sub, f["dmarc"])


def test_dkim_states(env):
    cases = {"revoked": ("fail", "revoked"), "broken": ("fail", "has no p= tag"),
             "nosuch": ("fail", "has no DKIM key record")}
    for sel, (status, words) in cases.items():
        _, f = diag(env.a, "127.0.0.10", selector=sel)
        assert f["dkim"]["status"] == status and words in f["dkim"]["detail"], (sel, f["dkim"])
    _, f = diag(env.a, "127.0.0.10")
    assert f["dkim"]["status"] == "skip" and "selector" in f["dkim"]["detail"]


def test_dnsbl_states(env, api_factory):
    _, f = diag(env.a, "127.0.0.12")
    b = f["dnsbl"]
    assert b["status"] == "fail" and b["severity"] == "high", b
    assert f"{BL} (127.0.0.2: listed for testing: see https://bl.example/12)" in b["detail"]
    assert "removal" in b["next_step"]
    _, f = diag(env.a, "127.0.0.10")
    assert f["dnsbl"]["status"] == "pass" and "none of the 1 blocklists" in f["dnsbl"]["detail"]
    _, f = diag(env.a, "127.0.0.16")
    assert f["dnsbl"]["status"] == "warn" and "refused the query (127.255.255.254)" in f["dnsbl"]["detail"]
    api = api_factory(dict(env.conf, dnsbl_zones=""))
    _, f = diag(Client(api.base, env.tokens["diag-a"]), "127.0.0.12")
    assert f["dnsbl"]["status"] == "skip" and "dnsbl_zones" in f["dnsbl"]["detail"]


# ---------------------------------------------------------------- the deadline


def test_deadline_holds_with_a_resolver_that_never_answers(env, api_factory, silent):
    api = api_factory(dict(env.conf, resolvers=f"127.0.0.1:{silent}",
                           diagnose_resolvers=f"127.0.0.1:{silent}", diagnose_deadline_ms=1500,
                           verify_timeout_ms=400, verify_retries=5))
    c = Client(api.base, env.tokens["diag-a"])
    t0 = time.monotonic()
    body, f = diag(c, "198.51.100.10", selector="s1")
    took = time.monotonic() - t0
    assert took < 1.5 + 0.8, took
    assert 1400 <= body["elapsed_ms"] <= 1500 + 150, body["elapsed_ms"]
    for cid in ("ptr_published", "fcrdns", "spf", "dmarc", "dkim", "dnsbl"):
        assert f[cid]["status"] == "skip" and "deadline" in f[cid]["detail"], f[cid]
    # the checks that send nothing still answer
    assert f["ptr_generic"]["status"] == "pass" and f["mail_hostname"]["status"] == "pass"


# ---------------------------------------------------------------- access rules


def test_access_rules(env):
    anon = Client(env.api.base)
    problem(anon.get("/v1/ptr/127.0.0.10/diagnostics"), 401)
    problem(anon.get("/v1/ptr/nonsense/diagnostics"), 401)
    p = problem(env.b.get("/v1/ptr/127.0.0.10/diagnostics"), 404)  # A's address
    assert p["type"].endswith("not-your-address")
    problem(env.a.get(f"/v1/ptr/{NO_ZONE}/diagnostics"), 404)
    problem(env.a.get("/v1/ptr/nonsense/diagnostics"), 400)
    problem(env.a.get("/v1/ptr/127.0.0.10/diagnostics", params={"selector": "bad selector!"}), 400)
    problem(env.a.get("/v1/ptr/127.0.0.10/diagnostics", params={"domain": "not a domain"}), 400)
    p = problem(env.a.get("/v1/ptr/127.0.0.10/diagnostics", params={"domain": "mail.corp"}), 400)
    assert "special-use" in p["detail"], p
    problem(env.a.get("/v1/ptr/127.0.0.10/diagnostics", params={"smtp": "yes"}), 400)
    r = env.a.post("/v1/ptr/127.0.0.10/diagnostics")
    assert r.status_code == 405 and "GET" in r.headers["Allow"]
    # B's own address, with its SMTP server; staff: any address
    _, f = diag(env.b, "127.0.0.130", smtp="1")
    assert f["helo"]["status"] == "pass"
    body, f = diag(env.staff, "127.0.0.130", smtp="1")
    assert body["ip"] == "127.0.0.130" and f["helo"]["status"] == "pass"
    diag(env.staff, "127.0.1.200")


# ---------------------------------------------------------------- the rate limit


def test_rate_limit_per_account(env, api_factory):
    api = api_factory(dict(env.conf, diagnose_rate=2))
    a, b = Client(api.base, env.tokens["diag-a"]), Client(api.base, env.tokens["diag-b"])
    diag(a, "127.0.0.12")
    diag(a, "127.0.0.12")
    r = a.get("/v1/ptr/127.0.0.12/diagnostics")
    p = problem(r, 429)
    assert p["type"].endswith("rate-limited") and "2 diagnoses per minute" in p["detail"]
    assert 1 <= int(r.headers["Retry-After"]) <= 30
    diag(b, "127.0.0.130")  # another account has its own bucket
    staff = Client(api.base, api.add_staff("diag-staff-3"))
    for _ in range(3):
        diag(staff, "127.0.0.12")  # staff are not limited


# ---------------------------------------------------------------- IPv6, the zone's own NS


def test_ipv6_address(env):
    body, f = diag(env.a, V6_IP, selector="s1")
    assert body["ip"] == V6_IP and body["hostname"] == f"v6.{FWD}"
    assert f["ptr_published"]["status"] == "pass", f["ptr_published"]
    assert f["fcrdns"]["status"] == "pass" and f["fcrdns"]["detail"] == f"v6.{FWD} has AAAA {V6_IP}"
    assert f["spf"]["status"] == "pass" and f"authorizes {V6_IP}" in f["spf"]["detail"], f["spf"]
    # the blocklist is asked for the 32 nibbles of the address (RFC 5782 2.4)
    assert f["dnsbl"]["status"] == "fail" and "127.0.0.3" in f["dnsbl"]["detail"], f["dnsbl"]


def test_ptr_published_asks_the_zones_own_name_servers(env, api_factory):
    """Without diagnose_resolvers: each NS of the zone (nsfake, A 127.0.0.153 at the forward
    resolvers), port 53."""
    try:
        ns = FakeNs("127.0.0.153", 53)
    except OSError as e:
        pytest.skip(f"cannot bind 127.0.0.153:53: {e}")
    try:
        conf = dict(env.conf)
        del conf["diagnose_resolvers"]
        api = api_factory(conf)
        c = Client(api.base, env.tokens["diag-a"])
        r = env.staff.put("/v1/ptr/127.0.3.10", json={"hostname": f"mail.{FWD}", "force": True})
        assert r.status_code == 200, r.text
        serial = int(env.staff.get(f"/v1/zones/{NS_ZONE}").json()["serial"])
        ns.ptr, ns.serial = f"mail.{FWD}", serial
        _, f = diag(c, "127.0.3.10")
        p = f["ptr_published"]
        assert p["status"] == "pass", p
        assert p["detail"].startswith(f"all 1 of the zone's name servers serve mail.{FWD}")
        ns.ptr, ns.serial = None, serial - 1
        _, f = diag(c, "127.0.3.10")
        p = f["ptr_published"]
        assert p["status"] == "warn" and p["severity"] == "low", p
        assert f"nsfake.{FWD} (127.0.0.153:53) serves serial {serial - 1}" in p["detail"]
    finally:
        ns.close()


# ---------------------------------------------------------------- no HTTP worker waits


def test_slow_diagnoses_hold_no_http_worker(env, api_factory, silent):
    api = api_factory(dict(env.conf, resolvers=f"127.0.0.1:{silent}", diagnose_resolvers=f"127.0.0.1:{silent}",
                           diagnose_deadline_ms=2000, api_threads=2, verify_per_account=32))
    a = Client(api.base, env.tokens["diag-a"])
    staff = Client(api.base, api.add_staff("diag-staff-4"))
    results = []

    def one(i):
        t0 = time.monotonic()
        r = requests.get(f"{api.base}/v1/ptr/198.51.100.10/diagnostics",
                         headers={"Authorization": f"Bearer {env.tokens['diag-a']}"}, timeout=15)
        results.append((r.status_code, time.monotonic() - t0))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    time.sleep(0.3)  # all eight in flight, on the verification threads
    worst = 0.0
    for _ in range(20):
        t0 = time.monotonic()
        r = staff.get("/v1/ptr/127.0.0.10")
        worst = max(worst, time.monotonic() - t0)
        assert r.status_code == 200, r.text
    for t in threads:
        t.join(20)
    assert worst < 0.3, worst
    assert len(results) == 8 and all(code == 200 for code, _ in results), results
    assert all(took < 2.0 + 1.5 for _, took in results), results
    assert a.get("/v1/ptr/127.0.0.10").status_code == 200
