"""bench_batch.py - issue 16: bulk changes. 1,000-item verified batches (POST /v1/ptr:batch,
every item passing the forward check at a local knotd and changing its PTR) against the
same changes made by single verified PUTs (wrk, 64 connections: the fastest a client gets
them in), rounds alternating, best round against best round.

Targets: batch items/s >= 2x single PUTs/s; a batch of 1,000 answered in <= 2 s (the
slowest batch of the best round, and the median of all)."""
import os
import subprocess
import threading
import time

import psycopg2
import requests

from benchlib import Api, Client, Knot, Table, cpu_ticks, cpu_us_per, fmt, guarded, log, median, stop_proc, wait_until, wrk

NET = "198.19"          # customer allocation 198.19.0.0/20 inside the zone 198.19.0.0/16
N_ADDR = 4096
BATCH = 1000
DOMAIN = "batch.example.com"
# each single-PUT round: 5/8 of RDNS_BENCH_DURATION (5 s), thousands of PUTs a second
DUR = max(2, int(os.environ.get("RDNS_BENCH_DURATION", "8")) * 5 // 8)
ROUNDS = 4  # the batches' side of a round is short (8,000 items, under a second): best of four
BATCHES_PER_ROUND = 8
CLIENTS = 2  # batches in flight at once


def forward_zone():
    lines = [f"$ORIGIN {DOMAIN}.", "$TTL 3600", "@ SOA ns1 hostmaster 1 3600 600 86400 60", "@ NS ns1",
             "ns1 A 192.0.2.53"]
    for k in range(N_ADDR):
        ip = f"{NET}.{k // 256}.{k % 256}"
        lines += [f"{v}{k} A {ip}" for v in "abcd"]
    return "\n".join(lines) + "\n"


def setup(pg):
    knot = Knot("batch-fwd")
    path = os.path.join(knot.dir, f"{DOMAIN}.zone")
    with open(path, "w") as f:
        f.write(forward_zone())
    knot.add_zone(DOMAIN, path)
    wait_until(lambda: "NOERROR" in subprocess.run(["kdig", "-p", str(knot.port), "@127.0.0.1", f"a1.{DOMAIN}", "A"],
                                                   stdout=subprocess.PIPE, text=True).stdout, what="forward zone")
    db = pg.create_db("bench_batch")
    api = Api(db, {"resolvers": f"127.0.0.1:{knot.port}", "verify_timeout_ms": 1000, "verify_retries": 1})
    api.run("migrate")
    api.start()
    staff = Client(api.base, api.add_staff("bench-staff"))
    cust = staff.call("POST", "/v1/accounts", json={"name": "bench-batch-customer", "role": "customer"}).json()["id"]
    token = staff.call("POST", f"/v1/accounts/{cust}/tokens", json={}).json()["token"]
    staff.call("POST", "/v1/allocations", json={"account_id": cust, "prefix": f"{NET}.0.0/20"})
    staff.call("POST", "/v1/zones", json={"prefix": f"{NET}.0.0/16", "nameservers": ["ns1.example.net"]})
    with psycopg2.connect(db) as c, c.cursor() as cur:
        cur.execute("SELECT id FROM reverse_zones WHERE name = %s", ("19.198.in-addr.arpa",))
        zid = cur.fetchone()[0]
        cur.execute("INSERT INTO ptr_records (ip, zone_id, hostname, account_id, verified_at)"
                    " SELECT %s::inet + g, %s, 'a' || g || '.' || %s, %s, now() FROM generate_series(0, %s) g",
                    (f"{NET}.0.0", zid, DOMAIN, cust, N_ADDR - 1))
    pg.psql("VACUUM ANALYZE", "bench_batch")
    return knot, db, api, token


def batch_body(first, variant):
    items = []
    for k in range(first, first + BATCH):
        k %= N_ADDR
        items.append({"ip": f"{NET}.{k // 256}.{k % 256}", "hostname": f"{variant}{k}.{DOMAIN}"})
    return {"items": items}


def batch_round(token, base, state, clients=CLIENTS):
    """BATCHES_PER_ROUND batches of 1,000 changes from `clients` clients at once (as the
    single PUTs come from 64 connections), each client one after the other over blocks of
    addresses of its own; each batch sets names its addresses do not have (c/d in turn per
    block)."""
    results = [None] * clients

    def client(t):
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {token}"
        lat, items, not200 = [], 0, 0
        blocks = [b for b in range(N_ADDR // BATCH) if b % clients == t]
        for n in range(BATCHES_PER_ROUND // clients):
            block = blocks[n % len(blocks)]
            with state["lock"]:
                variant = "cd"[state["pass"].get(block, 0) % 2]
                state["pass"][block] = state["pass"].get(block, 0) + 1
            b0 = time.monotonic()
            r = s.post(base + "/v1/ptr:batch", json=batch_body(block * BATCH, variant), timeout=60)
            lat.append(time.monotonic() - b0)
            if r.status_code != 200:
                raise RuntimeError(f"batch -> {r.status_code}: {r.text[:300]}")
            out = r.json()
            items += out["applied"]
            not200 += sum(1 for x in out["items"] if x["status"] != 200)
        results[t] = (lat, items, not200)

    t0 = time.monotonic()
    threads = [threading.Thread(target=client, args=(t,)) for t in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.monotonic() - t0
    if any(r is None for r in results):
        raise RuntimeError("a batch client failed")
    lat = [x for r in results for x in r[0]]
    items = sum(r[1] for r in results)
    return {"items_s": items / wall, "lat": lat, "not200": sum(r[2] for r in results), "items": items,
            "wall": wall}


def bench(pg):
    knot, db, api, token = setup(pg)
    t = Table("D1 bulk changes: 1,000-item verified batches vs single verified PUTs",
              f"POST /v1/ptr:batch of {BATCH} items, {BATCHES_PER_ROUND} batches per round from {CLIENTS} clients at once, "
              f"every item a change that passes the forward check at a local knotd;\nsingle PUTs: wrk 64 "
              f"connections, {DUR} s per round over the same {N_ADDR} addresses (wrk_put.lua); "
              f"{ROUNDS} alternating rounds per side, best round against best round.")
    state = {"pass": {}, "lock": threading.Lock()}
    batch_round(token, api.base, state)  # warm-up: plans, sessions, knotd's cache
    singles, batches, cpu_single, cpu_batch = [], [], [], []
    variants = ["ba", "ab"]
    for rnd in range(ROUNDS):
        log(f"D1 round {rnd + 1}: single PUTs")
        c0 = cpu_ticks()
        w = wrk(api.base, "wrk_put.lua", [token, NET, N_ADDR, DOMAIN, variants[rnd % 2], 2], duration=DUR)
        cpu_single.append(cpu_us_per(c0, cpu_ticks(), max(1, w["codes"].get(200, 0)), ("rdns-api", "postgres", "knotd")))
        w["ok_s"] = w["codes"].get(200, 0) / (w["duration_us"] / 1e6)
        singles.append(w)
        log(f"D1 round {rnd + 1}: batches")
        c0 = cpu_ticks()
        b = batch_round(token, api.base, state)
        cpu_batch.append(cpu_us_per(c0, cpu_ticks(), max(1, b["items"]), ("rdns-api", "postgres", "knotd")))
        batches.append(b)
    best_s = max(singles, key=lambda x: x["ok_s"])
    best_b = max(batches, key=lambda x: x["items_s"])
    ratio = best_b["items_s"] / best_s["ok_s"] if best_s["ok_s"] else 0
    t.row("changes/s (items/s for batches)", fmt(best_b["items_s"], "", 0), fmt(best_s["ok_s"], "", 0),
          f"{ratio:.2f}", ">= 2.00", ratio >= 2.0)
    for i, (b, w) in enumerate(zip(batches, singles)):
        t.row(f"  round {i + 1}", fmt(b["items_s"], "", 0), fmt(w["ok_s"], "", 0),
              f"{b['items_s'] / w['ok_s']:.2f}" if w["ok_s"] else "-", "-", None)
    all_lat = [x for b in batches for x in b["lat"]]
    t.row("batch of 1,000 answered: median", fmt(median(all_lat) * 1000, " ms", 0), "-", "-", "<= 2,000 ms",
          median(all_lat) <= 2.0)
    t.row("batch of 1,000 answered: slowest of the best round", fmt(max(best_b["lat"]) * 1000, " ms", 0), "-", "-",
          "<= 2,000 ms", max(best_b["lat"]) <= 2.0)
    t.row("batch of 1,000 answered: slowest of all", fmt(max(all_lat) * 1000, " ms", 0), "-", "-", "-", None)
    not200 = sum(b["not200"] for b in batches)
    bad_single = sum(v for w in singles for k, v in w["codes"].items() if k != 200)
    t.row("items not 200 (batches) / non-200 PUTs", f"{not200}", f"{bad_single}", "-", "0", not200 == 0)
    cb, cs = cpu_batch[batches.index(best_b)], cpu_single[singles.index(best_s)]
    t.row("CPU per change: rdns-api + postgres + knotd (/proc; rough)",
          f"{cb['rdns-api']:.0f} + {cb['postgres']:.0f} + {cb['knotd']:.0f} us",
          f"{cs['rdns-api']:.0f} + {cs['postgres']:.0f} + {cs['knotd']:.0f} us", "-", "-", None)
    with psycopg2.connect(db) as c, c.cursor() as cur:
        cur.execute("SELECT count(*) FROM ptr_records WHERE verified_at IS NULL OR hostname NOT LIKE %s",
                    (f"%.{DOMAIN}",))
        odd = cur.fetchone()[0]
    t.row("records not verified or not a bench name", f"{odd}", "-", "-", "0", odd == 0)
    t.emit()
    api.stop()
    stop_proc(knot.proc)
    return t


def run(pg):
    tables = []
    guarded(tables, "D1", bench, pg)
    return tables
