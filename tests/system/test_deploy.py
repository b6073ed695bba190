"""The deploy/ examples stay valid: Knot, BIND and NSD accept the secondary configurations
with and without TSIG (test_secondaries.py runs all four servers from them),
the sample rdns.conf passes --check-config, and the systemd units name real binaries' flags."""
import os
import subprocess

import pytest

import harness
from secondaries import render_example

SECRET = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="
DEPLOY = os.path.join(harness.ROOT, "deploy")


def _rendered(name, tmp_path, tsig):
    """As a deployment would have it: example address and paths, the [tsig] or [no-tsig] lines."""
    p = tmp_path / name
    p.write_text(render_example(name, tsig, "192.0.2.53", 5300, SECRET))
    return str(p)


@pytest.mark.parametrize("tsig", [True, False])
def test_knot_secondary_example_is_valid(tmp_path, tsig):
    r = subprocess.run(["knotc", "-c", _rendered("knot-secondary.conf", tmp_path, tsig), "conf-check"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout


@pytest.mark.parametrize("tsig", [True, False])
def test_bind_secondary_example_is_valid(tmp_path, tsig):
    r = subprocess.run(["named-checkconf", _rendered("bind-secondary.conf", tmp_path, tsig)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout


@pytest.mark.parametrize("tsig", [True, False])
def test_nsd_secondary_example_is_valid(tmp_path, tsig):
    r = subprocess.run(["nsd-checkconf", _rendered("nsd-secondary.conf", tmp_path, tsig)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout
    keyed = subprocess.run(["nsd-checkconf", "-z", "2.0.192.in-addr.arpa", "-o", "request-xfr", str(tmp_path /
                            "nsd-secondary.conf")], stdout=subprocess.PIPE, text=True).stdout
    assert ("xfr-key" in keyed) == tsig and "192.0.2.53@5300" in keyed, keyed


def test_examples_serve_both_zones():
    for name in ("knot-secondary.conf", "bind-secondary.conf", "nsd-secondary.conf", "pdns-secondary.conf"):
        text = open(os.path.join(DEPLOY, "dns", name)).read()
        assert "2.0.192.in-addr.arpa" in text and "0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa" in text, name
    assert "\nlaunch=gsqlite3\n" in open(os.path.join(DEPLOY, "dns", "pdns-secondary.conf")).read()


def test_sample_config_passes_check_config():
    for daemon in ("rdns-api", "rdns-zonegen"):
        r = subprocess.run([os.path.join(harness.BIN, daemon), "-c", os.path.join(DEPLOY, "rdns.conf"),
                            "--check-config"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert r.returncode == 0, r.stderr
        assert "configuration ok" in r.stdout


def test_systemd_units_use_existing_options():
    """The templates make install turns into units (test_install.py checks the result)."""
    for unit in ("rdns-api.service", "rdns-zonegen.service"):
        text = open(os.path.join(DEPLOY, "systemd", unit + ".in")).read()
        daemon = unit[:-len(".service")]
        assert "\nExecStart=@SBINDIR@/%s -c %%d/rdns.conf\n" % daemon in text
        assert "\nExecStartPre=@SBINDIR@/%s -c %%d/rdns.conf --check-config\n" % daemon in text
        assert "\nLoadCredential=rdns.conf:@SYSCONFDIR@/rdns/rdns.conf\n" in text
