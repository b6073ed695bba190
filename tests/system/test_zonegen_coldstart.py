"""rdns-zonegen's cold start over many zones (issue #17): zones are rendered in batches, one
transaction and one fsync of the folder per batch instead of per zone, and a kill -9 at any
point of such a start leaves every zone file the old or the new complete version, no serial
in a file that PostgreSQL has not committed, and after a restart every zone served at the
serial PostgreSQL holds."""
import collections
import os
import re
import resource
import signal
import subprocess
import time

import dns.message
import dns.rcode
import dns.query
import dns.zone
import psycopg2

from harness import BIN, Api, Zonegen, wait_until

N_ZONES = 600      # IPv4 /24 zones, each with a template: 256 PTRs a file
N_CUSTOM = 2000    # custom PTRs spread over them
SERIAL_RE = re.compile(r"^\S+ \d+ IN SOA \S+ \S+ (\d+) ", re.M)


def make_zones(dburl, tmpl):
    with psycopg2.connect(dburl) as c, c.cursor() as cur:
        cur.execute("SELECT count(*) FROM reverse_zones WHERE name LIKE '%.20.in-addr.arpa'")
        if cur.fetchone()[0]:
            return
        cur.execute("INSERT INTO reverse_zones (name, prefix, nameservers, soa_mname, soa_rname, default_ptr)"
                    " SELECT (z %% 256) || '.' || (z / 256) || '.20.in-addr.arpa',"
                    " set_masklen('20.0.0.0'::inet + (z::bigint * 256), 24)::cidr, ARRAY['ns1.example.net'],"
                    " 'ns1.example.net', 'hostmaster.example.net', %s"
                    " FROM generate_series(0, %s) z ORDER BY z", (tmpl, N_ZONES - 1))
        cur.execute("INSERT INTO ptr_records (ip, zone_id, hostname)"
                    " SELECT '20.0.0.0'::inet + (k::bigint * 73 %% (%s * 256)), z.id, 'c' || k || '.example.com'"
                    " FROM generate_series(1, %s) k JOIN reverse_zones z"
                    " ON z.prefix >>= '20.0.0.0'::inet + (k::bigint * 73 %% (%s * 256))"
                    " ON CONFLICT DO NOTHING", (N_ZONES, N_CUSTOM, N_ZONES))


def zones(dburl):
    """{name: (serial, content_hash is set)} as PostgreSQL holds them."""
    with psycopg2.connect(dburl) as c, c.cursor() as cur:
        cur.execute("SELECT name, serial, content_hash IS NOT NULL FROM reverse_zones WHERE name LIKE '%%.20.in-addr.arpa'")
        return {n: (s, h) for n, s, h in cur.fetchall()}


def xacts(dburl):
    with psycopg2.connect(dburl) as c, c.cursor() as cur:
        cur.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
        return cur.fetchone()[0]


def read_zone(path):
    """(serial, version) of one of our zone files: version 'v1' or 'v2' when every default
    PTR has that template, and the file is complete (256 PTRs, SOA, NS); AssertionError else."""
    with open(path) as f:
        text = f.read()
    m = SERIAL_RE.search(text)
    assert m, f"{path}: no SOA:\n{text[:500]}"
    ptrs = [ln for ln in text.splitlines() if " IN PTR " in ln]
    assert len(ptrs) == 256, f"{path}: {len(ptrs)} PTRs (torn file?)"
    defaults = {ln.split(" IN PTR ")[1].split("-")[0] for ln in ptrs if "example.com." not in ln}
    assert len(defaults) == 1 and defaults <= {"v1", "v2"}, f"{path}: mixed versions {defaults}"
    return int(m.group(1)), defaults.pop()


def soa_serial(port, zone):
    r = dns.query.udp(dns.message.make_query(zone + ".", "SOA"), "127.0.0.1", port=port, timeout=1.0)
    return r.answer[0][0].serial if r.answer else None


def migrate(dburl):
    """The schema, without an rdns-api running on the database (rdns-api migrate)."""
    migrator = Api(dburl, {})
    try:
        migrator.run("migrate")
    finally:
        migrator.close()


def quiet_database(dburl):
    """Nothing but the process under test commits in this database: no rdns-api (this test
    asks for none), autovacuum off for its tables and its running workers finished, so the
    commits pg_stat_database counts are the zonegen's own (an autoanalyze of the tables
    just filled adds one commit per table, 16 of them in one CI run)."""
    with psycopg2.connect(dburl) as c, c.cursor() as cur:
        cur.execute("ANALYZE")
        cur.execute("SELECT quote_ident(relname) FROM pg_class WHERE relkind = 'r'"
                    " AND relnamespace = 'public'::regnamespace")
        for (t,) in cur.fetchall():
            cur.execute(f"ALTER TABLE {t} SET (autovacuum_enabled = false)")
    c.close()
    wait_until(lambda: not _autovacuum_running(dburl), timeout=60, what="autovacuum workers gone")


def _autovacuum_running(dburl):
    with psycopg2.connect(dburl) as c, c.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'"
                    " AND datname = current_database()")
        n = cur.fetchone()[0]
    c.close()
    return n > 0


def run_once(zg, *args, trace=None, syscalls="fsync,fdatasync,syncfs,rename,renameat,renameat2", env=None,
             asan=""):
    """rdns-zonegen --once with args, under strace (its syscalls, to trace) when trace is
    given; (the completed process, the traced lines or [])."""
    env = dict(zg.env, **(env or {}))
    env["ASAN_OPTIONS"] = zg.env.get("ASAN_OPTIONS", "") + ":detect_leaks=0" + asan
    cmd = [os.path.join(BIN, "rdns-zonegen"), "-c", zg.conf_path, "--once", *args]
    if trace:
        cmd = ["strace", "-f", "-qq", "-e", f"trace={syscalls}", "-o", trace, *cmd]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    if not trace:
        return r, []
    with open(trace) as f:
        return r, f.read().splitlines()


def test_cold_start_renders_in_batches(dburl):
    """The batch property: N zones written with far fewer than N transactions, syncs and
    folder fsyncs (strace counts the syncs of --once --full; pg_stat_database the commits)."""
    migrate(dburl)
    make_zones(dburl, "v1-{dashed}.example.net")
    quiet_database(dburl)
    zg = Zonegen(dburl, {"log_level": "debug"})
    try:
        x0 = xacts(dburl)
        r, calls = run_once(zg, "--full", trace=os.path.join(zg.dir, "strace.txt"))
        x1 = xacts(dburl)
        fsyncs = [ln for ln in calls if re.search(r"\bf(data)?sync\(", ln) and "= 0" in ln]
        syncfs = [ln for ln in calls if re.search(r"\bsyncfs\(", ln) and "= 0" in ln]
        renames = [ln for ln in calls if re.search(r"\brename(at2?)?\(", ln) and ".zone" in ln and "= 0" in ln]
        files = [n for n in os.listdir(zg.zone_dir) if n.endswith(".20.in-addr.arpa.zone")]
        assert len(files) == N_ZONES
        assert len(renames) == N_ZONES, len(renames)
        for n in files[:20]:
            subprocess.run(["named-checkzone", "-q", n[:-5], os.path.join(zg.zone_dir, n)], check=True)
        # The files of a batch of up to 128 zones made durable by one syncfs (before their
        # renames), the folder by one fsync per batch: not one fsync per zone.
        batches = -(-N_ZONES // 128)
        assert batches <= len(syncfs) <= batches + 2, (len(syncfs), batches)
        assert len(fsyncs) <= batches + 5, (len(fsyncs), fsyncs[-5:])
        # every rename after a syncfs, at most a batch of them after each
        run = None
        for ln in calls:
            if re.search(r"\bsyncfs\(", ln):
                run = 0
            elif re.search(r"\brename(at2?)?\(", ln) and ".zone" in ln:
                assert run is not None and run < 128, (run, ln)
                run += 1
        # One transaction per batch, not per zone (the rest: the leader lock, the zone list).
        assert x1 - x0 < N_ZONES // 20, (x1 - x0, N_ZONES)
        batch_lines = re.findall(r"batch of (\d+) zones: (\d+) written, (\d+) fsyncs, (\d+) syncfs, (\d+) transaction", r.stderr)
        assert sum(int(b[0]) for b in batch_lines) == N_ZONES, batch_lines
        assert all(int(b[4]) == 1 for b in batch_lines), batch_lines
        z = zones(dburl)
        assert all(h for _, h in z.values())
        for n in files:
            serial, version = read_zone(os.path.join(zg.zone_dir, n))
            assert version == "v1" and serial == z[n[:-5]][0], n
    finally:
        zg.close()
        with psycopg2.connect(dburl) as c, c.cursor() as cur:
            cur.execute("SELECT quote_ident(relname) FROM pg_class WHERE relkind = 'r'"
                        " AND relnamespace = 'public'::regnamespace")
            for (t,) in cur.fetchall():
                cur.execute(f"ALTER TABLE {t} RESET (autovacuum_enabled)")
        c.close()


def test_a_few_changed_zones_are_fsynced_each_not_by_a_syncfs(dburl):
    """A syncfs waits for every other writer's dirty data on the filesystem (~1 s for 3 GB
    where two fsyncs took 1 ms): the zones a change dirties, fewer than ZG_SYNCFS_MIN (64),
    are rendered as a batch but fsynced one by one."""
    migrate(dburl)
    make_zones(dburl, "v1-{dashed}.example.net")
    zg = Zonegen(dburl, {"log_level": "debug"})
    try:
        run_once(zg, "--full")
        with psycopg2.connect(dburl) as c, c.cursor() as cur:
            cur.execute("SELECT id FROM reverse_zones WHERE name LIKE '%%.20.in-addr.arpa' ORDER BY id LIMIT 5")
            for (zid,) in cur.fetchall():
                cur.execute("UPDATE ptr_records SET hostname = 'few-' || hostname WHERE zone_id = %s", (zid,))
                cur.execute("INSERT INTO ptr_records (ip, zone_id, hostname) SELECT host(prefix)::inet + 250, id,"
                            " 'few.example.com' FROM reverse_zones WHERE id = %s ON CONFLICT (ip) DO UPDATE"
                            " SET hostname = 'few2.example.com'", (zid,))
                cur.execute("SELECT rdns_zone_touch(%s)", (zid,))
        c.close()
        r, calls = run_once(zg, trace=os.path.join(zg.dir, "strace-few.txt"))
        batch_lines = re.findall(r"batch of (\d+) zones: (\d+) written, (\d+) fsyncs, (\d+) syncfs", r.stderr)
        assert batch_lines == [("5", "5", "6", "0")], (batch_lines, r.stderr[-2000:])  # 5 files, the folder
        assert not [ln for ln in calls if re.search(r"\bsyncfs\(", ln)], calls
        fsyncs = [ln for ln in calls if re.search(r"\bfsync\(", ln) and "= 0" in ln]
        renames = [ln for ln in calls if re.search(r"\brename(at2?)?\(", ln) and ".zone" in ln and "= 0" in ln]
        assert len(renames) == 5 and len(fsyncs) >= 6, (renames, fsyncs)
        # each file fsynced before any rename (its serial committed in between)
        first_rename = next(i for i, ln in enumerate(calls) if ln in renames)
        assert sum(1 for ln in calls[:first_rename] if ln in fsyncs) >= 5, calls
    finally:
        zg.close()


SYNCFS_EIO_C = r"""
#include <errno.h>
int syncfs(int fd) { (void)fd; errno = EIO; return -1; }
"""


def test_a_failing_syncfs_falls_back_to_an_fsync_of_each_file(dburl, tmp_path):
    """A writeback error syncfs reports (here every syncfs fails with EIO: a shim preloaded
    into rdns-zonegen) is not taken for success: the batch's files are fsynced one by one,
    each reporting its own error, and every zone is still written whole, its serial
    committed before its rename."""
    migrate(dburl)
    make_zones(dburl, "v1-{dashed}.example.net")
    src = tmp_path / "syncfs_eio.c"
    src.write_text(SYNCFS_EIO_C)
    shim = str(tmp_path / "syncfs_eio.so")
    subprocess.run(["cc", "-shared", "-fPIC", "-o", shim, str(src)], check=True)
    zg = Zonegen(dburl, {"log_level": "debug"})
    try:
        r, calls = run_once(zg, "--full", trace=os.path.join(zg.dir, "strace.txt"),
                            syscalls="fsync,rename,renameat,renameat2", env={"LD_PRELOAD": shim},
                            asan=":verify_asan_link_order=0")
        assert "syncfs of the filesystem of" in r.stderr and "fsyncing the batch's" in r.stderr, r.stderr[-2000:]
        fsyncs = [ln for ln in calls if re.search(r"\bfsync\(", ln) and "= 0" in ln]
        renames = [ln for ln in calls if re.search(r"\brename(at2?)?\(", ln) and ".zone" in ln and "= 0" in ln]
        assert len(renames) == N_ZONES, len(renames)
        assert len(fsyncs) >= N_ZONES, (len(fsyncs), N_ZONES)  # each file's own, and the folder's
        z = zones(dburl)
        files = [n for n in os.listdir(zg.zone_dir) if n.endswith(".20.in-addr.arpa.zone")]
        assert len(files) == N_ZONES
        for n in files:
            serial, version = read_zone(os.path.join(zg.zone_dir, n))
            assert version == "v1" and serial == z[n[:-5]][0], n
    finally:
        zg.close()


def test_kill9_during_a_batched_cold_start_leaves_old_or_new_files_then_everything_served(api, dburl):
    """kill -9 of --once --full at several points of a cold start that changes every zone:
    each file is the old or the new version, whole, and carries a serial PostgreSQL had
    committed (never one it has not: committed before the rename); no temporary file
    survives a restart; the daemon then serves every zone at PostgreSQL's serial."""
    zg = Zonegen(dburl)
    try:
        make_zones(dburl, "v1-{dashed}.example.net")
        zg.run("--once", "--full", timeout=300)  # version v1 in place
        before = zones(dburl)
        assert len(before) == N_ZONES
        with psycopg2.connect(dburl) as c, c.cursor() as cur:
            cur.execute("UPDATE reverse_zones SET default_ptr = 'v2-{dashed}.example.net'"
                        " WHERE name LIKE '%%.20.in-addr.arpa'")
            cur.execute("SELECT rdns_zone_touch(id) FROM reverse_zones WHERE name LIKE '%%.20.in-addr.arpa'")
        zg.args = ["--once", "--full"]
        seen_mixed = False
        # kill when the first batch, then about half, then most zones have been committed
        for frac in (1, N_ZONES // 2, N_ZONES - 100):
            zg.start()
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and zg.proc.poll() is None:
                done = sum(1 for n, (s, _) in zones(dburl).items() if s != before[n][0])
                if done >= frac:
                    break
            zg.proc.send_signal(signal.SIGKILL)
            zg.proc.wait()
            zg.proc = None
            now = zones(dburl)
            versions = {}
            for n in now:
                serial, version = read_zone(zg.zone_path(n))
                versions[version] = versions.get(version, 0) + 1
                # the file's serial is one PostgreSQL committed: the old one, or the one of now
                assert serial in (before[n][0], now[n][0]), (n, serial, before[n][0], now[n][0])
                if version == "v2":
                    assert serial == now[n][0] != before[n][0], n
                else:
                    assert serial == before[n][0], n
            seen_mixed |= len(versions) == 2
            sample = [n for n in now][:: N_ZONES // 10]
            for n in sample:
                subprocess.run(["kzonecheck", "-o", n, zg.zone_path(n)], check=True, stdout=subprocess.DEVNULL)
            # the serials already committed stay (a later start may only pick higher ones)
            before_kill = now
            assert all(now[n][0] >= before[n][0] for n in now)
        assert seen_mixed, "no kill landed mid-way: the start was too quick to interrupt"
        temps = [n for n in os.listdir(zg.zone_dir) if n.startswith(".")]
        # the daemon: removes the temporary files, renders what is left, serves it all
        zg.args = []
        zg.start().wait_leader(timeout=60)
        wait_until(lambda: all(read_zone(zg.zone_path(n))[1] == "v2" for n in before), timeout=120, interval=0.5,
                   what="every zone at v2")
        final = zones(dburl)
        for n in before:
            serial, _ = read_zone(zg.zone_path(n))
            assert serial == final[n][0] and final[n][1], n
            d = (final[n][0] - before[n][0]) % 2**32
            assert 0 < d < 2**31, (n, before[n][0], final[n][0])
            assert final[n][0] == before_kill[n][0] or before_kill[n][0] == before[n][0], n
        wait_until(lambda: all(soa_serial(zg.port, n) == final[n][0] for n in list(before)[::7]), timeout=30,
                   what="every zone served at PostgreSQL's serial")
        if temps:
            assert "left by an interrupted render" in zg.log()
        # no temporary file left; .pinned holds the served versions' private links (fdcache)
        assert not [n for n in os.listdir(zg.zone_dir) if n.startswith(".") and n != ".pinned"]
        assert os.listdir(os.path.join(zg.zone_dir, ".pinned"))
        zg.stop()
        # a clean stop gives every version back: nothing is left pinned
        assert os.listdir(os.path.join(zg.zone_dir, ".pinned")) == []
    finally:
        zg.close()


N_MANY = 4200  # more zones than the daemon's old fixed list of published zones (4,096)


def test_daemon_keeps_track_of_every_zone_it_serves(dburl):
    """The daemon remembers every zone it serves, however many: the zones past the 4,096th
    are not published again on every reconcile, and deleting one of them stops serving it
    (with a fixed list of 4,096 it was served on, from memory, until the daemon restarted)."""
    migrate(dburl)
    with psycopg2.connect(dburl) as c, c.cursor() as cur:
        cur.execute("INSERT INTO reverse_zones (name, prefix, nameservers, soa_mname, soa_rname, default_ptr)"
                    " SELECT (z %% 256) || '.' || (z / 256) || '.21.in-addr.arpa',"
                    " set_masklen('21.0.0.0'::inet + (z::bigint * 256), 24)::cidr, ARRAY['ns1.example.net'],"
                    " 'ns1.example.net', 'hostmaster.example.net', 'h-{dashed}.example.net'"
                    " FROM generate_series(0, %s) z ORDER BY z", (N_MANY - 1,))
        cur.execute("SELECT name FROM reverse_zones WHERE name LIKE '%%.21.in-addr.arpa' ORDER BY id DESC LIMIT 3")
        last = [r[0] for r in cur.fetchall()]
    c.close()
    zg = Zonegen(dburl, {"reconcile_interval": 1})
    # the usual soft limit on open files, below the zones' count: the daemon takes the hard limit
    zg.preexec = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (1024, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    try:
        zg.start().wait_leader(timeout=60)
        wait_until(lambda: all(soa_serial(zg.port, n) for n in last), timeout=120, interval=0.5,
                   what="the last zones served")
        # reconcile passes: each zone published once, not again on every pass
        passes = lambda: len(re.findall(r"reconcile: \d+ zones checked", zg.log()))  # noqa: E731
        p0 = passes()
        wait_until(lambda: passes() >= p0 + 2, timeout=60, what="two reconcile passes")
        for n in last:
            assert len(re.findall(rf"zone {re.escape(n)}: published serial", zg.log())) == 1, n
        gone = last[0]
        with psycopg2.connect(dburl) as c, c.cursor() as cur:
            cur.execute("DELETE FROM reverse_zones WHERE name = %s", (gone,))
        c.close()
        wait_until(lambda: f"zone {gone} deleted; no longer served" in zg.log(), timeout=30,
                   what="the deleted zone dropped")
        r = dns.query.udp(dns.message.make_query(gone + ".", "SOA"), "127.0.0.1", port=zg.port, timeout=1.0)
        assert r.rcode() == dns.rcode.REFUSED and not r.answer, r
        assert not os.path.exists(zg.zone_path(gone))
        assert soa_serial(zg.port, last[1]) and soa_serial(zg.port, "0.0.21.in-addr.arpa")
        assert "open files" not in zg.log()
        zg.stop()
        # a hard limit below the zones' count: every zone is served all the same (their files
        # are opened when read, fdcache.c), and nothing says otherwise
        zg.preexec = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (2048, 2048))
        zg.start().wait_leader(timeout=60)
        since = lambda: zg.log()[zg._log_mark:]  # noqa: E731 - this start's log
        wait_until(lambda: len(re.findall(r"reconcile: \d+ zones checked", since())) >= 2, timeout=60,
                   what="reconcile passes under the low limit")
        assert soa_serial(zg.port, last[1]) and soa_serial(zg.port, "0.0.21.in-addr.arpa")
        assert "open files" not in since() and "cannot open" not in since()
        assert len(os.listdir(f"/proc/{zg.proc.pid}/fd")) < 2048
        zg.stop()
    finally:
        zg.close()


N_FDS = 512     # RLIMIT_NOFILE, soft and hard: far fewer descriptors than zones
N_FD_ZONES = 2000


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_daemon_serves_more_zones_than_open_files(dburl):
    """A daemon whose open-file limit is a quarter of its zones' count serves every zone: each
    version's file is opened when it is read (fdcache.c), not held open for as long as the
    version lives, so zones past the limit are answered, transferred and changed like the
    others, and the descriptors stay under the limit throughout."""
    migrate(dburl)
    with psycopg2.connect(dburl) as c, c.cursor() as cur:
        cur.execute("INSERT INTO reverse_zones (name, prefix, nameservers, soa_mname, soa_rname, default_ptr)"
                    " SELECT (z %% 256) || '.' || (z / 256) || '.22.in-addr.arpa',"
                    " set_masklen('22.0.0.0'::inet + (z::bigint * 256), 24)::cidr, ARRAY['ns1.example.net'],"
                    " 'ns1.example.net', 'hostmaster.example.net', 'v1-{dashed}.example.net'"
                    " FROM generate_series(0, %s) z ORDER BY z", (N_FD_ZONES - 1,))
    c.close()

    def serials():
        with psycopg2.connect(dburl) as c, c.cursor() as cur:
            cur.execute("SELECT name, serial FROM reverse_zones WHERE name LIKE '%%.22.in-addr.arpa'")
            return dict(cur.fetchall())

    def axfr_matches(zone):
        xz = dns.zone.from_xfr(dns.query.xfr("127.0.0.1", zone + ".", port=zg.port, lifetime=20,
                                             relativize=False), relativize=False)
        fz = dns.zone.from_file(zg.zone_path(zone), origin=zone + ".", relativize=False)
        return xz == fz

    zg = Zonegen(dburl, {"reconcile_interval": 1})
    zg.preexec = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (N_FDS, N_FDS))
    peak = [0]

    def served():
        """Every zone answered at the serial PostgreSQL holds for it now (the render bumps it)."""
        peak[0] = max(peak[0], open_fds(zg.proc.pid))
        want = serials()
        return all(soa_serial(zg.port, n) == s for n, s in want.items()) and want

    try:
        zg.start().wait_leader(timeout=60)
        want = wait_until(served, timeout=240, interval=1, what="every zone's SOA served")
        assert len(want) == N_FD_ZONES
        sample = sorted(want)[:: N_FD_ZONES // 20]
        for n in sample:
            assert axfr_matches(n), n
            assert read_zone(zg.zone_path(n))[1] == "v1", n
        peak[0] = max(peak[0], open_fds(zg.proc.pid))
        # every zone changes: new versions replace the old ones (files renamed over)
        with psycopg2.connect(dburl) as c, c.cursor() as cur:
            cur.execute("UPDATE reverse_zones SET default_ptr = 'v2-{dashed}.example.net'"
                        " WHERE name LIKE '%%.22.in-addr.arpa'")
            cur.execute("SELECT rdns_zone_touch(id) FROM reverse_zones WHERE name LIKE '%%.22.in-addr.arpa'")
        c.close()
        wait_until(lambda: all(read_zone(zg.zone_path(n))[1] == "v2" for n in want), timeout=180, interval=1,
                   what="every zone file at v2")
        now = wait_until(served, timeout=60, interval=1, what="every zone served at its new serial")
        assert all(now[n] != want[n] for n in want)
        for n in sample:
            assert axfr_matches(n), n
        peak[0] = max(peak[0], open_fds(zg.proc.pid))
        assert peak[0] < N_FDS, peak[0]
        log = zg.log()
        assert "cannot open" not in log and "Too many open files" not in log
        # the old versions were given back: only the served ones stay pinned, one pin per file
        # (zone file and IXFR history) of this test's zones (the module's database holds
        # the zones of the tests before it too)
        pinned = [n for n in os.listdir(os.path.join(zg.zone_dir, ".pinned")) if ".22.in-addr.arpa." in n]
        per_file = collections.Counter(n.rsplit(".", 2)[0] for n in pinned)
        assert set(per_file.values()) == {1}, per_file.most_common(3)
        assert {f[:-5] for f in per_file if f.endswith(".zone")} == set(want)
        assert len(pinned) <= 2 * N_FD_ZONES, len(pinned)
        zg.stop()
        assert os.listdir(os.path.join(zg.zone_dir, ".pinned")) == []
    finally:
        zg.close()
