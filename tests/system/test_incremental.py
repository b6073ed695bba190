"""#19: a large zone's PTR change is served from the difference (no render of the whole zone
on the change path), and its file is written afterwards, equal to a full render of the same
serial; edits of anything else still render the whole zone; kill -9 between the publish and
the file, and a change of leader, leave a state where what is served is what PostgreSQL has."""
import os
import re
import shutil
import signal
import subprocess
import time

import dns.message
import dns.query
import dns.rdatatype
import dns.reversename
import psycopg2
import pytest

from harness import Zonegen, wait_until
from secondaries import axfr

PREFIX = "172.20.0.0/16"
ZONE = "20.172.in-addr.arpa"
TEMPLATE = "pool-{dashed}.example.net"
RECORDS = 65536  # every address of the /16 has a PTR: its own or the template's
OPTS = {"incremental_min_records": 60000, "incremental_write_ms": 500}


def ptr_of(port, ip):
    q = dns.message.make_query(dns.reversename.from_address(ip), "PTR")
    r = dns.query.udp(q, "127.0.0.1", port=port, timeout=1.0)
    return str(r.answer[0][0].target) if r.answer else None


def soa_serial(port):
    q = dns.message.make_query(ZONE + ".", "SOA")
    r = dns.query.udp(q, "127.0.0.1", port=port, timeout=1.0)
    return r.answer[0][0].serial if r.answer else None


def file_serial(path):
    """The serial of the zone file's SOA line (its first record)."""
    try:
        with open(path) as f:
            for line in f:
                if not line.startswith(";"):
                    return int(line.split()[6])
    except OSError:
        return None
    return None


def db_zone(dburl):
    with psycopg2.connect(dburl) as c, c.cursor() as cur:
        cur.execute("SELECT serial, content_hash IS NOT NULL FROM reverse_zones WHERE name = %s", (ZONE,))
        return cur.fetchone()


def put(staff, ip, host):
    r = staff.put(f"/v1/ptr/{ip}", json={"hostname": host, "force": True})
    assert r.status_code == 200, r.text


def serve_time(zg, ip, want, timeout=10):
    """Seconds from now until zg serves want as ip's PTR."""
    t0 = time.monotonic()
    wait_until(lambda: ptr_of(zg.port, ip) == want, timeout=timeout, interval=0.005, what=f"{ip} -> {want}")
    return time.monotonic() - t0


def file_records(path):
    """The records of a zone file of ours, as AXFR's set (secondaries.axfr) gives them."""
    out = set()
    with open(path) as f:
        for line in f:
            if line.startswith(";") or not line.strip():
                continue
            owner, ttl, _cls, rtype, *rdata = line.split()
            out.add((owner.lower(), int(ttl), rtype, " ".join(rdata).lower()))
    return out


@pytest.fixture(scope="module")
def env(api, staff, dburl):
    zg = Zonegen(dburl, OPTS)
    zg.start().wait_leader()

    class Env:
        pass
    e = Env()
    e.zg, e.staff, e.dburl = zg, staff, dburl
    acct = staff.post("/v1/accounts", json={"name": "incr-customer", "role": "customer"}).json()["id"]
    r = staff.post("/v1/allocations", json={"account_id": acct, "prefix": PREFIX})
    assert r.status_code == 201, r.text
    e.alloc = r.json()["id"]
    r = staff.post("/v1/zones", json={"prefix": PREFIX, "nameservers": ["ns1.example.net"],
                                      "default_ptr": TEMPLATE})
    assert r.status_code == 201, r.text
    wait_until(lambda: soa_serial(zg.port) is not None, timeout=30, what="first render")
    try:
        yield e
    finally:
        try:
            if e.zg.proc:
                e.zg.stop()
        finally:
            e.zg.close()
            staff.delete(f"/v1/zones/{ZONE}?force=true")
            staff.delete(f"/v1/allocations/{e.alloc}")


def test_lone_change_is_served_from_the_difference_then_written(env):
    zg = env.zg
    path = zg.zone_path(ZONE)
    wait_until(lambda: file_serial(path) == soa_serial(zg.port), what="file in place")
    before = soa_serial(zg.port)
    mark = len(zg.log())
    put(env.staff, "172.20.1.2", "inc1.example.com")
    took = serve_time(zg, "172.20.1.2", "inc1.example.com.")
    serial = soa_serial(zg.port)
    log = zg.log()[mark:]
    assert serial != before and f"serial {serial} from the difference" in log, log
    assert f"serial {serial}, {RECORDS} records, written in" not in log, log  # no full render
    assert took < 2.0, took
    # Reset to the default: the template's name, from the same code as a render.
    mark = len(zg.log())
    assert env.staff.delete("/v1/ptr/172.20.1.3").status_code in (200, 204, 404)
    put(env.staff, "172.20.1.3", "inc2.example.com")
    serve_time(zg, "172.20.1.3", "inc2.example.com.")
    assert env.staff.delete("/v1/ptr/172.20.1.3").status_code in (200, 204)
    serve_time(zg, "172.20.1.3", "pool-172-20-1-3.example.net.")
    serial = soa_serial(zg.port)
    assert "from the difference" in zg.log()[mark:]
    # An AXFR of the version served (overlay) has the changes, and nothing twice.
    served = axfr("127.0.0.1", zg.port, ZONE)
    assert ("2.1.20.172.in-addr.arpa.", 3600, "PTR", "inc1.example.com.") in served
    assert len([r for r in served if r[2] == "PTR"]) == RECORDS
    # The file follows, with the serial served, and its hash under that serial.
    wait_until(lambda: file_serial(path) == serial, timeout=15, what="file written")
    assert "written to its file" in zg.log()[mark:]
    wait_until(lambda: db_zone(env.dburl) == (serial, True), timeout=5, what="content hash stored")
    assert file_records(path) == served
    for cmd in (["named-checkzone", "-i", "full", ZONE, path], ["kzonecheck", "-o", ZONE, path]):
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert r.returncode == 0, r.stdout
    # A full render of the same content writes the same bytes under the same serial (the
    # stored hash is the one a render computes).
    with open(path, "rb") as f:
        written = f.read()
    zg.stop()
    try:
        zg.run("--once", "--full")
        with open(path, "rb") as f:
            assert f.read() == written
        assert db_zone(env.dburl) == (serial, True)
    finally:
        zg.start().wait_leader()


def test_template_edit_renders_the_whole_zone(env):
    zg = env.zg
    mark = len(zg.log())
    r = env.staff.patch(f"/v1/zones/{ZONE}", json={"default_ptr": "{reverse}.dyn.example.net"})
    assert r.status_code == 200, r.text
    serve_time(zg, "172.20.9.9", "9-9-20-172.dyn.example.net.", timeout=30)
    log = zg.log()[mark:]
    assert re.search(rf"zone {re.escape(ZONE)}: serial \d+, {RECORDS} records, written in", log), log
    assert "from the difference" not in log, log
    # and the next PTR change takes the difference's path again
    mark = len(zg.log())
    put(env.staff, "172.20.9.10", "after-template.example.com")
    serve_time(zg, "172.20.9.10", "after-template.example.com.")
    assert "from the difference" in zg.log()[mark:]


def slow_writer(env):
    """env's zonegen restarted so that the files of versions from the difference wait 60 s."""
    env.zg.stop()
    zg = Zonegen(env.dburl, dict(OPTS, incremental_write_ms=60000), zone_dir=env.zg.zone_dir)
    zg.start().wait_leader()
    wait_until(lambda: soa_serial(zg.port) is not None, timeout=30, what="slow writer serves")
    return zg


def test_kill9_between_publish_and_file(env):
    zg = slow_writer(env)
    path = zg.zone_path(ZONE)
    try:
        wait_until(lambda: file_serial(path) == soa_serial(zg.port), what="file in place")
        on_disk = file_serial(path)
        mark = len(zg.log())
        put(env.staff, "172.20.2.1", "killed.example.com")
        serve_time(zg, "172.20.2.1", "killed.example.com.")
        served = soa_serial(zg.port)
        assert "from the difference" in zg.log()[mark:]
        # served, committed with no content hash yet, the file still the version before
        assert db_zone(env.dburl) == (served, False)
        assert file_serial(path) == on_disk != served
        zg.proc.send_signal(signal.SIGKILL)
        zg.proc.wait()
        zg.proc = None
    finally:
        zg.close()
    env.zg.start().wait_leader()
    serve_time(env.zg, "172.20.2.1", "killed.example.com.", timeout=30)
    now = soa_serial(env.zg.port)
    # a new serial: a secondary that took the unwritten version must not believe it current
    assert ((now - served) % 2**32) not in (0,) and ((now - served) % 2**32) < 2**31, (served, now)
    wait_until(lambda: file_serial(path) == now, timeout=15, what="file after restart")
    assert db_zone(env.dburl) == (now, True)
    assert axfr("127.0.0.1", env.zg.port, ZONE) == file_records(path)
    # and no history from the version that was never written: an IXFR from it is full
    msgs = list(dns.query.xfr("127.0.0.1", ZONE, rdtype=dns.rdatatype.IXFR, serial=served, port=env.zg.port,
                              relativize=False))
    rrsets = [rs for m in msgs for rs in m.answer]
    assert len(rrsets) > 2 and rrsets[1].rdtype != dns.rdatatype.SOA, rrsets[:3]


def test_leader_change_after_a_change_from_the_difference(env):
    zg = slow_writer(env)
    standby = Zonegen(env.dburl, OPTS)  # another machine: a zone folder of its own
    try:
        standby.start()
        put(env.staff, "172.20.3.1", "before-failover.example.com")
        serve_time(zg, "172.20.3.1", "before-failover.example.com.")
        served = soa_serial(zg.port)
        zg.proc.send_signal(signal.SIGKILL)
        zg.proc.wait()
        zg.proc = None
        standby.wait_leader(timeout=30)
        serve_time(standby, "172.20.3.1", "before-failover.example.com.", timeout=30)
        now = soa_serial(standby.port)
        assert 0 < ((now - served) % 2**32) < 2**31, (served, now)
        path = standby.zone_path(ZONE)
        wait_until(lambda: file_serial(path) == now, timeout=15, what="the new leader's file")
        assert axfr("127.0.0.1", standby.port, ZONE) == file_records(path)
        # the new leader serves the next change from the difference too
        mark = len(standby.log())
        put(env.staff, "172.20.3.2", "after-failover.example.com")
        serve_time(standby, "172.20.3.2", "after-failover.example.com.")
        assert "from the difference" in standby.log()[mark:]
        standby.stop()
    finally:
        standby.close()
        zg.close()
        env.zg.start().wait_leader()


def ixfr_applied(base, port, serial):
    """base (an AXFR's set at serial) with the IXFR from serial applied (RFC 1995: new SOA,
    then per step old SOA, deletions, new SOA, additions; then the new SOA)."""
    msgs = list(dns.query.xfr("127.0.0.1", ZONE + ".", rdtype=dns.rdatatype.IXFR, serial=serial, port=port,
                              relativize=False))
    rrs = [(rs.name.to_text().lower(), rs.ttl, dns.rdatatype.to_text(rs.rdtype), rd.to_text().lower())
           for m in msgs for rs in m.answer for rd in rs]
    assert rrs[0][2] == "SOA" and rrs[1][2] == "SOA", rrs[:3]  # incremental, not a full zone
    out, adding = set(base), True
    for rr in rrs[1:-1]:
        if rr[2] == "SOA":  # the old SOA opens the deletions, the new one the additions
            adding = not adding
        (out.add if adding else out.discard)(rr)
    return out


def test_batch_is_served_from_the_difference_and_its_ixfr_is_exact(env, knot):
    """POST /v1/ptr:batch (rdns_ptr_bulk_apply) fills each zone change's address and old
    name like a single PUT (migration 010), so a batch in a large zone is served from the
    difference, not by a render of the whole zone; its IXFR applied to the AXFR before it
    equals a fresh AXFR."""
    zg = env.zg
    fwd = "incr-batch.example.com"
    knot.set_zone(fwd, f"$ORIGIN {fwd}.\n$TTL 60\n@ SOA ns1 hostmaster 1 3600 900 86400 60\n@ NS ns1\n"
                       "ns1 A 127.0.0.1\nb1 A 172.20.5.1\nb2 A 172.20.5.2\n")
    wait_until(lambda: dns.query.udp(dns.message.make_query(f"b2.{fwd}.", "A"), "127.0.0.1", port=knot.port,
                                     timeout=1).answer, timeout=10, what="forward zone served")
    put(env.staff, "172.20.5.3", "to-reset.example.com")
    serve_time(zg, "172.20.5.3", "to-reset.example.com.")
    wait_until(lambda: file_serial(zg.zone_path(ZONE)) == soa_serial(zg.port), timeout=15, what="file in place")
    before = soa_serial(zg.port)
    base = axfr("127.0.0.1", zg.port, ZONE)
    mark = len(zg.log())
    items = [{"ip": "172.20.5.1", "hostname": f"b1.{fwd}"}, {"ip": "172.20.5.2", "hostname": f"b2.{fwd}"},
             {"ip": "172.20.5.3", "reset": True}]
    r = env.staff.post("/v1/ptr:batch", json={"items": items})
    assert r.status_code == 200 and r.json()["applied"] == 3, r.text
    serve_time(zg, "172.20.5.2", f"b2.{fwd}.")
    default = env.staff.get("/v1/ptr/172.20.5.3").json()  # the zone's template (an earlier test edits it)
    assert default["source"] == "default", default
    serve_time(zg, "172.20.5.3", default["hostname"] + ".")
    serial = soa_serial(zg.port)
    log = zg.log()[mark:]
    assert f"serial {serial} from the difference" in log, log
    assert f"{RECORDS} records, written in" not in log, log  # no full render on the change path
    fresh = axfr("127.0.0.1", zg.port, ZONE)
    assert ("1.5.20.172.in-addr.arpa.", 3600, "PTR", f"b1.{fwd}.") in fresh
    assert ixfr_applied(base, zg.port, before) == fresh
