"""The deploy/ examples stay valid: Knot and BIND accept the secondary configurations,
the sample rdns.conf passes --check-config, and the systemd units name real binaries' flags."""
import os
import subprocess

import harness

SECRET = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="
DEPLOY = os.path.join(harness.ROOT, "deploy")


def _with_secret(name, tmp_path):
    text = open(os.path.join(DEPLOY, "dns", name)).read().replace("REPLACE-WITH-BASE64-SECRET", SECRET)
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_knot_secondary_example_is_valid(tmp_path):
    r = subprocess.run(["knotc", "-c", _with_secret("knot-secondary.conf", tmp_path), "conf-check"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout


def test_bind_secondary_example_is_valid(tmp_path):
    r = subprocess.run(["named-checkconf", _with_secret("bind-secondary.conf", tmp_path)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout


def test_sample_config_passes_check_config():
    for daemon in ("rdns-api", "rdns-zonegen"):
        r = subprocess.run([os.path.join(harness.BIN, daemon), "-c", os.path.join(DEPLOY, "rdns.conf"),
                            "--check-config"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert r.returncode == 0, r.stderr
        assert "configuration ok" in r.stdout


def test_systemd_units_use_existing_options():
    for unit in ("rdns-api.service", "rdns-zonegen.service"):
        text = open(os.path.join(DEPLOY, "systemd", unit)).read()
        assert "ExecStart=/usr/local/bin/rdns-" in text and "-c /etc/rdns/rdns.conf" in text
