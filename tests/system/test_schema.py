"""The schema's history and its functions: a database left at any older schema version by an
older rdns-api, with data in it, upgrades to exactly what a fresh install has; db/functions
holds the current definition of every function and `migrate` applies it every time."""
import glob
import os
import re
import subprocess

import psycopg2
import pytest

from harness import PG_BIN, ROOT, Api

MIGRATIONS = sorted(glob.glob(os.path.join(ROOT, "db", "migrations", "*.sql")))
FUNCTION_FILES = sorted(glob.glob(os.path.join(ROOT, "db", "functions", "*.sql")))
NEWEST = max(int(os.path.basename(f).split("_")[0]) for f in MIGRATIONS)

FUNCTIONS_SQL = """
    SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid)
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'public' ORDER BY 1"""
TRIGGERS_SQL = "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1"


def _version(path):
    return int(os.path.basename(path).split("_")[0])


def _query(url, sql, params=None):
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


def _functions(url):
    return dict(_query(url, FUNCTIONS_SQL))


def _schema(url):
    """The whole schema as pg_dump prints it (without the random key of its \\restrict lines)."""
    r = subprocess.run([os.path.join(PG_BIN, "pg_dump"), "--schema-only", "--no-owner", "-d", url],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=True)
    return [line for line in r.stdout.splitlines() if not re.match(r"\\(un)?restrict ", line)]


def _migrate(url):
    a = Api(url)
    try:
        return a.run("migrate")
    finally:
        a.close()


def _left_by_older_release(pg, name, version):
    """A database as the migrate of a release whose newest migration was `version` left it:
    schema_migrations as db_migrate creates it, then each migration file up to `version` in a
    transaction of its own (no db/functions: those releases had none)."""
    url = pg.create_db(name)
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
                        " applied_at timestamptz NOT NULL DEFAULT now())")
        for path in MIGRATIONS:
            if _version(path) > version:
                break
            with conn, conn.cursor() as cur, open(path) as f:
                cur.execute(f.read())
                cur.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                            (_version(path), os.path.basename(path)[4:-4]))
    finally:
        conn.close()
    return url


def _seed(url):
    """What a provider has in an old database: accounts, allocations, zones, a custom PTR,
    requests (applied, pending, failed), audit entries and a pending zone change. Plain SQL
    that every schema version accepts."""
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("INSERT INTO accounts (name, role) VALUES ('old-staff', 'staff') RETURNING id")
            staff = cur.fetchone()[0]
            cur.execute("INSERT INTO accounts (name, role) VALUES ('old-customer', 'customer') RETURNING id")
            cust = cur.fetchone()[0]
            cur.execute("INSERT INTO allocations (account_id, prefix) VALUES (%s, '192.0.2.0/28'),"
                        " (%s, '2001:db8:100::/48')", (cust, cust))
            cur.execute("INSERT INTO reverse_zones (name, prefix, nameservers, soa_mname, soa_rname) VALUES"
                        " ('2.0.192.in-addr.arpa', '192.0.2.0/24', '{ns1.example.net}', 'ns1.example.net',"
                        "  'hostmaster.example.net'),"
                        " ('0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa', '2001:db8:100::/48', '{ns1.example.net}',"
                        "  'ns1.example.net', 'hostmaster.example.net') RETURNING id")
            zone4 = cur.fetchone()[0]
            cur.execute("INSERT INTO ptr_records (ip, zone_id, hostname, account_id, verified_at) VALUES"
                        " ('192.0.2.1', %s, 'old.example.com', %s, now())", (zone4, cust))
            cur.execute("INSERT INTO ptr_requests (account_id, ip, hostname, state) VALUES"
                        " (%s, '192.0.2.1', 'old.example.com', 'applied')", (cust,))
            cur.execute("INSERT INTO ptr_requests (account_id, ip, hostname, exception_reason, state) VALUES"
                        " (%s, '192.0.2.2', 'pending.example.com', 'lab host', 'pending_review')", (cust,))
            cur.execute("INSERT INTO ptr_requests (account_id, ip, hostname, state) VALUES"
                        " (%s, '192.0.2.3', 'bad.example.com', 'failed_checks')", (cust,))
            cur.execute("INSERT INTO audit_log (actor_id, actor_name, action, ip, object, new_value) VALUES"
                        " (%s, 'old-customer', 'ptr.set', '192.0.2.1', 'ptr 192.0.2.1', 'old.example.com')",
                        (cust,))
            cur.execute("INSERT INTO zone_changes (zone_id) VALUES (%s)", (zone4,))
    finally:
        conn.close()
    return staff, cust


def _exercise_functions(url, staff, cust):
    """Every function a PTR change goes through, on the upgraded data."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    cur = conn.cursor()
    try:
        # rdns_ptr_apply: a customer sets the PTR that had a pending request, which it supersedes.
        cur.execute("SELECT * FROM rdns_ptr_apply('192.0.2.2', 'new.example.com', %s, %s, 'old-customer',"
                    " false, '[]', NULL, NULL)", (cust, cust))
        req, updated, verified = cur.fetchone()
        assert req is not None and updated is not None and verified is not None
        cur.execute("SELECT state FROM ptr_requests WHERE ip = '192.0.2.2' ORDER BY id")
        assert [s for (s,) in cur.fetchall()] == ["superseded", "applied"]
        # Outside the owner's allocations: no_data_found, nothing written.
        with pytest.raises(psycopg2.errors.NoDataFound):
            cur.execute("SELECT * FROM rdns_ptr_apply('192.0.2.200', 'x.example.com', %s, %s, 'old-customer',"
                        " false, '[]', NULL, NULL)", (cust, cust))

        # rdns_ptr_apply_batch: two changes applied (one of them replaces the old record), one
        # address in no zone left out.
        cur.execute("SELECT o_idx, o_request IS NOT NULL FROM rdns_ptr_apply_batch("
                    " '{192.0.2.1,2001:db8:100::1,198.51.100.1}', '{b1.example.com,b2.example.com,b3.example.com}',"
                    " ARRAY[%s, %s, %s]::bigint[], ARRAY[%s, %s, %s]::bigint[], '{c,c,c}', '{f,f,f}',"
                    " ARRAY['[]', '[]', '[]'], '{NULL,NULL,NULL}') ORDER BY 1", (cust,) * 6)
        assert cur.fetchall() == [(1, True), (2, True)]
        cur.execute("SELECT host(ip), hostname FROM ptr_records ORDER BY ip")
        assert cur.fetchall() == [("192.0.2.1", "b1.example.com"), ("192.0.2.2", "new.example.com"),
                                  ("2001:db8:100::1", "b2.example.com")]
        cur.execute("SELECT old_value, new_value FROM audit_log WHERE ip = '192.0.2.1' AND action = 'ptr.set'"
                    " ORDER BY id DESC LIMIT 1")
        assert cur.fetchone() == ("old.example.com", "b1.example.com")

        # rdns_ptr_request and rdns_request_decide: an exception queued, then approved by staff.
        cur.execute("SELECT rdns_ptr_request('192.0.2.4', 'exc.example.com', %s, 'old-customer',"
                    " 'pending_review', '[]', 'needed')", (cust,))
        pending = cur.fetchone()[0]
        cur.execute("SELECT rdns_request_decide(%s, %s, 'old-staff', true, 'ok')", (pending, staff))
        cur.execute("SELECT state FROM ptr_requests WHERE id = %s", (pending,))
        assert cur.fetchone() == ("approved",)
        cur.execute("SELECT hostname, forced FROM ptr_records WHERE ip = '192.0.2.4'")
        assert cur.fetchone() == ("exc.example.com", True)

        # rdns_allocation_delete resets the PTRs in it (and rdns_zone_touch marks the zone).
        cur.execute("SELECT id FROM allocations WHERE prefix = '2001:db8:100::/48'")
        alloc = cur.fetchone()[0]
        cur.execute("SELECT rdns_allocation_delete(%s, %s, 'old-staff')", (alloc, staff))
        assert cur.fetchone() == (1,)
        cur.execute("SELECT count(*) FROM ptr_records WHERE family(ip) = 6")
        assert cur.fetchone() == (0,)

        # Every change that renamed something left a change mark; the audit log still refuses edits.
        cur.execute("SELECT count(*) > 1 FROM zone_changes")
        assert cur.fetchone() == (True,)
        with pytest.raises(psycopg2.Error, match="append-only"):
            cur.execute("DELETE FROM audit_log")
    finally:
        conn.close()


@pytest.fixture(scope="module")
def fresh(pg):
    """A database migrated from nothing by this rdns-api."""
    url = pg.create_db("rdns_schema_fresh")
    _migrate(url)
    return url


@pytest.mark.parametrize("version", [_version(f) for f in MIGRATIONS if _version(f) < NEWEST])
def test_upgrade_from_older_schema_equals_fresh_install(pg, fresh, version):
    url = _left_by_older_release(pg, f"rdns_schema_from{version}", version)
    staff, cust = _seed(url)

    out = _migrate(url).stdout
    for path in MIGRATIONS:
        name = os.path.basename(path)[:-4]
        assert (f"applied {name}" in out) == (_version(path) > version), out

    assert _functions(url) == _functions(fresh)
    assert _query(url, TRIGGERS_SQL) == _query(fresh, TRIGGERS_SQL)
    assert _schema(url) == _schema(fresh)
    # The old data is still there, and still means the same.
    assert _query(url, "SELECT host(ip), hostname FROM ptr_records") == [("192.0.2.1", "old.example.com")]
    assert _query(url, "SELECT host(ip), state FROM ptr_requests ORDER BY id") == [
        ("192.0.2.1", "applied"), ("192.0.2.2", "pending_review"), ("192.0.2.3", "failed_checks")]
    _exercise_functions(url, staff, cust)


def test_migrate_puts_back_every_function_of_db_functions(pg, fresh):
    """A function that differs from its file (changed by hand, or a file changed without a
    migration) is replaced by the next `migrate`, also when no migration is pending."""
    url = pg.create_db("rdns_schema_drift")
    _migrate(url)
    pg.psql("CREATE OR REPLACE FUNCTION rdns_zone_pending(p_zone bigint) RETURNS boolean"
            " LANGUAGE sql AS $$ SELECT false $$", "rdns_schema_drift")
    pg.psql("CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql"
            " AS $$ BEGIN RETURN NULL; END $$", "rdns_schema_drift")
    assert _functions(url) != _functions(fresh)
    out = _migrate(url).stdout
    assert "up to date" in out and "applied" not in out
    assert _functions(url) == _functions(fresh)


def test_migrate_leaves_a_newer_schema_alone(pg):
    """An older rdns-api run against a database a newer one migrated changes nothing: not
    even the functions, which are the newer release's."""
    url = pg.create_db("rdns_schema_newer")
    _migrate(url)
    pg.psql(f"INSERT INTO schema_migrations (version, name) VALUES ({NEWEST + 1}, 'from_the_future')",
            "rdns_schema_newer")
    newer = "CREATE OR REPLACE FUNCTION rdns_zone_pending(p_zone bigint) RETURNS boolean" \
            " LANGUAGE sql STABLE AS $$ SELECT true $$"
    pg.psql(newer, "rdns_schema_newer")
    before = _functions(url)
    r = _migrate(url)
    assert "up to date" in r.stdout and "applied" not in r.stdout
    assert "newer than this program's" in r.stderr
    assert _functions(url) == before


def test_db_functions_define_every_function_once(fresh):
    """Each db/functions/NNN_name.sql is one CREATE OR REPLACE FUNCTION name, and together they
    are every function of a fresh install: none lives only in a migration."""
    defined = []
    for path in FUNCTION_FILES:
        base = os.path.basename(path)
        m = re.fullmatch(r"(\d{3})_(\w+)\.sql", base)
        assert m, f"{base}: not NNN_name.sql"
        with open(path) as f:
            sql = f.read()
        creates = re.findall(r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+(\w+)", sql, re.M | re.I)
        replaces = re.findall(r"^\s*CREATE\s+OR\s+REPLACE\s+FUNCTION\s+(\w+)", sql, re.M | re.I)
        assert creates == replaces == [m.group(2)], \
            f"{base}: must define exactly CREATE OR REPLACE FUNCTION {m.group(2)}(...)"
        defined.append(m.group(2))
    assert len(FUNCTION_FILES) == len({_version(f) for f in FUNCTION_FILES}), "two files with one number"
    installed = sorted({sig.split("(")[0] for sig in _functions(fresh)})
    assert sorted(defined) == installed
