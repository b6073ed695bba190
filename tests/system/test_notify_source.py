"""NOTIFY from the hidden primary's own address (notify_source), outcomes per target that
say what happened, and the hidden primary answering ordinary queries (query_allow).
rdns-zonegen listens on 127.0.0.2, not 127.0.0.1, so that a NOTIFY leaving from the
kernel's choice of address (127.0.0.1 on loopback) cannot pass for one from the primary."""
import os
import socket
import subprocess
import threading
import time

import dns.flags
import dns.message
import dns.opcode
import dns.query
import dns.rcode
import dns.rdatatype
import dns.reversename
import pytest

from harness import BIN, Knot, Zonegen, free_port, wait_until

PRIMARY = "127.0.0.2"
QUERIER = "127.0.0.4"  # in query_allow only
OUTSIDER = "127.0.0.3"  # in neither list
ZK = "0.113.203.in-addr.arpa"  # followed by knotd
ZR = "1.113.203.in-addr.arpa"  # notified to a refusing stand-in and a silent port
ZQ = "2.113.203.in-addr.arpa"  # queried


class Catcher:
    """A UDP stand-in for a secondary: records (zone, serial, source address) of every NOTIFY
    and answers with the given rcode, with the question (NOERROR) or as a bare header."""

    def __init__(self, rcode=dns.rcode.NOERROR, bare=False, answer=True):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.rcode, self.bare, self.answer = rcode, bare, answer
        self.seen = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.th = threading.Thread(target=self.run, daemon=True)
        self.th.start()

    def run(self):
        while not self.stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            m = dns.message.from_wire(data)
            if m.opcode() != dns.opcode.NOTIFY:
                continue
            serial = m.answer[0][0].serial if m.answer else None
            with self.lock:
                self.seen.append((m.question[0].name.to_text(omit_final_dot=True), serial, peer[0]))
            if not self.answer:
                continue
            if self.bare:
                # NSD's refusal: the 12-byte header, QR and opcode NOTIFY, QDCOUNT 0
                flags = 0x8000 | (dns.opcode.NOTIFY << 11) | self.rcode
                wire = data[:2] + flags.to_bytes(2, "big") + bytes(8)
            else:
                r = dns.message.make_response(m)
                r.set_rcode(self.rcode)
                wire = r.to_wire()
            self.sock.sendto(wire, peer)

    def of(self, zone):
        with self.lock:
            return [s for s in self.seen if s[0] == zone]

    def close(self):
        self.stop.set()
        self.th.join()
        self.sock.close()


def q(name, rdtype, port, source=None, tcp=False, **kw):
    m = dns.message.make_query(name, rdtype, **kw)
    if tcp:
        return dns.query.tcp(m, PRIMARY, port=port, timeout=2, source=source)
    return dns.query.udp(m, PRIMARY, port=port, timeout=2, source=source)


def status(staff, zone):
    return staff.get(f"/v1/zones/{zone}").json()["notify_status"] or {}


@pytest.fixture(scope="module")
def env(api, staff, dburl):
    port = free_port(PRIMARY)
    catcher = Catcher()
    secondary = Knot(notify_from=PRIMARY)
    zg = Zonegen(dburl, {"dns_listen": f"{PRIMARY}:{port}", "transfer_allow": "127.0.0.1",
                         "query_allow": QUERIER, "notify": f"127.0.0.1:{catcher.port}"})
    zg.port = port
    zg.start().wait_leader()
    acct = staff.post("/v1/accounts", json={"name": "ns-customer", "role": "customer"}).json()["id"]
    r = staff.post("/v1/allocations", json={"account_id": acct, "prefix": "203.113.0.0/22"})
    assert r.status_code == 201, r.text

    class Env:
        pass
    e = Env()
    e.zg, e.secondary, e.catcher, e.staff = zg, secondary, catcher, staff
    yield e
    try:
        if zg.proc:
            zg.stop()
    finally:
        zg.close()
        secondary.close()
        catcher.close()


def test_notify_leaves_from_dns_listen_and_knot_accepts_it(env):
    """A knotd whose notify ACL holds only 127.0.0.2 accepts our NOTIFY and transfers the
    change within 2 s (without it, only the SOA refresh, an hour later, would)."""
    k = env.secondary
    r = env.staff.post("/v1/zones", json={"prefix": "203.113.0.0/24",
                                          "nameservers": ["ns1.example.net"], "notify": [f"127.0.0.1:{k.port}"]})
    assert r.status_code == 201, r.text
    assert r.json()["name"] == ZK
    wait_until(lambda: os.path.exists(env.zg.zone_path(ZK)), what="first render")
    k.add_secondary(ZK, env.zg.port, primary_host=PRIMARY)
    wait_until(lambda: dns.query.udp(dns.message.make_query(ZK + ".", "SOA"), "127.0.0.1", port=k.port,
                                     timeout=1).answer, timeout=20, what="knotd loaded the zone")
    # the NOTIFY of the first render reached the catcher (global target) from 127.0.0.2
    wait_until(lambda: env.catcher.of(ZK), what="NOTIFY caught")
    assert {src for _, _, src in env.catcher.of(ZK)} == {PRIMARY}
    for i in range(3):
        ip, name = f"203.113.0.{10 + i}", f"host{i}.example.com."
        t0 = time.monotonic()
        r = env.staff.put(f"/v1/ptr/{ip}", json={"hostname": name, "force": True})
        assert r.status_code == 200, r.text

        def has():
            a = dns.query.udp(dns.message.make_query(dns.reversename.from_address(ip), "PTR"), "127.0.0.1",
                              port=k.port, timeout=1).answer
            return a and str(a[0][0].target) == name
        wait_until(has, timeout=2, interval=0.02, what=f"knotd serves {ip} within 2 s")
        assert time.monotonic() - t0 < 2
    st = wait_until(lambda: (status(env.staff, ZK).get("targets") or {}).get(f"127.0.0.1:{k.port}"),
                    what="notify_status of knotd")
    wait_until(lambda: status(env.staff, ZK)["targets"][f"127.0.0.1:{k.port}"]["state"] == "acked",
               what="knotd acknowledged")
    assert "acknowledged" in status(env.staff, ZK)["targets"][f"127.0.0.1:{k.port}"]["detail"], st
    assert {src for _, _, src in env.catcher.of(ZK)} == {PRIMARY}


def test_target_listed_globally_and_on_the_zone_is_notified_once(env):
    zone = "3.113.203.in-addr.arpa"
    r = env.staff.post("/v1/zones", json={"prefix": "203.113.3.0/24", "nameservers": ["ns1.example.net"],
                                          "notify": [f"127.0.0.1:{env.catcher.port}"]})
    assert r.status_code == 201, r.text
    wait_until(lambda: env.catcher.of(zone), what="NOTIFY caught")
    st = wait_until(lambda: status(env.staff, zone).get("targets"), what="notify_status")
    time.sleep(0.5)
    serials = [s for _, s, _ in env.catcher.of(zone)]
    assert len(serials) == len(set(serials)) == 1, serials
    assert list(st) == [f"127.0.0.1:{env.catcher.port}"]


def test_refusal_is_reported_and_each_target_as_it_finishes(env):
    """A stand-in answering REFUSED with QDCOUNT 0 (as NSD does) shows "answered REFUSED" at
    once, while another target that never answers is still pending."""
    refuser = Catcher(rcode=dns.rcode.REFUSED, bare=True)
    silent = Catcher(answer=False)
    try:
        r = env.staff.post("/v1/zones", json={"prefix": "203.113.1.0/24", "nameservers": ["ns1.example.net"],
                                              "notify": [f"127.0.0.1:{refuser.port}",
                                                         f"127.0.0.1:{silent.port}"]})
        assert r.status_code == 201, r.text
        assert r.json()["name"] == ZR
        t0 = time.monotonic()
        ref_id, sil_id = f"127.0.0.1:{refuser.port}", f"127.0.0.1:{silent.port}"
        st = wait_until(lambda: (lambda s: s if ref_id in s.get("targets", {}) else None)(status(env.staff, ZR)),
                        timeout=5, interval=0.1, what="the refusal recorded")
        assert time.monotonic() - t0 < 3  # not after the silent target's 8 tries (20 s)
        ref = st["targets"][ref_id]
        assert ref["state"] == "refused" and ref["detail"] == "answered REFUSED", ref
        assert ref["rcode"] == 5 and ref["tries"] == 1 and ref["serial"] == st["serial"]
        assert st["targets"][sil_id]["state"] == "pending", st
        assert len(refuser.of(ZR)) == 1  # REFUSED is not retried
        assert {src for _, _, src in refuser.of(ZR) + silent.of(ZR)} == {PRIMARY}
        # a newer serial: the refusal stays visible while the new NOTIFY is in flight
        r = env.staff.put("/v1/ptr/203.113.1.5", json={"hostname": "x.example.com", "force": True})
        assert r.status_code == 200, r.text

        def newer():
            s = status(env.staff, ZR)
            return s if s.get("serial", 0) > st["serial"] else None
        st2 = wait_until(newer, timeout=5, interval=0.1, what="the new serial's refusal")
        assert st2["targets"][ref_id]["serial"] == st2["serial"]
        # the silent target of the superseded serial shows its last known state
        assert st2["targets"][sil_id]["state"] == "pending"
    finally:
        refuser.close()
        silent.close()
    log = env.zg.log()
    lines = [ln for ln in log.splitlines() if f"zone {ZR} serial {st['serial']}: {ref_id}:" in ln]
    assert len(lines) == 1 and lines[0].endswith("refused: answered REFUSED"), lines


def test_queries_answered_authoritatively(env):
    r = env.staff.post("/v1/zones", json={"prefix": "203.113.2.0/24", "nameservers": ["ns1.example.net",
                                                                                    "ns2.example.net"]})
    assert r.status_code == 201, r.text
    assert r.json()["name"] == ZQ
    wait_until(lambda: os.path.exists(env.zg.zone_path(ZQ)), what="render")
    r = env.staff.put("/v1/ptr/203.113.2.10", json={"hostname": "x.example.com", "force": True})
    assert r.status_code == 200, r.text
    port = env.zg.port
    ptr_name = "10." + ZQ + "."
    wait_until(lambda: q(ptr_name, "PTR", port).answer, what="PTR served")
    ptrs = [ptr_name]
    for tcp in (False, True):
        a = q(ZQ + ".", "SOA", port, tcp=tcp)
        assert a.rcode() == dns.rcode.NOERROR and a.flags & dns.flags.AA and len(a.answer) == 1
        a = q(ZQ + ".", "NS", port, tcp=tcp)
        assert a.flags & dns.flags.AA and sorted(str(x.target) for x in a.answer[0]) == \
            ["ns1.example.net.", "ns2.example.net."]
        if ptrs:
            a = q(ptrs[0], "PTR", port, tcp=tcp)
            assert a.flags & dns.flags.AA and a.answer[0].rdtype == dns.rdatatype.PTR
            assert str(a.answer[0][0].target) == "x.example.com." and not a.authority
        a = q("77." + ZQ + ".", "PTR", port, tcp=tcp)
        assert a.rcode() == dns.rcode.NXDOMAIN and a.flags & dns.flags.AA and not a.answer
        assert a.authority[0].rdtype == dns.rdatatype.SOA
        a = q(ZQ + ".", "PTR", port, tcp=tcp)  # NODATA
        assert a.rcode() == dns.rcode.NOERROR and a.flags & dns.flags.AA and not a.answer
        assert a.authority[0].rdtype == dns.rdatatype.SOA
        a = q("1.1.168.192.in-addr.arpa.", "PTR", port, tcp=tcp)
        assert a.rcode() == dns.rcode.REFUSED and not a.flags & dns.flags.AA
        # query_allow may query, not transfer; others may not query
        a = q(ZQ + ".", "SOA", port, source=QUERIER, tcp=tcp)
        assert a.rcode() == dns.rcode.NOERROR and a.answer
        a = q(ZQ + ".", "SOA", port, source=OUTSIDER, tcp=tcp)
        assert a.rcode() == dns.rcode.REFUSED
    a = dns.query.tcp(dns.message.make_query(ZQ + ".", "AXFR"), PRIMARY, port=port, timeout=2, source=QUERIER)
    assert a.rcode() == dns.rcode.REFUSED
    assert f"refused AXFR of {ZQ}. from {QUERIER}:" in env.zg.log()


def test_check_config_validates_the_new_options(env):
    ok = subprocess.run([os.path.join(BIN, "rdns-zonegen"), "-c", env.zg.conf_path, "--check-config"],
                        capture_output=True, text=True, env=env.zg.env)
    assert ok.returncode == 0, ok.stderr
    assert f"notify_source = dns_listen" in ok.stdout and f"query_allow = {QUERIER}" in ok.stdout
    for k, v in (("notify_source", "192.0.2.1:53"), ("notify_source", "0.0.0.0"),
                 ("notify_source", "192.0.2.1 192.0.2.2"), ("query_allow", "10.0.0.1/8"),
                 ("query_allow", "nonsense")):
        r = subprocess.run([os.path.join(BIN, "rdns-zonegen"), "-c", env.zg.conf_path, "--check-config"],
                           capture_output=True, text=True, env=dict(env.zg.env, **{f"RDNS_{k.upper()}": v}))
        assert r.returncode == 2, (k, v, r.stdout, r.stderr)
        assert k in r.stderr
