"""Customer PTR routes and the request/review flow, against real PostgreSQL and knotd:
reading, verified setting, deleting and listing PTRs, isolation between customers,
the verifier through the API, exceptions and staff review, hostile input, body and
media-type limits, concurrency, rate limits, and the database going away."""
import collections
import glob
import ipaddress
import json
import os
import re
import select
import socket
import threading
import time
import urllib.parse

import dns.flags
import dns.message
import dns.query
import psycopg2
import pytest
import yaml

import harness
from conftest import Client, all_items
from harness import bind_same_port, wait_until

# Knot is shared by the whole session: these zone names belong to this module only.
FWD = "ptrapi.example.com"    # forward names the customers point their PTRs at
FWD2 = "ptrapi-x.example.org"  # a second zone, for a CNAME chain that leaves the first
V4_ZONE = "2.0.192.in-addr.arpa"
V6_ZONE = "0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa"
DEFAULT_TMPL = "static-{dashed}.vps.example.net"

# Customer A: 192.0.2.0/28 and 2001:db8:100::/48; B: 192.0.2.16/28; D (rate limits): 192.0.2.32/28.
# 192.0.2.100 is in the zone but allocated to nobody; 203.0.113.5 is in no zone at all.
A_NET, A_NET6, B_NET, D_NET = "192.0.2.0/28", "2001:db8:100::/48", "192.0.2.16/28", "192.0.2.32/28"
UNALLOCATED, NO_ZONE = "192.0.2.100", "203.0.113.5"

FWD_ZONE = f"""$ORIGIN {FWD}.
$TTL 60
@ SOA ns1 hostmaster 1 3600 600 86400 60
@ NS ns1
ns1 A 192.0.2.53
mx1 A 192.0.2.10
mail A 198.51.100.20
txtonly TXT "no address here"
alias CNAME hop
hop CNAME target.{FWD2}.
h15 A 192.0.2.15
h6 A 192.0.2.6
v6 AAAA 2001:db8:100::10
v6wrong AAAA 2001:db8:100::99
b17 A 192.0.2.17
d33 A 192.0.2.33
192-0-2-8 A 192.0.2.8
""" + "".join(f"c{i} A 192.0.2.12\n" for i in range(16)) + "".join(f"e{i} A 192.0.2.{64 + i}\n" for i in range(16)) \
  + "".join(f"f{i} A 192.0.2.{80 + i}\ng{i} A 192.0.2.{80 + i}\n" for i in range(16)) \
  + "".join(f"k{i} A 192.0.2.{112 + i}\nl{i} A 192.0.2.{112 + i}\n" for i in range(8))

FWD2_ZONE = f"""$ORIGIN {FWD2}.
$TTL 60
@ SOA ns1 hostmaster 1 3600 600 86400 60
@ NS ns1
ns1 A 192.0.2.53
target A 192.0.2.11
"""

PROBLEM = "application/problem+json"


# ---------------------------------------------------------------- setup


def sql(dburl, query, args=()):
    """Run one statement on a fresh autocommit connection; rows (or [])."""
    conn = psycopg2.connect(dburl)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


class Env:
    pass


def make_customer(env, name, prefixes):
    """A customer account with a token and allocations, made through the staff API."""
    r = env.staff.post("/v1/accounts", json={"name": name, "role": "customer"})
    assert r.status_code == 201, r.text
    acct = r.json()["id"]
    tid, token = make_token_for(env, acct)
    for p in prefixes:
        r = env.staff.post("/v1/allocations", json={"account_id": acct, "prefix": p})
        assert r.status_code == 201, r.text
    return acct, tid, token


def make_token_for(env, account_id):
    r = env.staff.post(f"/v1/accounts/{account_id}/tokens", json={})
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["token"]


def revoke(env, token_id):
    r = env.staff.delete(f"/v1/tokens/{token_id}")
    assert r.status_code == 204, r.text


def make_zone(env, prefix, default_ptr=None):
    body = {"prefix": prefix, "nameservers": ["ns1.vps.example.net"], "soa_mname": "ns1.vps.example.net",
            "soa_rname": "hostmaster.vps.example.net"}
    if default_ptr:
        body["default_ptr"] = default_ptr
    r = env.staff.post("/v1/zones", json=body)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture(scope="module")
def env(api, staff, dburl, knot):
    e = Env()
    e.api, e.staff, e.dburl, e.knot = api, staff, dburl, knot
    knot.set_zone(FWD, FWD_ZONE)
    knot.set_zone(FWD2, FWD2_ZONE)
    assert make_zone(e, "192.0.2.0/24", DEFAULT_TMPL)["name"] == V4_ZONE
    assert make_zone(e, "2001:db8:100::/48")["name"] == V6_ZONE
    e.a_id, e.a_tid, tok = make_customer(e, "ptr-cust-a", [A_NET, A_NET6])
    e.a = Client(api.base, tok)
    e.b_id, e.b_tid, tok = make_customer(e, "ptr-cust-b", [B_NET])
    e.b = Client(api.base, tok)
    e.d_id, e.d_tid, e.d_token = make_customer(e, "ptr-cust-d", [D_NET])
    e.staff_id = sql(dburl, "SELECT id FROM accounts WHERE name = 'staff-admin'")[0][0]
    # knotd answers for both zones before any test relies on them.
    def ready():
        for qn in (f"mx1.{FWD}.", f"target.{FWD2}."):
            r = dns.query.udp(dns.message.make_query(qn, "A"), "127.0.0.1", port=knot.port, timeout=1)
            if not r.answer:
                return False
        return True
    wait_until(ready, what="knotd serving the module's zones")
    return e


def problem(r, status):
    """Assert r is an RFC 9457 problem with this status; returns its body."""
    assert r.status_code == status, f"{r.status_code} {r.text}"
    assert r.headers["Content-Type"] == PROBLEM, r.headers
    p = r.json()
    assert p["status"] == status and p["title"] and p["detail"] and p["type"]
    return p


def check(checks, cid):
    [c] = [c for c in checks if c["id"] == cid]
    assert set(c) == {"id", "status", "severity", "detail", "next_step"}
    return c


def requests_rows(dburl, ip):
    return sql(dburl, "SELECT id, account_id, hostname, state FROM ptr_requests WHERE ip = %s ORDER BY id", (ip,))


def audit_rows(dburl, ip=None, request_id=None):
    if request_id is not None:
        return sql(dburl, "SELECT actor_id, actor_name, action, old_value, new_value FROM audit_log"
                   " WHERE request_id = %s ORDER BY id", (request_id,))
    return sql(dburl, "SELECT actor_id, actor_name, action, old_value, new_value FROM audit_log"
               " WHERE ip = %s ORDER BY id", (ip,))


# ---------------------------------------------------------------- reading


def test_get_default_none_and_canonical_ip(env):
    r = env.a.get("/v1/ptr/192.0.2.7")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json", r.text
    j = r.json()
    assert j["ip"] == "192.0.2.7" and j["source"] == "default"
    assert j["hostname"] == "static-192-0-2-7.vps.example.net"
    assert j["verified_at"] is None and j["updated_at"] is None
    # An IPv6 zone has no default: "none". Any text form in, canonical out.
    r = env.a.get("/v1/ptr/2001:0DB8:0100:0000:0000:0000:0000:0007")
    assert r.status_code == 200, r.text
    j = r.json()
    assert (j["ip"], j["hostname"], j["source"]) == ("2001:db8:100::7", None, "none")
    # Not an address at all.
    for bad in ("192.0.2", "192.0.2.256", "192.0.2.07", "hello", "2001:db8:::1"):
        problem(env.a.get("/v1/ptr/" + bad), 400)


# ---------------------------------------------------------------- the verifier through the API


def test_put_match_applies_and_is_audited(env):
    r = env.a.put("/v1/ptr/192.0.2.10", json={"hostname": f"MX1.{FWD.upper()}."})
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["ip"] == "192.0.2.10" and j["hostname"] == f"mx1.{FWD}" and j["source"] == "custom"
    assert j["verified_at"] and j["updated_at"]
    assert [c["id"] for c in j["checks"]] == ["syntax", "policy", "forward", "generic"]
    assert all(c["status"] == "pass" for c in j["checks"]), j["checks"]
    assert "192.0.2.10" in check(j["checks"], "forward")["detail"]
    g = env.a.get("/v1/ptr/192.0.2.10").json()
    assert (g["hostname"], g["source"]) == (f"mx1.{FWD}", "custom") and g["verified_at"]
    assert sql(env.dburl, "SELECT hostname, account_id, forced FROM ptr_records WHERE ip = '192.0.2.10'") == \
        [(f"mx1.{FWD}", env.a_id, False)]
    rows = audit_rows(env.dburl, request_id=j["request_id"])
    assert rows == [(env.a_id, "ptr-cust-a", "ptr.set", None, f"mx1.{FWD}")]


def test_apply_marks_zone_dirty_and_notifies(env):
    """In the same transaction: the zone gets a change row and rdns-zonegen is woken."""
    changes = "SELECT count(*) FROM zone_changes WHERE zone_id = %s"
    zone_id = sql(env.dburl, "SELECT id FROM reverse_zones WHERE name = %s", (V4_ZONE,))[0][0]
    # As if rdns-zonegen had rendered the zone: a clean zone notifies on its first change.
    sql(env.dburl, "DELETE FROM zone_changes WHERE zone_id = %s", (zone_id,))
    seq = 0
    conn = psycopg2.connect(env.dburl)
    conn.autocommit = True
    try:
        conn.cursor().execute("LISTEN rdns_changes")

        def notifications(wait):
            got, deadline = [], time.monotonic() + wait
            while time.monotonic() < deadline:
                select.select([conn], [], [], 0.1)
                conn.poll()
                got += [n.payload for n in conn.notifies]
                conn.notifies.clear()
                if got:
                    time.sleep(0.2)  # and nothing more comes
                    conn.poll()
                    return got + [n.payload for n in conn.notifies]
            return got
        r = env.a.put("/v1/ptr/192.0.2.11", json={"hostname": f"mx1.{FWD}"})
        assert r.status_code == 422, r.text
        assert notifications(0.5) == []  # a refused change touches nothing
        r = env.a.put("/v1/ptr/192.0.2.11", json={"hostname": f"alias.{FWD}"})
        assert r.status_code == 200, r.text
        assert notifications(5) == [str(zone_id)]
        seq2 = sql(env.dburl, changes, (zone_id,))[0][0]
        assert seq2 == seq + 1
        # Setting the same name again changes nothing in the zone.
        assert env.a.put("/v1/ptr/192.0.2.11", json={"hostname": f"alias.{FWD}"}).status_code == 200
        assert sql(env.dburl, changes, (zone_id,))[0][0] == seq2
        # A further change while the zone is still dirty is recorded but not notified again:
        # rdns-zonegen picks it up with the pending one (and looks again after each render).
        assert env.a.put("/v1/ptr/192.0.2.11", json={"hostname": f"mx1.{FWD}", "exception_reason": "x"}
                         ).status_code == 202
        r = env.staff.put("/v1/ptr/192.0.2.11", json={"hostname": f"forced.{FWD}", "force": True})
        assert r.status_code == 200, r.text
        assert sql(env.dburl, changes, (zone_id,))[0][0] == seq2 + 1
        assert notifications(0.5) == []
    finally:
        conn.close()


def test_put_guide_mismatch_names_what_was_found(env):
    before = env.a.get("/v1/ptr/192.0.2.10").json()
    r = env.a.put("/v1/ptr/192.0.2.10", json={"hostname": f"mail.{FWD}"})
    p = problem(r, 422)
    fwd = check(p["checks"], "forward")
    assert fwd["status"] == "fail" and fwd["severity"] == "high"
    assert "198.51.100.20" in fwd["detail"] and "192.0.2.10" in fwd["detail"]
    assert fwd["next_step"]
    assert check(p["checks"], "syntax")["status"] == "pass"
    # Nothing changed, but the attempt is in the history.
    after = env.a.get("/v1/ptr/192.0.2.10").json()
    assert after == before
    req = env.a.get(f"/v1/requests/{p['request_id']}").json()
    assert req["state"] == "failed_checks" and req["hostname"] == f"mail.{FWD}"
    assert check(req["checks"], "forward")["status"] == "fail"


@pytest.mark.parametrize("name, words", [
    (f"nope.{FWD}", ["NXDOMAIN"]),
    (f"txtonly.{FWD}", ["no A record"]),
])
def test_put_forward_failures(env, name, words):
    p = problem(env.a.put("/v1/ptr/192.0.2.10", json={"hostname": name}), 422)
    fwd = check(p["checks"], "forward")
    assert fwd["status"] == "fail"
    for w in words:
        assert w in fwd["detail"], fwd


def test_put_cname_chain_across_zones(env):
    r = env.a.put("/v1/ptr/192.0.2.11", json={"hostname": f"alias.{FWD}"})
    assert r.status_code == 200, r.text
    fwd = check(r.json()["checks"], "forward")
    assert fwd["status"] == "pass" and f"target.{FWD2}" in fwd["detail"], fwd
    assert env.a.get("/v1/ptr/192.0.2.11").json()["hostname"] == f"alias.{FWD}"


def test_put_ipv6_match_and_mismatch(env):
    r = env.a.put("/v1/ptr/2001:db8:100:0:0:0:0:10", json={"hostname": f"v6.{FWD}"})
    assert r.status_code == 200, r.text
    assert r.json()["ip"] == "2001:db8:100::10" and r.json()["source"] == "custom"
    assert sql(env.dburl, "SELECT hostname FROM ptr_records WHERE ip = '2001:db8:100::10'") == [(f"v6.{FWD}",)]
    p = problem(env.a.put("/v1/ptr/2001:db8:100::10", json={"hostname": f"v6wrong.{FWD}"}), 422)
    fwd = check(p["checks"], "forward")
    assert fwd["status"] == "fail" and "2001:db8:100::99" in fwd["detail"], fwd
    # A name with only an A record has no AAAA: NODATA for an IPv6 address.
    p = problem(env.a.put("/v1/ptr/2001:db8:100::10", json={"hostname": f"mx1.{FWD}"}), 422)
    assert "no AAAA record" in check(p["checks"], "forward")["detail"]
    assert env.a.get("/v1/ptr/2001:db8:100::10").json()["hostname"] == f"v6.{FWD}"


def test_generic_name_is_a_warning_only(env):
    r = env.a.put("/v1/ptr/192.0.2.8", json={"hostname": f"192-0-2-8.{FWD}"})
    assert r.status_code == 200, r.text
    gen = check(r.json()["checks"], "generic")
    assert gen["status"] == "warn" and gen["next_step"]


def test_policy_and_syntax_failures(env):
    p = problem(env.a.put("/v1/ptr/192.0.2.10", json={"hostname": "mail.example"}), 422)
    assert check(p["checks"], "policy")["status"] == "fail"
    assert not [c for c in p["checks"] if c["id"] == "forward"]
    p = problem(env.a.put("/v1/ptr/192.0.2.10", json={"hostname": "no_underscores.example.com"}), 422)
    assert [c["id"] for c in p["checks"]] == ["syntax"] and p["checks"][0]["status"] == "fail"
    # A refused syntax cannot be turned into an exception either.
    p = problem(env.a.put("/v1/ptr/192.0.2.10", json={"hostname": "bad..name.com",
                                                     "exception_reason": "please"}), 422)
    assert check(p["checks"], "syntax")["status"] == "fail"


def test_resolver_that_never_answers_times_out(env, api_factory):
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))  # bound, never read: queries vanish
    try:
        port = silent.getsockname()[1]
        # Without the deadline the attempts alone would take 3 x 1000 ms.
        slow = api_factory({"resolvers": f"127.0.0.1:{port}", "verify_deadline_ms": 1500,
                            "verify_timeout_ms": 1000, "verify_retries": 2})
        c = Client(slow.base, env.a.s.headers["Authorization"].split()[1])
        t0 = time.monotonic()
        r = c.put("/v1/ptr/192.0.2.9", json={"hostname": f"mx1.{FWD}"})
        took = time.monotonic() - t0
        p = problem(r, 422)
        fwd = check(p["checks"], "forward")
        # the real time waited (the deadline), and the resolver that stayed silent
        assert fwd["status"] == "fail", fwd
        assert fwd["detail"] == f"timeout: no answer from the resolvers within 1500 ms (127.0.0.1:{port})", fwd
        assert "provider" not in fwd["next_step"], fwd
        assert 1.3 < took < 2.5, took
        slow.stop()
    finally:
        silent.close()


def closed_port():
    """A loopback port where nothing listens, UDP nor TCP: a query there is answered by ICMP
    port unreachable (ECONNREFUSED on a connected socket), a connection by a reset."""
    return harness.free_port()


def test_resolver_that_refuses_is_the_providers_fault(env, api_factory):
    port = closed_port()
    api = api_factory({"resolvers": f"127.0.0.1:{port}", "verify_deadline_ms": 3000,
                       "verify_timeout_ms": 1000, "verify_retries": 2})
    c = Client(api.base, env.a.s.headers["Authorization"].split()[1])
    t0 = time.monotonic()
    r = c.put("/v1/ptr/192.0.2.9", json={"hostname": f"mx1.{FWD}"})
    took = time.monotonic() - t0
    fwd = check(problem(r, 422)["checks"], "forward")
    assert fwd["status"] == "fail", fwd
    assert fwd["detail"] == (f"the provider's resolvers could not be asked about mx1.{FWD}: 127.0.0.1:{port} "
                             "refused the query (connection refused: nothing answers on that port)"), fwd
    assert fwd["next_step"] == ("This is a fault in the provider's resolver configuration, not in the name "
                                f"servers of mx1.{FWD}: nothing to change on your side. Contact support; "
                                "retry once it is fixed."), fwd
    assert "timeout" not in fwd["detail"] and " 0 ms" not in fwd["detail"]
    assert took < 1.0, took  # told by the ICMP error at once, not after 3 x 1000 ms
    # recorded with the request, as the customer sees it later
    [req] = [q for q in c.get("/v1/requests").json()["items"] if q["ip"] == "192.0.2.9"][:1]
    assert "refused the query" in json.dumps(req)


def test_refusing_and_silent_resolvers_are_told_apart(env, api_factory):
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))  # bound, never read
    try:
        quiet, closed = silent.getsockname()[1], closed_port()
        api = api_factory({"resolvers": f"127.0.0.1:{closed} 127.0.0.1:{quiet}", "verify_deadline_ms": 3000,
                           "verify_timeout_ms": 300, "verify_retries": 1})
        c = Client(api.base, env.a.s.headers["Authorization"].split()[1])
        fwd = check(problem(c.put("/v1/ptr/192.0.2.9", json={"hostname": f"mx1.{FWD}"}), 422)["checks"],
                    "forward")
        m = re.fullmatch(r"timeout: no answer from the resolvers within (\d+) ms \(127\.0\.0\.1:(\d+)\); "
                         r"127\.0\.0\.1:(\d+) refused the query \(connection refused: nothing answers on that "
                         r"port\)", fwd["detail"])
        assert m, fwd
        assert int(m[2]) == quiet and int(m[3]) == closed
        assert 550 <= int(m[1]) < 1500, fwd  # two attempts of 300 ms at the silent one
    finally:
        silent.close()


class TruncatingResolver:
    """A resolver on one loopback port that answers every UDP query truncated (TC=1), so the
    verifier asks again over TCP, where it breaks the connection the way `mode` says:
    "close" (an orderly close after the query), "partial" (a length prefix and part of the
    answer, then a close), "reset" (an RST after the query)."""

    def __init__(self, mode):
        self.mode = mode
        self.udp, self.tcp = bind_same_port([("127.0.0.1", socket.SOCK_DGRAM), ("127.0.0.1", socket.SOCK_STREAM)])
        self.port = self.udp.getsockname()[1]
        self.tcp.listen(16)
        self.tcp_queries = 0
        self.stop = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stop:
            ready, _, _ = select.select([self.udp, self.tcp], [], [], 0.1)
            for s in ready:
                if s is self.udp:
                    data, peer = self.udp.recvfrom(4096)
                    q = dns.message.from_wire(data)
                    r = dns.message.make_response(q)
                    r.flags |= dns.flags.TC
                    self.udp.sendto(r.to_wire(), peer)
                    continue
                conn, _ = self.tcp.accept()
                conn.settimeout(2)
                try:
                    hdr = conn.recv(2)
                    want = int.from_bytes(hdr, "big") if len(hdr) == 2 else 0
                    got = b""
                    while len(got) < want:
                        chunk = conn.recv(want - len(got))
                        if not chunk:
                            break
                        got += chunk
                    self.tcp_queries += 1
                    if self.mode == "partial":
                        conn.sendall((100).to_bytes(2, "big") + got[:10])
                    elif self.mode == "reset":
                        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                except OSError:
                    pass
                conn.close()

    def close(self):
        self.stop = True
        self.thread.join(timeout=2)
        self.udp.close()
        self.tcp.close()


@pytest.mark.parametrize("mode,words", [
    ("close", "closed the TCP connection before the whole answer"),
    ("partial", "closed the TCP connection before the whole answer"),
    ("reset", "reset the TCP connection before the whole answer"),
])
def test_resolver_that_breaks_tcp_is_the_providers_fault(env, api_factory, mode, words):
    """A truncated answer is asked again over TCP (RFC 7766); a resolver that then closes or
    resets the connection before the whole answer is broken, not slow: told at once, named,
    and the provider's fault, never "timeout"."""
    res = TruncatingResolver(mode)
    try:
        api = api_factory({"resolvers": f"127.0.0.1:{res.port}", "verify_deadline_ms": 3000,
                           "verify_timeout_ms": 1000, "verify_retries": 1})
        c = Client(api.base, env.a.s.headers["Authorization"].split()[1])
        t0 = time.monotonic()
        fwd = check(problem(c.put("/v1/ptr/192.0.2.9", json={"hostname": f"mx1.{FWD}"}), 422)["checks"],
                    "forward")
        took = time.monotonic() - t0
        assert fwd["status"] == "fail", fwd
        assert fwd["detail"] == (f"the provider's resolvers could not be asked about mx1.{FWD}: "
                                 f"127.0.0.1:{res.port} {words}"), fwd
        assert fwd["next_step"].startswith("This is a fault in the provider's resolver configuration"), fwd
        assert "timeout" not in fwd["detail"]
        assert res.tcp_queries >= 1
        assert took < 1.0, took  # told when the connection broke, not after the 1000 ms timeouts
    finally:
        res.close()


# ---------------------------------------------------------------- exceptions and review


def test_exception_flow_approved(env):
    ip = "192.0.2.13"
    name = f"mail.{FWD}"
    problem(env.a.put(f"/v1/ptr/{ip}", json={"hostname": name}), 422)
    r = env.a.put(f"/v1/ptr/{ip}", json={"hostname": name, "exception_reason": "our MX is behind NAT"})
    assert r.status_code == 202, r.text
    req = r.json()
    assert req["state"] == "pending_review" and req["hostname"] == name and req["ip"] == ip
    assert req["exception_reason"] == "our MX is behind NAT"
    assert check(req["checks"], "forward")["status"] == "fail"
    rid = req["id"]
    # Nothing is applied yet.
    assert env.a.get(f"/v1/ptr/{ip}").json()["source"] == "default"
    # Staff see it in the queue; the customer sees their own request; B does not.
    q = env.staff.get("/v1/requests", params={"state": "pending_review"})
    assert q.status_code == 200 and rid in [x["id"] for x in q.json()["items"]]
    assert env.a.get(f"/v1/requests/{rid}").json()["state"] == "pending_review"
    problem(env.b.get(f"/v1/requests/{rid}"), 404)
    # Customers cannot decide.
    problem(env.a.post(f"/v1/requests/{rid}/approve", json={"note": "self-service"}), 403)
    r = env.staff.post(f"/v1/requests/{rid}/approve", json={"note": "checked with the customer"})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["state"] == "approved" and d["decided_by"] == env.staff_id
    assert d["decision_note"] == "checked with the customer" and d["decided_at"]
    g = env.a.get(f"/v1/ptr/{ip}").json()
    assert (g["hostname"], g["source"]) == (name, "custom")
    assert env.a.get(f"/v1/requests/{rid}").json()["state"] == "approved"
    # Deciding twice is a conflict.
    problem(env.staff.post(f"/v1/requests/{rid}/approve", json={}), 409)
    problem(env.staff.post(f"/v1/requests/{rid}/reject", json={"note": "too late"}), 409)
    # The audit trail names both accounts.
    entries = audit_for(env, ip)
    actors = {(e["actor_name"], e["action"]) for e in entries}
    assert ("ptr-cust-a", "request.submit") in actors, entries
    assert ("staff-admin", "request.approve") in actors, entries
    assert any(e["actor_name"] == "staff-admin" and e["action"].startswith("ptr.") and e["new_value"] == name
               for e in entries), entries
    # The record belongs to the customer who asked.
    assert sql(env.dburl, "SELECT account_id FROM ptr_records WHERE ip = %s", (ip,)) == [(env.a_id,)]


def audit_for(env, ip):
    """Audit entries of one address, newest first, from the staff route GET /v1/audit."""
    r = env.staff.get("/v1/audit", params={"ip": ip, "limit": 1000})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert items and all(e["ip"] == ip for e in items), items
    return items


def test_newer_put_supersedes_pending_then_reject(env):
    ip = "192.0.2.14"
    r1 = env.a.put(f"/v1/ptr/{ip}", json={"hostname": f"mail.{FWD}", "exception_reason": "first"})
    assert r1.status_code == 202, r1.text
    r2 = env.a.put(f"/v1/ptr/{ip}", json={"hostname": f"nope.{FWD}", "exception_reason": "second"})
    assert r2.status_code == 202, r2.text
    id1, id2 = r1.json()["id"], r2.json()["id"]
    assert env.a.get(f"/v1/requests/{id1}").json()["state"] == "superseded"
    assert env.a.get(f"/v1/requests/{id2}").json()["state"] == "pending_review"
    pending = [x["id"] for x in env.staff.get("/v1/requests?state=pending_review").json()["items"]]
    assert id2 in pending and id1 not in pending
    problem(env.staff.post(f"/v1/requests/{id1}/approve", json={}), 409)
    problem(env.a.post(f"/v1/requests/{id2}/reject", json={}), 403)
    r = env.staff.post(f"/v1/requests/{id2}/reject", json={"note": "the name does not exist"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "rejected" and r.json()["decision_note"] == "the name does not exist"
    g = env.a.get(f"/v1/ptr/{ip}").json()
    assert g["source"] == "default"
    assert ("staff-admin", "request.reject") in {(e["actor_name"], e["action"]) for e in audit_for(env, ip)}
    # An applied PUT supersedes a pending request too.
    r3 = env.a.put("/v1/ptr/192.0.2.6", json={"hostname": f"mail.{FWD}", "exception_reason": "third"})
    assert r3.status_code == 202, r3.text
    assert env.a.put("/v1/ptr/192.0.2.6", json={"hostname": f"h6.{FWD}"}).status_code == 200
    assert env.a.get(f"/v1/requests/{r3.json()['id']}").json()["state"] == "superseded"
    # Unknown and malformed request ids.
    problem(env.staff.post("/v1/requests/999999/approve", json={}), 404)
    problem(env.staff.post("/v1/requests/0/approve", json={}), 404)
    problem(env.staff.post("/v1/requests/abc/reject", json={}), 404)
    problem(env.staff.post(f"/v1/requests/{id2}/reject", json={"note": 5}), 400)
    problem(env.staff.post(f"/v1/requests/{id2}/reject", json={"nope": "x"}), 400)


def test_requests_list_and_pagination(env):
    r = env.a.get("/v1/requests")
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert items and all(x["account_id"] == env.a_id for x in items)
    ids = [x["id"] for x in items]
    assert ids == sorted(ids, reverse=True)
    # Page by page with ?limit and ?before gives the same list.
    seen, before = [], None
    while True:
        q = {"limit": 3} | ({"before": before} if before else {})
        page = env.a.get("/v1/requests", params=q).json()
        seen += [x["id"] for x in page["items"]]
        if page["next"] is None:
            break
        before = page["next"]
    assert seen == ids
    only = env.a.get("/v1/requests", params={"ip": "192.0.2.14"}).json()["items"]
    assert only and {x["ip"] for x in only} == {"192.0.2.14"}
    st = env.a.get("/v1/requests", params={"state": "failed_checks"}).json()["items"]
    assert st and {x["state"] for x in st} == {"failed_checks"}
    problem(env.a.get("/v1/requests", params={"state": "bogus"}), 400)
    problem(env.a.get("/v1/requests", params={"limit": "0"}), 400)
    problem(env.a.get("/v1/requests", params={"before": "-1"}), 400)


# ---------------------------------------------------------------- delete


def test_delete_falls_back_to_default_or_none(env):
    ip = "192.0.2.15"
    assert env.a.put(f"/v1/ptr/{ip}", json={"hostname": f"h15.{FWD}"}).status_code == 200
    r = env.a.delete(f"/v1/ptr/{ip}")
    assert r.status_code == 204 and r.content == b""
    g = env.a.get(f"/v1/ptr/{ip}").json()
    assert (g["hostname"], g["source"]) == ("static-192-0-2-15.vps.example.net", "default")
    assert sql(env.dburl, "SELECT count(*) FROM ptr_records WHERE ip = %s", (ip,)) == [(0,)]
    assert audit_rows(env.dburl, ip=ip)[-1][2:] == ("ptr.delete", f"h15.{FWD}", None)
    # Deleting again is still 204.
    assert env.a.delete(f"/v1/ptr/{ip}").status_code == 204
    # IPv6: back to none.
    assert env.a.get("/v1/ptr/2001:db8:100::10").json()["source"] == "custom"
    assert env.a.delete("/v1/ptr/2001:db8:100:0::10").status_code == 204
    g = env.a.get("/v1/ptr/2001:db8:100::10").json()
    assert (g["hostname"], g["source"]) == (None, "none")


def test_allocation_or_zone_gone_before_review(env):
    """Deleting an allocation resets its PTRs and closes its pending requests; so does
    deleting a zone."""
    zone = make_zone(env, "198.51.100.0/24", DEFAULT_TMPL)
    r = env.staff.post("/v1/allocations", json={"account_id": env.a_id, "prefix": "198.51.100.0/28"})
    assert r.status_code == 201, r.text
    alloc = r.json()["id"]
    assert env.staff.put("/v1/ptr/198.51.100.1", json={"hostname": f"mx1.{FWD}", "force": True}).status_code == 200
    r = env.a.put("/v1/ptr/198.51.100.2", json={"hostname": f"mx1.{FWD}", "exception_reason": "moving"})
    assert r.status_code == 202, r.text
    pending = r.json()["id"]
    r = env.staff.delete(f"/v1/allocations/{alloc}")
    assert r.status_code in (200, 204), r.text
    assert sql(env.dburl, "SELECT count(*) FROM ptr_records WHERE ip <<= '198.51.100.0/28'") == [(0,)]
    assert env.staff.get(f"/v1/requests/{pending}").json()["state"] == "superseded"
    assert ("ptr.reset", f"mx1.{FWD}") in [(a, o) for (_, _, a, o, _) in audit_rows(env.dburl, ip="198.51.100.1")]
    problem(env.a.get("/v1/ptr/198.51.100.1"), 404)
    problem(env.staff.post(f"/v1/requests/{pending}/approve", json={}), 409)
    # Allocated again; a new exception; then the zone is deleted before review.
    r = env.staff.post("/v1/allocations", json={"account_id": env.a_id, "prefix": "198.51.100.0/28"})
    assert r.status_code == 201, r.text
    r = env.a.put("/v1/ptr/198.51.100.3", json={"hostname": f"mx1.{FWD}", "exception_reason": "again"})
    assert r.status_code == 202, r.text
    pending = r.json()["id"]
    r = env.staff.delete(f"/v1/zones/{zone['name']}")
    assert r.status_code in (200, 204), r.text
    # The zone's pending requests are closed with it: none waits for a review that
    # could only fail.
    assert env.staff.get(f"/v1/requests/{pending}").json()["state"] == "superseded"
    problem(env.staff.post(f"/v1/requests/{pending}/approve", json={}), 409)
    problem(env.staff.post(f"/v1/requests/{pending}/reject", json={"note": "zone retired"}), 409)
    detail = sql(env.dburl, "SELECT detail FROM audit_log WHERE action = 'zone.delete' AND object = %s",
                 (f"zone {zone['name']}",))[0][0]
    assert detail["requests_superseded"] == 1, detail
    assert sql(env.dburl, "SELECT count(*) FROM ptr_records WHERE ip <<= '198.51.100.0/24'") == [(0,)]
    # A new request for an address of the deleted zone: the address is in no zone now.
    r = env.a.put("/v1/ptr/198.51.100.4", json={"hostname": f"mx1.{FWD}", "exception_reason": "x"})
    problem(r, 404)


# ---------------------------------------------------------------- staff force and listing


def test_staff_force_and_customer_cannot(env):
    problem(env.a.put("/v1/ptr/192.0.2.1", json={"hostname": f"unresolvable.{FWD}", "force": True}), 403)
    problem(env.a.put("/v1/ptr/192.0.2.1", json={"hostname": f"mx1.{FWD}", "force": False,
                                                "exception_reason": None}), 422)
    r = env.staff.put("/v1/ptr/192.0.2.1", json={"hostname": f"unresolvable.{FWD}", "force": True})
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["source"] == "custom" and j["hostname"] == f"unresolvable.{FWD}" and j["verified_at"] is None
    assert check(j["checks"], "forward")["status"] == "warn"
    row = audit_rows(env.dburl, request_id=j["request_id"])
    assert row == [(env.staff_id, "staff-admin", "ptr.force", None, f"unresolvable.{FWD}")]
    # The record still belongs to the address's customer.
    assert sql(env.dburl, "SELECT account_id, forced FROM ptr_records WHERE ip = '192.0.2.1'") == [(env.a_id, True)]
    # Staff do not file exceptions: without force a failing name is refused.
    p = problem(env.staff.put("/v1/ptr/192.0.2.1", json={"hostname": f"mail.{FWD}", "exception_reason": "x"}),
                422)
    assert "force" in p["detail"]
    # Force still enforces syntax, policy and the zone.
    p = problem(env.staff.put("/v1/ptr/192.0.2.1", json={"hostname": "bad name", "force": True}), 422)
    assert check(p["checks"], "syntax")["status"] == "fail"
    p = problem(env.staff.put("/v1/ptr/192.0.2.1", json={"hostname": "a.localhost", "force": True}), 422)
    assert check(p["checks"], "policy")["status"] == "fail"
    problem(env.staff.put(f"/v1/ptr/{NO_ZONE}", json={"hostname": f"mx1.{FWD}", "force": True}), 404)
    assert env.a.get("/v1/ptr/192.0.2.1").json()["hostname"] == f"unresolvable.{FWD}"


def test_list_own_records_paginated(env):
    for ip in ("192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5", "2001:db8:100::5"):
        r = env.staff.put(f"/v1/ptr/{ip}", json={"hostname": f"list.{FWD}", "force": True})
        assert r.status_code == 200, r.text
    r = env.a.get("/v1/ptr", params={"prefix": "192.0.2.0/29"})
    assert r.status_code == 200, r.text
    page = r.json()
    ips = [x["ip"] for x in page["items"]]
    assert ips == ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5", "192.0.2.6"]
    assert all(x["source"] == "custom" and x["hostname"] for x in page["items"]) and page["next"] is None
    seen, after = [], None
    while True:
        q = {"prefix": "192.0.2.0/29", "limit": 4} | ({"after": after} if after else {})
        page = env.a.get("/v1/ptr", params=q).json()
        seen += [x["ip"] for x in page["items"]]
        if not page["next"]:
            break
        after = page["next"]
    assert seen == ips
    # Without a prefix: everything of A's, both families, in address order; nothing of B's.
    every = [x["ip"] for x in env.a.get("/v1/ptr", params={"limit": 1000}).json()["items"]]
    assert "192.0.2.10" in every and every[-1] == "2001:db8:100::5"
    assert "2001:db8:100::10" not in every  # deleted earlier
    v6 = env.a.get("/v1/ptr", params={"prefix": "2001:db8:100::/48"}).json()["items"]
    assert [x["ip"] for x in v6] == ["2001:db8:100::5"]
    assert all(ipaddress.ip_address(ip) in ipaddress.ip_network(A_NET) or
               ipaddress.ip_address(ip) in ipaddress.ip_network(A_NET6) for ip in every), every
    assert every == sorted(every, key=lambda x: (ipaddress.ip_address(x).version, ipaddress.ip_address(x)))
    problem(env.a.get("/v1/ptr", params={"prefix": "192.0.2.1/24"}), 400)
    problem(env.a.get("/v1/ptr", params={"after": "x"}), 400)
    problem(env.a.get("/v1/ptr", params={"limit": "1001"}), 400)


# ---------------------------------------------------------------- isolation


def without_request_id(body):
    """A problem body without its x_request_id (each request's own)."""
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k != "x_request_id"}
    return body


def _same_except(p1, p2, s1, s2):
    """Two problem bodies are identical once s1/s2 (the differing IP or id, which
    the client sent) are blanked in the texts that echo the request."""
    def norm(p, s):
        p = dict(p)
        p.pop("x_request_id", None)  # each request's own
        for k in ("detail", "instance"):
            if k in p:
                p[k] = p[k].replace(s, "X")
        return p
    assert norm(p1, s1) == norm(p2, s2), (p1, p2)


def test_isolation_matrix(env, api):
    b_ip = "192.0.2.17"
    r = env.b.put(f"/v1/ptr/{b_ip}", json={"hostname": f"b17.{FWD}"})
    assert r.status_code == 200, r.text
    b_req = r.json()["request_id"]
    rb = env.b.put(f"/v1/ptr/{b_ip}", json={"hostname": f"mail.{FWD}", "exception_reason": "B's secret"})
    assert rb.status_code == 202
    b_pending = rb.json()["id"]
    for method, body in (("GET", None), ("PUT", {"hostname": f"mx1.{FWD}"}), ("DELETE", None)):
        kw = {"json": body} if body else {}
        theirs = problem(env.a.req(method, f"/v1/ptr/{b_ip}", **kw), 404)
        nobody = problem(env.a.req(method, f"/v1/ptr/{UNALLOCATED}", **kw), 404)
        nozone = problem(env.a.req(method, f"/v1/ptr/{NO_ZONE}", **kw), 404)
        _same_except(theirs, nobody, b_ip, UNALLOCATED)
        _same_except(theirs, nozone, b_ip, NO_ZONE)
    # B's record is untouched and the failed attempts of A left no request on B's address.
    assert env.b.get(f"/v1/ptr/{b_ip}").json()["hostname"] == f"b17.{FWD}"
    assert {a for (a,) in sql(env.dburl, "SELECT DISTINCT account_id FROM ptr_requests WHERE ip = %s",
                               (b_ip,))} == {env.b_id}
    # Lists: nothing of B's, whatever the prefix.
    for params in ({"prefix": B_NET}, {"prefix": "192.0.2.0/24"}, {"prefix": b_ip}, {}):
        items = env.a.get("/v1/ptr", params=params | {"limit": 1000}).json()["items"]
        assert b_ip not in [x["ip"] for x in items], params
    assert b_ip in [x["ip"] for x in env.b.get("/v1/ptr", params={"prefix": B_NET}).json()["items"]]
    # Requests: A sees none of B's, not even by id, and the 404 is that of a request that does not exist.
    ids = [x["id"] for x in env.a.get("/v1/requests", params={"limit": 1000}).json()["items"]]
    assert b_req not in ids and b_pending not in ids
    assert not env.a.get("/v1/requests", params={"ip": b_ip}).json()["items"]
    mine_pending = env.a.get("/v1/requests", params={"state": "pending_review", "limit": 1000}).json()["items"]
    assert all(x["account_id"] == env.a_id for x in mine_pending)
    theirs = problem(env.a.get(f"/v1/requests/{b_pending}"), 404)
    missing = problem(env.a.get("/v1/requests/987654321"), 404)
    _same_except(theirs, missing, str(b_pending), "987654321")
    # Customer tokens on staff routes and force.
    problem(env.b.post(f"/v1/requests/{b_pending}/approve", json={}), 403)
    problem(env.b.post(f"/v1/requests/{b_pending}/reject", json={}), 403)
    problem(env.b.put(f"/v1/ptr/{b_ip}", json={"hostname": f"b17.{FWD}", "force": True}), 403)
    # No token, a bad token, a revoked token: 401 everywhere.
    anon = Client(api.base)
    for method, path in (("GET", f"/v1/ptr/{b_ip}"), ("PUT", f"/v1/ptr/{b_ip}"), ("DELETE", f"/v1/ptr/{b_ip}"),
                         ("GET", "/v1/ptr"), ("GET", "/v1/requests"), ("GET", f"/v1/requests/{b_req}"),
                         ("POST", f"/v1/requests/{b_pending}/approve")):
        kw = {"json": {"hostname": f"b17.{FWD}"} if method == "PUT" else {}} if method in ("PUT", "POST") else {}
        r = anon.req(method, path, **kw)
        problem(r, 401)
        assert r.headers["WWW-Authenticate"].startswith("Bearer"), r.headers
    tid, token = make_token_for(env, env.b_id)
    c = Client(api.base, token)
    assert c.get(f"/v1/ptr/{b_ip}").status_code == 200
    revoke(env, tid)
    problem(c.get(f"/v1/ptr/{b_ip}"), 401)
    problem(c.put(f"/v1/ptr/{b_ip}", json={"hostname": f"b17.{FWD}"}), 401)
    problem(c.delete(f"/v1/ptr/{b_ip}"), 401)
    assert env.b.get(f"/v1/ptr/{b_ip}").json()["hostname"] == f"b17.{FWD}"


# ---------------------------------------------------------------- hostile input

HOSTILE = [
    f"evil.{FWD}\nwww",
    f"evil.{FWD}\n$INCLUDE /etc/passwd",
    "$INCLUDE /etc/passwd",
    f"x.{FWD}; comment",
    f"x\\.{FWD}",
    f"x\\046{FWD}",
    "@",
    f"a@{FWD}",
    f'"quoted".{FWD}',
    f"'quoted'.{FWD}",
    "a" * 64 + f".{FWD}",
    ".".join(["a" * 60] * 5),           # 304 octets
    f"ünïcode.{FWD}",
    f"x'); DROP TABLE ptr_records; --.{FWD}",
    f"x\" OR 1=1 --.{FWD}",
    f"x.{FWD} IN A 192.0.2.99",
    f"x.{FWD}.\rx",
    f"x.{FWD}\t",
    f"(x).{FWD}",
    f"x.{FWD}/24",
]
MARKERS = ["\n", "\r", "\t", "$", ";", "\\", "@", '"', "'", "ü", " ", "(", "/", "a" * 64]


def _clean_db(env):
    """No custom PTR and no requested hostname carries anything but LDH and dots."""
    for (h,) in sql(env.dburl, "SELECT hostname FROM ptr_records"):
        assert re.fullmatch(r"[a-z0-9.-]+", h), h
    for (h,) in sql(env.dburl, "SELECT hostname FROM ptr_requests WHERE hostname IS NOT NULL"):
        assert re.fullmatch(r"[a-z0-9.-]+", h), h
        assert len(h) <= 253 and all(len(label) <= 63 for label in h.split("."))
        assert not any(m in h for m in MARKERS), h


def test_hostile_hostnames_never_reach_the_database(env):
    ip = "192.0.2.7"
    for h in HOSTILE:
        for client, extra in ((env.a, {}), (env.a, {"exception_reason": h}), (env.staff, {"force": True})):
            r = client.put(f"/v1/ptr/{ip}", json={"hostname": h, **extra})
            assert 400 <= r.status_code < 500, (h, r.status_code, r.text)
            assert r.headers["Content-Type"] == PROBLEM
    # A NUL cannot even be expressed: the JSON parser refuses it.
    problem(env.a.put(f"/v1/ptr/{ip}", json={"hostname": f"x.{FWD}\u0000.evil"}), 400)
    assert sql(env.dburl, "SELECT count(*) FROM ptr_records WHERE ip = %s", (ip,)) == [(0,)]
    hs = [h for (h,) in sql(env.dburl, "SELECT hostname FROM ptr_requests WHERE ip = %s", (ip,))]
    assert hs and all(h is None for h in hs), hs
    _clean_db(env)


def test_hostile_paths_queries_and_notes(env):
    for h in HOSTILE + ["192.0.2.9'; DROP TABLE ptr_records; --", "192.0.2.9 ", " 192.0.2.9", "::ffff:",
                        "0x0a.0.0.1", "1e1", "' OR '1'='1", "192.0.2.9\n", "192.0.2.9%00"]:
        q = urllib.parse.quote(h, safe="")
        for method, kw in (("GET", {}), ("PUT", {"json": {"hostname": f"mx1.{FWD}"}}), ("DELETE", {})):
            for path in (f"/v1/ptr/{q}", f"/v1/ptr/{q}%2F32"):
                r = env.a.req(method, path, **kw)
                assert r.status_code in (400, 404), (h, method, r.status_code, r.text)
                assert r.headers["Content-Type"] == PROBLEM
        for path, name in (("/v1/ptr", "prefix"), ("/v1/ptr", "after"), ("/v1/ptr", "limit"),
                           ("/v1/requests", "state"), ("/v1/requests", "ip"), ("/v1/requests", "before"),
                           ("/v1/requests", "limit")):
            r = env.a.get(path, params={name: h})
            assert r.status_code == 400, (path, name, h, r.text)
            problem(r, 400)
        r = env.staff.get(f"/v1/requests/{q}")
        assert r.status_code == 404, (h, r.text)
        for verb in ("approve", "reject"):
            r = env.staff.post(f"/v1/requests/{q}/{verb}", json={"note": h})
            assert r.status_code == 404, (h, r.text)
    # A NUL in the URL does not cut the address (or the route) short.
    assert env.a.put("/v1/ptr/192.0.2.10", json={"hostname": f"mx1.{FWD}"}).status_code == 200
    for method, kw in (("GET", {}), ("PUT", {"json": {"hostname": f"mx1.{FWD}"}}), ("DELETE", {})):
        problem(env.a.req(method, "/v1/ptr/192.0.2.10%00junk", **kw), 400)
        problem(env.a.req(method, "/v1/ptr/192.0.2.10%00", **kw), 400)
    problem(env.a.get("/v1/requests?ip=192.0.2.14%00x"), 400)
    problem(env.a.get("/v1/ptr?prefix=192.0.2.0/28%00"), 400)
    problem(env.staff.post("/v1/requests%00/approve", json={}), 404)
    assert env.a.get("/v1/ptr/192.0.2.10").json()["hostname"] == f"mx1.{FWD}"
    # A hostile note on a request that is not pending changes nothing.
    r = env.a.put("/v1/ptr/192.0.2.10", json={"hostname": f"mx1.{FWD}"})
    assert r.status_code == 200, r.text
    applied = r.json()["request_id"]
    for h in HOSTILE:
        problem(env.staff.post(f"/v1/requests/{applied}/approve", json={"note": h}), 409)
    assert sql(env.dburl, "SELECT state, decision_note FROM ptr_requests WHERE id = %s", (applied,)) == \
        [("applied", None)]
    # Every table is still there.
    assert sql(env.dburl, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename IN"
               " ('ptr_records', 'ptr_requests', 'audit_log', 'accounts')") == [(4,)]
    _clean_db(env)


# ---------------------------------------------------------------- bodies, media types, routing


def test_body_limits_and_validation(env):
    url = "/v1/ptr/192.0.2.9"
    big = json.dumps({"hostname": f"mx1.{FWD}", "exception_reason": "x" * (17 * 1024)})
    problem(env.a.put(url, data=big, headers={"Content-Type": "application/json"}), 413)
    # A body just under the limit is read whole, and 8 KiB of headers fit beside it (the
    # head may be 16 KiB).
    padded = '{"hostname": "mx1.' + FWD + '"' + " " * (15 * 1024) + "}"
    p = problem(env.a.put(url, data=padded, headers={"Content-Type": "application/json"}), 422)
    assert [c["id"] for c in p["checks"] if c["status"] == "fail"] == ["forward"]
    assert env.a.get(url, headers={"X-Pad": "p" * 8192}).status_code == 200
    p = problem(env.a.put(url, data='{"hostname": "mx1.', headers={"Content-Type": "application/json"}), 400)
    assert "malformed" in p["detail"]
    problem(env.a.put(url, data="[1, 2]", headers={"Content-Type": "application/json"}), 400)
    problem(env.a.put(url, data='{"hostname": "a.com", "hostname": "b.com"}',
                      headers={"Content-Type": "application/json"}), 400)
    p = problem(env.a.put(url, json={"hostname": f"mx1.{FWD}", "ttl": 60}), 400)
    assert {"field": "ttl", "error": "unknown field"} in p["errors"]
    p = problem(env.a.put(url, json={"hostname": 5}), 400)
    assert p["errors"][0]["field"] == "hostname"
    p = problem(env.a.put(url, json={"hostname": f"mx1.{FWD}", "force": "yes"}), 400)
    assert p["errors"][0]["field"] == "force"
    p = problem(env.a.put(url, json={}), 400)
    assert {"field": "hostname", "error": "required"} in p["errors"]
    problem(env.a.put(url, json={"hostname": None}), 400)
    problem(env.a.put(url, json={"hostname": f"mail.{FWD}", "exception_reason": ""}), 400)
    problem(env.a.put(url, json={"hostname": f"mail.{FWD}", "exception_reason": "x" * 2001}), 400)
    # Characters, not bytes: 2000 three-byte characters are fine (and the name fails, so it is pending).
    r = env.a.put(url, json={"hostname": f"mail.{FWD}", "exception_reason": "\u20ac" * 2000})
    assert r.status_code == 202 and r.json()["exception_reason"] == "\u20ac" * 2000, r.text
    problem(env.a.put(url, data=f"hostname=mx1.{FWD}", headers={"Content-Type": "text/plain"}), 415)
    problem(env.a.put(url, data=json.dumps({"hostname": f"mx1.{FWD}"})), 415)  # no content type
    problem(env.a.get(url, data="{}", headers={"Content-Type": "application/json"}), 400)
    problem(env.staff.post("/v1/requests/1/approve", data="note", headers={"Content-Type": "text/plain"}), 415)
    # Routing: an unknown route is 404, a known route with another method 405 with Allow.
    problem(env.a.get("/v1/ptrx"), 404)
    problem(env.a.get("/v1/ptr/192.0.2.9/extra"), 404)
    p405 = env.a.post(url, json={})
    problem(p405, 405)
    assert set(p405.headers["Allow"].replace(" ", "").split(",")) == {"GET", "PUT", "DELETE"}
    r = env.a.req("PATCH", "/v1/requests/1")
    problem(r, 405)
    assert set(r.headers["Allow"].replace(" ", "").split(",")) == {"GET", "DELETE"}  # DELETE: cancel
    r = env.staff.get("/v1/requests/1/approve")
    problem(r, 405)
    assert r.headers["Allow"] == "POST"
    # None of it reached the database as a record.
    assert sql(env.dburl, "SELECT count(*) FROM ptr_records WHERE ip = '192.0.2.9'") == [(0,)]


# ---------------------------------------------------------------- concurrency


def test_concurrent_puts_on_one_ip(env):
    ip = "192.0.2.12"
    names = [f"c{i}.{FWD}" for i in range(16)]
    results = [None] * 16
    barrier = threading.Barrier(16)

    def worker(i):
        c = Client(env.a.base, env.a.s.headers["Authorization"].split()[1])
        barrier.wait()
        results[i] = c.put(f"/v1/ptr/{ip}", json={"hostname": names[i]})
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for i, r in enumerate(results):
        assert r is not None and r.status_code == 200, (i, r and r.text)
        assert r.json()["hostname"] == names[i], "a 200 must describe the change it made"
    final = env.a.get(f"/v1/ptr/{ip}").json()["hostname"]
    assert final in names
    reqs = requests_rows(env.dburl, ip)
    assert sorted(h for (_, _, h, _) in reqs) == sorted(names)
    assert {s for (*_, s) in reqs} == {"applied"}
    audit = [row for row in audit_rows(env.dburl, ip=ip) if row[2] == "ptr.set"]
    assert sorted(row[4] for row in audit) == sorted(names)
    # Serialised, nothing torn: each change saw the previous one's result, and the last one won.
    assert audit[0][3] is None
    for prev, cur in zip(audit, audit[1:]):
        assert cur[3] == prev[4], audit
    assert audit[-1][4] == final
    assert sql(env.dburl, "SELECT hostname FROM ptr_records WHERE ip = %s", (ip,)) == [(final,)]


def test_approve_racing_a_newer_put(env):
    """Staff approve while the customer sends a newer exception: one of them goes
    first, neither fails with a deadlock, and the outcome is consistent."""
    ip = "192.0.2.5"
    a_token = env.a.s.headers["Authorization"].split()[1]
    outcomes = set()
    for i in range(8):
        r = env.a.put(f"/v1/ptr/{ip}", json={"hostname": f"mail.{FWD}", "exception_reason": f"round {i}"})
        assert r.status_code == 202, r.text
        rid = r.json()["id"]
        res = {}
        barrier = threading.Barrier(2)

        def approve():
            c = Client(env.staff.base, env.staff.s.headers["Authorization"].split()[1])
            barrier.wait()
            res["approve"] = c.post(f"/v1/requests/{rid}/approve", json={"note": "ok"})

        def newer():
            c = Client(env.a.base, a_token)
            barrier.wait()
            res["put"] = c.put(f"/v1/ptr/{ip}", json={"hostname": f"nope.{FWD}", "exception_reason": "newer"})
        threads = [threading.Thread(target=approve), threading.Thread(target=newer)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert res["put"].status_code == 202, res["put"].text
        state = env.a.get(f"/v1/requests/{rid}").json()["state"]
        if res["approve"].status_code == 200:
            assert state == "approved"
            assert env.a.get(f"/v1/ptr/{ip}").json()["hostname"] == f"mail.{FWD}"
        else:
            problem(res["approve"], 409)
            assert state == "superseded"
        outcomes.add(res["approve"].status_code)
        assert env.a.get(f"/v1/requests/{res['put'].json()['id']}").json()["state"] == "pending_review"
    assert outcomes <= {200, 409}


def test_allocation_delete_racing_puts(env):
    """Customers' PUTs in flight while staff delete the allocation: each PUT lands
    before the delete (and is reset by it) or finds the address gone (404); no PTR
    survives in the deleted allocation (db/migrations/003: table locks, not row locks)."""
    net = "192.0.2.64/28"
    _, _, token = make_customer(env, "ptr-cust-race", [net])
    alloc = [a["id"] for a in all_items(env.staff, "/v1/allocations") if a["prefix"] == net][0]
    codes = [[] for _ in range(8)]
    started = threading.Barrier(9)

    def worker(w):
        c = Client(env.api.base, token)
        started.wait()
        for k in range(40):  # bounded; stops at the first 404
            i = (w * 2 + k) % 16
            r = c.put(f"/v1/ptr/192.0.2.{64 + i}", json={"hostname": f"e{i}.{FWD}"})
            codes[w].append(r.status_code)
            if r.status_code == 404:
                return
    threads = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    started.wait()
    wait_until(lambda: sum(c.count(200) for c in codes) >= 16, timeout=30, what="PUTs landing")
    r = env.staff.delete(f"/v1/allocations/{alloc}")
    assert r.status_code in (200, 204), r.text
    for t in threads:
        t.join(60)
    flat = [c for cs in codes for c in cs]
    assert set(flat) <= {200, 404}, flat
    assert flat.count(200) >= 16
    assert sql(env.dburl, "SELECT count(*) FROM ptr_records WHERE ip <<= %s", (net,)) == [(0,)]
    # Every record the PUTs left was reset in the audit trail, after its last set.
    rows = sql(env.dburl, "SELECT host(ip), action FROM audit_log WHERE ip <<= %s AND action IN ('ptr.set', 'ptr.reset')"
               " ORDER BY id", (net,))
    last = {}
    for ip, action in rows:
        last[ip] = action
    assert last and set(last.values()) == {"ptr.reset"}, last


class HoldApplies:
    """Block every PTR change for a while (the apply functions take allocations IN ROW SHARE
    MODE; this holds it EXCLUSIVE, which reads do not mind), so that the changes that arrive
    meanwhile queue up in rdns-api and go as one batch once it lets go."""

    def __init__(self, env, seconds=0.5):
        self.conn = psycopg2.connect(env.dburl)
        self.conn.cursor().execute("LOCK TABLE allocations IN EXCLUSIVE MODE")
        self.timer = threading.Timer(seconds, self.conn.rollback)
        self.timer.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.timer.join()
        self.conn.close()


def test_concurrent_puts_are_batched_and_each_is_as_if_alone(env):
    """Verified PUTs that are ready at the same moment are applied together (api/batch.c,
    rdns_ptr_apply_batch): each still gets its own request, audit entry with the right old
    name, and answer."""
    net = "192.0.2.80/28"
    _, _, token = make_customer(env, "ptr-cust-batch", [net])
    answers = [[] for _ in range(8)]
    go = threading.Barrier(8)

    def worker(w):
        c = Client(env.api.base, token)
        go.wait()
        for k in range(6):
            i = 2 * w + k % 2  # two addresses per worker, none shared
            name = f"{'fg'[k // 2 % 2]}{i}.{FWD}"
            r = c.put(f"/v1/ptr/192.0.2.{80 + i}", json={"hostname": name})
            answers[w].append((i, name, r.status_code, r.json()))
    threads = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
    with HoldApplies(env):  # the first changes queue up behind it: some share a batch
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    flat = [a for ans in answers for a in ans]
    assert len(flat) == 48 and all(code == 200 for _, _, code, _ in flat), [a[:3] for a in flat if a[2] != 200]
    for i, name, _, body in flat:
        assert body["hostname"] == name and body["ip"] == f"192.0.2.{80 + i}", body
        assert check(body["checks"], "forward")["status"] == "pass"
        row = sql(env.dburl, "SELECT host(ip), hostname, state, checks FROM ptr_requests WHERE id = %s",
                  (body["request_id"],))
        assert row == [(f"192.0.2.{80 + i}", name, "applied", body["checks"])], (body, row)
    # Per address: the record is the last answer, and the audit trail chains old -> new.
    for i in range(16):
        ip = f"192.0.2.{80 + i}"
        last = [name for j, name, _, _ in flat if j == i][-1]
        assert sql(env.dburl, "SELECT hostname FROM ptr_records WHERE ip = %s", (ip,)) == [(last,)]
        trail = sql(env.dburl, "SELECT old_value, new_value, request_id FROM audit_log WHERE ip = %s"
                    " AND action = 'ptr.set' ORDER BY id", (ip,))
        assert len(trail) == 3
        assert trail[0][0] is None and all(trail[k][0] == trail[k - 1][1] for k in range(1, 3)), trail
        assert [t[1] for t in trail] == [name for j, name, _, _ in flat if j == i]
    # Some changes did share a transaction (one now() for all of a batch).
    shared = sql(env.dburl, "SELECT max(n) FROM (SELECT count(*) AS n FROM ptr_requests WHERE ip <<= %s"
                 " GROUP BY created_at) x", (net,))[0][0]
    assert shared >= 2, "no two changes were applied together"


def test_failed_batch_is_applied_change_by_change(env, api_factory):
    """A batch that fails as a whole (here a trigger refuses one of its changes) is applied
    again change by change: the bad change gets its error, every other one lands."""
    # Its own rdns-api with a worker for each of the eight connections: a worker waiting for
    # its change's batch serves none of its other connections, and with the module's four
    # workers a loaded machine formed batches of 1 to 4 that never held the bad change.
    api = api_factory({"api_threads": 16}, migrate=False)
    _, _, token = make_customer(env, "ptr-cust-batchfail", ["192.0.2.112/29"])
    sql(env.dburl, "CREATE FUNCTION refuse_x0() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        " IF NEW.hostname ~ '^[kl]0[.]' THEN RAISE EXCEPTION 'refused for the test'; END IF; RETURN NEW; END $$")
    sql(env.dburl, "CREATE TRIGGER refuse_x0 BEFORE INSERT ON ptr_requests FOR EACH ROW EXECUTE FUNCTION refuse_x0()")
    rounds = []
    try:
        for rnd in range(6):  # bounded: until a batch containing the bad change has failed
            letter = "kl"[rnd % 2]
            codes = [None] * 8
            go = threading.Barrier(8)

            def worker(w):
                c = Client(api.base, token)
                go.wait()
                if w == 0:  # never the first to arrive, whose batch is itself alone: after
                    # a change is held in PostgreSQL, on the lock (Python's threads on a loaded
                    # machine start in any order and at any time)
                    try:
                        wait_until(lambda: sql(env.dburl, "SELECT count(*) FROM pg_stat_activity WHERE"
                                               " application_name = 'rdns-changes' AND wait_event_type = 'Lock'")[0][0],
                                   timeout=0.8, what="a change held on the lock")
                    except TimeoutError:
                        pass  # this round may then not batch it: the next one tries again
                codes[w] = c.put(f"/v1/ptr/192.0.2.{112 + w}", json={"hostname": f"{letter}{w}.{FWD}"}).status_code
            threads = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
            with HoldApplies(env, seconds=1.0):  # all but the first change queue up for one batch
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(60)
            assert codes[0] >= 500 and codes[1:] == [200] * 7, codes
            rounds.append(codes)
            got = sql(env.dburl, "SELECT host(ip), hostname FROM ptr_records WHERE ip <<= '192.0.2.112/29' ORDER BY ip")
            assert got == [(f"192.0.2.{112 + w}", f"{letter}{w}.{FWD}") for w in range(1, 8)], got
            if "applying them one by one" in api.log():
                break
        else:
            staff = Client(api.base, env.staff.s.headers["Authorization"].split()[1])
            batches = [m for m in re.findall(r"^rdns_api_batch.*$", staff.get("/metrics").text, re.M)
                       if '"ptr"' in m]
            pytest.fail(f"no batch with the refused change was formed in 6 rounds: {rounds} {batches}")
        assert sql(env.dburl, "SELECT count(*) FROM ptr_requests WHERE ip = '192.0.2.112'") == [(0,)]
    finally:
        sql(env.dburl, "DROP TRIGGER refuse_x0 ON ptr_requests")
        sql(env.dburl, "DROP FUNCTION refuse_x0()")


def test_apply_batch_function(env):
    """rdns_ptr_apply_batch as rdns-api calls it: changes outside a zone or outside their
    owner's allocation are left out; the others are applied as rdns_ptr_apply would."""
    acct, _, _ = make_customer(env, "ptr-cust-batchfn", ["192.0.2.96/29"])
    # a pending request at .97 that the batch must supersede
    sql(env.dburl, "INSERT INTO ptr_requests (account_id, ip, hostname, state, checks) VALUES"
        " (%s, '192.0.2.97', 'old.example.net', 'pending_review', '[]')", (acct,))
    before = sql(env.dburl, "SELECT count(*) FROM zone_changes")[0][0]
    rows = sql(env.dburl, "SELECT o_idx, o_request, o_verified_at IS NULL FROM rdns_ptr_apply_batch("
               " %s::inet[], %s::text[], %s::bigint[], %s::bigint[], %s::text[], %s::boolean[], %s::text[], %s::text[])"
               " ORDER BY o_idx",
               (["192.0.2.96", "192.0.2.97", "192.0.2.20", NO_ZONE, "192.0.2.98"],
                ["p96.example.net", "p97.example.net", "theirs.example.net", "nozone.example.net",
                 'q"98\\.example.net'],
                [acct, acct, acct, acct, None],
                [acct, acct, acct, acct, env.staff_id],
                ["cust", "cust", "cust", "cust", "staff-admin"],
                [False, False, False, False, True],
                ['[{"id": "forward"}]', None, None, None, None],
                [None, None, None, None, "vendor says so"]))
    assert [(r[0], r[2]) for r in rows] == [(1, False), (2, False), (5, True)], rows
    req = {r[0]: r[1] for r in rows}
    assert sql(env.dburl, "SELECT host(ip), hostname, forced, verified_at IS NULL FROM ptr_records"
               " WHERE ip <<= '192.0.2.96/29' ORDER BY ip") == [
        ("192.0.2.96", "p96.example.net", False, False), ("192.0.2.97", "p97.example.net", False, False),
        ("192.0.2.98", 'q"98\\.example.net', True, True)]
    assert sql(env.dburl, "SELECT state FROM ptr_requests WHERE hostname = 'old.example.net'") == [("superseded",)]
    assert sql(env.dburl, "SELECT host(ip), state, forced, exception_reason, checks::text FROM ptr_requests"
               " WHERE id = ANY(%s) ORDER BY id", (list(req.values()),)) == [
        ("192.0.2.96", "applied", False, None, '[{"id": "forward"}]'),
        ("192.0.2.97", "applied", False, None, "[]"),
        ("192.0.2.98", "applied", True, "vendor says so", "[]")]
    assert sql(env.dburl, "SELECT action, host(ip), new_value, actor_name, request_id FROM audit_log"
               " WHERE request_id = ANY(%s) ORDER BY request_id", (list(req.values()),)) == [
        ("ptr.set", "192.0.2.96", "p96.example.net", "cust", req[1]),
        ("ptr.set", "192.0.2.97", "p97.example.net", "cust", req[2]),
        ("ptr.force", "192.0.2.98", 'q"98\\.example.net', "staff-admin", req[5])]
    # one change mark per address changed, naming it and its hostname before (#19,
    # migration 010: rdns-zonegen applies them alone); nothing for the others
    assert sql(env.dburl, "SELECT count(*) FROM zone_changes")[0][0] == before + 3
    assert sql(env.dburl, "SELECT host(ip), old_hostname FROM zone_changes WHERE ip <<= '192.0.2.96/29'"
               " ORDER BY ip") == [("192.0.2.96", None), ("192.0.2.97", None), ("192.0.2.98", None)]
    assert sql(env.dburl, "SELECT count(*) FROM ptr_records WHERE ip IN ('192.0.2.20', %s)"
               " AND hostname IN ('theirs.example.net', 'nozone.example.net')", (NO_ZONE,)) == [(0,)]
    # no row at all when nothing qualifies
    assert sql(env.dburl, "SELECT count(*) FROM rdns_ptr_apply_batch(ARRAY[%s]::inet[], ARRAY['x.example.net'],"
               " ARRAY[%s]::bigint[], ARRAY[%s]::bigint[], ARRAY['c'], ARRAY[false], ARRAY[NULL], ARRAY[NULL])",
               (NO_ZONE, acct, acct)) == [(0,)]


def test_token_last_used_refresh_never_makes_a_request_wait(env):
    """last_used_at is refreshed at most once a minute, by one request; a request that finds
    it being refreshed by another (here: the row held locked) does not queue behind it."""
    _, tid, token = make_customer(env, "ptr-cust-touch", ["192.0.2.120/30"])
    c = Client(env.api.base, token)
    sql(env.dburl, "UPDATE api_tokens SET last_used_at = now() - interval '2 minutes' WHERE id = %s", (tid,))
    holder = psycopg2.connect(env.dburl)
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT 1 FROM api_tokens WHERE id = %s FOR UPDATE", (tid,))
            release = threading.Timer(5.0, holder.rollback)
            release.start()
            t0 = time.monotonic()
            r = c.get("/v1/ptr/192.0.2.121")
            took = time.monotonic() - t0
            release.join()
        assert r.status_code == 200, r.text
        assert took < 2.0, f"the request waited {took:.1f} s for the token row"
        # The row was not refreshed (it was locked); the next request does it.
        assert sql(env.dburl, "SELECT last_used_at < now() - interval '60 seconds' FROM api_tokens WHERE id = %s",
                   (tid,)) == [(True,)]
        assert c.get("/v1/ptr/192.0.2.121").status_code == 200
        assert sql(env.dburl, "SELECT last_used_at > now() - interval '10 seconds' FROM api_tokens WHERE id = %s",
                   (tid,)) == [(True,)]
    finally:
        holder.close()


def test_token_last_used_refresh_of_many_tokens_at_once(env):
    """Many tokens on their first use in a minute at the same moment (a provider's many
    accounts): each answered, each refreshed, whether rdns-api looks them up in one batch
    (one UPDATE for the batch's stale tokens, issue #17) or one by one."""
    toks = [make_token_for(env, env.a_id) for _ in range(24)]
    ids = [t for t, _ in toks]
    sql(env.dburl, "UPDATE api_tokens SET last_used_at = now() - interval '2 minutes' WHERE id = ANY(%s)", (ids,))
    codes = []
    start = threading.Barrier(len(toks))

    def get(token):
        c = Client(env.api.base, token)
        start.wait(timeout=30)
        for _ in range(3):
            codes.append(c.get("/v1/ptr/192.0.2.5").status_code)

    threads = [threading.Thread(target=get, args=(tok,)) for _, tok in toks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert codes == [200] * (3 * len(toks)), collections.Counter(codes)
    assert sql(env.dburl, "SELECT count(*) FROM api_tokens WHERE id = ANY(%s) AND last_used_at > now() - interval '10 seconds'",
               (ids,)) == [(len(toks),)]


def test_concurrent_reads_share_a_statement_and_each_sees_only_its_own(env, api_factory):
    """Token and address lookups that are ready at the same moment run as one statement
    (api/batch.c, st_auth_ctx_batch). Each caller still gets exactly what it gets alone:
    its own addresses, 404 for anyone else's, 401 for a revoked token or a wrong secret
    of a live token id, whoever else shared the statement."""
    _, rtid, revoked = make_customer(env, "ptr-cust-readbatch", ["192.0.2.124/30"])
    revoke(env, rtid)
    a_token = env.a.s.headers["Authorization"].split()[1]
    wrong = a_token[:-4] + ("AAAA" if not a_token.endswith("AAAA") else "BBBB")  # A's id, another secret
    r = env.a.put("/v1/ptr/192.0.2.15", json={"hostname": f"h15.{FWD}"})
    assert r.status_code == 200, r.text
    staff_token = env.staff.s.headers["Authorization"].split()[1]
    callers = {"a": a_token, "b": env.b.s.headers["Authorization"].split()[1], "staff": staff_token,
               "revoked": revoked, "wrong": wrong}
    ips = ("192.0.2.15", "192.0.2.3", "192.0.2.17", UNALLOCATED, NO_ZONE, "2001:db8:100::10",
           "2001:0db8:0100::0010")
    cases = [(who, ip) for who in callers for ip in ips]
    # What each lookup answers alone (one request at a time).
    alone = {}
    for who, ip in cases:
        r = Client(env.api.base, callers[who]).get(f"/v1/ptr/{ip}")
        alone[(who, ip)] = (r.status_code, without_request_id(r.json()))
    assert alone[("a", "192.0.2.15")][0] == 200 and alone[("a", "192.0.2.15")][1]["source"] == "custom"
    assert alone[("a", "192.0.2.3")][0] == 200 and alone[("a", "2001:0db8:0100::0010")][0] == 200
    assert alone[("b", "192.0.2.15")][0] == 404 and alone[("b", "192.0.2.17")][0] == 200
    assert alone[("staff", "192.0.2.15")][0] == 200 and alone[("staff", NO_ZONE)][0] == 404
    assert all(alone[(who, ip)][0] == 401 for who in ("revoked", "wrong") for ip in ips)

    reader = api_factory({"log_level": "debug"})  # logs each shared statement
    batched = False
    for rnd in range(5):  # bounded: until some lookups shared a statement
        answers = [[] for _ in range(12)]
        go = threading.Barrier(12)

        def worker(w):
            clients = {who: Client(reader.base, tok) for who, tok in callers.items()}
            go.wait()
            for k in range(len(cases)):
                who, ip = cases[(k * 7 + w * 5) % len(cases)]
                r = clients[who].get(f"/v1/ptr/{ip}")
                answers[w].append((who, ip, r.status_code, without_request_id(r.json())))
        threads = [threading.Thread(target=worker, args=(w,)) for w in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        flat = [a for ans in answers for a in ans]
        assert len(flat) == 12 * len(cases)
        for who, ip, code, body in flat:
            assert (code, body) == alone[(who, ip)], (who, ip, code, body)
        if re.search(r"auth: \d+ lookups in one statement", reader.log()):
            batched = True
            break
    assert batched, "no two lookups ever shared a statement"


# Tables that grow with a provider: no plan may read them sequentially at scale.
BIG_TABLES = ("api_tokens", "accounts", "allocations", "reverse_zones", "ptr_records", "ptr_requests",
              "audit_log", "zone_changes")


def _migrated_db(pg, name):
    """A database of its own in the harness's cluster, with our schema."""
    url = pg.create_db(name)
    migrator = harness.Api(url)
    try:
        migrator.run("migrate")
    finally:
        migrator.close()
    return url


def _scaled_db(pg, name):
    """A database of its own, migrated and analysed, the size of a provider's: 3,000
    customers c1..c3000 with a token and a /29 each (c<k> holds 10.0.0.0 + 8k), 256 /16
    zones, and 24,000 records with a request and an audit entry each."""
    url = _migrated_db(pg, name)
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO accounts (name, role) SELECT 'c' || g, 'customer' FROM generate_series(1, 3000) g")
            cur.execute("INSERT INTO api_tokens (account_id, secret_hash) SELECT id, sha256(name::bytea)"
                        " FROM accounts WHERE role = 'customer'")
            cur.execute("INSERT INTO allocations (account_id, prefix) SELECT id,"
                        " set_masklen('10.0.0.0'::inet + substr(name, 2)::int * 8, 29)::cidr FROM accounts"
                        " WHERE role = 'customer'")
            cur.execute("INSERT INTO reverse_zones (name, prefix, nameservers, soa_mname, soa_rname)"
                        " SELECT g || '.10.in-addr.arpa', ('10.' || g || '.0.0/16')::cidr, '{ns1.example.net}',"
                        " 'ns1.example.net', 'hostmaster.example.net' FROM generate_series(0, 255) g")
            cur.execute("INSERT INTO ptr_records (ip, zone_id, hostname, account_id)"
                        " SELECT '10.0.0.0'::inet + g, z.id, 'h' || g || '.example.net', l.account_id"
                        " FROM generate_series(8, 24007) g JOIN reverse_zones z ON z.prefix >>= '10.0.0.0'::inet + g"
                        " JOIN allocations l ON l.prefix >>= '10.0.0.0'::inet + g")
            cur.execute("INSERT INTO ptr_requests (account_id, ip, hostname, state)"
                        " SELECT account_id, ip, hostname, 'applied' FROM ptr_records")
            cur.execute("INSERT INTO audit_log (actor_id, actor_name, action, ip, new_value)"
                        " SELECT account_id, 'c', 'ptr.set', ip, hostname FROM ptr_records")
            cur.execute("ANALYZE")
    finally:
        conn.close()
    return url


def _no_big_seq_scan(what, plan):
    for table in BIG_TABLES:
        assert f"Seq Scan on {table}" not in plan, f"{what}:\n{plan}"


def test_lookups_and_changes_run_on_connections_of_their_own_with_generic_plans(pg):
    """Token and address lookups run on one connection per rdns-api ("rdns-lookups"), PTR
    changes on another ("rdns-changes"), both with plan_cache_mode force_generic_plan: at a
    provider's size PostgreSQL would otherwise re-plan them on every execution. What that
    relies on for the lookups: the generic plans of both statements (alone and shared, read
    off the live connection) scan no big table sequentially. (The apply functions: the next
    test.)"""
    url = _scaled_db(pg, "rdns_plans")
    api = harness.Api(url, {"api_threads": 8})
    try:
        api.start()
        c = Client(api.base, api.add_staff("plans-staff"))
        conn = psycopg2.connect(url)
        conn.autocommit = True
        with conn.cursor() as cur:
            def queries(app):
                cur.execute("SELECT query FROM pg_stat_activity WHERE application_name = %s"
                            " AND datname = current_database()", (app,))
                return [q for (q,) in cur.fetchall()]

            for _ in range(2):  # the first also refreshes the token's last_used_at
                r = c.get("/v1/ptr/10.0.0.9")
                assert r.status_code == 200 and r.json()["hostname"] == "h9.example.net", r.text
            [single] = queries("rdns-lookups")  # one connection, and the lone lookup ran on it
            assert "FROM api_tokens t JOIN accounts a" in single and "WITH ORDINALITY" not in single, single
            r = c.put("/v1/ptr/10.0.0.9", json={"hostname": "forced9.example.net", "force": True})
            assert r.status_code == 200, r.text
            [change] = queries("rdns-changes")
            assert "rdns_ptr_apply(" in change, change
            # Shared lookups: catch the statement on the connection while bursts run.
            shared, stop = None, threading.Event()

            def burst():
                cl = Client(api.base, c.s.headers["Authorization"].split()[1])
                while not stop.is_set():
                    assert cl.get("/v1/ptr/10.0.0.17").status_code == 200
            threads = [threading.Thread(target=burst) for _ in range(8)]
            for t in threads:
                t.start()
            try:
                deadline = time.monotonic() + 20
                while shared is None and time.monotonic() < deadline:
                    shared = next((q for q in queries("rdns-lookups") if "WITH ORDINALITY" in q), None)
            finally:
                stop.set()
                for t in threads:
                    t.join(30)
            assert shared, "no shared lookup statement seen on the lookup connection"

            cur.execute("SET plan_cache_mode = force_generic_plan")
            for name, text, args, rows in (("single", single, "(1, '10.1.0.9')", 1),
                                           ("shared", shared, "('{1,2}', '{10.1.0.9,10.0.0.17}')", 2)):
                cur.execute(f"PREPARE {name} AS {text}")
                cur.execute(f"EXPLAIN EXECUTE {name}{args}")
                _no_big_seq_scan(name, "\n".join(row for (row,) in cur.fetchall()))
                cur.execute(f"EXECUTE {name}{args}")
                assert len(cur.fetchall()) == rows
        conn.close()
    finally:
        api.stop()
        api.close()


def test_apply_functions_generic_plans_are_index_scans_at_scale(pg):
    """The apply functions as rdns-api's "rdns-changes" connection runs them (generic plans)
    in a database of a provider's size: auto_explain shows every statement they run, and
    none reads a big table sequentially. A set, a delete and a batch of three."""
    url = _scaled_db(pg, "rdns_plans_apply")
    conn = psycopg2.connect(url)
    conn.autocommit = True
    conn.notices = collections.deque(maxlen=10000)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM accounts WHERE name = 'c5'")
            acct = cur.fetchone()[0]  # holds 10.0.0.40/29
            for stmt in ("LOAD 'auto_explain'", "SET auto_explain.log_min_duration = 0",
                         "SET auto_explain.log_nested_statements = on", "SET auto_explain.log_level = 'notice'",
                         "SET client_min_messages = notice", "SET plan_cache_mode = force_generic_plan"):
                cur.execute(stmt)
            for name in ("x41.example.net", None):
                cur.execute("SELECT o_request FROM rdns_ptr_apply('10.0.0.41', %s, %s, %s, 'c', false, NULL, NULL,"
                            " NULL)", (name, acct, acct))
                assert cur.fetchone()[0] is not None
            cur.execute("SELECT count(*) FROM rdns_ptr_apply_batch(ARRAY['10.0.0.42', '10.0.0.43', '10.0.0.44']::inet[],"
                        " ARRAY['x42.example.net', 'x43.example.net', 'x44.example.net'], ARRAY[%s, %s, %s]::bigint[],"
                        " ARRAY[%s, %s, %s]::bigint[], ARRAY['c', 'c', 'c'], ARRAY[false, false, false],"
                        " ARRAY[NULL, NULL, NULL], ARRAY[NULL, NULL, NULL])", (acct,) * 6)
            assert cur.fetchone() == (3,)
        plans = "".join(conn.notices)
        assert plans.count("Query Text:") >= 10, plans  # the functions' own statements were explained
        assert "ptr_records" in plans and "allocations" in plans
        _no_big_seq_scan("apply functions", plans)
    finally:
        conn.close()


def test_apply_never_scans_the_change_queue(pg):
    """Whether a zone already has a pending change is an index probe of zone_changes, also
    in a long-lived session whose cached plans date from when the queue was empty and
    once rdns-zonegen has fallen far behind (migration 005). The apply functions used to
    read the whole queue for it: O(backlog) per change. A database of its own: the queue
    must start empty and analysed, as rdns-zonegen keeps it."""
    url = _migrated_db(pg, "rdns_queue")
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO accounts (name, role) VALUES ('q', 'customer') RETURNING id")
            acct = cur.fetchone()[0]
            cur.execute("INSERT INTO allocations (account_id, prefix) VALUES (%s, '192.0.2.0/29')", (acct,))
            cur.execute("INSERT INTO reverse_zones (name, prefix, nameservers, soa_mname, soa_rname) VALUES"
                        " ('2.0.192.in-addr.arpa', '192.0.2.0/24', '{ns1.example.net}', 'ns1.example.net',"
                        " 'hostmaster.example.net')")
            cur.execute("ANALYZE zone_changes")

            def scans():
                cur.execute("SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables WHERE relname = 'zone_changes'")
                return cur.fetchone()

            def apply_batch(ip, name):
                cur.execute("SELECT count(*) FROM rdns_ptr_apply_batch(ARRAY[%s]::inet[], ARRAY[%s], ARRAY[%s]::bigint[],"
                            " ARRAY[%s]::bigint[], ARRAY['c'], ARRAY[false], ARRAY[NULL], ARRAY[NULL])",
                            (ip, name, acct, acct))
                assert cur.fetchone() == (1,)

            def apply_one(ip, name):
                cur.execute("SELECT o_request FROM rdns_ptr_apply(%s, %s, %s, %s, 'c', false, NULL, NULL, NULL)",
                            (ip, name, acct, acct))
                assert cur.fetchone()[0] is not None

            cur.execute("BEGIN")  # (pg_stat_xact_*: this transaction's counts)
            # More calls than plpgsql makes before it settles on a cached generic plan.
            for i in range(8):
                apply_batch("192.0.2.1", f"q{i}.example.net")
                apply_one("192.0.2.2", f"q{i}.example.net")
            # A backlog of another zone, then one more change each.
            cur.execute("INSERT INTO zone_changes (zone_id) SELECT -1 FROM generate_series(1, 20000)")
            cur.execute("SELECT rdns_zone_pending(-1), rdns_zone_pending(-2)")
            assert cur.fetchone() == (True, False)
            apply_batch("192.0.2.3", "q.example.net")
            apply_one("192.0.2.4", "q.example.net")
            seq, idx = scans()
            assert seq == 0 and idx >= 18, (seq, idx)
            cur.execute("ROLLBACK")
    finally:
        conn.close()


# ---------------------------------------------------------------- rate limits


def test_rate_limit_writes(env, api_factory):
    limited = api_factory({"rate_limit_writes": 3})
    d = Client(limited.base, env.d_token)
    # The window is a calendar minute in PostgreSQL: do not straddle its end.
    now = sql(env.dburl, "SELECT extract(second FROM now())")[0][0]
    if now > 55:
        time.sleep(61 - float(now))
    ok = [d.put("/v1/ptr/192.0.2.33", json={"hostname": f"d33.{FWD}"}),
          d.put("/v1/ptr/192.0.2.33", json={"hostname": f"mail.{FWD}"}),  # 422 still counts as a write
          d.delete("/v1/ptr/192.0.2.33")]
    assert [r.status_code for r in ok] == [200, 422, 204]
    # Reads are not limited.
    assert d.get("/v1/ptr/192.0.2.33").status_code == 200
    r = d.put("/v1/ptr/192.0.2.33", json={"hostname": f"d33.{FWD}"})
    problem(r, 429)
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    problem(d.delete("/v1/ptr/192.0.2.33"), 429)
    assert d.get("/v1/ptr/192.0.2.33").json()["source"] == "default"
    # The counter lives in PostgreSQL: another instance counts the same writes.
    limited2 = api_factory({"rate_limit_writes": 3})
    problem(Client(limited2.base, env.d_token).delete("/v1/ptr/192.0.2.33"), 429)
    # Other accounts are not affected.
    assert Client(limited.base, env.a.s.headers["Authorization"].split()[1]).put(
        "/v1/ptr/192.0.2.15", json={"hostname": f"h15.{FWD}"}).status_code == 200


# ---------------------------------------------------------------- the database going away


def test_503_while_postgres_is_down_then_recovers(pg, env):
    assert env.a.get("/v1/ptr/192.0.2.10").status_code == 200
    pg.stop()
    try:
        r = wait_until(lambda: (lambda x: [x] if x.status_code == 503 else None)(env.a.get("/v1/ptr/192.0.2.10")),
                       timeout=20, what="503 while PostgreSQL is down")[0]
        problem(r, 503)
        assert r.headers["Retry-After"]
        for method, path, kw in (("PUT", "/v1/ptr/192.0.2.10", {"json": {"hostname": f"mx1.{FWD}"}}),
                                 ("DELETE", "/v1/ptr/192.0.2.10", {}), ("GET", "/v1/ptr", {}),
                                 ("GET", "/v1/requests", {}), ("POST", "/v1/requests/1/approve", {"json": {}})):
            c = env.staff if method == "POST" else env.a
            problem(c.req(method, path, **kw), 503)
    finally:
        pg.start()
    wait_until(lambda: env.a.get("/v1/ptr/192.0.2.10").status_code == 200, timeout=30, what="recovery")
    # Every worker recovers: many requests in a row succeed, writes included.
    for _ in range(12):
        assert env.a.get("/v1/ptr/192.0.2.10").status_code == 200
    r = env.a.put("/v1/ptr/192.0.2.10", json={"hostname": f"mx1.{FWD}"})
    assert r.status_code == 200, r.text


def test_quick_restart_costs_no_request(pg, env):
    """A restart between two requests (no traffic during it) is not seen by callers:
    every worker's first request on its dead connection still succeeds."""
    token = env.a.s.headers["Authorization"].split()[1]
    # New connections spread over the worker threads, so that every one has a connection.
    for _ in range(24):
        assert Client(env.a.base, token).get("/v1/ptr/192.0.2.10").status_code == 200
    pg.stop()
    pg.start()
    codes = [Client(env.a.base, token).get("/v1/ptr/192.0.2.10").status_code for _ in range(24)]
    assert codes == [200] * 24, codes


# ---------------------------------------------------------------- the API document


def _c_routes():
    routes = set()
    for f in sorted(glob.glob(os.path.join(harness.ROOT, "api", "routes_*.c"))):
        src = open(f).read()
        for table in re.findall(r"const api_route_t (api_routes_\w+)\[\] = \{(.*?)\n\};", src, re.S):
            for method, pattern in re.findall(r'\{\s*"([A-Z]+)",\s*"([^"]+)"', table[1]):
                routes.add((method, pattern))
    return routes


def test_every_route_is_in_the_openapi_document(anon):
    routes = _c_routes()
    assert ("PUT", "/v1/ptr/*") in routes and ("GET", "/healthz") in routes
    assert ("POST", "/v1/requests/*/approve") in routes
    r = anon.get("/v1/openapi.yaml")
    assert r.status_code == 200
    doc = yaml.safe_load(r.text)
    documented = set()
    for path, ops in doc["paths"].items():
        pattern = re.sub(r"\{[^}/]+\}", "*", path)
        for m in ops:
            if m in ("get", "put", "post", "delete", "patch"):
                documented.add((m.upper(), pattern))
    missing = routes - documented
    assert not missing, f"routes missing from api/openapi.yaml: {sorted(missing)}"
