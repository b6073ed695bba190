"""harness.py - real processes for the system tests: a throwaway PostgreSQL
cluster, knotd, and the rdns daemons, each on free loopback ports, cleaned up
after themselves. Works as root (PostgreSQL then runs as an unprivileged user)
and as an ordinary user."""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import requests

PG_BIN = "/usr/lib/postgresql/15/bin"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("RDNS_BUILD", os.path.join(ROOT, "build"))
# The daemons under test are the ASan+UBSan builds: a memory error or a leak fails the test.
BIN = os.path.join(BUILD, "asan")
SAN_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:exitcode=86",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
}


# Ports for our daemons come from a range of this process's own below the kernel's ephemeral
# range (32768-60999 by default), walked in turn: a port asked for by bind(0) and closed could
# be handed out again by the next call, to this process or to another pytest worker (-n 2),
# before the daemon it was meant for had bound it. Each worker (PYTEST_XDIST_WORKER gw0, gw1,
# gw2, gw3; a fifth would share gw0's) has 3,000 ports of 20000-31999 to itself, and outgoing
# connections never get one.
_PORT_SPAN = 3000
_worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
_port_base = 20000 + _PORT_SPAN * (int(_worker[2:]) % 4 if _worker[2:].isdigit() else 0)
_port_next = _port_base + (os.getpid() * 7919) % _PORT_SPAN


def free_port(host="127.0.0.1", udp_too=True):
    """A port free on host for TCP (and UDP) right now, not handed out by this process in its
    last 3,000 calls nor ever by another worker."""
    global _port_next
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(_PORT_SPAN):
        port = _port_next
        _port_next = _port_base + (port + 1 - _port_base) % _PORT_SPAN
        kinds = (socket.SOCK_STREAM, socket.SOCK_DGRAM) if udp_too else (socket.SOCK_STREAM,)
        socks = []
        try:
            for kind in kinds:
                s = socket.socket(family, kind)
                socks.append(s)
                s.bind((host, port))
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError(f"no free port in {_port_base}-{_port_base + _PORT_SPAN - 1}")


def bind_same_port(specs, tries=200):
    """Sockets bound to one port picked by the kernel, one per (host, type) in specs, held
    open together. The first is bound to port 0; a later one may find that port taken (by
    another test's TCP listener on a UDP port, say), and then all are closed and the pick
    is tried again, so no caller races another for the port."""
    for _ in range(tries):
        socks = []
        try:
            for host, kind in specs:
                fam = socket.AF_INET6 if ":" in host else socket.AF_INET
                s = socket.socket(fam, kind)
                socks.append(s)
                s.bind((host, socks[0].getsockname()[1] if len(socks) > 1 else 0))
            return socks
        except OSError:
            for s in socks:
                s.close()
    raise RuntimeError("no port free for all of " + repr(specs))


def wait_until(pred, timeout=15.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            v = pred()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - retried until the deadline
            last = e
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {what}" + (f": {last}" if last else ""))


def _unprivileged_user():
    """As root PostgreSQL refuses to run: use the 'postgres' system user."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root and no unprivileged user to run PostgreSQL")


class PgCluster:
    """A throwaway PostgreSQL cluster: initdb in a temp dir, TCP on 127.0.0.1 and a unix socket."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="rdns-pg-")
        self.data = os.path.join(self.dir, "data")
        self.port = free_port(udp_too=False)
        self.user = _unprivileged_user()
        self.superuser = "rdns"
        if self.user:
            os.chmod(self.dir, 0o755)
            os.chown(self.dir, self.user.pw_uid, self.user.pw_gid)
        self._run([f"{PG_BIN}/initdb", "--nosync", "-A", "trust", "-U", self.superuser, "-E", "UTF8",
                   "--locale=C", "-D", self.data])
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write(f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                    f"unix_socket_directories = '{self.dir}'\nfsync = off\n"
                    "synchronous_commit = off\nfull_page_writes = off\nmax_connections = 300\n"
                    "shared_buffers = 128MB\n")
        self.start()

    def _run(self, argv, check=True):
        if self.user:
            argv = ["runuser", "-u", self.user.pw_name, "--"] + argv
        return subprocess.run(argv, check=check, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              cwd=self.dir, text=True)

    def start(self):
        r = self._run([f"{PG_BIN}/pg_ctl", "-w", "-t", "60", "-D", self.data, "-l",
                       os.path.join(self.dir, "log"), "start"], check=False)
        if r.returncode != 0:
            raise RuntimeError("pg_ctl start failed: " + r.stdout + self.log())

    def stop(self, mode="fast"):
        self._run([f"{PG_BIN}/pg_ctl", "-w", "-D", self.data, "-m", mode, "stop"], check=False)

    def log(self):
        try:
            with open(os.path.join(self.dir, "log")) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def url(self, dbname="postgres"):
        return f"host=127.0.0.1 port={self.port} user={self.superuser} dbname={dbname}"

    def psql(self, sql, dbname="postgres"):
        r = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", self.url(dbname),
                            "-c", sql], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"psql failed: {r.stderr}")
        return r.stdout.strip()

    def psql_may_fail(self, sql, dbname="postgres"):
        return subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", self.url(dbname),
                               "-c", sql], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def create_db(self, name):
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def close(self):
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


class Knot:
    """knotd on 127.0.0.1:<port> serving zones written by the tests, optionally
    acting as a secondary for zones of a primary."""

    def __init__(self, notify_from="127.0.0.0/8, ::1"):
        """notify_from: the addresses knotd accepts NOTIFY from (its notify ACL)."""
        self.notify_from = notify_from
        self.dir = tempfile.mkdtemp(prefix="rdns-knot-")
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.zones = {}       # name -> zone text (primary zones from files)
        self.secondaries = {}  # name -> (primary "ip@port", notify acl list)
        self.file_zones = {}  # name -> path of a zone file owned by someone else (loaded as primary)
        self.proc = None
        self._write_conf()
        self.proc = subprocess.Popen(["knotd", "-c", self.conf_path], stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, "knotd.log"), "w"))
        wait_until(lambda: self._ctl("status").returncode == 0, what="knotd")

    @property
    def conf_path(self):
        return os.path.join(self.dir, "knot.conf")

    def _write_conf(self):
        lines = [
            "server:",
            f"    rundir: {self.dir}",
            f"    listen: 127.0.0.1@{self.port}",
            "    tcp-idle-timeout: 5",
            "log:",
            "  - target: stderr",
            "    any: info",
            "database:",
            f"    storage: {self.dir}/db",
            "control:",
            f"    listen: {self.dir}/knot.sock",
            "remote:",
        ]
        remotes = sorted({p for p, _ in self.secondaries.values()})
        if not remotes:
            lines.pop()
        for i, addr in enumerate(remotes):
            lines += [f"  - id: primary{i}", f"    address: {addr}"]
        lines += ["acl:", "  - id: notify_from_loopback", f"    address: [{self.notify_from}]", "    action: notify",
                  "template:", "  - id: default", f"    storage: {self.dir}", "    semantic-checks: on",
                  "    zonefile-sync: -1", "    journal-content: none", "zone:"]
        for name in sorted(self.zones):
            lines += [f"  - domain: {name}", f"    file: {self._zone_file(name)}"]
        for name, path in sorted(self.file_zones.items()):
            lines += [f"  - domain: {name}", f"    file: {path}", "    zonefile-load: whole"]
        for name, (addr, _) in sorted(self.secondaries.items()):
            idx = remotes.index(addr)
            lines += [f"  - domain: {name}", f"    master: primary{idx}", "    acl: notify_from_loopback",
                      "    zonefile-sync: -1", f"    file: {self.dir}/sec-{name}zone"]
        if not self.zones and not self.secondaries and not self.file_zones:
            lines.pop()
        with open(self.conf_path, "w") as f:
            f.write("\n".join(lines) + "\n")

    def _zone_file(self, name):
        return os.path.join(self.dir, name.rstrip(".") + ".zone")

    def _ctl(self, *args):
        return subprocess.run(["knotc", "-s", os.path.join(self.dir, "knot.sock"), "-t", "5"] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def set_zone(self, name, text):
        """Serve (or replace) a primary zone; returns once knotd answers with it."""
        name = name.rstrip(".") + "."
        self.zones[name] = text
        with open(self._zone_file(name), "w") as f:
            f.write(text)
        self._reload()

    def add_secondary(self, name, primary_port, primary_host="127.0.0.1"):
        self.secondaries[name.rstrip(".") + "."] = (f"{primary_host}@{primary_port}", None)
        self._reload()

    def add_file_zone(self, name, path):
        self.file_zones[name.rstrip(".") + "."] = path
        self._reload()

    def _reload(self):
        self._write_conf()
        r = self._ctl("reload")
        if r.returncode != 0:
            raise RuntimeError("knotc reload failed: " + r.stdout + self.log())

    def zone_reload(self, name):
        return self._ctl("zone-reload", name)

    def log(self):
        try:
            with open(os.path.join(self.dir, "knotd.log")) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class Daemon:
    """One of our daemons (ASan build) with a generated config file."""

    def __init__(self, name, conf, args=(), env=None):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix=f"rdns-{name}-")
        self.conf = dict(conf)
        self.conf_path = os.path.join(self.dir, "rdns.conf")
        with open(self.conf_path, "w") as f:
            for k, v in self.conf.items():
                f.write(f"{k} = {v}\n")
        self.log_path = os.path.join(self.dir, "stderr.log")
        self.args = list(args)
        self.preexec = None  # run in the child before exec (a resource limit, say)
        self.env = dict(os.environ, **SAN_ENV, **(env or {}))
        self.proc = None

    def run(self, *args, check=True, timeout=60):
        """Run a one-shot command of this daemon (migrate, add-staff, --once ...)."""
        r = subprocess.run([os.path.join(BIN, self.name), "-c", self.conf_path] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env,
                           timeout=timeout)
        if check and r.returncode != 0:
            raise RuntimeError(f"{self.name} {' '.join(args)} failed ({r.returncode}): {r.stderr}")
        return r

    def start(self):
        self.proc = subprocess.Popen([os.path.join(BIN, self.name), "-c", self.conf_path] + self.args,
                                     stdout=subprocess.DEVNULL, stderr=open(self.log_path, "a"),
                                     env=self.env, preexec_fn=self.preexec)
        return self

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM):
        """Stop; returns the exit code. A sanitizer report makes it non-zero."""
        if not self.proc:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.proc = None
        return rc

    def close(self):
        self.stop(signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)


class Api(Daemon):
    def __init__(self, pg_url, extra=None):
        self.port = free_port(udp_too=False)
        # Every client of the suite comes from 127.0.0.1, so the per-address limit (32 by
        # default) is off unless a test sets it.
        conf = {"database_url": pg_url, "api_listen": f"127.0.0.1:{self.port}", "api_threads": 4,
                "log_level": "info", "api_per_ip_connections": 0}
        conf.update(extra or {})
        super().__init__("rdns-api", conf)
        self.base = f"http://127.0.0.1:{self.port}"

    def start(self):
        super().start()
        wait_until(lambda: requests.get(self.base + "/healthz", timeout=1).status_code == 200,
                   what="rdns-api /healthz")
        return self

    def stop(self, sig=signal.SIGTERM):
        rc = super().stop(sig)
        if sig == signal.SIGTERM and rc != 0:
            raise AssertionError(f"rdns-api exited {rc}:\n{self.log()[-6000:]}")
        return rc

    def add_staff(self, name):
        r = self.run("add-staff", name)
        return r.stdout.strip().splitlines()[-1]


class Zonegen(Daemon):
    """rdns-zonegen (ASan build): zone files in its own folder, hidden primary on a free port."""

    def __init__(self, pg_url, extra=None, zone_dir=None):
        self.port = free_port()
        conf = {"database_url": pg_url, "dns_listen": f"127.0.0.1:{self.port}", "debounce_ms": 50,
                "log_level": "info", "notify_timeout_ms": 100, "reconcile_interval": 3600,
                "transfer_allow": "127.0.0.1 ::1"}
        conf.update(extra or {})
        super().__init__("rdns-zonegen", conf)
        self.zone_dir = zone_dir or os.path.join(self.dir, "zones")
        if "zone_dir" not in conf:
            self.conf["zone_dir"] = self.zone_dir
            with open(self.conf_path, "a") as f:
                f.write(f"zone_dir = {self.zone_dir}\n")
        else:
            self.zone_dir = conf["zone_dir"]

    def start(self):
        self._log_mark = len(self.log())
        return super().start()

    def wait_leader(self, timeout=15):
        """Wait until this instance has taken the leader lock (since its last start)."""
        wait_until(lambda: "leader now" in self.log()[self._log_mark:], timeout=timeout, what="zonegen leader")
        return self

    def zone_path(self, zone):
        return os.path.join(self.zone_dir, zone.rstrip(".") + ".zone")

    def stop(self, sig=signal.SIGTERM):
        rc = super().stop(sig)
        if sig == signal.SIGTERM and rc != 0:
            raise AssertionError(f"rdns-zonegen exited {rc}:\n{self.log()[-6000:]}")
        return rc


class Verifier(Daemon):
    """rdns-verifier (ASan build), the worker of issue 18: short retries and lease for tests."""

    def __init__(self, pg_url, extra=None):
        conf = {"database_url": pg_url, "log_level": "info", "verifier_threads": 2, "verifier_poll_ms": 100,
                "verify_retry_min_ms": 300, "verify_retry_max_ms": 1000, "verify_deadline_ms": 3000,
                "verify_timeout_ms": 500, "verify_retries": 1, "verifier_lease_ms": 4000}
        conf.update(extra or {})
        super().__init__("rdns-verifier", conf)

    def start(self):
        self._log_mark = len(self.log())
        super().start()
        wait_until(lambda: "running" in self.log()[self._log_mark:], what="rdns-verifier start")
        return self

    def stop(self, sig=signal.SIGTERM):
        rc = super().stop(sig)
        if sig == signal.SIGTERM and rc != 0:
            raise AssertionError(f"rdns-verifier exited {rc}:\n{self.log()[-6000:]}")
        return rc
