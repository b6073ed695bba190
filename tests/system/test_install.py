"""make install / make uninstall with PREFIX and DESTDIR, and the systemd units they install:
the exact file list and modes, ExecStart binaries present under DESTDIR, an operator's
rdns.conf never overwritten or removed, `systemd-analyze verify` clean and
`systemd-analyze security --offline` exposure at most 2.0 for each unit.
systemd-analyze works offline here (no systemd as PID 1 needed): `--root=DESTDIR` resolves
the units' paths inside DESTDIR; `--recursive-errors=no` because DESTDIR holds no
sysinit.target for the default dependencies to find."""
import os
import re
import shutil
import stat
import subprocess

import pytest

import harness

UNITS = ("rdns-api.service", "rdns-zonegen.service", "rdns-verifier.service")
DNS = ("bind-secondary.conf", "knot-secondary.conf", "nsd-secondary.conf", "pdns-secondary.conf")
SAMPLE = os.path.join(harness.ROOT, "deploy", "rdns.conf")


def make(target, destdir, prefix=None):
    args = ["make", "-s", "--no-print-directory", "-C", harness.ROOT, target, "DESTDIR=%s" % destdir]
    if prefix:
        args.append("PREFIX=%s" % prefix)
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout
    return r.stdout


def files(root):
    """{relative path: mode} of every non-directory under root."""
    out = {}
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            out[os.path.relpath(p, root)] = stat.S_IMODE(os.lstat(p).st_mode)
    return out


def expected(prefix, sysusers):
    p = prefix.lstrip("/")
    want = {p + "/sbin/rdns-api": 0o755, p + "/sbin/rdns-zonegen": 0o755, p + "/sbin/rdns-verifier": 0o755,
            sysusers.lstrip("/") + "/rdns.conf": 0o644, "etc/rdns/rdns.conf": 0o600,
            p + "/share/doc/rdns/README.md": 0o644}
    want.update({p + "/lib/systemd/system/" + u: 0o644 for u in UNITS})
    want.update({p + "/share/doc/rdns/dns/" + f: 0o644 for f in DNS})
    return want


@pytest.mark.parametrize("prefix,sysusers", [("/usr", "/usr/lib/sysusers.d"),
                                             ("/usr/local", "/etc/sysusers.d")])
def test_install_puts_exactly_these_files_and_uninstall_removes_them(tmp_path, prefix, sysusers):
    dest = str(tmp_path / "root")
    make("install", dest, None if prefix == "/usr/local" else prefix)
    assert files(dest) == expected(prefix, sysusers)
    with open(os.path.join(dest, "etc/rdns/rdns.conf")) as f, open(SAMPLE) as s:
        assert f.read() == s.read()
    for u in UNITS:
        text = open(os.path.join(dest, prefix.lstrip("/"), "lib/systemd/system", u)).read()
        assert not re.search(r"@[A-Z]+@", text), "unsubstituted template in " + u
        execs = re.findall(r"(?m)^ExecStart(?:Pre)?=(\S+) (.*)$", text)
        assert len(execs) == 2, text
        for path, args in execs:
            assert path == prefix + "/sbin/" + u[:-len(".service")]
            assert os.access(dest + path, os.X_OK), path
            assert args.startswith("-c %d/rdns.conf")
        assert "LoadCredential=rdns.conf:/etc/rdns/rdns.conf\n" in text
    make("uninstall", dest, None if prefix == "/usr/local" else prefix)
    assert files(dest) == {}
    for d in ("etc/rdns", prefix.lstrip("/") + "/share/doc/rdns"):
        assert not os.path.exists(os.path.join(dest, d)), d


def test_an_operators_config_is_kept(tmp_path):
    dest = str(tmp_path / "root")
    conf = os.path.join(dest, "etc/rdns/rdns.conf")
    os.makedirs(os.path.dirname(conf))
    with open(conf, "w") as f:
        f.write("database_url = postgresql://mine@/rdns\n")
    out = make("install", dest, "/usr")
    assert "kept" in out
    assert open(conf).read() == "database_url = postgresql://mine@/rdns\n"
    assert open(conf + ".sample").read() == open(SAMPLE).read()
    make("install", dest, "/usr")  # again: still kept, the sample refreshed, nothing else
    assert open(conf).read() == "database_url = postgresql://mine@/rdns\n"
    out = make("uninstall", dest, "/usr")
    assert "differs from the sample: kept" in out
    assert list(files(dest)) == ["etc/rdns/rdns.conf"]
    assert not os.path.exists(conf + ".sample")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    dest = str(tmp_path_factory.mktemp("inst") / "root")
    make("install", dest, "/usr")
    # rdns-api's ExecReload= runs the system's /bin/kill (procps), which is not ours to
    # install: put the host's into the root so that verify finds it as on a real system
    os.makedirs(os.path.join(dest, "bin"), exist_ok=True)
    shutil.copy2("/bin/kill", os.path.join(dest, "bin", "kill"))
    yield dest
    make("uninstall", dest, "/usr")


def analyze(*args):
    return subprocess.run(["systemd-analyze"] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)


@pytest.mark.parametrize("unit", UNITS)
def test_units_verify_clean(installed, unit):
    r = analyze("verify", "--root=" + installed, "--recursive-errors=no", "--man=no",
                "/usr/lib/systemd/system/" + unit)
    assert r.returncode == 0 and r.stdout == "", r.stdout


def test_verify_would_catch_a_broken_unit(installed, tmp_path):
    """The check above can fail: a misspelt key or a missing binary is an error."""
    unit = os.path.join(installed, "usr/lib/systemd/system/rdns-api.service")
    text = open(unit).read()
    try:
        with open(unit, "w") as f:
            f.write(text.replace("\nProtectSystem=", "\nProtectSytem="))
        r = analyze("verify", "--root=" + installed, "--recursive-errors=no", "--man=no",
                    "/usr/lib/systemd/system/rdns-api.service")
        assert r.returncode != 0 and "ProtectSytem" in r.stdout, r.stdout
    finally:
        with open(unit, "w") as f:
            f.write(text)
    binary = os.path.join(installed, "usr/sbin/rdns-zonegen")
    os.rename(binary, binary + ".away")
    try:
        r = analyze("verify", "--root=" + installed, "--recursive-errors=no", "--man=no",
                    "/usr/lib/systemd/system/rdns-zonegen.service")
        assert r.returncode != 0 and "not executable" in r.stdout, r.stdout
    finally:
        os.rename(binary + ".away", binary)


@pytest.mark.parametrize("unit", UNITS)
def test_units_exposure_at_most_2(installed, unit):
    r = analyze("security", "--offline=true", "--no-pager", "--root=" + installed,
                "/usr/lib/systemd/system/" + unit)
    m = re.search(r"Overall exposure level for %s: (\d+\.\d+)" % re.escape(unit), r.stdout)
    assert m, r.stdout
    assert float(m.group(1)) <= 2.0, r.stdout
    # The sandbox the README promises, as systemd-analyze reads it.
    for line in ("CapabilityBoundingSet=~CAP_SYS_ADMIN", "NoNewPrivileges=", "ProtectSystem=",
                 "PrivateDevices=", "SystemCallArchitectures=", "MemoryDenyWriteExecute=",
                 "RestrictNamespaces=~user", "ProtectProc=", "ProcSubset="):
        hit = [x for x in r.stdout.splitlines() if line in x]
        assert hit and hit[0].lstrip().startswith("✓"), (line, hit)
