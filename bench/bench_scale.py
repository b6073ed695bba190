"""bench_scale.py - issue #17: rdns on a provider-sized database (RDNS_BENCH_SCALE=provider,
`bench/run.sh scale`).

Builds bench/scale.py's profile once (16,384 IPv4 /24 and 65,536 IPv6 /48 zones, 200,000
accounts with a token each, 1,000,000 allocations, 1,000,000 custom PTRs, 2,000,000 requests
and audit entries; RDNS_BENCH_SCALE_DIV=n builds 1/n of everything, for quick runs: not
the profile), then measures on it:

S1 GET /v1/ptr/{ip} over addresses spread across the zones, each with the token of the
   account that holds it, against pgbench running st_auth_ctx (db/ptr.c) with the same
   spread of addresses and tokens;
S2 verified PUTs from many accounts against PowerDNS (bench_api's baseline), without a write
   rate limit (as A2) and, in rounds of their own, with the default one;
S3 rdns-zonegen --once --full on the whole database against psql \\copy of the statements
   that produce every record it writes (custom PTRs, the default PTRs of every address
   without one, SOA and NS of every zone); the daemon from start to the last zone published;
S4 one change -> NOTIFY with every zone present, only its zone rendered; a reconcile pass
   with nothing changed (time, statements), and a change made during it;
S5 the database's size on disk, and per million PTRs.
"""
import ipaddress
import os
import random
import re
import subprocess
import time

import psycopg2

import bench_api
import scale
from bench_zonegen import NotifyListener, soa
from benchlib import (Api, Knot, Table, Zonegen, cpu_root, cpu_ticks, cpu_us_per, fmt, guarded, log, median, pct, pgbench,
                      stop_proc, tempdir, wait_until, wrk)

DIV = int(os.environ.get("RDNS_BENCH_SCALE_DIV", "1"))
# The cluster's shared_buffers when the scale profile runs (bench.py; the default profile
# keeps 256MB): the full profile's database is 1.3 GB, and a provider's PostgreSQL holds its
# working set (PostgreSQL's own guidance: a quarter of the machine's memory; 24 GiB here).
SHARED_BUFFERS = os.environ.get("RDNS_BENCH_PG_SHARED_BUFFERS", "2GB")
REUSE = os.environ.get("RDNS_BENCH_SCALE_DSN")  # libpq DSN of a database built before: no build
DUR = int(os.environ.get("RDNS_BENCH_DURATION", "8"))
DUR_GET = max(2, DUR * 3 // 4)
ROUNDS = 3
RATE_LIMIT = 120  # rate_limit_writes' default
DOMAIN = "scale.example.com"
N_GET = 50_000        # (token, address) pairs the GETs cycle over
N_PUT = 4096          # addresses (of as many accounts) the PUTs cycle over
N_NOTIFY = int(os.environ.get("RDNS_BENCH_NOTIFY_CHANGES", "20"))
N_DURING = 10         # changes made during a reconcile pass (at most)
# RDNS_BENCH_SCALE_ONLY=S3,S4: run only those tables (S0, the build, always; S4 needs S3's daemon)
ONLY = {s.strip().upper() for s in os.environ.get("RDNS_BENCH_SCALE_ONLY", "").split(",") if s.strip()}


def wanted(name):
    return not ONLY or name in ONLY

ACC = scale.N_ACCOUNTS // DIV
EACH = scale.N_ALLOC_EACH // DIV
BASE4 = int(ipaddress.IPv4Address("10.0.0.0"))

# The statement a GET runs (db/ptr.c st_auth_ctx with db/floor.h's lookups and DELEG), $1
# the token id and $2 the address, both derived from pgbench's random j exactly as
# v4_pair() derives them: j < EACH is the PTR of /29 allocation j (its first address + 1),
# j >= EACH that of /32 allocation j - EACH; the account of allocation i is (i % ACC) + 1,
# and its token has the same id. ':' in the to_char formats is written \072 (pgbench would
# read ':MI' as a variable).
_TS = "to_char({} AT TIME ZONE 'UTC', E'YYYY-MM-DD\"T\"HH24\\\\072MI\\\\072SS.MS\"Z\"')"
_X = "('10.0.0.0'::inet + :o::bigint)"
PGBENCH_SCRIPT = (
    "\\set j random(0, {jmax})\n"
    "\\set tid (:j % {each}) % {acc} + 1\n"
    "\\set o :j * 8 + case when :j < {each} then 1 else 0 end\n"
    "SELECT encode(t.secret_hash, 'hex'), a.id, a.role, a.name,"
    " t.last_used_at IS NULL OR t.last_used_at < now() - interval '60 seconds',"
    " z.id, z.name, coalesce(z.default_ptr, ''),"
    " (SELECT f.account_id FROM (SELECT account_id, prefix FROM allocations WHERE prefix <= X"
    " ORDER BY prefix DESC LIMIT 1) f WHERE f.prefix >>= X),"
    " p.hostname, " + _TS.format("p.verified_at") + ", " + _TS.format("p.updated_at") + ","
    " (SELECT d.prefix::text || ' ' || array_to_string(d.nameservers, ', ') FROM delegations d"
    " WHERE d.prefix >>= X)"
    " FROM api_tokens t JOIN accounts a ON a.id = t.account_id"
    " LEFT JOIN LATERAL (SELECT * FROM reverse_zones WHERE prefix <= X ORDER BY prefix DESC LIMIT 1) z"
    " ON z.prefix >>= X"
    " LEFT JOIN ptr_records p ON p.ip = X"
    " WHERE t.id = :tid AND t.revoked_at IS NULL;\n").replace("X", _X)

# What rdns-zonegen writes, as three statements (the baseline of S3): every custom PTR,
# the default PTR of every address of a zone with a template that has none (the template's
# {a}-{d} being the address's octets), and each zone's SOA and NS records.
COPY_SQL = [
    "\\copy (SELECT z.name, host(p.ip), p.hostname FROM ptr_records p JOIN reverse_zones z ON z.id = p.zone_id "
    "ORDER BY p.zone_id, p.ip) TO '{dir}/custom.txt'",
    "\\copy (SELECT z.name, host(x.a), replace(replace(replace(replace(z.default_ptr, '{{a}}', split_part(host(x.a), "
    "'.', 1)), '{{b}}', split_part(host(x.a), '.', 2)), '{{c}}', split_part(host(x.a), '.', 3)), '{{d}}', "
    "split_part(host(x.a), '.', 4)) FROM reverse_zones z, LATERAL (SELECT host(z.prefix)::inet + g AS a FROM "
    "generate_series(0, 255) g) x WHERE z.default_ptr IS NOT NULL AND family(z.prefix) = 4 AND NOT EXISTS "
    "(SELECT 1 FROM ptr_records p WHERE p.ip = x.a) ORDER BY z.id, x.a) TO '{dir}/default.txt'",
    "\\copy (SELECT z.name, z.soa_mname, z.soa_rname, z.serial, ns FROM reverse_zones z, unnest(z.nameservers) ns "
    "ORDER BY z.id) TO '{dir}/soa_ns.txt'",
]


def v4_pair(j):
    """(token, address) of the custom PTR number j of the IPv4 allocations (see PGBENCH_SCRIPT)."""
    i = j % EACH
    ip = str(ipaddress.IPv4Address(BASE4 + j * 8 + (1 if j < EACH else 0)))
    return scale.token(i % ACC + 1), ip


def sql(db, q, args=()):
    with psycopg2.connect(db) as c, c.cursor() as cur:
        cur.execute(q, args)
        rows = cur.fetchall() if cur.description else []
    c.close()
    return rows


class Env:
    pass


def setup(pg):
    e = Env()
    if REUSE:
        # a database bench/scale.py built before (at 1/RDNS_BENCH_SCALE_DIV): re-measuring
        # without the build; the PUTs of an earlier run have changed some of its PTRs
        e.db = REUSE
        e.build = []
        log("scale: using the database RDNS_BENCH_SCALE_DSN names (no build)")
        # its cluster is not our child: its postmaster (a backend's parent) is a root of the
        # processes whose CPU the tables count, when it runs on this machine
        # (the checkpointer: the query's own backend may be gone once sql() has closed it)
        backend = sql(e.db, "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'")[0][0]
        try:
            with open(f"/proc/{backend}/stat") as f:
                cpu_root(int(f.read().rsplit(")", 1)[1].split()[1]))
        except OSError:
            log("scale: the RDNS_BENCH_SCALE_DSN cluster is not on this machine: no PostgreSQL CPU counted")
    else:
        e.db = pg.create_db("bench_scale")
        Api(e.db).run("migrate")
        log(f"scale: building the profile{'' if DIV == 1 else f' at 1/{DIV} (RDNS_BENCH_SCALE_DIV: not the profile)'}")
        e.build = scale.build(e.db, div=DIV, log=log)
    # A PostgreSQL sized for the database, as a provider's is (SHARED_BUFFERS, bench.py),
    # and warm, as a running one is: the random-key index pages of the 2M-row history
    # tables otherwise go in and out of shared_buffers on every change (bench/README, S2)
    t0 = time.monotonic()
    sql(e.db, "CREATE EXTENSION IF NOT EXISTS pg_prewarm")
    pages = sql(e.db, "SELECT coalesce(sum(pg_prewarm(c.oid)), 0) FROM pg_class c"
                " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'i')")[0][0]
    sb = sql(e.db, "SHOW shared_buffers")[0][0]
    e.build.append((f"pg_prewarm ({int(pages) * 8 // 1024:,} MiB; shared_buffers {sb})",
                    time.monotonic() - t0))
    e.n_zones = sql(e.db, "SELECT count(*) FROM reverse_zones")[0][0]
    e.n_ptr = sql(e.db, "SELECT count(*) FROM ptr_records")[0][0]
    e.size, e.tables = scale.sizes(e.db)
    # the forward zone the PUTs' names resolve in: a<k>, b<k>, c<k> -> address k
    e.put_pairs = []
    step = max(1, EACH // N_PUT)
    for k in range(min(N_PUT, EACH, ACC)):
        e.put_pairs.append(v4_pair(k * step) + (k,))
    knot = Knot("scale-fwd")
    path = os.path.join(knot.dir, f"{DOMAIN}.zone")
    with open(path, "w") as f:
        f.write(f"$ORIGIN {DOMAIN}.\n$TTL 3600\n@ SOA ns1 hostmaster 1 3600 600 86400 60\n@ NS ns1\n"
                "ns1 A 192.0.2.53\n")
        for _, ip, k in e.put_pairs:
            for v in "abc":
                f.write(f"{v}{k} A {ip}\n")
    knot.add_zone(DOMAIN, path)
    wait_until(lambda: "NOERROR" in subprocess.run(["kdig", "-p", str(knot.port), "@127.0.0.1", f"a0.{DOMAIN}", "A"],
                                                   stdout=subprocess.PIPE, text=True).stdout, what="forward zone")
    e.knot = knot
    e.api = Api(e.db, {"resolvers": f"127.0.0.1:{knot.port}", "verify_timeout_ms": 1000, "verify_retries": 1,
                               **dict(kv.split("=", 1) for kv in os.environ.get("RDNS_BENCH_API_EXTRA", "").split() if kv)})
    e.api.start()
    e.dir = e.api.dir
    e.staff_id = sql(e.db, "INSERT INTO accounts (name, role) VALUES ('bench-staff-' || md5(random()::text), "
                     "'staff') RETURNING id")[0][0]
    return e


def build_table(e):
    t = Table("S0. Provider profile: build (bench/scale.py, INSERT ... SELECT inside PostgreSQL) and size",
              f"{'the profile' if DIV == 1 else f'1/{DIV} of the profile (RDNS_BENCH_SCALE_DIV; not the profile)'}: "
              f"{e.n_zones:,} zones, {e.n_ptr:,} custom PTRs; size: pg_database_size after the build's ANALYZE.")
    for name, secs in e.build:
        t.row(f"build: {name}", fmt(secs, " s", 1))
    t.row("database size on disk", fmt(e.size / 2**20, " MiB", 0))
    t.row("database size per million custom PTRs", fmt(e.size / 2**20 / (e.n_ptr / 1e6), " MiB", 0))
    for name, size in e.tables[:5]:
        t.row(f"  table {name} (with indexes)", fmt(size / 2**20, " MiB", 0))
    t.emit()
    return t


# ---------------------------------------------------------------- S1 GET


def bench_get(e):
    rnd = random.Random(17)
    pairs = [v4_pair(rnd.randrange(2 * EACH)) for _ in range(N_GET)]
    lines = os.path.join(e.dir, "get.txt")
    with open(lines, "w") as f:
        for tok, ip in pairs:
            f.write(f"{tok} {ip}\n")
    # sanity: the owner sees its custom PTR
    got = sql(e.db, "SELECT hostname FROM ptr_records WHERE ip = %s", (pairs[0][1],))[0][0]
    r = subprocess.run(["curl", "-s", "-H", f"Authorization: Bearer {pairs[0][0]}",
                        f"{e.api.base}/v1/ptr/{pairs[0][1]}"], stdout=subprocess.PIPE, text=True, timeout=30)
    assert got in r.stdout, r.stdout
    script = os.path.join(e.dir, "get.sql")
    with open(script, "w") as f:
        f.write(PGBENCH_SCRIPT.format(jmax=2 * EACH - 1, each=EACH, acc=ACC))
    args = [lines, 2]
    log("S1 GET: warm-up (API and pgbench, 2 s each)")
    wrk(e.api.base, "wrk_scale_get.lua", args, duration=2)
    pgbench(e.db, script, duration=2)
    ours, base = [], []
    for i in range(ROUNDS):
        log(f"S1 GET: round {i + 1}/{ROUNDS}: wrk {DUR_GET} s, then pgbench {DUR_GET} s")
        c0 = cpu_ticks()
        r = wrk(e.api.base, "wrk_scale_get.lua", args, duration=DUR_GET)
        r["cpu"] = cpu_us_per(c0, cpu_ticks(), r["requests"], ("rdns-api", "postgres"))
        ours.append(r)
        c0 = cpu_ticks()
        r = pgbench(e.db, script, duration=DUR_GET, log_dir=e.dir)
        r["cpu"] = cpu_us_per(c0, cpu_ticks(), r["tps"] * DUR_GET, ("postgres",))
        base.append(r)
    o = max(ours, key=lambda r: r["rps"])
    b = max(base, key=lambda r: r["tps"])
    errors = sum(int(r["requests"]) - r["codes"].get(200, 0) + int(r["err_connect"] + r["err_read"] + r["err_write"]
                                                                   + r["err_timeout"]) for r in ours)
    t = Table("S1. GET /v1/ptr/{ip} on the provider profile, many accounts: rdns-api vs pgbench (same SELECT)",
              f"wrk -t2 -c64 -d{DUR_GET}s cycling over {N_GET:,} (token, address) pairs drawn at random from the "
              f"{2 * EACH:,} IPv4 custom PTRs\n(spread over the /24 zones; each request with the token of the "
              "account holding the address); pgbench -c64 -j2 -M prepared,\none transaction = st_auth_ctx "
              "(db/ptr.c, floor lookups of db/floor.h) for a random one of the same PTRs with its owner's token.\n"
              f"{ROUNDS} alternating rounds after a 2 s warm-up each; throughput the best round, latencies the "
              "median over rounds.\nrdns-api also updates a token's last_used_at on its first use in a minute "
              "(pgbench does not): with this many\naccounts most requests of a round are a first use.")
    ratio = o["rps"] / b["tps"]
    t.row("GET throughput (req/s | TPS)", fmt(o["rps"], nd=0), fmt(b["tps"], nd=0), f"{ratio:.2f}", ">= 0.50",
          ratio >= 0.5)
    p99 = median([r["p99_us"] for r in ours]) / 1000
    bp99 = median([r["p99_us"] for r in base]) / 1000
    t.row("GET p99 latency", fmt(p99, " ms", 1), fmt(bp99, " ms", 1), f"{p99 / bp99:.1f}", "<= 10 ms", p99 <= 10)
    t.row("GET p50 latency", fmt(median([r["p50_us"] for r in ours]) / 1000, " ms", 2),
          fmt(median([r["p50_us"] for r in base]) / 1000, " ms", 2))
    t.row("throughput per round", " ".join(fmt(r["rps"], nd=0) for r in ours),
          " ".join(fmt(r["tps"], nd=0) for r in base))
    t.row("GET errors (non-200 + socket), all rounds", fmt(errors), fmt(sum(r["failed"] for r in base)), "-", "0",
          errors == 0)
    t.row("CPU per request: rdns-api + postgres", f"{o['cpu']['rdns-api']:.0f} + {o['cpu']['postgres']:.0f} us",
          f"- + {b['cpu']['postgres']:.0f} us")
    t.emit()
    return t


# ---------------------------------------------------------------- S2 verified PUT


def forget_history(db, req0, aud0):
    """Drop the requests and audit entries a run added (ids past req0 and aud0), and VACUUM so
    that the next run reuses their space. Each S2 run adds ~110,000 of each, about 1 KB a
    change with their indexes: a kept database (RDNS_BENCH_SCALE_DSN) had grown from the
    profile's 2M to 10M requests and 12 GB after a day of runs, past shared_buffers, and
    S2 measured that history instead of the profile's (rdns-api and PostgreSQL CPU per
    change 30% higher). audit_log is append-only by its trigger: this bench's own rows go
    with the triggers off (session_replication_role, a superuser's setting)."""
    with psycopg2.connect(db) as c, c.cursor() as cur:
        cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute("DELETE FROM verify_jobs WHERE request_id > %s", (req0,))
        cur.execute("DELETE FROM audit_log WHERE id > %s", (aud0,))
        cur.execute("DELETE FROM ptr_requests WHERE id > %s", (req0,))
    c.close()
    c = psycopg2.connect(db)
    c.autocommit = True
    with c.cursor() as cur:
        cur.execute("VACUUM verify_jobs, audit_log, ptr_requests, zone_changes")
    c.close()


def bench_put(e):
    lines = os.path.join(e.dir, "put.txt")
    with open(lines, "w") as f:
        for tok, ip, k in e.put_pairs:
            f.write(f"{tok} {ip} {k}\n")
    n = len(e.put_pairs)
    t0 = sql(e.db, "SELECT now()")[0][0]
    seq0 = sql(e.db, "SELECT coalesce(max(seq), 0) FROM zone_changes")[0][0]
    req0, aud0 = sql(e.db, "SELECT (SELECT coalesce(max(id), 0) FROM ptr_requests),"
                     " (SELECT coalesce(max(id), 0) FROM audit_log)")[0]
    log("S2 PUT: warm-up 2 s")
    wrk(e.api.base, "wrk_scale_put.lua", [lines, DOMAIN, "ba", 2], duration=2)
    log("S2 PUT baseline: PowerDNS (gsqlite3) API, bench_api's zone")
    pd = bench_api.Pdns()
    pd.create_zone()
    wrk(pd.base, "wrk_pdns.lua", [pd.KEY, bench_api.NET, bench_api.N_ADDR, bench_api.DOMAIN, "ba", 1], conns=1,
        threads=1, duration=2)
    calib = {}
    for conns in (1, 2):
        r = wrk(pd.base, "wrk_pdns.lua", [pd.KEY, bench_api.NET, bench_api.N_ADDR, bench_api.DOMAIN, "ca", conns],
                conns=conns, threads=conns, duration=max(2, DUR // 2))
        calib[conns] = r["codes"].get(204, 0) / (r["duration_us"] / 1e6)
    pc = max(calib, key=calib.get)
    # The same rdns-api with the default write rate limit (a provider's configuration; the
    # other rounds run without one, as A2 and PowerDNS do): every PUT also takes a token from
    # its account's bucket. S2 leaves each account ~25 changes a minute, below the limit.
    rl = Api(e.db, {**{k: v for k, v in e.api.conf.items() if k not in ("database_url", "api_listen")},
                    "rate_limit_writes": RATE_LIMIT})
    ours, base, limited = [], [], []
    # Our rounds' variants: each starts with the one name the round before it did not set,
    # so that every PUT is a change (the warm-up set b and a)
    variants = ["ca", "bc", "ab"] * ROUNDS

    def our_round(api, tag):
        c0 = cpu_ticks()
        o = wrk(api.base, "wrk_scale_put.lua", [lines, DOMAIN, tag, 2], duration=DUR)
        o["cpu"] = cpu_us_per(c0, cpu_ticks(), o["requests"], ("rdns-api", "postgres"))
        o["ok_rate"] = o["codes"].get(200, 0) / (o["duration_us"] / 1e6)
        return o
    try:
        rl.start()
        for i in range(ROUNDS):
            tag = "ca" if i % 2 == 0 else "ba"
            log(f"S2 PUT: round {i + 1}/{ROUNDS}: rdns-api wrk -c64 {DUR} s, then PowerDNS wrk -c{pc} {DUR} s, "
                f"then rdns-api with rate_limit_writes = {RATE_LIMIT} {DUR} s")
            ours.append(our_round(e.api, variants[2 * i]))
            r = wrk(pd.base, "wrk_pdns.lua", [pd.KEY, bench_api.NET, bench_api.N_ADDR, bench_api.DOMAIN, tag, pc],
                    conns=pc, threads=pc, duration=DUR)
            r["ok_rate"] = r["codes"].get(204, 0) / (r["duration_us"] / 1e6)
            base.append(r)
            limited.append(our_round(rl, variants[2 * i + 1]))
    finally:
        rl.stop()
    stop_proc(pd.proc)
    # No rdns-zonegen runs during S2, so its ~100,000 changes stay queued in zone_changes. A
    # running one would have taken them within seconds: on a kept database (RDNS_BENCH_SCALE_DSN)
    # a dozen S2 runs left 1.6M of them, and the next S3 --once --full spent 23.4 s instead of
    # 15.8 s clearing them. S3 renders every zone from the records anyway.
    sql(e.db, "DELETE FROM zone_changes WHERE seq > %s", (seq0,))
    time.sleep(1)
    accounts = sql(e.db, "SELECT count(DISTINCT account_id), count(*) FILTER (WHERE state = 'applied'), count(*) "
                   "FROM ptr_requests WHERE created_at >= %s", (t0,))[0]
    forget_history(e.db, req0, aud0)
    o = max(ours, key=lambda r: r["ok_rate"])
    b = max(base, key=lambda r: r["ok_rate"])
    bad = sum(int(r["requests"]) - r["codes"].get(200, 0) for r in ours)
    socks = sum(int(r["err_connect"] + r["err_read"] + r["err_write"] + r["err_timeout"]) for r in ours)
    t = Table("S2. Verified PUT /v1/ptr/{ip} on the provider profile, many accounts: rdns-api vs PowerDNS API",
              f"wrk -t2 -c64 -d{DUR}s over {n:,} addresses of as many accounts (each PUT with its owner's token), "
              "setting c<k>/a<k> or\nb<k>/a<k>." + DOMAIN + " in turn (A records at a local knotd: every PUT passes "
              "the forward check and changes the PTR).\nBaseline: bench_api's PowerDNS (gsqlite3, one zone of "
              f"{bench_api.N_ADDR:,} PTRs, the same PATCHes as A2) with its best of 1 or 2 connections;\n"
              f"{ROUNDS} alternating rounds; the best round of each side.")
    ratio = o["ok_rate"] / b["ok_rate"] if b["ok_rate"] else float("inf")
    t.row("successful changes/s (200 | 204), best round", fmt(o["ok_rate"], nd=0), fmt(b["ok_rate"], nd=0),
          f"{ratio:.2f}", ">= 5.00", ratio >= 5)
    t.row("changes/s per round", " ".join(fmt(r["ok_rate"], nd=0) for r in ours),
          " ".join(fmt(r["ok_rate"], nd=0) for r in base))
    # each of our rounds against the PowerDNS round right after it: the machine's speed drifts
    # (this shared kind ran the same build 30% apart within ten minutes), less so within a pair
    paired = [r["ok_rate"] / p["ok_rate"] for r, p in zip(ours, base) if p["ok_rate"]]
    if paired:
        t.row("ratio per round (ours / the PowerDNS round after it); median", " ".join(f"{x:.2f}" for x in paired),
              "-", f"{median(paired):.2f}")
    t.row("errors: non-200 + socket errors, all rounds", f"{bad} + {socks}", "-", "-", "0", bad == 0 and socks == 0)
    t.row("accounts that made changes; requests applied / made", f"{accounts[0]:,}; {accounts[1]:,} / {accounts[2]:,}")
    t.row("PUT latency p50 / p99, best round", f"{o['p50_us'] / 1000:.1f} / {o['p99_us'] / 1000:.1f} ms",
          f"{b['p50_us'] / 1000:.1f} / {b['p99_us'] / 1000:.1f} ms")
    t.row("CPU per change: rdns-api + postgres", f"{o['cpu']['rdns-api']:.0f} + {o['cpu']['postgres']:.0f} us")
    lo = max(limited, key=lambda r: r["ok_rate"])
    lbad = sum(int(r["requests"]) - r["codes"].get(200, 0) for r in limited)
    lsocks = sum(int(r["err_connect"] + r["err_read"] + r["err_write"] + r["err_timeout"]) for r in limited)
    lpaired = [r["ok_rate"] / p["ok_rate"] for r, p in zip(limited, base) if p["ok_rate"]]
    t.row(f"with rate_limit_writes = {RATE_LIMIT} (the default): changes/s, best round",
          fmt(lo["ok_rate"], nd=0), fmt(b["ok_rate"], nd=0),
          f"{lo['ok_rate'] / b['ok_rate']:.2f}" if b["ok_rate"] else "-")
    t.row("  per round; ratio to the PowerDNS round before it, median", " ".join(fmt(r["ok_rate"], nd=0) for r in limited),
          "-", f"{median(lpaired):.2f}" if lpaired else "-")
    t.row("  errors (non-200, 429 included, + socket); CPU per change", f"{lbad} + {lsocks}; {lo['cpu']['rdns-api']:.0f} + "
          f"{lo['cpu']['postgres']:.0f} us", "-", "-", "0", lbad == 0 and lsocks == 0)
    t.emit()
    return t


# ---------------------------------------------------------------- S3 zonegen cold start


def run_rusage(argv, d):
    """Runs argv under GNU time (its peak RSS: a child forked from this Python process would
    report the parent's RSS at the fork as its own ru_maxrss); (seconds, peak RSS in KiB)."""
    out_path = os.path.join(d, "time.txt")
    t0 = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out_path] + argv, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    secs = time.monotonic() - t0
    if r.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({r.returncode}): {r.stdout[-3000:]}")
    with open(out_path) as f:
        return secs, int(f.read().split()[-1])


def copy_baseline(pg, e, d):
    script = os.path.join(d, "copy.sql")
    with open(script, "w") as f:
        f.write("\n".join(q.format(dir=d) for q in COPY_SQL) + "\n")
    argv = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", e.db, "-f", script]
    secs, rss = run_rusage(argv, d)
    lines = sum(sum(1 for _ in open(os.path.join(d, n))) for n in ("custom.txt", "default.txt", "soa_ns.txt"))
    for n in ("custom.txt", "default.txt", "soa_ns.txt"):
        os.unlink(os.path.join(d, n))
    return secs, rss, lines


def bench_coldstart(pg, e):
    zdir = tempdir("rdns-bench-scale-zones-")
    cdir = tempdir("rdns-bench-scale-copy-")
    os.chmod(cdir, 0o777)  # psql writes there as the user running it
    zg = Zonegen(e.db, zdir, {"log_level": "warn"})
    log(f"S3: rdns-zonegen --once --full over {e.n_zones:,} zones")
    t_zg, rss_zg = run_rusage([zg.bin, "-c", zg.conf_path, "--once", "--full"], zg.dir)
    files = [n for n in os.listdir(zdir) if n.endswith(".zone")]
    records = 0
    for n in files:
        with open(os.path.join(zdir, n)) as f:
            records += sum(1 for ln in f if ln.strip() and not ln.startswith((";", "$")))
    log("S3: psql \\copy of every record it writes")
    t_cp, rss_cp, lines = copy_baseline(pg, e, cdir)
    # the daemon: from start to every zone published (its log counts the renders)
    ddir = tempdir("rdns-bench-scale-dzones-")
    listener = NotifyListener()
    e.listener = listener
    dz = Zonegen(e.db, ddir, {"reconcile_interval": 86400, "debounce_ms": 100})
    t0 = time.monotonic()
    dz.start()
    wait_until(lambda: dz.log().count("written in") >= e.n_zones, timeout=3600, interval=0.5,
               what="every zone rendered by the daemon")
    last = sql(e.db, "SELECT name FROM reverse_zones ORDER BY id DESC LIMIT 1")[0][0]
    wait_until(lambda: soa(dz.port, last), timeout=60, interval=0.1, what=f"{last} served")
    t_d = time.monotonic() - t0
    rss_d = dz.vmhwm_kib()
    names = [r[0] for r in sql(e.db, "SELECT name FROM reverse_zones")]
    sample = random.Random(3).sample(names, min(500, len(names)))
    unserved = [z for z in sample if not soa(dz.port, z)]
    e.zg = dz
    ratio = t_zg / t_cp
    t = Table("S3. rdns-zonegen cold start on the provider profile: --once --full vs psql \\copy of every record "
              "it writes",
              f"{e.n_zones:,} zones. Baseline: one psql session running three \\copy statements to files: the "
              "custom PTRs, every default PTR\n(each address of a zone with a template and no custom PTR, the "
              "template expanded in SQL), each zone's SOA and NS.\nPeak RSS: GNU time's %M. Daemon: "
              "from its start to the last zone's render logged and its SOA answered.")
    t.row("--once --full: time", fmt(t_zg, " s", 1), fmt(t_cp, " s", 1), f"{ratio:.2f}", "<= 1.50", ratio <= 1.5)
    t.row("--once --full: peak RSS", fmt(rss_zg / 1024, " MiB", 1), fmt(rss_cp / 1024, " MiB", 1), "-",
          "<= 64 MiB", rss_zg <= 64 * 1024)
    t.row("zone files written | zones", f"{len(files):,}", f"{e.n_zones:,}", "-", "all",
          len(files) == e.n_zones)
    t.row("records in the files | lines \\copied", f"{records:,}", f"{lines:,}")
    t.row("per zone", fmt(t_zg / e.n_zones * 1e3, " ms", 2), fmt(t_cp / e.n_zones * 1e3, " ms", 3))
    t.row("daemon: start to every zone published", fmt(t_d, " s", 1), "-", f"{t_d / t_cp:.2f}", "-")
    t.row("daemon: peak RSS", fmt(rss_d / 1024, " MiB", 1), "-", "-", "<= 64 MiB", rss_d <= 64 * 1024)
    t.row("zones answering SOA (random sample)", f"{len(sample) - len(unserved)} of {len(sample)}", "-", "-",
          "all", not unserved)
    t.emit()
    return t


# ---------------------------------------------------------------- S4 change -> NOTIFY, reconcile


def change(conn, ip, name, staff_id):
    with conn.cursor() as cur:
        cur.execute("SELECT rdns_ptr_apply(%s, %s, NULL, %s, 'bench', true, '[]', NULL, NULL)", (ip, name, staff_id))
    t0 = time.monotonic()
    conn.commit()
    return t0


def xacts(db):
    return sql(db, "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()")[0][0]


def bench_notify(e):
    # a zone in the middle of the IPv4 range, notifying our listener while S4 runs: its
    # NOTIFY targets are given back afterwards (a database kept with RDNS_BENCH_SCALE_DSN
    # would otherwise hold a target nobody answers, and the next S3's --once would wait out
    # its NOTIFY retries, 23 s, before it exits)
    zi = ACC // 2 % (scale.N_V4_ZONES // DIV)
    zone = f"{zi % 256}.{zi // 256}.10.in-addr.arpa"
    old = sql(e.db, "SELECT notify FROM reverse_zones WHERE name = %s", (zone,))
    try:
        return notify_and_reconcile(e, zi, zone)
    finally:
        if old:
            sql(e.db, "UPDATE reverse_zones SET notify = %s WHERE name = %s", (old[0][0], zone))


def notify_and_reconcile(e, zi, zone):
    zg, listener = e.zg, e.listener
    zid = sql(e.db, "UPDATE reverse_zones SET notify = ARRAY[%s] WHERE name = %s RETURNING id",
              (f"127.0.0.1:{listener.port}", zone))
    if not zid:
        raise RuntimeError(f"zone {zone} missing")
    conn = psycopg2.connect(e.db)
    serial = soa(zg.port, zone)
    # the first change after the notify target was set makes the target known
    change(conn, f"10.{zi // 256}.{zi % 256}.250", f"warm-{random.randrange(10**6)}.example.net", e.staff_id)
    t1, serial = listener.wait(zone, serial, timeout=30)
    time.sleep(0.5)
    listener.drain()
    log_off = len(zg.log())
    lat, missed = [], 0
    log(f"S4: {N_NOTIFY} changes in {zone} with every zone present")
    for i in range(N_NOTIFY):
        t0 = change(conn, f"10.{zi // 256}.{zi % 256}.{200 + i % 50}", f"n{i}-{random.randrange(10**6)}.example.net",
                    e.staff_id)
        t1, serial = listener.wait(zone, serial, timeout=10)
        if t1 is None:
            missed += 1
            serial = soa(zg.port, zone)
        else:
            lat.append(t1 - t0)
        time.sleep(0.05)
    renders = [ln for ln in zg.log()[log_off:].splitlines() if "written in" in ln]
    others = [ln for ln in renders if zone not in ln]
    # a reconcile pass with nothing changed: the daemon reconciles every reconcile_interval;
    # restart it with a short one and time the pass from its log line
    log("S4: reconcile pass with nothing changed (reconcile_interval = 1 on a second start)")
    zg.stop()
    zg.conf["reconcile_interval"] = 1
    zg.write_conf()
    off = len(zg.log())
    zg.start()

    def passes():
        return re.findall(r"reconcile: (\d+) zones checked in (\d+) ms", zg.log()[off:])
    # the first pass is the one a new leader runs; wait for the second (the periodic one)
    wait_until(lambda: len(passes()) >= 1, timeout=3600, interval=0.2, what="the leader's reconcile")
    time.sleep(0.5)
    listener.drain()
    serial = soa(zg.port, zone)
    x0 = xacts(e.db)
    # changes during the periodic pass (it starts about 1 s after the first: interval 1 s),
    # one at a time, each waiting for its NOTIFY, until the pass has ended
    time.sleep(1.5)
    during, late = [], 0
    for i in range(N_DURING):
        if len(passes()) >= 2:
            break
        tc = change(conn, f"10.{zi // 256}.{zi % 256}.{150 + i}", f"during{i}-{random.randrange(10**6)}.example.net",
                    e.staff_id)
        t1, serial = listener.wait(zone, serial, timeout=3600)
        if t1 is None:
            late += 1
            serial = soa(zg.port, zone)
        elif len(passes()) < 2:  # answered while the pass still ran
            during.append(t1 - tc)
        time.sleep(0.3)
    wait_until(lambda: len(passes()) >= 2, timeout=3600, interval=0.2, what="a periodic reconcile")
    time.sleep(1.0)  # pg_stat_database is flushed about once a second
    x1 = xacts(e.db)
    zg.stop()
    conn.close()
    p2 = passes()[1]
    rec_ms = int(p2[1])
    rec_zones = int(p2[0])
    rendered_in_pass = [ln for ln in zg.log()[off:].splitlines() if "written in" in ln]
    t = Table("S4. Change -> NOTIFY and a reconcile on the provider profile (every zone present)",
              f"{N_NOTIFY} changes, one at a time, in {zone} (SQL rdns_ptr_apply() then COMMIT; latency to the NOTIFY "
              "at our UDP listener).\nReconcile: the daemon restarted with reconcile_interval = 1; the second pass "
              "(nothing changed) as its log line\n'reconcile: N zones checked in T ms' reports it; up to 10 changes made during it; statements: "
              "pg_stat_database's transactions of the database over that\nwindow (each of zonegen's statements "
              "is its own transaction; the window also holds the first pass's end and one change).\n"
              "A change committed during the periodic pass: its latency to the NOTIFY.")
    p50 = median(lat) if lat else float("inf")
    t.row("change -> NOTIFY, median", fmt(p50 * 1000, " ms"), "-", "-", "<= 200 ms", p50 <= 0.2 and not missed)
    t.row("change -> NOTIFY, min / p90 / max", f"{min(lat) * 1000:.0f} / {pct(lat, 90) * 1000:.0f} / "
          f"{max(lat) * 1000:.0f} ms" if lat else "-")
    t.row("changes with no NOTIFY within 10 s", f"{missed} of {N_NOTIFY}", "-", "-", "0", missed == 0)
    t.row("zones rendered other than the changed one", f"{len(others)}", "-", "-", "0", not others)
    t.row("reconcile with nothing changed: time", fmt(rec_ms / 1000, " s", 1), "-", "-", "-")
    t.row("reconcile: zones checked; transactions (about)", f"{rec_zones:,}; {x1 - x0:,}")
    t.row("reconcile: zones written during the two passes", f"{len(rendered_in_pass)}")
    dm = median(during) if during else None
    t.row("changes during the reconcile -> NOTIFY, median (max)",
          f"{dm * 1000:,.0f} ms ({max(during) * 1000:,.0f} ms), {len(during)} changes" if during else "-", "-", "-",
          "<= 200 ms", dm is not None and dm <= 0.2 and not late)
    t.emit()
    return t


def run(pg):
    t_start = time.monotonic()
    e = setup(pg)
    tables = [build_table(e)]
    if wanted("S1"):
        guarded(tables, "S1", bench_get, e)
    if wanted("S2"):
        guarded(tables, "S2", bench_put, e)
    e.api.stop()
    stop_proc(e.knot.proc)
    if wanted("S3") or wanted("S4"):
        guarded(tables, "S3", bench_coldstart, pg, e)
    if getattr(e, "zg", None) and wanted("S4"):
        guarded(tables, "S4", bench_notify, e)
        e.zg.stop()
    log(f"scale: the profile's benchmarks took {time.monotonic() - t_start:.0f} s")
    return tables
