"""rdns-verifier (issue 18): PUTs with "wait_for_forward" stored as waiting_forward and
applied by the worker once forward DNS confirms them (and then served by rdns-zonegen),
expired when it never does, superseded by newer requests, cancelled by their owner; two
workers never apply one request twice; a worker killed mid-job leaves its job to another
after the lease; the worker survives a PostgreSQL restart; the event feed."""
import signal
import socket
import time

import dns.message
import dns.query
import dns.rdatatype
import psycopg2
import pytest

from conftest import Client
from harness import Verifier, Zonegen, wait_until

FWD = "worker.example.com"  # this module's forward zone in the session's knotd
V4_ZONE = "2.0.192.in-addr.arpa"
NET = "192.0.2.0/26"


class Fwd:
    """The module's forward zone: records added and removed, served by knotd."""

    def __init__(self, knot):
        self.knot = knot
        self.serial = 1
        self.records = {}  # label -> address
        self.publish()

    def publish(self):
        self.serial += 1
        text = (f"$ORIGIN {FWD}.\n$TTL 1\n@ SOA ns1 hostmaster {self.serial} 3600 600 86400 1\n@ NS ns1\n"
                "ns1 A 192.0.2.53\n" + "".join(f"{k} A {v}\n" for k, v in sorted(self.records.items())))
        self.knot.set_zone(FWD, text)
        wait_until(self._serving, timeout=10, what=f"knotd serving {FWD} serial {self.serial}")

    def _serving(self):
        ans = dns.query.udp(dns.message.make_query(FWD + ".", "SOA"), "127.0.0.1", port=self.knot.port, timeout=1)
        return any(rr.serial == self.serial for rrset in ans.answer for rr in rrset if rrset.rdtype == dns.rdatatype.SOA)

    def add(self, label, addr):
        self.records[label] = addr
        self.publish()


def sql(dburl, query, args=()):
    conn = psycopg2.connect(dburl)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


class Env:
    pass


@pytest.fixture(scope="module")
def env(api_factory, dburl, knot, pg):
    e = Env()
    e.pg, e.dburl, e.knot = pg, dburl, knot
    e.fwd = Fwd(knot)
    # Short waits: the worker's first try 300 ms after the PUT, expiry after 60 s by default.
    e.api = api_factory({"verify_retry_min_ms": 300, "verify_wait_max": 60})
    e.staff = Client(e.api.base, e.api.add_staff("worker-staff"))
    r = e.staff.post("/v1/zones", json={"prefix": "192.0.2.0/24", "nameservers": ["ns1.vps.example.net"],
                                        "soa_mname": "ns1.vps.example.net",
                                        "soa_rname": "hostmaster.vps.example.net"})
    assert r.status_code == 201, r.text
    e.accounts = {}
    for name, prefix in (("cust-a", NET), ("cust-b", "192.0.2.64/26")):
        r = e.staff.post("/v1/accounts", json={"name": name, "role": "customer"})
        assert r.status_code == 201, r.text
        acct = r.json()["id"]
        r = e.staff.post(f"/v1/accounts/{acct}/tokens", json={})
        assert r.status_code == 201, r.text
        tok = r.json()["token"]
        r = e.staff.post("/v1/allocations", json={"account_id": acct, "prefix": prefix})
        assert r.status_code == 201, r.text
        e.accounts[name] = (acct, Client(e.api.base, tok))
    e.a = e.accounts["cust-a"][1]
    e.b = e.accounts["cust-b"][1]
    e.zg = Zonegen(dburl).start().wait_leader()
    e.workers = []

    def worker(extra=None):
        conf = {"resolvers": f"127.0.0.1:{knot.port}"}
        conf.update(extra or {})
        w = Verifier(dburl, conf).start()
        e.workers.append(w)
        return w
    e.worker = worker
    yield e
    errors = []
    for w in e.workers:
        try:
            if w.proc:
                w.stop()
        except AssertionError as ex:
            errors.append(str(ex))
        w.close()
    e.zg.stop()
    e.zg.close()
    assert not errors, "\n".join(errors)


def put_wait(client, ip, host, **kw):
    body = {"hostname": host, "wait_for_forward": True}
    body.update(kw)
    return client.put(f"/v1/ptr/{ip}", json=body)


def request(env, rid):
    r = env.staff.get(f"/v1/requests/{rid}")
    assert r.status_code == 200, r.text
    return r.json()


def state_of(env, rid):
    return request(env, rid)["state"]


def served_ptr(env, ip):
    rev = ".".join(reversed(ip.split("."))) + ".in-addr.arpa."
    ans = dns.query.udp(dns.message.make_query(rev, "PTR"), "127.0.0.1", port=env.zg.port, timeout=2)
    return [str(rr) for rrset in ans.answer for rr in rrset if rrset.rdtype == dns.rdatatype.PTR]


def test_help_and_check_config(env, tmp_path):
    w = Verifier(env.dburl)
    try:
        out = w.run("--help").stdout
        for k in ("verifier_threads", "verifier_lease_ms", "verify_wait_max", "verify_retry_min_ms",
                  "verify_retry_max_ms", "resolvers", "database_url", "verify_deadline_ms"):
            assert k in out, k
        assert "api_listen" not in out and "dns_listen" not in out
        r = w.run("--check-config")
        assert "configuration ok" in r.stdout and "verifier_lease_ms = 4000" in r.stdout
        bad = tmp_path / "bad.conf"
        bad.write_text("verifier_lease_ms = 2000\nverify_deadline_ms = 3000\n")
        r = w.run("-c", str(bad), "--check-config", check=False)
        assert r.returncode == 2 and "verifier_lease_ms" in r.stderr, r.stderr
    finally:
        w.close()


def test_syntax_and_policy_failures_are_never_queued(env):
    r = put_wait(env.a, "192.0.2.2", "bad..name")
    assert r.status_code == 422, r.text
    r = put_wait(env.a, "192.0.2.2", "mail.localhost")
    assert r.status_code == 422, r.text
    assert sql(env.dburl, "SELECT count(*) FROM ptr_requests WHERE state = 'waiting_forward' AND ip = '192.0.2.2'") \
        == [(0,)]
    # Without wait_for_forward a failure that time could fix is still a 422, as before.
    r = env.a.put("/v1/ptr/192.0.2.2", json={"hostname": f"nothere.{FWD}"})
    assert r.status_code == 422, r.text


def test_a_record_added_later_is_applied_by_the_worker_and_served(env):
    w = env.worker()
    ip, host = "192.0.2.5", f"late.{FWD}"
    r = put_wait(env.a, ip, host)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["state"] == "waiting_forward" and body["hostname"] == host
    fwd = [c for c in body["checks"] if c["id"] == "forward"][0]
    assert fwd["status"] == "fail" and fwd["next_step"], fwd
    rid = body["id"]
    assert env.a.get(f"/v1/ptr/{ip}").json()["source"] == "none"
    time.sleep(5)
    assert state_of(env, rid) == "waiting_forward"  # tried (and failed) meanwhile
    assert sql(env.dburl, "SELECT tries > 1 FROM verify_jobs WHERE request_id = %s", (rid,)) == [(True,)]
    env.fwd.add("late", ip)
    wait_until(lambda: state_of(env, rid) == "applied", timeout=15, what="applied by the worker")
    rec = env.a.get(f"/v1/ptr/{ip}").json()
    assert rec["hostname"] == host and rec["source"] == "custom" and rec["verified_at"]
    req = request(env, rid)
    assert [c for c in req["checks"] if c["id"] == "forward"][0]["status"] == "pass"
    audit = sql(env.dburl, "SELECT action, actor_name, new_value FROM audit_log WHERE request_id = %s ORDER BY id",
                (rid,))
    assert audit[0][0] == "request.wait"
    sets = [a for a in audit if a[0] == "ptr.set"]
    assert len(sets) == 1 and sets[0][1].startswith("rdns-verifier ") and sets[0][2] == host
    wait_until(lambda: served_ptr(env, ip) == [host + "."], timeout=10, what="served by rdns-zonegen")
    assert sql(env.dburl, "SELECT count(*) FROM verify_jobs WHERE request_id = %s", (rid,)) == [(0,)]
    # The event feed tells the customer; the other customer sees nothing of it.
    ev = env.a.get("/v1/events").json()
    assert any(e["kind"] == "request.applied" and e["request_id"] == rid and e["ip"] == ip for e in ev["items"])
    assert not any(e["request_id"] == rid for e in env.b.get("/v1/events").json()["items"])
    w.stop()


def test_never_confirmed_expires_with_its_last_findings(env, api_factory):
    api = api_factory({"verify_retry_min_ms": 200, "verify_wait_max": 3})
    acct, _ = env.accounts["cust-a"]
    r = env.staff.post(f"/v1/accounts/{acct}/tokens", json={})
    c = Client(api.base, r.json()["token"])
    w = env.worker()
    r = put_wait(c, "192.0.2.6", f"never.{FWD}")
    assert r.status_code == 202, r.text
    rid = r.json()["id"]
    wait_until(lambda: state_of(env, rid) == "expired", timeout=20, what="expired")
    req = request(env, rid)
    assert [x for x in req["checks"] if x["id"] == "forward"][0]["status"] == "fail"
    assert env.a.get("/v1/ptr/192.0.2.6").json()["source"] == "none"
    assert sql(env.dburl, "SELECT actor_name FROM audit_log WHERE request_id = %s AND action = 'request.expire'",
               (rid,))[0][0].startswith("rdns-verifier ")
    ev = [e for e in env.a.get("/v1/events?limit=1000").json()["items"] if e["request_id"] == rid]
    assert [e["kind"] for e in ev] == ["request.expired"]
    w.stop()


def test_newer_request_supersedes_and_cancel(env):
    # No worker runs: the jobs stay waiting.
    r1 = put_wait(env.a, "192.0.2.7", f"first.{FWD}")
    assert r1.status_code == 202, r1.text
    r2 = put_wait(env.a, "192.0.2.7", f"second.{FWD}")
    assert r2.status_code == 202, r2.text
    id1, id2 = r1.json()["id"], r2.json()["id"]
    assert state_of(env, id1) == "superseded" and state_of(env, id2) == "waiting_forward"
    assert sql(env.dburl, "SELECT request_id FROM verify_jobs WHERE request_id IN (%s, %s)", (id1, id2)) == [(id2,)]
    # A passing PUT supersedes too.
    env.fwd.add("now7", "192.0.2.7")
    r = env.a.put("/v1/ptr/192.0.2.7", json={"hostname": f"now7.{FWD}"})
    assert r.status_code == 200, r.text
    assert state_of(env, id2) == "superseded"
    assert sql(env.dburl, "SELECT count(*) FROM verify_jobs WHERE request_id = %s", (id2,)) == [(0,)]
    # Cancel: the owner or staff, nobody else.
    r = put_wait(env.a, "192.0.2.8", f"cancelme.{FWD}")
    rid = r.json()["id"]
    assert env.b.delete(f"/v1/requests/{rid}").status_code == 404
    r = env.a.delete(f"/v1/requests/{rid}")
    assert r.status_code == 200 and r.json()["state"] == "cancelled", r.text
    assert sql(env.dburl, "SELECT count(*) FROM verify_jobs WHERE request_id = %s", (rid,)) == [(0,)]
    r = env.a.delete(f"/v1/requests/{rid}")
    assert r.status_code == 409 and r.headers["Content-Type"] == "application/problem+json", r.text
    r = put_wait(env.a, "192.0.2.8", f"cancelme2.{FWD}")
    assert env.staff.delete(f"/v1/requests/{r.json()['id']}").json()["state"] == "cancelled"
    assert env.a.delete("/v1/requests/999999999").status_code == 404
    assert env.a.get("/v1/requests?state=cancelled").json()["items"]


def test_allocation_deleted_supersedes_a_waiting_request(env):
    r = env.staff.post("/v1/accounts", json={"name": "cust-gone", "role": "customer"})
    acct = r.json()["id"]
    tok = env.staff.post(f"/v1/accounts/{acct}/tokens", json={}).json()["token"]
    alloc = env.staff.post("/v1/allocations", json={"account_id": acct, "prefix": "192.0.2.128/28"}).json()["id"]
    c = Client(env.api.base, tok)
    r = put_wait(c, "192.0.2.130", f"never130.{FWD}")
    assert r.status_code == 202, r.text
    rid = r.json()["id"]
    assert env.staff.delete(f"/v1/allocations/{alloc}").status_code == 204
    assert state_of(env, rid) == "superseded"
    assert sql(env.dburl, "SELECT count(*) FROM verify_jobs WHERE request_id = %s", (rid,)) == [(0,)]


def test_two_workers_never_apply_a_request_twice(env):
    n = 24
    ids = {}
    for i in range(n):
        ip = f"192.0.2.{20 + i}"
        r = put_wait(env.a, ip, f"pair{i}.{FWD}")
        assert r.status_code == 202, r.text
        ids[ip] = r.json()["id"]
    w1 = env.worker({"verifier_threads": 4, "verifier_poll_ms": 10, "verify_retry_min_ms": 50,
                     "verify_retry_max_ms": 100})
    w2 = env.worker({"verifier_threads": 4, "verifier_poll_ms": 10, "verify_retry_min_ms": 50,
                     "verify_retry_max_ms": 100})
    time.sleep(1)
    for i in range(n):
        env.fwd.records[f"pair{i}"] = f"192.0.2.{20 + i}"
    env.fwd.publish()
    wait_until(lambda: all(state_of(env, rid) == "applied" for rid in ids.values()), timeout=30,
               what="all applied")
    rows = sql(env.dburl, "SELECT request_id, count(*), min(actor_name) FROM audit_log WHERE action = 'ptr.set'"
               " AND request_id = ANY(%s) GROUP BY request_id", (list(ids.values()),))
    assert len(rows) == n and all(c == 1 for _, c, _ in rows), rows
    ev = sql(env.dburl, "SELECT request_id, count(*) FROM events WHERE kind = 'request.applied'"
             " AND request_id = ANY(%s) GROUP BY request_id", (list(ids.values()),))
    assert len(ev) == n and all(c == 1 for _, c in ev), ev
    # Both workers took part (each claims one job at a time, 4 threads each).
    actors = {a for _, _, a in rows}
    assert len(actors) == 2, actors
    w1.stop()
    w2.stop()


def test_worker_killed_mid_job_leaves_the_job_to_another(env):
    # A resolver that never answers keeps the first worker inside its verification.
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    try:
        r = put_wait(env.a, "192.0.2.51", f"killed2.{FWD}")
        assert r.status_code == 202, r.text
        rid = r.json()["id"]
        stuck = env.worker({"resolvers": f"127.0.0.1:{silent.getsockname()[1]}", "verify_deadline_ms": 3000,
                            "verify_timeout_ms": 3000, "verify_retries": 0, "verifier_lease_ms": 4000,
                            "verifier_threads": 1})
        wait_until(lambda: sql(env.dburl, "SELECT claimed_by FROM verify_jobs WHERE request_id = %s"
                               " AND claimed_until > now()", (rid,)), timeout=10, what="claimed")
        claimed_by, claim = sql(env.dburl, "SELECT claimed_by, claim FROM verify_jobs WHERE request_id = %s",
                                (rid,))[0]
        assert claimed_by == f"rdns-verifier {socket.gethostname()}:{stuck.proc.pid}"
        env.fwd.add("killed2", "192.0.2.51")
        stuck.stop(signal.SIGKILL)
        t0 = time.monotonic()
        w = env.worker()
        wait_until(lambda: state_of(env, rid) == "applied", timeout=20, what="applied after the lease")
        # Not before the killed worker's lease ran out (4 s from its claim).
        assert time.monotonic() - t0 > 1.0
        rows = sql(env.dburl, "SELECT actor_name FROM audit_log WHERE action = 'ptr.set' AND request_id = %s",
                   (rid,))
        assert len(rows) == 1 and rows[0][0] != claimed_by and rows[0][0].startswith("rdns-verifier "), rows
        w.stop()
    finally:
        silent.close()


def test_worker_survives_a_postgresql_restart(env):
    w = env.worker()
    env.pg.stop()
    time.sleep(1.5)
    assert w.proc.poll() is None
    env.pg.start()
    r = put_wait(env.a, "192.0.2.52", f"restart.{FWD}")
    assert r.status_code == 202, r.text  # the API reconnects by itself
    rid = r.json()["id"]
    env.fwd.add("restart", "192.0.2.52")
    wait_until(lambda: state_of(env, rid) == "applied", timeout=20, what="applied after the restart")
    assert "database unavailable" in w.log() and "reachable again" in w.log()
    w.stop()


def test_event_feed_cursor_and_staff(env):
    # Staff see every account's events; the cursor pages oldest first without gaps.
    allev = []
    after = 0
    for _ in range(100):
        page = env.staff.get(f"/v1/events?after={after}&limit=2").json()
        allev += page["items"]
        assert page["next"] >= after
        after = page["next"]
        if not page["more"]:
            break
    ids = [e["id"] for e in allev]
    assert ids == sorted(ids) and len(ids) == len(set(ids)) and len(ids) >= 3
    assert {e["kind"] for e in allev} >= {"request.applied", "request.expired"}
    # Nothing new: the same cursor comes back.
    page = env.staff.get(f"/v1/events?after={after}").json()
    assert page["items"] == [] and page["next"] == after and page["more"] is False
    # A rejected request is an event for its requester.
    r = env.b.put("/v1/ptr/192.0.2.70", json={"hostname": f"nope.{FWD}", "exception_reason": "please"})
    assert r.status_code == 202, r.text
    rid = r.json()["id"]
    assert env.staff.post(f"/v1/requests/{rid}/reject", json={"note": "no"}).status_code == 200
    ev = env.b.get(f"/v1/events?after={after}").json()["items"]
    assert [(e["kind"], e["request_id"]) for e in ev] == [("request.rejected", rid)]
    assert env.a.get(f"/v1/events?after={after}").json()["items"] == []
    r = env.a.get("/v1/events?after=x")
    assert r.status_code == 400 and r.headers["Content-Type"] == "application/problem+json"


# ---- continuous re-verification -------------------------------------------------------


def checks_row(env, ip):
    rows = sql(env.dburl, "SELECT state, checked_at IS NOT NULL, drifted_since IS NOT NULL, finding"
               " FROM ptr_checks WHERE ip = %s", (ip,))
    return rows[0] if rows else None


def test_reverify_drift_is_noticed_audited_listed_and_cleared(env):
    ip, host = "192.0.2.55", f"drift.{FWD}"
    env.fwd.add("drift", ip)
    r = env.a.put(f"/v1/ptr/{ip}", json={"hostname": host})
    assert r.status_code == 200, r.text
    w = env.worker({"reverify_interval": 2, "reverify_qps": 0})
    wait_until(lambda: (checks_row(env, ip) or [None, False])[1], timeout=15, what="first re-verification")
    assert checks_row(env, ip)[0] == "verified"
    assert env.a.get("/v1/ptr?state=drifted").json()["items"] == []
    del env.fwd.records["drift"]
    env.fwd.publish()
    wait_until(lambda: (checks_row(env, ip) or [None])[0] == "drifted", timeout=15, what="drifted")
    state, _, since, finding = checks_row(env, ip)
    assert since and finding["id"] == "forward" and finding["status"] == "fail"
    [item] = env.a.get("/v1/ptr?state=drifted").json()["items"]
    assert item["ip"] == ip and item["state"] == "drifted" and item["drifted_since"] and item["checked_at"]
    assert item["finding"]["id"] == "forward"
    assert env.b.get("/v1/ptr?state=drifted").json()["items"] == []  # not theirs
    assert [x["ip"] for x in env.staff.get("/v1/ptr?state=drifted").json()["items"]] == [ip]
    assert env.a.get("/v1/ptr?state=bogus").status_code == 400
    audit = sql(env.dburl, "SELECT action, actor_name FROM audit_log WHERE ip = %s AND action LIKE 'ptr.%%'"
                " ORDER BY id", (ip,))
    assert audit[-1][0] == "ptr.drift" and audit[-1][1].startswith("rdns-verifier ")
    assert [a for a, _ in audit].count("ptr.drift") == 1  # on the change only, not per check
    # keep (the default): the record stays.
    time.sleep(3)
    assert env.a.get(f"/v1/ptr/{ip}").json()["hostname"] == host
    assert [a for a, _ in sql(env.dburl, "SELECT action, 1 FROM audit_log WHERE ip = %s", (ip,))].count(
        "ptr.drift") == 1
    # The A record comes back: verified again, audited.
    env.fwd.add("drift", ip)
    wait_until(lambda: checks_row(env, ip)[0] == "verified", timeout=15, what="verified again")
    assert sql(env.dburl, "SELECT count(*) FROM audit_log WHERE ip = %s AND action = 'ptr.verify'", (ip,)) == [(1,)]
    kinds = [e["kind"] for e in env.a.get("/v1/events?limit=1000").json()["items"] if e["ip"] == ip]
    assert kinds == ["ptr.drifted", "ptr.verified"], kinds
    assert env.a.get("/v1/ptr?state=drifted").json()["items"] == []
    w.stop()


def test_reverify_reset_after_grace(env):
    ip, host = "192.0.2.56", f"gone.{FWD}"
    env.fwd.add("gone", ip)
    assert env.a.put(f"/v1/ptr/{ip}", json={"hostname": host}).status_code == 200
    w = env.worker({"reverify_interval": 2, "reverify_qps": 0, "drift_action": "reset", "drift_grace": 3})
    wait_until(lambda: (checks_row(env, ip) or [None, False])[1], timeout=15, what="first re-verification")
    del env.fwd.records["gone"]
    env.fwd.publish()
    wait_until(lambda: (checks_row(env, ip) or [None])[0] == "drifted", timeout=15, what="drifted")
    t_drift = time.monotonic()
    assert env.a.get(f"/v1/ptr/{ip}").json()["source"] == "custom"  # within the grace
    wait_until(lambda: env.a.get(f"/v1/ptr/{ip}").json()["source"] == "none", timeout=20, what="reset")
    assert time.monotonic() - t_drift >= 2.0  # not before the grace (3 s from the drift)
    [(actor, old, new)] = sql(env.dburl, "SELECT actor_name, old_value, new_value FROM audit_log"
                              " WHERE ip = %s AND action = 'ptr.reset'", (ip,))
    assert actor.startswith("rdns-verifier ") and old == host and new is None
    assert checks_row(env, ip) is None
    kinds = [e["kind"] for e in env.a.get("/v1/events?limit=1000").json()["items"] if e["ip"] == ip]
    assert kinds == ["ptr.drifted", "ptr.reset"], kinds
    # The hidden primary stops serving it.
    wait_until(lambda: served_ptr(env, ip) == [], timeout=10, what="no PTR served")
    w.stop()


def test_reverify_budget_holds_across_two_workers(env):
    """reverify_qps is one budget for every instance: two workers with four threads in all
    re-verify at reverify_qps, not at twice it."""
    n, qps = 400, 25
    # Rows of records that are gone: each is verified (the budget is spent on it) and then
    # dropped at its finish, so the rows left count what is still to do.
    sql(env.dburl, "INSERT INTO ptr_checks (ip, hostname, due_at) SELECT ('10.9.' || (i / 256) || '.' || (i %% 256))::inet,"
        " 'bud' || i || '.' || %s, now() + interval '1 hour' FROM generate_series(0, %s - 1) i", (FWD, n))
    w1 = env.worker({"reverify_interval": 3600, "reverify_qps": qps, "verifier_poll_ms": 50})
    w2 = env.worker({"reverify_interval": 3600, "reverify_qps": qps, "verifier_poll_ms": 50})
    left = "SELECT count(*), now() FROM ptr_checks WHERE ip <<= '10.9.0.0/16'"
    sql(env.dburl, "UPDATE ptr_checks SET due_at = now() WHERE ip <<= '10.9.0.0/16'")
    time.sleep(2.0)  # past the first second's burst
    c0, t0 = sql(env.dburl, left)[0]
    time.sleep(6.0)
    c1, t1 = sql(env.dburl, left)[0]
    rate = (c0 - c1) / (t1 - t0).total_seconds()
    print(f"reverify budget: {rate:.2f} re-verifications/s with reverify_qps = {qps}, two workers")
    assert c1 > 0, "ran out of records: the measurement says nothing"
    assert abs(rate - qps) <= 0.1 * qps, f"{rate:.1f} re-verifications/s with reverify_qps = {qps}"
    gone = sql(env.dburl, "SELECT count(*) FROM audit_log WHERE action LIKE 'ptr.%%' AND ip <<= '10.9.0.0/16'")
    assert gone == [(0,)]  # a record that is gone is not a drift
    w1.stop()
    w2.stop()
    sql(env.dburl, "DELETE FROM ptr_checks WHERE ip <<= '10.9.0.0/16'")


def test_waiting_request_whose_block_is_delegated_meanwhile_ends_delegated(env):
    """A PTR set waiting for forward DNS whose block the customer delegates before forward
    DNS confirms it: once it passes, the worker does not publish it inside the delegation
    (rdns_ptr_apply refuses it under its lock) and ends it 'delegated', audited, with an
    event that names the delegation."""
    r = env.staff.post("/v1/accounts", json={"name": "cust-deleg", "role": "customer"})
    acct = r.json()["id"]
    tok = env.staff.post(f"/v1/accounts/{acct}/tokens", json={}).json()["token"]
    assert env.staff.post("/v1/allocations", json={"account_id": acct, "prefix": "192.0.2.160/27"}).status_code == 201
    c = Client(env.api.base, tok)
    ip, host = "192.0.2.170", f"deleg170.{FWD}"
    r = put_wait(c, ip, host)
    assert r.status_code == 202, r.text
    rid = r.json()["id"]
    # forced: nobody serves the child zone here
    r = env.staff.put("/v1/delegations/192.0.2.160/27", json={"nameservers": ["ns1.cust-deleg.example.net"],
                                                              "force": True})
    assert r.status_code == 201, r.text
    w = env.worker()
    try:
        env.fwd.add("deleg170", ip)
        wait_until(lambda: state_of(env, rid) != "waiting_forward", timeout=15, what="the worker's verdict")
        assert state_of(env, rid) == "delegated"
        assert sql(env.dburl, "SELECT count(*) FROM ptr_records WHERE ip = %s", (ip,)) == [(0,)]
        assert sql(env.dburl, "SELECT count(*) FROM verify_jobs WHERE request_id = %s", (rid,)) == [(0,)]
        audit = sql(env.dburl, "SELECT action, detail->>'delegation' FROM audit_log WHERE request_id = %s"
                    " ORDER BY id", (rid,))
        assert ("request.delegated", "192.0.2.160/27 ns1.cust-deleg.example.net") in audit, audit
        assert not any(a[0] == "ptr.set" for a in audit), audit
        ev = [e for e in c.get("/v1/events").json()["items"] if e["request_id"] == rid]
        assert [e["kind"] for e in ev] == ["request.delegated"], ev
        assert ev[0]["detail"]["delegation"] == "192.0.2.160/27"
        assert ev[0]["detail"]["nameservers"] == "ns1.cust-deleg.example.net" and ev[0]["detail"]["hostname"] == host
        assert served_ptr(env, ip) == []
    finally:
        w.stop()
        env.staff.delete("/v1/delegations/192.0.2.160/27")


def test_batch_supersedes_a_waiting_request(env):
    """A bulk change of an address supersedes its request waiting for forward DNS, as a
    single PUT does: else the worker would apply the older wish over the batch's later."""
    ip = "192.0.2.40"
    r = put_wait(env.a, ip, f"batchwait.{FWD}")
    assert r.status_code == 202, r.text
    rid = r.json()["id"]
    r = env.a.post("/v1/ptr:batch", json={"items": [{"ip": ip, "reset": True}]})
    assert r.status_code == 200 and r.json()["items"][0]["status"] == 200, r.text
    assert state_of(env, rid) == "superseded"
    assert sql(env.dburl, "SELECT count(*) FROM verify_jobs WHERE request_id = %s", (rid,)) == [(0,)]
