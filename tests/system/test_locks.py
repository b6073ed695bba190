"""The advisory-lock keys: db/locks.h names each once, the C code uses the names, the SQL
spells the same numbers (saying where they come from), and the functions really take the
address lock the header names."""
import glob
import os
import re

import psycopg2
import pytest

from harness import ROOT, Api

LOCKS_H = os.path.join(ROOT, "db", "locks.h")
C_FILES = [f for d in ("core", "db", "verify", "api", "zonegen")
           for f in sorted(glob.glob(os.path.join(ROOT, d, "*.[ch]"))) if f != LOCKS_H]
FUNCTION_FILES = sorted(glob.glob(os.path.join(ROOT, "db", "functions", "*.sql")))
MIGRATIONS = sorted(glob.glob(os.path.join(ROOT, "db", "migrations", "*.sql")))
# A call of any of PostgreSQL's advisory-lock functions.
ADVISORY = re.compile(r"\bpg_(try_)?advisory_(xact_)?(un)?lock(_shared)?(_all)?\s*\(")


def _keys():
    with open(LOCKS_H) as f:
        keys = dict(re.findall(r"^#define\s+DB_LOCK_([A-Z_]+)\s+(\d+)\s*$", f.read(), re.M))
    return {name: int(v) for name, v in keys.items()}


KEYS = _keys()


def _rel(path):
    return os.path.relpath(path, ROOT)


def test_header_names_each_key_once():
    assert {"MIGRATE", "ADDR", "ZONEGEN_LEADER"} <= set(KEYS), KEYS
    assert len(set(KEYS.values())) == len(KEYS), f"a key used twice in db/locks.h: {KEYS}"


def test_c_code_uses_the_names_not_the_numbers():
    bad = []
    for path in C_FILES:
        with open(path) as f:
            for n, line in enumerate(f, 1):
                if any(re.search(rf"\b{v}\b", line) for v in KEYS.values()):
                    bad.append(f"{_rel(path)}:{n}: a lock number: {line.strip()}")
                for m in ADVISORY.finditer(line):
                    # The key follows as a macro pasted into the string: "...lock(" DB_LOCK_STR(..) ")"
                    if not re.match(r'"\s*(DB_LOCK_STR\(DB_LOCK_[A-Z_]+\)|[A-Z_]+)\s*"\)', line[m.end():]):
                        bad.append(f"{_rel(path)}:{n}: advisory lock without a db/locks.h key: {line.strip()}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("path", FUNCTION_FILES + MIGRATIONS, ids=_rel)
def test_sql_takes_only_the_keys_of_the_header(path):
    """Every advisory-lock statement of the SQL has a key (or hash seed) of db/locks.h, and no
    other number of the header's range."""
    bad = []
    with open(path) as f:
        text = f.read()
    for stmt in re.sub(r"--[^\n]*", "", text).split(";"):
        numbers = {int(x) for x in re.findall(r"\b\d{6,}\b", stmt)}
        if ADVISORY.search(stmt):
            if not numbers & set(KEYS.values()):
                bad.append(f"advisory lock without a db/locks.h key: {' '.join(stmt.split())}")
        for x in numbers - set(KEYS.values()):
            if any(abs(x - v) < 1000 for v in KEYS.values()):
                bad.append(f"{x} looks like a lock key but db/locks.h has no such key")
    assert not bad, f"{_rel(path)}:\n" + "\n".join(bad)


@pytest.mark.parametrize("path", FUNCTION_FILES, ids=_rel)
def test_function_files_say_where_the_numbers_come_from(path):
    """Beside each key in db/functions (on its line or the two before), a comment naming it
    and db/locks.h."""
    names = {v: k for k, v in KEYS.items()}
    with open(path) as f:
        lines = f.read().splitlines()
    bad = []
    for i, line in enumerate(lines):
        for x in re.findall(r"\b\d{6,}\b", line.split("--")[0]):
            if int(x) not in names:
                continue
            near = " ".join(lines[max(0, i - 2):i + 1])
            if not re.search(rf"--.*\b{x}\b.*DB_LOCK_{names[int(x)]}\b.*db/locks\.h", near):
                bad.append(f"{_rel(path)}:{i + 1}: {x} without '-- {x}: DB_LOCK_{names[int(x)]}, db/locks.h'")
    assert not bad, "\n".join(bad)


@pytest.fixture(scope="module")
def db(pg):
    url = pg.create_db("rdns_locks")
    a = Api(url)
    try:
        a.run("migrate")
    finally:
        a.close()
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("INSERT INTO accounts (name, role) VALUES ('lock-staff', 'staff') RETURNING id")
        staff = cur.fetchone()[0]
        cur.execute("INSERT INTO reverse_zones (name, prefix, nameservers, soa_mname, soa_rname) VALUES"
                    " ('2.0.192.in-addr.arpa', '192.0.2.0/24', '{ns1.example.net}', 'ns1.example.net',"
                    "  'hostmaster.example.net')")
    conn.close()
    return url, staff


@pytest.mark.parametrize("call", [
    "SELECT * FROM rdns_ptr_apply('192.0.2.9', 'a.example.com', NULL, %(staff)s, 's', true, '[]', NULL, NULL)",
    "SELECT * FROM rdns_ptr_apply_batch('{192.0.2.9}', '{b.example.com}', '{NULL}', ARRAY[%(staff)s]::bigint[],"
    " '{s}', '{t}', '{NULL}', '{NULL}')",
    "SELECT rdns_ptr_request('192.0.2.9', 'c.example.com', %(staff)s, 's', 'failed_checks', '[]', NULL)",
], ids=["rdns_ptr_apply", "rdns_ptr_apply_batch", "rdns_ptr_request"])
def test_writers_hold_the_address_lock_the_header_names(db, call):
    """While a writer's transaction is open, pg_locks shows the advisory lock
    hashtextextended(address, DB_LOCK_ADDR) for it."""
    url, staff = db
    writer = psycopg2.connect(url)
    watcher = psycopg2.connect(url)
    watcher.autocommit = True
    try:
        wcur = writer.cursor()
        wcur.execute("SELECT pg_backend_pid()")
        pid = wcur.fetchone()[0]
        wcur.execute(call, {"staff": staff})
        cur = watcher.cursor()
        cur.execute("SELECT hashtextextended('192.0.2.9', %s)", (KEYS["ADDR"],))
        key = cur.fetchone()[0] & (2**64 - 1)
        cur.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = %s AND granted"
                    " AND classid = %s AND objid = %s AND objsubid = 1", (pid, key >> 32, key & 0xffffffff))
        assert cur.fetchone()[0] == 1
        writer.rollback()
    finally:
        writer.close()
        watcher.close()
