"""IXFR from change history: a real knotd secondary of rdns-zonegen follows 1,000 random
changes made through the API (sets, resets, template edits, allocation deletions) by IXFR,
and holds exactly what a fresh AXFR from rdns-zonegen gives; the history survives a restart;
without it (a new machine) the transfer is full and still right."""
import ipaddress
import os
import random
import re
import shutil
import subprocess
import tempfile
import time

import dns.message
import dns.query
import dns.rdata
import dns.rdatatype
import dns.reversename
import pytest

from harness import Knot, Zonegen, free_port, wait_until

NAMED = "/usr/sbin/named"

Z4 = "2.0.192.in-addr.arpa"
Z6 = "0.0.3.0.8.b.d.0.1.0.0.2.ip6.arpa"
ALLOCS = ["192.0.2.0/26", "192.0.2.64/26", "192.0.2.128/25", "2001:db8:300::/56"]
TEMPLATES = ["pool-{dashed}.example.net", "{reverse}.dyn.example.net", "host{d}.c{c}.example.org",
             "ip-{hex}.example.com"]


def soa_serial(port, zone):
    q = dns.message.make_query(zone + ".", "SOA")
    r = dns.query.udp(q, "127.0.0.1", port=port, timeout=1.0)
    return r.answer[0][0].serial if r.answer else None


def axfr(port, zone):
    """Every record of the zone as (name, ttl, type, rdata) text; the SOA once."""
    out = set()
    for m in dns.query.xfr("127.0.0.1", zone + ".", port=port, timeout=10, lifetime=30, relativize=False):
        for rrset in m.answer:
            for rd in rrset:
                out.add((rrset.name.to_text().lower(), rrset.ttl, dns.rdatatype.to_text(rrset.rdtype),
                         rd.to_text().lower()))
    return out


def knot_records(knot, zone):
    """What knotd holds for zone (knotc zone-read; the secondary refuses transfers), as axfr() gives it."""
    r = knot._ctl("zone-read", zone + ".")
    assert r.returncode == 0, r.stdout
    out = set()
    for line in r.stdout.splitlines():
        _, owner, ttl, rtype, rdata = line.split(" ", 4)
        rd = dns.rdata.from_text("IN", rtype, rdata)
        out.add((owner.lower(), int(ttl), rtype, rd.to_text().lower()))
    return out


def ixfr_lines(zg, since=0):
    """zonegen's "IXFR from ..." log lines since offset since: (zone, from, to, how)."""
    pat = re.compile(r"dnssrv: zone (\S+): IXFR from \S+: serial (\d+) -> (\d+), (incremental|full)")
    return [(m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)) for m in pat.finditer(zg.log()[since:])]


class Bind:
    """BIND's named as a secondary of zonegen on 127.0.0.1:<port>, unprivileged files in a temp dir,
    no control channel; xfer-in logged at debug 3 (where "got incremental response" is)."""

    def __init__(self, primary_port, zones):
        self.dir = tempfile.mkdtemp(prefix="rdns-named-")
        os.chmod(self.dir, 0o777)
        self.port = free_port()
        self.log_path = os.path.join(self.dir, "named.log")
        zl = "".join(f'zone "{z}" {{ type secondary; primaries port {primary_port} {{ 127.0.0.1; }}; '
                     f'file "{self.dir}/{z}.db"; allow-notify {{ 127.0.0.1; }}; }};\n' for z in zones)
        conf = f"""options {{
    directory "{self.dir}";
    pid-file "{self.dir}/named.pid";
    session-keyfile "{self.dir}/session.key";
    managed-keys-directory "{self.dir}";
    listen-on port {self.port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    recursion no;
    dnssec-validation no;
    notify no;
    request-ixfr yes;
    allow-query {{ 127.0.0.1; }};
    allow-transfer {{ 127.0.0.1; }};
}};
controls {{ }};
logging {{
    channel f {{ file "{self.log_path}"; severity debug 3; print-time yes; print-category yes; }};
    category default {{ f; }};
    category xfer-in {{ f; }};
    category notify {{ f; }};
}};
{zl}"""
        self.conf_path = os.path.join(self.dir, "named.conf")
        with open(self.conf_path, "w") as f:
            f.write(conf)
        args = [NAMED, "-f", "-n", "1", "-c", self.conf_path]
        if os.geteuid() == 0:
            args += ["-u", "nobody"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.dir, "stderr"), "w"))
        wait_until(lambda: soa_serial(self.port, zones[0]) is not None, timeout=20, what="named loaded the zone")

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def records(self, zone):
        return axfr(self.port, zone)

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def env(api, staff, dburl):
    secondary = Knot()
    bind_port = free_port() if os.path.exists(NAMED) else None
    zg = Zonegen(dburl, {"ixfr_history": 50})
    zg.start().wait_leader()
    acct = staff.post("/v1/accounts", json={"name": "ixfr-customer", "role": "customer"}).json()["id"]
    allocs = {}
    for p in ALLOCS:
        r = staff.post("/v1/allocations", json={"account_id": acct, "prefix": p})
        assert r.status_code == 201, r.text
        allocs[p] = r.json()["id"]
    notify = [f"127.0.0.1:{secondary.port}"]
    r = staff.post("/v1/zones", json={"prefix": "192.0.2.0/24", "nameservers": ["ns1.example.net", "ns2.example.net"],
                                      "default_ptr": TEMPLATES[0], "notify": notify})
    assert r.status_code == 201, r.text
    r = staff.post("/v1/zones", json={"prefix": "2001:db8:300::/48", "nameservers": ["ns1.example.net"],
                                      "notify": notify})
    assert r.status_code == 201, r.text
    wait_until(lambda: os.path.exists(zg.zone_path(Z4)) and os.path.exists(zg.zone_path(Z6)), what="first render")
    secondary.add_secondary(Z4, zg.port)
    secondary.add_secondary(Z6, zg.port)

    class Env:
        pass
    e = Env()
    e.zg, e.secondary, e.staff, e.dburl, e.acct, e.allocs = zg, secondary, staff, dburl, acct, allocs
    e.bind = None
    if bind_port is not None:
        # BIND too (strict about IXFR): NOTIFY goes to both secondaries.
        e.bind = Bind(zg.port, [Z4, Z6])
        for z in (Z4, Z6):
            r = staff.patch(f"/v1/zones/{z}", json={"notify": notify + [f"127.0.0.1:{e.bind.port}"]})
            assert r.status_code == 200, r.text
    wait_in_sync(e)
    yield e
    try:
        if e.zg.proc:
            e.zg.stop()
    finally:
        e.zg.close()
        secondary.close()
        if e.bind:
            e.bind.close()


MARK4, MARK6 = "192.0.2.255", "2001:db8:300:ff::ffff"  # no random change touches them
_marks = iter(range(1, 10**6))


def ptr_of(port, ip):
    q = dns.message.make_query(dns.reversename.from_address(ip), "PTR")
    r = dns.query.udp(q, "127.0.0.1", port=port, timeout=1.0)
    return str(r.answer[0][0].target) if r.answer else None


def wait_in_sync(e, timeout=20):
    """Every change made so far is rendered (a marker written last is served), and the
    secondary is at our serial."""
    n = next(_marks)
    for ip in (MARK4, MARK6):
        r = e.staff.put(f"/v1/ptr/{ip}", json={"hostname": f"mark{n}.example.com", "force": True})
        assert r.status_code == 200, r.text
    for ip in (MARK4, MARK6):
        wait_until(lambda ip=ip: ptr_of(e.zg.port, ip) == f"mark{n}.example.com.", timeout=timeout,
                   what=f"mark{n} rendered")
    ports = [e.secondary.port] + ([e.bind.port] if e.bind else [])
    for z in (Z4, Z6):
        for port in ports:
            wait_until(lambda z=z, port=port: soa_serial(port, z) is not None
                       and soa_serial(port, z) == soa_serial(e.zg.port, z),
                       timeout=timeout, what=f"secondary on {port} at our serial of {z}")


def assert_same_as_fresh_axfr(e):
    for z in (Z4, Z6):
        ours, theirs = axfr(e.zg.port, z), knot_records(e.secondary, z)
        assert ours == theirs, (z, sorted(ours - theirs)[:10], sorted(theirs - ours)[:10])
        if e.bind:
            theirs = e.bind.records(z)
            assert ours == theirs, ("named", z, sorted(ours - theirs)[:10], sorted(theirs - ours)[:10])


def random_change(e, rnd):
    """One change through the API; returns what it was."""
    kind = rnd.random()
    if kind < 0.02:
        tmpl = rnd.choice(TEMPLATES)
        r = e.staff.patch(f"/v1/zones/{Z4}", json={"default_ptr": tmpl})
        assert r.status_code == 200, r.text
        return "template"
    if kind < 0.03:
        p = rnd.choice(ALLOCS[:3])
        assert e.staff.delete(f"/v1/allocations/{e.allocs[p]}").status_code == 204
        r = e.staff.post("/v1/allocations", json={"account_id": e.acct, "prefix": p})
        assert r.status_code == 201, r.text
        e.allocs[p] = r.json()["id"]
        return "allocation"
    if rnd.random() < 0.25:
        net = ipaddress.ip_network(ALLOCS[3])
        ip = str(net.network_address + (rnd.randrange(256) << 64) + rnd.randrange(1, 64))
    else:
        ip = f"192.0.2.{rnd.randrange(0, 255)}"
    if kind < 0.30:
        r = e.staff.delete(f"/v1/ptr/{ip}")
        assert r.status_code in (200, 204, 404), r.text
        return "reset"
    r = e.staff.put(f"/v1/ptr/{ip}", json={"hostname": f"h{rnd.randrange(100000)}.example.com", "force": True})
    assert r.status_code == 200, r.text
    return "set"


def test_secondary_follows_1000_changes_by_ixfr(env):
    rnd = random.Random(1995)
    mark = len(env.zg.log())
    kinds = {}
    t0 = time.monotonic()
    for _ in range(20):
        for _ in range(50):
            k = random_change(env, rnd)
            kinds[k] = kinds.get(k, 0) + 1
        wait_in_sync(env)
    took = time.monotonic() - t0
    assert kinds.get("template", 0) >= 5 and kinds.get("allocation", 0) >= 3 and kinds["reset"] > 100, kinds
    assert_same_as_fresh_axfr(env)
    lines = ixfr_lines(env.zg, mark)
    incremental = [x for x in lines if x[3] == "incremental"]
    # Knot asks IXFR for every change once it holds the zone: all of them incremental.
    assert len(incremental) >= 20, lines
    assert not [x for x in lines if x[3] == "full"], lines
    if env.bind:
        # named asked for IXFR and applied every answer as one (it falls back to AXFR, logging
        # why, when a difference does not apply: a deletion of a record it does not hold...).
        blog = env.bind.log()
        assert blog.count("got incremental response") >= 20, blog[-3000:]
        assert "not exact" not in blog and "falling back" not in blog.lower(), blog[-3000:]
    assert took < 60, took


def test_history_survives_a_restart(env):
    env.zg.stop()
    env.zg.start().wait_leader()
    mark = len(env.zg.log())
    r = env.staff.put("/v1/ptr/192.0.2.77", json={"hostname": "after-restart.example.com", "force": True})
    assert r.status_code == 200, r.text
    wait_in_sync(env)
    assert_same_as_fresh_axfr(env)
    lines = ixfr_lines(env.zg, mark)
    assert [x for x in lines if x[0].startswith(Z4) and x[3] == "incremental"], env.zg.log()[mark:]


def test_journal_lost_means_full_transfer_still_right(env):
    # Only the journal gone: the next render diffs against the zone file in place, so the
    # secondary one version behind still gets an incremental answer.
    env.zg.stop()
    os.unlink(env.zg.zone_path(Z4)[:-5] + ".ixfr")
    mark = len(env.zg.log())
    env.zg.start().wait_leader()
    r = env.staff.put("/v1/ptr/192.0.2.78", json={"hostname": "no-journal.example.com", "force": True})
    assert r.status_code == 200, r.text
    wait_in_sync(env)
    assert_same_as_fresh_axfr(env)
    assert [x for x in ixfr_lines(env.zg, mark) if x[3] == "incremental"]
    # A new machine: neither journal nor zone file, and a change made meanwhile. Nothing to
    # diff against: the secondary's IXFR gets the whole zone, and holds the right one.
    env.zg.stop()
    for suffix in (".ixfr", ".zone"):
        os.unlink(env.zg.zone_path(Z4)[:-5] + suffix)
    r = env.staff.put("/v1/ptr/192.0.2.79", json={"hostname": "new-leader.example.com", "force": True})
    assert r.status_code == 200, r.text
    mark = len(env.zg.log())
    env.zg.start().wait_leader()
    wait_in_sync(env)
    assert_same_as_fresh_axfr(env)
    lines = [x for x in ixfr_lines(env.zg, mark) if x[0].startswith(Z4)]
    # the first transfer after the start is full (the marker change after it is not)
    assert lines and lines[0][3] == "full", env.zg.log()[mark:]
    # and the next change is incremental again
    mark = len(env.zg.log())
    r = env.staff.put("/v1/ptr/192.0.2.80", json={"hostname": "again.example.com", "force": True})
    assert r.status_code == 200, r.text
    wait_in_sync(env)
    assert_same_as_fresh_axfr(env)
    assert [x for x in ixfr_lines(env.zg, mark) if x[0].startswith(Z4) and x[3] == "incremental"]
