"""Fixtures for the rdns system tests: real PostgreSQL, knotd and rdns daemons."""
import itertools
import os
import signal
import sys

import psycopg2
import pytest
import requests

sys.path.insert(0, os.path.dirname(__file__))
from harness import Api, Knot, PgCluster  # noqa: E402

_db_counter = itertools.count(1)


def _terminated(signum, frame):
    # A SIGTERM (a timeout(1) around the run, a CI job cancelled) ends the run like Ctrl-C:
    # pytest then tears the fixtures down, so no PostgreSQL cluster, knotd or daemon of
    # ours outlives it.
    raise KeyboardInterrupt(f"signal {signum}")


signal.signal(signal.SIGTERM, _terminated)


@pytest.fixture(scope="session")
def pg():
    cluster = PgCluster()
    yield cluster
    cluster.close()


@pytest.fixture(scope="session")
def knot():
    k = Knot()
    yield k
    k.close()


@pytest.fixture(scope="module")
def dburl(pg):
    """A fresh, migrated database per test module."""
    name = f"rdns_t{next(_db_counter)}"
    return pg.create_db(name)


class Client:
    """requests with a base URL and a bearer token."""

    def __init__(self, base, token=None):
        self.base = base
        self.s = requests.Session()
        if token:
            self.s.headers["Authorization"] = f"Bearer {token}"

    def req(self, method, path, **kw):
        kw.setdefault("timeout", 30)
        return self.s.request(method, self.base + path, **kw)

    def get(self, path, **kw):
        return self.req("GET", path, **kw)

    def post(self, path, **kw):
        return self.req("POST", path, **kw)

    def put(self, path, **kw):
        return self.req("PUT", path, **kw)

    def patch(self, path, **kw):
        return self.req("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.req("DELETE", path, **kw)


@pytest.fixture(scope="module")
def api_factory(dburl, knot):
    """Start rdns-api instances against the module's database; stopped (and
    checked for sanitizer reports) at the end of the module."""
    started = []

    def make(extra=None, migrate=True):
        conf = {"resolvers": f"127.0.0.1:{knot.port}", "verify_deadline_ms": 3000,
                "verify_timeout_ms": 500, "verify_retries": 1, "rate_limit_writes": 0}
        conf.update(extra or {})
        a = Api(dburl, conf)
        if migrate:
            a.run("migrate")
        a.start()
        started.append(a)
        return a

    yield make
    errors = []
    for a in started:
        try:
            a.stop()
        except AssertionError as e:
            errors.append(str(e))
        a.close()
    assert not errors, "\n".join(errors)


@pytest.fixture(scope="module")
def api(api_factory):
    return api_factory()


@pytest.fixture(scope="module")
def staff(api):
    return Client(api.base, api.add_staff("staff-admin"))


@pytest.fixture(scope="module")
def anon(api):
    return Client(api.base)


# ---- helpers the staff and policy tests share -------------------------------------------

@pytest.fixture(scope="module")
def db(dburl, api):
    conn = psycopg2.connect(dburl)
    conn.autocommit = True
    yield conn
    conn.close()


def sql(db, query, *args):
    with db.cursor() as cur:
        cur.execute(query, args)
        return cur.fetchall() if cur.description else None


def problem(r, status):
    """Assert an RFC 9457 problem answer with this status; return its body."""
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"] == "application/problem+json", r.headers
    body = r.json()
    assert body["status"] == status and body["title"] and "detail" in body
    return body


def field_errors(r):
    body = problem(r, 400)
    return {e["field"]: e["error"] for e in body.get("errors", [])}


def all_items(client, path, params=None):
    """Every item of a paged list route ({"items", "next"}), following "next" as ?after= to
    the last page."""
    params, items, cursors = dict(params or {}), [], set()
    while True:
        r = client.get(path, params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        items += body["items"]
        if body["next"] is None:
            return items
        assert body["next"] not in cursors, f"{path}: the cursor {body['next']} came twice"
        cursors.add(body["next"])
        params["after"] = body["next"]


def new_account(staff, name, role="customer"):
    r = staff.post("/v1/accounts", json={"name": name, "role": role})
    assert r.status_code == 201, r.text
    return r.json()
