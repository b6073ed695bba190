"""benchlib.py - shared pieces of the rdns benchmarks: a private PostgreSQL cluster
tuned for speed, knotd, the release daemons, wrk/pgbench runners, and the result
tables (metric | ours | baseline | ratio | target | ok).

Mirrors tests/system/harness.py (free loopback ports, PostgreSQL as an unprivileged
user when run as root) but runs the release binaries in build/, not the ASan ones."""
import json
import os
import pwd
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "system"))
import harness  # noqa: E402 - shared helpers of the system tests
from harness import free_port  # noqa: E402,F401 - re-exported for the bench modules

PG_BIN = "/usr/lib/postgresql/15/bin"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
BUILD = os.environ.get("RDNS_BUILD", os.path.join(ROOT, "build"))
RESULTS = os.environ.get("RDNS_BENCH_RESULTS")  # JSON lines, one per table, when set

_cleanups = []


def at_exit(fn):
    """Register fn to run (in reverse order) by cleanup_all()."""
    _cleanups.append(fn)
    return fn


def cleanup_all():
    while _cleanups:
        fn = _cleanups.pop()
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - cleaning up as much as possible
            print(f"bench: cleanup: {e}", file=sys.stderr)


def _on_signal(signum, frame):
    raise SystemExit(128 + signum)


def install_signal_handlers():
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)


BROKEN = []  # benchmarks that could not run (name, error)


def guarded(tables, name, fn, *args):
    """Run one benchmark; a failure is printed and recorded in BROKEN, and the others go on."""
    try:
        tables.append(fn(*args))
    except Exception as e:  # noqa: BLE001 - reported, the suite goes on
        import traceback
        traceback.print_exc()
        print(f"bench: {name} could not run: {e}", flush=True)
        BROKEN.append((name, str(e)))


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def wait_until(pred, timeout=30.0, interval=0.05, what="condition"):
    """The system tests' wait_until, with a longer default for the benchmarks' big setups."""
    return harness.wait_until(pred, timeout=timeout, interval=interval, what=what)


def tempdir(prefix):
    """A temp dir removed at the end, unless RDNS_BENCH_KEEP is set (logs for a post-mortem)."""
    d = tempfile.mkdtemp(prefix=prefix)
    os.chmod(d, 0o755)
    if not os.environ.get("RDNS_BENCH_KEEP"):
        at_exit(lambda: shutil.rmtree(d, ignore_errors=True))
    return d


def stop_proc(p, timeout=15):
    if p is None or p.poll() is not None:
        return
    p.terminate()
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


# ---------------------------------------------------------------- PostgreSQL


class Pg:
    """A private cluster in a temp dir, unix socket only, tuned for speed. fsync stays on;
    commits do not wait for the WAL flush (synchronous_commit = off). Every benchmark
    and its baseline use this same cluster, so the settings are the same on both sides."""

    def __init__(self, shared_buffers="256MB"):
        self.dir = tempfile.mkdtemp(prefix="rdns-bench-pg-")
        self.data = os.path.join(self.dir, "data")
        self.port = free_port(udp_too=False)
        self.superuser = "rdns"
        self.user = None
        if os.geteuid() == 0:
            self.user = pwd.getpwnam("postgres")
            os.chmod(self.dir, 0o755)
            os.chown(self.dir, self.user.pw_uid, self.user.pw_gid)
        at_exit(self.close)
        self._run([f"{PG_BIN}/initdb", "--nosync", "-A", "trust", "-U", self.superuser, "-E", "UTF8",
                   "--locale=C", "-D", self.data])
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write(f"listen_addresses = ''\nport = {self.port}\nunix_socket_directories = '{self.dir}'\n"
                    f"synchronous_commit = off\nshared_buffers = {shared_buffers}\nmax_connections = 300\n"
                    "max_wal_size = 4GB\ncheckpoint_timeout = 30min\nwork_mem = 16MB\n"
                    "maintenance_work_mem = 256MB\n")
        r = self._run([f"{PG_BIN}/pg_ctl", "-w", "-t", "60", "-D", self.data, "-l",
                       os.path.join(self.dir, "log"), "start"], check=False)
        if r.returncode != 0:
            raise RuntimeError("pg_ctl start failed: " + r.stdout)
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            cpu_root(int(f.readline()))

    def _run(self, argv, check=True):
        if self.user:
            argv = ["runuser", "-u", self.user.pw_name, "--"] + argv
        return subprocess.run(argv, check=check, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              cwd=self.dir, text=True)

    def url(self, db="postgres"):
        return f"host={self.dir} port={self.port} user={self.superuser} dbname={db}"

    def psql(self, sql, db="postgres"):
        r = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", self.url(db), "-c", sql],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"psql failed: {r.stderr}")
        return r.stdout.strip()

    def create_db(self, name):
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def close(self):
        if os.path.isdir(self.data):
            self._run([f"{PG_BIN}/pg_ctl", "-w", "-D", self.data, "-m", "immediate", "stop"], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------- knotd


class Knot:
    """knotd on a free loopback port. zones: name -> zone file path (primaries);
    secondaries: name -> "ip@port" of the primary (NOTIFY accepted from loopback);
    notify_to: name -> "ip@port" a primary zone sends NOTIFY to."""

    def __init__(self, name="knot"):
        self.dir = tempdir(f"rdns-bench-{name}-")
        self.port = free_port()
        self.zones, self.secondaries, self.notify_to = {}, {}, {}
        self._write_conf()
        self.proc = subprocess.Popen(["knotd", "-c", self.conf], stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, "knotd.log"), "w"))
        at_exit(lambda: stop_proc(self.proc))
        wait_until(lambda: self.ctl("status").returncode == 0, what="knotd")

    @property
    def conf(self):
        return os.path.join(self.dir, "knot.conf")

    def _write_conf(self):
        L = ["server:", f"    rundir: {self.dir}", f"    listen: 127.0.0.1@{self.port}", "log:", "  - target: stderr",
             "    any: " + os.environ.get("RDNS_BENCH_KNOT_LOG", "info"),
             "database:", f"    storage: {self.dir}/db", "control:", f"    listen: {self.dir}/knot.sock"]
        remotes = sorted(set(self.secondaries.values()) | set(self.notify_to.values()))
        if remotes:
            L.append("remote:")
            for i, addr in enumerate(remotes):
                L += [f"  - id: r{i}", f"    address: {addr}"]
        L += ["acl:", "  - id: loopback", "    address: [127.0.0.0/8]", "    action: [notify, transfer]",
              "template:", "  - id: default", f"    storage: {self.dir}", "    semantic-checks: off",
              "    zonefile-sync: -1", "    journal-content: none", "    acl: loopback"]
        if self.zones or self.secondaries:
            L.append("zone:")
        for name, path in sorted(self.zones.items()):
            L += [f"  - domain: {name}", f"    file: {path}", "    zonefile-load: whole"]
            if name in self.notify_to:
                L.append(f"    notify: r{remotes.index(self.notify_to[name])}")
        for name, addr in sorted(self.secondaries.items()):
            L += [f"  - domain: {name}", f"    master: r{remotes.index(addr)}", f"    file: {self.dir}/sec-{name}zone"]
        with open(self.conf, "w") as f:
            f.write("\n".join(L) + "\n")

    def ctl(self, *args):
        return subprocess.run(["knotc", "-s", os.path.join(self.dir, "knot.sock"), "-t", "10"] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def reload(self):
        self._write_conf()
        r = self.ctl("reload")
        if r.returncode != 0:
            raise RuntimeError("knotc reload failed: " + r.stdout)

    def add_zone(self, name, path, notify_to=None):
        name = name.rstrip(".") + "."
        self.zones[name] = path
        if notify_to:
            self.notify_to[name] = notify_to
        self.reload()

    def add_secondary(self, name, primary):
        self.secondaries[name.rstrip(".") + "."] = primary
        self.reload()


# ---------------------------------------------------------------- our daemons


class Daemon:
    """build/<name> (release) with a generated config file."""

    def __init__(self, name, conf):
        self.name = name
        self.dir = tempdir(f"rdns-bench-{name}-")
        self.conf = dict(conf)
        self.conf_path = os.path.join(self.dir, "rdns.conf")
        self.write_conf()
        self.log_path = os.path.join(self.dir, "stderr.log")
        self.proc = None
        at_exit(self.stop)

    def write_conf(self):
        with open(self.conf_path, "w") as f:
            for k, v in self.conf.items():
                f.write(f"{k} = {v}\n")

    @property
    def bin(self):
        return os.path.join(BUILD, self.name)

    def run(self, *args, timeout=600):
        r = subprocess.run([self.bin, "-c", self.conf_path] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"{self.name} {' '.join(args)} failed ({r.returncode}): {r.stderr[-3000:]}")
        return r

    def start(self):
        self.proc = subprocess.Popen([self.bin, "-c", self.conf_path], stdout=subprocess.DEVNULL,
                                     stderr=open(self.log_path, "a"))
        return self

    def stop(self):
        stop_proc(self.proc, 30)
        self.proc = None

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def vmhwm_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return None


class Api(Daemon):
    def __init__(self, db_url, extra=None):
        self.port = free_port(udp_too=False)
        # wrk's 64 connections all come from 127.0.0.1: the per-address limit (32 by
        # default) is for the internet, not for the load generator.
        conf = {"database_url": db_url, "api_listen": f"127.0.0.1:{self.port}", "log_level": "warn",
                "rate_limit_writes": 0, "api_per_ip_connections": 0,
                # wrk's 64 connections are one customer's: the per-account bound on
                # verifications in flight (16 by default) would answer most of them 429.
                "verify_per_account": 64}
        conf.update(extra or {})
        super().__init__("rdns-api", conf)
        self.base = f"http://127.0.0.1:{self.port}"

    def start(self):
        super().start()
        wait_until(lambda: requests.get(self.base + "/healthz", timeout=1).status_code == 200,
                   what="rdns-api /healthz")
        return self

    def add_staff(self, name):
        return self.run("add-staff", name).stdout.strip().splitlines()[-1]


class Client:
    """requests with a base URL and a bearer token; raises on an unexpected status."""

    def __init__(self, base, token):
        self.base = base
        self.s = requests.Session()
        self.s.headers["Authorization"] = f"Bearer {token}"

    def call(self, method, path, expect=(200, 201, 204), **kw):
        kw.setdefault("timeout", 60)
        r = self.s.request(method, self.base + path, **kw)
        if r.status_code not in expect:
            raise RuntimeError(f"{method} {path} -> {r.status_code}: {r.text[:500]}")
        return r


class Zonegen(Daemon):
    def __init__(self, db_url, zone_dir, extra=None):
        self.port = free_port()
        conf = {"database_url": db_url, "dns_listen": f"127.0.0.1:{self.port}", "zone_dir": zone_dir,
                "log_level": "info", "reconcile_interval": 3600, "transfer_allow": "127.0.0.1"}
        conf.update(extra or {})
        super().__init__("rdns-zonegen", conf)
        self.zone_dir = zone_dir


# ---------------------------------------------------------------- load generators


def wrk(url, script, args, conns=64, threads=2, duration=8, timeout="5s"):
    """Run wrk with one of bench/wrk_*.lua, whose done() prints a RESULT line of
    key=value pairs; returns that as a dict (numbers as floats) plus 'codes'."""
    argv = ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{duration}s", "--timeout", timeout,
            "-s", os.path.join(BENCH, script), url, "--"] + [str(a) for a in args]
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=duration + 60)
    out = {}
    for line in r.stdout.splitlines():
        if line.startswith("RESULT "):
            for kv in line.split()[1:]:
                k, v = kv.split("=", 1)
                out[k] = float(v)
        elif line.startswith("CODES "):
            out["codes"] = {int(k): int(v) for k, v in (kv.split("=") for kv in line.split()[1:])}
    if "requests" not in out:
        raise RuntimeError(f"wrk failed ({r.returncode}): {r.stdout[-2000:]} {r.stderr[-2000:]}")
    out.setdefault("codes", {})
    out["rps"] = out["requests"] / (out["duration_us"] / 1e6)
    return out


def pgbench(db_url, script_path, clients=64, threads=2, duration=8, log_dir=None):
    """pgbench -M prepared; with log_dir, a 10% sample of transaction latencies is logged
    there and 'p50_us' / 'p99_us' are returned too."""
    argv = ["pgbench", "-n", "-c", str(clients), "-j", str(threads), "-T", str(duration), "-M", "prepared",
            "-f", script_path, "-d", db_url]
    if log_dir:
        for f in os.listdir(log_dir):
            if f.startswith("pgb."):
                os.unlink(os.path.join(log_dir, f))
        argv += ["--log", "--sampling-rate=0.1", f"--log-prefix={os.path.join(log_dir, 'pgb')}"]
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=duration + 60)
    m = re.search(r"^tps = ([0-9.]+)", r.stdout, re.M)
    if r.returncode != 0 or not m:
        raise RuntimeError("pgbench failed: " + r.stdout[-3000:])
    lat = re.search(r"^latency average = ([0-9.]+) ms", r.stdout, re.M)
    failed = re.search(r"^number of failed transactions: (\d+)", r.stdout, re.M)
    out = {"tps": float(m.group(1)), "lat_avg_ms": float(lat.group(1)) if lat else None,
           "failed": int(failed.group(1)) if failed else 0, "out": r.stdout}
    if log_dir:
        lats = []
        for f in os.listdir(log_dir):
            if f.startswith("pgb."):
                with open(os.path.join(log_dir, f)) as fh:
                    lats += [int(line.split()[2]) for line in fh if line.strip()]
        out["p50_us"], out["p99_us"] = pct(lats, 50), pct(lats, 99)
    return out


_cpu_roots = set()  # processes not started as our children (the postmaster) whose trees are ours


def cpu_root(pid):
    """Count pid and its descendants in cpu_ticks() (a daemon that left our process tree)."""
    _cpu_roots.add(pid)


def cpu_ticks():
    """CPU time (user + system, in clock ticks) used so far by our processes and the
    children they have reaped (so PostgreSQL backends that exited count under the
    postmaster), by command name. Ours: this process's descendants and those of cpu_root()
    pids; other sessions' clusters and daemons on a shared machine are not counted."""
    stats, parent = {}, {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                st = f.read()
        except OSError:
            continue
        fields = st.rsplit(")", 1)[1].split()
        stats[int(pid)] = (st[st.index("(") + 1:st.rindex(")")], sum(int(x) for x in fields[11:15]))
        parent[int(pid)] = int(fields[1])
    roots = _cpu_roots | {os.getpid()}
    out = {}
    for pid, (name, ticks) in stats.items():
        p, hops = pid, 0
        while p not in roots and p > 1 and hops < 64:
            p, hops = parent.get(p, 0), hops + 1
        if p in roots:
            out[name] = out.get(name, 0) + ticks
    return out


def cpu_us_per(before, after, n, names):
    """Microseconds of CPU per request for each of names between two cpu_ticks()."""
    hz = os.sysconf("SC_CLK_TCK")
    return {k: (after.get(k, 0) - before.get(k, 0)) * 1e6 / hz / n for k in names}


def median(xs):
    return statistics.median(xs)


def pct(xs, p):
    """Nearest-rank percentile (p in 0..100) of a list."""
    s = sorted(xs)
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


# ---------------------------------------------------------------- tables


class Table:
    """One table per benchmark. Each row: metric, ours, baseline, ratio (ours/baseline),
    target, ok. ok is None for informational rows (no target)."""

    def __init__(self, title, note=""):
        self.title, self.note, self.rows = title, note, []

    def row(self, metric, ours, baseline="-", ratio="-", target="-", ok=None):
        self.rows.append([metric, ours, baseline, ratio, target, ok])

    @property
    def failed(self):
        return any(r[5] is False for r in self.rows)

    def render(self):
        head = ["metric", "ours", "baseline", "ratio", "target", "ok"]
        cells = [[str(c) for c in r[:5]] + ["-" if r[5] is None else ("yes" if r[5] else "NO")] for r in self.rows]
        w = [max(len(head[i]), *(len(c[i]) for c in cells)) for i in range(6)]
        line = "+-" + "-+-".join("-" * x for x in w) + "-+"
        out = [f"== {self.title}", line, "| " + " | ".join(h.ljust(w[i]) for i, h in enumerate(head)) + " |", line]
        for c in cells:
            out.append("| " + " | ".join(c[i].ljust(w[i]) for i in range(6)) + " |")
        out.append(line)
        if self.note:
            out += ["   " + n for n in self.note.strip().splitlines()]
        return "\n".join(out)

    def emit(self):
        print(self.render(), flush=True)
        print(flush=True)
        if RESULTS:
            with open(RESULTS, "a") as f:
                f.write(json.dumps({"title": self.title, "note": self.note, "rows": self.rows}) + "\n")


def fmt(v, unit="", nd=1):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{nd}f}{unit}"
    return f"{v:,}{unit}"
