"""test_scale_plans.py - the hot statements at a provider's scale (issue #17).

One database of its own in the harness's cluster, built by bench/scale.py at 1/20 of the
provider profile (10,000 accounts with tokens, 819 /24 and 3,276 /48 zones, 50,000
allocations of four kinds, 50,000 custom PTRs, 100,000 requests and audit entries) and
analysed. What is checked is the pages each lookup reads, not its time: at this size the
GiST lookups "which allocation / zone holds this address" already read 14-34 pages (63-179
at the full profile), the btree floor lookups of db/floor.h 2-4 at any size."""
import collections
import ipaddress
import os
import re
import sys

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
GROWING = ("allocations", "reverse_zones", "ptr_records", "api_tokens", "accounts")


@pytest.fixture(scope="module")
def scaled(pg):
    url = pg.create_db("rdns_scale_plans")
    migrator = harness.Api(url)
    try:
        migrator.run("migrate")
    finally:
        migrator.close()
    scale.build(url, div=DIV, log=lambda *a: None)
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


def check_plan(what, plan):
    assert "Seq Scan" not in plan or not any(f"Seq Scan on {t}" in plan for t in GROWING), f"{what}:\n{plan}"
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


def source_statement(path, name):
    """The SQL text of DB_STMT(name, "...", n) in one of our C files, as the binary has it."""
    with open(os.path.join(harness.ROOT, path)) as f:
        src = f.read()
    m = re.search(r"DB_STMT\(\s*" + name + r",\s*((?:\"(?:[^\"\\]|\\.)*\"\s*)+),\s*\d+\)", src)
    assert m, f"{name} not found in {path}"
    return "".join(re.findall(r"\"((?:[^\"\\]|\\.)*)\"", m.group(1)))


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
    finally:
        conn.close()
