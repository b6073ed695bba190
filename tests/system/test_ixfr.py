"""IXFR from change history: Knot, NSD and BIND secondaries of rdns-zonegen (configured from
deploy/dns/, tests/system/secondaries.py) follow 1,000 random changes made through the API
(sets, resets, template edits, allocation deletions) by IXFR alone, and each holds exactly
what a fresh AXFR from rdns-zonegen gives; the history survives a restart; without it (a new
machine) the transfer is full and still right."""
import concurrent.futures
import ipaddress
import os
import random
import re
import time

import dns.message
import dns.query
import dns.reversename
import pytest

from harness import Zonegen, wait_until
from secondaries import BindSecondary, KnotSecondary, NsdSecondary, axfr, served

# The zones of the deploy/dns examples.
Z4 = "2.0.192.in-addr.arpa"
Z6 = "0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa"
ALLOCS = ["192.0.2.0/26", "192.0.2.64/26", "192.0.2.128/25", "2001:db8:100::/56"]
TEMPLATES = ["pool-{dashed}.example.net", "{reverse}.dyn.example.net", "host{d}.c{c}.example.org",
             "ip-{hex}.example.com"]
# Where each secondary's transfers leave from, so that zonegen's log tells them apart
# (Knot's log names the type of each of its transfers itself).
SOURCE = {"nsd": "127.0.0.3", "bind": "127.0.0.4"}


def soa_serial(port, zone):
    q = dns.message.make_query(zone + ".", "SOA")
    r = dns.query.udp(q, "127.0.0.1", port=port, timeout=1.0)
    return r.answer[0][0].serial if r.answer else None


def parallel(fn, items):
    with concurrent.futures.ThreadPoolExecutor(len(items)) as ex:
        return list(ex.map(fn, items))


def transfers(zg, since=0):
    """The transfers zonegen served since log offset since (secondaries.served)."""
    return served(zg.log()[since:])


def full_transfers(e, since, end):
    """Transfers between zonegen log offsets since and end that were not incremental (from
    zonegen's log: Knot's, NSD's and BIND's), and those Knot's own log shows."""
    bad = [t for t in served(e.zg.log()[since:end]) if t["how"] != "incremental" or t["type"] != "IXFR"]
    knot = e.knot.log()[e.knot_mark:]
    bad += [ln for ln in knot.splitlines() if "AXFR, incoming" in ln or "fallback to AXFR" in ln]
    return bad


def full_transfers_explained(e, since, end, bad):
    """What full_transfers found, with what zonegen and Knot logged of those zones' transfers
    (zonegen's transfer lines are rate-limited: a suppressed count stands for them)."""
    zones = {t["zone"].rstrip(".") for t in bad if isinstance(t, dict)}
    zones |= set(re.findall(r"\[([^\]]+?)\.?\]", "\n".join(t for t in bad if isinstance(t, str))))
    mine = [ln for ln in e.zg.log()[since:end].splitlines()
            if "suppressed" in ln or "history" in ln or any(z in ln for z in zones)]
    knot = [ln for ln in e.knot.log()[e.knot_mark:].splitlines() if any(z in ln for z in zones)]
    return "\n".join(map(str, bad[:10])) + "\n--- zonegen:\n" + "\n".join(mine[-60:]) + \
        "\n--- knot:\n" + "\n".join(knot[-40:]) + "\n" + "\n".join(
            f"--- {s.name}:\n{s.log()[-3000:]}" for s in e.secs[1:])


# #19: every change rendered in full ("render"), or the PTR changes of every zone served
# from the difference and their files written 0.3 s later ("incremental"; template edits
# and allocation deletions still render in full): the secondaries must not tell them apart.
MODES = {"render": {}, "incremental": {"incremental_min_records": 0, "incremental_write_ms": 300}}


@pytest.fixture(scope="module", params=sorted(MODES))
def env(request, api, staff, dburl):
    zg = Zonegen(dburl, {"ixfr_history": 50, "transfer_allow": "127.0.0.1 127.0.0.3 127.0.0.4",
                         **MODES[request.param]})
    zg.start().wait_leader()
    secs = [KnotSecondary("127.0.0.1", zg.port, "", False),
            NsdSecondary("127.0.0.1", zg.port, "", False, SOURCE["nsd"]),
            BindSecondary("127.0.0.1", zg.port, "", False, SOURCE["bind"])]

    class Env:
        pass
    e = Env()
    e.zg, e.secs, e.staff, e.dburl = zg, secs, staff, dburl
    e.mode = request.param
    e.knot = secs[0]
    try:
        acct = staff.post("/v1/accounts", json={"name": f"ixfr-customer-{request.param}",
                                                "role": "customer"}).json()["id"]
        allocs = {}
        for p in ALLOCS:
            r = staff.post("/v1/allocations", json={"account_id": acct, "prefix": p})
            assert r.status_code == 201, r.text
            allocs[p] = r.json()["id"]
        e.acct, e.allocs = acct, allocs
        notify = [s.target for s in secs]
        r = staff.post("/v1/zones", json={"prefix": "192.0.2.0/24", "nameservers": ["ns1.example.net", "ns2.example.net"],
                                          "default_ptr": TEMPLATES[0], "notify": notify})
        assert r.status_code == 201, r.text
        r = staff.post("/v1/zones", json={"prefix": "2001:db8:100::/48", "nameservers": ["ns1.example.net"],
                                          "notify": notify})
        assert r.status_code == 201, r.text
        wait_until(lambda: os.path.exists(zg.zone_path(Z4)) and os.path.exists(zg.zone_path(Z6)), what="first render")
        parallel(lambda s: s.start(), secs)
        wait_in_sync(e)
        e.knot_mark = len(e.knot.log())
        yield e
    finally:
        if os.environ.get("RDNS_SEC_LOGS"):  # a folder: every log is copied there
            os.makedirs(os.environ["RDNS_SEC_LOGS"], exist_ok=True)
            for name, text in [(s.name, s.log()) for s in secs] + [("zonegen", zg.log())]:
                with open(os.path.join(os.environ["RDNS_SEC_LOGS"], name + ".log"), "w") as f:
                    f.write(text)
        try:
            if e.zg.proc:
                e.zg.stop()
        finally:
            e.zg.close()
            parallel(lambda s: s.close(), secs)
            # the next mode's zones and allocations take the same prefixes
            for z in (Z4, Z6):
                staff.delete(f"/v1/zones/{z}?force=true")
            for a in getattr(e, "allocs", {}).values():
                staff.delete(f"/v1/allocations/{a}")


MARK4, MARK6 = "192.0.2.255", "2001:db8:100:ff::ffff"  # no random change touches them
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
    want = {z: soa_serial(e.zg.port, z) for z in (Z4, Z6)}

    def follows(s):
        wait_until(lambda: all(s.serial(z) == want[z] for z in want), timeout=timeout, interval=0.02,
                   what=f"{s.name} at our serials {want}")
    parallel(follows, e.secs)


def assert_same_as_fresh_axfr(e):
    for z in (Z4, Z6):
        ours = axfr("127.0.0.1", e.zg.port, z)
        for s in e.secs:
            theirs = s.records(z)
            assert ours == theirs, (s.name, z, sorted(ours - theirs)[:10], sorted(theirs - ours)[:10])


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
    end = len(env.zg.log())  # the test's own AXFRs come after
    assert_same_as_fresh_axfr(env)
    # Every secondary asked IXFR for every change once it held the zone, and applied each
    # answer as one: no full transfer at all (BIND and NSD fall back to AXFR when a
    # difference does not apply, a deletion of a record they do not hold...; Knot logs it).
    bad = full_transfers(env, mark, end)
    assert not bad, full_transfers_explained(env, mark, end, bad)
    got = transfers(env.zg, mark)
    for kind, src in SOURCE.items():
        n = len([t for t in got if t["client"].startswith(src + ":")])
        assert n >= 20, (kind, n, got[-10:])
    n = len([ln for ln in env.knot.log()[env.knot_mark:].splitlines() if "IXFR, incoming" in ln and "finished" in ln])
    assert n >= 20, ("knot", n)
    assert took < 60, took
    if env.mode == "incremental":
        # most changes took the difference's path; the template edits and allocation
        # deletions among them rendered in full
        log = env.zg.log()[mark:end]
        assert log.count("from the difference in") >= 100, log[-3000:]
        assert log.count("written to its file") >= 20, log[-3000:]


def test_history_survives_a_restart(env):
    env.zg.stop()
    env.zg.start().wait_leader()
    mark = len(env.zg.log())
    r = env.staff.put("/v1/ptr/192.0.2.77", json={"hostname": "after-restart.example.com", "force": True})
    assert r.status_code == 200, r.text
    wait_in_sync(env)
    assert_same_as_fresh_axfr(env)
    lines = [t for t in transfers(env.zg, mark) if t["zone"] == Z4]
    # each of the three, by its source address (Knot's: 127.0.0.1)
    for src in ("127.0.0.1",) + tuple(SOURCE.values()):
        assert [t for t in lines if t["client"].startswith(src + ":") and t["how"] == "incremental"], \
            (src, env.zg.log()[mark:])


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
    assert [t for t in transfers(env.zg, mark) if t["how"] == "incremental"]
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
    lines = [t for t in transfers(env.zg, mark) if t["zone"] == Z4]
    # the first transfer after the start is full (the marker change after it is not)
    assert lines and lines[0]["how"] == "full", env.zg.log()[mark:]
    # and the next change is incremental again
    mark = len(env.zg.log())
    r = env.staff.put("/v1/ptr/192.0.2.80", json={"hostname": "again.example.com", "force": True})
    assert r.status_code == 200, r.text
    wait_in_sync(env)
    assert_same_as_fresh_axfr(env)
    assert [t for t in transfers(env.zg, mark) if t["zone"] == Z4 and t["how"] == "incremental"]
