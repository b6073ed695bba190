"""Bulk PTR changes (issue 16): POST /v1/ptr:batch with items or a generated prefix, each
item verified against a real knotd and answered in its place (applied, refused with its
findings, not yours, delegated, malformed, a repeat), the passing ones applied in one
transaction and rendered, atomic batches all or none, the rate limit counted in items, and
bodies of 1,000 items past the 16 KiB limit of the other routes."""
import os

import pytest

from conftest import Client, new_account, problem, sql
from harness import Knot, Zonegen, wait_until

Z4 = "100.51.198.in-addr.arpa"
FWD = "batch.example.net"


def fwd_zone():
    lines = [f"$ORIGIN {FWD}.", "$TTL 60", "@ SOA ns1 hostmaster 1 3600 900 86400 60", "@ NS ns1",
             "ns1 A 127.0.0.1", "wrong A 203.0.113.9"]
    lines += [f"host-{d} A 198.51.100.{d}" for d in range(256)]
    lines += [f"h{d}-v6 AAAA 2001:db8:300::{d:x}" for d in range(1, 1200)]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def env(api_factory, staff, dburl, db):
    fwd = Knot()
    fwd.set_zone(FWD, fwd_zone())
    api = api_factory({"resolvers": f"127.0.0.1:{fwd.port}", "verify_timeout_ms": 500, "verify_retries": 1})
    stf = Client(api.base, staff.s.headers["Authorization"].split()[1])
    zg = Zonegen(dburl)
    zg.start().wait_leader()
    cust, other = new_account(stf, "batch-customer"), new_account(stf, "batch-other")
    for acct, p in ((cust, "198.51.100.0/25"), (cust, "198.51.100.192/26"), (other, "198.51.100.128/26"),
                    (cust, "2001:db8:300::/52")):
        r = stf.post("/v1/allocations", json={"account_id": acct["id"], "prefix": p})
        assert r.status_code == 201, r.text
    for body in ({"prefix": "198.51.100.0/24", "default_ptr": "pool-{d}.example.net"}, {"prefix": "2001:db8:300::/48"}):
        r = stf.post("/v1/zones", json=dict(body, nameservers=["ns1.example.net"]))
        assert r.status_code == 201, r.text
    # a delegated block of the customer's (published by staff, lame on purpose)
    r = stf.put("/v1/delegations/198.51.100.192/26", json={"nameservers": ["ns9.example.net"], "force": True})
    assert r.status_code == 201, r.text

    class Env:
        pass
    e = Env()
    e.api, e.staff, e.zg, e.db, e.fwd, e.dburl = api, stf, zg, db, fwd, dburl
    e.cust_id = cust["id"]
    e.customer = Client(api.base, stf.post(f"/v1/accounts/{cust['id']}/tokens").json()["token"])
    yield e
    try:
        zg.stop()
    finally:
        zg.close()
        fwd.close()


def hostname_of(db, ip):
    rows = sql(db, "SELECT hostname FROM ptr_records WHERE ip = %s", ip)
    return rows[0][0] if rows else None


def test_items_answered_in_their_place(env):
    c = env.customer
    r = env.staff.put("/v1/ptr/198.51.100.5", json={"hostname": "old.example.net", "force": True})
    assert r.status_code == 200, r.text
    items = [
        {"ip": "198.51.100.1", "hostname": f"HOST-1.{FWD}."},       # 200, normalised
        {"ip": "198.51.100.2", "hostname": f"wrong.{FWD}"},         # 422: points elsewhere
        {"ip": "198.51.100.130", "hostname": f"host-130.{FWD}"},    # 404: the other customer's
        {"ip": "198.51.100.200", "hostname": f"host-200.{FWD}"},    # 409: delegated
        {"ip": "not-an-ip", "hostname": f"host-3.{FWD}"},           # 400
        {"ip": "198.51.100.3", "hostname": f"host-3.{FWD}"},        # 200
        {"ip": "198.51.100.003", "hostname": f"host-3.{FWD}"},      # 400: not an address either
        {"ip": "198.51.100.1", "hostname": f"host-1.{FWD}"},        # 400: repeats item 0
        {"ip": "198.51.100.5", "reset": True},                      # 200: reset
        {"ip": "198.51.100.6", "hostname": "bad name"},             # 422: syntax
    ]
    r = c.post("/v1/ptr:batch", json={"items": items})
    assert r.status_code == 200, r.text
    body = r.json()
    got = [(x["ip"], x["status"]) for x in body["items"]]
    assert [s for _, s in got] == [200, 422, 404, 409, 400, 200, 400, 400, 200, 422], got
    assert body["applied"] == 3 and body["failed"] == 7 and body["atomic"] is False
    first = body["items"][0]
    assert first["hostname"] == f"host-1.{FWD}" and first["request_id"] > 0 and first["verified_at"]
    assert [ch["id"] for ch in first["checks"]] == ["syntax", "policy", "forward", "generic"]
    wrong = body["items"][1]
    assert any(ch["id"] == "forward" and ch["status"] == "fail" for ch in wrong["checks"])
    assert "delegated" in body["items"][3]["error"] and "198.51.100.192/26" in body["items"][3]["error"]
    assert "repeats item 0" in body["items"][7]["error"]
    assert hostname_of(env.db, "198.51.100.1") == f"host-1.{FWD}"
    assert hostname_of(env.db, "198.51.100.3") == f"host-3.{FWD}"
    assert hostname_of(env.db, "198.51.100.2") is None and hostname_of(env.db, "198.51.100.5") is None
    rows = sql(env.db, "SELECT action, detail->>'batch' FROM audit_log WHERE ip = '198.51.100.5' ORDER BY id")
    assert rows[-1] == ("ptr.delete", "true")
    wait_until(lambda: f"1.{Z4}. 3600 IN PTR host-1.{FWD}." in open(env.zg.zone_path(Z4)).read(), timeout=10,
               what="batch rendered")
    text = open(env.zg.zone_path(Z4)).read()
    assert f"5.{Z4}. 3600 IN PTR pool-5.example.net." in text


def test_atomic_all_or_none(env):
    c = env.customer
    items = [{"ip": "198.51.100.10", "hostname": f"host-10.{FWD}"},
             {"ip": "198.51.100.11", "hostname": f"wrong.{FWD}"}]
    body = c.post("/v1/ptr:batch", json={"items": items, "atomic": True}).json()
    assert [x["status"] for x in body["items"]] == [424, 422] and body["applied"] == 0
    assert "atomic" in body["items"][0]["error"]
    assert hostname_of(env.db, "198.51.100.10") is None
    items[1]["hostname"] = f"host-11.{FWD}"
    body = c.post("/v1/ptr:batch", json={"items": items, "atomic": True}).json()
    assert [x["status"] for x in body["items"]] == [200, 200] and body["applied"] == 2
    assert hostname_of(env.db, "198.51.100.11") == f"host-11.{FWD}"


def test_generated_form(env):
    r = env.customer.post("/v1/ptr:batch", json={"prefix": "198.51.100.16/29", "template": "host-{d}." + FWD})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [x["ip"] for x in body["items"]] == [f"198.51.100.{d}" for d in range(16, 24)]
    assert all(x["status"] == 200 for x in body["items"]) and body["applied"] == 8
    assert hostname_of(env.db, "198.51.100.23") == f"host-23.{FWD}"
    # a template whose names do not resolve back: every item refused, nothing applied
    body = env.customer.post("/v1/ptr:batch", json={"prefix": "198.51.100.24/30",
                                                    "template": "{dashed}.nowhere." + FWD}).json()
    assert [x["status"] for x in body["items"]] == [422] * 4
    for bad in ({"prefix": "198.51.100.0/22", "template": "h-{d}.example.net"},
                {"prefix": "2001:db8:300::/120", "template": "h-{d}.example.net"},
                {"prefix": "198.51.100.0/29", "template": "h-{ip}.example.net"},
                {"prefix": "198.51.100.0/29", "items": [{"ip": "198.51.100.1", "reset": True}]},
                {"items": [{"ip": "198.51.100.1", "hostname": "a.example.net", "reset": True}]},
                {"items": []}):
        problem(env.customer.post("/v1/ptr:batch", json=bad), 400)


def test_thousand_items_past_the_small_body_limit(env):
    items = [{"ip": f"2001:db8:300::{d:x}", "hostname": f"h{d}-v6.{FWD}"} for d in range(1, 1001)]
    r = env.customer.post("/v1/ptr:batch", json={"items": items}, timeout=120)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["applied"] == 1000, [x for x in body["items"] if x["status"] != 200][:3]
    assert sql(env.db, "SELECT count(*) FROM ptr_records WHERE ip <<= '2001:db8:300::/52'")[0][0] == 1000
    problem(env.customer.post("/v1/ptr:batch", json={"items": items + [{"ip": "2001:db8:300::ffff", "reset": True}]}),
            400)
    # the other routes keep their 16 KiB limit; this one stops at 512 KiB
    big = {"items": [{"ip": "198.51.100.1", "hostname": "a" * 60 + ".example.net"}] * 7000}
    assert env.customer.post("/v1/ptr:batch", json=big).status_code == 413
    assert env.customer.put("/v1/ptr/198.51.100.1", json={"hostname": "a" * 17000}).status_code == 413


def test_rate_limit_counts_items(api_factory, env):
    api = api_factory({"resolvers": f"127.0.0.1:{env.fwd.port}", "rate_limit_writes": 10})
    c = Client(api.base, env.customer.s.headers["Authorization"].split()[1])
    sql(env.db, "DELETE FROM rate_buckets WHERE account_id = %s", env.cust_id)
    items = [{"ip": f"198.51.100.{d}", "hostname": f"host-{d}.{FWD}"} for d in range(40, 51)]
    body = problem(c.post("/v1/ptr:batch", json={"items": items}), 429)  # 11 > 10: never fits
    assert "exceeds" in body["detail"]
    r = c.post("/v1/ptr:batch", json={"items": items[:6]})
    assert r.status_code == 200 and r.json()["applied"] == 6, r.text
    r = c.post("/v1/ptr:batch", json={"items": items[6:11]})  # 5 more: only 4 tokens left
    problem(r, 429)
    assert int(r.headers["Retry-After"]) >= 1
