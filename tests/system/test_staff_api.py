"""The staff API: accounts, tokens, allocations, reverse zones and the audit log."""
import json
import re

import pytest

from conftest import Client, all_items, field_errors, new_account, problem, sql  # noqa: F401

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def new_client(api, staff, name, role="customer"):
    """An account with a token; returns (account, Client)."""
    acct = new_account(staff, name, role)
    r = staff.post(f"/v1/accounts/{acct['id']}/tokens")
    assert r.status_code == 201, r.text
    return acct, Client(api.base, r.json()["token"])


def audit_rows(db, action, obj):
    return sql(db, "SELECT actor_name, old_value, new_value, detail FROM audit_log"
               " WHERE action = %s AND object = %s ORDER BY id", action, obj)


ZONE = {"nameservers": ["ns1.example.net", "ns2.example.net"]}


def new_zone(staff, prefix, **kw):
    r = staff.post("/v1/zones", json=dict(ZONE, prefix=prefix, **kw))
    assert r.status_code == 201, r.text
    return r.json()


# ---- accounts ----

def test_account_create_list_get(staff, db):
    r = staff.post("/v1/accounts", json={"name": "Acme Hosting", "role": "customer"})
    assert r.status_code == 201, r.text
    assert r.headers["Content-Type"] == "application/json"
    acct = r.json()
    assert set(acct) == {"id", "name", "role", "created_at"}
    assert acct["name"] == "Acme Hosting" and acct["role"] == "customer" and acct["id"] > 0
    assert ISO_UTC.match(acct["created_at"])
    assert r.headers["Location"] == f"/v1/accounts/{acct['id']}"

    ops = new_account(staff, "Ops Person", "staff")
    uni = new_account(staff, "Müller Rechenzentrum GmbH")
    assert uni["name"] == "Müller Rechenzentrum GmbH"
    assert new_account(staff, "x" * 200)["name"] == "x" * 200

    items = staff.get("/v1/accounts").json()["items"]
    ids = [a["id"] for a in items]
    assert acct["id"] in ids and ops["id"] in ids and ids == sorted(ids)
    assert acct in items
    customers = staff.get("/v1/accounts", params={"role": "customer"}).json()["items"]
    assert acct in customers and all(a["role"] == "customer" for a in customers)
    staffs = staff.get("/v1/accounts", params={"role": "staff"}).json()["items"]
    assert ops in staffs and all(a["role"] == "staff" for a in staffs)
    assert any(a["name"] == "staff-admin" for a in staffs)
    problem(staff.get("/v1/accounts", params={"role": "admin"}), 400)

    r = staff.get(f"/v1/accounts/{acct['id']}")
    assert r.status_code == 200
    assert r.json() == dict(acct, allocations=[], allocations_next=None, tokens=[])

    # Audited, by the staff member who did it.
    rows = audit_rows(db, "account.create", f"account {acct['id']}")
    assert len(rows) == 1
    assert rows[0][0] == "staff-admin"
    assert json.loads(rows[0][2]) == {"name": "Acme Hosting", "role": "customer"}


def test_account_get_shows_allocations_and_tokens_but_no_secrets(staff, db):
    acct = new_account(staff, "detail-co")
    tok = staff.post(f"/v1/accounts/{acct['id']}/tokens").json()
    alloc = staff.post("/v1/allocations", json={"account_id": acct["id"], "prefix": "198.18.7.0/24"}).json()
    r = staff.get(f"/v1/accounts/{acct['id']}")
    assert r.status_code == 200
    body = r.json()
    assert alloc["prefix"] == "198.18.7.0/24"
    assert body["allocations"] == [alloc] and body["allocations_next"] is None
    assert [t["id"] for t in body["tokens"]] == [tok["id"]]
    assert body["tokens"][0]["revoked_at"] is None and ISO_UTC.match(body["tokens"][0]["created_at"])
    secret = tok["token"].split("_", 2)[2]
    assert secret not in r.text and "rdns_" not in r.text
    (hash_hex,) = sql(db, "SELECT encode(secret_hash, 'hex') FROM api_tokens WHERE id = %s", tok["id"])[0]
    assert hash_hex not in r.text


@pytest.mark.parametrize("body, field", [
    ({"name": "", "role": "customer"}, "name"),
    ({"name": "x" * 201, "role": "customer"}, "name"),
    ({"name": "line\nbreak", "role": "customer"}, "name"),
    ({"name": "tab\there", "role": "customer"}, "name"),
    ({"name": "bell\u0007", "role": "customer"}, "name"),
    ({"name": "c1\u0085control", "role": "customer"}, "name"),
    ({"name": " padded", "role": "customer"}, "name"),
    ({"name": "ok-name", "role": "admin"}, "role"),
    ({"name": "ok-name", "role": ""}, "role"),
    ({"name": "ok-name"}, "role"),
    ({"role": "customer"}, "name"),
    ({"name": 5, "role": "customer"}, "name"),
    ({"name": None, "role": "customer"}, "name"),
    ({"name": "ok-name", "role": "customer", "admin": True}, "admin"),
])
def test_account_create_rejects_bad_bodies(staff, body, field):
    errors = field_errors(staff.post("/v1/accounts", json=body))
    assert field in errors
    assert "ok-name" not in [a["name"] for a in all_items(staff, "/v1/accounts")]


def test_account_create_conflicts_and_media_types(staff):
    new_account(staff, "dup-co")
    body = problem(staff.post("/v1/accounts", json={"name": "dup-co", "role": "staff"}), 409)
    assert "dup-co" in body["detail"]
    problem(staff.post("/v1/accounts", data='{"name": "x", "role": "customer"}',
                       headers={"Content-Type": "text/plain"}), 415)
    problem(staff.post("/v1/accounts", data="{nope", headers={"Content-Type": "application/json"}), 400)
    problem(staff.post("/v1/accounts", data="[1]", headers={"Content-Type": "application/json"}), 400)
    # An empty body is an empty object: both fields are missing.
    assert set(field_errors(staff.post("/v1/accounts"))) == {"name", "role"}


@pytest.mark.parametrize("path", ["/v1/accounts/0", "/v1/accounts/abc", "/v1/accounts/-1", "/v1/accounts/1.0",
                                  "/v1/accounts/99999999", "/v1/accounts/99999999999999999999"])
def test_account_get_unknown_is_404(staff, path):
    problem(staff.get(path), 404)


# ---- tokens ----

def test_token_create_and_revoke(api, staff, db):
    acct = new_account(staff, "token-co")
    r = staff.post(f"/v1/accounts/{acct['id']}/tokens")
    assert r.status_code == 201, r.text
    tok = r.json()
    assert set(tok) == {"id", "token", "account_id"} and tok["account_id"] == acct["id"]
    assert tok["token"].startswith(f"rdns_{tok['id']}_")
    # With an empty JSON object as the body too.
    tok2 = staff.post(f"/v1/accounts/{acct['id']}/tokens", json={}).json()
    assert tok2["id"] != tok["id"] and tok2["token"] != tok["token"]

    cust = Client(api.base, tok["token"])
    me = cust.get("/v1/me")
    assert me.status_code == 200 and me.json()["account_id"] == acct["id"] and me.json()["role"] == "customer"

    assert staff.delete(f"/v1/tokens/{tok['id']}").status_code == 204
    problem(cust.get("/v1/me"), 401)
    # The other token of the account is unaffected.
    assert Client(api.base, tok2["token"]).get("/v1/me").status_code == 200
    (revoked,) = sql(db, "SELECT revoked_at IS NOT NULL FROM api_tokens WHERE id = %s", tok["id"])[0]
    assert revoked
    listed = {t["id"]: t for t in staff.get(f"/v1/accounts/{acct['id']}").json()["tokens"]}
    assert ISO_UTC.match(listed[tok["id"]]["revoked_at"]) and listed[tok2["id"]]["revoked_at"] is None

    # Revoking again, an unknown token, a malformed id: 404.
    problem(staff.delete(f"/v1/tokens/{tok['id']}"), 404)
    problem(staff.delete("/v1/tokens/987654"), 404)
    problem(staff.delete("/v1/tokens/abc"), 404)
    problem(staff.delete("/v1/tokens/0"), 404)

    created = audit_rows(db, "token.create", f"token {tok['id']}")
    assert len(created) == 1 and created[0][0] == "staff-admin" and created[0][3] == {"account": acct["id"]}
    revoked_rows = audit_rows(db, "token.revoke", f"token {tok['id']}")
    assert len(revoked_rows) == 1 and revoked_rows[0][3] == {"account": acct["id"]}
    # The token text is never written to the audit log.
    assert sql(db, "SELECT count(*) FROM audit_log WHERE concat(old_value, new_value, detail::text) LIKE %s",
               "%" + tok["token"].split("_", 2)[2] + "%")[0][0] == 0


def test_token_create_errors(staff):
    problem(staff.post("/v1/accounts/987654/tokens"), 404)
    problem(staff.post("/v1/accounts/zero/tokens"), 404)
    acct = new_account(staff, "token-err-co")
    assert "scope" in field_errors(staff.post(f"/v1/accounts/{acct['id']}/tokens", json={"scope": "all"}))
    problem(staff.post(f"/v1/accounts/{acct['id']}/tokens", data="x", headers={"Content-Type": "text/plain"}), 415)
    assert staff.get(f"/v1/accounts/{acct['id']}").json()["tokens"] == []


def test_revoked_staff_token_gets_401(api, staff):
    acct, ops = new_client(api, staff, "second-staff", "staff")
    assert ops.get("/v1/accounts").status_code == 200
    token_id = staff.get(f"/v1/accounts/{acct['id']}").json()["tokens"][0]["id"]
    assert staff.delete(f"/v1/tokens/{token_id}").status_code == 204
    r = ops.get("/v1/accounts")
    problem(r, 401)
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    problem(ops.post("/v1/accounts", json={"name": "via-revoked", "role": "customer"}), 401)


def pages(client, path, params, limit):
    """The pages of a list route at ?limit=limit from the first to the last: [(items, next)].
    Checks that each page is at most limit long and that next is the page's last key."""
    out, after = [], None
    for _ in range(1000):
        r = client.get(path, params=dict(params, limit=limit, **({"after": after} if after is not None else {})))
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"items", "next"} and len(body["items"]) <= limit
        out.append((body["items"], body["next"]))
        after = body["next"]
        if after is None:
            return out
        assert len(body["items"]) == limit
    raise AssertionError(f"{path} {params}: no last page")


def test_accounts_page_by_id_all_the_way_through(staff, db):
    """GET /v1/accounts: pages of ?limit= accounts by id, next the page's last id while more
    follow (null on the last page, also when it is full), ?after= the next page; every
    account once, with ?role= too, as the database has them."""
    for i in range(13):
        new_account(staff, f"pager-{i:02}", "staff" if i % 4 == 0 else "customer")
    for params in ({}, {"role": "customer"}, {"role": "staff"}):
        want = [r[0] for r in sql(db, "SELECT id FROM accounts WHERE %s::text IS NULL OR role = %s ORDER BY id",
                                  params.get("role"), params.get("role"))]
        assert len(want) > 3
        for limit in (1, 3, len(want)):
            got = pages(staff, "/v1/accounts", params, limit)
            ids = [a["id"] for items, _ in got for a in items]
            assert ids == want, (params, limit)
            assert all(nxt == items[-1]["id"] for items, nxt in got[:-1])
            assert len(got) == -(-len(want) // limit), (params, limit)  # no empty last page
            if params:
                assert all(a["role"] == params["role"] for items, _ in got for a in items)
    first = staff.get("/v1/accounts", params={"limit": 2}).json()
    assert first["next"] == first["items"][1]["id"]
    after = staff.get("/v1/accounts", params={"limit": 2, "after": first["next"]}).json()
    assert after["items"][0]["id"] > first["next"]
    assert staff.get("/v1/accounts", params={"after": 10**17}).json() == {"items": [], "next": None}


def test_accounts_by_ids(staff, db):
    """?ids=: the accounts of those ids (the panel's names of what it shows), by id, unknown
    ones left out; with ?role= and the cursor."""
    made = [new_account(staff, f"named-{i}", "staff" if i == 2 else "customer") for i in range(5)]
    ids = [a["id"] for a in made]
    picked = f"{ids[3]},{ids[0]},987654,{ids[2]},{ids[0]}"
    body = staff.get("/v1/accounts", params={"ids": picked}).json()
    assert body == {"items": [made[0], made[2], made[3]], "next": None}
    assert staff.get("/v1/accounts", params={"ids": picked, "role": "customer"}).json()["items"] == [made[0],
                                                                                                   made[3]]
    got = pages(staff, "/v1/accounts", {"ids": ",".join(map(str, ids))}, 2)
    assert [a for items, _ in got for a in items] == made and len(got) == 3
    assert staff.get("/v1/accounts", params={"ids": picked, "after": ids[2]}).json()["items"] == [made[3]]
    many = ",".join(str(i) for i in range(1, 201))
    assert staff.get("/v1/accounts", params={"ids": many, "limit": 1000}).status_code == 200


def test_accounts_search_by_name_prefix(staff, db):
    """?q=: the accounts whose name begins with q, by name in byte (code point) order, paged
    by name; exact at the edges of the prefix's range (the last code point raised by one,
    core_text_prefix_end) and for a prefix with no end (U+10FFFF)."""
    names = ["find-a", "find-b", "find-ab", "find-", "find-\u00fc", "find-\u00fcber", "find-z",
             "find-\U0001F600", "find-\uffff", "find-\U0010FFFF", "find-\U0010FFFFz", "find.", "finder",
             "Find-upper", "find-\u00fd", "\U0010FFFF", "\U0010FFFF\U0010FFFF", "\U0010FFFFx"]
    for n in names:
        new_account(staff, n)
    everyone = [r[0] for r in sql(db, "SELECT name FROM accounts")]

    def want(q):
        return sorted((n for n in everyone if n.startswith(q)), key=lambda n: n.encode())

    for q in ("find-", "find", "find-\u00fc", "find-\U0010FFFF", "\U0010FFFF", "find-a", "Find", "nobody"):
        for limit in (1, 2, 100):
            got = pages(staff, "/v1/accounts", {"q": q}, limit)
            assert [a["name"] for items, _ in got for a in items] == want(q), (q, limit)
            assert all(nxt == items[-1]["name"] for items, nxt in got[:-1])
    assert len(want("find-")) == 12
    one = staff.get("/v1/accounts", params={"q": "find-\u00fcb"}).json()
    assert [a["name"] for a in one["items"]] == ["find-\u00fcber"] and one["next"] is None
    assert set(one["items"][0]) == {"id", "name", "role", "created_at"}


@pytest.mark.parametrize("params", [
    {"after": "0"}, {"after": "-1"}, {"after": "abc"}, {"after": ""}, {"after": "1.5"},
    {"limit": "0"}, {"limit": "1001"}, {"limit": "ten"}, {"limit": ""},
    {"role": "admin"},
    {"ids": ""}, {"ids": "1,,2"}, {"ids": "1,"}, {"ids": ",1"}, {"ids": "a"}, {"ids": "0"}, {"ids": "1;2"},
    {"ids": ",".join(str(i) for i in range(1, 202))},
    {"q": ""}, {"q": "x" * 201}, {"q": "find", "role": "customer"}, {"q": "find", "ids": "1"},
])
def test_accounts_list_rejects_bad_parameters(staff, params):
    body = problem(staff.get("/v1/accounts", params=params), 400)
    assert body["parameter"] == next(iter(params))


def test_accounts_search_rejects_what_no_name_is(staff):
    # bytes that are not UTF-8, in the name prefix and in its cursor
    for query in ("q=%FF", "q=find%C3", "q=%ED%A0%80", "q=find&after=%FF"):
        body = problem(staff.get(f"/v1/accounts?{query}"), 400)
        assert body["parameter"] == ("after" if "after" in query else "q")
    assert staff.get("/v1/accounts", params={"q": "x" * 200}).status_code == 200


# ---- every route is for staff only ----

STAFF_ROUTES = [
    ("POST", "/v1/accounts", {"name": "sneaky", "role": "staff"}),
    ("GET", "/v1/accounts", None),
    ("GET", "/v1/accounts/1", None),
    ("POST", "/v1/accounts/1/tokens", {}),
    ("DELETE", "/v1/tokens/1", None),
    ("POST", "/v1/allocations", {"account_id": 1, "prefix": "192.0.2.0/24"}),
    ("DELETE", "/v1/allocations/1", None),
    ("POST", "/v1/zones", dict(ZONE, prefix="100.64.0.0/24")),
    ("GET", "/v1/zones", None),
    ("GET", "/v1/zones/2.0.192.in-addr.arpa", None),
    ("PATCH", "/v1/zones/2.0.192.in-addr.arpa", {"ttl": 60}),
    ("DELETE", "/v1/zones/2.0.192.in-addr.arpa", None),
    ("GET", "/v1/audit", None),
]


def test_customers_get_403_and_anonymous_401_on_every_staff_route(api, staff, anon, db):
    _, cust = new_client(api, staff, "nosy-customer")
    before = sql(db, "SELECT count(*) FROM audit_log")[0][0]
    for method, path, body in STAFF_ROUTES:
        kw = {"json": body} if body is not None else {}
        b = problem(cust.req(method, path, **kw), 403)
        assert "staff" in b["detail"]
        problem(anon.req(method, path, **kw), 401)
    assert sql(db, "SELECT count(*) FROM audit_log")[0][0] == before
    assert "sneaky" not in [a["name"] for a in all_items(staff, "/v1/accounts")]


# ---- allocations ----

def test_allocations_create_list(staff, db):
    a = new_account(staff, "alloc-a")
    b = new_account(staff, "alloc-b")
    r = staff.post("/v1/allocations", json={"account_id": a["id"], "prefix": "198.51.100.0/25"})
    assert r.status_code == 201, r.text
    al = r.json()
    assert set(al) == {"id", "account_id", "prefix", "created_at"}
    assert al["account_id"] == a["id"] and al["prefix"] == "198.51.100.0/25" and ISO_UTC.match(al["created_at"])
    # IPv6 is printed canonically (RFC 5952), a bare address is a host prefix.
    v6 = staff.post("/v1/allocations", json={"account_id": b["id"], "prefix": "2001:DB8:0100:0:0::/48"}).json()
    assert v6["prefix"] == "2001:db8:100::/48"
    host = staff.post("/v1/allocations", json={"account_id": b["id"], "prefix": "198.51.100.200"}).json()
    assert host["prefix"] == "198.51.100.200/32"
    # Adjacent is fine.
    adj = staff.post("/v1/allocations", json={"account_id": b["id"], "prefix": "198.51.100.128/26"}).json()

    items = staff.get("/v1/allocations").json()["items"]
    for x in (al, v6, host, adj):
        assert x in items
    only_b = staff.get("/v1/allocations", params={"account_id": b["id"]}).json()["items"]
    assert sorted(x["id"] for x in only_b) == sorted([v6["id"], host["id"], adj["id"]])
    assert staff.get("/v1/allocations", params={"account_id": 987654}).json()["items"] == []
    for bad in ("abc", "0", "-1", ""):
        problem(staff.get("/v1/allocations", params={"account_id": bad}), 400)

    rows = audit_rows(db, "allocation.create", f"allocation {al['id']}")
    assert len(rows) == 1 and rows[0][2] == "198.51.100.0/25" and rows[0][3] == {"account": a["id"]}


def test_allocations_page_by_prefix_all_the_way_through(staff, db):
    """GET /v1/allocations: pages of ?limit= allocations by prefix (IPv4 first), next the
    page's last prefix while more follow, ?after= the next page; every allocation once, with
    ?account_id= (by (account, prefix)) too, as the database has them."""
    owners = [new_account(staff, f"paged-alloc-{i}") for i in range(3)]
    for i in range(12):
        o = owners[i % 3]["id"]
        assert staff.post("/v1/allocations", json={"account_id": o, "prefix": f"100.70.{i}.0/24"}).status_code == 201
        assert staff.post("/v1/allocations", json={"account_id": o,
                                                   "prefix": f"2001:db8:70:{i:x}00::/56"}).status_code == 201
    cases = [({}, sql(db, "SELECT l.prefix::text FROM allocations l ORDER BY l.prefix"))]
    for o in owners:
        cases.append(({"account_id": o["id"]},
                      sql(db, "SELECT l.prefix::text FROM allocations l WHERE l.account_id = %s ORDER BY l.prefix",
                          o["id"])))
    for params, rows in cases:
        want = [r[0] for r in rows]
        assert len(want) >= 8
        for limit in (1, 3, len(want)):
            got = pages(staff, "/v1/allocations", params, limit)
            assert [a["prefix"] for items, _ in got for a in items] == want, (params, limit)
            assert all(nxt == items[-1]["prefix"] for items, nxt in got[:-1])
            assert len(got) == -(-len(want) // limit)
            if params:
                assert all(a["account_id"] == params["account_id"] for items, _ in got for a in items)
    page = staff.get("/v1/allocations", params={"after": "100.70.10.0/24", "account_id": owners[1]["id"],
                                                "limit": 1}).json()
    assert [a["prefix"] for a in page["items"]] == ["2001:db8:70:100::/56"]
    assert page["next"] == "2001:db8:70:100::/56"
    # an address is the prefix of itself (a /32, which sorts after the /24 it starts), as for zones
    page = staff.get("/v1/allocations", params={"after": "100.70.11.0", "limit": 1}).json()
    assert [a["prefix"] for a in page["items"]] == [r[0] for r in sql(
        db, "SELECT l.prefix::text FROM allocations l WHERE l.prefix > '100.70.11.0/32' ORDER BY l.prefix LIMIT 1")]
    assert page["items"][0]["prefix"] != "100.70.11.0/24"


def test_me_and_account_embed_the_first_100_allocations_and_page_on(api, staff, db):
    """GET /v1/me and GET /v1/accounts/{id} embed an account's first 100 allocations by
    prefix (a reseller may hold thousands: the whole list was one answer), allocations_next
    the 100th's prefix; GET /v1/allocations pages on from it, for the customer too: every
    allocation once, in the database's order."""
    acct, cust = new_client(api, staff, "reseller-co")
    for i in range(130):
        r = staff.post("/v1/allocations", json={"account_id": acct["id"], "prefix": f"100.77.{i // 64}.{(i % 64) * 4}/30"})
        assert r.status_code == 201, r.text
    for i in range(20):
        r = staff.post("/v1/allocations", json={"account_id": acct["id"], "prefix": f"2001:db8:77:{i:x}::/64"})
        assert r.status_code == 201, r.text
    want = [r[0] for r in sql(db, "SELECT l.prefix::text FROM allocations l WHERE l.account_id = %s ORDER BY l.prefix",
                              acct["id"])]
    assert len(want) == 150
    me = cust.get("/v1/me")
    assert me.status_code == 200, me.text
    detail = staff.get(f"/v1/accounts/{acct['id']}").json()
    for body in (me.json(), detail):
        assert [a["prefix"] for a in body["allocations"]] == want[:100]
        assert body["allocations_next"] == want[99]
    for client, params in ((cust, {}), (staff, {"account_id": acct["id"]})):
        got = all_items(client, "/v1/allocations", dict(params, after=me.json()["allocations_next"], limit=30))
        assert [a["prefix"] for a in got] == want[100:]
        assert all(a["account_id"] == acct["id"] for a in got)
    # one more allocation than 100 or exactly 100: next only when more follow
    small, small_cust = new_client(api, staff, "hundred-co")
    for i in range(100):
        assert staff.post("/v1/allocations", json={"account_id": small["id"],
                                                   "prefix": f"100.78.{i}.0/24"}).status_code == 201
    body = small_cust.get("/v1/me").json()
    assert len(body["allocations"]) == 100 and body["allocations_next"] is None


def test_a_customer_lists_only_their_own_allocations(api, staff, db):
    """GET /v1/allocations for a customer: their own only (no other account's prefix, with any
    filter), account_id of another account is 403, ip finds only an allocation of theirs."""
    mine, cust = new_client(api, staff, "own-allocs")
    other = new_account(staff, "other-allocs")
    a = staff.post("/v1/allocations", json={"account_id": mine["id"], "prefix": "100.79.1.0/24"}).json()
    staff.post("/v1/allocations", json={"account_id": other["id"], "prefix": "100.79.2.0/24"})
    assert all_items(cust, "/v1/allocations") == [a]
    assert cust.get("/v1/allocations", params={"account_id": mine["id"]}).json() == {"items": [a], "next": None}
    b = problem(cust.get("/v1/allocations", params={"account_id": other["id"]}), 403)
    assert str(other["id"]) in b["detail"]
    assert cust.get("/v1/allocations", params={"ip": "100.79.2.7"}).json() == {"items": [], "next": None}
    assert cust.get("/v1/allocations", params={"ip": "100.79.1.7"}).json()["items"] == [a]
    problem(cust.get("/v1/allocations", params={"limit": "0"}), 400)
    # still staff only: the other routes of /v1/allocations
    problem(cust.post("/v1/allocations", json={"account_id": mine["id"], "prefix": "100.79.3.0/24"}), 403)
    problem(cust.get(f"/v1/allocations/{a['id']}"), 403)


def test_allocation_of_an_address_with_the_other_filters(staff):
    """?ip=: the one allocation holding the address (the panel's lookup), in the same page
    shape (next null), filtered further by ?account_id= and ?after=."""
    a = new_account(staff, "holder-a")
    b = new_account(staff, "holder-b")
    al = staff.post("/v1/allocations", json={"account_id": a["id"], "prefix": "100.71.0.0/25"}).json()
    staff.post("/v1/allocations", json={"account_id": b["id"], "prefix": "100.71.0.128/25"})
    assert staff.get("/v1/allocations", params={"ip": "100.71.0.77"}).json() == {"items": [al], "next": None}
    assert staff.get("/v1/allocations", params={"ip": "100.71.0.77", "account_id": a["id"]}).json()["items"] == [al]
    assert staff.get("/v1/allocations", params={"ip": "100.71.0.77", "account_id": b["id"]}).json() == {
        "items": [], "next": None}
    assert staff.get("/v1/allocations", params={"ip": "100.71.0.77", "after": "100.70.0.0/16"}).json()["items"] == [al]
    assert staff.get("/v1/allocations", params={"ip": "100.71.0.77", "after": "100.71.0.0/25"}).json()["items"] == []
    assert staff.get("/v1/allocations", params={"ip": "100.71.1.1"}).json() == {"items": [], "next": None}


@pytest.mark.parametrize("params", [
    {"after": "nonsense"}, {"after": "100.70.0.1/24"}, {"after": "100.70.0.0/33"}, {"after": ""},
    {"after": "2001:db8::/129"},
    {"limit": "0"}, {"limit": "1001"}, {"limit": "ten"}, {"limit": "-5"},
    {"account_id": "x"}, {"ip": "100.70.0.0/24"},
])
def test_allocations_list_rejects_bad_parameters(staff, params):
    body = problem(staff.get("/v1/allocations", params=params), 400)
    assert body["parameter"] == next(iter(params))


def test_allocation_overlap_is_409_naming_the_existing_one(staff):
    a = new_account(staff, "overlap-a")
    b = new_account(staff, "overlap-b")
    first = staff.post("/v1/allocations", json={"account_id": a["id"], "prefix": "203.0.112.0/24"}).json()
    for prefix in ("203.0.112.0/24", "203.0.112.64/26", "203.0.112.7/32", "203.0.0.0/16"):
        body = problem(staff.post("/v1/allocations", json={"account_id": b["id"], "prefix": prefix}), 409)
        assert f"allocation {first['id']}" in body["detail"] and "203.0.112.0/24" in body["detail"]
        assert body["existing"][0] == {"id": first["id"], "prefix": "203.0.112.0/24", "account_id": a["id"],
                                       "created_at": first["created_at"]}
    assert [x["id"] for x in staff.get("/v1/allocations", params={"account_id": b["id"]}).json()["items"]] == []


def test_allocation_create_errors(staff):
    a = new_account(staff, "alloc-err")
    body = problem(staff.post("/v1/allocations", json={"account_id": a["id"], "prefix": "198.51.101.1/24"}), 400)
    assert "host bits" in body["detail"] and "198.51.101.0/24" in body["detail"]
    body = problem(staff.post("/v1/allocations", json={"account_id": a["id"], "prefix": "2001:db8::1/64"}), 400)
    assert "host bits" in body["detail"] and "2001:db8::/64" in body["detail"]
    for prefix in ("198.51.101.0/33", "198.51.101.0/024", "198.51.101.0/", "nonsense/24", "010.1.1.0/24",
                   "10.1/16", ""):
        assert "prefix" in field_errors(staff.post("/v1/allocations",
                                                   json={"account_id": a["id"], "prefix": prefix}))
    problem(staff.post("/v1/allocations", json={"account_id": 987654, "prefix": "198.51.101.0/24"}), 404)
    assert "account_id" in field_errors(staff.post("/v1/allocations", json={"account_id": 0,
                                                                             "prefix": "198.51.101.0/24"}))
    assert "account_id" in field_errors(staff.post("/v1/allocations", json={"account_id": str(a["id"]),
                                                                             "prefix": "198.51.101.0/24"}))
    assert "prefix" in field_errors(staff.post("/v1/allocations", json={"account_id": a["id"]}))
    assert "owner" in field_errors(staff.post("/v1/allocations", json={"account_id": a["id"], "owner": "x",
                                                                        "prefix": "198.51.101.0/24"}))
    problem(staff.post("/v1/allocations", data="{}", headers={"Content-Type": "application/xml"}), 415)
    assert staff.get("/v1/allocations", params={"account_id": a["id"]}).json()["items"] == []


def test_allocation_delete_resets_custom_ptrs_inside_it(staff, db):
    a = new_account(staff, "recycled-co")
    zone = new_zone(staff, "203.0.113.0/24")
    al = staff.post("/v1/allocations", json={"account_id": a["id"], "prefix": "203.0.113.0/25"}).json()
    (zone_id,) = sql(db, "SELECT id FROM reverse_zones WHERE name = %s", zone["name"])[0]
    sql(db, "INSERT INTO ptr_records (ip, zone_id, hostname, account_id) VALUES"
            " ('203.0.113.10', %s, 'mail.customer.example.com', %s),"
            " ('203.0.113.127', %s, 'edge.customer.example.com', %s),"
            " ('203.0.113.200', %s, 'other.example.org', NULL)", zone_id, a["id"], zone_id, a["id"], zone_id)
    sql(db, "INSERT INTO ptr_requests (account_id, ip, hostname, state) VALUES"
            " (%s, '203.0.113.11', 'pending.customer.example.com', 'pending_review')", a["id"])
    sql(db, "DELETE FROM zone_changes WHERE zone_id = %s", zone_id)  # as if rendered

    assert staff.delete(f"/v1/allocations/{al['id']}").status_code == 204

    left = sql(db, "SELECT host(ip), hostname FROM ptr_records WHERE zone_id = %s ORDER BY ip", zone_id)
    assert left == [("203.0.113.200", "other.example.org")]
    assert sql(db, "SELECT state FROM ptr_requests WHERE ip = '203.0.113.11'") == [("superseded",)]
    assert sql(db, "SELECT count(*) FROM zone_changes WHERE zone_id = %s", zone_id)[0][0] >= 1
    assert staff.get(f"/v1/zones/{zone['name']}").json()["records"] == 1
    assert al not in all_items(staff, "/v1/allocations")
    resets = sql(db, "SELECT host(ip), old_value, actor_name, detail FROM audit_log WHERE action = 'ptr.reset'"
                     " AND detail->>'allocation' = %s ORDER BY ip", str(al["id"]))
    assert resets == [("203.0.113.10", "mail.customer.example.com", "staff-admin", {"allocation": al["id"]}),
                      ("203.0.113.127", "edge.customer.example.com", "staff-admin", {"allocation": al["id"]})]
    rows = audit_rows(db, "allocation.delete", f"allocation {al['id']}")
    assert len(rows) == 1 and rows[0][1] == "203.0.113.0/25" and rows[0][3] == {"account": a["id"], "reset": 2}
    # The address can now go to someone else.
    b = new_account(staff, "next-co")
    assert staff.post("/v1/allocations", json={"account_id": b["id"], "prefix": "203.0.113.0/25"}).status_code == 201

    problem(staff.delete(f"/v1/allocations/{al['id']}"), 404)
    problem(staff.delete("/v1/allocations/abc"), 404)
    problem(staff.delete("/v1/allocations/0"), 404)


# ---- zones ----

def test_zone_create_with_defaults_and_get(staff, db):
    r = staff.post("/v1/zones", json={"prefix": "192.0.2.0/24", "nameservers": ["NS1.Example.NET.", "ns2.example.net"]})
    assert r.status_code == 201, r.text
    z = r.json()
    assert r.headers["Location"] == "/v1/zones/2.0.192.in-addr.arpa"
    assert set(z) == {"name", "prefix", "nameservers", "default_ptr", "notify", "soa", "ttl", "serial", "dirty",
                      "rendered_at", "notify_status", "created_at", "updated_at", "records", "classless_label"}
    assert z["name"] == "2.0.192.in-addr.arpa" and z["prefix"] == "192.0.2.0/24"
    assert z["classless_label"] == "range"
    assert z["nameservers"] == ["ns1.example.net", "ns2.example.net"]
    assert z["soa"] == {"mname": "ns1.example.net", "rname": "hostmaster.example.net", "refresh": 3600,
                        "retry": 900, "expire": 1209600, "minimum": 3600}
    assert z["ttl"] == 3600 and z["serial"] == 0 and z["dirty"] is True and z["rendered_at"] is None
    assert z["default_ptr"] is None and z["notify"] == [] and z["notify_status"] == {} and z["records"] == 0
    assert ISO_UTC.match(z["created_at"]) and ISO_UTC.match(z["updated_at"])
    # rdns_zone_touch ran in the same transaction.
    assert sql(db, "SELECT count(*) FROM zone_changes c JOIN reverse_zones z ON z.id = c.zone_id"
                   " WHERE z.name = %s", z["name"]) == [(1,)]

    for name in ("2.0.192.in-addr.arpa", "2.0.192.in-addr.arpa.", "2.0.192.IN-ADDR.ARPA."):
        r = staff.get(f"/v1/zones/{name}")
        assert r.status_code == 200 and r.json() == z
    assert z in staff.get("/v1/zones").json()["items"]
    for name in ("3.0.192.in-addr.arpa", "example.com", "0-63.2.0.192.in-addr.arpa", "02.0.192.in-addr.arpa",
                 "in-addr.arpa"):
        problem(staff.get(f"/v1/zones/{name}"), 404)

    rows = audit_rows(db, "zone.create", "zone 2.0.192.in-addr.arpa")
    assert len(rows) == 1 and rows[0][0] == "staff-admin"
    v = json.loads(rows[0][2])
    assert v["prefix"] == "192.0.2.0/24" and v["nameservers"] == z["nameservers"] and v["ttl"] == 3600


def test_zone_create_with_every_field(staff):
    z = new_zone(staff, "10.20.0.0/16", default_ptr="{dashed}.dyn.Example.NET", soa_mname="primary.example.org",
                 soa_rname="dns-admin.example.org", refresh=7200, retry=600, expire=604800, minimum=0, ttl=0,
                 notify=["192.0.2.53", "192.0.2.54:5353", "[2001:DB8::53]:53", "2001:db8::54",
                         "198.51.100.9@xfr-key", "[2001:db8::55]"])
    assert z["name"] == "20.10.in-addr.arpa"
    assert z["default_ptr"] == "{dashed}.dyn.Example.NET"
    assert z["soa"] == {"mname": "primary.example.org", "rname": "dns-admin.example.org", "refresh": 7200,
                        "retry": 600, "expire": 604800, "minimum": 0}
    assert z["ttl"] == 0
    assert z["notify"] == ["192.0.2.53:53", "192.0.2.54:5353", "[2001:db8::53]:53", "[2001:db8::54]:53",
                           "198.51.100.9:53@xfr-key", "[2001:db8::55]:53"]


def test_ipv6_zone(staff):
    z = new_zone(staff, "2001:db8:abc0::/44")
    assert z["name"] == "c.b.a.8.b.d.0.1.0.0.2.ip6.arpa" and z["prefix"] == "2001:db8:abc0::/44"
    assert staff.get("/v1/zones/C.B.A.8.B.D.0.1.0.0.2.IP6.ARPA.").json() == z
    body = problem(staff.post("/v1/zones", json=dict(ZONE, prefix="2001:db8:def0::/44",
                                                     default_ptr="{dashed}.example.net")), 400)
    assert "IPv4" in body["detail"]


@pytest.mark.parametrize("prefix, zones", [
    ("192.0.16.0/20", [f"192.0.{i}.0/24" for i in range(16, 32)]),
    ("10.0.0.0/15", ["10.0.0.0/16", "10.1.0.0/16"]),
    ("192.0.2.0/25", ["192.0.2.0/24"]),
    ("192.0.2.77/32", ["192.0.2.0/24"]),
    ("2001:db8::/30", ["2001:db8::/32", "2001:db9::/32", "2001:dba::/32", "2001:dbb::/32"]),
    ("2001:db8::/126", ["2001:db8::/124"]),
])
def test_zone_not_on_a_cut_lists_the_zones_to_create(staff, prefix, zones):
    body = problem(staff.post("/v1/zones", json=dict(ZONE, prefix=prefix)), 400)
    assert body["zones"] == zones
    assert "zone cut" in body["detail"] and zones[0] in body["detail"]
    assert "instead" in body["detail"]


def test_zone_cut_at_0_lists_256_zones(staff):
    body = problem(staff.post("/v1/zones", json=dict(ZONE, prefix="0.0.0.0/0")), 400)
    assert len(body["zones"]) == 256 and body["zones"][255] == "255.0.0.0/8" and "256" in body["detail"]


def test_zone_prefix_with_host_bits(staff):
    body = problem(staff.post("/v1/zones", json=dict(ZONE, prefix="192.0.99.1/24")), 400)
    assert "host bits" in body["detail"] and "192.0.99.0/24" in body["detail"]


LONG_LABEL = "a" * 61


@pytest.mark.parametrize("extra, field, words", [
    ({"nameservers": []}, "nameservers", "1 to 13"),
    ({"nameservers": [f"ns{i}.example.net" for i in range(14)]}, "nameservers", "1 to 13"),
    ({"nameservers": ["ns1.example.net", "bad_name.example.net"]}, "nameservers[1]", "underscore"),
    ({"nameservers": ["localhost"]}, "nameservers[0]", ""),
    ({"nameservers": ["ns1.example.net", "NS1.example.net."]}, "nameservers[1]", "twice"),
    ({"nameservers": ["ns1.example.net", 7]}, "nameservers", ""),
    ({"nameservers": "ns1.example.net"}, "nameservers", ""),
    ({"default_ptr": "{bogus}.example.net"}, "default_ptr", "placeholder"),
    ({"default_ptr": "{dashed.example.net"}, "default_ptr", "placeholder"),
    ({"default_ptr": "{a}"}, "default_ptr", "10.99.0.0"),
    ({"default_ptr": "{dashed} .example.net"}, "default_ptr", "not a valid hostname"),
    # Valid on the first address (label of 63) but not on the last (65).
    ({"default_ptr": LONG_LABEL + "x{d}.example.net"}, "default_ptr", "10.99.0.255"),
    ({"default_ptr": 5}, "default_ptr", ""),
    ({"notify": ["192.0.2.1:0"]}, "notify[0]", "port"),
    ({"notify": ["192.0.2.1:65536"]}, "notify[0]", "port"),
    ({"notify": ["ns1.example.net:53"]}, "notify[0]", ""),
    ({"notify": ["[192.0.2.1]:53"]}, "notify[0]", "IPv6"),
    ({"notify": ["192.0.2.1@"]}, "notify[0]", "key"),
    ({"notify": ["192.0.2.1@bad key"]}, "notify[0]", "key"),
    ({"notify": ["010.0.2.1"]}, "notify[0]", ""),
    ({"notify": ["2001:db8::1:53:"]}, "notify[0]", ""),
    ({"notify": ["192.0.2.1", "192.0.2.1:53"]}, "notify[1]", "twice"),
    ({"notify": [f"192.0.2.{i}" for i in range(17)]}, "notify", "16"),
    ({"soa_mname": "not a name"}, "soa_mname", ""),
    ({"soa_rname": "hostmaster@example.net"}, "soa_rname", ""),
    ({"refresh": 0}, "refresh", "1 to 2147483647"),
    ({"retry": -5}, "retry", ""),
    ({"expire": 2 ** 31}, "expire", ""),
    ({"minimum": -1}, "minimum", "0 to"),
    ({"ttl": 2 ** 31}, "ttl", ""),
    ({"ttl": "3600"}, "ttl", "integer"),
    ({"ttl": 3600.0}, "ttl", "integer"),
    ({"serial": 5}, "serial", "unknown"),
    ({"prefix": None}, "prefix", ""),
    ({"prefix": "192.0.2.0/24/1"}, "prefix", ""),
])
def test_zone_create_validation(staff, db, extra, field, words):
    body = dict(ZONE, prefix="10.99.0.0/24")
    body.update(extra)
    errors = field_errors(staff.post("/v1/zones", json=body))
    assert field in errors, errors
    assert words in errors[field]
    assert sql(db, "SELECT count(*) FROM reverse_zones WHERE name = '0.99.10.in-addr.arpa'") == [(0,)]


def test_zone_create_requires_prefix_and_nameservers(staff):
    assert set(field_errors(staff.post("/v1/zones", json={}))) == {"prefix", "nameservers"}
    problem(staff.post("/v1/zones", data="prefix=1", headers={"Content-Type": "application/x-www-form-urlencoded"}),
            415)


def test_zone_overlap_and_duplicate_are_409(staff, db):
    z = new_zone(staff, "10.30.5.0/24")
    for prefix in ("10.30.5.0/24", "10.30.0.0/16", "10.0.0.0/8"):
        body = problem(staff.post("/v1/zones", json=dict(ZONE, prefix=prefix)), 409)
        assert {"name": z["name"], "prefix": "10.30.5.0/24"} in body["existing"]
        assert body["existing"][0]["name"] in body["detail"] and prefix in body["detail"]
    assert "5.30.10.in-addr.arpa" in problem(staff.post("/v1/zones", json=dict(ZONE, prefix="10.30.0.0/16")),
                                             409)["detail"]
    created = sql(db, "SELECT object FROM audit_log WHERE action = 'zone.create' AND object IN"
                      " ('zone 5.30.10.in-addr.arpa', 'zone 30.10.in-addr.arpa', 'zone 10.in-addr.arpa')")
    assert created == [("zone 5.30.10.in-addr.arpa",)]
    # A neighbour is fine.
    new_zone(staff, "10.30.6.0/24")


def test_zone_patch(staff, db):
    z = new_zone(staff, "10.40.1.0/24")
    sql(db, "DELETE FROM zone_changes WHERE zone_id = (SELECT id FROM reverse_zones WHERE name = %s)", z["name"])
    assert staff.get(f"/v1/zones/{z['name']}").json()["dirty"] is False
    r = staff.patch(f"/v1/zones/{z['name']}.", json={"nameservers": ["a.ns.example.com", "b.ns.example.com"],
                                                     "ttl": 300, "default_ptr": "host-{d}.example.com",
                                                     "notify": ["192.0.2.99"]})
    assert r.status_code == 200, r.text
    p = r.json()
    assert p["nameservers"] == ["a.ns.example.com", "b.ns.example.com"] and p["ttl"] == 300
    assert p["default_ptr"] == "host-{d}.example.com" and p["notify"] == ["192.0.2.99:53"]
    # Fields not named keep their values; the SOA names stay as stored.
    assert p["soa"] == z["soa"] and p["name"] == z["name"] and p["created_at"] == z["created_at"]
    assert p["dirty"] is True
    assert staff.get(f"/v1/zones/{z['name']}").json() == p
    assert sql(db, "SELECT count(*) FROM zone_changes c JOIN reverse_zones z ON z.id = c.zone_id"
                   " WHERE z.name = %s", z["name"]) == [(1,)]

    rows = audit_rows(db, "zone.update", f"zone {z['name']}")
    assert len(rows) == 1 and rows[0][0] == "staff-admin"
    assert json.loads(rows[0][1]) == {"nameservers": ["ns1.example.net", "ns2.example.net"], "ttl": 3600,
                                      "default_ptr": None, "notify": []}
    assert json.loads(rows[0][2]) == {"nameservers": ["a.ns.example.com", "b.ns.example.com"], "ttl": 300,
                                      "default_ptr": "host-{d}.example.com", "notify": ["192.0.2.99:53"]}

    # null clears default_ptr; null SOA names go back to the defaults of the current name servers.
    p = staff.patch(f"/v1/zones/{z['name']}", json={"default_ptr": None, "soa_mname": None, "soa_rname": None,
                                                    "refresh": 1800}).json()
    assert p["default_ptr"] is None and p["soa"]["refresh"] == 1800
    assert p["soa"]["mname"] == "a.ns.example.com" and p["soa"]["rname"] == "hostmaster.ns.example.com"
    p = staff.patch(f"/v1/zones/{z['name']}", json={"soa_rname": "DNS.Example.COM.", "notify": []}).json()
    assert p["soa"]["rname"] == "dns.example.com" and p["notify"] == []
    assert len(audit_rows(db, "zone.update", f"zone {z['name']}")) == 3

    # Invalid changes are refused and change nothing.
    before = staff.get(f"/v1/zones/{z['name']}").json()
    for body in ({"nameservers": []}, {"ttl": -1}, {"default_ptr": "{x}"}, {"prefix": "10.40.2.0/24"},
                 {"name": "x.in-addr.arpa"}, {"nameservers": None}, {"notify": ["nowhere"]}):
        problem(staff.patch(f"/v1/zones/{z['name']}", json=body), 400)
    problem(staff.patch(f"/v1/zones/{z['name']}", json={}), 400)
    problem(staff.patch(f"/v1/zones/{z['name']}", data="ttl=1", headers={"Content-Type": "text/plain"}), 415)
    assert staff.get(f"/v1/zones/{z['name']}").json() == before
    assert len(audit_rows(db, "zone.update", f"zone {z['name']}")) == 3

    problem(staff.patch("/v1/zones/9.40.10.in-addr.arpa", json={"ttl": 60}), 404)
    problem(staff.patch("/v1/zones/example.com", json={"ttl": 60}), 404)


def test_zone_delete(staff, db):
    empty = new_zone(staff, "10.50.0.0/24")
    full = new_zone(staff, "10.50.1.0/24", default_ptr="{dashed}.example.net")
    (zone_id,) = sql(db, "SELECT id FROM reverse_zones WHERE name = %s", full["name"])[0]
    sql(db, "INSERT INTO ptr_records (ip, zone_id, hostname) VALUES ('10.50.1.1', %s, 'a.example.com'),"
            " ('10.50.1.2', %s, 'b.example.com')", zone_id, zone_id)
    assert staff.get(f"/v1/zones/{full['name']}").json()["records"] == 2

    body = problem(staff.delete(f"/v1/zones/{full['name']}"), 409)
    assert body["records"] == 2 and "force" in body["detail"]
    problem(staff.delete(f"/v1/zones/{full['name']}", params={"force": "false"}), 409)
    problem(staff.delete(f"/v1/zones/{full['name']}", params={"force": "yes"}), 400)
    assert staff.get(f"/v1/zones/{full['name']}").status_code == 200

    assert staff.delete(f"/v1/zones/{full['name']}.", params={"force": "true"}).status_code == 204
    problem(staff.get(f"/v1/zones/{full['name']}"), 404)
    assert sql(db, "SELECT count(*) FROM ptr_records WHERE zone_id = %s", zone_id) == [(0,)]
    rows = audit_rows(db, "zone.delete", f"zone {full['name']}")
    assert len(rows) == 1 and rows[0][3] == {"records": 2, "force": True, "requests_superseded": 0}
    old = json.loads(rows[0][1])
    assert old["prefix"] == "10.50.1.0/24" and old["default_ptr"] == "{dashed}.example.net"

    assert staff.delete(f"/v1/zones/{empty['name'].upper()}").status_code == 204
    assert audit_rows(db, "zone.delete", f"zone {empty['name']}")[0][3] == {"records": 0, "force": False,
                                                                          "requests_superseded": 0}
    assert empty not in staff.get("/v1/zones").json()["items"]
    problem(staff.delete(f"/v1/zones/{empty['name']}"), 404)
    problem(staff.delete("/v1/zones/not-a-zone.example"), 404)
    # The prefix is free again.
    new_zone(staff, "10.50.1.0/24")


def test_zones_list_pages_by_prefix(staff, db):
    """GET /v1/zones: a page of ?limit= zones by prefix (IPv4 first), next the last one's
    prefix while more follow, ?after= the next page; every zone once; records the zone's
    custom PTRs (migration 014's counts)."""
    for prefix in ("10.60.1.0/24", "10.60.2.0/24", "10.60.3.0/24", "2001:db8:60::/48"):
        new_zone(staff, prefix)
    sql(db, "INSERT INTO ptr_records (ip, zone_id, hostname) SELECT '10.60.2.0'::inet + g, z.id, 'p.example.com'"
            " FROM reverse_zones z, generate_series(1, 5) g WHERE z.name = '2.60.10.in-addr.arpa'")
    everything = staff.get("/v1/zones", params={"limit": 1000}).json()
    assert everything["next"] is None
    got, after = [], None
    for _ in range(len(everything["items"]) + 1):
        page = staff.get("/v1/zones", params={"limit": 2, **({"after": after} if after else {})}).json()
        assert len(page["items"]) <= 2
        got += page["items"]
        after = page["next"]
        if after is None:
            break
        assert after == page["items"][-1]["prefix"]
    assert got == everything["items"]
    prefixes = [z["prefix"] for z in got]
    assert prefixes.index("10.60.1.0/24") < prefixes.index("10.60.2.0/24") < prefixes.index("2001:db8:60::/48")
    assert next(z for z in got if z["prefix"] == "10.60.2.0/24")["records"] == 5
    page = staff.get("/v1/zones", params={"after": "10.60.1.0/24", "limit": 1}).json()
    assert [z["prefix"] for z in page["items"]] == ["10.60.2.0/24"] and page["next"] == "10.60.2.0/24"
    for params in ({"after": "10.60.1.0"}, {"after": "2001:db8:60::1/48"}, {"after": "zone"}, {"limit": "0"}):
        if params.get("after") == "10.60.1.0":  # an address is the prefix of itself
            assert staff.get("/v1/zones", params=params).status_code == 200
            continue
        assert problem(staff.get("/v1/zones", params=params), 400)["parameter"] == next(iter(params))


# ---- audit log ----

def test_audit_log_filters_and_pages(api, staff, db):
    acct, ops = new_client(api, staff, "auditing-staff", "staff")
    made = [new_account(ops, f"audited-{i}") for i in range(3)]
    r = staff.get("/v1/audit", params={"account": acct["id"]})
    assert r.status_code == 200
    body = r.json()
    assert [e["object"] for e in body["items"]] == [f"account {m['id']}" for m in reversed(made)]
    assert body["next"] is None
    e = body["items"][0]
    assert set(e) == {"id", "at", "actor_id", "actor_name", "action", "ip", "object", "old_value", "new_value",
                      "request_id", "detail"}
    assert e["actor_id"] == acct["id"] and e["actor_name"] == "auditing-staff" and e["action"] == "account.create"
    assert ISO_UTC.match(e["at"]) and e["ip"] is None and e["request_id"] is None
    assert json.loads(e["new_value"]) == {"name": "audited-2", "role": "customer"}

    page1 = staff.get("/v1/audit", params={"account": acct["id"], "limit": 2}).json()
    assert len(page1["items"]) == 2 and page1["next"] == page1["items"][1]["id"]
    page2 = staff.get("/v1/audit", params={"account": acct["id"], "limit": 2, "before": page1["next"]}).json()
    assert [x["id"] for x in page2["items"]] == [body["items"][2]["id"]] and page2["next"] is None

    everything = staff.get("/v1/audit", params={"limit": 1000}).json()["items"]
    ids = [x["id"] for x in everything]
    assert ids == sorted(ids, reverse=True) and len(ids) > 5
    default = staff.get("/v1/audit").json()
    assert len(default["items"]) == min(100, len(ids))
    actions = staff.get("/v1/audit", params={"action": "account.create", "account": acct["id"]}).json()["items"]
    assert len(actions) == 3
    assert staff.get("/v1/audit", params={"action": "token.revoke", "account": acct["id"]}).json()["items"] == []
    for x in staff.get("/v1/audit", params={"action": "account.create"}).json()["items"]:
        assert x["action"] == "account.create"


def test_audit_log_by_ip(staff, db):
    sql(db, "INSERT INTO audit_log (action, ip, object, detail) VALUES"
            " ('test.ip', '2001:db8::10', 'ptr 2001:db8::10', '{\"k\": 1}'),"
            " ('test.ip', '192.0.2.77', 'ptr 192.0.2.77', NULL),"
            " ('test.ip', '::ffff:192.0.2.77', 'ptr ::ffff:192.0.2.77', NULL)")
    for text in ("2001:db8::10", "2001:DB8:0:0:0:0:0:10", "2001:0db8::0010"):
        items = staff.get("/v1/audit", params={"ip": text}).json()["items"]
        assert [(x["ip"], x["object"], x["detail"]) for x in items] == \
            [("2001:db8::10", "ptr 2001:db8::10", {"k": 1})]
    items = staff.get("/v1/audit", params={"ip": "192.0.2.77"}).json()["items"]
    assert [x["object"] for x in items] == ["ptr 192.0.2.77"]
    items = staff.get("/v1/audit", params={"ip": "::FFFF:192.0.2.77"}).json()["items"]
    assert [x["ip"] for x in items] == ["::ffff:192.0.2.77"]
    assert staff.get("/v1/audit", params={"ip": "192.0.2.78"}).json() == {"items": [], "next": None}


@pytest.mark.parametrize("params", [
    {"ip": "192.0.2.256"}, {"ip": "010.0.0.1"}, {"ip": "192.0.2.0/24"}, {"ip": "example.com"}, {"ip": ""},
    {"limit": "0"}, {"limit": "1001"}, {"limit": "ten"}, {"limit": "-1"},
    {"before": "0"}, {"before": "x"}, {"account": "me"}, {"account": "0"},
])
def test_audit_log_rejects_bad_parameters(staff, params):
    body = problem(staff.get("/v1/audit", params=params), 400)
    assert body["parameter"] == next(iter(params))


def test_openapi_documents_the_staff_routes(anon):
    import yaml
    doc = yaml.safe_load(anon.get("/v1/openapi.yaml").text)
    paths = doc["paths"]
    for method, path, _ in STAFF_ROUTES:
        templ = re.sub(r"/v1/(accounts|tokens|allocations)/\d+", lambda m: f"/v1/{m.group(1)}/{{id}}", path)
        templ = re.sub(r"/v1/zones/[^/]+$", "/v1/zones/{name}", templ)
        assert templ in paths, templ
        assert method.lower() in paths[templ], (method, templ)
