"""bench_diag.py - issue 18: latency of GET /v1/ptr/{ip}/diagnostics against local servers (C1).

A local knotd serves the forward zone (A, SPF with an a: mechanism, DMARC, DKIM) and a fake
blocklist zone; rdns-zonegen, as the zone's hidden primary, answers ptr_published
(diagnose_resolvers). Sequential diagnoses (one client, so the latency is the diagnosis', not
a queue's) over distinct addresses of one customer, every check but helo running (no SMTP
server: the addresses are not local). Baseline in the same run, interleaved: the DNS queries a
diagnosis sends (PTR and SOA at the zone's server; A; SPF and TXT of the domain, A of its a:
term; TXT of _dmarc and of the DKIM key; A and TXT at the blocklist) sent one after another
by dnspython over UDP, which is what the diagnosis would cost without its threads; and, for
reference, the verified PUT of the same address (one forward check and one write)."""
import concurrent.futures
import os
import subprocess
import time

import dns.message
import dns.query
import dns.reversename

from benchlib import Api, Client, Knot, Table, Zonegen, fmt, log, median, pct, stop_proc, tempdir, wait_until

NET = "198.19.7"                # the customer's /24, one reverse zone
ZONE = "7.19.198.in-addr.arpa"
DOMAIN = "diag-bench.example.com"
BL = f"bl.{DOMAIN}"
N_ADDR = 200                    # addresses diagnosed in turn
ROUNDS = 5                      # alternating rounds of (ours, baseline)
PER_ROUND = int(os.environ.get("RDNS_BENCH_DIAG_PER_ROUND", "40"))
TARGET_P50_MS = 50.0


def forward_zone():
    lines = [f"$ORIGIN {DOMAIN}.", "$TTL 3600", "@ SOA ns1 hostmaster 1 3600 600 86400 60", "@ NS ns1",
             "ns1 A 127.0.0.1", f'@ TXT "v=spf1 a:relay.{DOMAIN} ip4:{NET}.0/24 -all"', f"relay A {NET}.250",
             f'_dmarc TXT "v=DMARC1; p=reject; rua=mailto:dmarc@{DOMAIN}"',
             's1._domainkey TXT "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP/UC3SBsEmGqZ9ZJW3"']
    for k in range(N_ADDR):
        lines.append(f"m{k} A {NET}.{k}")
    lines.append(f"{N_ADDR - 1}.7.19.198.bl A 127.0.0.2")  # one address listed: its TXT asked too
    lines.append(f'{N_ADDR - 1}.7.19.198.bl TXT "listed for the benchmark"')
    return "\n".join(lines) + "\n"


def baseline_queries(k, zg_port, knot_port):
    """The queries one diagnosis of address k sends, as (server port, name, type)."""
    rev = dns.reversename.from_address(f"{NET}.{k}").to_text()
    return [(zg_port, rev, "PTR"), (zg_port, ZONE + ".", "SOA"), (knot_port, f"m{k}.{DOMAIN}.", "A"),
            (knot_port, DOMAIN + ".", "TYPE99"), (knot_port, DOMAIN + ".", "TXT"),
            (knot_port, f"relay.{DOMAIN}.", "A"), (knot_port, f"_dmarc.{DOMAIN}.", "TXT"),
            (knot_port, f"s1._domainkey.{DOMAIN}.", "TXT"), (knot_port, f"{k}.7.19.198.{BL}.", "A")]


def setup(pg):
    knot = Knot("diag-fwd")
    path = os.path.join(knot.dir, f"{DOMAIN}.zone")
    with open(path, "w") as f:
        f.write(forward_zone())
    knot.add_zone(DOMAIN, path)
    wait_until(lambda: "NOERROR" in subprocess.run(["kdig", "-p", str(knot.port), "@127.0.0.1", f"m1.{DOMAIN}", "A"],
                                                   stdout=subprocess.PIPE, text=True).stdout, what="forward zone")
    db = pg.create_db("bench_diag")
    zg = Zonegen(db, tempdir("rdns-bench-diag-zones-"), {"query_allow": "127.0.0.1", "debounce_ms": 20})
    api = Api(db, {"resolvers": f"127.0.0.1:{knot.port}", "verify_timeout_ms": 1000, "verify_retries": 1,
                   "diagnose_resolvers": f"127.0.0.1:{zg.port}", "dnsbl_zones": BL, "diagnose_rate": 0})
    api.run("migrate")
    api.start()
    zg.start()
    staff = Client(api.base, api.add_staff("bench-staff"))
    cust = staff.call("POST", "/v1/accounts", json={"name": "diag-customer", "role": "customer"}).json()["id"]
    token = staff.call("POST", f"/v1/accounts/{cust}/tokens", json={}).json()["token"]
    staff.call("POST", "/v1/allocations", json={"account_id": cust, "prefix": f"{NET}.0/24"})
    staff.call("POST", "/v1/zones", json={"prefix": f"{NET}.0/24", "nameservers": [f"ns1.{DOMAIN}"]})
    cc = Client(api.base, token)
    for k in range(N_ADDR):
        cc.call("PUT", f"/v1/ptr/{NET}.{k}", json={"hostname": f"m{k}.{DOMAIN}"})

    def served():
        q = dns.message.make_query(dns.reversename.from_address(f"{NET}.{N_ADDR - 1}"), "PTR")
        r = dns.query.udp(q, "127.0.0.1", port=zg.port, timeout=1)
        return bool(r.answer)
    wait_until(served, what="zonegen serving the PTRs")
    # sanity: every check but helo passes for a well-configured address, and the listed one is listed
    body = cc.call("GET", f"/v1/ptr/{NET}.1/diagnostics", params={"selector": "s1"}).json()
    st = {f["id"]: f["status"] for f in body["findings"]}
    assert all(v == "pass" for i, v in st.items() if i != "helo"), body
    body = cc.call("GET", f"/v1/ptr/{NET}.{N_ADDR - 1}/diagnostics", params={"selector": "s1"}).json()
    assert {f["id"]: f["status"] for f in body["findings"]}["dnsbl"] == "fail", body
    return knot, zg, api, cc, token


def run_ours(cc, ks):
    lat = []
    for k in ks:
        t0 = time.perf_counter()
        cc.call("GET", f"/v1/ptr/{NET}.{k}/diagnostics", params={"selector": "s1"})
        lat.append((time.perf_counter() - t0) * 1000)
    return lat


def run_baseline(ks, zg_port, knot_port):
    lat = []
    for k in ks:
        t0 = time.perf_counter()
        for port, name, qtype in baseline_queries(k, zg_port, knot_port):
            r = dns.query.udp(dns.message.make_query(name, qtype), "127.0.0.1", port=port, timeout=2)
            assert r.rcode() in (0, 3), (name, qtype, r.rcode())
        lat.append((time.perf_counter() - t0) * 1000)
    return lat


def run_put(cc, ks):
    lat = []
    for k in ks:
        t0 = time.perf_counter()
        cc.call("PUT", f"/v1/ptr/{NET}.{k}", json={"hostname": f"m{k}.{DOMAIN}"})
        lat.append((time.perf_counter() - t0) * 1000)
    return lat


def run_concurrent(api, token, clients, per_client):
    """clients sessions at once, per_client diagnoses each: (diagnoses/s, latencies ms)."""
    def one(c):
        cl = Client(api.base, token)
        return run_ours(cl, [(c * per_client + j) % N_ADDR for j in range(per_client)])
    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as ex:
        lat = [x for part in ex.map(one, range(clients)) for x in part]
    return len(lat) / (time.perf_counter() - t0), lat


def bench_diag(knot, zg, api, cc, token):
    ours, base, puts = [], [], []
    i = 0
    for rnd in range(ROUNDS):
        ks = [(i + j) % N_ADDR for j in range(PER_ROUND)]
        i += PER_ROUND
        log(f"C1 round {rnd + 1}/{ROUNDS}: {PER_ROUND} diagnoses, the same queries sequentially, {PER_ROUND // 4} PUTs")
        ours += run_ours(cc, ks)
        base += run_baseline(ks, zg.port, knot.port)
        puts += run_put(cc, ks[:PER_ROUND // 4])
    conc = int(os.environ.get("RDNS_BENCH_DIAG_CLIENTS", "8"))
    log(f"C1: {conc} clients at once, 25 diagnoses each")
    rate, clat = run_concurrent(api, token, conc, 25)
    p50, p99 = median(ours), pct(ours, 99)
    b50, b99 = median(base), pct(base, 99)
    t = Table("C1. GET /v1/ptr/{ip}/diagnostics (8 checks; helo off), one client (then several), local knotd + rdns-zonegen",
              note=f"{len(ours)} diagnoses over {N_ADDR} addresses in {ROUNDS} rounds, interleaved with the baseline: "
                   f"the same {len(baseline_queries(0, 0, 0))} DNS queries sent one after another (dnspython, UDP). "
                   "ratio = ours / baseline.")
    t.row("diagnosis p50", fmt(p50, " ms", 2), fmt(b50, " ms", 2), f"{p50 / b50:.2f}", f"<= {TARGET_P50_MS:.0f} ms",
          p50 <= TARGET_P50_MS)
    t.row("diagnosis p99", fmt(p99, " ms", 2), fmt(b99, " ms", 2), f"{p99 / b99:.2f}")
    t.row("diagnosis max", fmt(max(ours), " ms", 2), fmt(max(base), " ms", 2))
    t.row("verified PUT p50 (reference)", fmt(median(puts), " ms", 2))
    t.row(f"{conc} clients at once: diagnoses/s", fmt(rate, "/s", 0))
    t.row(f"{conc} clients at once: p50 / p99", f"{median(clat):.2f} / {pct(clat, 99):.2f} ms")
    t.emit()
    return t


def run(pg):
    knot, zg, api, cc, token = setup(pg)
    tables = []
    try:
        tables.append(bench_diag(knot, zg, api, cc, token))
    finally:
        api.stop()
        zg.stop()
        stop_proc(knot.proc)
    return tables
