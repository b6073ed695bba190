"""rdns-zonegen under faults (issue #12): PostgreSQL restarts and stops under write load,
rdns-zonegen restarts, a leader whose session is terminated again and again while a
standby waits, a session lost in the middle of a large render, a read-only zone_dir and a
failing rename. In each, every acknowledged change must reach the zone file and the
hidden primary's AXFR on its own, without another change to wake it up.

The module runs a PostgreSQL cluster of its own, since it restarts and stops it."""
import os
import re
import shutil
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
import dns.zone
import psycopg2
import pytest

from conftest import Client
from harness import Api, PgCluster, Zonegen, free_port, wait_until

ZA = "113.0.203.in-addr.arpa"   # 203.0.113.0/24
ZB = "1.18.198.in-addr.arpa"    # 198.18.1.0/24
ZL = "0.0.3.0.8.b.d.0.1.0.0.2.ip6.arpa"  # 2001:db8:300::/48, the large zone
with open(os.path.join(os.path.dirname(__file__), "..", "..", "db", "locks.h")) as _f:
    LEADER_LOCK = int(re.search(r"#define DB_LOCK_ZONEGEN_LEADER\s+(\d+)", _f.read()).group(1))
CONVERGE_S = 2.0                 # "every acknowledged change is published within 2 s"


# ---- fixtures -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fpg():
    cluster = PgCluster()
    yield cluster
    cluster.close()


@pytest.fixture(scope="module")
def fenv(fpg):
    url = fpg.create_db("rdns_faults")
    # The API retries a lost connection on its next request; a short verify setup, no
    # resolvers needed: the load uses staff "force" writes.
    api = Api(url, {"api_threads": 8, "rate_limit_writes": 0, "resolvers": "127.0.0.1:9"})
    api.run("migrate")
    api.start()
    staff = Client(api.base, api.add_staff("faults-staff"))
    acct = staff.post("/v1/accounts", json={"name": "faults-customer", "role": "customer"}).json()["id"]
    for p in ("203.0.113.0/24", "198.18.1.0/24", "2001:db8:300::/48"):
        r = staff.post("/v1/allocations", json={"account_id": acct, "prefix": p})
        assert r.status_code == 201, r.text
    for p in ("203.0.113.0/24", "198.18.1.0/24", "2001:db8:300::/48"):
        r = staff.post("/v1/zones", json={"prefix": p, "nameservers": ["ns1.example.net"]})
        assert r.status_code == 201, r.text

    class Env:
        pass
    e = Env()
    e.pg, e.url, e.api, e.staff = fpg, url, api, staff
    e.zgs = []

    def zonegen(extra=None, zone_dir=None):
        z = Zonegen(url, dict({"debounce_ms": 50, "reconcile_interval": 3600}, **(extra or {})),
                    zone_dir=zone_dir)
        e.zgs.append(z)
        return z
    e.zonegen = zonegen
    yield e
    errors = []
    for z in e.zgs:
        try:
            if z.proc:
                z.stop()
        except AssertionError as err:
            errors.append(str(err))
        z.close()
    try:
        api.stop()
    except AssertionError as err:
        errors.append(str(err))
    api.close()
    assert not errors, "\n".join(errors)


@pytest.fixture
def zg(fenv):
    """A fresh leader for one test, stopped (and checked for sanitizer reports) after it."""
    z = fenv.zonegen()
    z.start().wait_leader()
    wait_until(lambda: all(os.path.exists(z.zone_path(n)) for n in (ZA, ZB, ZL)), what="first render")
    yield z
    if z.proc:
        z.stop()


# ---- what the database holds and what is published -------------------------------------

def db_rows(url, sql, args=()):
    with psycopg2.connect(url) as c, c.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def db_zone(url, zone):
    """(serial, {owner name: target}) of a zone as PostgreSQL has it (no default template)."""
    serial = db_rows(url, "SELECT serial FROM reverse_zones WHERE name = %s", (zone,))[0][0]
    rows = db_rows(url, "SELECT host(p.ip), p.hostname FROM ptr_records p JOIN reverse_zones z"
                        " ON z.id = p.zone_id WHERE z.name = %s", (zone,))
    ptrs = {}
    for ip, host in rows:
        ptrs[str(dns.reversename.from_address(ip))] = host.rstrip(".") + "."
    return serial, ptrs


def _zone_view(z):
    soa = z.find_rdataset(z.origin, "SOA")[0].serial
    ptrs = {str(name): str(rds[0].target) for name, rds in z.iterate_rdatasets("PTR")}
    return soa, ptrs


def file_zone(zg, zone):
    return _zone_view(dns.zone.from_file(zg.zone_path(zone), origin=zone + ".", relativize=False))


def axfr_zone(zg, zone):
    return _zone_view(dns.zone.from_xfr(dns.query.xfr("127.0.0.1", zone, port=zg.port, lifetime=5,
                                                      relativize=False), relativize=False))


def soa_of(port, zone, timeout=0.5):
    """The serial a hidden primary serves for zone, or None (REFUSED, no answer)."""
    q = dns.message.make_query(zone + ".", "SOA")
    try:
        r = dns.query.udp(q, "127.0.0.1", port=port, timeout=timeout)
    except dns.exception.Timeout:
        return None
    if r.rcode() != dns.rcode.NOERROR or not r.answer:
        return None
    return r.answer[0][0].serial


def file_summary(zg, zone):
    """(SOA serial, PTR count) of a zone file, read line by line (a large zone's file is
    too slow to parse with dnspython in a polling loop)."""
    serial, n = None, 0
    with open(zg.zone_path(zone)) as f:
        for line in f:
            fields = line.split()
            if len(fields) > 6 and fields[3] == "SOA" and serial is None:
                serial = int(fields[6])
            elif len(fields) > 4 and fields[3] == "PTR":
                n += 1
    return serial, n


def published(zg, url, zones=(ZA, ZB)):
    """Whether the file and the AXFR of every zone equal what PostgreSQL holds (for a
    large zone: the serial of the file and the served SOA, and the file's record count;
    the serial changes whenever the content does)."""
    for zone in zones:
        if zone == ZL:
            serial = db_rows(url, "SELECT serial FROM reverse_zones WHERE name = %s", (zone,))[0][0]
            count = db_rows(url, "SELECT count(*) FROM ptr_records p JOIN reverse_zones z ON z.id = p.zone_id"
                                 " WHERE z.name = %s", (zone,))[0][0]
            if file_summary(zg, zone) != (serial, count) or soa_of(zg.port, zone) != serial:
                return False
            continue
        want = db_zone(url, zone)
        if file_zone(zg, zone) != want or axfr_zone(zg, zone) != want:
            return False
    return True


def assert_converges(zg, url, zones=(ZA, ZB), timeout=CONVERGE_S):
    t0 = time.monotonic()
    try:
        wait_until(lambda: published(zg, url, zones), timeout=timeout, interval=0.05,
                   what="files and AXFR equal to PostgreSQL")
    except TimeoutError:
        detail = []
        for zone in zones:
            if zone == ZL:
                detail.append(f"{zone}: db serial {db_zone(url, zone)[0]}, file (serial, records) "
                              f"{file_summary(zg, zone)}, served SOA {soa_of(zg.port, zone)}")
                continue
            serial, ptrs = db_zone(url, zone)
            try:
                fs, fp = file_zone(zg, zone)
            except Exception as e:  # noqa: BLE001 - reported below
                fs, fp = f"unreadable: {e}", {}
            try:
                xs, xp = axfr_zone(zg, zone)
            except Exception as e:  # noqa: BLE001
                xs, xp = f"no AXFR: {e}", {}
            missing = sum(1 for k, v in ptrs.items() if fp.get(k) != v)
            detail.append(f"{zone}: db serial {serial} ({len(ptrs)} records), file {fs} "
                          f"({missing} records differ), axfr {xs} ({len(xp)} records)")
        raise AssertionError("not published within %.1f s:\n%s\n--- zonegen log ---\n%s"
                             % (timeout, "\n".join(detail), zg.log()[-5000:]))
    return time.monotonic() - t0


# ---- write load -------------------------------------------------------------------------

class Load:
    """Writers that set PTRs through rdns-api (staff, forced: no forward check) on
    addresses of their own, remembering per address the last acknowledged name and the
    names sent after it whose outcome is unknown (connection lost, 503)."""

    def __init__(self, env, writers=4, per_writer=24):
        self.env = env
        self.stop_ev = threading.Event()
        self.acked = {}
        self.maybe = {}
        self.counts = {"ok": 0, "err": 0}
        self.lock = threading.Lock()
        self.threads = []
        for w in range(writers):
            ips = [f"203.0.113.{w * per_writer + k + 1}" if k % 2 == 0 else f"198.18.1.{w * per_writer + k + 1}"
                   for k in range(per_writer)]
            self.threads.append(threading.Thread(target=self._run, args=(w, ips), daemon=True))

    def _run(self, w, ips):
        c = Client(self.env.api.base, self.env.staff.s.headers["Authorization"].split()[1])
        seq = 0
        deadline = time.monotonic() + 120  # bounded whatever happens
        while not self.stop_ev.is_set() and time.monotonic() < deadline:
            ip = ips[seq % len(ips)]
            host = f"w{w}-n{seq}.load.example.net"
            seq += 1
            try:
                r = c.put(f"/v1/ptr/{ip}", json={"hostname": host, "force": True}, timeout=5)
                ok = r.status_code == 200
            except Exception:  # noqa: BLE001 - the outcome is unknown
                ok = False
            with self.lock:
                if ok:
                    self.acked[ip] = host
                    self.maybe[ip] = []
                    self.counts["ok"] += 1
                else:
                    self.maybe.setdefault(ip, []).append(host)
                    self.counts["err"] += 1
                    time.sleep(0.01)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(15)

    def __exit__(self, *exc):
        self.stop()

    def check_db(self, url):
        """No acknowledged write is lost: PostgreSQL holds the last acknowledged name or
        one sent after it."""
        rows = dict(db_rows(url, "SELECT host(ip), hostname FROM ptr_records"))
        for ip, host in self.acked.items():
            allowed = {host} | set(self.maybe.get(ip, []))
            assert rows.get(ip) in allowed, f"{ip}: database has {rows.get(ip)}, acknowledged {host}"


def run_under_load(env, zg, fault, settle=1.0, min_ok=50):
    with Load(env) as load:
        time.sleep(1.0)
        before = load.counts["ok"]
        fault()
        # PostgreSQL is back (or zonegen restarted): the API recovers on its own.
        wait_until(lambda: env.staff.get("/readyz", timeout=2).status_code == 200, timeout=30,
                   what="rdns-api ready again")
        time.sleep(settle)
        load.stop()
    assert load.counts["ok"] - before >= 0 and load.counts["ok"] >= min_ok, load.counts
    load.check_db(env.url)
    took = assert_converges(zg, env.url)
    return load, took


# ---- PostgreSQL restarts and stops --------------------------------------------------------

@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgresql_restart_under_load_then_every_change_published(fenv, zg, mode):
    def restart():
        fenv.pg.stop(mode)
        fenv.pg.start()
    run_under_load(fenv, zg, restart)


def test_postgresql_stopped_for_seconds_under_load_then_every_change_published(fenv, zg):
    def outage():
        fenv.pg.stop("fast")
        time.sleep(4)
        fenv.pg.start()
    run_under_load(fenv, zg, outage)


def test_zonegen_restarted_under_load_then_every_change_published(fenv, zg):
    def restart():
        zg.stop()
        time.sleep(0.5)  # changes committed while no zonegen runs notify nobody
        zg.start().wait_leader()
    run_under_load(fenv, zg, restart, settle=0.5)


def test_zonegen_killed_under_load_then_every_change_published(fenv, zg):
    def kill():
        zg.stop(9)
        time.sleep(0.5)
        zg.start().wait_leader()
    run_under_load(fenv, zg, kill, settle=0.5)


# ---- the leader's session -----------------------------------------------------------------

def leader_pid(url):
    rows = db_rows(url, "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                        " AND classid = 0 AND objid = %s AND objsubid = 1", (LEADER_LOCK,))
    return rows[0][0] if rows else None


class NotifySink:
    """A UDP secondary stand-in that answers every NOTIFY and records (time, zone, serial)."""

    def __init__(self):
        self.port = free_port()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.settimeout(0.2)
        self.got = []
        self.stop_ev = threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self.stop_ev.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            try:
                m = dns.message.from_wire(data)
            except Exception:  # noqa: BLE001 - not ours to judge here
                continue
            if m.opcode() != dns.opcode.NOTIFY:
                continue
            serial = None
            for rrset in m.answer:
                if rrset.rdtype == dns.rdatatype.SOA:
                    serial = rrset[0].serial
            self.got.append((time.monotonic(), str(m.question[0].name).rstrip("."), serial))
            r = dns.message.make_response(m)
            self.sock.sendto(r.to_wire(), peer)

    def close(self):
        self.stop_ev.set()
        self.t.join(2)
        self.sock.close()


def serial_lt(a, b):
    return a != b and ((b - a) % 2**32) < 2**31


def test_terminated_leader_sessions_never_give_two_leaders(fenv):
    """pg_terminate_backend of the leader's session every 0.4 s with two instances: at no
    moment do both serve the zone, the serials announced by NOTIFY never go backwards, and
    after the storm one change is published by the one leader."""
    sinks = [NotifySink(), NotifySink()]
    a = fenv.zonegen({"notify": f"127.0.0.1:{sinks[0].port}"})
    b = fenv.zonegen({"notify": f"127.0.0.1:{sinks[1].port}"})
    overlaps = []
    stop = threading.Event()

    def watch():
        # A served at t1 and t3 and B at t2 in between means both served at t2.
        deadline = time.monotonic() + 60
        while not stop.is_set() and time.monotonic() < deadline:
            for x, y in ((a, b), (b, a)):
                s1 = soa_of(x.port, ZA, 0.2)
                s2 = soa_of(y.port, ZA, 0.2) if s1 is not None else None
                s3 = soa_of(x.port, ZA, 0.2) if s2 is not None else None
                if s1 is not None and s2 is not None and s3 is not None:
                    overlaps.append((time.monotonic(), x.port, s1, y.port, s2, s3))
            time.sleep(0.01)
    try:
        a.start().wait_leader()
        b.start()
        time.sleep(1.0)
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        terminations = 0
        with Load(fenv, writers=2, per_writer=8) as load:
            deadline = time.monotonic() + 30
            while terminations < 20 and time.monotonic() < deadline:
                pid = leader_pid(fenv.url)
                if pid:
                    fenv.pg.psql(f"SELECT pg_terminate_backend({pid})", dbname="rdns_faults")
                    terminations += 1
                time.sleep(0.4)
            load.stop()
        stop.set()
        watcher.join(5)
        assert terminations >= 10, terminations
        assert not overlaps, f"both instances served {ZA} at once: {overlaps[:5]}"
        for zone in (ZA, ZB):
            seen = sorted((t, s) for sink in sinks for (t, z, s) in sink.got if z == zone and s is not None)
            for (t1, s1), (t2, s2) in zip(seen, seen[1:]):
                assert not serial_lt(s2, s1), f"{zone}: NOTIFY serial went back from {s1} to {s2}"
        # One leader at the end, and it publishes a single new change.
        wait_until(lambda: leader_pid(fenv.url) is not None, timeout=10, what="a leader again")
        fenv.staff.put("/v1/ptr/203.0.113.200", json={"hostname": "after-storm.example.net", "force": True})
        leader = None

        def one_serving():
            nonlocal leader
            serving = [z for z in (a, b) if soa_of(z.port, ZA) is not None]
            if len(serving) == 1:
                leader = serving[0]
                return published(leader, fenv.url)
            return False
        wait_until(one_serving, timeout=5, what="exactly one instance serving the current zone")
        other = b if leader is a else a
        assert soa_of(other.port, ZA) is None
    finally:
        stop.set()
        for s in sinks:
            s.close()
        for z in (a, b):
            if z.proc:
                z.stop()


def _fill_large_zone(url, n):
    with psycopg2.connect(url) as c, c.cursor() as cur:
        cur.execute("SELECT id FROM reverse_zones WHERE name = %s", (ZL,))
        zid = cur.fetchone()[0]
        cur.execute("DELETE FROM ptr_records WHERE zone_id = %s", (zid,))
        cur.execute("INSERT INTO ptr_records (ip, zone_id, hostname) SELECT ('2001:db8:300:1::'"
                    " || to_hex(g >> 16) || ':' || to_hex(g & 65535))::inet, %s, 'big' || g || '.example.com'"
                    f" FROM generate_series(1, {n}) g", (zid,))
        cur.execute("SELECT rdns_zone_touch(%s)", (zid,))


def test_leader_session_terminated_during_a_large_render_then_a_change_is_published(fenv, zg):
    pid = leader_pid(fenv.url)
    assert pid
    _fill_large_zone(fenv.url, 150000)
    # Wait until the leader streams the zone (its session runs the COPY), then end it.
    def copying():
        rows = db_rows(fenv.url, "SELECT 1 FROM pg_stat_activity WHERE pid = %s AND state = 'active'"
                                 " AND query ILIKE 'COPY%%'", (pid,))
        return bool(rows)
    try:
        wait_until(copying, timeout=10, interval=0.005, what="the render's COPY")
    except TimeoutError:
        pass  # rendered already: the termination below still hits a busy leader
    fenv.pg.psql(f"SELECT pg_terminate_backend({pid})", dbname="rdns_faults")
    r = fenv.staff.put("/v1/ptr/203.0.113.201", json={"hostname": "after-big.example.net", "force": True})
    assert r.status_code == 200, r.text
    assert_converges(zg, fenv.url, zones=(ZA, ZL), timeout=20)
    _fill_large_zone(fenv.url, 0)
    assert_converges(zg, fenv.url, zones=(ZL,), timeout=20)


# ---- failed writes --------------------------------------------------------------------------

class ReadOnlyDir:
    """zone_dir made read-only: a read-only bind mount as root (root ignores modes), the
    mode 0555 otherwise."""

    def __init__(self, path):
        self.path = path
        self.mounted = False

    def __enter__(self):
        if os.geteuid() == 0:
            subprocess.run(["mount", "--bind", self.path, self.path], check=True)
            self.mounted = True
            subprocess.run(["mount", "-o", "remount,ro,bind", self.path], check=True)
        else:
            os.chmod(self.path, 0o555)
        return self

    def __exit__(self, *exc):
        if self.mounted:
            subprocess.run(["umount", self.path], check=True)
        else:
            os.chmod(self.path, 0o755)


def test_read_only_zone_dir_then_writable_is_published_without_another_change(fenv, zg):
    assert_converges(zg, fenv.url)
    old = file_zone(zg, ZA)
    with ReadOnlyDir(zg.zone_dir):
        r = fenv.staff.put("/v1/ptr/203.0.113.202", json={"hostname": "ro-dir.example.net", "force": True})
        assert r.status_code == 200, r.text
        time.sleep(1.0)
        # The old zone stays in place and served.
        assert file_zone(zg, ZA) == old
        assert axfr_zone(zg, ZA) == old
    assert_converges(zg, fenv.url, timeout=10)
    assert "Read-only file system" in zg.log() and ZA in zg.log()


def test_failed_rename_then_fixed_is_published_without_another_change(fenv, zg):
    assert_converges(zg, fenv.url)
    path = zg.zone_path(ZB)
    old = file_zone(zg, ZB)
    os.replace(path, path + ".saved")
    os.mkdir(path)  # rename() of the new file onto a directory fails
    with open(os.path.join(path, "keep"), "w") as f:
        f.write("x")
    try:
        r = fenv.staff.put("/v1/ptr/198.18.1.202", json={"hostname": "rename.example.net", "force": True})
        assert r.status_code == 200, r.text
        time.sleep(1.0)
        assert axfr_zone(zg, ZB) == old  # still the old zone, at the old serial
    finally:
        shutil.rmtree(path)
        os.replace(path + ".saved", path)
    assert_converges(zg, fenv.url, zones=(ZB,), timeout=10)
    log = zg.log()
    assert path in log and ZB in log, log[-3000:]
