"""Policy holes of issue #13 item 7: what the API must refuse, and how it answers."""
import threading

import pytest

from conftest import Client, all_items, field_errors, new_account, problem, sql  # noqa: F401


def new_token(staff, acct):
    r = staff.post(f"/v1/accounts/{acct['id']}/tokens")
    assert r.status_code == 201, r.text
    return r.json()


ZONE = {"nameservers": ["ns1.example.net", "ns2.example.net"]}


# ---- one id grammar: no leading zeros in token texts or token paths ----

def test_token_id_with_leading_zeros_is_not_the_token(api, staff):
    tok = new_token(staff, new_account(staff, "zero-pad-co"))
    _, tid, secret = tok["token"].split("_", 2)
    assert Client(api.base, tok["token"]).get("/v1/me").status_code == 200
    for padded in (f"rdns_0{tid}_{secret}", f"rdns_00{tid}_{secret}"):
        r = Client(api.base, padded).get("/v1/me")
        problem(r, 401)
        assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_token_path_with_leading_zeros_is_404(api, staff):
    tok = new_token(staff, new_account(staff, "zero-path-co"))
    problem(staff.delete(f"/v1/tokens/0{tok['id']}"), 404)
    # Not revoked by the padded path.
    assert Client(api.base, tok["token"]).get("/v1/me").status_code == 200


# ---- ?force= is true or false, as documented ----

@pytest.mark.parametrize("value", ["1", "0", "yes", "TRUE", "True", "", " true"])
def test_zone_delete_force_is_true_or_false_only(staff, value):
    z = staff.post("/v1/zones", json=dict(ZONE, prefix="198.18.200.0/24"))
    assert z.status_code in (201, 409), z.text
    name = "200.18.198.in-addr.arpa"
    body = problem(staff.delete(f"/v1/zones/{name}", params={"force": value}), 400)
    assert body["parameter"] == "force"
    # The zone is still there.
    assert staff.get(f"/v1/zones/{name}").status_code == 200


# ---- NOTIFY targets are hosts ----

@pytest.mark.parametrize("target, words", [
    ("0.0.0.0", "unspecified"), ("0.0.0.0:53", "unspecified"), ("[::]:53", "unspecified"),
    ("::", "unspecified"), ("255.255.255.255", "broadcast"), ("224.0.0.1", "multicast"),
    ("239.255.255.250:1900", "multicast"), ("ff02::1", "multicast"), ("[ff05::fb]:5353@k", "multicast"),
    ("::ffff:224.0.0.251", "multicast"),
])
def test_notify_target_must_be_a_host(staff, target, words):
    body = dict(ZONE, prefix="198.18.201.0/24", notify=["192.0.2.53", target])
    errors = field_errors(staff.post("/v1/zones", json=body))
    assert words in errors["notify[1]"], errors
    assert staff.get("/v1/zones/201.18.198.in-addr.arpa").status_code == 404
    # Nor by PATCH.
    z = staff.post("/v1/zones", json=dict(ZONE, prefix="198.18.202.0/24"))
    assert z.status_code in (201, 409), z.text
    errors = field_errors(staff.patch("/v1/zones/202.18.198.in-addr.arpa", json={"notify": [target]}))
    assert words in errors["notify[0]"], errors
    assert staff.get("/v1/zones/202.18.198.in-addr.arpa").json()["notify"] == []


# ---- a zone's default_ptr is held to the PTR policy ----

@pytest.mark.parametrize("template, suffix", [
    ("{dashed}.localhost", "localhost"), ("host-{d}.internal", "internal"), ("{dashed}.home.arpa", "home.arpa"),
    ("{reverse}.in-addr.arpa", "in-addr.arpa"), ("{dashed}.dyn.example", "example"),
])
def test_default_ptr_in_a_special_domain_is_refused(staff, template, suffix):
    errors = field_errors(staff.post("/v1/zones", json=dict(ZONE, prefix="198.18.203.0/24", default_ptr=template)))
    assert f"'{suffix}'" in errors["default_ptr"] and "special-use" in errors["default_ptr"], errors
    assert staff.get("/v1/zones/203.18.198.in-addr.arpa").status_code == 404
    z = staff.post("/v1/zones", json=dict(ZONE, prefix="198.18.204.0/24"))
    assert z.status_code in (201, 409), z.text
    errors = field_errors(staff.patch("/v1/zones/204.18.198.in-addr.arpa", json={"default_ptr": template}))
    assert "special-use" in errors["default_ptr"], errors
    assert staff.get("/v1/zones/204.18.198.in-addr.arpa").json()["default_ptr"] is None


def test_default_ptr_in_a_denied_domain_is_refused(api_factory):
    api = api_factory({"denied_domains": "brand.example.net"})
    staff = Client(api.base, api.add_staff("staff-denied"))
    body = dict(ZONE, prefix="198.18.205.0/24", default_ptr="{dashed}.pool.Brand.Example.NET")
    errors = field_errors(staff.post("/v1/zones", json=body))
    assert "'brand.example.net'" in errors["default_ptr"] and "does not allow" in errors["default_ptr"], errors
    # A public name outside it is fine.
    r = staff.post("/v1/zones", json=dict(body, default_ptr="{dashed}.pool.mybrand.example.net"))
    assert r.status_code == 201, r.text


# ---- account names: no invisible or reordering characters, no padding ----

@pytest.mark.parametrize("name, words", [
    ("invoice\u202egpj.exe", "U+202E"), ("\u202aembedded", "U+202A"), ("iso\u2066late\u2069", "U+2066"),
    ("zero\u200bwidth", "U+200B"), ("joiner\u200d", "U+200D"), ("\ufeffbom", "U+FEFF"),
    ("\u00a0leading-nbsp", "U+00A0"), ("trailing-nbsp\u00a0", "U+00A0"), ("ideographic\u3000", "U+3000"),
    ("line\u2028separator", "U+2028"),
])
def test_account_name_refuses_format_characters_and_padding(staff, name, words):
    body = problem(staff.post("/v1/accounts", json={"name": name, "role": "customer"}), 400)
    errors = {e["field"]: e["error"] for e in body["errors"]}
    assert words in errors["name"], errors
    assert body["detail"].startswith("name: ")
    assert name not in [a["name"] for a in all_items(staff, "/v1/accounts")]


def test_account_name_keeps_real_text(staff):
    for name in ("Acme\u00a0Hosting", "\u05e9\u05dc\u05d5\u05dd Ltd", "caf\u00e9 \U0001f600"):
        assert new_account(staff, name)["name"] == name


# ---- a JSON body is UTF-8: another charset is a 415 ----

@pytest.mark.parametrize("ctype", [
    "application/json; charset=utf-16", "application/json;charset=UTF-16LE", "application/json; charset=\"utf-16\"",
    "application/json; charset=iso-8859-1", "application/json; charset=utf-8; charset=utf-16",
])
def test_json_body_in_another_charset_is_415(staff, ctype):
    enc = "utf-16" if "16" in ctype else "latin-1"
    data = '{"name": "charset-co", "role": "customer"}'.encode(enc)
    body = problem(staff.post("/v1/accounts", data=data, headers={"Content-Type": ctype}), 415)
    assert "UTF-8" in body["detail"]
    # Not even when the bytes happen to be ASCII.
    problem(staff.post("/v1/accounts", data=b'{"name": "charset-co", "role": "customer"}',
                       headers={"Content-Type": ctype}), 415)
    assert "charset-co" not in [a["name"] for a in all_items(staff, "/v1/accounts")]


@pytest.mark.parametrize("ctype", ["application/json", "application/json; charset=utf-8",
                                   "application/json;charset=\"UTF-8\"", "Application/JSON ; CHARSET=Utf-8"])
def test_json_body_in_utf8_is_taken(staff, ctype):
    name = f"utf8-co {len(ctype)} {ctype.count(' ')}"
    r = staff.post("/v1/accounts", data=('{"name": "%s", "role": "customer"}' % name).encode(),
                   headers={"Content-Type": ctype})
    assert r.status_code == 201, r.text


# ---- the last live staff token cannot be revoked ----

def live_staff_tokens(db):
    return [r[0] for r in sql(db, "SELECT t.id FROM api_tokens t JOIN accounts a ON a.id = t.account_id"
                                  " WHERE a.role = 'staff' AND t.revoked_at IS NULL ORDER BY t.id")]


def test_last_staff_token_cannot_be_revoked(api, staff, db):
    (admin_tid,) = sql(db, "SELECT t.id FROM api_tokens t JOIN accounts a ON a.id = t.account_id"
                           " WHERE a.name = 'staff-admin'")[0]
    others = [t for t in live_staff_tokens(db) if t != admin_tid]
    try:
        for t in others:
            assert staff.delete(f"/v1/tokens/{t}").status_code == 204
        assert live_staff_tokens(db) == [admin_tid]
        before = sql(db, "SELECT count(*) FROM audit_log WHERE action = 'token.revoke'")[0][0]
        body = problem(staff.delete(f"/v1/tokens/{admin_tid}"), 409)
        assert body["type"].endswith("last-staff-token") and "last" in body["detail"]
        assert staff.get("/v1/accounts").status_code == 200
        assert sql(db, "SELECT count(*) FROM audit_log WHERE action = 'token.revoke'")[0][0] == before

        # With a second staff token either may go, but not both, even at the same moment.
        ops_acct = new_account(staff, "ops-last", "staff")
        ops_tok = new_token(staff, ops_acct)
        ops = Client(api.base, ops_tok["token"])
        results = {}

        def revoke(name, client, tid):
            results[name] = client.delete(f"/v1/tokens/{tid}")

        threads = [threading.Thread(target=revoke, args=("admin", staff, ops_tok["id"])),
                   threading.Thread(target=revoke, args=("ops", ops, admin_tid))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # The loser is refused as the last (409) or, when the winner committed before it
        # authenticated, as revoked (401); either way one staff token is left.
        codes = sorted(r.status_code for r in results.values())
        assert codes[0] == 204 and codes[1] in (401, 409), {k: r.text for k, r in results.items()}
        assert len(live_staff_tokens(db)) == 1
        # Customer tokens do not count: with one staff token left they are revoked as ever.
        survivor = staff if live_staff_tokens(db) == [admin_tid] else ops
        cust = new_token(survivor, new_account(survivor, "cust-last"))
        assert survivor.delete(f"/v1/tokens/{cust['id']}").status_code == 204
    finally:
        sql(db, "UPDATE api_tokens SET revoked_at = NULL WHERE id = %s", admin_tid)


# ---- the write rate limit is a token bucket, not a calendar minute ----

def rate_env(api_factory, staff, db, limit, third):
    """A customer with 198.18.<third>.0/28 in a zone, on an instance limiting writes to
    limit a minute; returns (client, address)."""
    prefix = f"198.18.{third}.0/24"
    assert staff.post("/v1/zones", json=dict(ZONE, prefix=prefix)).status_code == 201
    acct = new_account(staff, f"rate-co-{third}")
    r = staff.post("/v1/allocations", json={"account_id": acct["id"], "prefix": f"198.18.{third}.0/28"})
    assert r.status_code == 201, r.text
    limited = api_factory({"rate_limit_writes": limit})
    return Client(limited.base, new_token(staff, acct)["token"]), f"198.18.{third}.5"


def pg_second(db):
    return float(sql(db, "SELECT extract(second FROM clock_timestamp())")[0][0])


def sleep_to_second(db, target):
    """Sleep until PostgreSQL's clock shows second `target` of a minute (the next one)."""
    import time
    time.sleep((target - pg_second(db)) % 60)


def writes(client, ip, n):
    """n DELETEs (each counts as a write); how many were not 429."""
    codes = [client.delete(f"/v1/ptr/{ip}").status_code for _ in range(n)]
    assert set(codes) <= {204, 404, 429}, codes
    return sum(c != 429 for c in codes)


def test_rate_limit_is_not_reset_at_a_minute_boundary(api_factory, staff, db):
    limit = 20
    client, ip = rate_env(api_factory, staff, db, limit, 210)
    sleep_to_second(db, 58.0)
    assert writes(client, ip, limit) == limit  # a full bucket
    problem(client.delete(f"/v1/ptr/{ip}"), 429)
    sleep_to_second(db, 0.5)  # a new calendar minute: a fixed window would take 20 more
    assert pg_second(db) < 5
    assert writes(client, ip, limit) <= 1  # the ~3 s since refilled one token at most


def test_rate_limit_refills_continuously(api_factory, staff, db):
    import time
    client, ip = rate_env(api_factory, staff, db, 60, 211)  # one token a second
    assert writes(client, ip, 60) == 60
    r = client.delete(f"/v1/ptr/{ip}")
    problem(r, 429)
    assert r.headers["Retry-After"] == "1"
    assert writes(client, ip, 2) == 0
    time.sleep(1.2)
    assert writes(client, ip, 3) == 1


def test_rate_take_many_is_rate_take_for_each_account(staff, db):
    """rdns_rate_take_many, the rate group's statement, gives each account what
    rdns_rate_take would: a new bucket starts full, an empty one refuses with the seconds
    until a token, an account that does not exist has no row and breaks nothing."""
    fresh, low = new_account(staff, "rate-many-fresh")["id"], new_account(staff, "rate-many-low")["id"]
    sql(db, "INSERT INTO rate_buckets (account_id, tokens, updated_at) VALUES (%s, 0.2, clock_timestamp())", low)
    nobody = sql(db, "SELECT max(id) + 1000 FROM accounts")[0][0]
    rows = sql(db, "SELECT o_idx, o_allowed, o_retry_after FROM rdns_rate_take_many(%s::bigint[], 6) ORDER BY 1",
               [fresh, nobody, low])
    # 6 a minute: a token every 10 s, and 0.8 of one is missing: 8 s
    assert rows == [(1, True, 0), (3, False, 8)], rows
    buckets = dict(sql(db, "SELECT account_id, tokens FROM rate_buckets WHERE account_id IN (%s, %s, %s)",
                       fresh, low, nobody))
    assert buckets[fresh] == 5 and 0.2 <= buckets[low] < 0.3 and nobody not in buckets, buckets
    # both buckets there now (no INSERT on the way): one more from fresh, still none from low
    rows = sql(db, "SELECT o_idx, o_allowed FROM rdns_rate_take_many(%s::bigint[], 6) ORDER BY 1", [low, fresh])
    assert rows == [(1, False), (2, True)], rows
    assert 3.9 < sql(db, "SELECT tokens FROM rate_buckets WHERE account_id = %s", fresh)[0][0] <= 4.1
    # the same account alone, as rdns_rate_take: the refill it wrote, nothing taken
    assert sql(db, "SELECT o_allowed FROM rdns_rate_take(%s, 6)", low) == [(False,)]


def test_rate_takes_of_many_accounts_share_batches_and_stay_exact(api_factory, staff, db, dburl):
    """The write rate limit runs in the rate group (api/batch.c): the takes that wait while a
    batch runs go in one statement, an account at most once in each. Each account still
    gets exactly its limit, however its writes fall into batches. A row lock on one
    account's bucket holds the group's first batch, so the others queue behind it."""
    import time
    import psycopg2
    from harness import wait_until
    from test_metrics import parse, val
    limit, per_account = 5, 8
    prefix = "198.18.212.0/24"
    assert staff.post("/v1/zones", json=dict(ZONE, prefix=prefix)).status_code == 201
    api = api_factory({"rate_limit_writes": limit, "api_threads": 32})
    clients = []
    for k in range(12):
        acct = new_account(staff, f"rate-batch-{k}")
        r = staff.post("/v1/allocations", json={"account_id": acct["id"], "prefix": f"198.18.212.{16 * k}/28"})
        assert r.status_code == 201, r.text
        clients.append((acct["id"], Client(api.base, new_token(staff, acct)["token"]), f"198.18.212.{16 * k + 1}"))
    holder_id, holder, holder_ip = clients[0]
    assert holder.delete(f"/v1/ptr/{holder_ip}").status_code in (204, 404)  # its bucket exists now
    lock = psycopg2.connect(dburl)
    codes = {acct: [] for acct, _, _ in clients}
    try:
        with lock.cursor() as cur:
            cur.execute("SELECT 1 FROM rate_buckets WHERE account_id = %s FOR UPDATE", (holder_id,))
        held = threading.Thread(target=lambda: codes[holder_id].append(holder.delete(f"/v1/ptr/{holder_ip}").status_code))
        held.start()
        wait_until(lambda: sql(db, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'rdns-rates'"
                                   " AND wait_event_type = 'Lock'")[0][0] == 1, what="the rate batch on the lock")

        def writer(acct, token, ip):  # two of these an account: its writes also meet in the queue
            client = Client(api.base, token)
            for _ in range(per_account // 2):
                codes[acct].append(client.delete(f"/v1/ptr/{ip}").status_code)
        threads = [threading.Thread(target=writer, args=(acct, client.s.headers["Authorization"].split()[1], ip))
                   for acct, client, ip in clients[1:] for _ in range(2)]
        for t in threads:
            t.start()
        time.sleep(0.5)  # every other account's first writes queue behind the held batch
        lock.commit()
        for t in threads + [held]:
            t.join(30)
            assert not t.is_alive()
    finally:
        lock.close()
    for acct, _, _ in clients[1:]:
        assert set(codes[acct]) <= {204, 404, 429}, codes[acct]
        assert sum(c != 429 for c in codes[acct]) == limit, (acct, codes[acct])
    assert codes[holder_id] and codes[holder_id][0] in (204, 404)
    samples = parse(Client(api.base, staff.s.headers["Authorization"].split()[1]).get("/metrics").text)

    def series(name, **labels):
        return val(samples, name, **labels)
    takes = 2 + per_account * (len(clients) - 1)
    assert series("rdns_api_batch_size_sum", group="rate") == takes
    batches = series("rdns_api_batch_size_count", group="rate")
    alone = series("rdns_api_batch_size_bucket", group="rate", le="1")
    assert batches - alone >= 1, (batches, alone)  # one statement took several accounts' writes
    assert series("rdns_api_batch_failures_total", group="rate") == 0


def test_rate_takes_survive_their_session_being_killed(api_factory, staff, db):
    """The rate group's own session ended under it (a failover, an operator's
    pg_terminate_backend): the next take reconnects and the bucket stays exact."""
    limit = 5
    client, ip = rate_env(api_factory, staff, db, limit, 213)
    assert writes(client, ip, 2) == 2
    # (other tests' instances may share this database: every rate session goes)
    killed, at = sql(db, "SELECT count(pg_terminate_backend(pid)), clock_timestamp() FROM pg_stat_activity"
                         " WHERE application_name = 'rdns-rates' AND datname = current_database()")[0]
    assert killed >= 1
    assert writes(client, ip, limit - 2) == limit - 2
    problem(client.delete(f"/v1/ptr/{ip}"), 429)
    assert sql(db, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'rdns-rates'"
                   " AND datname = current_database() AND backend_start > %s", at)[0][0] == 1
