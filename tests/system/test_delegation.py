"""Reverse delegation (issue 16): PUT/GET/DELETE /v1/delegations, ownership and boundaries,
the lame-delegation check against real name servers, the records rdns-zonegen renders (RFC
2317 CNAMEs and NS; NS at an ip6.arpa nibble cut) checked by named-checkzone and kzonecheck,
the PTR routes' 409 for delegated addresses, custom PTRs kept and restored, the allocation's
deletion, and a recursive resolver (BIND named on loopback) that answers `dig -x` of a
delegated address with the customer's PTR, for an IPv4 /26 and an IPv6 /56.

A knotd ("child") plays the customer's name servers: it serves the customer's forward zone
(ns1/ns2 -> 127.0.0.1, the resolvers of rdns-api point at it) and the child zones, and the
check asks it on its own port (delegation_check_port)."""
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import threading

import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.reversename
import dns.rrset
import dns.zone
import psycopg2
import pytest

from conftest import Client, all_items, new_account, problem, sql
from harness import Knot, Verifier, Zonegen, free_port, wait_until

Z4 = "2.0.192.in-addr.arpa"
Z6 = "0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa"
CHILD4 = "0-63.2.0.192.in-addr.arpa"
CHILD6 = "2.0.0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa"  # 2001:db8:100:200::/56
FWD = "deleg-customer.example.com"
NS = [f"ns1.{FWD}", f"ns2.{FWD}"]


def soa(name, serial):
    return (f"$ORIGIN {name}.\n$TTL 60\n@ SOA ns1.{FWD}. hostmaster.{FWD}. {serial} 3600 900 86400 60\n"
            f"@ NS ns1.{FWD}.\n@ NS ns2.{FWD}.\n")


def child_zone4(serial=1):
    return soa(CHILD4, serial) + f"10 PTR customer-mail.{FWD}.\n11 PTR customer-web.{FWD}.\n"


def child_zone6(serial=1):
    # 2001:db8:100:200::10, relative to the /56 child
    rel = ".".join(reversed("0" * 16 + "10"))  # 18 nibbles below the /56
    return soa(CHILD6, serial) + f"{rel} PTR v6-mail.{FWD}.\n"


@pytest.fixture(scope="module")
def env(api_factory, staff, dburl, db):
    child = Knot()
    child.set_zone(FWD, f"$ORIGIN {FWD}.\n$TTL 60\n@ SOA ns1 hostmaster 1 3600 900 86400 60\n@ NS ns1\n"
                        "ns1 A 127.0.0.1\nns2 A 127.0.0.1\ncustomer-mail A 192.0.2.10\n")
    api = api_factory({"resolvers": f"127.0.0.1:{child.port}", "delegation_check_port": child.port,
                       "verify_deadline_ms": 2000, "verify_timeout_ms": 300, "verify_retries": 0})
    stf = Client(api.base, staff.s.headers["Authorization"].split()[1])
    zg = Zonegen(dburl)
    zg.start().wait_leader()
    cust = new_account(stf, "deleg-customer")
    other = new_account(stf, "deleg-other")
    for acct, p in ((cust, "192.0.2.0/26"), (cust, "2001:db8:100:200::/56"), (other, "192.0.2.128/26")):
        r = stf.post("/v1/allocations", json={"account_id": acct["id"], "prefix": p})
        assert r.status_code == 201, r.text
    for body in ({"prefix": "192.0.2.0/24", "default_ptr": "host-{d}.pool.example.net"},
                 {"prefix": "2001:db8:100::/48"}):
        r = stf.post("/v1/zones", json=dict(body, nameservers=["ns1.example.net", "ns2.example.net"]))
        assert r.status_code == 201, r.text
    wait_until(lambda: os.path.exists(zg.zone_path(Z4)) and os.path.exists(zg.zone_path(Z6)), what="render")

    class Env:
        pass
    e = Env()
    e.api, e.staff, e.zg, e.child, e.db, e.cust_id = api, stf, zg, child, db, cust["id"]
    e.customer = Client(api.base, stf.post(f"/v1/accounts/{cust['id']}/tokens").json()["token"])
    e.other = Client(api.base, stf.post(f"/v1/accounts/{other['id']}/tokens").json()["token"])
    yield e
    try:
        zg.stop()
    finally:
        zg.close()
        child.close()


def zone_text(env, zone):
    with open(env.zg.zone_path(zone)) as f:
        return f.read()


def wait_zone(env, zone, pred, what):
    return wait_until(lambda: pred(zone_text(env, zone)), timeout=15, what=what)


def check_zone(env, zone):
    path = env.zg.zone_path(zone)
    r = subprocess.run(["named-checkzone", "-k", "fail", "-n", "fail", "-i", "full", zone, path],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run(["kzonecheck", "-o", zone, path], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


# ---- what may be delegated, by whom ----

def assert_referral(env, qname, child):
    """Our hidden primary answers a name at or below a delegation with a referral: not
    authoritative, no answer, the child's NS set in the authority section."""
    a = dns.query.udp(dns.message.make_query(qname, "PTR"), "127.0.0.1", port=env.zg.port, timeout=2)
    assert a.rcode() == dns.rcode.NOERROR and not a.flags & dns.flags.AA and not a.answer, a
    ns = [rr for rr in a.authority if rr.rdtype == dns.rdatatype.NS]
    assert ns and ns[0].name.to_text() == child + "." and {r.target.to_text() for r in ns[0]} == {n + "." for n in NS}


def test_boundaries_and_ownership(env):
    c = env.customer
    # not a nibble boundary: 400 naming the allowed lengths
    body = problem(c.put("/v1/delegations/2001:db8:100:200::/57", json={"nameservers": NS}), 400)
    assert "nibble" in body["detail"] and "/25 to /32" in body["detail"] and body["zone"] == Z6
    body = problem(c.put("/v1/delegations/192.0.2.0/24", json={"nameservers": NS}), 404)  # the zone itself
    # host bits, not a prefix
    problem(c.put("/v1/delegations/192.0.2.1/26", json={"nameservers": NS}), 400)
    problem(c.put("/v1/delegations/192.0.2.0/x", json={"nameservers": NS}), 400)
    # larger than the allocation, another customer's, outside every zone: 404 without saying which
    for p in ("192.0.2.0/25", "192.0.2.128/26", "198.51.100.0/26"):
        problem(c.put(f"/v1/delegations/{p}", json={"nameservers": NS}), 404)
    # staff: the zone's own prefix is not a delegation (400), a /23 is in no zone (404)
    problem(env.staff.put("/v1/delegations/192.0.2.0/24", json={"nameservers": NS}), 400)
    problem(env.staff.put("/v1/delegations/192.0.2.0/23", json={"nameservers": NS}), 404)
    # the name servers: host names, public, no repeats, 1 to 13
    for ns in ([], ["not a name"], ["ns1.corp"], [NS[0], NS[0]], [f"ns{i}.{FWD}" for i in range(14)]):
        problem(c.put("/v1/delegations/192.0.2.0/26", json={"nameservers": ns}), 400)
    problem(c.put("/v1/delegations/192.0.2.0/26", json={"nameservers": NS, "force": True}), 403)
    problem(c.put("/v1/delegations/192.0.2.0/26", json={"nameservers": NS, "extra": 1}), 400)
    assert c.get("/v1/delegations").json() == {"items": [], "next": None}


def test_lame_delegation_refused_with_findings(env):
    c = env.customer
    # ns1 answers, but not for the child zone (knotd: REFUSED); nsx has no address
    r = c.put("/v1/delegations/192.0.2.0/26", json={"nameservers": [NS[0], f"nsx.{FWD}"]})
    body = problem(r, 422)
    checks = body["checks"]
    assert [ch["id"] for ch in checks] == ["delegation.server", "delegation.server", "delegation.serials"]
    for ch in checks:
        assert set(ch) == {"id", "status", "severity", "detail", "next_step"} and ch["status"] == "fail"
        assert ch["next_step"]
    assert "REFUSED" in checks[0]["detail"] and "127.0.0.1" in checks[0]["detail"]
    assert "no address" in checks[1]["detail"]
    assert CHILD4 in body["detail"]
    assert sql(env.db, "SELECT count(*) FROM delegations")[0][0] == 0
    assert "CNAME" not in zone_text(env, Z4)


class FakeAuth:
    """A name server on 127.0.0.2:<port> that answers every question with an authoritative
    SOA of one zone at one serial: a second server of the child, out of date."""

    def __init__(self, port, zone, serial):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.2", port))
        self.sock.settimeout(0.2)
        self.zone, self.serial, self.stop = zone, serial, False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            q = dns.message.from_wire(data)
            a = dns.message.make_response(q)
            a.flags |= dns.flags.AA
            a.answer.append(dns.rrset.from_text(self.zone + ".", 60, "IN", "SOA",
                                                f"ns1.{FWD}. h.{FWD}. {self.serial} 3600 900 86400 60"))
            self.sock.sendto(a.to_wire(), peer)

    def close(self):
        self.stop = True
        self.thread.join(5)
        self.sock.close()


def test_serials_must_agree(env):
    """ns1 (the child knotd, serial 1) and ns3 (127.0.0.2, serial 2) disagree: 422; once both
    have serial 1 the delegation passes."""
    env.child.set_zone(FWD, env.child.zones[FWD + "."] + "ns3 A 127.0.0.2\n")
    env.child.set_zone(CHILD4, child_zone4(1))
    fake = FakeAuth(env.child.port, CHILD4, 2)
    try:
        body = problem(env.customer.put("/v1/delegations/192.0.2.0/26",
                                        json={"nameservers": [NS[0], f"ns3.{FWD}"]}), 422)
        by_id = [(ch["id"], ch["status"]) for ch in body["checks"]]
        assert by_id == [("delegation.server", "pass"), ("delegation.server", "pass"),
                         ("delegation.serials", "fail")], body
        assert "from 1 to 2" in body["checks"][2]["detail"]
        fake.serial = 1
        r = env.customer.put("/v1/delegations/192.0.2.0/26", json={"nameservers": [NS[0], f"ns3.{FWD}"]})
        assert r.status_code == 201, r.text
        assert "every server has serial 1" in r.json()["checks"][2]["detail"]
        assert env.customer.delete("/v1/delegations/192.0.2.0/26").status_code == 204
    finally:
        fake.close()


def test_classless_delegation_rendered_checked_and_conflicting(env):
    c, s = env.customer, env.staff
    # a custom PTR set before the delegation is kept and comes back after it
    r = s.put("/v1/ptr/192.0.2.10", json={"hostname": "kept.example.net", "force": True})
    assert r.status_code == 200, r.text
    env.child.set_zone(CHILD4, child_zone4())
    r = c.put("/v1/delegations/192.0.2.0/26", json={"nameservers": NS})
    assert r.status_code == 201, r.text
    d = r.json()
    assert d["prefix"] == "192.0.2.0/26" and d["zone"] == Z4 and d["kind"] == "classless"
    assert d["child"] == CHILD4 and d["nameservers"] == NS and d["forced"] is False
    assert d["account_id"] == env.cust_id
    assert [ch["status"] for ch in d["checks"]] == ["pass", "pass", "pass"]
    # again, the same: 200
    r = c.put("/v1/delegations/192.0.2.0/26", json={"nameservers": NS})
    assert r.status_code == 200, r.text
    assert c.get("/v1/delegations/192.0.2.0/26").json()["child"] == CHILD4
    assert c.get("/v1/delegations/192.0.2.0%2F26").json()["prefix"] == "192.0.2.0/26"
    assert [x["prefix"] for x in c.get("/v1/delegations").json()["items"]] == ["192.0.2.0/26"]
    problem(env.other.get("/v1/delegations/192.0.2.0/26"), 404)
    assert env.other.get("/v1/delegations").json()["items"] == []
    # an overlapping one: 409
    problem(c.put("/v1/delegations/192.0.2.0/27", json={"nameservers": NS}), 409)

    text = wait_zone(env, Z4, lambda t: f"CNAME 10.{CHILD4}." in t and t, "CNAMEs rendered")
    z = dns.zone.from_text(text, origin=Z4 + ".", relativize=False, check_origin=False)
    cnames = {str(n): str(r[0].target) for n, r in z.iterate_rdatasets("CNAME")}
    assert len(cnames) == 64 and cnames[f"63.{Z4}."] == f"63.{CHILD4}."
    assert {str(r.target) for r in z.find_rdataset(f"{CHILD4}.", "NS")} == {n + "." for n in NS}
    ptrs = {str(n) for n, _ in z.iterate_rdatasets("PTR")}
    assert len(ptrs) == 192 and f"10.{Z4}." not in ptrs and "kept.example.net" not in text
    check_zone(env, Z4)

    # the PTR routes answer 409 naming the delegation, for the customer and staff
    for client in (c, s):
        for method, kw in (("GET", {}), ("PUT", {"json": {"hostname": "x.example.net"}}), ("DELETE", {})):
            body = problem(client.req(method, "/v1/ptr/192.0.2.10", **kw), 409)
            assert body["delegation"] == "192.0.2.0/26" and NS[0] in body["nameservers"]
            assert "delegated" in body["detail"]
    assert c.get("/v1/ptr/192.0.2.64").status_code == 404  # outside the customer's block
    assert s.get("/v1/ptr/192.0.2.64").json()["hostname"] == "host-64.pool.example.net"

    # the hidden primary serves the CNAME, and a referral (not authoritative) for the child
    q = dns.message.make_query(f"10.{Z4}.", "PTR")
    a = dns.query.udp(q, "127.0.0.1", port=env.zg.port, timeout=2)
    assert a.answer and a.answer[0].rdtype == dns.rdatatype.CNAME and a.flags & dns.flags.AA
    assert_referral(env, f"10.{CHILD4}.", CHILD4)
    assert_referral(env, f"{CHILD4}.", CHILD4)

    # audit
    rows = sql(env.db, "SELECT action, new_value FROM audit_log WHERE object = 'delegation 192.0.2.0/26'"
               " ORDER BY id")
    assert ("delegation.set", " ".join(NS)) in rows


def test_classless_label_slash_per_zone(env):
    """The zone's classless_label picks the RFC 2317 convention: "slash" writes 0/26."""
    s = env.staff
    problem(s.patch(f"/v1/zones/{Z4}", json={"classless_label": "dash"}), 400)
    r = s.patch(f"/v1/zones/{Z4}", json={"classless_label": "slash"})
    assert r.status_code == 200, r.text
    assert r.json()["classless_label"] == "slash"
    assert env.customer.get("/v1/delegations/192.0.2.0/26").json()["child"] == "0/26." + Z4
    text = wait_zone(env, Z4, lambda t: f"0/26.{Z4}. 3600 IN NS" in t and t, "slash label")
    assert f"CNAME 10.0/26.{Z4}." in text and "0-63" not in text
    check_zone(env, Z4)
    r = s.patch(f"/v1/zones/{Z4}", json={"classless_label": "range"})
    assert r.status_code == 200, r.text
    wait_zone(env, Z4, lambda t: f"{CHILD4}. 3600 IN NS" in t, "range label again")
    rows = sql(env.db, "SELECT old_value, new_value FROM audit_log WHERE action = 'zone.update' AND object = %s"
               " ORDER BY id DESC LIMIT 1", f"zone {Z4}")
    assert "slash" in rows[0][0] and "range" in rows[0][1]


def test_ipv6_cut_delegation(env):
    env.child.set_zone(CHILD6, child_zone6())
    r = env.staff.put("/v1/ptr/2001:db8:100:2ff::1", json={"hostname": "inside.example.net", "force": True})
    assert r.status_code == 200, r.text
    r = env.customer.put("/v1/delegations/2001:db8:100:200::/56", json={"nameservers": NS})
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "cut" and r.json()["child"] == CHILD6
    text = wait_zone(env, Z6, lambda t: f"{CHILD6}. 3600 IN NS" in t and t, "NS rendered")
    assert "inside.example.net" not in text
    assert_referral(env, dns.reversename.from_address("2001:db8:100:2ff::1").to_text(), CHILD6)
    # outside the cut: still authoritative
    q = dns.message.make_query(dns.reversename.from_address("2001:db8:100:300::1"), "PTR")
    a = dns.query.udp(q, "127.0.0.1", port=env.zg.port, timeout=2)
    assert a.rcode() == dns.rcode.NXDOMAIN and a.flags & dns.flags.AA
    check_zone(env, Z6)
    problem(env.customer.get("/v1/ptr/2001:db8:100:210::1"), 409)


def _named(env, tmp):
    port = free_port()
    conf = os.path.join(tmp, "named.conf")
    zones = ""
    for zone, target in ((Z4, env.zg.port), (Z6, env.zg.port), (CHILD4, env.child.port),
                         (CHILD6, env.child.port), (FWD, env.child.port)):
        zones += (f'zone "{zone}" {{ type forward; forward only; forwarders {{ 127.0.0.1 port {target}; }}; }};\n')
    with open(conf, "w") as f:
        f.write(f'options {{ directory "{tmp}"; pid-file none; listen-on port {port} {{ 127.0.0.1; }};\n'
                ' listen-on-v6 { none; }; recursion yes; allow-query { 127.0.0.1; }; dnssec-validation no;\n'
                ' empty-zones-enable no; querylog no; };\n' + zones)
    os.chmod(tmp, 0o755)
    argv = ["named", "-g", "-c", conf]
    if os.geteuid() == 0:  # named drops to an unprivileged user, which must write its directory
        nobody = pwd.getpwnam("nobody")
        os.chown(tmp, nobody.pw_uid, nobody.pw_gid)
        argv += ["-u", "nobody"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(tmp, "named.log"), "w"))
    return proc, port


def _dig_x(port, ip):
    r = subprocess.run(["dig", "+short", "+time=2", "+tries=2", "-p", str(port), "@127.0.0.1", "-x", ip],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 0 and ";;" not in r.stdout, r.stdout + r.stderr
    return r.stdout.split()


def test_recursive_resolver_follows_the_delegations(env):
    """named, recursing on loopback with forward zones for the parents (our hidden primary)
    and the children (the customer's knotd): dig -x resolves through the RFC 2317 CNAME and
    through the ip6.arpa cut to the customer's PTRs."""
    env.child.set_zone(CHILD4, child_zone4())
    env.child.set_zone(CHILD6, child_zone6())
    for p in ("192.0.2.0/26", "2001:db8:100:200::/56"):
        if env.customer.get(f"/v1/delegations/{p}").status_code == 404:
            assert env.customer.put(f"/v1/delegations/{p}", json={"nameservers": NS}).status_code == 201
    wait_zone(env, Z4, lambda t: f"CNAME 11.{CHILD4}." in t, "CNAMEs")
    wait_zone(env, Z6, lambda t: f"{CHILD6}. 3600 IN NS" in t, "NS")
    tmp = tempfile.mkdtemp(prefix="rdns-named-")
    proc, port = _named(env, tmp)
    try:
        wait_until(lambda: re.search(r" running$", open(os.path.join(tmp, "named.log")).read(), re.M),
                   timeout=20, what="named running")
        out = _dig_x(port, "192.0.2.11")
        assert out == [f"11.{CHILD4}.", f"customer-web.{FWD}."], out
        assert _dig_x(port, "192.0.2.10")[-1] == f"customer-mail.{FWD}."
        assert _dig_x(port, "2001:db8:100:200::10") == [f"v6-mail.{FWD}."]
        # an address outside the delegation still gets the provider's PTR
        assert _dig_x(port, "192.0.2.200") == ["host-200.pool.example.net."]
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log = open(os.path.join(tmp, "named.log")).read()[-3000:]
        shutil.rmtree(tmp, ignore_errors=True)
    assert "exiting" in log or proc.returncode is not None


def test_force_and_removal_restores_ptrs(env):
    s, c = env.staff, env.customer
    # staff may publish a lame delegation with force; it is marked so
    r = s.put("/v1/delegations/192.0.2.128/26", json={"nameservers": [f"nsx.{FWD}"], "force": True})
    assert r.status_code == 201, r.text
    assert r.json()["forced"] is True and r.json()["account_id"] is not None
    assert r.json()["checks"][0]["status"] == "fail"
    assert sql(env.db, "SELECT count(*) FROM audit_log WHERE action = 'delegation.force'"
               " AND object = 'delegation 192.0.2.128/26'")[0][0] == 1
    assert s.delete("/v1/delegations/192.0.2.128/26").status_code == 204
    problem(s.delete("/v1/delegations/192.0.2.128/26"), 404)

    # the customer removes theirs: the kept custom PTR and the defaults come back
    if c.get("/v1/delegations/192.0.2.0/26").status_code == 404:
        env.child.set_zone(CHILD4, child_zone4())
        assert c.put("/v1/delegations/192.0.2.0/26", json={"nameservers": NS}).status_code == 201
    problem(env.other.delete("/v1/delegations/192.0.2.0/26"), 404)
    assert c.delete("/v1/delegations/192.0.2.0/26").status_code == 204
    text = wait_zone(env, Z4, lambda t: "CNAME" not in t and t, "CNAMEs gone")
    assert f"10.{Z4}. 3600 IN PTR kept.example.net." in text
    assert f"11.{Z4}. 3600 IN PTR host-11.pool.example.net." in text
    assert s.get("/v1/ptr/192.0.2.10").json()["hostname"] == "kept.example.net"
    assert sql(env.db, "SELECT count(*) FROM audit_log WHERE action = 'delegation.delete'"
               " AND object = 'delegation 192.0.2.0/26'")[0][0] >= 1
    check_zone(env, Z4)


def test_allocation_deletion_removes_its_delegation(env):
    s = env.staff
    if env.customer.get("/v1/delegations/2001:db8:100:200::/56").status_code == 404:
        env.child.set_zone(CHILD6, child_zone6())
        assert env.customer.put("/v1/delegations/2001:db8:100:200::/56",
                                json={"nameservers": NS}).status_code == 201
    alloc = [a for a in all_items(s, "/v1/allocations") if a["prefix"] == "2001:db8:100:200::/56"][0]
    assert s.delete(f"/v1/allocations/{alloc['id']}").status_code == 204
    assert sql(env.db, "SELECT count(*) FROM delegations WHERE prefix = '2001:db8:100:200::/56'")[0][0] == 0
    rows = sql(env.db, "SELECT detail->>'allocation' FROM audit_log WHERE action = 'delegation.delete'"
               " AND object = 'delegation 2001:db8:100:200::/56'")
    assert (str(alloc["id"]),) in rows
    wait_zone(env, Z6, lambda t: " NS ns1.deleg" not in t, "NS gone")
    check_zone(env, Z6)


# ---- a delegation made while a PTR change is on its way (the apply functions refuse it) ----

RACE_NET, RACE_CHILD = "192.0.2.192/27", "192-223.2.0.192.in-addr.arpa"


class HeldResolver:
    """A forward resolver on loopback that answers the A query of one name only when the test
    lets it (release), and says when the query has arrived: it holds a PUT in its
    verification for as long as the test needs. Any other query: NXDOMAIN at once."""

    def __init__(self, name, addr):
        self.name, self.addr = dns.name.from_text(name), addr
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.arrived, self.release, self.stop = threading.Event(), threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            q = dns.message.from_wire(data)
            a = dns.message.make_response(q)
            qq = q.question[0]
            if qq.name == self.name and qq.rdtype == dns.rdatatype.A:
                a.answer.append(dns.rrset.from_text(qq.name, 60, "IN", "A", self.addr))
                self.arrived.set()
                threading.Thread(target=self.answer_later, args=(a, peer), daemon=True).start()
                continue
            if qq.name != self.name:
                a.set_rcode(dns.rcode.NXDOMAIN)
            self.sock.sendto(a.to_wire(), peer)

    def answer_later(self, a, peer):
        self.release.wait(20)
        if not self.stop.is_set():
            self.sock.sendto(a.to_wire(), peer)

    def close(self):
        self.stop.set()
        self.release.set()
        self.thread.join(2)
        self.sock.close()


@pytest.fixture(scope="module")
def race(env):
    """A customer of RACE_NET, and the staff's delegation of it made at will (forced: nobody
    serves the child); removed after each test."""
    acct = new_account(env.staff, "deleg-race")
    r = env.staff.post("/v1/allocations", json={"account_id": acct["id"], "prefix": RACE_NET})
    assert r.status_code == 201, r.text
    tok = env.staff.post(f"/v1/accounts/{acct['id']}/tokens").json()["token"]
    return acct["id"], tok


def delegate_race_net(env):
    r = env.staff.put(f"/v1/delegations/{RACE_NET}", json={"nameservers": NS, "force": True})
    assert r.status_code == 201, r.text


def axfr_names(env, rdtype):
    """The names of the hidden primary's AXFR of Z4 that have an rdtype record."""
    z = dns.zone.from_xfr(dns.query.xfr("127.0.0.1", Z4 + ".", port=env.zg.port, timeout=5, lifetime=10,
                                        relativize=False), relativize=False)
    return {str(n) for n, _ in z.iterate_rdatasets(rdtype)}


def test_delegation_made_while_a_put_verifies_refuses_it(env, race, api_factory):
    """The PUT passed the API's own check (not delegated) and is held in its forward check;
    the delegation is made meanwhile; when the check passes, the apply function finds the
    delegation under its lock: 409 naming it, no record, no PTR in the served zone."""
    host, ip = f"race.{FWD}", "192.0.2.200"
    res = HeldResolver(host, ip)
    try:
        api = api_factory({"resolvers": f"127.0.0.1:{res.port}", "verify_timeout_ms": 8000,
                           "verify_retries": 0, "verify_deadline_ms": 10000})
        c = Client(api.base, race[1])
        out = {}
        t = threading.Thread(target=lambda: out.update(r=c.put(f"/v1/ptr/{ip}", json={"hostname": host})))
        t.start()
        assert res.arrived.wait(10), "the PUT's forward query never arrived"
        delegate_race_net(env)
        res.release.set()
        t.join(20)
        assert not t.is_alive()
        body = problem(out["r"], 409)
        assert body["type"].endswith("delegated") and body["delegation"] == RACE_NET, body
        assert body["nameservers"] == ", ".join(NS) and RACE_NET in body["detail"], body
        assert sql(env.db, "SELECT count(*) FROM ptr_records WHERE ip = %s", ip)[0][0] == 0
        assert sql(env.db, "SELECT count(*) FROM audit_log WHERE ip = %s AND action = 'ptr.set'", ip)[0][0] == 0
        # served: the delegation's CNAME for the address, and no PTR
        rev = f"200.{Z4}."
        wait_until(lambda: rev in axfr_names(env, "CNAME"), timeout=15, what="delegation served")
        assert rev not in axfr_names(env, "PTR")
    finally:
        res.close()
        env.staff.delete(f"/v1/delegations/{RACE_NET}")


def test_delegation_made_while_a_batch_verifies_answers_409_in_place(env, race, api_factory):
    """POST /v1/ptr:batch: the item passed the lookup, the block is delegated while its
    forward check runs; rdns_ptr_bulk_apply finds the delegation under its lock and the
    item is a 409 naming it, not applied."""
    host, ip = f"race-batch.{FWD}", "192.0.2.203"
    res = HeldResolver(host, ip)
    try:
        api = api_factory({"resolvers": f"127.0.0.1:{res.port}", "verify_timeout_ms": 8000,
                           "verify_retries": 0, "verify_deadline_ms": 10000})
        c = Client(api.base, race[1])
        out = {}
        t = threading.Thread(target=lambda: out.update(
            r=c.post("/v1/ptr:batch", json={"items": [{"ip": ip, "hostname": host}]})))
        t.start()
        assert res.arrived.wait(10), "the batch's forward query never arrived"
        delegate_race_net(env)
        res.release.set()
        t.join(20)
        assert not t.is_alive()
        r = out["r"]
        assert r.status_code == 200, r.text
        item = r.json()["items"][0]
        assert item["status"] == 409 and RACE_NET in item["error"] and NS[0] in item["error"], item
        assert r.json()["applied"] == 0
        assert sql(env.db, "SELECT count(*) FROM ptr_records WHERE ip = %s", ip)[0][0] == 0
    finally:
        res.close()
        env.staff.delete(f"/v1/delegations/{RACE_NET}")


def test_pending_exception_approved_after_a_delegation_is_refused(env, race):
    """A request waiting for staff review whose block is delegated meanwhile: the approval
    fails with a 409 naming the delegation, nothing is decided or applied; once the
    delegation is gone the same request can be approved."""
    c = Client(env.api.base, race[1])
    ip = "192.0.2.201"
    r = c.put(f"/v1/ptr/{ip}", json={"hostname": f"unconfirmed.{FWD}", "exception_reason": "moving DNS"})
    assert r.status_code == 202, r.text
    rid = r.json()["id"]
    delegate_race_net(env)
    try:
        body = problem(env.staff.post(f"/v1/requests/{rid}/approve", json={"note": "ok"}), 409)
        assert body["type"].endswith("delegated") and body["delegation"] == RACE_NET, body
        assert f"request {rid}" in body["detail"] and "reject" in body["detail"], body
        assert sql(env.db, "SELECT state FROM ptr_requests WHERE id = %s", rid) == [("pending_review",)]
        assert sql(env.db, "SELECT count(*) FROM ptr_records WHERE ip = %s", ip)[0][0] == 0
        assert sql(env.db, "SELECT count(*) FROM audit_log WHERE request_id = %s AND action = 'request.approve'",
                   rid)[0][0] == 0
    finally:
        env.staff.delete(f"/v1/delegations/{RACE_NET}")
    r = env.staff.post(f"/v1/requests/{rid}/approve", json={"note": "ok"})
    assert r.status_code == 200, r.text
    assert sql(env.db, "SELECT hostname FROM ptr_records WHERE ip = %s", ip) == [(f"unconfirmed.{FWD}",)]


def test_delegation_waits_for_a_ptr_change_in_flight(env, race, dburl):
    """The lock order: a PTR change that has checked "not delegated" holds the delegation
    back until it commits (ROW SHARE on delegations against the delegation's EXCLUSIVE), so
    a PTR is never applied after a delegation that it did not see."""
    ip = "192.0.2.202"
    conn = psycopg2.connect(dburl)
    try:
        cur = conn.cursor()
        cur.execute("SELECT o_request FROM rdns_ptr_apply(%s, 'inflight.example.net', %s, %s, 'test',"
                    " true, NULL, NULL, NULL)", (ip, race[0], race[0]))
        out = {}
        t = threading.Thread(target=lambda: out.update(
            r=env.staff.put(f"/v1/delegations/{RACE_NET}", json={"nameservers": NS, "force": True})))
        t.start()
        wait_until(lambda: sql(env.db, "SELECT count(*) FROM pg_locks WHERE NOT granted"
                               " AND relation = 'delegations'::regclass")[0][0] == 1,
                   timeout=10, what="the delegation waiting for the PTR change in flight")
        assert t.is_alive()
        conn.commit()
        t.join(20)
        assert out["r"].status_code == 201, out["r"].text
    finally:
        conn.close()
    # the change committed first: its PTR is kept (unrendered), and the next one is refused
    assert sql(env.db, "SELECT hostname FROM ptr_records WHERE ip = %s", ip) == [("inflight.example.net",)]
    try:
        body = problem(env.staff.put(f"/v1/ptr/{ip}", json={"hostname": "again.example.net", "force": True}), 409)
        assert body["delegation"] == RACE_NET
    finally:
        env.staff.delete(f"/v1/delegations/{RACE_NET}")


def test_group_commit_refuses_a_delegated_change_in_place(env, race):
    """rdns_ptr_apply_batch (the group commit of single PUTs): a change inside a delegation
    comes back unapplied with the delegation, the others of the batch are applied."""
    delegate_race_net(env)
    try:
        rows = sql(env.db, "SELECT o_idx, o_request IS NULL, o_delegation FROM rdns_ptr_apply_batch("
                   "%s::inet[], %s::text[], %s::bigint[], %s::bigint[], %s::text[], %s::boolean[], %s::text[],"
                   " %s::text[]) ORDER BY o_idx",
                   ["192.0.2.204", "192.0.2.60"], ["in.example.net", "out.example.net"], [None, None],
                   [race[0], race[0]], ["test", "test"], [True, True], [None, None], [None, None])
        assert rows == [(1, True, f"{RACE_NET} {', '.join(NS)}"), (2, False, None)], rows
        assert sql(env.db, "SELECT host(ip) FROM ptr_records WHERE ip IN ('192.0.2.204', '192.0.2.60')") \
            == [("192.0.2.60",)]
    finally:
        env.staff.delete(f"/v1/delegations/{RACE_NET}")
        sql(env.db, "SELECT rdns_ptr_apply('192.0.2.60', NULL, NULL, %s, 'test', false, NULL, NULL, NULL)",
            race[0])


# ---- the periodic re-check by rdns-verifier (issue 16: "again periodically by the background verifier") ----

CHILD128 = "128-191.2.0.192.in-addr.arpa"  # 192.0.2.128/26, the other customer's block
RECHECK_S = 2  # delegation_recheck_interval of this test's rdns-verifier


class FlexAuth:
    """ns3 on 127.0.0.2:<port>: answers every SOA question for the name asked, with AA (or
    without, aa False) and serial; the test changes both while it runs."""

    def __init__(self, port, serial):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.2", port))
        self.sock.settimeout(0.2)
        self.serial, self.aa, self.stop = serial, True, False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            q = dns.message.from_wire(data)
            a = dns.message.make_response(q)
            if self.aa:
                a.flags |= dns.flags.AA
                a.answer.append(dns.rrset.from_text(q.question[0].name, 60, "IN", "SOA",
                                                    f"ns1.{FWD}. h.{FWD}. {self.serial} 3600 900 86400 60"))
            self.sock.sendto(a.to_wire(), peer)

    def close(self):
        self.stop = True
        self.thread.join(5)
        self.sock.close()


@pytest.fixture
def recheck(env, dburl):
    """ns3 (FlexAuth, serial 1 like the child knotd's zones) and an rdns-verifier that
    re-checks every delegation every RECHECK_S seconds, asking the child knotd's port."""
    if "ns3 A" not in env.child.zones[FWD + "."]:
        env.child.set_zone(FWD, env.child.zones[FWD + "."] + "ns3 A 127.0.0.2\n")
    env.child.set_zone(CHILD4, child_zone4(1))
    env.child.set_zone(CHILD128, soa(CHILD128, 1))
    fake = FlexAuth(env.child.port, 1)
    v = Verifier(dburl, {"resolvers": f"127.0.0.1:{env.child.port}", "delegation_check_port": env.child.port,
                         "delegation_recheck_interval": RECHECK_S, "verify_deadline_ms": 2000,
                         "verify_timeout_ms": 300, "verify_retries": 0})
    try:
        v.start()
        yield fake, v
        assert v.stop() == 0
    finally:
        v.close()
        fake.close()


def last_check(client, prefix):
    r = client.get(f"/v1/delegations/{prefix}")
    assert r.status_code == 200, r.text
    return r.json()["last_check"]


def rechecked(client, prefix, after, state):
    """Wait (bounded) for a check newer than after (a checked_at) in state; returns it."""
    return wait_until(lambda: (lc := last_check(client, prefix))["checked_at"] > after and lc["state"] == state
                      and lc, timeout=10 * RECHECK_S, interval=0.2, what=f"{prefix} re-checked: {state}")


def kinds(client, prefix, since):
    ev = client.get(f"/v1/events?after={since}&limit=1000").json()["items"]
    return [e["kind"] for e in ev if e["kind"].startswith("delegation.") and e["detail"]["prefix"] == prefix]


def audits(env, prefix, since):
    return sql(env.db, "SELECT action, actor_name FROM audit_log WHERE object = %s AND id > %s"
               " AND action IN ('delegation.lame', 'delegation.recover') ORDER BY id", f"delegation {prefix}", since)


def marks(env):
    return (sql(env.db, "SELECT coalesce(max(id), 0) FROM events")[0][0],
            sql(env.db, "SELECT coalesce(max(id), 0) FROM audit_log")[0][0])


def test_recheck_marks_a_lame_delegation_and_its_recovery_once(env, recheck):
    """Published while both servers answer with serial 1; ns3 moves to serial 2: within a
    few intervals the verifier marks it lame (findings, lame_since, ?state=lame, one event
    and one audit entry however many checks find it so); ns3 stops answering
    authoritatively: still lame, nothing new told; both agree again: pass, one
    delegation.recovered event and one delegation.recover entry. It stays published."""
    fake, v = recheck
    c, p, ns = env.customer, "192.0.2.0/26", [NS[0], f"ns3.{FWD}"]
    ev0, au0 = marks(env)
    r = c.put(f"/v1/delegations/{p}", json={"nameservers": ns})
    assert r.status_code in (200, 201), r.text
    lc = r.json()["last_check"]
    assert lc["state"] == "pass" and lc["lame_since"] is None and [x["status"] for x in lc["checks"]] == ["pass"] * 3
    # re-checked while healthy: pass again, nothing told
    lc = rechecked(c, p, lc["checked_at"], "pass")
    assert kinds(c, p, ev0) == [] and audits(env, p, au0) == []

    fake.serial = 2
    lc = rechecked(c, p, lc["checked_at"], "lame")
    assert lc["lame_since"] and lc["lame_since"] <= lc["checked_at"]
    serials = [x for x in lc["checks"] if x["id"] == "delegation.serials"][0]
    assert serials["status"] == "fail" and "from 1 to 2" in serials["detail"] and serials["next_step"]
    assert [x["prefix"] for x in c.get("/v1/delegations?state=lame").json()["items"]] == [p]
    assert p in [x["prefix"] for x in env.staff.get("/v1/delegations?state=lame").json()["items"]]
    assert p not in [x["prefix"] for x in c.get("/v1/delegations?state=pass").json()["items"]]
    assert env.other.get("/v1/delegations?state=lame").json()["items"] == []
    problem(c.get("/v1/delegations?state=broken"), 400)
    since = lc["lame_since"]

    # no longer authoritative at all: still lame since the same time; told once only
    fake.aa = False
    lc = rechecked(c, p, lc["checked_at"], "lame")
    lc = wait_until(lambda: (x := rechecked(c, p, lc["checked_at"], "lame"))
                    and any("not authoritative" in ch["detail"] for ch in x["checks"]) and x,
                    timeout=10 * RECHECK_S, what="the non-AA answer in the findings")
    assert lc["lame_since"] == since
    assert c.get(f"/v1/delegations/{p}").json()["nameservers"] == ns  # still published
    assert kinds(c, p, ev0) == ["delegation.lame"]
    ev = [e for e in c.get(f"/v1/events?after={ev0}&limit=1000").json()["items"] if e["kind"] == "delegation.lame"]
    assert ev[0]["detail"]["nameservers"] == ns and ev[0]["detail"]["checks"]
    assert [a for a, _ in audits(env, p, au0)] == ["delegation.lame"]
    assert audits(env, p, au0)[0][1].startswith("rdns-verifier ")

    fake.aa, fake.serial = True, 1
    lc = rechecked(c, p, lc["checked_at"], "pass")
    assert lc["lame_since"] is None and [x["status"] for x in lc["checks"]] == ["pass"] * 3
    lc = rechecked(c, p, lc["checked_at"], "pass")  # and told once
    assert kinds(c, p, ev0) == ["delegation.lame", "delegation.recovered"]
    ev = [e for e in c.get(f"/v1/events?after={ev0}&limit=1000").json()["items"]
          if e["kind"] == "delegation.recovered"]
    assert ev[0]["detail"]["lame_since"]
    assert [a for a, _ in audits(env, p, au0)] == ["delegation.lame", "delegation.recover"]
    log = v.log()
    assert log.count(f"delegation {p} ({' '.join(ns)}): lame now") == 1, log[-3000:]
    assert log.count(f"delegation {p} ({' '.join(ns)}): recovered") == 1, log[-3000:]
    assert c.get("/v1/delegations?state=lame").json()["items"] == []
    assert c.delete(f"/v1/delegations/{p}").status_code == 204


def test_recheck_reports_forced_delegations(env, recheck):
    """A delegation staff forced past failed checks is lame from its publication and is
    re-checked like any other: shown lame (not removed) while it is, and told as recovered
    (event to its customer, audit) once its servers agree."""
    fake, v = recheck
    s, p, ns = env.staff, "192.0.2.128/26", [NS[0], f"ns3.{FWD}"]
    ev0, au0 = marks(env)
    fake.serial = 2
    problem(s.put(f"/v1/delegations/{p}", json={"nameservers": ns}), 422)
    r = s.put(f"/v1/delegations/{p}", json={"nameservers": ns, "force": True})
    assert r.status_code == 201, r.text
    assert r.json()["forced"] is True
    lc = r.json()["last_check"]
    assert lc["state"] == "lame" and lc["lame_since"]
    since = lc["lame_since"]
    lc = rechecked(s, p, lc["checked_at"], "lame")
    lc = rechecked(s, p, lc["checked_at"], "lame")
    assert lc["lame_since"] == since and "from 1 to 2" in lc["checks"][2]["detail"]
    assert p in [x["prefix"] for x in s.get("/v1/delegations?state=lame").json()["items"]]
    assert [x["prefix"] for x in env.other.get("/v1/delegations?state=lame").json()["items"]] == [p]
    assert kinds(s, p, ev0) == [] and audits(env, p, au0) == []  # lame since it was forced: nothing new

    fake.serial = 1
    lc = rechecked(s, p, lc["checked_at"], "pass")
    assert lc["lame_since"] is None
    assert s.get(f"/v1/delegations/{p}").json()["forced"] is True
    assert kinds(env.other, p, ev0) == ["delegation.recovered"]
    assert [a for a, _ in audits(env, p, au0)] == ["delegation.recover"]
    assert s.delete(f"/v1/delegations/{p}").status_code == 204
