"""bench_zonegen.py - issue 4: rdns-zonegen.

B1 full render of 1,000,000 (and 100,000) custom PTRs with `rdns-zonegen --once --full`
   against psql \\copy of the same SELECT to /dev/null; peak RSS of both sizes.
B2 change-to-NOTIFY with the daemon running on that database (the 1M zone plus small
   zones): COMMIT of rdns_ptr_apply() -> NOTIFY at a UDP listener we run and answer.
B3 AXFR of a 65,536-PTR zone from our hidden primary against knotd serving the same
   zone file, same client (kdig), interleaved runs.
B4 change-to-secondary: API PUT 200 -> each of Knot, NSD, BIND and PowerDNS, secondaries of
   our hidden primary configured from deploy/dns/ (tests/system/secondaries.py), answers the
   new PTR; knotd primary -> knotd secondary as the reference.
B5 one change in the 1M zone: API PUT 200 -> a knotd secondary of that zone answers; the
   bytes of each change's IXFR against the zone's AXFR."""
import os
import queue
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import dns.exception
import dns.message
import dns.opcode
import dns.query
import dns.rdatatype
import dns.reversename
import dns.zone
import psycopg2

from benchlib import ROOT, Api, Client, Knot, Table, Zonegen, fmt, guarded, log, median, pct, tempdir, wait_until

# The secondaries as the system tests run them, from the deploy/dns examples (one copy).
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
import secondaries  # noqa: E402

BIG_PREFIX, BIG_ZONE = "2001:db8:aaaa::/48", "a.a.a.a.8.b.d.0.1.0.0.2.ip6.arpa"
N_BIG, N_MID = int(os.environ.get("RDNS_BENCH_BIG", "1000000")), 100_000
BIG = "1M" if N_BIG == 1_000_000 else f"{N_BIG:,}"  # in row labels
S1_PREFIX, S1_ZONE = "203.0.113.0/24", "113.0.203.in-addr.arpa"      # B2: NOTIFY to our listener
S2_PREFIX, S2_ZONE = "192.0.2.0/24", "2.0.192.in-addr.arpa"          # B4: followed by a knotd secondary
X_PREFIX, X_ZONE = "198.19.0.0/16", "19.198.in-addr.arpa"            # B3: 65,536 default PTRs
K_ZONE = "100.51.198.in-addr.arpa"                                   # B4 reference: knotd -> knotd
TEMPLATE = "static-{dashed}.vps.example.net"
ROUNDS_RENDER = {"1M": 5, "100k": 3}
N_NOTIFY = int(os.environ.get("RDNS_BENCH_NOTIFY_CHANGES", "20"))
N_B2B = int(os.environ.get("RDNS_BENCH_B2B_CHANGES", "150"))
N_AXFR = 10
N_SECONDARY = int(os.environ.get("RDNS_BENCH_SECONDARY_CHANGES", "200"))
# PowerDNS looks at the NOTIFYs it queued about once a second: fewer changes, the same figures.
N_PDNS = int(os.environ.get("RDNS_BENCH_PDNS_CHANGES", "20"))
# Only these of B1-B5 (comma-separated; default all), e.g. RDNS_BENCH_ZONEGEN_ONLY=B4.
ONLY = set(filter(None, os.environ.get("RDNS_BENCH_ZONEGEN_ONLY", "").upper().split(",")))
# B4's zone and the examples' other one (created so that the secondaries find both).
S2_OTHER = "2001:db8:100::/48"
N_KNOT_REF = 40
MISS_S = 3.0  # a change not seen after this long counts as lost (infinitely late)


def big_rows(n, zone_id, account):
    """TSV for COPY: n addresses, 16 per /64, in address order."""
    for i in range(n):
        s, h = divmod(i, 16)
        yield (f"2001:db8:aaaa:{s:x}::{h + 1:x}\t{zone_id}\th{h + 1}.c{s}.example.net\t{account}"
               "\t2024-01-01 00:00:00+00\n")


def load_ptrs(pg, dbname, n, zone_id, account, tmp):
    path = os.path.join(tmp, f"ptr-{dbname}.tsv")
    with open(path, "w") as f:
        f.writelines(big_rows(n, zone_id, account))
    os.chmod(path, 0o644)
    t = time.perf_counter()
    pg.psql(f"\\copy ptr_records (ip, zone_id, hostname, account_id, verified_at) FROM '{path}'", dbname)
    pg.psql("VACUUM ANALYZE ptr_records", dbname)
    os.unlink(path)
    return time.perf_counter() - t


def sql(url, q, args=()):
    c = psycopg2.connect(url)
    c.autocommit = True
    try:
        with c.cursor() as cur:
            cur.execute(q, args)
            return cur.fetchall() if cur.description else []
    finally:
        c.close()


# ---------------------------------------------------------------- setup


def setup(pg):
    tmp = tempdir("rdns-bench-zg-")
    zone_dir = os.path.join(tmp, "zones")
    os.mkdir(zone_dir)
    db = pg.create_db("bench_zg")
    api = Api(db)
    api.run("migrate")
    api.start()
    staff_token = api.add_staff("bench-staff")
    staff = Client(api.base, staff_token)
    staff_id = int(sql(db, "SELECT account_id FROM api_tokens WHERE id = %s", (int(staff_token.split("_")[1]),))[0][0])
    cust = staff.call("POST", "/v1/accounts", json={"name": "bench-customer", "role": "customer"}).json()["id"]
    staff.call("POST", "/v1/allocations", json={"account_id": cust, "prefix": BIG_PREFIX})
    staff.call("POST", "/v1/zones", json={"prefix": BIG_PREFIX, "nameservers": ["ns1.example.net", "ns2.example.net"]})
    big_id = sql(db, "SELECT id FROM reverse_zones WHERE name = %s", (BIG_ZONE,))[0][0]
    log(f"zonegen: loading {N_BIG:,} PTRs with COPY")
    t_load = load_ptrs(pg, "bench_zg", N_BIG, big_id, cust, tmp)
    log(f"zonegen: loaded in {t_load:.1f} s")

    # The 100,000-record database: same zone row (copied), first 100,000 records.
    db_mid = pg.create_db("bench_zg100k")
    Api(db_mid).run("migrate")
    cols = ("name, prefix, nameservers, default_ptr, notify, soa_mname, soa_rname, soa_refresh, soa_retry, "
            "soa_expire, soa_minimum, ttl")
    row = sql(db, f"SELECT {cols} FROM reverse_zones WHERE id = %s", (big_id,))[0]
    sql(db_mid, f"INSERT INTO reverse_zones ({cols}) VALUES ({', '.join(['%s'] * len(row))})", row)
    mid_id = sql(db_mid, "SELECT id FROM reverse_zones")[0][0]
    sql(db_mid, "INSERT INTO accounts (id, name, role) VALUES (%s, 'bench-customer', 'customer')", (cust,))
    load_ptrs(pg, "bench_zg100k", N_MID, mid_id, cust, tmp)

    class Env:
        pass
    e = Env()
    e.tmp, e.zone_dir, e.db, e.db_mid, e.api, e.staff, e.staff_id = tmp, zone_dir, db, db_mid, api, staff, staff_id
    e.big_id, e.mid_id, e.t_load, e.cust = big_id, mid_id, t_load, cust
    return e


# ---------------------------------------------------------------- B1


GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def timed(argv, rss_too=True):
    """Run argv; (wall seconds, peak RSS in KiB or 0). The RSS comes from GNU time (%M) when it is
    installed, else from sampling VmHWM every 2 ms. (Not from our own wait4(): a child forked
    from this Python process counts the parent's RSS it inherited before exec.)"""
    with tempfile.NamedTemporaryFile() as rss, tempfile.TemporaryFile() as err:
        gnu = GNU_TIME and rss_too
        full = [GNU_TIME, "-o", rss.name, "-f", "%M"] + argv if gnu else argv
        t = time.perf_counter()
        p = subprocess.Popen(full, stdout=subprocess.DEVNULL, stderr=err)
        hwm = 0
        if gnu or not rss_too:
            p.wait()
        while p.poll() is None:
            try:
                with open(f"/proc/{p.pid}/status") as f:
                    hwm = max([hwm] + [int(x.split()[1]) for x in f if x.startswith("VmHWM:")])
            except OSError:
                pass
            time.sleep(0.002)
        dt = time.perf_counter() - t
        if p.returncode != 0:
            err.seek(0)
            raise RuntimeError(f"{' '.join(argv[:3])}... failed: {err.read().decode(errors='replace')[-2000:]}")
        if gnu:
            with open(rss.name) as f:
                hwm = int(f.read().split()[-1])
    return dt, hwm


def render_once(zg, reset):
    """rdns-zonegen --once --full: (seconds, peak RSS KiB)."""
    if reset:  # the content counts as changed: one pass, new serial (the daemon's path on a change)
        sql(zg.conf["database_url"], "UPDATE reverse_zones SET content_hash = NULL")
    return timed([zg.bin, "-c", zg.conf_path, "--once", "--full"])


def copy_once(pg, dbname, zone_id, binary=False):
    """psql \\copy of the zone's records: the baseline (text, host(ip)), or with binary the
    statement zonegen/render.c itself runs (binary COPY of the inet column)."""
    if binary:
        q = (f"\\copy (SELECT ip, hostname FROM ptr_records WHERE zone_id = {zone_id} ORDER BY ip) TO '/dev/null'"
             " WITH (FORMAT binary)")
    else:
        q = f"\\copy (SELECT host(ip), hostname FROM ptr_records WHERE zone_id = {zone_id} ORDER BY ip) TO '/dev/null'"
    return timed(["psql", "-X", "-q", "-d", pg.url(dbname), "-c", q])


def bench_render(pg, e):
    out = {}
    for label, url, dbname, zid, n in (("1M", e.db, "bench_zg", e.big_id, N_BIG),
                                       ("100k", e.db_mid, "bench_zg100k", e.mid_id, N_MID)):
        zdir = e.zone_dir if label == "1M" else os.path.join(e.tmp, "zones-100k")
        os.makedirs(zdir, exist_ok=True)
        zg = Zonegen(url, zdir, {"dns_listen": "", "log_level": "warn"})
        changed, unchanged, copies, bcopies = [], [], [], []
        rounds = ROUNDS_RENDER[label]
        for i in range(rounds):
            log(f"B1 {label}: round {i + 1}/{rounds}: render (changed), \\copy, render (unchanged, --full)")
            changed.append(render_once(zg, reset=True))
            copies.append(copy_once(pg, dbname, zid))
            unchanged.append(render_once(zg, reset=False))
            if label == "1M":
                bcopies.append(copy_once(pg, dbname, zid, binary=True))
        path = os.path.join(zdir, BIG_ZONE + ".zone")
        with open(path) as f:
            n_ptr = sum(1 for line in f if " IN PTR " in line)
        out[label] = dict(changed=changed, unchanged=unchanged, copies=copies, bcopies=bcopies, n_ptr=n_ptr, n=n,
                          size=os.path.getsize(path))
    big, mid = out["1M"], out["100k"]
    t_c = median([x[0] for x in big["changed"]])
    t_u = median([x[0] for x in big["unchanged"]])
    t_b = median([x[0] for x in big["copies"]])
    rss_big = max(x[1] for x in big["changed"] + big["unchanged"])
    rss_mid = max(x[1] for x in mid["changed"] + mid["unchanged"])
    fs = "tmpfs" if is_tmpfs(e.zone_dir) else "disk (ext4)"
    t = Table(f"B1. Full render of {N_BIG:,} PTRs: rdns-zonegen --once --full vs psql \\copy of the same SELECT",
              f"One IPv6 /48 zone ({BIG_ZONE}) holds every record (loaded with COPY); the zone file is on {fs}.\n"
              "Process wall times (connection set-up included on both sides), medians of interleaved rounds "
              f"({ROUNDS_RENDER['1M']} for 1M,\n{ROUNDS_RENDER['100k']} for 100k). Baseline: psql \\copy (SELECT "
              "host(ip), hostname FROM ptr_records WHERE zone_id = N\nORDER BY ip) TO '/dev/null'. 'changed': "
              "content_hash cleared first, so the render is a change (one pass,\nnew serial, fsync + rename: the "
              "daemon's path on a change). 'unchanged': same content, --full forces the rewrite.\n"
              "render.c streams COPY (SELECT ip, hostname ...) in binary format; the 'ref' row times that statement "
              "with psql.\nPeak RSS: GNU time %M (the process's VmHWM).")
    r = t_c / t_b
    t.row(f"render {BIG}, content changed", fmt(t_c, " s", 2), fmt(t_b, " s", 2), f"{r:.2f}", "<= 1.50", r <= 1.5)
    r2 = t_u / t_b
    t.row(f"render {BIG}, content unchanged (--full)", fmt(t_u, " s", 2), fmt(t_b, " s", 2), f"{r2:.2f}", "<= 1.50",
          r2 <= 1.5)
    t.row("records in the file / zone file size", f"{big['n_ptr']:,} PTR / {big['size'] / 2**20:.0f} MiB", "-", "-",
          f"{N_BIG:,}", big["n_ptr"] == N_BIG)
    t.row(f"peak RSS, {BIG} records", fmt(rss_big / 1024, " MiB"), fmt(max(x[1] for x in big["copies"]) / 1024,
                                                                   " MiB (psql)"), "-", "<= 64 MiB",
          rss_big <= 64 * 1024)
    rr = rss_big / rss_mid
    t.row(f"peak RSS, 100k records (ratio: {BIG} / 100k)", fmt(rss_mid / 1024, " MiB"), "-", f"{rr:.2f}", "<= 1.25",
          rr <= 1.25 and mid["n_ptr"] == N_MID)
    tm_c = median([x[0] for x in mid["changed"]])
    tm_b = median([x[0] for x in mid["copies"]])
    t.row("render 100k, content changed", fmt(tm_c, " s", 3), fmt(tm_b, " s", 3), f"{tm_c / tm_b:.2f}", "-", None)
    tbb = median([x[0] for x in big["bcopies"]])
    t.row("ref: \\copy of render.c's own statement (binary ip)", "-", fmt(tbb, " s", 2), f"{t_c / tbb:.2f}", "-",
          None)
    t.row(f"all rounds {BIG}: changed | unchanged", " ".join(f"{x[0]:.2f}" for x in big["changed"]) + " | " +
          " ".join(f"{x[0]:.2f}" for x in big["unchanged"]), " ".join(f"{x[0]:.2f}" for x in big["copies"]), "-",
          "-", None)
    t.row(f"COPY load of the {BIG} records (setup)", fmt(e.t_load, " s", 1), "-", "-", "-", None)
    t.emit()
    return t


def is_tmpfs(path):
    best, fstype = "", ""
    with open("/proc/mounts") as f:
        for line in f:
            dev, mnt, typ = line.split()[:3]
            if path.startswith(mnt) and len(mnt) > len(best):
                best, fstype = mnt, typ
    return fstype == "tmpfs"


# ---------------------------------------------------------------- daemon, NOTIFY listener


class NotifyListener:
    """Answers DNS NOTIFY on 127.0.0.1:<port> and queues (arrival time, zone, serial)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.q = queue.Queue()
        self.stop = False
        self.th = threading.Thread(target=self._run, daemon=True)
        self.th.start()

    def _run(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                data, addr = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            t = time.monotonic()
            try:
                m = dns.message.from_wire(data)
            except Exception:  # noqa: BLE001 - not a DNS message: ignore
                continue
            if m.opcode() != dns.opcode.NOTIFY:
                continue
            self.sock.sendto(dns.message.make_response(m).to_wire(), addr)
            serial = m.answer[0][0].serial if m.answer else None
            self.q.put((t, m.question[0].name.to_text().rstrip("."), serial))

    def drain(self):
        while True:
            try:
                self.q.get_nowait()
            except queue.Empty:
                return

    def wait(self, zone, after_serial, timeout=15):
        """(arrival time, serial) of the next NOTIFY for zone with another serial; (None, after_serial)
        when none comes within timeout."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None, after_serial
            try:
                t, z, serial = self.q.get(timeout=left)
            except queue.Empty:
                return None, after_serial
            if z == zone and serial != after_serial:
                return t, serial

    def close(self):
        self.stop = True
        self.th.join(2)
        self.sock.close()


def soa(port, zone, timeout=1.0):
    r = dns.query.udp(dns.message.make_query(zone + ".", "SOA"), "127.0.0.1", port=port, timeout=timeout)
    return r.answer[0][0].serial if r.answer else None


def start_daemon(e, listener, secs):
    """Our daemon with B2's, B3's and B4's zones; secs: B4's secondaries, made from our DNS
    port (the NOTIFY targets of B4's zones), appended to."""
    staff = e.staff
    zg = Zonegen(e.db, e.zone_dir)
    secs += [K("127.0.0.1", zg.port, "", False) for K in secondaries.KINDS]
    staff.call("POST", "/v1/zones", json={"prefix": S1_PREFIX, "nameservers": ["ns1.example.net"],
                                          "default_ptr": TEMPLATE, "notify": [f"127.0.0.1:{listener.port}"]})
    for prefix, tmpl in ((S2_PREFIX, {"default_ptr": TEMPLATE}), (S2_OTHER, {})):
        staff.call("POST", "/v1/zones", json={"prefix": prefix, "nameservers": ["ns1.example.net"],
                                              "notify": [s.target for s in secs], **tmpl})
    staff.call("POST", "/v1/zones", json={"prefix": X_PREFIX, "nameservers": ["ns1.example.net"],
                                          "default_ptr": TEMPLATE})
    staff.call("PATCH", f"/v1/zones/{BIG_ZONE}", json={"notify": [f"127.0.0.1:{listener.port}"]})
    zg.start()
    t0 = time.monotonic()
    for z in (BIG_ZONE, S1_ZONE, S2_ZONE, X_ZONE):
        wait_until(lambda z=z: soa(zg.port, z), timeout=120, interval=0.1, what=f"{z} served by rdns-zonegen")
    log(f"zonegen daemon: all zones published {time.monotonic() - t0:.1f} s after start")
    return zg


def bench_notify(e, zg, listener):
    time.sleep(1.0)  # the first renders' NOTIFYs
    listener.drain()
    rendered_before = sql(e.db, "SELECT rendered_at FROM reverse_zones WHERE id = %s", (e.big_id,))[0][0]
    log_off = len(zg.log())
    conn = psycopg2.connect(e.db)
    serial = soa(zg.port, S1_ZONE)
    lat, missed = [], []
    log(f"B2: {N_NOTIFY} changes in {S1_ZONE}")
    for i in range(N_NOTIFY):
        with conn.cursor() as cur:
            cur.execute("SELECT rdns_ptr_apply(%s, %s, NULL, %s, 'bench', true, '[]', NULL, NULL)",
                        (f"203.0.113.{10 + i % 200}", f"n{i}-{random.randrange(10**6)}.example.net", e.staff_id))
        t0 = time.monotonic()
        conn.commit()
        t1, serial = listener.wait(S1_ZONE, serial, timeout=MISS_S)
        if t1 is None:
            missed.append(i)
            log(f"B2: change {i}: no NOTIFY within {MISS_S} s")
            serial = soa(zg.port, S1_ZONE)
        else:
            lat.append(t1 - t0)
        time.sleep(0.05)
    renders = [ln for ln in zg.log()[log_off:].splitlines() if ": serial " in ln and "written in" in ln]
    others = [ln for ln in renders if S1_ZONE not in ln]
    rendered_after = sql(e.db, "SELECT rendered_at FROM reverse_zones WHERE id = %s", (e.big_id,))[0][0]
    render_ms = [int(ln.split("written in ")[1].split()[0]) for ln in renders if S1_ZONE in ln]

    # Back to back: each change committed as soon as the previous NOTIFY arrived (and was
    # answered), i.e. while rdns-zonegen records that NOTIFY's outcome in PostgreSQL on the
    # connection it LISTENs on. Every change must still produce a NOTIFY.
    log(f"B2: {N_B2B} back-to-back changes in {S1_ZONE}")
    b2b_lat, b2b_missed = [], 0
    for i in range(N_B2B):
        with conn.cursor() as cur:
            cur.execute("SELECT rdns_ptr_apply(%s, %s, NULL, %s, 'bench', true, '[]', NULL, NULL)",
                        (f"203.0.113.{10 + i % 200}", f"r{i}-{random.randrange(10**6)}.example.net", e.staff_id))
        time.sleep(random.random() * 0.003)
        t0 = time.monotonic()
        conn.commit()
        t1, serial = listener.wait(S1_ZONE, serial, timeout=1.5)
        if t1 is None:
            b2b_missed += 1
            serial = soa(zg.port, S1_ZONE)
        else:
            b2b_lat.append(t1 - t0)
    if b2b_missed:
        log(f"B2: {b2b_missed} of {N_B2B} back-to-back changes produced no NOTIFY within 1.5 s")

    # For reference: a change in the 1,000,000-record zone itself (no target).
    big_lat = []
    bserial = soa(zg.port, BIG_ZONE)
    for i in range(3):
        with conn.cursor() as cur:
            cur.execute("SELECT rdns_ptr_apply(%s, %s, NULL, %s, 'bench', true, '[]', NULL, NULL)",
                        (f"2001:db8:aaaa::{i + 1:x}", f"big{i}-{random.randrange(10**6)}.example.net", e.staff_id))
        t0 = time.monotonic()
        conn.commit()
        t1, bserial = listener.wait(BIG_ZONE, bserial, timeout=60)
        big_lat.append(t1 - t0 if t1 else float("inf"))
    conn.close()
    big_render = [int(ln.split("written in ")[1].split()[0]) for ln in zg.log()[log_off:].splitlines()
                  if BIG_ZONE in ln and "written in" in ln]

    t = Table(f"B2. Change -> NOTIFY with the daemon running on the {N_BIG:,}-record database",
              f"{N_NOTIFY} changes, one at a time, in the small zone {S1_ZONE} (256 PTRs) while {BIG_ZONE} "
              f"holds {N_BIG:,};\nSQL rdns_ptr_apply() then COMMIT; latency from just before COMMIT to the NOTIFY "
              "arriving at our UDP listener\n(the zone's notify target, answering it). debounce_ms = 100 (default: a change after a quiet spell renders at once). "
              f"Absolute targets: no baseline. Then {N_B2B} back-to-back\nchanges, each committed as soon as the "
              "previous NOTIFY arrived: each must still be NOTIFYed (within 1.5 s).")
    # A change that never produced a NOTIFY counts as infinitely late.
    allv = lat + [float("inf")] * len(missed)
    p50 = median(allv)
    t.row("change -> NOTIFY, median", fmt(p50 * 1000, " ms"), "-", "-", "<= 200 ms", p50 <= 0.2)
    t.row(f"changes with no NOTIFY within {MISS_S} s", f"{len(missed)} of {N_NOTIFY}" +
          (f" (#{', #'.join(map(str, missed))})" if missed else ""), "-", "-", "0", not missed)
    t.row("change -> NOTIFY, min / p90 / max (seen ones)", f"{min(lat) * 1000:.0f} / {pct(lat, 90) * 1000:.0f} / "
          f"{max(lat) * 1000:.0f} ms" if lat else "-", "-", "-", "-", None)
    t.row("zones rendered besides the changed one", f"{len(others)} ({BIG} zone rendered_at "
          f"{'unchanged' if rendered_before == rendered_after else 'CHANGED'})", "-", "-", "0",
          not others and rendered_before == rendered_after)
    t.row("back-to-back changes with no NOTIFY within 1.5 s", f"{b2b_missed} of {N_B2B}", "-", "-", "0",
          b2b_missed == 0)
    t.row("back-to-back change -> NOTIFY, median", fmt(median(b2b_lat) * 1000 if b2b_lat else None, " ms"), "-",
          "-", "-", None)
    t.row("render time of the changed zone (log), median", fmt(median(render_ms) if render_ms else None, " ms"),
          "-", "-", "-", None)
    t.row(f"change in the {BIG} zone itself -> NOTIFY (3 runs)", " ".join(f"{x:.2f}" for x in big_lat) + " s", "-", "-",
          "-", None)
    t.row(f"  of which render of the {BIG} zone (log)", " ".join(str(x) for x in big_render) + " ms", "-", "-", "-", None)
    t.emit()
    return t


# ---------------------------------------------------------------- B3 AXFR


# dig +noall prints nothing for an AXFR; kdig +noall still prints every record (5 MB here),
# which makes the client the bottleneck, so kdig is only the fallback (output discarded).
AXFR_CLIENT = "dig" if shutil.which("dig") else "kdig"


def axfr_time(port, zone):
    return timed([AXFR_CLIENT, "-p", str(port), "@127.0.0.1", zone, "AXFR", "+noall"], rss_too=False)[0]


def axfr_count(port, zone):
    """PTR records in an AXFR of zone, counted from the AXFR client's own output (a Python
    client can be slow enough on a loaded machine for knotd to drop the connection)."""
    for _ in range(3):
        r = subprocess.run([AXFR_CLIENT, "-p", str(port), "@127.0.0.1", zone, "AXFR", "+noall", "+answer"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=60)
        out = r.stdout.splitlines()
        soas = sum(1 for line in out if line.split()[3:4] == ["SOA"])
        if r.returncode == 0 and soas == 2:  # complete: SOA first and last
            return sum(1 for line in out if line.split()[3:4] == ["PTR"])
    return -1


def bench_axfr(e, zg):
    k = Knot("axfr")
    path = os.path.join(k.dir, X_ZONE + ".zone")
    with open(os.path.join(e.zone_dir, X_ZONE + ".zone")) as src, open(path, "w") as dst:
        dst.write(src.read())
    k.add_zone(X_ZONE, path)
    wait_until(lambda: soa(k.port, X_ZONE) == soa(zg.port, X_ZONE), what="knotd serving the same zone")
    n_ours, n_knot = axfr_count(zg.port, X_ZONE), axfr_count(k.port, X_ZONE)
    ours, knot = [], []
    axfr_time(zg.port, X_ZONE)
    axfr_time(k.port, X_ZONE)
    log(f"B3: {N_AXFR} interleaved AXFRs of {X_ZONE} from each server")
    for _ in range(N_AXFR):
        ours.append(axfr_time(zg.port, X_ZONE))
        knot.append(axfr_time(k.port, X_ZONE))
    k.ctl("stop")
    o, b = median(ours), median(knot)
    t = Table("B3. AXFR of a 65,536-PTR zone: our hidden primary vs knotd serving the same zone file",
              f"{X_ZONE} ({X_PREFIX}, every address a default PTR), the file rdns-zonegen wrote loaded by knotd; "
              f"client\n{AXFR_CLIENT} +noall (same binary both sides, process wall time), {N_AXFR} interleaved runs "
              "each, medians."
              + ("" if AXFR_CLIENT == "dig" else "\ndig is not installed (bind9-dnsutils): kdig +noall still "
                 "prints every record, so the client dominates both times."))
    r = o / b
    t.row("AXFR time, median", fmt(o * 1000, " ms"), fmt(b * 1000, " ms"), f"{r:.2f}", "<= 1.50", r <= 1.5)
    t.row("AXFR time, min / max", f"{min(ours) * 1000:.0f} / {max(ours) * 1000:.0f} ms",
          f"{min(knot) * 1000:.0f} / {max(knot) * 1000:.0f} ms", "-", "-", None)
    t.row(f"PTR records transferred (counted by {AXFR_CLIENT})", f"{n_ours:,}", f"{n_knot:,}", "-", "65,536 both",
          n_ours == n_knot == 65536)
    t.emit()
    return t


# ---------------------------------------------------------------- B4 change -> secondary


def poll_until(port, ip, want, timeout=10.0, interval=0.002):
    """Query the PTR of ip at 127.0.0.1:port every ~interval until it is want; returns the time
    seen, None after timeout."""
    name = dns.reversename.from_address(ip)
    want = want.rstrip(".") + "."
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            q = dns.message.make_query(name, "PTR")
            s.sendto(q.to_wire(), ("127.0.0.1", port))
            try:
                data = s.recv(65535)
            except socket.timeout:
                continue
            t = time.monotonic()
            r = dns.message.from_wire(data)
            for rr in r.answer:
                if rr.rdtype == dns.rdatatype.PTR and rr[0].target.to_text() == want:
                    return t
            time.sleep(interval)
    finally:
        s.close()
    return None


def poll_soa_above(port, zone, serial, timeout=MISS_S, interval=0.002):
    """Time at which the SOA serial of zone at 127.0.0.1:port first differs from serial; None after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            s = soa(port, zone, timeout=0.5)
        except dns.exception.Timeout:
            continue
        if s is not None and s != serial:
            return time.monotonic(), s
        time.sleep(interval)
    return None, serial


def knot_reference(sec):
    """knotd primary -> the same knotd secondary: `knotc zone-reload` to answer, paced like
    our changes (one every ~0.1 s: knotd's secondary delays some refreshes by ~0.9 s at that pace)."""
    pri = Knot("pri")
    path = os.path.join(pri.dir, K_ZONE + ".zone")

    def write(serial, name):
        with open(path, "w") as f:
            f.write(f"$ORIGIN {K_ZONE}.\n$TTL 3600\n@ SOA ns1.example.net. hostmaster.example.net. {serial} 3600 900 "
                    f"1209600 3600\n@ NS ns1.example.net.\n1 PTR {name}.\n")
    write(1, "k0.example.net")
    pri.add_zone(K_ZONE, path, notify_to=f"127.0.0.1@{sec.port}")
    sec.add_secondary(K_ZONE, f"127.0.0.1@{pri.port}")
    wait_until(lambda: soa(sec.port, K_ZONE) == 1, what="knotd secondary of knotd")
    lat = []
    for i in range(1, N_KNOT_REF + 1):
        name = f"k{i}.example.net"
        write(i + 1, name)
        time.sleep(0.1)
        t0 = time.monotonic()
        pri.ctl("zone-reload", K_ZONE)
        t1 = poll_until(sec.port, "198.51.100.1", name, timeout=MISS_S)
        lat.append(t1 - t0 if t1 else float("inf"))
    pri.ctl("stop")
    return lat


def follow_changes(e, zg, sec, n):
    """n API PUTs one after another, each followed until sec answers it: (latencies from
    the PUT's 200 to sec's answer, to our primary's new serial, PUT times in ms, missed)."""
    lat, ours, put_ms, missed = [], [], [], []
    serial = soa(zg.port, S2_ZONE)
    for i in range(n):
        ip = f"192.0.2.{1 + i % 250}"
        name = f"s{i}-{random.randrange(10**6)}.example.net"
        t_put = time.monotonic()
        e.staff.call("PUT", f"/v1/ptr/{ip}", expect=(200,), json={"hostname": name, "force": True})
        t0 = time.monotonic()
        put_ms.append((t0 - t_put) * 1000)
        # first our hidden primary's new serial, then the secondary's answer (it comes later)
        tp, serial = poll_soa_above(zg.port, S2_ZONE, serial)
        ours.append(tp - t0 if tp else float("inf"))
        t1 = poll_until(sec.port, ip, name, timeout=MISS_S)
        if t1 is None:
            missed.append(i)
            log(f"B4: {sec.kind}: change {i}: {ip} -> {name} not at the secondary within {MISS_S} s (serial: "
                f"ours {soa(zg.port, S2_ZONE)}, secondary {soa(sec.port, S2_ZONE)})")
            lat.append(float("inf"))
        else:
            lat.append(t1 - t0)
    return lat, ours, put_ms, missed


# Targets (issue #19): p50 at most 50 ms for Knot, NSD and BIND, p99 at most 1 s (a refresh
# started late). PowerDNS 4.7 queues a NOTIFY and transfers when its communicator next goes
# through the queue, about one second later (0.2-1.0 s in tests/system/test_secondaries.py,
# 0.84-1.05 s here): p50 <= 1.2 s and p99 <= 1.5 s, what is ours (< 0.1 s) plus its second.
B4_TARGET = {"knot": (0.050, 1.0), "nsd": (0.050, 1.0), "bind": (0.050, 1.0), "pdns": (1.2, 1.5)}


def bench_secondary(e, zg, secs, ref_sec):
    for s in secs:
        wait_until(lambda s=s: soa(s.port, S2_ZONE) == soa(zg.port, S2_ZONE), timeout=30,
                   what=f"{s.kind} secondary of rdns")
    results = {}
    for s in secs:
        n = N_PDNS if s.kind == "pdns" else N_SECONDARY
        # only this one is notified while it is measured (the others stay idle)
        e.staff.call("PATCH", f"/v1/zones/{S2_ZONE}", expect=(200,), json={"notify": [s.target]})
        # a change it is notified of: it catches up with those made while it was not
        e.staff.call("PUT", "/v1/ptr/192.0.2.255", expect=(200,),
                     json={"hostname": f"catch-up-{s.kind}.example.net", "force": True})
        wait_until(lambda s=s: soa(s.port, S2_ZONE) == soa(zg.port, S2_ZONE), timeout=30,
                   what=f"{s.kind} at our serial")
        log(f"B4: {n} API PUTs, each followed until the {s.kind} secondary answers it")
        results[s.kind] = (n,) + follow_changes(e, zg, s, n)
    log("B4: reference: knotd primary -> knotd secondary")
    ref = knot_reference(ref_sec)
    t = Table("B4. Change -> secondary: API PUT 200 -> each secondary of our hidden primary answers the new PTR",
              "Knot 3.2, NSD 4.6, BIND 9.18 and PowerDNS 4.7 (gsqlite3), each configured from its deploy/dns "
              f"example (no TSIG)\nand measured alone (only it notified): {N_SECONDARY} staff PUTs (force) one "
              f"after another in {S2_ZONE} ({N_PDNS} for PowerDNS);\nour hidden primary's SOA and then the "
              "secondary are polled over UDP every ~2 ms. Latency from the PUT's 200\nto the first answer with "
              "the new name. Absolute targets: p50 <= 50 ms for Knot, NSD and BIND, p99 <= 1 s;\nPowerDNS "
              "p50 <= 1.2 s, p99 <= 1.5 s (it transfers about a second after the NOTIFY). Reference (baseline\n"
              f"column, no target): knotd primary -> a knotd secondary, `knotc zone-reload` to answer, "
              f"{N_KNOT_REF} changes\npaced ~0.1 s apart like ours.")
    rp50, rp99 = median(ref), pct(ref, 99)
    for kind, (n, lat, ours, put_ms, missed) in results.items():
        p50, p99 = median(lat), pct(lat, 99)
        t50, t99 = B4_TARGET[kind]
        t.row(f"{kind}: PUT 200 -> secondary answers, p50", fmt(p50 * 1000, " ms"), fmt(rp50 * 1000, " ms"),
              f"{p50 / rp50:.1f}", f"<= {t50 * 1000:.0f} ms", p50 <= t50)
        t.row(f"{kind}: PUT 200 -> secondary answers, p99", fmt(p99 * 1000, " ms"), fmt(rp99 * 1000, " ms"),
              f"{p99 / rp99:.1f}", f"<= {t99 * 1000:.0f} ms", p99 <= t99)
        t.row(f"{kind}: changes not answered within {MISS_S} s", f"{len(missed)} of {n}" +
              (f" (#{', #'.join(map(str, missed[:10]))})" if missed else ""), "-", "-", "0", not missed)
        slow = sum(1 for x in lat if x > 0.5)
        t.row(f"{kind}: min / max; changes slower than 0.5 s", f"{min(lat) * 1000:.0f} / {max(lat) * 1000:.0f} ms; "
              f"{slow}", f"{min(ref) * 1000:.0f} / {max(ref) * 1000:.0f} ms; {sum(1 for x in ref if x > 0.5)}",
              "-", "-", None)
        t.row(f"{kind}: PUT 200 -> our hidden primary serves it, p50 / p99", f"{median(ours) * 1000:.0f} / "
              f"{pct(ours, 99) * 1000:.0f} ms", "-", "-", "-", None)
    all_put = [x for r in results.values() for x in r[3]]
    t.row("PUT response time, median", fmt(median(all_put), " ms", 1), "-", "-", "-", None)
    t.row("rdns-zonegen daemon peak RSS (VmHWM) after B2-B4", fmt(zg.vmhwm_kib() / 1024, " MiB"), "-", "-", "-",
          None)
    t.emit()
    return t


# ---------------------------------------------------------------- B5 one change in the 1M zone


N_BIG_CHANGES = int(os.environ.get("RDNS_BENCH_BIG_CHANGES", "3"))
KNOT_XFR = re.compile(r"(AXFR|IXFR), incoming, remote [^,]+, finished, ([\d.]+) seconds, (\d+) messages, "
                      r"(\d+) bytes")


def knot_transfers(sec, zone):
    """[(kind, seconds, bytes)] of the transfers of zone that knotd's log says it received."""
    with open(os.path.join(sec.dir, "knotd.log"), errors="replace") as f:
        return [(m.group(1), float(m.group(2)), int(m.group(4))) for line in f
                if f"[{zone}.]" in line for m in [KNOT_XFR.search(line)] if m]


def dig_xfr_bytes(port, zone, qtype):
    """(bytes, seconds) of a transfer (AXFR or IXFR=serial) from 127.0.0.1:port, counted by dig."""
    t = time.perf_counter()
    r = subprocess.run(["dig", "-p", str(port), "@127.0.0.1", zone, qtype, "+noall", "+stats"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    dt = time.perf_counter() - t
    m = re.search(r"XFR size: \d+ records \(messages \d+, bytes (\d+)\)", r.stdout)
    if not m:
        raise RuntimeError(f"dig {qtype} {zone}: no XFR size in: {r.stdout[-500:]}")
    return int(m.group(1)), dt


def bench_big_change(e, zg, listener):
    """One change at a time in the 1M-record zone, followed by a knotd secondary of its own:
    PUT 200 -> our primary serves the new serial -> the secondary answers the new PTR; the
    bytes knotd received for each change (IXFR) against those of its initial AXFR."""
    sec = Knot("sec1m")
    try:
        return _big_change(e, zg, listener, sec)
    finally:
        sec.ctl("stop")


def _big_change(e, zg, listener, sec):
    e.staff.call("PATCH", f"/v1/zones/{BIG_ZONE}",
                 json={"notify": [f"127.0.0.1:{listener.port}", f"127.0.0.1:{sec.port}"]})
    time.sleep(0.5)
    sec.add_secondary(BIG_ZONE, f"127.0.0.1@{zg.port}")
    log(f"B5: knotd secondary of the {BIG} zone: initial AXFR")
    t = time.monotonic()
    wait_until(lambda: soa(sec.port, BIG_ZONE) == soa(zg.port, BIG_ZONE), timeout=300, interval=0.2,
               what=f"knotd secondary of the {BIG} zone")
    t_load = time.monotonic() - t
    log_off = len(zg.log())
    lat, ours, serials = [], [], []
    serial = soa(zg.port, BIG_ZONE)
    log(f"B5: {N_BIG_CHANGES} API PUTs in the {BIG} zone, each followed until the secondary answers it")
    for i in range(N_BIG_CHANGES):
        time.sleep(0.5)
        ip = f"2001:db8:aaaa:{0x100 + i:x}::5"
        name = f"b5-{i}-{random.randrange(10**6)}.example.net"
        e.staff.call("PUT", f"/v1/ptr/{ip}", expect=(200,), json={"hostname": name, "force": True})
        t0 = time.monotonic()
        before = serial
        tp, serial = poll_soa_above(zg.port, BIG_ZONE, serial, timeout=60)
        ours.append(tp - t0 if tp else float("inf"))
        t1 = poll_until(sec.port, ip, name, timeout=60)
        lat.append(t1 - t0 if t1 else float("inf"))
        serials.append((before, serial))
        log(f"B5: change {i}: primary {ours[-1] * 1000:.0f} ms, secondary {lat[-1] * 1000:.0f} ms")
    time.sleep(0.5)
    xfrs = knot_transfers(sec, BIG_ZONE)
    axfr_k = [b for kind, _, b in xfrs if kind == "AXFR"]
    ixfr_k = [b for kind, _, b in xfrs if kind == "IXFR"]
    b5_log = [ln for ln in zg.log()[log_off:].splitlines() if BIG_ZONE in ln]
    renders = [int(ln.split("written in ")[1].split()[0]) for ln in b5_log if "written in" in ln]
    # #19: versions served from the difference, and their files written afterwards
    diffs = [int(ln.split("from the difference in ")[1].split()[0]) for ln in b5_log
             if "from the difference in" in ln]
    writes = [int(ln.split("written to its file in ")[1].split()[0]) for ln in b5_log
              if "written to its file in" in ln]
    time.sleep(1.5)  # the last file write (incremental_write_ms)
    writes += [int(ln.split("written to its file in ")[1].split()[0]) for ln in zg.log()[log_off:].splitlines()
               if BIG_ZONE in ln and "written to its file in" in ln][len(writes):]
    rss = zg.vmhwm_kib()
    ixfr_dig, _ = dig_xfr_bytes(zg.port, BIG_ZONE, f"IXFR={serials[-1][0]}")
    axfr_dig, axfr_s = dig_xfr_bytes(zg.port, BIG_ZONE, "AXFR")

    t = Table(f"B5. One change in the {BIG}-record zone: API PUT 200 -> a knotd secondary answers; IXFR bytes vs AXFR",
              f"{N_BIG_CHANGES} staff PUTs (force), 0.5 s apart, in {BIG_ZONE} ({N_BIG:,} PTRs, loaded with COPY), "
              "with a knotd secondary\nof its own (NOTIFY from our primary). Latency from the PUT's 200 to the first "
              "answer with the new name\n(UDP poll every ~2 ms). Bytes: what knotd's log says it received: each "
              "change's IXFR (ours) against\nits initial AXFR of the zone (baseline); dig's count of the same "
              "transfers from our primary as a cross-check.")
    p50 = median(lat)
    t.row("PUT 200 -> secondary answers, p50", fmt(p50 * 1000, " ms"), "-", "-", "<= 250 ms", p50 <= 0.25)
    t.row("PUT 200 -> secondary answers, all", " ".join(f"{x * 1000:.0f}" for x in lat) + " ms", "-", "-", "-",
          None)
    t.row("PUT 200 -> our hidden primary serves it, p50", fmt(median(ours) * 1000, " ms"), "-", "-", "-", None)
    t.row(f"render of the {BIG} zone per change (log), median", fmt(median(renders) if renders else None, " ms"),
          "-", "-", "-", None)
    t.row("our primary: versions from the difference (log), all", " ".join(map(str, diffs)) + " ms" if diffs else "-",
          "-", "-", "-", None)
    t.row(f"  and the {BIG} zone's file written afterwards (log), all",
          " ".join(map(str, writes)) + " ms" if writes else "-", "-", "-", "-", None)
    t.row("rdns-zonegen peak RSS (VmHWM, whole run)", fmt(rss / 1024 if rss else None, " MiB"), "-", "-", "-", None)
    ib, ab = (max(ixfr_k) if ixfr_k else None), (axfr_k[0] if axfr_k else None)
    r = ib / ab if ib is not None and ab else None
    t.row("bytes to the secondary per change (knotd: IXFR, largest) vs AXFR", fmt(ib, " B"), fmt(ab, " B"),
          f"{r:.6f}" if r is not None else "-", "<= 0.001", r is not None and r <= 0.001 and len(ixfr_k) >=
          N_BIG_CHANGES)
    t.row("transfers knotd received: IXFR / AXFR (after the initial AXFR)",
          f"{len(ixfr_k)} / {max(0, len(axfr_k) - 1)}", "-", "-", f"{N_BIG_CHANGES} / 0",
          len(ixfr_k) >= N_BIG_CHANGES and len(axfr_k) == 1)
    t.row("dig: IXFR from the previous serial vs AXFR, bytes", fmt(ixfr_dig, " B"), fmt(axfr_dig, " B"),
          f"{ixfr_dig / axfr_dig:.6f}", "-", None)
    t.row(f"AXFR of the {BIG} zone by dig / knotd's initial load", fmt(axfr_s, " s", 2), fmt(t_load, " s", 1),
          "-", "-", None)
    t.emit()
    return t


def run(pg):
    e = setup(pg)
    tables = []

    def want(name):
        return not ONLY or name in ONLY
    if want("B1"):
        guarded(tables, "B1", bench_render, pg, e)
    listener = NotifyListener()
    ref_sec = Knot("sec")
    secs, zg = [], None
    try:
        zg = start_daemon(e, listener, secs)
        if want("B2"):
            guarded(tables, "B2", bench_notify, e, zg, listener)
        if want("B3"):
            guarded(tables, "B3", bench_axfr, e, zg)
        if want("B4"):
            for s in secs:
                s.start()
            guarded(tables, "B4", bench_secondary, e, zg, secs, ref_sec)
        if want("B5"):
            guarded(tables, "B5", bench_big_change, e, zg, listener)
    finally:
        listener.close()
        if zg:
            zg.stop()
        ref_sec.ctl("stop")
        for s in secs:
            s.close()
        e.api.stop()
    return tables
