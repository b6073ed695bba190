"""test_scale_plans.py - the hot statements at a provider's scale (issue #17).

One database of its own in the harness's cluster, built by bench/scale.py at 1/20 of the
provider profile (10,000 accounts with tokens, 819 /24 and 3,276 /48 zones, 50,000
allocations of four kinds, 50,000 custom PTRs, 100,000 requests and audit entries) and, by
scale.load_hot(), what the list routes, rdns-zonegen and rdns-verifier read that the profile
leaves empty or uniform (a reseller with 20,000 requests, audit entries and events, 5,000
requests pending review, 2,000 waiting with their jobs, a re-verification row per record,
10,000 changes waiting in 1,000 zones), then analysed. What is checked is the pages each statement
reads, not its time: at this size the GiST lookups "which allocation / zone holds this
address" already read 14-34 pages (63-179 at the full profile), the btree floor lookups of
db/floor.h 2-4 at any size. Every statement is the binary's own text (the C preprocessor's
expansion of its DB_STMT) with the generic plan forced, the worst plan PostgreSQL may pick
for it once it has run a few times."""
import collections
import io
import ipaddress
import os
import re
import subprocess
import sys
import threading
import time

import psycopg2
import pytest

import harness
from conftest import Client

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
import scale  # noqa: E402

DIV = 20
# pages one lookup of a table that grows may read (a btree of any size here: root, inner, leaf, heap)
MAX_PAGES = 6
# (delegations: empty in the profile, where a sequential scan of it is the right plan)
GROWING = ("allocations", "reverse_zones", "ptr_records", "api_tokens", "accounts", "ptr_requests", "audit_log",
           "zone_changes", "events", "ptr_checks", "verify_jobs", "zone_record_counts", "rate_buckets",
           "diag_buckets")
BIG = scale.BIG_ACCOUNT  # the reseller of scale.load_hot(): the largest account filter
LIMIT = 100  # a page as the routes read it: the default limit, and one row more


def migrated_db(pg, name):
    """A new database of the harness's cluster at the current schema."""
    url = pg.create_db(name)
    migrator = harness.Api(url)
    try:
        migrator.run("migrate")
    finally:
        migrator.close()
    return url


@pytest.fixture(scope="module")
def scaled(pg):
    url = migrated_db(pg, "rdns_scale_plans")
    scale.build(url, div=DIV, log=lambda *a: None)
    scale.load_hot(url, div=DIV, log=lambda *a: None)
    return url


def node_pages(plan):
    """[(node line, pages read)] for every plan node that reads a table or index, pages
    being shared hit + read of its Buffers line (EXPLAIN ANALYZE, BUFFERS, text format)."""
    out, lines = [], plan.split("\n")
    for i, line in enumerate(lines):
        if not re.search(r"(Index Scan|Index Only Scan|Seq Scan|Bitmap Heap Scan|Bitmap Index Scan)", line):
            continue
        for nxt in lines[i + 1:i + 6]:
            m = re.search(r"Buffers: shared(?: hit=(\d+))?(?: read=(\d+))?", nxt)
            if m:
                out.append((line.strip(), int(m.group(1) or 0) + int(m.group(2) or 0)))
                break
    return out


def seq_scans(plan):
    """The growing tables plan reads sequentially."""
    return [t for t in GROWING if re.search(rf"Seq Scan on {t}\b", plan)]


def check_plan(what, plan):
    assert not seq_scans(plan), f"{what}:\n{plan}"
    nodes = node_pages(plan)
    assert nodes, f"{what}: no scan nodes with buffers in\n{plan}"
    for line, pages in nodes:
        if any(f" on {t}" in line for t in ("allocations", "reverse_zones")):
            assert pages <= MAX_PAGES, f"{what}: {line} read {pages} pages\n{plan}"


def explain(cur, sql, args=()):
    cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, args)
    return "\n".join(r for (r,) in cur.fetchall())


# addresses of the profile at 1/20: allocation i of each kind (see bench/scale.py)
V4_29 = "10.0.0.41"            # inside allocation 5 (10.0.0.40/29), its PTR is .41
V4_32 = str(ipaddress.ip_address("10.0.0.0") + scale.N_ALLOC_EACH // DIV * 8 + 8 * 7)  # the 8th /32
V6_56 = "2001:db8:5::1"        # the /56 of allocation 5 (zone 5, /56 index 0)
V6_64 = "2001:db8:7:800::1"    # the /64 of allocation 7
MISSING = "2001:db8:7:900::1"  # in zone 7, in no allocation


def test_hot_lookups_read_a_few_pages_whatever_the_size(scaled, pg):
    """The GET path as rdns-api runs it (the token, the zone, the allocation, the record,
    the delegation in one statement, read off the live connection, generic plan): every
    allocation and zone lookup reads at most MAX_PAGES pages, none scans a growing table."""
    api = harness.Api(scaled, {"api_threads": 2})
    try:
        api.start()
        token = scale.token(6)  # account 6 holds allocation 5 of each kind
        c = Client(api.base, token)
        for ip in (V4_29, V6_56):
            r = c.get(f"/v1/ptr/{ip}")
            assert r.status_code == 200 and r.json()["source"] == "custom", r.text
        r = c.get(f"/v1/ptr/{MISSING}")
        assert r.status_code == 404, r.text
        conn = psycopg2.connect(scaled)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT query FROM pg_stat_activity WHERE application_name = 'rdns-lookups'"
                        " AND datname = current_database()")
            [single] = [q for (q,) in cur.fetchall()]
            assert "FROM api_tokens t JOIN accounts a" in single, single
            cur.execute("SET plan_cache_mode = force_generic_plan")
            cur.execute(f"PREPARE single AS {single}")
            for ip in (V4_29, V4_32, V6_56, V6_64, MISSING):
                check_plan(f"GET lookup of {ip}", explain(cur, "EXECUTE single(%s, %s)", (6, ip)))
        conn.close()
    finally:
        api.stop()
        api.close()


def test_apply_functions_read_a_few_pages_whatever_the_size(scaled):
    """rdns_ptr_apply, rdns_ptr_apply_batch and rdns_ptr_bulk_apply as the API calls them,
    every statement they run explained by auto_explain with its buffers."""
    conn = psycopg2.connect(scaled)
    conn.autocommit = True
    conn.notices = collections.deque(maxlen=10000)
    try:
        with conn.cursor() as cur:
            for stmt in ("LOAD 'auto_explain'", "SET auto_explain.log_min_duration = 0",
                         "SET auto_explain.log_analyze = on", "SET auto_explain.log_buffers = on",
                         "SET auto_explain.log_nested_statements = on", "SET auto_explain.log_level = 'notice'",
                         "SET client_min_messages = notice", "SET plan_cache_mode = force_generic_plan"):
                cur.execute(stmt)
            cur.execute("SELECT o_request FROM rdns_ptr_apply(%s, 'x41.example.net', 6, 6, 'c', false, NULL, NULL,"
                        " NULL)", (V4_29,))
            assert cur.fetchone()[0] is not None
            cur.execute("SELECT count(*) FROM rdns_ptr_apply_batch(ARRAY[%s, %s]::inet[],"
                        " ARRAY['x1.example.net', 'x2.example.net'], ARRAY[6, 6]::bigint[], ARRAY[6, 6]::bigint[],"
                        " ARRAY['c', 'c'], ARRAY[false, false], ARRAY[NULL, NULL], ARRAY[NULL, NULL])",
                        (V6_56, "2001:db8:5::2"))
            assert cur.fetchone() == (2,)
        plans = "".join(conn.notices)
        assert plans.count("Query Text:") >= 6, plans
        assert "allocations" in plans and "reverse_zones" in plans, plans
        check_plan("apply functions", plans)
    finally:
        conn.close()


_expanded = {}


def source_statement(path, name):
    """The SQL text of DB_STMT(name, ...) in one of our C files as the binary has it: the
    file through the C preprocessor (the statements are built with macros: db/floor.h,
    column lists, page wrappers), then the string literals of that statement joined."""
    if path not in _expanded:
        flags = subprocess.run(["pkg-config", "--cflags", "libpq", "jansson"], check=True, text=True,
                               stdout=subprocess.PIPE).stdout.split()
        _expanded[path] = subprocess.run(["cc", "-E", "-P", "-std=c17", "-D_GNU_SOURCE", "-I.", "-Ibuild/gen"]
                                         + flags + [path], cwd=harness.ROOT, check=True, text=True,
                                         stdout=subprocess.PIPE).stdout
    m = re.search(r"static db_stmt_t " + name + r" = \{\"" + name + r"\",\s*((?:\"(?:[^\"\\]|\\.)*\"\s*)+),"
                  r"\s*\d+,\s*-1\s*\};", _expanded[path])
    assert m, f"{name} not found in {path}"
    text = "".join(re.findall(r"\"((?:[^\"\\]|\\.)*)\"", m.group(1)))
    return re.sub(r"\\(.)", r"\1", text)


def test_zonegen_wakeup_reads_the_changed_zones_not_the_changes(scaled):
    """#17: rdns-zonegen asks on every wake-up which zones have changes waiting. With a
    burst of 100,000 changes waiting in 3 zones that statement reads a few pages per zone
    (it read every waiting row: a DISTINCT over zone_changes)."""
    sql = source_statement("db/zones.c", "st_dirty")
    conn = psycopg2.connect(scaled)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM reverse_zones ORDER BY id LIMIT 3")
            zones = [z for (z,) in cur.fetchall()]
            cur.execute("INSERT INTO zone_changes (zone_id) SELECT (%s::bigint[])[1 + n %% 3]"
                        " FROM generate_series(1, 100000) n", (zones,))
            cur.execute("ANALYZE zone_changes")
            cur.execute("SET plan_cache_mode = force_generic_plan")
            cur.execute(sql)
            got = [z for (z,) in cur.fetchall()]
            cur.execute("SELECT DISTINCT zone_id FROM zone_changes ORDER BY 1")  # the reference
            want = [z for (z,) in cur.fetchall()]
            assert got == want and set(zones) <= set(got), (got, zones)  # earlier tests' changes too
            plan = explain(cur, sql)
            assert "Seq Scan on zone_changes" not in plan, plan
            total = sum(p for line, p in node_pages(plan) if "zone_changes" in line)
            assert total <= 8 * (len(got) + 1), f"the wake-up read {total} pages of zone_changes:\n{plan}"
            cur.execute("DELETE FROM zone_changes WHERE zone_id = ANY (%s::bigint[])", (zones,))
            # as autovacuum does after rdns-zonegen's renders: until then (or a first scan has
            # marked them dead) a probe of these zones' changes wades through 100,000 dead
            # index entries, which the next tests would count
            cur.execute("VACUUM zone_changes")
    finally:
        conn.close()


FIRST = 2**63 - 1  # the cursor of a first page ("below every id")


def statement_pages(plan):
    """The pages a whole statement read: its top node's Buffers line, which counts those of
    every node below it once (EXPLAIN ANALYZE, BUFFERS, text format). Not the Planning
    section's (the catalog, once per session for a prepared statement), which is the only
    Buffers line of a statement whose nodes read nothing (an empty table)."""
    m = re.search(r"Buffers: shared(?: hit=(\d+))?(?: read=(\d+))?", plan.split("\nPlanning:")[0])
    return int(m.group(1) or 0) + int(m.group(2) or 0) if m else 0


def explain_statement(cur, path, name, args):
    """EXPLAIN (ANALYZE, BUFFERS) of the binary's statement `name` of `path` with the generic
    plan, in a transaction rolled back (some of them write): (plan text, result rows)."""
    cur.execute("SET plan_cache_mode = force_generic_plan")
    cur.execute("DEALLOCATE ALL")
    cur.execute(f"PREPARE hot AS {source_statement(path, name)}")
    marks = ", ".join(["%s"] * len(args))
    cur.execute("BEGIN")
    try:
        cur.execute(f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE hot({marks})" if args else
                    "EXPLAIN (ANALYZE, BUFFERS) EXECUTE hot", args)
        plan = "\n".join(r for (r,) in cur.fetchall())
        cur.execute(f"EXECUTE hot({marks})" if args else "EXECUTE hot", args)
        rows = cur.fetchall() if cur.description else []
    finally:
        cur.execute("ROLLBACK")
    return plan, rows


def check_bounded(what, plan, max_pages):
    assert not seq_scans(plan), f"{what}: a sequential scan of a growing table:\n{plan}"
    pages = statement_pages(plan)
    assert pages <= max_pages, f"{what}: read {pages} pages (at most {max_pages}):\n{plan}"
    return pages


def one(cur, sql, args=()):
    cur.execute(sql, args)
    return cur.fetchone()[0]


# pages a statement may read per row it returns, and once: a list page reads an index leaf or
# two and about a heap page per row, more where each row has a lookup of its own
PER_ROW_LIST = 3        # audit entries, requests, events
PER_ROW_PTR = 6         # records, each with its re-verification row
PER_ROW_DRIFTED = 9     # drifted rows, each with its record and its row again
PER_ROW_ZONE = 12       # zones, each with its pending probe and its record count
PER_ZONE_DONE = 6       # a zone's serial committed: its row through the key, its changes
PER_ADDRESS = 12        # GET /v1/addresses: zone, holder and record of each address
ONCE = 30


def test_hot_statements_read_a_bounded_number_of_pages(scaled):
    """Every statement rdns-api, rdns-zonegen and rdns-verifier run per request, per wake-up,
    render or reconcile, or per job (db/*.c), with the largest filters of the profile and
    the cursor of a first and of a deep page, read no growing table sequentially and a
    number of pages bounded by the rows they return. (The list routes' statements read the
    whole table for a rare filter: 3,079 pages for an empty page of ?action=, 2,771 for
    ?state=expired, a sequential scan of ptr_requests for ?state=pending_review, of
    zone_changes for the zones' dirty flag.)"""
    conn = psycopg2.connect(scaled)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            def q(sql, args=()):
                return one(cur, sql, args)

            big_ip = q("SELECT host(ip) FROM ptr_records WHERE account_id = %s ORDER BY ip LIMIT 1", (BIG,))
            mid_audit = q("SELECT id FROM audit_log WHERE actor_id = %s ORDER BY id DESC OFFSET %s LIMIT 1",
                          (BIG, scale.N_BIG // DIV // 2))
            mid_set = q("SELECT id FROM audit_log WHERE action = 'ptr.set' ORDER BY id DESC OFFSET 40000 LIMIT 1")
            mid_pending = q("SELECT id FROM ptr_requests WHERE state = 'pending_review' ORDER BY id DESC"
                            " OFFSET %s LIMIT 1", (scale.N_PENDING // DIV // 2,))
            mid_req = q("SELECT id FROM ptr_requests WHERE account_id = %s ORDER BY id DESC OFFSET %s LIMIT 1",
                        (BIG, scale.N_BIG // DIV // 2))
            mid_event = q("SELECT id FROM events WHERE account_id = %s ORDER BY id OFFSET %s LIMIT 1",
                          (BIG, scale.N_BIG // DIV // 2))
            v4_16 = "10.2.0.0/16"  # every 8th address, /32 allocations: 8,192 records
            mid_16 = q("SELECT host(ip) FROM ptr_records WHERE ip <<= %s ORDER BY ip OFFSET 4000 LIMIT 1", (v4_16,))
            mid_drift = q("SELECT host(ip) FROM ptr_checks WHERE state = 'drifted' ORDER BY ip OFFSET 500 LIMIT 1")
            zone = q("SELECT id FROM reverse_zones ORDER BY id LIMIT 1 OFFSET 5")
            zone_name = q("SELECT name FROM reverse_zones WHERE id = %s", (zone,))
            mid_zone = q("SELECT prefix::text FROM reverse_zones ORDER BY prefix OFFSET 2000 LIMIT 1")
            dirty = q("SELECT zone_id FROM zone_changes ORDER BY seq LIMIT 1")
            last_seq = q("SELECT max(seq) FROM zone_changes WHERE zone_id = %s", (dirty,))
            batch_ids = q("SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM reverse_zones ORDER BY id"
                          " OFFSET 100 LIMIT 128) s")
            big_alloc = q("SELECT id FROM allocations WHERE account_id = %s ORDER BY prefix LIMIT 1", (BIG,))
            big_prefix = q("SELECT prefix::text FROM allocations WHERE id = %s", (big_alloc,))
            req = q("SELECT id FROM ptr_requests WHERE account_id = %s ORDER BY id DESC LIMIT 1", (BIG,))
            mid_account = q("SELECT id FROM accounts ORDER BY id OFFSET %s LIMIT 1", (scale.N_ACCOUNTS // DIV // 2,))
            mid_name = q("SELECT name FROM accounts WHERE name LIKE 'customer-%%' ORDER BY name COLLATE \"C\""
                         " OFFSET %s LIMIT 1", (scale.N_ACCOUNTS // DIV // 2,))
            mid_alloc = q("SELECT prefix::text FROM allocations l ORDER BY l.prefix OFFSET %s LIMIT 1",
                          (4 * scale.N_ALLOC_EACH // DIV // 2,))
            no_alloc = q("SELECT max(id) + 1 FROM accounts")
            many_ids = "{%s}" % ",".join(str(i) for i in range(1, 400, 2))  # the panel's ?ids=, 200 of them
            L = LIMIT + 1
            cases = [
                # the token (every request), the GET and PUT lookups
                ("token lookup", "db/accounts.c", "st_token_get", (BIG,), ONCE),
                ("token last_used_at", "db/accounts.c", "st_token_touch", (BIG,), ONCE),
                ("a lookup batch's stale tokens", "db/accounts.c", "st_token_touch_many", ("{6,7,8}",), 3 * ONCE),
                ("PTR context", "db/ptr.c", "st_ctx", (big_ip,), ONCE),
                ("PTR GET, token and context", "db/ptr.c", "st_auth_ctx", (BIG, big_ip), ONCE),
                ("shared GET lookups", "db/ptr.c", "st_auth_ctx_batch", ("{6,7}", "{%s,%s}" % (V4_29, big_ip)),
                 2 * ONCE),
                ("bulk lookups", "db/bulk.c", "st_ctx", ("{%s,%s}" % (V4_29, big_ip),), 2 * ONCE),
                ("one request", "db/ptr.c", "st_request_get", (req, BIG), ONCE),
                # GET /v1/requests: the review queue, a reseller's history, by state, by address
                ("review queue", "db/ptr.c", "st_request_list_state", ("pending_review", FIRST, L),
                 PER_ROW_LIST * L + ONCE),
                ("review queue, deep page", "db/ptr.c", "st_request_list_state", ("pending_review", mid_pending, L),
                 PER_ROW_LIST * L + ONCE),
                ("requests in no such state", "db/ptr.c", "st_request_list_state", ("expired", FIRST, L), ONCE),
                ("reseller's requests", "db/ptr.c", "st_request_list_account", (BIG, FIRST, L),
                 PER_ROW_LIST * L + ONCE),
                ("reseller's requests, deep page", "db/ptr.c", "st_request_list_account", (BIG, mid_req, L),
                 PER_ROW_LIST * L + ONCE),
                ("reseller's requests by state", "db/ptr.c", "st_request_list_account_state",
                 (BIG, "applied", mid_req, L), PER_ROW_LIST * L + ONCE),
                ("reseller's requests in no such state", "db/ptr.c", "st_request_list_account_state",
                 (BIG, "expired", FIRST, L), ONCE),
                ("all requests", "db/ptr.c", "st_request_list_all", (FIRST, L), PER_ROW_LIST * L + ONCE),
                ("an address's requests", "db/ptr.c", "st_request_list_ip", (0, None, big_ip, FIRST, L),
                 PER_ROW_LIST * L + ONCE),
                # GET /v1/audit with each filter
                ("reseller's audit", "db/staff.c", "st_audit_by_actor", (BIG, FIRST, L), PER_ROW_LIST * L + ONCE),
                ("reseller's audit, deep page", "db/staff.c", "st_audit_by_actor", (BIG, mid_audit, L),
                 PER_ROW_LIST * L + ONCE),
                ("reseller's audit by action", "db/staff.c", "st_audit_by_actor_action",
                 (BIG, "ptr.delete", FIRST, L), PER_ROW_LIST * L + ONCE),
                ("reseller's audit, no such action", "db/staff.c", "st_audit_by_actor_action",
                 (BIG, "zone.update", FIRST, L), ONCE),
                ("audit by action", "db/staff.c", "st_audit_by_action", ("ptr.set", mid_set, L),
                 PER_ROW_LIST * L + ONCE),
                ("audit, no such action", "db/staff.c", "st_audit_by_action", ("zone.update", FIRST, L), ONCE),
                ("audit by address", "db/staff.c", "st_audit_by_ip", (big_ip, None, None, FIRST, L),
                 PER_ROW_LIST * L + ONCE),
                ("whole audit log", "db/staff.c", "st_audit_all", (FIRST, L), PER_ROW_LIST * L + ONCE),
                # GET /v1/zones, GET /v1/zones/{name}
                ("zones", "db/staff.c", "st_zone_list", ("0.0.0.0/0", L), PER_ROW_ZONE * L + ONCE),
                ("zones, deep page", "db/staff.c", "st_zone_list", (mid_zone, L), PER_ROW_ZONE * L + ONCE),
                ("one zone", "db/staff.c", "st_zone_get", (zone_name,), ONCE),
                # GET /v1/ptr: staff by prefix, a customer's, drifted
                ("records of a /16", "db/ptr.c", "st_ptr_list", (v4_16, None, LIMIT), PER_ROW_PTR * L + ONCE),
                ("records of a /16, deep page", "db/ptr.c", "st_ptr_list", (v4_16, mid_16, LIMIT),
                 PER_ROW_PTR * L + ONCE),
                ("every record", "db/ptr.c", "st_ptr_list", (None, None, LIMIT), PER_ROW_PTR * L + ONCE),
                ("a customer's records", "db/ptr.c", "st_ptr_list_own", (BIG, None, None, LIMIT),
                 PER_ROW_PTR * L + ONCE),
                ("a customer's records in a /16", "db/ptr.c", "st_ptr_list_own", (BIG, "10.0.0.0/16", None, LIMIT),
                 PER_ROW_PTR * L + ONCE),
                ("drifted records", "db/ptr.c", "st_ptr_list_drifted", (None, None, LIMIT),
                 PER_ROW_DRIFTED * L + ONCE),
                ("drifted records, deep page", "db/ptr.c", "st_ptr_list_drifted", (None, mid_drift, LIMIT),
                 PER_ROW_DRIFTED * L + ONCE),
                ("a customer's drifted records", "db/ptr.c", "st_ptr_list_drifted_own", (BIG, None, None, LIMIT),
                 PER_ROW_DRIFTED * L + ONCE),
                # GET /v1/events
                ("reseller's events", "db/events.c", "st_events_account", (BIG, 0, LIMIT), PER_ROW_LIST * L + ONCE),
                ("reseller's events, deep page", "db/events.c", "st_events_account", (BIG, mid_event, LIMIT),
                 PER_ROW_LIST * L + ONCE),
                ("every event", "db/events.c", "st_events_all", (mid_event, LIMIT), PER_ROW_LIST * L + ONCE),
                # the panel: GET /v1/addresses, GET /v1/allocations
                ("a page of addresses", "db/addresses.c", "st_addr_page", ("10.0.0.0", 0, 255), PER_ADDRESS * 256),
                ("allocation held", "db/addresses.c", "st_alloc_holds", (BIG, big_prefix), ONCE),
                ("one allocation", "db/addresses.c", "st_alloc_get", (big_alloc,), ONCE),
                ("allocation of an address", "db/staff.c", "st_alloc_list_ip", (big_ip, None, None), ONCE),
                ("allocation of an address, filtered", "db/staff.c", "st_alloc_list_ip",
                 (big_ip, BIG, "0.0.0.0/0"), ONCE),
                # GET /v1/allocations: every allocation by prefix, an account's (the panel's pages)
                ("allocations", "db/staff.c", "st_alloc_list_first", (L,), PER_ROW_LIST * L + ONCE),
                ("allocations, deep page", "db/staff.c", "st_alloc_list", (mid_alloc, L), PER_ROW_LIST * L + ONCE),
                ("reseller's allocations", "db/staff.c", "st_alloc_list_account_first", (BIG, L), ONCE),
                ("reseller's allocations, next page", "db/staff.c", "st_alloc_list_account", (BIG, big_prefix, L),
                 ONCE),
                ("allocations of an account with none", "db/staff.c", "st_alloc_list_account_first",
                 (no_alloc, L), ONCE),
                # GET /v1/accounts: by id, by role (the few staff accounts: read past every customer
                # by the primary key), by ids (the panel's names), by name prefix (its picker)
                ("accounts", "db/staff.c", "st_account_list", (0, L), PER_ROW_LIST * L + ONCE),
                ("accounts, deep page", "db/staff.c", "st_account_list", (mid_account, L), PER_ROW_LIST * L + ONCE),
                ("staff accounts", "db/staff.c", "st_account_list_role", ("staff", 0, L), ONCE),
                ("customer accounts, deep page", "db/staff.c", "st_account_list_role", ("customer", mid_account, L),
                 PER_ROW_LIST * L + ONCE),
                ("accounts by ids", "db/staff.c", "st_account_list_ids", (many_ids, 0, None, L),
                 PER_ROW_LIST * L + ONCE),
                ("staff accounts by ids", "db/staff.c", "st_account_list_ids", (many_ids, 0, "staff", L),
                 PER_ROW_LIST * 200 + ONCE),
                ("accounts by name", "db/staff.c", "st_account_search", ("customer-", "customer.", "", L),
                 PER_ROW_LIST * L + ONCE),
                ("accounts by name, deep page", "db/staff.c", "st_account_search",
                 ("customer-", "customer.", mid_name, L), PER_ROW_LIST * L + ONCE),
                ("accounts by a name nobody has", "db/staff.c", "st_account_search", ("nobody", "nobodz", "", L),
                 ONCE),
                ("accounts by a name prefix with no end", "db/staff.c", "st_account_search_open",
                 ("\U0010FFFF", "", L), ONCE),
                ("delegation context", "db/deleg.c", "st_ctx", (big_prefix,), ONCE),
                ("a customer's delegations", "db/deleg.c", "st_list", (BIG, None, L, None), ONCE),
                ("lame delegations", "db/deleg.c", "st_list", (None, None, L, "lame"), ONCE),
                # rdns-zonegen: a render (parameters, what changed, the delegations, the outcome)
                ("zone parameters", "db/zones.c", "st_zone_params", (dirty,), ONCE),
                ("what changed", "db/zones.c", "st_change_kinds", (dirty, last_seq), ONCE),
                ("changed addresses", "db/zones.c", "st_change_addrs", (dirty, last_seq), ONCE),
                ("zone delegations", "db/deleg.c", "st_zone_delegations", (dirty,), ONCE),
                ("render done", "db/zones.c", "st_render_done", (dirty, 7, "", last_seq), 2 * ONCE),
                # a batch of 128 zones' serials committed (zg_render_batch): HOT updates, a few
                # pages a zone (a full page put each new version elsewhere with an entry in every
                # index, the GiST exclusion constraint's overlap search among them: 141 a zone
                # at the full profile)
                ("a batch's renders done", "db/zones.c", "st_render_done_many",
                 (batch_ids, [7] * len(batch_ids), [""] * len(batch_ids), [0] * len(batch_ids)),
                 PER_ZONE_DONE * len(batch_ids) + ONCE),
                ("content hash", "db/zones.c", "st_store_hash", (dirty, 7, "00"), ONCE),
                ("still dirty", "db/zones.c", "st_still_dirty", (f"{dirty},{zone}",), ONCE),
                ("zone gone", "db/zones.c", "st_forget", (dirty,), ONCE),
                ("NOTIFY status", "db/zones.c", "st_notify_status",
                 (zone_name, '{"serial": 1, "at": "x", "done": {}, "keep": {}}'), ONCE),
            ]
            seen = []
            for what, path, name, args, bound in cases:
                plan, _ = explain_statement(cur, path, name, args)
                seen.append((what, check_bounded(what, plan, bound)))
            print("pages read:", ", ".join(f"{w} {p}" for w, p in seen))

            # the render's records: a COPY of this query (db/zones.c, no parameters), by the
            # zone's index, O(the zone's records)
            records = q("SELECT count(*) FROM ptr_records WHERE zone_id = %s", (zone,))
            cur.execute(f"EXPLAIN (ANALYZE, BUFFERS) SELECT ip, hostname FROM ptr_records WHERE zone_id = {zone}"
                        " ORDER BY ip")
            check_bounded("render's records", "\n".join(r for (r,) in cur.fetchall()), 2 * records + ONCE)
            # the reconcile (every zone, by id) reads reverse_zones and nothing else, a page or so
            # per zone: that list is its job
            zpages = q("SELECT relpages FROM pg_class WHERE relname = 'reverse_zones'")
            plan, rows = explain_statement(cur, "db/zones.c", "st_all", ())
            assert len(rows) == q("SELECT count(*) FROM reverse_zones")
            assert set(re.findall(r" on (\w+)", plan)) <= {"reverse_zones", "reverse_zones_pkey"}, plan
            assert statement_pages(plan) <= 2 * zpages + len(rows) // 50 + ONCE, plan
    finally:
        conn.close()


def function_blocks(notices):
    """[(query text's first line, plan)] of the statements auto_explain logged, nested ones
    included, in the order they ended."""
    out = []
    for block in "".join(notices).split("Query Text:")[1:]:
        out.append((block.strip().splitlines()[0], block))
    return out


def test_hot_functions_read_a_bounded_number_of_pages(scaled):
    """The SQL functions that run per request or per job, as the daemons call them: every
    statement inside them (auto_explain, nested statements, generic plans) reads no growing
    table sequentially and at most PER_STATEMENT pages, or a bounded number per row for the
    verifier's batches. Each call is rolled back. (The verifier's claim read verify_jobs
    sequentially to update the jobs it had locked; its discovery read ptr_records and
    ptr_checks whole every minute.)"""
    per_statement = 60
    conn = psycopg2.connect(scaled)
    conn.autocommit = True
    conn.notices = collections.deque(maxlen=10000)
    try:
        with conn.cursor() as cur:
            new_ip = one(cur, "SELECT host(host(prefix)::inet + 2) FROM allocations WHERE account_id = %s"
                              " AND masklen(prefix) = 29 LIMIT 1", (BIG,))
            big_ip = one(cur, "SELECT host(ip) FROM ptr_records WHERE account_id = %s ORDER BY ip LIMIT 1", (BIG,))
            pending = one(cur, "SELECT id FROM ptr_requests WHERE state = 'pending_review' ORDER BY id LIMIT 1")
            queued = one(cur, "SELECT count(*) FROM ptr_discover")
            assert queued > 0
            for stmt in ("LOAD 'auto_explain'", "SET auto_explain.log_min_duration = 0",
                         "SET auto_explain.log_analyze = on", "SET auto_explain.log_buffers = on",
                         "SET auto_explain.log_nested_statements = on", "SET auto_explain.log_level = 'notice'",
                         "SET client_min_messages = notice", "SET plan_cache_mode = force_generic_plan"):
                cur.execute(stmt)
            calls = [
                ("PUT, a new record", "SELECT * FROM rdns_ptr_apply(%s, 'n.example.net', %s, %s, 'c', false, NULL,"
                 " NULL, NULL)", (new_ip, BIG, BIG), per_statement),
                ("PUT, a record changed", "SELECT * FROM rdns_ptr_apply(%s, 'c.example.net', %s, %s, 'c', false,"
                 " NULL, NULL, NULL)", (big_ip, BIG, BIG), per_statement),
                ("DELETE", "SELECT * FROM rdns_ptr_apply(%s, NULL, %s, %s, 'c', false, NULL, NULL, NULL)",
                 (big_ip, BIG, BIG), per_statement),
                ("batched PUTs", "SELECT count(*) FROM rdns_ptr_apply_batch(ARRAY[%s, %s]::inet[],"
                 " ARRAY['b1.example.net', 'b2.example.net'], ARRAY[%s, %s]::bigint[], ARRAY[%s, %s]::bigint[],"
                 " ARRAY['c', 'c'], ARRAY[false, false], ARRAY[NULL, NULL], ARRAY[NULL, NULL])",
                 (new_ip, big_ip, BIG, BIG, BIG, BIG), per_statement),
                ("bulk change", "SELECT count(*) FROM rdns_ptr_bulk_apply(ARRAY[%s, %s]::inet[],"
                 " ARRAY['k1.example.net', NULL], %s, %s, 'c', ARRAY[NULL, NULL], false)",
                 (new_ip, big_ip, BIG, BIG), per_statement),
                ("exception request", "SELECT rdns_ptr_request(%s, 'r.example.net', %s, 'c', 'pending_review',"
                 " NULL, 'why')", (big_ip, BIG), per_statement),
                ("waiting PUT", "SELECT rdns_ptr_wait(%s, 'w.example.net', %s, 'c', NULL, 30000, 86400)",
                 (big_ip, BIG), per_statement),
                ("approval", "SELECT rdns_request_decide(%s, 1, 's', true, NULL)", (pending,), per_statement),
                ("cancel", "SELECT rdns_request_cancel(%s, NULL, 1, 's')", (pending,), per_statement),
                ("rate take", "SELECT * FROM rdns_rate_take(%s, 120)", (BIG,), per_statement),
                ("batched rate takes", "SELECT * FROM rdns_rate_take_many(ARRAY[%s, %s + 1]::bigint[], 120)",
                 (BIG, BIG), per_statement),
                ("bulk rate take", "SELECT * FROM rdns_rate_take_n(%s, 120, 10)", (BIG,), per_statement),
                ("diagnosis rate take", "SELECT * FROM rdns_diag_take(%s, 10)", (BIG,), per_statement),
                ("audit entry", "SELECT rdns_audit(1, 's', 'zone.update', NULL, 'zone x', NULL, NULL, NULL, NULL)",
                 (), per_statement),
                ("pending probe", "SELECT rdns_zone_pending(1)", (), per_statement),
                ("verifier claim", "SELECT count(*) FROM rdns_verify_claim('w', 30000, 8)", (), 20 * 8 + per_statement),
                ("re-verification claim", "SELECT count(*) FROM rdns_reverify_claim(64, 0, 30000)", (),
                 15 * 64 + per_statement),
                ("discovery", "SELECT rdns_reverify_discover(604800)", (), 20 * queued + per_statement),
                # the delegation re-check: claimed and scheduled by the due_at index
                ("delegation re-check claim", "SELECT count(*) FROM rdns_delegation_recheck_claim(8, 0, 30000)", (),
                 15 * 8 + per_statement),
                ("delegation discovery", "SELECT rdns_delegation_recheck_discover(86400)", (), per_statement),
            ]
            for what, sql, args, bound in calls:
                for _ in range(2):  # the second as a daemon's session runs it: compiled, plans cached
                    conn.notices.clear()
                    cur.execute("BEGIN")
                    try:
                        cur.execute(sql, args)
                        cur.fetchall()
                    finally:
                        cur.execute("ROLLBACK")
                blocks = function_blocks(conn.notices)
                assert len(blocks) >= 2, f"{what}: auto_explain saw nothing inside:\n{''.join(conn.notices)}"
                for first, plan in blocks[:-1]:  # the last one is the call itself (and its compiling)
                    assert not seq_scans(plan), f"{what}: {first}:\n{plan}"
                    assert statement_pages(plan) <= bound, f"{what}: {first}: {statement_pages(plan)} pages:\n{plan}"
    finally:
        conn.close()


def count_mismatches(cur):
    """Zones whose count (zone_record_counts) differs from their records, and counts of
    zones that are gone."""
    cur.execute("SELECT z.id, coalesce(c.n, 0), coalesce(p.n, 0) FROM reverse_zones z"
                " LEFT JOIN (SELECT zone_id, sum(records) AS n FROM zone_record_counts GROUP BY 1) c"
                " ON c.zone_id = z.id"
                " LEFT JOIN (SELECT zone_id, count(*) AS n FROM ptr_records GROUP BY 1) p ON p.zone_id = z.id"
                " WHERE coalesce(c.n, 0) <> coalesce(p.n, 0)")
    wrong = cur.fetchall()
    cur.execute("SELECT count(*) FROM zone_record_counts c WHERE NOT EXISTS"
                " (SELECT 1 FROM reverse_zones z WHERE z.id = c.zone_id)")
    return wrong, cur.fetchone()[0]


def test_zone_record_counts_stay_exact(scaled):
    """GET /v1/zones's records is no count(*) any more but the sum of the zone's rows of
    zone_record_counts (migration 014): it equals the zone's records after every way one
    comes or goes (set, change, delete, batch, bulk with resets, an allocation's deletion,
    INSERT, COPY, DELETE and UPDATE by hand, TRUNCATE, a zone's deletion), and after 8
    writers add and remove records of one zone at once, none waiting for another's count."""
    conn = psycopg2.connect(scaled)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            def exact(what):
                wrong, orphans = count_mismatches(cur)
                assert not wrong and not orphans, f"after {what}: {wrong[:10]}, {orphans} orphan rows"

            exact("the build (every record INSERTed by bench/scale.py)")
            # an allocation of the reseller's: its /29 has one record, at .1
            cur.execute("SELECT id, host(prefix) FROM allocations WHERE account_id = %s AND masklen(prefix) = 29"
                        " ORDER BY prefix LIMIT 1", (BIG,))
            alloc, base = cur.fetchone()
            a = [str(ipaddress.ip_address(base) + i) for i in range(8)]

            def apply(ip, name):
                cur.execute("SELECT o_request FROM rdns_ptr_apply(%s, %s, %s, %s, 'c', false, NULL, NULL, NULL)",
                            (ip, name, BIG, BIG))

            apply(a[2], "n2.example.net")
            exact("a new record")
            apply(a[2], "m2.example.net")
            exact("a record changed")
            apply(a[2], None)
            exact("a record deleted")
            cur.execute("SELECT count(*) FROM rdns_ptr_apply_batch(ARRAY[%s, %s, %s]::inet[],"
                        " ARRAY['b3.example.net', 'b4.example.net', 'b1.example.net'], ARRAY[%s, %s, %s]::bigint[],"
                        " ARRAY[%s, %s, %s]::bigint[], ARRAY['c', 'c', 'c'], ARRAY[false, false, false],"
                        " ARRAY[NULL, NULL, NULL], ARRAY[NULL, NULL, NULL])", (a[3], a[4], a[1]) + (BIG,) * 6)
            exact("a batch (two new, one changed)")
            cur.execute("SELECT count(*) FROM rdns_ptr_bulk_apply(ARRAY[%s, %s, %s]::inet[],"
                        " ARRAY['k5.example.net', NULL, NULL], %s, %s, 'c', ARRAY[NULL, NULL, NULL], true)",
                        (a[5], a[3], a[6], BIG, BIG))
            exact("a bulk change (one new, one reset, one reset of nothing)")
            cur.execute("SELECT rdns_allocation_delete(%s, 1, 'staff')", (alloc,))
            assert cur.fetchone()[0] >= 3
            exact("an allocation's deletion")
            cur.execute("SELECT id FROM reverse_zones WHERE family(prefix) = 6 ORDER BY id LIMIT 3")
            v6 = [z for (z,) in cur.fetchall()]
            cur.execute("INSERT INTO ptr_records (ip, zone_id, hostname) SELECT set_masklen(host(z.prefix)::inet"
                        " + 4096 + g, 128), z.id, 'h' || g || '.example.net' FROM reverse_zones z,"
                        " generate_series(1, 100) g WHERE z.id = ANY (%s)", (v6,))
            exact("300 records INSERTed by hand in three zones")
            buf = io.StringIO("".join(f"{ipaddress.ip_address(scale_v6(i))}\t{v6[0]}\tc{i}.example.net\n"
                                      for i in range(50)))
            cur.copy_expert("COPY ptr_records (ip, zone_id, hostname) FROM STDIN", buf)
            exact("50 records COPYed")
            cur.execute("DELETE FROM ptr_records WHERE zone_id = %s AND hostname LIKE 'h%%'", (v6[1],))
            exact("100 records DELETEd by hand")
            cur.execute("UPDATE ptr_records SET zone_id = %s WHERE zone_id = %s AND hostname LIKE 'h%%'",
                        (v6[0], v6[2]))
            exact("100 records moved to another zone by an UPDATE by hand")
            cur.execute("BEGIN")
            cur.execute("TRUNCATE ptr_records")
            exact("TRUNCATE")
            cur.execute("ROLLBACK")
            exact("TRUNCATE rolled back")
            cur.execute("DELETE FROM reverse_zones WHERE id = %s", (v6[0],))
            exact("a zone's deletion (its records by the cascade)")

            # 8 writers in one zone at once, each transaction holding its count row a while
            cur.execute("SELECT id, host(prefix) FROM reverse_zones WHERE family(prefix) = 6 ORDER BY id"
                        " OFFSET 10 LIMIT 1")
            zone, zbase = cur.fetchone()
            before = one(cur, "SELECT count(*) FROM ptr_records WHERE zone_id = %s", (zone,))
            errors = []

            def writer(w):
                c = psycopg2.connect(scaled)
                try:
                    with c.cursor() as wc:
                        for i in range(25):
                            ip = str(ipaddress.ip_address(zbase) + 65536 + w * 1000 + i)
                            for name in (f"w{w}-{i}.example.net", None if i % 2 else f"x{w}-{i}.example.net"):
                                wc.execute("SELECT o_request FROM rdns_ptr_apply(%s, %s, NULL, 1, 's', true,"
                                           " NULL, NULL, NULL)", (ip, name))
                                time.sleep(0.002)
                                c.commit()
                except Exception as e:  # noqa: BLE001 (reported below)
                    errors.append(repr(e))
                finally:
                    c.close()

            threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
            t0 = time.monotonic()
            for th in threads:
                th.start()
            for th in threads:
                th.join(120)
            assert not errors and not any(th.is_alive() for th in threads), errors
            exact(f"8 writers in one zone ({time.monotonic() - t0:.1f} s)")
            cur.execute("SELECT count(*), sum(records) FROM zone_record_counts WHERE zone_id = %s", (zone,))
            rows, records = cur.fetchone()
            # each writer leaves 13 of its 25 (the odd ones it deleted again); about a row per
            # writer that held one while another wanted it, never more than the writers + the
            # zone's row from before
            assert records == before + 8 * 13 and 1 <= rows <= 8 + 1, (rows, records, before)
    finally:
        conn.close()


def test_a_bulk_insert_into_a_fresh_install_counts_zones_in_linear_time(pg):
    """The first statement that adds records to a fresh install (its zone_record_counts
    empty, never analysed: a bulk import) adds each zone's count through the primary key,
    not by a sequential scan of the rows it has added so far (quadratic in zones: 1M PTRs
    over 81,920 zones took 306 s instead of 64). One INSERT of a PTR in each of 3,000 zones;
    the transaction's own statistics count the rows of zone_record_counts it read."""
    url = migrated_db(pg, "rdns_counts_fresh")
    n = 3000
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("INSERT INTO reverse_zones (name, prefix, nameservers, soa_mname, soa_rname)"
                        " SELECT (z %% 256) || '.' || (z / 256) || '.30.in-addr.arpa',"
                        " set_masklen('30.0.0.0'::inet + z::bigint * 256, 24)::cidr, ARRAY['ns1.example.net'],"
                        " 'ns1.example.net', 'hostmaster.example.net' FROM generate_series(0, %s) z", (n - 1,))
        with conn, conn.cursor() as cur:
            t0 = time.monotonic()
            cur.execute("INSERT INTO ptr_records (ip, zone_id, hostname)"
                        " SELECT host(z.prefix)::inet + 1, z.id, 'h' || z.id || '.example.com' FROM reverse_zones z")
            took = time.monotonic() - t0
            cur.execute("SELECT coalesce(seq_tup_read, 0), coalesce(seq_scan, 0) FROM pg_stat_xact_user_tables"
                        " WHERE relname = 'zone_record_counts'")
            read, scans = cur.fetchone()
            # a few rows per zone at most (a scan that a plan may take once), never rows x zones
            assert read <= 2 * n, f"zone_record_counts: {read:,} rows read by {scans:,} sequential scans, " \
                                  f"for {n:,} zones ({took:.2f} s)"
            cur.execute("SELECT count(*), sum(records) FROM zone_record_counts")
            assert cur.fetchone() == (n, n)
    finally:
        conn.close()


def scale_v6(i):
    """An address of the first IPv6 zone (2001:db8:0::/48) that bench/scale.py leaves free."""
    return int(ipaddress.ip_address("2001:db8:0:ffff::")) + i


def percentile(samples, p):
    s = sorted(samples)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def test_list_routes_page_all_the_way_through(scaled):
    """#17: the list routes with their largest filters, paged through rdns-api from the first
    page to the last by their cursors: every row once, in order, none missing (against the
    same query in SQL), and the statement of every page, explained with that page's cursor,
    reads a bounded number of pages however deep (no OFFSET, no scan from the start). The
    time of each answer is printed (p50, p99; ASan build, a shared machine: not asserted):
    bench/README.md has the release build's figures."""
    api = harness.Api(scaled, {"api_threads": 4})
    conn = psycopg2.connect(scaled)
    conn.autocommit = True
    try:
        api.start()
        staff = Client(api.base, api.add_staff("pager"))
        reseller = Client(api.base, scale.token(BIG))
        with conn.cursor() as cur:
            def rows(sql, args=()):
                cur.execute(sql, args)
                return [r for (r,) in cur.fetchall()]

            v4_16 = "10.2.0.0/16"
            routes = [
                # what, client, path, query, cursor parameter, key of an item, reference, statement
                ("GET /v1/audit?account=", staff, "/v1/audit", {"account": BIG}, "before", "id",
                 rows("SELECT id FROM audit_log WHERE actor_id = %s ORDER BY id DESC", (BIG,)),
                 ("db/staff.c", "st_audit_by_actor", lambda c: (BIG, c or FIRST, LIMIT + 1)), PER_ROW_LIST),
                ("GET /v1/requests?state=pending_review", staff, "/v1/requests", {"state": "pending_review"},
                 "before", "id", rows("SELECT id FROM ptr_requests WHERE state = 'pending_review' ORDER BY id DESC"),
                 ("db/ptr.c", "st_request_list_state", lambda c: ("pending_review", c or FIRST, LIMIT)),
                 PER_ROW_LIST),
                ("GET /v1/accounts", staff, "/v1/accounts", {}, "after", "id",
                 rows("SELECT id FROM accounts ORDER BY id"),
                 ("db/staff.c", "st_account_list", lambda c: (c or 0, LIMIT + 1)), PER_ROW_LIST),
                ("GET /v1/accounts?q=customer-1", staff, "/v1/accounts", {"q": "customer-1"}, "after", "name",
                 sorted(rows("SELECT name FROM accounts WHERE starts_with(name, 'customer-1')"),
                        key=lambda n: n.encode()),
                 ("db/staff.c", "st_account_search", lambda c: ("customer-1", "customer-2", c or "", LIMIT + 1)),
                 PER_ROW_LIST),
                ("GET /v1/allocations", staff, "/v1/allocations", {}, "after", "prefix",
                 rows("SELECT l.prefix::text FROM allocations l ORDER BY l.prefix"),
                 ("db/staff.c", "st_alloc_list", lambda c: (c or "0.0.0.0/0", LIMIT + 1)), PER_ROW_LIST),
                ("GET /v1/zones", staff, "/v1/zones", {}, "after", "prefix",
                 rows("SELECT z.prefix::text FROM reverse_zones z ORDER BY z.prefix"),
                 ("db/staff.c", "st_zone_list", lambda c: (c or "0.0.0.0/0", LIMIT + 1)), PER_ROW_ZONE),
                (f"GET /v1/ptr?prefix={v4_16}", staff, "/v1/ptr", {"prefix": v4_16}, "after", "ip",
                 rows("SELECT host(ip) FROM ptr_records WHERE ip <<= %s ORDER BY ip", (v4_16,)),
                 ("db/ptr.c", "st_ptr_list", lambda c: (v4_16, c, LIMIT)), PER_ROW_PTR),
                ("GET /v1/ptr (the reseller's)", reseller, "/v1/ptr", {}, "after", "ip",
                 rows("SELECT host(p.ip) FROM ptr_records p WHERE EXISTS (SELECT 1 FROM allocations a"
                      " WHERE a.account_id = %s AND a.prefix >>= p.ip) ORDER BY p.ip", (BIG,)),
                 ("db/ptr.c", "st_ptr_list_own", lambda c: (BIG, None, c, LIMIT)), PER_ROW_PTR),
            ]
            figures = []
            for what, client, path, query, cursor_param, key, want, (src, stmt, args_of), per_row in routes:
                assert len(want) > 3 * LIMIT or what == "GET /v1/ptr (the reseller's)", (what, len(want))
                got, cursors, times, cursor = [], [None], [], None
                for _ in range(len(want) // LIMIT + 2):
                    t = time.monotonic()
                    r = client.get(path, params=dict(query, **({cursor_param: cursor} if cursor else {})))
                    times.append(time.monotonic() - t)
                    assert r.status_code == 200, (what, r.text)
                    body = r.json()
                    got += [item[key] for item in body["items"]]
                    if what == "GET /v1/zones":
                        for z in body["items"]:  # the count is exact through the API too
                            assert z["records"] == one(cur, "SELECT count(*) FROM ptr_records p JOIN reverse_zones"
                                                            " z ON z.id = p.zone_id WHERE z.name = %s",
                                                       (z["name"],)), z
                    cursor = body["next"]
                    if cursor is None:
                        break
                    cursors.append(cursor)
                assert cursor is None, f"{what}: still a next page after {len(cursors)}"
                assert len(got) == len(set(got)), f"{what}: {len(got) - len(set(got))} rows twice"
                if got != want:
                    first = next(i for i, (g, w) in enumerate(zip(got + [None], want + [None])) if g != w)
                    raise AssertionError(f"{what}: {len(got)} rows against {len(want)}, first difference at {first}")
                worst = 0
                for c in cursors:
                    plan, _ = explain_statement(cur, src, stmt, args_of(c))
                    worst = max(worst, check_bounded(f"{what} after {c}", plan, per_row * (LIMIT + 1) + ONCE))
                while len(times) < 200:  # the first page again, for a p99 of 200 answers at least
                    t = time.monotonic()
                    assert client.get(path, params=query).status_code == 200
                    times.append(time.monotonic() - t)
                figures.append(f"{what}: {len(got)} rows in {len(cursors)} pages, at most {worst} pages read by"
                               f" one; p50 {percentile(times, 50) * 1000:.1f} ms, p99"
                               f" {percentile(times, 99) * 1000:.1f} ms ({len(times)} answers)")
            print("\n" + "\n".join(figures))
    finally:
        conn.close()
        api.stop()
        api.close()
