"""rdns-zonegen end to end: zone files checked by BIND and Knot, a real knotd secondary
following NOTIFY + AXFR from our hidden primary, a knotd loading our files, TSIG,
crash safety, serial monotonicity, leader failover, NOTIFY retries."""
import datetime
import glob
import os
import re
import signal
import socket
import struct
import subprocess
import threading
import time

import dns.exception
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import dns.reversename
import dns.tsig
import dns.tsigkeyring
import dns.zone
import psycopg2
import pytest

from conftest import Client
from harness import Knot, Zonegen, free_port, wait_until

Z4 = "100.51.198.in-addr.arpa"
Z6 = "0.0.2.0.8.b.d.0.1.0.0.2.ip6.arpa"
TSIG_SECRET = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="


def query(port, name, rdtype, host="127.0.0.1", timeout=1.0, **kw):
    q = dns.message.make_query(name, rdtype)
    return dns.query.udp(q, host, port=port, timeout=timeout, **kw)


def ptr_answer(port, ip):
    """The PTR target the server at port gives for ip, or None."""
    try:
        r = query(port, dns.reversename.from_address(ip), "PTR")
    except dns.exception.Timeout:
        return None
    for rrset in r.answer:
        if rrset.rdtype == dns.rdatatype.PTR:
            return str(rrset[0].target)
    return None


def soa_serial(port, zone):
    r = query(port, zone + ".", "SOA")
    return r.answer[0][0].serial if r.answer else None


def db_serial(dburl, zone):
    with psycopg2.connect(dburl) as c, c.cursor() as cur:
        cur.execute("SELECT serial FROM reverse_zones WHERE name = %s", (zone,))
        return cur.fetchone()[0]


@pytest.fixture(scope="module")
def env(api, staff, dburl):
    secondary = Knot()
    loader = Knot()
    zg = Zonegen(dburl, {"post_write_command":
                         f"knotc -s {loader.dir}/knot.sock -t 5 zone-reload {{zone}} >/dev/null 2>&1 || true"})
    zg.start().wait_leader()
    wait_until(lambda: query(zg.port, "x.", "SOA").rcode() == dns.rcode.REFUSED, what="hidden primary up")
    acct = staff.post("/v1/accounts", json={"name": "zg-customer", "role": "customer"}).json()["id"]
    for p in ("198.51.100.0/26", "2001:db8:200::/56"):
        r = staff.post("/v1/allocations", json={"account_id": acct, "prefix": p})
        assert r.status_code == 201, r.text
    notify = [f"127.0.0.1:{secondary.port}"]
    r = staff.post("/v1/zones", json={"prefix": "198.51.100.0/24", "nameservers": ["ns1.example.net", "ns2.example.net"],
                                      "default_ptr": "static-{dashed}.vps.example.net", "notify": notify})
    assert r.status_code == 201, r.text
    assert r.json()["name"] == Z4
    r = staff.post("/v1/zones", json={"prefix": "2001:db8:200::/48", "nameservers": ["ns1.example.net"],
                                      "notify": notify})
    assert r.status_code == 201, r.text
    assert r.json()["name"] == Z6
    wait_until(lambda: os.path.exists(zg.zone_path(Z4)) and os.path.exists(zg.zone_path(Z6)),
               what="first render")
    secondary.add_secondary(Z4, zg.port)
    secondary.add_secondary(Z6, zg.port)
    loader.add_file_zone(Z4, zg.zone_path(Z4))
    wait_until(lambda: soa_serial(secondary.port, Z4) and soa_serial(secondary.port, Z6), timeout=20,
               what="secondary loaded both zones")

    class Env:
        pass
    e = Env()
    e.zg, e.secondary, e.loader, e.staff, e.dburl, e.api = zg, secondary, loader, staff, dburl, api
    e.customer = Client(api.base, staff.post(f"/v1/accounts/{acct}/tokens", json={}).json()["token"])
    yield e
    try:
        if e.zg.proc:
            e.zg.stop()
    finally:
        e.zg.close()
        secondary.close()
        loader.close()


def force_put(staff, ip, hostname):
    r = staff.put(f"/v1/ptr/{ip}", json={"hostname": hostname, "force": True})
    assert r.status_code == 200, r.text
    return r


def wait_file_has(zg, zone, text, timeout=10):
    def check():
        with open(zg.zone_path(zone)) as f:
            return text in f.read()
    wait_until(check, timeout=timeout, what=f"{text} in {zone}")


def test_zone_files_pass_checkers_and_read_back(env):
    force_put(env.staff, "198.51.100.10", "mail.example.com")
    force_put(env.staff, "198.51.100.11", "web.example.org.")
    force_put(env.staff, "2001:db8:200::25", "mx6.example.com")
    wait_file_has(env.zg, Z4, "web.example.org.")
    wait_file_has(env.zg, Z6, "mx6.example.com.")
    for zone in (Z4, Z6):
        path = env.zg.zone_path(zone)
        r = subprocess.run(["named-checkzone", "-i", "full", zone, path], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        assert r.returncode == 0, r.stdout
        r = subprocess.run(["kzonecheck", "-o", zone, path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
        assert r.returncode == 0, r.stdout
    z4 = dns.zone.from_file(env.zg.zone_path(Z4), origin=Z4 + ".", relativize=False)
    ptrs = {str(name): str(rds[0].target) for name, rds in z4.iterate_rdatasets("PTR")}
    assert len(ptrs) == 256  # every address: 2 custom + 254 defaults
    assert ptrs["10.100.51.198.in-addr.arpa."] == "mail.example.com."
    assert ptrs["11.100.51.198.in-addr.arpa."] == "web.example.org."
    assert ptrs["200.100.51.198.in-addr.arpa."] == "static-198-51-100-200.vps.example.net."
    soa = z4.find_rdataset(Z4 + ".", "SOA")[0]
    assert soa.serial == db_serial(env.dburl, Z4)
    ns = sorted(str(r.target) for r in z4.find_rdataset(Z4 + ".", "NS"))
    assert ns == ["ns1.example.net.", "ns2.example.net."]
    z6 = dns.zone.from_file(env.zg.zone_path(Z6), origin=Z6 + ".", relativize=False)
    p6 = {str(name): str(rds[0].target) for name, rds in z6.iterate_rdatasets("PTR")}
    assert p6 == {str(dns.reversename.from_address("2001:db8:200::25")): "mx6.example.com."}
    assert str(dns.reversename.from_address("2001:db8:200::25")).count(".") == 34


def test_zone_files_with_delegations_pass_checkers_and_secondary_follows(env):
    """Delegations (issue 16): RFC 2317 CNAMEs and NS in the IPv4 zone, NS at a nibble cut in
    the IPv6 zone; both files pass the checkers, the knotd secondary follows and serves the
    CNAME, and everything is back to PTRs once the delegations go."""
    dels = {"198.51.100.0/26": Z4, "2001:db8:200:10::/60": Z6}
    for prefix in dels:
        r = env.staff.put(f"/v1/delegations/{prefix}", json={"nameservers": ["ns1.deleg.example.net"],
                                                             "force": True})
        assert r.status_code == 201, r.text
    wait_file_has(env.zg, Z4, "0-63.100.51.198.in-addr.arpa. 3600 IN NS ns1.deleg.example.net.")
    wait_file_has(env.zg, Z6, "1.0.0.0.0.2.0.8.b.d.0.1.0.0.2.ip6.arpa. 3600 IN NS ns1.deleg.example.net.")
    for zone in (Z4, Z6):
        path = env.zg.zone_path(zone)
        for argv in (["named-checkzone", "-k", "fail", "-n", "fail", "-i", "full", zone, path],
                     ["kzonecheck", "-o", zone, path]):
            r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            assert r.returncode == 0, r.stdout
    wait_until(lambda: soa_serial(env.secondary.port, Z4) == db_serial(env.dburl, Z4), timeout=10,
               what="secondary follows the delegation")
    r = query(env.secondary.port, "10.100.51.198.in-addr.arpa.", "PTR")
    assert r.answer and r.answer[0].rdtype == dns.rdatatype.CNAME
    assert str(r.answer[0][0].target) == "10.0-63.100.51.198.in-addr.arpa."
    for prefix in dels:
        assert env.staff.delete(f"/v1/delegations/{prefix}").status_code == 204
    wait_until(lambda: ptr_answer(env.secondary.port, "198.51.100.10") == "mail.example.com.", timeout=10,
               what="secondary back to the PTR")

    def z6_back():
        with open(env.zg.zone_path(Z6)) as f:
            return " NS ns1.deleg.example.net." not in f.read()
    wait_until(z6_back, timeout=10, what="the IPv6 delegation gone from its file")


def test_secondary_answers_within_two_seconds(env):
    for ip, name, fallback in (("198.51.100.20", "relay.example.com.", "static-198-51-100-20.vps.example.net."),
                               ("2001:db8:200::20", "relay6.example.com.", None)):
        t0 = time.monotonic()
        force_put(env.staff, ip, name)
        wait_until(lambda: ptr_answer(env.secondary.port, ip) == name, timeout=5, interval=0.02,
                   what=f"secondary PTR {ip}")
        assert time.monotonic() - t0 < 2.0
        r = env.staff.delete(f"/v1/ptr/{ip}")
        assert r.status_code == 204
        t0 = time.monotonic()
        wait_until(lambda: ptr_answer(env.secondary.port, ip) == fallback, timeout=5, interval=0.02,
                   what=f"secondary fallback {ip}")
        assert time.monotonic() - t0 < 2.0


def test_primary_loading_our_files_is_reloaded(env):
    force_put(env.staff, "198.51.100.30", "files.example.com")
    wait_until(lambda: ptr_answer(env.loader.port, "198.51.100.30") == "files.example.com.", timeout=5,
               what="file-loading knotd answers")


def test_axfr_equals_zone_file(env):
    force_put(env.staff, "198.51.100.40", "axfr.example.com")
    wait_file_has(env.zg, Z4, "axfr.example.com.")
    fz = dns.zone.from_file(env.zg.zone_path(Z4), origin=Z4 + ".", relativize=False)
    # The file is renamed into place before the daemon loads it to serve (and NOTIFYs): the
    # version served catches up a moment later (a full run once compared the two in between).
    serial = fz.find_rdataset(Z4 + ".", "SOA")[0].serial
    wait_until(lambda: soa_serial(env.zg.port, Z4) == serial, timeout=10, interval=0.02,
               what=f"{Z4} served at the file's serial {serial}")
    xz = dns.zone.from_xfr(dns.query.xfr("127.0.0.1", Z4, port=env.zg.port, lifetime=10, relativize=False), relativize=False)
    assert xz == fz
    for zone in (Z6,):
        xz = dns.zone.from_xfr(dns.query.xfr("127.0.0.1", zone, port=env.zg.port, relativize=False), relativize=False)
        assert xz == dns.zone.from_file(env.zg.zone_path(zone), origin=zone + ".", relativize=False)


def test_refused_outside_transfer_allow_and_unknown_zone(env):
    with pytest.raises(dns.query.TransferError) as e:
        dns.zone.from_xfr(dns.query.xfr("127.0.0.1", Z4, port=env.zg.port, source="127.0.0.2"))
    assert e.value.rcode == dns.rcode.REFUSED
    r = query(env.zg.port, Z4 + ".", "SOA", source="127.0.0.2")
    assert r.rcode() == dns.rcode.REFUSED
    with pytest.raises(dns.query.TransferError) as e:
        dns.zone.from_xfr(dns.query.xfr("127.0.0.1", "0.0.10.in-addr.arpa", port=env.zg.port))
    assert e.value.rcode == dns.rcode.REFUSED
    assert query(env.zg.port, Z4 + ".", "SOA").answer
    # an ordinary query in a served zone is answered (NODATA here), outside them REFUSED
    r = query(env.zg.port, Z4 + ".", "A")
    assert r.rcode() == dns.rcode.NOERROR and not r.answer and r.authority[0].rdtype == dns.rdatatype.SOA
    assert query(env.zg.port, "0.0.10.in-addr.arpa.", "PTR").rcode() == dns.rcode.REFUSED


def test_deleted_zone_stops_being_served_at_once(env):
    """Deleting a zone wakes rdns-zonegen, which stops serving it and removes its file
    without waiting for the reconcile pass (3600 s in the harness), and clears the
    zone's change rows."""
    zone = "102.51.198.in-addr.arpa"
    r = env.staff.post("/v1/zones", json={"prefix": "198.51.102.0/24", "nameservers": ["ns1.example.net"]})
    assert r.status_code == 201, r.text
    path = env.zg.zone_path(zone)
    wait_until(lambda: os.path.exists(path) and query(env.zg.port, zone + ".", "SOA").answer, what="new zone served")
    with psycopg2.connect(env.dburl) as c, c.cursor() as cur:
        cur.execute("SELECT id FROM reverse_zones WHERE name = %s", (zone,))
        zid = cur.fetchone()[0]
    t0 = time.monotonic()
    r = env.staff.delete(f"/v1/zones/{zone}")
    assert r.status_code == 204, r.text
    wait_until(lambda: not os.path.exists(path), timeout=5, what="zone file removed")
    assert query(env.zg.port, zone + ".", "SOA").rcode() == dns.rcode.REFUSED
    assert time.monotonic() - t0 < 5
    with psycopg2.connect(env.dburl) as c, c.cursor() as cur:
        cur.execute("SELECT count(*) FROM zone_changes WHERE zone_id = %s", (zid,))
        assert cur.fetchone()[0] == 0
    # The other zones are still served.
    assert query(env.zg.port, Z4 + ".", "SOA").answer


def test_notify_target_down_then_up_is_acknowledged(env):
    port = free_port()
    r = env.staff.post("/v1/zones", json={"prefix": "203.0.113.0/24", "nameservers": ["ns1.example.net"],
                                          "notify": [f"127.0.0.1:{port}"]})
    assert r.status_code == 201, r.text
    time.sleep(0.6)  # first tries go unanswered
    stop = threading.Event()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))
    sock.settimeout(0.2)

    def responder():
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except socket.timeout:
                continue
            m = dns.message.from_wire(data)
            resp = dns.message.make_response(m)
            sock.sendto(resp.to_wire(), peer)
    t = threading.Thread(target=responder)
    t.start()
    try:
        def acked():
            st = env.staff.get("/v1/zones/113.0.203.in-addr.arpa").json()["notify_status"]
            tgt = st.get("targets", {}).get(f"127.0.0.1:{port}")
            return tgt if tgt and tgt["state"] == "acked" else None
        tgt = wait_until(acked, timeout=15, interval=0.2, what="NOTIFY acknowledged")
        assert tgt["tries"] > 1
    finally:
        stop.set()
        t.join()
        sock.close()
    assert env.staff.delete("/v1/zones/113.0.203.in-addr.arpa").status_code == 204


def test_notify_outcome_is_logged_once(env):
    """One log line per NOTIFY outcome, with zone, serial, target and outcome (rdns-zonegen
    used to log it twice: in the notifier and again when it recorded it)."""
    zone = "7.19.198.in-addr.arpa"
    stop = threading.Event()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    port = sock.getsockname()[1]

    def responder():
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except socket.timeout:
                continue
            sock.sendto(dns.message.make_response(dns.message.from_wire(data)).to_wire(), peer)
    t = threading.Thread(target=responder)
    t.start()
    try:
        r = env.staff.post("/v1/zones", json={"prefix": "198.19.7.0/24", "nameservers": ["ns1.example.net"],
                                              "notify": [f"127.0.0.1:{port}"]})
        assert r.status_code == 201, r.text

        def acked():
            st = env.staff.get(f"/v1/zones/{zone}").json()["notify_status"]
            tgt = (st or {}).get("targets", {}).get(f"127.0.0.1:{port}")
            return st if tgt and tgt["state"] == "acked" else None
        st = wait_until(acked, timeout=15, interval=0.2, what="NOTIFY acknowledged")
    finally:
        stop.set()
        t.join()
        sock.close()
    about = f"notify: zone {zone} serial {st['serial']}: 127.0.0.1:{port}"
    lines = [ln for ln in env.zg.log().splitlines() if about in ln]
    assert len(lines) == 1, lines
    assert re.search(re.escape(about) + r": acknowledged: acknowledged after (1 try|\d+ tries)$", lines[0]), lines
    assert " info: " in lines[0]
    assert env.staff.delete(f"/v1/zones/{zone}").status_code == 204


def test_change_arriving_with_notify_bookkeeping_is_not_lost(env):
    """A change's wake-up (LISTEN) can reach rdns-zonegen together with the answer to the
    statement it runs when a NOTIFY is acknowledged; libpq then queues it, and the socket
    shows nothing. Here every acknowledgement is followed at once by a change in another zone;
    each of those changes must be served within seconds, not at the next reconcile (3600 s)."""
    za, zb = "2.0.192.in-addr.arpa", "0.18.198.in-addr.arpa"
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    port = sock.getsockname()[1]
    for prefix, notify in (("192.0.2.0/24", [f"127.0.0.1:{port}"]), ("198.18.0.0/24", [])):
        r = env.staff.post("/v1/zones", json={"prefix": prefix, "nameservers": ["ns1.example.net"],
                                              "notify": notify})
        assert r.status_code == 201, r.text
    staff_id = env.staff.get("/v1/me").json()["account_id"]
    db = psycopg2.connect(env.dburl)
    db.autocommit = True
    cur = db.cursor()
    try:
        wait_until(lambda: soa_serial(env.zg.port, za) and soa_serial(env.zg.port, zb), what="both zones served")
        for i in range(12):
            before_a, before_b = soa_serial(env.zg.port, za), soa_serial(env.zg.port, zb)
            force_put(env.staff, "192.0.2.1", f"a{i}.example.net")
            while True:  # the NOTIFY of zone A's new serial (anything else is answered too)
                data, peer = sock.recvfrom(4096)
                m = dns.message.from_wire(data)
                sock.sendto(dns.message.make_response(m).to_wire(), peer)
                if m.question and str(m.question[0].name) == za + "." and m.answer and \
                        m.answer[0][0].serial != before_a:
                    break
            # the acknowledgement is on its way: commit a change in zone B right behind it
            cur.execute("SELECT o_request FROM rdns_ptr_apply('198.18.0.1', %s, NULL, %s, 'zg-test', true,"
                        " '[]', NULL, NULL)", (f"b{i}.example.net", staff_id))
            wait_until(lambda: soa_serial(env.zg.port, zb) != before_b, timeout=5, interval=0.02,
                       what=f"change {i} in {zb} served")
    finally:
        cur.close()
        db.close()
        sock.close()
        for z in (za, zb):
            env.staff.delete(f"/v1/zones/{z}")


def _big_zone(dburl, n):
    """Load n custom PTRs into the IPv6 zone with COPY and mark it dirty."""
    with psycopg2.connect(dburl) as c, c.cursor() as cur:
        cur.execute("SELECT id FROM reverse_zones WHERE name = %s", (Z6,))
        zid = cur.fetchone()[0]
        cur.execute("DELETE FROM ptr_records WHERE zone_id = %s AND hostname LIKE 'bulk%%'", (zid,))
        cur.execute(f"INSERT INTO ptr_records (ip, zone_id, hostname) SELECT ('2001:db8:200:1::'"
                    f" || to_hex(g >> 16) || ':' || to_hex(g & 65535))::inet, %s, 'bulk' || g || '.example.com' FROM generate_series(1, {n}) g",
                    (zid,))
        cur.execute("SELECT rdns_zone_touch(%s)", (zid,))


RENDER_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z .*zonegen: zone (\S+): serial (\d+), "
                         r"\d+ records, written in (\d+) ms", re.M)


def _renders(log, zone):
    """(end in ms since the epoch, duration ms, serial) of each render of zone in log."""
    def ms(stamp):
        return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f").replace(
            tzinfo=datetime.timezone.utc).timestamp() * 1000
    return [(ms(m.group(1)), int(m.group(4)), int(m.group(3))) for m in RENDER_LINE.finditer(log)
            if m.group(2) == zone]


def test_render_rate_is_bounded_without_delaying_a_change(env, dburl):
    """debounce_ms bounds the render rate by a duty cycle, it does not hold a change back: with
    debounce_ms = 500, a change made right after the previous change was published is served
    at once (the old window made it wait ~450 ms); a stream of changes renders in passes with a
    gap after each at least as long as the render took (or debounce_ms), so far fewer times
    than there are changes, and the last change is served."""
    env.zg.stop()
    zg = Zonegen(dburl, {"debounce_ms": 500})
    db = psycopg2.connect(dburl)
    db.autocommit = True
    cur = db.cursor()
    try:
        zg.start().wait_leader()
        time.sleep(0.7)  # its start-up reconcile is done, and any gap after it
        lat = []
        for i in range(6):
            serial = soa_serial(zg.port, Z4)
            force_put(env.staff, "198.51.100.41", f"next{i}.example.com")
            t0 = time.monotonic()
            while soa_serial(zg.port, Z4) == serial:
                assert time.monotonic() - t0 < 5, f"change {i} not served within 5 s"
                time.sleep(0.002)
            lat.append(time.monotonic() - t0)
            assert ptr_answer(zg.port, "198.51.100.41") == f"next{i}.example.com."
        lat.sort()
        assert lat[len(lat) // 2] < 0.150 and lat[-1] < 0.400, lat

        staff_id = env.staff.get("/v1/me").json()["account_id"]
        mark = len(zg.log())
        n, t_end = 0, time.monotonic() + 2.0
        while time.monotonic() < t_end:
            cur.execute("SELECT o_request FROM rdns_ptr_apply('198.51.100.43', %s, NULL, %s, 'zg-test', true,"
                        " '[]', NULL, NULL)", (f"stream{n}.example.com", staff_id))
            n += 1
        last = f"stream{n - 1}.example.com."
        wait_until(lambda: ptr_answer(zg.port, "198.51.100.43") == last, timeout=10, interval=0.02,
                   what="the stream's last change served")
        time.sleep(0.6)
        renders = _renders(zg.log()[mark:], Z4)
        assert n >= 100, n
        assert 2 <= len(renders) <= n // 3, (len(renders), n)
        for (end0, dur0, _), (end1, dur1, _) in zip(renders, renders[1:]):
            # start of the next render - end of this one >= the gap (ms truncation: 3 ms)
            assert (end1 - dur1) - end0 >= min(500, dur0 * 1) - 3, (end0, dur0, end1, dur1)
        assert zg.stop() == 0
    finally:
        cur.close()
        db.close()
        zg.close()
        env.zg.start().wait_leader()


def test_primary_keeps_serving_while_its_session_is_busy(env):
    """The leader's lease is proved from a second session (zonegen/lease.c) while the main
    session is busy: here its render waits 1.5 s for a row lock another transaction holds
    (as it may wait on a busy PostgreSQL, or its thread on an fsync or on checking a large
    file at publish). Every zone is answered all along. Before, serving stopped once the
    main session had been quiet for half a lease (400 ms), and a secondary that asked then
    was REFUSED and came back only after its retry interval (Knot: 15 minutes)."""
    rcodes, stop = [], threading.Event()

    def ask():
        while not stop.is_set():
            try:
                rcodes.append(query(env.zg.port, Z4 + ".", "SOA", timeout=0.5).rcode())
            except dns.exception.Timeout:
                rcodes.append("timeout")
            time.sleep(0.01)

    before = db_serial(env.dburl, Z6)
    holder = psycopg2.connect(env.dburl)
    t = threading.Thread(target=ask, daemon=True)
    try:
        with holder.cursor() as cur:
            # FOR NO KEY UPDATE: the render's UPDATE of the zone's serial waits for it,
            # the change's INSERT (a foreign key: FOR KEY SHARE) does not
            cur.execute("SELECT 1 FROM reverse_zones WHERE name = %s FOR NO KEY UPDATE", (Z6,))
            force_put(env.staff, "2001:db8:200:9::1", "busy-session.example.com")
            t.start()
            time.sleep(1.5)
            assert db_serial(env.dburl, Z6) == before  # the render is still waiting
        holder.commit()
        wait_until(lambda: soa_serial(env.zg.port, Z6) == db_serial(env.dburl, Z6) != before, timeout=20,
                   interval=0.05, what="the change published")
        time.sleep(0.2)
    finally:
        stop.set()
        if t.is_alive():
            t.join(timeout=5)
        holder.close()
    bad = [r for r in rcodes if r != dns.rcode.NOERROR]
    # Without the lease thread some 70% are REFUSED. With it, a proof every 100 ms valid
    # for 400 ms; on a machine loaded far past its cores the thread can still be kept off
    # the CPU that long, so an odd refusal is tolerated (seen once in many runs, at load 9).
    assert len(rcodes) > 50 and len(bad) <= len(rcodes) // 20, (len(rcodes), len(bad), bad[:3])


def test_kill9_during_render_keeps_a_valid_zone_and_serials_only_grow(env):
    before = db_serial(env.dburl, Z6)
    _big_zone(env.dburl, 150000)
    time.sleep(0.15)  # the render is under way (it starts at once, and takes longer)
    env.zg.proc.send_signal(signal.SIGKILL)
    env.zg.proc.wait()
    env.zg.proc = None
    path = env.zg.zone_path(Z6)
    r = subprocess.run(["named-checkzone", Z6, path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout
    mid = db_serial(env.dburl, Z6)
    assert mid >= before
    env.zg.start().wait_leader()
    wait_until(lambda: "bulk150000.example.com." in open(path).read(), timeout=30, what="render after restart")
    after = db_serial(env.dburl, Z6)
    assert after > before and ((after - before) % 2**32) < 2**31
    # The secondary follows to the new serial (AXFR of the large zone).
    wait_until(lambda: soa_serial(env.secondary.port, Z6) == after, timeout=20, what="secondary at new serial")
    # Unchanged content on a restart keeps the serial.
    env.zg.stop()
    env.zg.start().wait_leader()
    time.sleep(1.0)
    assert db_serial(env.dburl, Z6) == after
    with psycopg2.connect(env.dburl) as c, c.cursor() as cur:
        cur.execute("DELETE FROM ptr_records WHERE hostname LIKE 'bulk%%'")
        cur.execute("SELECT rdns_zone_touch(id) FROM reverse_zones WHERE name = %s", (Z6,))
    wait_until(lambda: db_serial(env.dburl, Z6) != after, timeout=20, what="render after bulk delete")
    assert not glob.glob(os.path.join(env.zg.zone_dir, ".*.zone.*"))


def test_primary_answers_during_a_slow_post_write_and_when_its_notify_arrives(env, dburl):
    """What runs between a render's commit and its NOTIFY (a slow post_write_command, here
    `sleep 1`; checking a large zone's file at publish) can outlast the leader's lease renewed
    at the commit. The hidden primary must keep answering meanwhile (the daemon proves its
    session alive while it waits for the command) and must answer the SOA query a secondary
    sends as soon as the NOTIFY arrives (knotd, refused, gives up on the primary until its
    retry interval)."""
    env.zg.stop()
    zg = Zonegen(dburl, {"post_write_command": "sleep 1"})
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(10)
    notify = [f"127.0.0.1:{env.secondary.port}", f"127.0.0.1:{sock.getsockname()[1]}"]
    r = env.staff.patch(f"/v1/zones/{Z4}", json={"notify": notify})
    assert r.status_code == 200, r.text
    try:
        zg.start().wait_leader()
        time.sleep(3.0)  # the start-up renders and their post-write commands
        for i in range(2):
            before = soa_serial(zg.port, Z4)
            assert before == db_serial(dburl, Z4)
            force_put(env.staff, "198.51.100.44", f"slow{i}.example.com")
            wait_until(lambda: db_serial(dburl, Z4) != before, timeout=5, interval=0.01, what="render committed")
            time.sleep(0.6)  # inside the post-write command, past the lease renewed at the commit
            a = query(zg.port, Z4 + ".", "SOA")
            assert a.rcode() == dns.rcode.NOERROR, f"during the post-write command: {dns.rcode.to_text(a.rcode())}"
            while True:
                data, peer = sock.recvfrom(4096)
                m = dns.message.from_wire(data)
                sock.sendto(dns.message.make_response(m).to_wire(), peer)
                if m.question and str(m.question[0].name) == Z4 + "." and m.answer and \
                        m.answer[0][0].serial != before:
                    break
            a = query(zg.port, Z4 + ".", "SOA")
            assert a.rcode() == dns.rcode.NOERROR, f"at the NOTIFY: {dns.rcode.to_text(a.rcode())}"
            assert a.answer[0][0].serial == m.answer[0][0].serial
            time.sleep(1.2)  # this change's post-write command is over
        assert zg.stop() == 0
    finally:
        sock.close()
        zg.close()
        env.staff.patch(f"/v1/zones/{Z4}", json={"notify": notify[:1]})
        env.zg.start().wait_leader()


def test_change_committed_after_the_render_that_hid_it_is_served(env, dburl):
    """A change notifies only when its zone has no pending change. One whose statement runs
    while a render is under way sees the rows that render is about to delete and stays
    silent; committed after the render (and after the daemon looked for pending changes), it
    must still be served: the daemon waits for the transactions in progress at the render's
    commit before it looks (here: 0.5 s; the old look found nothing and left the change for
    the reconcile, an hour away)."""
    staff_id = env.staff.get("/v1/me").json()["account_id"]
    before = db_serial(dburl, Z6)
    _big_zone(dburl, 150000)  # its render starts at once and takes a while
    time.sleep(0.2)
    late = psycopg2.connect(dburl)
    try:
        with late.cursor() as cur:
            cur.execute("SELECT o_request FROM rdns_ptr_apply('2001:db8:200::99', 'late.example.com', NULL, %s,"
                        " 'zg-test', true, '[]', NULL, NULL)", (staff_id,))
        wait_until(lambda: db_serial(dburl, Z6) != before, timeout=30, what="the render committed")
        time.sleep(0.5)
        late.commit()
        wait_until(lambda: ptr_answer(env.zg.port, "2001:db8:200::99") == "late.example.com.", timeout=10,
                   interval=0.05, what="the late change served")
    finally:
        late.close()
        with psycopg2.connect(dburl) as c, c.cursor() as cur:
            cur.execute("DELETE FROM ptr_records WHERE hostname LIKE 'bulk%%' OR hostname = 'late.example.com'")
            cur.execute("SELECT rdns_zone_touch(id) FROM reverse_zones WHERE name = %s", (Z6,))
        wait_until(lambda: ptr_answer(env.zg.port, "2001:db8:200::99") is None, timeout=30, what="cleaned up")


@pytest.mark.parametrize("call", [
    "rdns_ptr_apply_batch(ARRAY[%(ip)s]::inet[], ARRAY[%(name)s], ARRAY[NULL]::bigint[], ARRAY[%(actor)s]::bigint[],"
    " ARRAY['zg-test'], ARRAY[true], ARRAY['[]'], ARRAY[NULL])",
    "rdns_ptr_bulk_apply(ARRAY[%(ip)s]::inet[], ARRAY[%(name)s], NULL, %(actor)s, 'zg-test', ARRAY['[]'], false)"],
    ids=["apply_batch", "bulk_apply"])
def test_batched_change_whose_statement_began_before_the_render_is_served(env, dburl, call):
    """The same for rdns_ptr_apply_batch (and rdns_ptr_bulk_apply), whose one statement both writes the change and
    looks for pending changes: its snapshot is taken before its first row gives the
    transaction an id, so a render that commits between the two, and the daemon's look at
    the transactions in progress right after it, would not see it in progress, and the
    change would wait for the reconcile. The batch holds its id before that statement.
    Triggers hold the statement's first row (before it is written) until the render has
    committed, and 0.5 s more."""
    staff_id = env.staff.get("/v1/me").json()["account_id"]
    before = db_serial(dburl, Z6)
    tables = ("ptr_records", "ptr_requests", "audit_log", "zone_changes")
    with psycopg2.connect(dburl) as c, c.cursor() as cur:
        cur.execute(f"""CREATE FUNCTION test_hold_first_row() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF current_setting('application_name') = 'late-batch'
                   AND current_setting('test.held', true) IS DISTINCT FROM 'yes' THEN
                    PERFORM set_config('test.held', 'yes', true);
                    RAISE NOTICE 'held: id % (%)', coalesce(pg_current_xact_id_if_assigned()::text, 'none'), TG_TABLE_NAME;
                    FOR i IN 1..300 LOOP
                        EXIT WHEN (SELECT serial FROM reverse_zones WHERE name = '{Z6}') <> {before};
                        PERFORM pg_sleep(0.1);
                    END LOOP;
                    PERFORM pg_sleep(0.5);
                END IF;
                RETURN NEW;
            END $$""")
        for t in tables:
            cur.execute(f"CREATE TRIGGER test_hold_first_row BEFORE INSERT ON {t}"
                        " FOR EACH ROW EXECUTE FUNCTION test_hold_first_row()")
    late = psycopg2.connect(dburl, application_name="late-batch")
    try:
        _big_zone(dburl, 150000)  # its render starts at once and takes a while
        with psycopg2.connect(dburl) as c, c.cursor() as cur:
            # A nextval() that writes its sequence's WAL record (the first after a
            # checkpoint, then one in 32) gives its transaction an id: the checkpoint that
            # the COPY above may have set going done, these leave the batch's ids to the
            # next 31, so that without the fix its first row comes with no id.
            cur.execute("CHECKPOINT")
            cur.execute("SELECT nextval(pg_get_serial_sequence('ptr_requests', 'id')),"
                        " nextval(pg_get_serial_sequence('audit_log', 'id')),"
                        " nextval(pg_get_serial_sequence('zone_changes', 'seq'))")
        time.sleep(0.2)
        with late.cursor() as cur:
            cur.execute("SELECT count(*) FROM zone_changes z JOIN reverse_zones r ON r.id = z.zone_id"
                        " WHERE r.name = %s", (Z6,))
            assert cur.fetchone()[0] > 0, "the render was over before the batch began: a bigger zone needed"
            cur.execute("SELECT o_request FROM " + call,
                        {"ip": "2001:db8:200::98", "name": "late-batch.example.com", "actor": staff_id})
            assert cur.fetchone()[0] is not None
        held = [n for n in late.notices if "held: id" in n]
        assert len(held) == 1 and "id none" not in held[0], f"the batch wrote its first row without an id: {held}"
        assert db_serial(dburl, Z6) != before, "the trigger gave up waiting for the render"
        late.commit()
        wait_until(lambda: ptr_answer(env.zg.port, "2001:db8:200::98") == "late-batch.example.com.",
                   timeout=10, interval=0.05, what="the late batched change served")
    finally:
        late.close()
        with psycopg2.connect(dburl) as c, c.cursor() as cur:
            for t in tables:
                cur.execute(f"DROP TRIGGER test_hold_first_row ON {t}")
            cur.execute("DROP FUNCTION test_hold_first_row()")
            cur.execute("DELETE FROM ptr_records WHERE hostname LIKE 'bulk%%' OR hostname = 'late-batch.example.com'")
            cur.execute("SELECT rdns_zone_touch(id) FROM reverse_zones WHERE name = %s", (Z6,))
        wait_until(lambda: ptr_answer(env.zg.port, "2001:db8:200::98") is None, timeout=30, what="cleaned up")


def test_tsig_transfers(env, dburl):
    env.zg.stop()
    zg = Zonegen(dburl, {"tsig_keys": f"xfr-key:hmac-sha256:{TSIG_SECRET}", "transfer_tsig_key": "xfr-key"},
                 zone_dir=env.zg.zone_dir)
    zg.conf["zone_dir"] = env.zg.zone_dir
    try:
        zg.start()
        wait_until(lambda: soa_serial(zg.port, Z4), what="TSIG primary serving")
        keyring = dns.tsigkeyring.from_text({"xfr-key.": ("hmac-sha256", TSIG_SECRET)})
        xz = dns.zone.from_xfr(dns.query.xfr("127.0.0.1", Z4, port=zg.port, keyring=keyring,
                                             keyname="xfr-key.", keyalgorithm="hmac-sha256", relativize=False),
                               relativize=False)
        assert xz == dns.zone.from_file(zg.zone_path(Z4), origin=Z4 + ".", relativize=False)
        with pytest.raises(dns.query.TransferError) as e:
            dns.zone.from_xfr(dns.query.xfr("127.0.0.1", Z4, port=zg.port))
        assert e.value.rcode in (dns.rcode.REFUSED, dns.rcode.NOTAUTH)
        bad = dns.tsigkeyring.from_text({"xfr-key.": ("hmac-sha256", "d3Jvbmd3cm9uZ3dyb25nd3Jvbmd3cm9uZ3dyb25nMTI=")})
        with pytest.raises(Exception):
            dns.zone.from_xfr(dns.query.xfr("127.0.0.1", Z4, port=zg.port, keyring=bad, keyname="xfr-key.",
                                            keyalgorithm="hmac-sha256"))
        zg.stop()
    finally:
        zg.close()
        env.zg.start().wait_leader()


def _tsig_of(wire, start):
    """The TSIG RR at start (our server writes its owner uncompressed): owner, rdata."""
    owner, used = dns.name.from_wire(wire, start)
    at = start + used
    rdlen = struct.unpack("!H", wire[at + 8:at + 10])[0]
    return owner, dns.rdata.from_wire(dns.rdataclass.ANY, dns.rdatatype.TSIG, wire, at + 10, rdlen)


def test_tsig_replay_refused(env, dburl):
    """RFC 8945 §5.2.3 on the hidden primary: the same signed AXFR request sent again is
    refused with NOTAUTH, TSIG error BADTIME, signed, our time in Other Data, and an info
    line (a replayed transfer request would hand out the zone); the same signed SOA query
    sent again (what a UDP retransmission after a lost answer looks like) is answered. A
    fresh request with the same key and a request with another key still work."""
    env.zg.stop()
    other_secret = "b3RoZXJvdGhlcm90aGVyb3RoZXJvdGhlcm90aGVyMTI="
    zg = Zonegen(dburl, {"tsig_keys": f"xfr-key:hmac-sha256:{TSIG_SECRET} other-key:hmac-sha256:{other_secret}"},
                 zone_dir=env.zg.zone_dir)
    zg.conf["zone_dir"] = env.zg.zone_dir
    keyring = dns.tsigkeyring.from_text({"xfr-key.": ("hmac-sha256", TSIG_SECRET),
                                         "other-key.": ("hmac-sha256", other_secret)})
    try:
        zg.start()
        wait_until(lambda: soa_serial(zg.port, Z4), what="TSIG primary serving")

        def signed(keyname, qtype):
            q = dns.message.make_query(Z4 + ".", qtype, use_edns=False)
            q.use_tsig(keyring, keyname=keyname, algorithm="hmac-sha256")
            return q, q.to_wire()

        def exchange_udp(wire):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(2.0)
                s.sendto(wire, ("127.0.0.1", zg.port))
                return s.recv(65535)

        def first_tcp_message(wire):
            with socket.create_connection(("127.0.0.1", zg.port), timeout=3) as s:
                s.sendall(struct.pack("!H", len(wire)) + wire)
                buf = b""
                while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
                    d = s.recv(65536)
                    if not d:
                        break
                    buf += d
                return buf[2:2 + struct.unpack("!H", buf[:2])[0]]

        # SOA: the same bytes twice, both answered and signed.
        q, wire = signed("xfr-key.", "SOA")
        for _ in range(2):
            r = dns.message.from_wire(exchange_udp(wire), keyring=keyring, request_mac=q.mac)
            assert r.rcode() == dns.rcode.NOERROR and r.answer and r.had_tsig

        # AXFR: the first is served, its copy refused.
        q, wire = signed("xfr-key.", "AXFR")
        first = dns.message.from_wire(first_tcp_message(wire), keyring=keyring, request_mac=q.mac,
                                      multi=True)
        assert first.rcode() == dns.rcode.NOERROR and first.answer
        again = first_tcp_message(wire)
        assert again[3] & 0xF == dns.rcode.NOTAUTH
        with pytest.raises(dns.tsig.PeerBadTime):
            dns.message.from_wire(again, keyring=keyring, request_mac=q.mac)
        # Signed by the same key (RFC 8945 §5.2.3): rebuild the digest over the answer.
        qlen = len(dns.name.from_text(Z4 + ".").to_wire()) + 4
        start = 12 + qlen
        owner, rd = _tsig_of(again, start)
        assert owner == dns.name.from_text("xfr-key.")
        assert rd.error == dns.rcode.BADTIME and len(rd.other) == 6 and len(rd.mac) == 32
        assert abs(int.from_bytes(rd.other, "big") - time.time()) < 5
        unsigned = again[:10] + struct.pack("!H", struct.unpack("!H", again[10:12])[0] - 1) + again[12:start]
        dns.tsig._digest(unsigned, keyring[owner], rd, None, q.mac, None, False).verify(rd.mac)
        wait_until(lambda: "TSIG BADTIME (replay: the same signed request was accepted before" in zg.log(),
                   what="the replay logged")
        assert TSIG_SECRET not in zg.log()

        # A new request with the same key, and the other key: answered.
        for keyname in ("xfr-key.", "other-key."):
            q, wire = signed(keyname, "SOA")
            r = dns.message.from_wire(exchange_udp(wire), keyring=keyring, request_mac=q.mac)
            assert r.rcode() == dns.rcode.NOERROR and r.answer
        zg.stop()
    finally:
        zg.close()
        env.zg.start().wait_leader()


def test_standby_takes_over_when_the_leader_dies(env, dburl):
    env.zg.wait_leader()
    standby = Zonegen(dburl)
    try:
        standby.start()
        time.sleep(1.0)
        assert not os.path.exists(standby.zone_path(Z4))  # a standby writes nothing
        env.zg.proc.send_signal(signal.SIGKILL)
        env.zg.proc.wait()
        env.zg.proc = None
        t0 = time.monotonic()
        force_put(env.staff, "198.51.100.50", "takeover.example.com")
        wait_until(lambda: os.path.exists(standby.zone_path(Z4)) and
                   "takeover.example.com." in open(standby.zone_path(Z4)).read(), timeout=15,
                   what="standby renders")
        assert time.monotonic() - t0 < 10
        assert ptr_answer(standby.port, "198.51.100.50") is None or True  # the hidden primary answers SOA/AXFR only
        # The file is renamed into place a moment before the zone is published: ask until it is.
        xz = wait_until(lambda: dns.zone.from_xfr(dns.query.xfr("127.0.0.1", Z4, port=standby.port,
                                                                relativize=False), relativize=False),
                        timeout=5, what="standby serves the zone")
        assert str(xz.find_rdataset("50." + Z4 + ".", "PTR")[0].target) == "takeover.example.com."
        standby.stop()
    finally:
        standby.close()
        env.zg.start().wait_leader()


def test_zonegen_listens_again_after_postgresql_restarts(env, pg):
    env.zg.wait_leader()
    pg.stop()
    time.sleep(1.5)
    pg.start()
    # The API's first request after the restart reconnects by itself; the daemon must
    # reconnect, LISTEN again and take the leader lock again.
    wait_until(lambda: env.staff.get("/readyz").status_code == 200, timeout=20, what="api ready")
    force_put(env.staff, "198.51.100.60", "after-restart.example.com")
    wait_file_has(env.zg, Z4, "after-restart.example.com.", timeout=15)
    wait_until(lambda: ptr_answer(env.secondary.port, "198.51.100.60") == "after-restart.example.com.",
               timeout=10, what="secondary after restart")
