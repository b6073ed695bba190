"""rdns-zonegen --once (the cron mode), in a database of its own so that no daemon holds
the leader lock: dirty zones rendered and checked, a deleted zone's file removed, files
that are not ours left alone."""
import os
import subprocess

import psycopg2

from harness import Zonegen

Z_KEEP = "0.51.198.in-addr.arpa"
Z_GONE = "1.51.198.in-addr.arpa"


def zone_changes(dburl):
    with psycopg2.connect(dburl) as c, c.cursor() as cur:
        cur.execute("SELECT count(*) FROM zone_changes")
        return cur.fetchone()[0]


def test_once_renders_dirty_zones_and_removes_deleted_ones(staff, dburl):
    zg = Zonegen(dburl)
    try:
        for prefix in ("198.51.0.0/24", "198.51.1.0/24"):
            r = staff.post("/v1/zones", json={"prefix": prefix, "nameservers": ["ns1.example.net"],
                                              "default_ptr": "static-{dashed}.vps.example.net"})
            assert r.status_code == 201, r.text
        os.makedirs(zg.zone_dir, exist_ok=True)
        # Files in zone_dir that rdns-zonegen did not write (by name) are never touched.
        foreign = [os.path.join(zg.zone_dir, n) for n in ("README", "example.com.zone", "2.0.192.in-addr.arpa.db")]
        for path in foreign:
            with open(path, "w") as f:
                f.write("not ours\n")
        zg.run("--once")
        for zone in (Z_KEEP, Z_GONE):
            path = zg.zone_path(zone)
            assert os.path.exists(path), zone
            subprocess.run(["named-checkzone", "-q", zone, path], check=True)
        assert zone_changes(dburl) == 0
        r = staff.delete(f"/v1/zones/{Z_GONE}")
        assert r.status_code == 204, r.text
        assert zone_changes(dburl) == 1  # the deletion's mark
        r = zg.run("--once")
        assert not os.path.exists(zg.zone_path(Z_GONE)), r.stderr
        assert os.path.exists(zg.zone_path(Z_KEEP))
        assert zone_changes(dburl) == 0
        assert all(os.path.exists(p) for p in foreign)
        # A file of a zone deleted while nothing ran (no mark left) goes at the next --full.
        with open(zg.zone_path("9.51.198.in-addr.arpa"), "w") as f:
            f.write("stale\n")
        zg.run("--once", "--full")
        assert not os.path.exists(zg.zone_path("9.51.198.in-addr.arpa"))
        assert os.path.exists(zg.zone_path(Z_KEEP))
        assert all(os.path.exists(p) for p in foreign)
    finally:
        zg.close()
