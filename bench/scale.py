"""scale.py - the provider-scale database of RDNS_BENCH_SCALE=provider (issue #17).

Builds, inside PostgreSQL (INSERT ... SELECT over generate_series: the rows are made where
they are stored, which is faster than any COPY from a client process that would first
have to print them), in a database that `rdns-api migrate` has just created:

- 16,384 IPv4 /24 reverse zones covering 10.0.0.0/10 (4,194,304 addresses), each with a
  default template, and 65,536 IPv6 /48 zones covering 2001:db8::/32;
- 200,000 customer accounts with one token each (the secret of account n is derived from
  n, so a benchmark can present any account's token without storing 200,000 of them);
- 1,000,000 non-overlapping allocations: 250,000 IPv4 /29 (from 10.0.0.0), 250,000 IPv4 /32
  (every 8th address of the next 2,000,000), 250,000 IPv6 /56 and 250,000 IPv6 /64, each owned
  by account (i mod 200,000) + 1;
- 1,000,000 custom PTRs, one in each allocation, spread over every zone;
- a history of 2,000,000 requests, each with its audit entry.

`load_hot(dsn, div)` adds what the hot statements of the list routes, rdns-zonegen and
rdns-verifier read and the profile leaves empty or uniform (the "largest filters" of #17):
a reseller account (BIG_ACCOUNT) with 400,000 requests, audit entries and events of its own,
a review queue of 100,000 requests pending review, 40,000 requests waiting for forward DNS
with their verify_jobs (half of them due), a re-verification row for every verified record
(1 in 50 drifted) but 1 in 100 that waits for rdns-verifier's discovery, a write bucket for
every account and a diagnosis bucket for 1 in 10, and 2,000,000 events, all of it divided by
div like the rest; and 10,000 zone changes waiting in 1,000 zones (a rdns-zonegen a few
seconds behind: not divided, a backlog is the write rate times the delay).

`build(dsn)` returns the time of each step and the whole; `token(n)` gives account n's
token. Run directly (`/usr/bin/python3 bench/scale.py DSN [--small]`) to build a database
by hand; --small builds 1/100 of everything (the shape tests use).
"""

import hashlib
import sys
import time

import psycopg2

N_ACCOUNTS = 200_000
N_V4_ZONES = 16_384
N_V6_ZONES = 65_536
N_ALLOC_EACH = 250_000  # of each of the four kinds
N_HISTORY = 2_000_000
TEMPLATE = "host-{a}-{b}-{c}-{d}.cust.provider.example"
# load_hot(): the reseller, and how much of each it adds at the full profile
BIG_ACCOUNT = 7
N_BIG = 400_000
N_PENDING = 100_000
N_WAITING = 40_000
N_EVENTS = 2_000_000
N_CHANGES = 10_000


def secret(n):
    """Account n's token secret (base64url alphabet, like the real ones)."""
    return "scale" + hashlib.sha256(b"rdns-scale-%d" % n).hexdigest()[:38]


def token(n):
    """Account n's API token: its token row has id n, as build() makes them."""
    return f"rdns_{n}_{secret(n)}"


def _steps(div):
    acc = N_ACCOUNTS // div
    v4z = N_V4_ZONES // div
    v6z = N_V6_ZONES // div
    each = N_ALLOC_EACH // div
    hist = N_HISTORY // div
    ns = "ARRAY['ns1.provider.example', 'ns2.provider.example']"
    soa = "'ns1.provider.example', 'hostmaster.provider.example'"
    return [
        ("accounts", f"""
INSERT INTO accounts (id, name, role)
SELECT n, 'customer-' || n, 'customer' FROM generate_series(1, {acc}) n"""),
        ("tokens", f"""
INSERT INTO api_tokens (id, account_id, secret_hash)
SELECT n, n, sha256(convert_to('scale' || substr(encode(sha256(convert_to('rdns-scale-' || n, 'UTF8')),
                                                        'hex'), 1, 38), 'UTF8'))
FROM generate_series(1, {acc}) n"""),
        ("IPv4 /24 zones", f"""
INSERT INTO reverse_zones (name, prefix, nameservers, default_ptr, soa_mname, soa_rname)
SELECT (z % 256) || '.' || (z / 256) || '.10.in-addr.arpa',
       set_masklen('10.0.0.0'::inet + (z::bigint * 256), 24)::cidr, {ns}, '{TEMPLATE}', {soa}
FROM generate_series(0, {v4z - 1}) z"""),
        ("IPv6 /48 zones", f"""
INSERT INTO reverse_zones (name, prefix, nameservers, soa_mname, soa_rname)
SELECT array_to_string(ARRAY(SELECT substr(h, 5 - k, 1) FROM generate_series(1, 4) k), '.')
           || '.8.b.d.0.1.0.0.2.ip6.arpa',
       ('2001:db8:' || h || '::/48')::cidr, {ns}, {soa}
FROM (SELECT lpad(to_hex(z), 4, '0') h FROM generate_series(0, {v6z - 1}) z) s"""),
        # allocation i of each kind belongs to account (i mod accounts) + 1
        # in address order: the GiST index of the no-overlap constraint takes 1M scattered
        # inserts in 763 s and ordered ones far faster (pages stay in cache)
        ("allocations", f"""
INSERT INTO allocations (account_id, prefix)
SELECT * FROM (
SELECT (i % {acc}) + 1, set_masklen('10.0.0.0'::inet + (i::bigint * 8), 29)::cidr
FROM generate_series(0, {each} - 1) i
UNION ALL
SELECT (i % {acc}) + 1, set_masklen('10.0.0.0'::inet + ({each}::bigint * 8) + (i::bigint * 8), 32)::cidr
FROM generate_series(0, {each} - 1) i
UNION ALL
SELECT (i % {acc}) + 1, ('2001:db8:' || to_hex(i % {v6z}) || ':' || to_hex((i / {v6z}) * 256) || '::/56')::cidr
FROM generate_series(0, {each} - 1) i
UNION ALL
SELECT (i % {acc}) + 1, ('2001:db8:' || to_hex(i % {v6z}) || ':' || to_hex(8 * 256 + i / {v6z}) || '::/64')::cidr
FROM generate_series(0, {each} - 1) i) a ORDER BY 2"""),
        # one custom PTR in each allocation: its first address + 1 (a /32's own address)
        ("PTRs", """
INSERT INTO ptr_records (ip, zone_id, hostname, account_id, verified_at)
SELECT set_masklen(host(a.prefix)::inet + CASE masklen(a.prefix) WHEN 32 THEN 0 ELSE 1 END,
                   CASE family(a.prefix) WHEN 4 THEN 32 ELSE 128 END),
       z.id, 'mail' || a.id || '.customer' || a.account_id || '.example', a.account_id, now()
FROM allocations a JOIN reverse_zones z ON z.prefix >>= a.prefix ORDER BY 1"""),
        ("requests", f"""
INSERT INTO ptr_requests (account_id, ip, hostname, state, created_at, decided_at)
SELECT p.account_id, p.ip, p.hostname, 'applied', now() - (g * interval '1 second'), now() - (g * interval '1 second')
FROM ptr_records p,
     generate_series(0, {hist} / greatest((SELECT count(*) FROM ptr_records), 1) - 1) g"""),
        ("audit entries", """
INSERT INTO audit_log (at, actor_id, actor_name, action, ip, object, new_value, request_id)
SELECT r.created_at, r.account_id, 'customer-' || r.account_id, 'ptr.set', r.ip, 'ptr ' || host(r.ip),
       r.hostname, r.id
FROM ptr_requests r"""),
        ("sequences", """
SELECT setval(pg_get_serial_sequence('accounts', 'id'), (SELECT max(id) FROM accounts)),
       setval(pg_get_serial_sequence('api_tokens', 'id'), (SELECT max(id) FROM api_tokens))"""),
        ("analyze", "ANALYZE"),
    ]


def _hot_steps(div):
    big, pending, waiting = N_BIG // div, N_PENDING // div, N_WAITING // div
    return [
        # the reseller's history: requests for its own records, an audit entry each (1 in 10 a
        # delete), and events
        ("reseller requests", f"""
INSERT INTO ptr_requests (account_id, ip, hostname, action, state, created_at, decided_at)
SELECT {BIG_ACCOUNT}, p.ips[1 + g % cardinality(p.ips)], 'r' || g || '.reseller.example',
       CASE WHEN g % 10 = 0 THEN 'delete' ELSE 'set' END, 'applied',
       now() - g * interval '1 second', now() - g * interval '1 second'
FROM (SELECT array_agg(ip ORDER BY ip) ips FROM ptr_records WHERE account_id = {BIG_ACCOUNT}) p,
     generate_series(1, {big}) g"""),
        ("reseller audit entries", f"""
INSERT INTO audit_log (at, actor_id, actor_name, action, ip, object, new_value, request_id)
SELECT r.created_at, r.account_id, 'customer-' || r.account_id,
       CASE r.action WHEN 'delete' THEN 'ptr.delete' ELSE 'ptr.set' END, r.ip, 'ptr ' || host(r.ip),
       r.hostname, r.id
FROM ptr_requests r WHERE r.account_id = {BIG_ACCOUNT} AND r.hostname LIKE '%.reseller.example'"""),
        # the review queue: one request per address (ptr_requests_one_pending), submitted and audited
        ("requests pending review", f"""
INSERT INTO ptr_requests (account_id, ip, hostname, state, exception_reason, created_at)
SELECT p.account_id, p.ip, 'review.' || p.hostname, 'pending_review', 'our own name servers',
       now() - n * interval '1 second'
FROM (SELECT p.*, row_number() OVER (ORDER BY p.ip) n FROM ptr_records p) p
WHERE p.n <= {pending}"""),
        ("review audit entries", """
INSERT INTO audit_log (at, actor_id, actor_name, action, ip, object, new_value, request_id)
SELECT r.created_at, r.account_id, 'customer-' || r.account_id, 'request.submit', r.ip, 'request ' || r.id,
       r.hostname, r.id
FROM ptr_requests r WHERE r.state = 'pending_review'"""),
        # waiting for forward DNS, each with its job; half of them due now
        ("requests waiting", f"""
WITH w AS (
    INSERT INTO ptr_requests (account_id, ip, hostname, state, created_at)
    SELECT p.account_id, p.ip, 'wait.' || p.hostname, 'waiting_forward', now() - interval '1 minute'
    FROM (SELECT p.*, row_number() OVER (ORDER BY p.ip DESC) n FROM ptr_records p) p
    WHERE p.n <= {waiting}
    RETURNING id)
INSERT INTO verify_jobs (request_id, run_at, expires_at, tries)
SELECT w.id, now() + (CASE WHEN w.id % 2 = 0 THEN -1 ELSE 1 END) * (w.id % 3600) * interval '1 second',
       now() + interval '1 day', 1
FROM w"""),
        # every verified record has its re-verification row, due over the next week, but 1 in
        # 100, made since rdns-verifier's last discovery (queued in ptr_discover, migration 014)
        ("re-verification rows", """
INSERT INTO ptr_checks (ip, hostname, state, due_at, checked_at, drifted_since, finding)
SELECT p.ip, p.hostname, CASE WHEN n % 50 = 0 THEN 'drifted' ELSE 'verified' END,
       now() + (n % 604800) * interval '1 second', now() - interval '1 day',
       CASE WHEN n % 50 = 0 THEN now() - interval '1 day' END,
       CASE WHEN n % 50 = 0 THEN '{"id": "forward", "status": "fail"}'::jsonb END
FROM (SELECT p.*, row_number() OVER (ORDER BY p.ip) n FROM ptr_records p WHERE NOT p.forced) p
WHERE n % 100 <> 1"""),
        # (before migration 014, which has the queue, a discovery reads every record anyway)
        ("discovered", """
DO $$ BEGIN
    IF to_regclass('ptr_discover') IS NOT NULL THEN
        DELETE FROM ptr_discover d USING ptr_checks c WHERE c.ip = d.ip;
    END IF;
END $$"""),
        # every account has written (its write bucket), 1 in 10 has asked for a diagnosis
        ("rate buckets", """
INSERT INTO rate_buckets (account_id, tokens, updated_at) SELECT id, 120, now() FROM accounts"""),
        ("diagnosis buckets", """
INSERT INTO diag_buckets (account_id, tokens, updated_at) SELECT id, 10, now() FROM accounts WHERE id % 10 = 0"""),
        ("events", f"""
INSERT INTO events (at, account_id, kind, ip, detail)
SELECT now() - g * interval '1 second', CASE WHEN g % 6 = 0 THEN {BIG_ACCOUNT} ELSE 1 + g % {N_ACCOUNTS // div} END,
       'request.applied', NULL, '{{}}'
FROM generate_series(1, {N_EVENTS // div + big}) g"""),
        # rdns-zonegen a few seconds behind: 10 changes waiting in each of the first zones (a
        # backlog is the write rate times the delay, whatever the profile's size: not divided)
        ("zone changes", f"""
INSERT INTO zone_changes (zone_id, ip, old_hostname)
SELECT z.id, NULL, NULL FROM (SELECT id, row_number() OVER (ORDER BY id) n FROM reverse_zones) z,
       generate_series(1, 10) g
WHERE z.n <= {N_CHANGES // 10}"""),
        ("analyze", "ANALYZE"),
    ]


def load_hot(dsn, div=1, log=print):
    """Adds the hot statements' data (see the top) to a database build() made at 1/div.
    Returns [(step, seconds)]."""
    return _run(dsn, _hot_steps(div), log)


def _run(dsn, steps, log):
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    cur = conn.cursor()
    # a bulk load: no need to wait for the WAL of each statement
    cur.execute("SET synchronous_commit = off")
    cur.execute("SET maintenance_work_mem = '256MB'")
    times = []
    t0 = time.monotonic()
    for name, sql in steps:
        t = time.monotonic()
        cur.execute(sql)
        times.append((name, time.monotonic() - t))
        log(f"scale: {name}: {cur.rowcount if cur.rowcount >= 0 else '-'} rows in {times[-1][1]:.1f} s")
    times.append(("total", time.monotonic() - t0))
    conn.close()
    return times


def build(dsn, small=False, log=print, div=None):
    """Builds the profile in the (migrated, empty) database dsn, or 1/div of it (small:
    1/100). Returns [(step, seconds)]."""
    return _run(dsn, _steps(div or (100 if small else 1)), log)


def sizes(dsn):
    """The database's size on disk, and its biggest tables with their indexes, in bytes."""
    conn = psycopg2.connect(dsn)
    cur = conn.cursor()
    cur.execute("SELECT pg_database_size(current_database())")
    total = cur.fetchone()[0]
    cur.execute("SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind = 'r' AND n.nspname = 'public' ORDER BY 2 DESC LIMIT 8")
    tables = cur.fetchall()
    conn.close()
    return total, tables


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: scale.py DSN [--small]")
    build(sys.argv[1], small="--small" in sys.argv)
    total, tables = sizes(sys.argv[1])
    print(f"database: {total / 2**20:.0f} MiB")
    for name, size in tables:
        print(f"  {name}: {size / 2**20:.0f} MiB")
