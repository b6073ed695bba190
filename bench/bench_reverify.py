"""bench_reverify.py - R1: continuous re-verification by rdns-verifier over 100,000 custom
PTRs whose names a local knotd confirms: records re-verified per second with the budget off
(reverify_qps = 0) and with it on, against knotd's own rate for the same A queries from
as many sequential clients as the verifier has threads."""
import multiprocessing
import os
import socket
import time

import dns.flags
import dns.message
import dns.rdatatype

from benchlib import Api, Daemon, Knot, Table, fmt, log, tempdir, wait_until

N = 100_000
ZONE = "reverify-bench.net"  # not under a special-use name (the policy check would fail it unasked)
THREADS = 4
WINDOW = 6.0   # seconds measured, after a warm-up (thousands of records a second; 500 with the budget)
QPS = 500      # the budget of the second run
TARGET_OFF = 2000.0


def addr(i):
    return f"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}"


class Verifier(Daemon):
    def __init__(self, db_url, extra=None):
        conf = {"database_url": db_url, "log_level": "warn", "verifier_threads": THREADS, "verifier_poll_ms": 100}
        conf.update(extra or {})
        super().__init__("rdns-verifier", conf)


def _client(port, start, step, seconds, out):
    """Sequential A queries for the bench's names, as a verifier thread asks them (one
    outstanding at a time), for seconds; puts the number answered."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(("127.0.0.1", port))
    s.settimeout(1.0)
    n, i = 0, start
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        q = dns.message.make_query(f"h{i}.{ZONE}.", dns.rdatatype.A)
        q.flags |= dns.flags.RD
        s.send(q.to_wire())
        try:
            s.recv(4096)
            n += 1
        except socket.timeout:
            pass
        i = (i + step) % N
    out.put(n)


def knot_rate(port, seconds):
    out = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_client, args=(port, k, THREADS, seconds, out)) for k in range(THREADS)]
    for p in procs:
        p.start()
    total = sum(out.get(timeout=seconds + 30) for _ in procs)
    for p in procs:
        p.join(30)
    return total / seconds


def measure(pg, db, seconds):
    """Re-verifications recorded per second (rows whose checked_at moved) over seconds, or
    until fewer than 5% of the records are left to do: a window that outlasts the work
    counts idle time as if it were the verifier's (with a 10 s window, 100,000 records at
    ~10,000/s ran out after 6 s and R1 read 5,981/s). Returns (rate, records, seconds)."""
    t0 = pg.psql("SELECT now()", db)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.25)
        if int(pg.psql("SELECT count(*) FROM ptr_checks WHERE checked_at IS NULL", db)) < N // 20:
            break
    t1 = pg.psql("SELECT now()", db)
    took = float(pg.psql(f"SELECT extract(epoch FROM '{t1}'::timestamptz - '{t0}'::timestamptz)", db))
    n = int(pg.psql(f"SELECT count(*) FROM ptr_checks WHERE checked_at >= '{t0}' AND checked_at < '{t1}'", db))
    return n / took, n, took


def make_all_due(pg, db):
    pg.psql("UPDATE ptr_checks SET due_at = now(), checked_at = NULL", db)
    pg.psql("UPDATE reverify_budget SET tokens = 0, updated_at = now()", db)


def run_r1(pg):
    t = Table("R1. Re-verification throughput, 100,000 custom PTRs, a local knotd",
              note=f"rdns-verifier (release), {THREADS} threads, batches of 64 (claim and finish one statement each);\n"
                   f"every name confirms (A at knotd). Baseline: knotd answering the same A queries from\n"
                   f"{THREADS} sequential clients (Python processes), one query outstanding each, as the threads ask.\n"
                   f"Each rate over {WINDOW:.0f} s after a 3 s warm-up (less if the records to do run out);\n"
                   f"with the budget, reverify_qps = {QPS}.")
    db_url = pg.create_db("rdns_reverify")
    db = "rdns_reverify"
    api = Api(db_url)
    api.run("migrate")
    log(f"R1: {N:,} records and their forward zone")
    zdir = tempdir("rdns-bench-r1-")
    zfile = os.path.join(zdir, ZONE + ".zone")
    with open(zfile, "w") as f:
        f.write(f"$ORIGIN {ZONE}.\n$TTL 3600\n@ SOA ns hostmaster 1 3600 600 86400 60\n@ NS ns\nns A 127.0.0.1\n")
        for i in range(N):
            f.write(f"h{i} A {addr(i)}\n")
    knot = Knot("r1")
    knot.add_zone(ZONE, zfile)
    wait_until(lambda: "serial: 1" in knot.ctl("zone-status", ZONE).stdout, timeout=120, what="knotd zone")
    pg.psql("INSERT INTO reverse_zones (name, prefix, nameservers, soa_mname, soa_rname) VALUES"
            " ('0.10.in-addr.arpa', '10.0.0.0/16', '{ns.example.net}', 'ns.example.net', 'h.example.net'),"
            " ('1.10.in-addr.arpa', '10.1.0.0/16', '{ns.example.net}', 'ns.example.net', 'h.example.net')", db)
    pg.psql("INSERT INTO ptr_records (ip, zone_id, hostname, verified_at)"
            " SELECT ('10.' || (i >> 16) || '.' || ((i >> 8) & 255) || '.' || (i & 255))::inet,"
            " (SELECT id FROM reverse_zones WHERE prefix >>= ('10.' || (i >> 16) || '.0.0')::inet),"
            f" 'h' || i || '.{ZONE}', now() FROM generate_series(0, {N - 1}) i", db)
    # Discovery by the verifier itself (rows due over the interval), then all made due now.
    base = {"resolvers": f"127.0.0.1:{knot.port}", "reverify_interval": 86400}
    v = Verifier(db_url, dict(base, reverify_qps=0)).start()
    wait_until(lambda: pg.psql("SELECT count(*) FROM ptr_checks", db) == str(N), timeout=120, what="discovery")
    v.stop()

    rows = []
    for label, qps in (("budget off", 0), ("budget on", QPS)):
        make_all_due(pg, db)
        v = Verifier(db_url, dict(base, reverify_qps=qps)).start()
        time.sleep(3.0)
        rate, n, took = measure(pg, db, WINDOW)
        v.stop()
        drift = pg.psql("SELECT count(*) FROM ptr_checks WHERE state <> 'verified'", db)
        if drift != "0":
            log("R1: a drifted record: " + pg.psql("SELECT ip, hostname, finding FROM ptr_checks"
                                                   " WHERE state <> 'verified' LIMIT 1", db))
        log(f"R1: {label}: {rate:,.0f} records/s ({n} in {took:.1f} s), {drift} not verified")
        rows.append((label, qps, rate, drift))
    base_rate = knot_rate(knot.port, WINDOW)
    log(f"R1: knotd baseline {base_rate:,.0f} queries/s")
    off = rows[0][2]
    t.row("records/s, budget off", fmt(off), fmt(base_rate) + " q/s", f"{off / base_rate:.2f}",
          f">= {TARGET_OFF:,.0f}/s", off >= TARGET_OFF)
    on = rows[1][2]
    t.row(f"records/s, reverify_qps = {QPS}", fmt(on), f"{QPS}", f"{on / QPS:.3f}", "0.95 .. 1.05",
          abs(on / QPS - 1) <= 0.05)
    t.row("records not verified afterwards", f"{rows[0][3]} / {rows[1][3]}", "0", "-", "0",
          rows[0][3] == "0" and rows[1][3] == "0")
    return t


def run(pg):
    tables = []
    t = run_r1(pg)
    t.emit()
    tables.append(t)
    return tables
