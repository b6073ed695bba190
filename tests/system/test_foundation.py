"""The foundation: migrations, allocations' overlap rule, bootstrap token, health and readiness."""
import os
import subprocess
import time

import dns.message
import dns.query
import dns.rdatatype
import psycopg2
import pytest
import requests

from harness import BIN, Api, wait_until


def test_migrations_apply_and_reapply_is_noop(pg):
    url = pg.create_db("rdns_migrate")
    a = Api(url)
    try:
        first = a.run("migrate").stdout
        assert "applied 001_init" in first
        tables = set(pg.psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
                             "rdns_migrate").split())
        assert {"accounts", "api_tokens", "allocations", "reverse_zones", "ptr_records", "ptr_requests",
                "audit_log", "schema_migrations"} <= tables
        again = a.run("migrate").stdout
        assert "up to date" in again and "applied" not in again
        assert pg.psql("SELECT count(*) FROM schema_migrations", "rdns_migrate") == \
            pg.psql("SELECT max(version) FROM schema_migrations", "rdns_migrate")
    finally:
        a.close()


def test_migrate_applies_a_migration_numbered_below_the_newest_applied(pg):
    """Two branches' migrations can land in either order: a database that has 014 but
    never had 013 (013 merged after 014 had been applied) gets 013 from the next migrate,
    not "up to date" (it only looked above the newest number applied)."""
    url = pg.create_db("rdns_migrate_gap")
    a = Api(url)
    try:
        a.run("migrate")
        pg.psql("DROP TABLE delegation_checks; DELETE FROM schema_migrations WHERE version = 13", "rdns_migrate_gap")
        r = a.run("migrate")
        assert "applied 013_delegation_checks" in r.stdout, r.stdout
        assert "was never applied" in r.stderr, r.stderr
        assert pg.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'delegation_checks'",
                       "rdns_migrate_gap") == "1"
        again = a.run("migrate").stdout
        assert "up to date" in again and "applied" not in again
    finally:
        a.close()


def test_overlapping_allocation_is_impossible(pg, dburl, api):
    conn = psycopg2.connect(dburl)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("INSERT INTO accounts (name, role) VALUES ('overlap-a', 'customer') RETURNING id")
    acct = cur.fetchone()[0]
    cur.execute("INSERT INTO allocations (account_id, prefix) VALUES (%s, '192.0.2.0/24')", (acct,))
    with pytest.raises(psycopg2.errors.ExclusionViolation):
        cur.execute("INSERT INTO allocations (account_id, prefix) VALUES (%s, '192.0.2.0/25')", (acct,))
    with pytest.raises(psycopg2.errors.ExclusionViolation):
        cur.execute("INSERT INTO allocations (account_id, prefix) VALUES (%s, '192.0.0.0/16')", (acct,))
    # Adjacent and other-family prefixes are fine.
    cur.execute("INSERT INTO allocations (account_id, prefix) VALUES (%s, '192.0.3.0/24')", (acct,))
    cur.execute("INSERT INTO allocations (account_id, prefix) VALUES (%s, '2001:db8:ff::/48')", (acct,))
    cur.execute("DELETE FROM allocations WHERE account_id = %s", (acct,))
    conn.close()


def test_audit_log_is_append_only(dburl, api):
    conn = psycopg2.connect(dburl)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("INSERT INTO audit_log (action, object) VALUES ('test', 'x') RETURNING id")
    with pytest.raises(psycopg2.Error, match="append-only"):
        cur.execute("UPDATE audit_log SET action = 'forged'")
    with pytest.raises(psycopg2.Error, match="append-only"):
        cur.execute("DELETE FROM audit_log")
    conn.close()


def test_add_staff_token_authenticates(api, anon):
    token = api.add_staff("boot-staff")
    assert token.startswith("rdns_")
    r = requests.get(api.base + "/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "staff" and r.json()["name"] == "boot-staff"
    # A tampered token, a missing one and a malformed header are all 401 with a problem body.
    for hdr in ({"Authorization": f"Bearer {token[:-1]}A" if token[-1] != "A" else f"Bearer {token[:-1]}B"},
                {}, {"Authorization": "Basic Zm9vOmJhcg=="}, {"Authorization": "Bearer rdns_1_short"}):
        r = requests.get(api.base + "/v1/me", headers=hdr, timeout=10)
        assert r.status_code == 401
        assert r.headers["Content-Type"] == "application/problem+json"
        assert r.json()["status"] == 401
    # The same name twice is refused, and the token is not printed again.
    r = api.run("add-staff", "boot-staff", check=False)
    assert r.returncode != 0 and "rdns_" not in r.stdout


def test_token_is_stored_hashed_only(pg, dburl, api):
    token = api.add_staff("hash-check")
    secret = token.split("_", 2)[2]
    dump = pg.psql("SELECT string_agg(encode(secret_hash, 'escape') || encode(secret_hash, 'hex'), ',')"
                   " FROM api_tokens", dburl.split("dbname=")[1])
    assert secret not in dump


def test_healthz(anon):
    r = anon.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_unknown_route_and_method(anon):
    r = anon.get("/v1/nope")
    assert r.status_code == 404 and r.headers["Content-Type"] == "application/problem+json"
    r = anon.post("/healthz")
    assert r.status_code == 405 and "GET" in r.headers["Allow"]


def test_readyz_follows_database(pg, api, anon):
    assert anon.get("/readyz").status_code == 200
    pg.stop()
    try:
        # (a 503 Response is falsy, so wrap it)
        r = wait_until(lambda: (lambda x: [x] if x.status_code == 503 else None)(anon.get("/readyz")),
                       timeout=20, what="readyz 503")[0]
        assert r.headers["Content-Type"] == "application/problem+json"
        assert anon.get("/healthz").status_code == 200
    finally:
        pg.start()
    wait_until(lambda: anon.get("/readyz").status_code == 200, timeout=30, what="readyz 200 after restart")
    # Every worker recovers, not just one: several requests in a row are all ready.
    for _ in range(20):
        assert anon.get("/readyz").status_code == 200


def test_knot_answers_for_a_zone_the_test_wrote(knot):
    knot.set_zone("harness.example.", "$ORIGIN harness.example.\n$TTL 300\n"
                  "@ SOA ns1 hostmaster 1 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.53\n"
                  "www A 192.0.2.80\n")

    def answer():
        q = dns.message.make_query("www.harness.example.", "A")
        r = dns.query.udp(q, "127.0.0.1", port=knot.port, timeout=1)
        return r if r.answer else None
    r = wait_until(answer, what="knotd answer")
    assert [rr.address for rr in r.answer[0]] == ["192.0.2.80"]


def test_check_config_and_help(api, tmp_path):
    r = api.run("--check-config")
    assert "configuration ok" in r.stdout and "api_listen" in r.stdout
    bad = tmp_path / "bad.conf"
    bad.write_text("api_threads = many\n")
    r = subprocess.run([f"{BIN}/rdns-api", "-c", str(bad), "--check-config"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert r.returncode == 2 and "api_threads" in r.stderr
    unknown = tmp_path / "unknown.conf"
    unknown.write_text("no_such_key = 1\n")
    r = subprocess.run([f"{BIN}/rdns-api", "-c", str(unknown), "--check-config"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert r.returncode == 2 and "no_such_key" in r.stderr
    # values that parse but are wrong: the HTTP layer's own checks, not first at start
    for text, key in (("api_proxy_protocol = maybe\n", "api_proxy_protocol"),
                      ("api_trusted_proxies = 10.0.0.1/8\n", "api_trusted_proxies"),
                      ("api_proxy_protocol = on\n", "api_proxy_protocol"),
                      ("api_listen = 127.0.0.1\n", "api_listen")):
        f = tmp_path / "wrong.conf"
        f.write_text(text)
        r = subprocess.run([f"{BIN}/rdns-api", "-c", str(f), "--check-config"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert r.returncode == 2 and key in r.stderr, (text, r.returncode, r.stderr)



# A bad value of each kind, refused by conf_load (core/conf.c) in both daemons' --check-config.
_SECRET = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="
BAD_VALUES = [
    ("api_listen = 127.0.0.1\n", "api_listen"),
    ("dns_listen = 192.0.2.1\n", "dns_listen"),
    ("resolvers = 192.0.2.1:99999\n", "resolvers"),
    ("notify = 224.0.0.1\n", "notify"),
    ("notify = 192.0.2.1@nokey\n", "notify"),
    ("notify_source = 192.0.2.1:53\n", "notify_source"),
    ("transfer_allow = 10.0.0.1/8\n", "transfer_allow"),
    ("query_allow = everyone\n", "query_allow"),
    ("api_trusted_proxies = 10.0.0.1/8\n", "api_trusted_proxies"),
    (f"tsig_keys = k:hmac-md5:{_SECRET}\n", "tsig_keys"),
    ("tsig_keys = k:hmac-sha256:c2VjcmV0\n", "tsig_keys"),
    (f"tsig_keys = k:hmac-sha256:{_SECRET}\ntransfer_tsig_key = other\n", "transfer_tsig_key"),
    ("api_proxy_protocol = maybe\n", "api_proxy_protocol"),
    ("log_level = loud\n", "log_level"),
    ("zone_dir =\n", "zone_dir"),
    ("special_names = a..b\n", "special_names"),
    ("denied_domains = ex_ample.com\n", "denied_domains"),
    ("api_tls_cert = /nonexistent/cert.pem\napi_tls_key = /nonexistent/key.pem\n", "api_tls_cert"),
    ("api_tls_key = /\n", "api_tls_key"),
    ("api_tls_priority =\n", "api_tls_priority"),
]


@pytest.mark.parametrize("daemon", ["rdns-api", "rdns-zonegen"])
@pytest.mark.parametrize("text,key", BAD_VALUES)
def test_check_config_refuses_bad_values(tmp_path, daemon, text, key):
    f = tmp_path / "bad.conf"
    f.write_text(text)
    r = subprocess.run([f"{BIN}/{daemon}", "-c", str(f), "--check-config"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert r.returncode == 2 and f"configuration: {key}: " in r.stderr, (text, r.returncode, r.stderr)
    assert _SECRET not in r.stderr


@pytest.mark.parametrize("daemon", ["rdns-api", "rdns-zonegen"])
def test_check_config_refuses_bad_environment(tmp_path, daemon):
    env = dict(os.environ, RDNS_NOTIFY="192.0.2.1:0")
    r = subprocess.run([f"{BIN}/{daemon}", "--check-config"], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert r.returncode == 2 and "RDNS_NOTIFY: notify: '192.0.2.1:0'" in r.stderr, r.stderr


def test_every_config_key_is_documented():
    """Every key of the option table appears in deploy/rdns.conf and in the README."""
    import os
    import re
    import harness
    src = open(os.path.join(harness.ROOT, "core/conf.c")).read()
    keys = re.findall(r'^\s*\{"([a-z_]+)", CONF_', src, re.M)
    assert len(keys) >= 20
    sample = open(os.path.join(harness.ROOT, "deploy/rdns.conf")).read()
    readme = open(os.path.join(harness.ROOT, "README.md")).read()
    for k in keys:
        assert re.search(rf"^#?\s*{k}\s*=", sample, re.M), f"{k} missing from deploy/rdns.conf"
        assert f"`{k}`" in readme, f"{k} missing from README.md"
    # And the help output lists them.
    out = subprocess.run([f"{harness.BIN}/rdns-api", "--help"], stdout=subprocess.PIPE, text=True).stdout
    out += subprocess.run([f"{harness.BIN}/rdns-zonegen", "--help"], stdout=subprocess.PIPE, text=True).stdout
    out += subprocess.run([f"{harness.BIN}/rdns-verifier", "--help"], stdout=subprocess.PIPE, text=True).stdout
    for k in keys:
        assert k in out, f"{k} missing from --help"


def _task_slices(pid):
    """se.slice (ns) of every thread of a process, from /proc/<pid>/task/<tid>/sched."""
    import os
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/sched") as f:
            for line in f:
                if line.startswith("se.slice"):
                    out[int(tid)] = int(line.split(":")[1])
    return out


def test_api_threads_ask_for_a_short_time_slice(api, api_factory):
    """api_sched_slice_us (default 100): every thread of rdns-api (workers, acceptor) runs
    with that slice; 0 leaves the kernel's default (this test process's own slice)."""
    import os
    try:
        with open("/proc/self/sched") as f:
            mine = [int(line.split(":")[1]) for line in f if line.startswith("se.slice")]
    except OSError:
        mine = []
    release = tuple(int(x) for x in os.uname().release.split("-")[0].split(".")[:2])
    if not mine or release < (6, 12):
        pytest.skip(f"kernel {os.uname().release}: no per-task slice (EEVDF custom slices are Linux 6.12+)")
    slices = _task_slices(api.proc.pid)
    assert len(slices) >= 5, slices  # main, acceptor, 4 workers (harness: api_threads 4) ...
    assert set(slices.values()) == {100_000}, slices
    plain = api_factory({"api_sched_slice_us": 0})
    assert set(_task_slices(plain.proc.pid).values()) == {mine[0]}


def test_environment_overrides_file(api, tmp_path):
    import harness
    conf = tmp_path / "c.conf"
    conf.write_text("api_threads = 3\n")
    env = dict(__import__("os").environ, RDNS_API_THREADS="7")
    r = subprocess.run([f"{harness.BIN}/rdns-api", "-c", str(conf), "--check-config"], stdout=subprocess.PIPE,
                       text=True, env=env)
    assert "api_threads = 7" in r.stdout


def test_openapi_document_is_valid_yaml_with_well_formed_responses(anon):
    import yaml
    r = anon.get("/v1/openapi.yaml")
    assert r.status_code == 200
    doc = yaml.safe_load(r.text)
    assert doc["openapi"].startswith("3.")
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            if method == "parameters":
                continue
            for code, resp in op["responses"].items():
                assert isinstance(resp, dict) and "description" in resp, (path, method, code)
                assert set(resp) <= {"description", "content", "headers"}, (path, method, code, resp)
