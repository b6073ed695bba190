"""bench_soak.py - issue 13: rdns-api stays up, fair and flat under hostile clients.

RDNS_SOAK_SECONDS (default 600) of mixed traffic: well-behaved clients (wrk GETs, a
Python PUT client at a steady rate, a staff client reading the audit log and the request
list) while every ~20 s an attacker opens 1,100 idle connections from one address and holds them 2 s, trickles
100 slowloris connections, and sends framing garbage. Reported for the well-behaved clients:
the GET rate against the same GET run without attackers (measured first, ~20 s), p99, errors
(must be 0, 429s excepted), and rdns-api's RSS at the start (after the warm-up) and end."""
import os
import resource
import socket
import subprocess
import threading
import time

import psycopg2
import requests

from bench_api import DOMAIN, N_ADDR, NET, ZONE, forward_zone
from benchlib import Api, Client, Knot, Table, fmt, log, pct, wait_until, wrk

SOAK = int(os.environ.get("RDNS_SOAK_SECONDS", "600"))
BASELINE = min(20, max(5, SOAK // 3))
PUT_RATE = 5.0     # PUTs per second
ATTACK_EVERY = 20  # seconds
FLOOD_SRC, SLOW_SRC, GARBAGE_SRC = "127.0.0.2", "127.0.0.3", "127.0.0.4"
GARBAGE = [
    b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 38\r\n\r\n"
    b"GET /v1/smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
    b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    b"GET /%ff HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /v1/ptr/" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def setup(pg):
    knot = Knot("soak-fwd")
    path = os.path.join(knot.dir, f"{DOMAIN}.zone")
    with open(path, "w") as f:
        f.write(forward_zone())
    knot.add_zone(DOMAIN, path)
    wait_until(lambda: "NOERROR" in subprocess.run(["kdig", "-p", str(knot.port), "@127.0.0.1", f"a1.{DOMAIN}", "A"],
                                                   stdout=subprocess.PIPE, text=True).stdout, what="forward zone")
    db = pg.create_db("bench_soak")
    # The shipped defaults but for the resolver (and no write rate limit: the PUT client's
    # steady rate is the point, not the limiter's).
    # The shipped per-address limit (32): the well-behaved clients hold 18 connections from
    # 127.0.0.1, the attackers come from addresses of their own.
    api = Api(db, {"resolvers": f"127.0.0.1:{knot.port}", "verify_timeout_ms": 1000, "verify_retries": 1,
                   "api_per_ip_connections": 32})
    api.run("migrate")
    api.start()
    staff_token = api.add_staff("soak-staff")
    staff = Client(api.base, staff_token)
    cust = staff.call("POST", "/v1/accounts", json={"name": "soak-customer", "role": "customer"}).json()["id"]
    token = staff.call("POST", f"/v1/accounts/{cust}/tokens", json={}).json()["token"]
    staff.call("POST", "/v1/allocations", json={"account_id": cust, "prefix": f"{NET}.0.0/20"})
    staff.call("POST", "/v1/zones", json={"prefix": f"{NET}.0.0/16", "nameservers": ["ns1.example.net"]})
    with psycopg2.connect(db) as c, c.cursor() as cur:
        cur.execute("SELECT id FROM reverse_zones WHERE name = %s", (ZONE,))
        zid = cur.fetchone()[0]
        cur.execute("INSERT INTO ptr_records (ip, zone_id, hostname, account_id, verified_at)"
                    " SELECT %s::inet + g, %s, 'a' || g || '.' || %s, %s, now() FROM generate_series(0, %s) g",
                    (f"{NET}.0.0", zid, DOMAIN, cust, N_ADDR - 1))
    pg.psql("VACUUM ANALYZE", "bench_soak")
    return api, token, staff_token


class Clients:
    """The Python well-behaved clients: PUTs at PUT_RATE, staff reads every 0.5 s."""

    def __init__(self, api, token, staff_token):
        self.api, self.token, self.staff_token = api, token, staff_token
        self.stop = threading.Event()
        self.lat = {"put": [], "staff": []}
        self.errors = {"put": [], "staff": []}
        self.n429 = 0
        self.ths = [threading.Thread(target=self._put, daemon=True), threading.Thread(target=self._staff, daemon=True)]

    def start(self):
        for t in self.ths:
            t.start()
        return self

    def join(self):
        self.stop.set()
        for t in self.ths:
            t.join(30)

    def _one(self, kind, fn, ok):
        t0 = time.monotonic()
        try:
            r = fn()
            code = r.status_code
        except requests.RequestException as e:
            code = type(e).__name__
        self.lat[kind].append(time.monotonic() - t0)
        if code == 429:
            self.n429 += 1
        elif code not in ok:
            self.errors[kind].append(code)

    def _put(self):
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {self.token}"
        k, nxt = 0, time.monotonic()
        while not self.stop.is_set():
            ip = f"{NET}.{(k % N_ADDR) // 256}.{k % 256}"
            name = f"{'bc'[(k // N_ADDR) % 2]}{k % N_ADDR}.{DOMAIN}"
            self._one("put", lambda: s.put(f"{self.api.base}/v1/ptr/{ip}", json={"hostname": name}, timeout=10),
                      (200,))
            k += 1
            nxt += 1.0 / PUT_RATE
            self.stop.wait(max(0.0, nxt - time.monotonic()))

    def _staff(self):
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {self.staff_token}"
        paths = ["/v1/audit?limit=50", "/v1/requests?limit=50"]
        i = 0
        while not self.stop.wait(0.5):
            p = paths[i % 2]
            i += 1
            self._one("staff", lambda: s.get(self.api.base + p, timeout=10), (200,))


def _raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4096 <= hard or soft < hard < 4096:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))


_raise_nofile()


class Attacker:
    """Every ATTACK_EVERY s: a flood of 1,100 idle connections from one address (above
    api_max_connections, 1,024) held 2 s, 100 slowloris
    connections trickling a header byte every 0.5 s for up to 12 s, and framing garbage."""

    def __init__(self, port):
        self.port = port
        self.stop = threading.Event()
        self.rounds = 0
        self.th = threading.Thread(target=self._run, daemon=True)

    def _socks(self, src, n):
        out = []
        for _ in range(n):
            s = socket.socket()
            s.bind((src, 0))
            s.settimeout(1)
            try:
                s.connect(("127.0.0.1", self.port))
                out.append(s)
            except OSError:
                s.close()
        return out

    def _flood(self):
        socks = self._socks(FLOOD_SRC, 1100)
        self.stop.wait(2)
        for s in socks:
            s.close()

    def _slowloris(self):
        socks = self._socks(SLOW_SRC, 100)
        head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
        for i in range(24):
            if self.stop.is_set():
                break
            for s in list(socks):
                try:
                    s.send(head[i:i + 1])
                except OSError:
                    socks.remove(s)
                    s.close()
            self.stop.wait(0.5)
        for s in socks:
            s.close()

    def _garbage(self):
        for g in GARBAGE:
            try:
                s = socket.socket()
                s.bind((GARBAGE_SRC, 0))
                s.settimeout(1)
                s.connect(("127.0.0.1", self.port))
                s.sendall(g)
                while s.recv(65536):
                    pass
            except OSError:
                pass
            finally:
                s.close()

    def _run(self):
        while not self.stop.is_set():
            ths = [threading.Thread(target=f, daemon=True) for f in (self._flood, self._slowloris, self._garbage)]
            for t in ths:
                t.start()
            for t in ths:
                t.join()
            self.rounds += 1
            self.stop.wait(max(0.0, ATTACK_EVERY - 12))

    def start(self):
        self.th.start()
        return self

    def join(self):
        self.stop.set()
        self.th.join(30)


def wrk_errors(r):
    return int(r["err_status"] + r["err_connect"] + r["err_read"] + r["err_write"] + r["err_timeout"])


def run(pg):
    api, token, staff_token = setup(pg)
    args = [token, NET, N_ADDR]
    log("soak: warm-up (wrk GET 3 s)")
    wrk(api.base, "wrk_get.lua", args, conns=16, duration=3)
    log(f"soak: baseline, wrk GET {BASELINE} s without attackers")
    base = wrk(api.base, "wrk_get.lua", args, conns=16, duration=BASELINE)
    rss0 = rss_kib(api.proc.pid)
    log(f"soak: {SOAK} s of mixed traffic with attackers (RSS at start {rss0} KiB)")
    clients = Clients(api, token, staff_token).start()
    att = Attacker(api.port).start()
    try:
        soak = wrk(api.base, "wrk_get.lua", args, conns=16, duration=SOAK, timeout="5s")
    finally:
        att.join()
        clients.join()
    time.sleep(2)  # the last attack's connections are closed
    alive = api.proc.poll() is None
    rss1 = rss_kib(api.proc.pid) if alive else None
    healthz = False
    try:
        healthz = requests.get(api.base + "/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        pass

    t = Table(f"S1. Soak: {SOAK} s of GET/PUT/staff traffic with floods, slowloris and garbage every "
              f"{ATTACK_EVERY} s (shipped defaults)",
              note=f"baseline: the same wrk GET (16 connections) for {BASELINE} s without attackers; "
                   f"{att.rounds} attack rounds; PUT {PUT_RATE:.0f}/s, staff reads 2/s.\n"
                   "RSS target: end <= start * 1.10 + 4 MiB.")
    ratio = soak["rps"] / base["rps"] if base["rps"] else 0
    t.row("GET rate (req/s)", fmt(soak["rps"], nd=0), fmt(base["rps"], nd=0), f"{ratio:.2f}", ">= 0.50", ratio >= 0.5)
    p99, bp99 = soak["p99_us"] / 1000, base["p99_us"] / 1000
    t.row("GET p99 latency", fmt(p99, " ms"), fmt(bp99, " ms"), f"{p99 / bp99:.1f}" if bp99 else "-", "<= 100 ms",
          p99 <= 100)
    t.row("GET max latency", fmt(soak["max_us"] / 1000, " ms"), fmt(base["max_us"] / 1000, " ms"))
    ge = wrk_errors(soak)
    t.row("GET errors (non-2xx + socket)", fmt(ge), fmt(wrk_errors(base)), "-", "0", ge == 0)
    pl = clients.lat["put"]
    t.row("PUT requests, p99", f"{len(pl)}, {fmt(pct(pl, 99) * 1000 if pl else None, ' ms')}", "-", "-", "<= 1000 ms",
          bool(pl) and pct(pl, 99) <= 1.0)
    pe = clients.errors["put"]
    t.row("PUT errors (429 excepted)", fmt(len(pe)) + (f" {sorted(set(map(str, pe)))[:4]}" if pe else ""), "-", "-",
          "0", not pe)
    t.row("PUT 429 (own rate limit)", fmt(clients.n429))
    sl, se = clients.lat["staff"], clients.errors["staff"]
    t.row("staff reads, p99", f"{len(sl)}, {fmt(pct(sl, 99) * 1000 if sl else None, ' ms')}")
    t.row("staff errors", fmt(len(se)) + (f" {sorted(set(map(str, se)))[:4]}" if se else ""), "-", "-", "0",
          not se)
    limit = rss0 * 1.10 + 4096
    t.row("rdns-api RSS at end (KiB)", fmt(rss1), fmt(rss0), f"{rss1 / rss0:.2f}" if rss1 else "-",
          f"<= {limit:,.0f}", rss1 is not None and rss1 <= limit)
    t.row("alive and /healthz 200 after the soak", "yes" if alive and healthz else "NO", "-", "-", "yes",
          alive and healthz)
    t.emit()
    api.stop()
    return [t]
