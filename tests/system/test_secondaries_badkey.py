"""Wrong keys between rdns-zonegen and its secondaries: Knot, NSD, BIND and PowerDNS, each
from its deploy/dns example, once with the key name rdns knows but another secret and once
with a key name rdns does not know. rdns-zonegen refuses their requests with the TSIG error
of RFC 8945 (BADSIG, BADKEY) and logs client, zone, key name and reason, never a secret; no
secondary holds a zone; rdns's signed NOTIFY to each is refused, and notify_status says so
(a refusal or a TSIG failure, not "no answer")."""
import concurrent.futures
import os
import re
import time

import dns.message
import dns.query
import dns.rrset
import dns.tsig
import dns.tsigkeyring
import pytest

from harness import Zonegen, free_port, wait_until
from secondaries import KEY_NAME, KINDS

PRIMARY = "127.0.0.2"
SECRET = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="  # rdns's
WRONG = "d3Jvbmd3cm9uZ3dyb25nd3Jvbmd3cm9uZ3dyb25nMTI="   # the secondaries' own
OTHER_KEY = "other-key"
Z4, P4 = "2.0.192.in-addr.arpa", "192.0.2.0/24"
Z6, P6 = "0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa", "2001:db8:100::/48"
# Source addresses, so that the primary's log tells the secondaries apart (Knot's two:
# 127.0.0.1, told apart by their key names).
SOURCES = {("nsd", KEY_NAME): "127.0.0.3", ("nsd", OTHER_KEY): "127.0.0.4",
           ("bind", KEY_NAME): "127.0.0.5", ("bind", OTHER_KEY): "127.0.0.6",
           ("pdns", KEY_NAME): "127.0.0.7", ("pdns", OTHER_KEY): "127.0.0.8"}
NOTIFY_TRIES = 3


def parallel(fn, items):
    with concurrent.futures.ThreadPoolExecutor(len(items)) as ex:
        return list(ex.map(fn, items))


@pytest.fixture(scope="module")
def env(api, staff, dburl):
    zport = free_port(PRIMARY)
    secs = []
    for K in KINDS:
        for key_name, secret in ((KEY_NAME, WRONG), (OTHER_KEY, SECRET)):
            s = K(PRIMARY, zport, secret, True, SOURCES.get((K.kind, key_name)), key_name)
            s.source_addr = SOURCES.get((K.kind, key_name), "127.0.0.1")
            secs.append(s)
    allow = " ".join(["127.0.0.1"] + sorted(set(SOURCES.values())))
    zg = Zonegen(dburl, {"dns_listen": f"{PRIMARY}:{zport}", "transfer_allow": allow,
                         "tsig_keys": f"{KEY_NAME}:hmac-sha256:{SECRET}", "notify_tries": NOTIFY_TRIES})
    zg.port = zport

    class Env:
        pass
    e = Env()
    e.zg, e.secs, e.staff = zg, secs, staff
    try:
        zg.start().wait_leader()
        acct = staff.post("/v1/accounts", json={"name": "badkey-customer", "role": "customer"}).json()["id"]
        for p in (P4, P6):
            r = staff.post("/v1/allocations", json={"account_id": acct, "prefix": p})
            assert r.status_code == 201, r.text
        # NOTIFY signed with rdns's key, as to a secondary that shares it
        targets = [f"127.0.0.1:{s.port}@{KEY_NAME}" for s in secs]
        for prefix, name in ((P4, Z4), (P6, Z6)):
            r = staff.post("/v1/zones", json={"prefix": prefix, "nameservers": ["ns1.vps.example.net"],
                                              "notify": targets})
            assert r.status_code == 201, r.text
        for z in (Z4, Z6):
            wait_until(lambda z=z: os.path.exists(zg.zone_path(z)), what=f"{z} rendered")
        e.mark = len(zg.log())
        # One after the other, each until its refusals of both zones are logged: refusal
        # lines are limited to 10 a second, and eight secondaries starting at once ask more.
        for s in secs:
            s.start()
            try:
                wait_until(lambda s=s: refused_zones(e, s) == {Z4, Z6}, timeout=10, interval=0.1,
                           what=f"{s.name} refused")
            except TimeoutError:
                pass  # the test says which
        # a change in each zone once they all run: a NOTIFY to each of them now
        for ip in ("192.0.2.10", "2001:db8:100::10"):
            r = staff.put(f"/v1/ptr/{ip}", json={"hostname": "h.example.com", "force": True})
            assert r.status_code == 200, r.text
        e.secs_targets = dict(zip([s.name for s in secs], targets))
        yield e
        if os.environ.get("RDNS_SEC_LOGS"):
            print("\n".join(f"--- {s.name}:\n{s.log()[-3000:]}" for s in secs) + "\n--- zonegen:\n" + zg.log())
    finally:
        try:
            if zg.proc:
                zg.stop()
        finally:
            zg.close()
            parallel(lambda s: s.close(), secs)


def refusals(e):
    """zonegen's refusal lines since the secondaries started: (what, zone, client address,
    key, reason)."""
    pat = re.compile(r"dnssrv: refused (AXFR of|IXFR of|query for) (\S+?)\.? from ([\d.]+):\d+, key (\S+): (.*)")
    return [m.groups() for m in pat.finditer(e.zg.log()[e.mark:])]


def want_error(s):
    return "BADSIG" if s.key_name == KEY_NAME else "BADKEY"


def refused_zones(e, s):
    """The zones of the refusals logged of secondary s, with the TSIG error it must get."""
    key = s.key_name + "."
    return {z for what, z, addr, k, reason in refusals(e)
            if addr == s.source_addr and k == key and reason.startswith(f"TSIG {want_error(s)}")}


def test_primary_refuses_each_secondary_with_the_tsig_error(env):
    """Each secondary's signed requests (SOA queries, and transfers where it asks one at once)
    are refused with BADSIG (our key name, another secret) or BADKEY (a name we do not know),
    logged with its address, the zone and the key name."""
    missing = [f"{s.name}: {sorted(refused_zones(env, s))}" for s in env.secs if refused_zones(env, s) != {Z4, Z6}]
    assert not missing, "\n".join(missing) + "\n" + env.zg.log()[env.mark:][-5000:]
    kinds = {}
    for what, z, addr, k, reason in refusals(env):
        kinds.setdefault((addr, k), set()).add(what)
    print("\nrefused, by source and key: " + "; ".join(f"{a} {k}: {sorted(w)}" for (a, k), w in sorted(kinds.items())))


def test_no_secondary_holds_a_zone(env):
    time.sleep(0.5)
    held = [(s.name, z, s.serial(z)) for s in env.secs for z in (Z4, Z6) if s.serial(z) is not None]
    assert not held, held


@pytest.mark.parametrize("key_name,secret,exc", [(KEY_NAME, WRONG, dns.tsig.PeerBadSignature),
                                                   (OTHER_KEY, SECRET, dns.tsig.PeerBadKey)],
                         ids=["BADSIG", "BADKEY"])
def test_transfer_with_a_wrong_key_gets_the_tsig_error(env, key_name, secret, exc):
    """An AXFR and an IXFR signed with our key name and another secret get NOTAUTH with
    BADSIG, with a name we do not know BADKEY (RFC 8945 5.2); each is logged, with the key
    name and never the secret."""
    mark = len(env.zg.log())
    ring = dns.tsigkeyring.from_text({key_name: ("hmac-sha256", secret)})
    for rdtype in ("AXFR", "IXFR"):
        q = dns.message.make_query(Z4 + ".", rdtype)
        if rdtype == "IXFR":
            q.authority.append(dns.rrset.from_text(Z4 + ".", 0, "IN", "SOA", ". . 1 0 0 0 0"))
        q.use_tsig(ring, keyname=key_name, algorithm="hmac-sha256")
        with pytest.raises(exc):
            dns.query.tcp(q, PRIMARY, port=env.zg.port, timeout=3)
    err = "BADSIG" if exc is dns.tsig.PeerBadSignature else "BADKEY"
    log = env.zg.log()[mark:]
    for what in ("AXFR", "IXFR"):
        assert re.search(rf"refused {what} of {re.escape(Z4)}\. from 127\.0\.0\.1:\d+, key {key_name}\.: TSIG {err}",
                         log), log


def test_log_holds_no_secret(env):
    log = env.zg.log()
    for secret in (SECRET, WRONG):
        assert secret not in log
        assert secret.rstrip("=") not in log


def test_notify_to_a_secondary_with_another_key_is_refused(env):
    """rdns's signed NOTIFY to each: the secondary refuses it (or answers with a TSIG error,
    unsigned); notify_status says what came back, not "no answer"."""
    def status():
        out = {}
        for z in (Z4, Z6):
            st = env.staff.get(f"/v1/zones/{z}").json()["notify_status"] or {}
            for t, v in (st.get("targets") or {}).items():
                out[(z, t)] = v
        return out

    serial = {}
    for z in (Z4, Z6):
        r = dns.query.udp(dns.message.make_query(z + ".", "SOA"), PRIMARY, port=env.zg.port, timeout=1)
        serial[z] = r.answer[0][0].serial

    def finished():  # the NOTIFY of the last change, sent once all of them ran
        st = status()
        return all(st.get((z, env.secs_targets[s.name]), {}).get("serial") == serial[z] and
                   st[(z, env.secs_targets[s.name])].get("state") not in (None, "pending")
                   for s in env.secs for z in (Z4, Z6))
    wait_until(finished, timeout=30, interval=0.2, what="every NOTIFY finished")
    st = status()
    lines, bad = [], []
    for s in env.secs:
        for z in (Z4, Z6):
            v = st[(z, env.secs_targets[s.name])]
            lines.append(f"{s.name} {z[:8]}: {v.get('state')} rcode {v.get('rcode')}: {v.get('detail')}")
            if v.get("state") not in ("refused", "failed") or "no answer" in (v.get("detail") or "") or \
                    not re.search(r"BADSIG|BADKEY|NOTAUTH|REFUSED", v.get("detail") or ""):
                bad.append(lines[-1])
    print("\nnotify_status:\n" + "\n".join(lines))
    assert not bad, "\n".join(bad)
