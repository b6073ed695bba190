#!/usr/bin/python3
"""b5_secondaries.py - issue #19, B5's question in a controlled setup: how long does each
secondary (Knot as deployed, Knot with other settings, NSD, BIND, PowerDNS, each from
deploy/dns/ via tests/system/secondaries.py) take to answer one changed PTR of a
1,000,000-record ip6.arpa zone, counted from its primary's NOTIFY? The primary is knotd
(zonefile-load whole, changes by knotc zone-set, so it serves IXFR from its journal and
sends NOTIFY at once), on loopback, one primary + one secondary at a time.

  /usr/bin/python3 bench/b5_secondaries.py [variant ...]   (default: all; RDNS_B5_N=records,
  RDNS_B5_CHANGES=changes per variant, RDNS_B5_PERF=variant to `perf record -g` knotd for)

Prints per variant: NOTIFY -> answer for each change, and for knotd what its own log says
(IXFR received -> "zone updated")."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "system"))
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.reversename  # noqa: E402

from harness import free_port, wait_until  # noqa: E402
import secondaries  # noqa: E402

ZONE = "a.a.a.a.8.b.d.0.1.0.0.2.ip6.arpa"
N = int(os.environ.get("RDNS_B5_N", "1000000"))
CHANGES = int(os.environ.get("RDNS_B5_CHANGES", "3"))
PERF = os.environ.get("RDNS_B5_PERF", "")


def addr(i):
    """The i-th address of 2001:db8:aaaa::/48 the zone holds (one per /64 slot, spread)."""
    return f"2001:db8:aaaa:{(i >> 16) & 0xffff:x}::{i & 0xffff:x}"


def write_zone(path, n):
    nib = len(ZONE.split(".")) - 2  # nibbles of the zone's name
    with open(path, "w") as f:
        f.write(f"$ORIGIN {ZONE}.\n$TTL 3600\n@ SOA ns1.example.net. hostmaster.example.net. 1 3600 600 "
                "604800 3600\n@ NS ns1.example.net.\n@ NS ns2.example.net.\n")
        out = []
        for i in range(n):
            h = f"20010db8aaaa{(i >> 16) & 0xffff:04x}000000000000{i & 0xffff:04x}"
            rel = ".".join(reversed(h[nib:]))  # the 32 - 12 nibbles below the zone
            out.append(f"{rel} PTR host-{i}.example.net.\n")
            if len(out) >= 65536:
                f.write("".join(out))
                out = []
        f.write("".join(out))
    assert nib == 12


def soa_serial(port):
    try:
        r = dns.query.udp(dns.message.make_query(ZONE + ".", "SOA"), "127.0.0.1", port=port, timeout=0.5)
    except dns.exception.Timeout:
        return None
    for rr in r.answer:
        if rr.rdtype == dns.rdatatype.SOA:
            return rr[0].serial
    return None


def ptr(port, ip):
    try:
        r = dns.query.udp(dns.message.make_query(dns.reversename.from_address(ip), "PTR"), "127.0.0.1",
                          port=port, timeout=0.2)
    except dns.exception.Timeout:
        return None
    for rr in r.answer:
        if rr.rdtype == dns.rdatatype.PTR:
            return str(rr[0].target)
    return None


class KnotPrimary:
    def __init__(self, zonefile):
        self.dir = tempfile.mkdtemp(prefix="rdns-b5pri-")
        os.mkdir(os.path.join(self.dir, "db"))
        self.port = free_port()
        self.zonefile = zonefile
        self.notify = []
        self.proc = None

    def conf(self):
        L = ["server:", f"    rundir: {self.dir}", f"    listen: 127.0.0.1@{self.port}",
             "log:", "  - target: stderr", "    any: info",
             "database:", f"    storage: {self.dir}/db",
             "control:", f"    listen: {self.dir}/knot.sock"]
        if self.notify:
            L.append("remote:")
            L += [f"  - id: s{i}\n    address: 127.0.0.1@{p}" for i, p in enumerate(self.notify)]
        L += ["acl:", "  - id: lo", "    address: 127.0.0.0/8", "    action: transfer",
              "zone:", f"  - domain: {ZONE}", f"    file: {self.zonefile}", "    zonefile-load: whole",
              "    zonefile-sync: -1", "    journal-content: changes", "    semantic-checks: off", "    acl: lo"]
        if self.notify:
            L.append("    notify: [" + ", ".join(f"s{i}" for i in range(len(self.notify))) + "]")
        with open(os.path.join(self.dir, "knot.conf"), "w") as f:
            f.write("\n".join(L) + "\n")

    def ctl(self, *a, timeout=120):
        return subprocess.run(["knotc", "-s", os.path.join(self.dir, "knot.sock"), "-t", str(timeout)] + list(a),
                              capture_output=True, text=True, timeout=timeout + 10)

    def start(self):
        self.conf()
        self.log = open(os.path.join(self.dir, "knotd.log"), "w")
        self.proc = subprocess.Popen(["knotd", "-c", os.path.join(self.dir, "knot.conf")],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_until(lambda: soa_serial(self.port) is not None, timeout=300, interval=0.5, what="knotd primary loaded")

    def set_notify(self, ports):
        self.notify = ports
        self.conf()
        r = self.ctl("reload")
        assert r.returncode == 0, r.stdout + r.stderr

    def change(self, ip, host):
        """One PTR changed in a transaction; returns when the commit is done (then NOTIFY)."""
        owner = dns.reversename.from_address(ip).to_text()
        for cmd in (["zone-begin", ZONE], ["zone-set", ZONE, owner, "3600", "PTR", host], ["zone-commit", ZONE]):
            r = self.ctl(*cmd)
            assert r.returncode == 0, f"{cmd}: {r.stdout}{r.stderr}"

    def close(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(30)
        shutil.rmtree(self.dir, ignore_errors=True)


class OurZone:
    """The example's 2001:db8:100::/48 zone becomes the 1M zone (its 192.0.2.0/24 zone stays, and
    is refused by the primary)."""

    def render(self, example, paths):
        return super().render(example, dict(paths, **{"0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa": ZONE}))


class Nsd(OurZone, secondaries.NsdSecondary):
    pass


class Bind(OurZone, secondaries.BindSecondary):
    pass


class Pdns(OurZone, secondaries.PdnsSecondary):
    pass


class KnotVariant(OurZone, secondaries.KnotSecondary):
    """deploy/dns/knot-secondary.conf with some template options replaced or added."""

    def __init__(self, label, opts, *a, log_level="info"):
        super().__init__(*a)
        self.label = label
        path = os.path.join(self.dir, "knot.conf")
        with open(path) as f:
            text = f.read()
        text = text.replace("    any: info", f"    any: {log_level}")
        for k, v in opts.items():
            v = v.format(dir=self.dir) if isinstance(v, str) else v
            pat = re.compile(rf"^(    {re.escape(k)}:)[^\n]*$", re.M)
            if v is None:
                text = pat.sub("", text)
            elif pat.search(text):
                text = pat.sub(lambda m: f"{m.group(1)} {v}", text)
            else:
                text = text.replace("template:\n  - id: rdns-secondary\n",
                                    f"template:\n  - id: rdns-secondary\n    {k}: {v}\n")
            if k == "storage" and v:
                os.makedirs(v, exist_ok=True)
        with open(path, "w") as f:
            f.write(text)


def knot_log_times(log_text, zone):
    """[(IXFR transfer seconds, refresh seconds of its "zone updated")] from a knotd stderr log."""
    out, pending = [], None
    for line in log_text.splitlines():
        if f"[{zone}.]" not in line:
            continue
        m = re.search(r"IXFR, incoming, remote [^,]+, finished, ([\d.]+) seconds", line)
        u = re.search(r"zone updated, ([\d.]+) seconds", line)
        if m:
            pending = float(m.group(1))
        elif u and pending is not None:
            out.append((pending, float(u.group(1))))
            pending = None
    return out


VARIANTS = {
    # deploy/dns/knot-secondary.conf as it is
    "knot-deploy": {},
    # the same, with room in the journal for the whole 1M zone (journal-content: all)
    "knot-deploy-big": {"journal-max-usage": "2G"},
    # benchlib.Knot's secondary (what B5 used): no journal, a zone file never written
    "knot-bench": {"journal-content": "none", "zonefile-load": None, "zonefile-sync": "-1",
                   "semantic-checks": "off", "file": "{dir}/sec.zone"},
    "knot-changes": {"journal-content": "changes", "zonefile-load": "whole", "file": "{dir}/sec.zone"},
    # not measured yet (2026-12-03): knot-sync0, knot-nosem (semantic checks are off by default)
    "knot-sync0": {"zonefile-sync": "0", "zonefile-load": "whole", "journal-content": "changes",
                   "file": "{dir}/sec.zone"},
    "knot-nosem": {"semantic-checks": "off"},
    "knot-adj2": {"adjust-threads": "2"},
    "knot-tmpfs": {"storage": "/dev/shm/rdns-b5-knot"},
    "nsd": None, "bind": None, "pdns": None,
}


def run_variant(name, pri, zonefile):
    opts = VARIANTS[name]
    args = ("127.0.0.1", pri.port, "x" * 44, False)
    if opts is None:
        sec = {"nsd": Nsd, "bind": Bind, "pdns": Pdns}[name](*args)
    else:
        sec = KnotVariant(name, opts, *args, log_level=os.environ.get("RDNS_B5_KNOT_LOG", "info"))
    perf = None
    try:
        pri.set_notify([sec.port])
        t = time.monotonic()
        sec.start()
        serial = soa_serial(pri.port)
        if name == "pdns":  # PowerDNS transfers at its first refresh check, or on NOTIFY
            subprocess.run(["pdns_control", f"--config-dir={sec.dir}", "retrieve", ZONE + "."],
                           capture_output=True, timeout=30)
        try:
            wait_until(lambda: soa_serial(sec.port) == serial, timeout=int(os.environ.get("RDNS_B5_LOAD", "600")),
                       interval=0.5, what=f"{name} initial AXFR")
        except TimeoutError:
            print(sec.log()[-3000:])
            raise
        t_axfr = time.monotonic() - t
        time.sleep(3)
        if PERF == name and sec.proc:
            perf = subprocess.Popen(["perf", "record", "-g", "-F", "499", "-o", f"/tmp/b5-perf-{name}.data",
                                     "-p", str(sec.proc.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1)
        lat = []
        for i in range(CHANGES):
            ip, host = f"2001:db8:aaaa:ffff::{list(VARIANTS).index(name) + 1:x}:{i + 1:x}", f"b5-{name}-{i}-{int(time.time())}.example.net."
            t0w = time.time()
            t0 = time.monotonic()
            pri.change(ip, host)
            t_commit = time.monotonic()
            deadline = t_commit + 60
            while time.monotonic() < deadline and ptr(sec.port, ip) != host:
                time.sleep(0.002)
            t1 = time.monotonic()
            lat.append((t_commit - t0, t1 - t_commit if ptr(sec.port, ip) == host else float("inf"), t0w))
            time.sleep(1)
        if perf:
            perf.send_signal(2)
            perf.wait(60)
        rows = []
        if opts is not None:
            rows = knot_log_times(sec.log(), ZONE)[-CHANGES:]
        print(f"RESULT {name}: initial AXFR+load {t_axfr:.1f} s; primary commit (ms) "
              f"{' '.join(f'{c * 1000:.0f}' for c, _, _ in lat)}; commit->answer (ms) "
              f"{' '.join(f'{s * 1000:.0f}' for _, s, _ in lat)}", flush=True)
        if rows:
            print(f"RESULT {name}: knotd log: IXFR received in {' '.join(f'{x:.2f}' for x, _ in rows)} s; "
                  f"refresh 'zone updated, N seconds' {' '.join(f'{u:.2f}' for _, u in rows)} s", flush=True)
        with open(f"/tmp/b5-{name}.log", "w") as f:
            f.write(sec.log())
        return lat
    finally:
        if perf and perf.poll() is None:
            perf.kill()
        sec.close()
        if opts and opts.get("storage"):
            shutil.rmtree(opts["storage"], ignore_errors=True)


def main():
    names = sys.argv[1:] or list(VARIANTS)
    tmp = tempfile.mkdtemp(prefix="rdns-b5zone-")
    pri = None
    try:
        zonefile = os.path.join(tmp, ZONE + ".zone")
        t = time.monotonic()
        write_zone(zonefile, N)
        print(f"zone of {N:,} PTRs written in {time.monotonic() - t:.1f} s", flush=True)
        pri = KnotPrimary(zonefile)
        t = time.monotonic()
        pri.start()
        print(f"knotd primary loaded in {time.monotonic() - t:.1f} s", flush=True)
        for name in names:
            run_variant(name, pri, zonefile)
    finally:
        if pri:
            print("primary log tail:\n" + open(os.path.join(pri.dir, "knotd.log")).read()[-1500:])
            pri.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
