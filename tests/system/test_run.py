"""`make run` (deploy/run.sh) as a newcomer meets it: from a private (0700) folder, as root or
not, the examples it prints work against the private knotd, and SIGTERM stops all it started."""
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import harness
from harness import wait_until


def _procs_under(path):
    """Command lines of running processes that name path."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if path in cmd:
            out.append(cmd)
    return out


def test_make_run_from_a_private_folder():
    top = tempfile.mkdtemp(prefix="rdns-run-")  # 0700, like root's home
    checkout = os.path.join(top, "rdns")
    os.mkdir(checkout)
    shutil.copytree(os.path.join(harness.ROOT, "deploy"), os.path.join(checkout, "deploy"))
    os.symlink(harness.BUILD, os.path.join(checkout, "build"))  # the release binaries
    modes = {p: os.stat(p).st_mode for p in (top, checkout)}
    api_port = harness.free_port(udp_too=False)
    dns_port, demo_port = harness.free_port(), harness.free_port()
    env = dict(os.environ, RDNS_API_LISTEN=f"127.0.0.1:{api_port}", RDNS_DNS_LISTEN=f"127.0.0.1:{dns_port}",
               RDNS_DEMO_DNS=f"127.0.0.1:{demo_port}")
    env.pop("RDNS_DATABASE_URL", None)
    env.pop("RDNS_RESOLVERS", None)
    log_path = os.path.join(top, "run.log")
    pghome = "/var/lib/rdns-demo/" + hashlib.sha256(checkout.encode()).hexdigest()[:12]
    proc = subprocess.Popen(["bash", "deploy/run.sh"], cwd=checkout, env=env, stdin=subprocess.DEVNULL,
                            stdout=open(log_path, "w"), stderr=subprocess.STDOUT, start_new_session=True)

    def log():
        with open(log_path) as f:
            return f.read()

    try:
        wait_until(lambda: "Ctrl-C stops everything" in log(), timeout=120, what="make run's examples")
        assert proc.poll() is None, log()
        text = log()
        # the cluster is where its user may go; the checkout's folders keep their modes
        if os.geteuid() == 0:
            assert os.path.isfile(os.path.join(pghome, "pg", "PG_VERSION"))
            assert not os.path.exists(os.path.join(checkout, "var", "pg"))
        else:
            assert os.path.isfile(os.path.join(checkout, "var", "pg", "PG_VERSION"))
        assert {p: os.stat(p).st_mode for p in modes} == modes
        assert f"resolvers = 127.0.0.1:{demo_port}" in open(os.path.join(checkout, "var", "rdns.conf")).read()

        # every PUT it prints: two pass, one fails with findings
        puts = re.findall(r"^  (curl -s -X PUT .*?)\\\n\s+(-d .*)$", text, re.M)
        assert len(puts) == 3, text
        outcomes = []
        for head, tail in puts:
            cmd = head + tail + " -o /dev/stdout -w '\\n%{http_code}'"
            r = subprocess.run(["bash", "-c", cmd], stdout=subprocess.PIPE, text=True, timeout=30)
            body, code = r.stdout.rsplit("\n", 1)
            fwd = [c for c in json.loads(body)["checks"] if c["id"] == "forward"][0]
            outcomes.append((int(code), fwd["status"], fwd["detail"]))
        assert outcomes == [
            (200, "pass", "mail.demo.example.com has A 192.0.2.10"),
            (200, "pass", "mail.demo.example.com has AAAA 2001:db8:100::10"),
            (422, "fail", "old.demo.example.com has A 198.51.100.7, not 192.0.2.12"),
        ], outcomes
        [get] = re.findall(r"^  (curl -s -H .*)$", text, re.M)
        r = subprocess.run(["bash", "-c", get], stdout=subprocess.PIPE, text=True, timeout=30)
        assert '"hostname":"mail.demo.example.com"' in r.stdout, r.stdout
        assert "resolvers = 9.9.9.9" in text  # how to check real names
        # the web panel's URL, printed with the tokens (issue 15), answers
        [panel] = re.findall(r"web panel: +(http://\S+/panel/)", text)
        r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", panel], stdout=subprocess.PIPE,
                           text=True, timeout=30)
        assert r.stdout == "200", (panel, r.stdout)

        # SIGTERM to the script alone stops the daemons, knotd and PostgreSQL
        running = _procs_under(checkout)
        assert any("knotd" in c for c in running) and any("rdns-api" in c for c in running), running
        assert any("rdns-verifier" in c for c in running), running
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        assert log().rstrip().endswith("run: stopped"), log()[-2000:]
        wait_until(lambda: not _procs_under(checkout) and not _procs_under(pghome), timeout=10,
                   what="everything make run started to stop")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if os.geteuid() == 0:
            pg = os.path.join(pghome, "pg")
            if os.path.exists(os.path.join(pg, "postmaster.pid")):
                subprocess.run(["runuser", "-u", "postgres", "--", f"{harness.PG_BIN}/pg_ctl", "-D", pg, "-m",
                                "immediate", "stop"], cwd="/", stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
            shutil.rmtree(pghome, ignore_errors=True)
        shutil.rmtree(top, ignore_errors=True)
