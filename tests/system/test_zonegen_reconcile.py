"""rdns-zonegen's reconcile pass over every zone (issue #17): at scale it takes seconds (82k
zones: ~1 ms each with nothing changed), and a change committed during it must be rendered
and NOTIFYed then, not when the pass ends."""
import socket
import time

import dns.message
import dns.opcode
import psycopg2

from harness import Zonegen, wait_until

N_ZONES = 2000
ZONE = "0.0.10.in-addr.arpa"  # the first zone by id: the pass has gone past it at once


def passes(zg):
    return zg.log().count("zonegen: reconcile: ")


def test_change_during_a_reconcile_is_notified_before_the_pass_ends(api, staff, dburl):
    lsock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    lsock.bind(("127.0.0.1", 0))
    lsock.settimeout(0.2)
    with psycopg2.connect(dburl) as c, c.cursor() as cur:
        cur.execute("INSERT INTO reverse_zones (name, prefix, nameservers, soa_mname, soa_rname, notify)"
                    " SELECT (z %% 256) || '.' || (z / 256) || '.10.in-addr.arpa',"
                    " set_masklen('10.0.0.0'::inet + (z::bigint * 256), 24)::cidr, ARRAY['ns1.example.net'],"
                    " 'ns1.example.net', 'hostmaster.example.net',"
                    " CASE z WHEN 0 THEN ARRAY[%s] ELSE '{}' END"
                    " FROM generate_series(0, %s) z ORDER BY z", (f"127.0.0.1:{lsock.getsockname()[1]}", N_ZONES - 1))
    zg = Zonegen(dburl, {"reconcile_interval": 1})
    try:
        zg.start().wait_leader(timeout=60)
        # the leader's first pass writes every zone; the periodic one follows at once (its
        # interval is over), finding nothing changed
        wait_until(lambda: passes(zg) >= 1, timeout=300, interval=0.1, what="the leader's reconcile")
        drain_until = time.monotonic() + 0.5  # the first pass's NOTIFY, answered
        while time.monotonic() < drain_until:
            try:
                data, addr = lsock.recvfrom(65535)
                lsock.sendto(dns.message.make_response(dns.message.from_wire(data)).to_wire(), addr)
            except socket.timeout:
                pass
        before = passes(zg)
        with psycopg2.connect(dburl) as c, c.cursor() as cur:
            cur.execute("SELECT id FROM accounts WHERE role = 'staff' ORDER BY id LIMIT 1")
            cur.execute("SELECT rdns_ptr_apply('10.0.0.7', 'during.example.com', NULL, %s, 'test', true, '[]',"
                        " NULL, NULL)", (cur.fetchone()[0],))
        committed_during = passes(zg) == before
        notified = None
        deadline = time.monotonic() + 120
        while notified is None and time.monotonic() < deadline:
            try:
                data, addr = lsock.recvfrom(65535)
            except socket.timeout:
                continue
            m = dns.message.from_wire(data)
            lsock.sendto(dns.message.make_response(m).to_wire(), addr)
            if m.opcode() == dns.opcode.NOTIFY and m.question[0].name.to_text() == ZONE + ".":
                notified = passes(zg)
        wait_until(lambda: passes(zg) > before, timeout=300, interval=0.1, what="the periodic reconcile's end")
        assert committed_during, "the periodic pass ended before the change: more zones needed"
        assert notified == before, (f"the change was NOTIFYed only after the pass ended "
                                    f"({'no NOTIFY' if notified is None else notified - before} pass(es) later)")
        with open(zg.zone_path(ZONE)) as f:
            assert "during.example.com." in f.read()
    finally:
        zg.stop()
        zg.close()
        lsock.close()
