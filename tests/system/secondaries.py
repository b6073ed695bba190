"""secondaries.py - Knot, NSD, BIND and PowerDNS as secondaries of rdns-zonegen for the system
tests, each configured from its example in deploy/dns/ (so the examples are what is tested),
as the test's user, on a free port of 127.0.0.1, in a temp dir of its own, stopped at the end."""
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile

import dns.message
import dns.query
import dns.rdata
import dns.rdatatype
import dns.reversename

from harness import ROOT, free_port, wait_until

DNS_EXAMPLES = os.path.join(ROOT, "deploy", "dns")
# What the examples say, replaced by what the tests use.
EX_PRIMARY, EX_PORT, EX_SECRET = "192.0.2.53", "5300", "REPLACE-WITH-BASE64-SECRET"
KEY_NAME = "xfr-key"
PDNS_SCHEMA = "/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql"

_TSIG_LINE = re.compile(r"(#|//) \[tsig\]|\[tsig\]\s*$")
_NO_TSIG_LINE = re.compile(r"\[no-tsig\]\s*$")


def render_example(name, tsig, primary, port, secret, paths=None):
    """deploy/dns/<name> as a server would use it: with TSIG the lines tagged [no-tsig] go,
    without it those tagged [tsig] go and the [no-tsig] ones are uncommented; then the
    example's address, port, secret and paths become the test's."""
    out = []
    with open(os.path.join(DNS_EXAMPLES, name)) as f:
        for line in f.read().splitlines():
            if _NO_TSIG_LINE.search(line):
                if tsig:
                    continue
                line = re.sub(r"^(\s*)(#|//)", r"\1", line, count=1)
            elif _TSIG_LINE.search(line) and not tsig:
                continue
            out.append(line)
    text = "\n".join(out) + "\n"
    for old, new in [(EX_PRIMARY, primary), (EX_PORT, str(port)), (EX_SECRET, secret)] + \
            sorted((paths or {}).items()):
        text = text.replace(old, new)
    return text


def axfr(host, port, zone):
    """Every record of the zone as (name, ttl, type, rdata) text; the SOA once."""
    out = set()
    for m in dns.query.xfr(host, zone.rstrip(".") + ".", port=port, timeout=10, lifetime=30, relativize=False):
        for rrset in m.answer:
            for rd in rrset:
                out.add((rrset.name.to_text().lower(), rrset.ttl, dns.rdatatype.to_text(rrset.rdtype),
                         rd.to_text().lower()))
    return out


class Secondary:
    """What the four have in common: a port, a dir, a process, its log, queries."""
    kind = "?"
    log_name = "stderr.log"

    def __init__(self, primary, primary_port, secret, tsig, source=None, key_name=KEY_NAME):
        """source: the address its SOA queries and transfers leave from (NSD, BIND, PowerDNS;
        its own server options, not the example's), so that the primary's log tells it apart.
        key_name: the name its key has instead of the example's (a key rdns does not know)."""
        self.primary, self.primary_port, self.secret, self.tsig = primary, primary_port, secret, tsig
        self.source, self.key_name = source, key_name
        self.dir = tempfile.mkdtemp(prefix=f"rdns-{self.kind}-")
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.proc = None
        self.name = f"{self.kind}{'+tsig' if tsig else ''}{'+' + key_name if key_name != KEY_NAME else ''}"

    @property
    def target(self):
        """This secondary as a NOTIFY target of rdns (keys on both sides or neither)."""
        return f"127.0.0.1:{self.port}" + (f"@{KEY_NAME}" if self.tsig else "")

    def render(self, example, paths):
        if self.key_name != KEY_NAME:
            paths = dict(paths, **{KEY_NAME: self.key_name})
        return render_example(example, self.tsig, self.primary, self.primary_port, self.secret, paths)

    def argv(self):
        raise NotImplementedError

    def start(self):
        self._log = open(os.path.join(self.dir, self.log_name), "a")
        self.proc = subprocess.Popen(self.argv(), stdout=self._log, stderr=subprocess.STDOUT, cwd=self.dir)
        wait_until(self._answers, timeout=20, what=f"{self.name} answering")
        return self

    def _answers(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.name} exited {self.proc.returncode}:\n{self.log()}")
        try:
            self.query("rdns-probe.invalid.", "SOA")
            return True
        except dns.exception.Timeout:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def wait_persisted(self, serials):
        """Returns once what the server holds survives its restart."""

    def restart(self):
        self.stop()
        return self.start()

    def query(self, name, rdtype, timeout=0.5):
        return dns.query.udp(dns.message.make_query(name, rdtype), "127.0.0.1", port=self.port, timeout=timeout)

    def serial(self, zone):
        try:
            r = self.query(zone.rstrip(".") + ".", "SOA")
        except dns.exception.Timeout:
            return None
        for rrset in r.answer:
            if rrset.rdtype == dns.rdatatype.SOA:
                return rrset[0].serial
        return None

    def ptr(self, ip):
        try:
            r = self.query(dns.reversename.from_address(ip), "PTR")
        except dns.exception.Timeout:
            return None
        for rrset in r.answer:
            if rrset.rdtype == dns.rdatatype.PTR:
                return str(rrset[0].target)
        return None

    def records(self, zone):
        """Every record the server holds for zone as (name, ttl, type, rdata) text, the SOA
        once (an AXFR from it: the test's wrappers allow one from 127.0.0.1)."""
        return axfr("127.0.0.1", self.port, zone)

    def log(self):
        try:
            with open(os.path.join(self.dir, self.log_name), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class KnotSecondary(Secondary):
    """knotd with deploy/dns/knot-secondary.conf below its own server:, log:, database:
    and control: sections."""
    kind = "knot"

    def __init__(self, *a):
        super().__init__(*a)
        conf = "\n".join([
            "server:", f"    rundir: {self.dir}", f"    listen: 127.0.0.1@{self.port}",
            "log:", "  - target: stderr", "    any: info",
            "database:", f"    storage: {self.dir}/db",
            "control:", f"    listen: {self.dir}/knot.sock", ""]) + \
            self.render("knot-secondary.conf", {"/var/lib/knot": self.dir})
        os.mkdir(os.path.join(self.dir, "db"))  # knotd makes the journal's folder, not its parent
        with open(os.path.join(self.dir, "knot.conf"), "w") as f:
            f.write(conf)

    def argv(self):
        return ["knotd", "-c", os.path.join(self.dir, "knot.conf")]

    def records(self, zone):
        """knotc zone-read (the example allows no transfer out)."""
        r = subprocess.run(["knotc", "-s", os.path.join(self.dir, "knot.sock"), "zone-read", zone.rstrip(".") + "."],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stdout + r.stderr
        out = set()
        for line in r.stdout.splitlines():
            _, owner, ttl, rtype, rdata = line.split(" ", 4)
            rd = dns.rdata.from_text("IN", rtype, rdata)
            out.add((owner.lower(), int(ttl), rtype, rd.to_text().lower()))
        return out


class NsdSecondary(Secondary):
    """nsd -d with its own server: clause that includes deploy/dns/nsd-secondary.conf."""
    kind = "nsd"

    def __init__(self, *a):
        super().__init__(*a)
        with open(os.path.join(self.dir, "rdns.conf"), "w") as f:
            # a write a second; an AXFR from 127.0.0.1 allowed, for records(); the source
            # (a pattern option in NSD)
            extra = "\n    provide-xfr: 127.0.0.1 NOKEY" + \
                (f"\n    outgoing-interface: {self.source}" if self.source else "")
            f.write(self.render("nsd-secondary.conf", {
                "/var/lib/nsd": self.dir, "zonefiles-write: 60": "zonefiles-write: 1",
                'name: "rdns"': 'name: "rdns"' + extra}))
        d = self.dir
        with open(os.path.join(d, "nsd.conf"), "w") as f:
            f.write(f"""server:
    ip-address: 127.0.0.1@{self.port}
    do-ip6: no
    server-count: 1
    username: ""
    chroot: ""
    database: ""
    zonesdir: "{d}"
    pidfile: "{d}/nsd.pid"
    xfrdfile: "{d}/xfrd.state"
    zonelistfile: "{d}/zone.list"
    xfrdir: "{d}"
    verbosity: 2
remote-control:
    control-enable: no
include: "{d}/rdns.conf"
""")

    def wait_persisted(self, serials):
        """NSD writes its zone files every zonefiles-write seconds, not at exit."""
        def written(zone, serial):
            with open(os.path.join(self.dir, zone + ".zone")) as f:
                return f" {serial} " in f.read()
        wait_until(lambda: all(written(z, s) for z, s in serials.items()), timeout=10,
                   what=f"{self.name} writing its zone files")

    def argv(self):
        return ["nsd", "-d", "-c", os.path.join(self.dir, "nsd.conf")]


class BindSecondary(Secondary):
    """named -g with its own options that include deploy/dns/bind-secondary.conf."""
    kind = "bind"

    def __init__(self, *a):
        super().__init__(*a)
        d = self.dir
        with open(os.path.join(d, "rdns.conf"), "w") as f:
            f.write(self.render("bind-secondary.conf", {"/var/cache/bind": d}))
        src = f"    transfer-source {self.source};" if self.source else ""
        # the options line the example recommends for named.conf (#19: serial-query-rate)
        with open(os.path.join(DNS_EXAMPLES, "bind-secondary.conf")) as f:
            rec = re.search(r"^//\s+options \{ (.*) \};$", f.read(), re.M)
        src += f"\n    {rec.group(1)}" if rec else ""
        with open(os.path.join(d, "named.conf"), "w") as f:
            f.write(f"""options {{
    directory "{d}";
    pid-file "{d}/named.pid";
    session-keyfile "{d}/session.key";
    managed-keys-directory "{d}";
    listen-on port {self.port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    recursion no;
    dnssec-validation no;
    allow-transfer {{ 127.0.0.1; }};
{src}
}};
controls {{ }};
include "{d}/rdns.conf";
""")

    def argv(self):
        return ["named", "-g", "-n", "1", "-c", os.path.join(self.dir, "named.conf")]


class PdnsSecondary(Secondary):
    """pdns_server (gsqlite3) with its own pdns.conf lines followed by
    deploy/dns/pdns-secondary.conf, and that file's pdnsutil commands run before it starts."""
    kind = "pdns"

    def __init__(self, *a):
        super().__init__(*a)
        d = self.dir
        text = self.render("pdns-secondary.conf", {"/var/lib/powerdns": d})
        with open(os.path.join(d, "pdns.conf"), "w") as f:
            f.write(f"local-address=127.0.0.1\nlocal-port={self.port}\nsocket-dir={d}\n"
                    "guardian=no\ndaemon=no\ndisable-syslog=yes\nloglevel=6\nprimary=no\n" +
                    (f"query-local-address={self.source}\n" if self.source else "") + text)
        db = sqlite3.connect(os.path.join(d, "pdns.sqlite3"))
        with open(PDNS_SCHEMA) as f:
            db.executescript(f.read())
        db.close()
        for cmd in re.findall(r"^# \$ (pdnsutil .*?)\s*(?:\[tsig\])?\s*$", text, re.M):
            argv = cmd.split()
            r = subprocess.run([argv[0], f"--config-dir={d}"] + argv[1:], capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError(f"{cmd}: {r.stdout}{r.stderr}")

    def argv(self):
        return ["pdns_server", f"--config-dir={self.dir}"]


KINDS = (KnotSecondary, NsdSecondary, BindSecondary, PdnsSecondary)


# ---- each server's zone checker on a zone file rdns wrote --------------------------------

def check_zone_file(kind, zone, path):
    """Run the server's own checker; returns (ok, output). ok means exit 0 and nothing but the
    checker's success line."""
    zone = zone.rstrip(".")
    if kind == "knot":
        r = subprocess.run(["kzonecheck", "-v", "-o", zone, path], capture_output=True, text=True)
        out = r.stdout + r.stderr
        noise = [ln for ln in out.splitlines() if ln.strip() and ln.strip() != "No semantic error found"]
    elif kind == "bind":
        r = subprocess.run(["named-checkzone", "-k", "fail", "-n", "fail", "-m", "fail", "-M", "fail",
                            "-S", "fail", "-r", "fail", "-i", "full", zone, path], capture_output=True, text=True)
        out = r.stdout + r.stderr
        noise = [ln for ln in out.splitlines() if ln.strip() and ln != "OK" and not
                 re.fullmatch(rf"zone {re.escape(zone)}/IN: loaded serial \d+", ln)]
    elif kind == "nsd":
        r = subprocess.run(["nsd-checkzone", zone, path], capture_output=True, text=True)
        out = r.stdout + r.stderr
        noise = [ln for ln in out.splitlines() if ln.strip() and ln != f"zone {zone} is ok"]
    elif kind == "pdns":
        d = tempfile.mkdtemp(prefix="rdns-pdnscheck-")
        try:
            db = sqlite3.connect(os.path.join(d, "pdns.sqlite3"))
            with open(PDNS_SCHEMA) as f:
                db.executescript(f.read())
            db.close()
            with open(os.path.join(d, "pdns.conf"), "w") as f:
                f.write(f"launch=gsqlite3\ngsqlite3-database={d}/pdns.sqlite3\n")
            r = subprocess.run(["pdnsutil", f"--config-dir={d}", "load-zone", zone, path],
                               capture_output=True, text=True)
            out = r.stdout + r.stderr
            if r.returncode == 0:
                r = subprocess.run(["pdnsutil", f"--config-dir={d}", "check-zone", zone],
                                   capture_output=True, text=True)
                out += r.stdout + r.stderr
            noise = [ln for ln in out.splitlines() if ln.strip() and not
                     re.fullmatch(rf"Checked \d+ records of '{re.escape(zone)}', 0 errors, 0 warnings\.", ln)
                     and not ln.startswith("Creating '")]
        finally:
            shutil.rmtree(d, ignore_errors=True)
    else:
        raise ValueError(kind)
    return r.returncode == 0 and not noise, out


# ---- what rdns-zonegen logs for each transfer it serves (zonegen/xfr.c) -------------------

_SERVED = re.compile(r"dnssrv: zone (?P<zone>\S+): (?P<type>AXFR|IXFR) from (?P<client>\S+), key (?P<key>\S+): "
                     r"serial (?:(?P<old>\d+) -> )?(?P<new>\d+), (?P<how>incremental|full)")


def served(log_text):
    """The transfers a zonegen log shows: dicts of zone, type (AXFR/IXFR), client, key
    ("xfr-key." or "none"), old (the client's serial, IXFR) and new serial, how
    (incremental/full)."""
    out = []
    for m in _SERVED.finditer(log_text):
        d = m.groupdict()
        d["old"] = int(d["old"]) if d["old"] else None
        d["new"] = int(d["new"])
        out.append(d)
    return out
