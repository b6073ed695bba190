"""api/openapi.yaml and the router's tables describe the same API, both ways, so the
document cannot drift: every route rdns-api serves is documented, every documented
operation is served, a public route (no token) is documented with `security: []`, and a
route that takes a JSON body documents a requestBody.

The routes come from the binary under test (`rdns-api --routes` prints the tables the router
walks), not from a list of source files; a second check finds every route entry written in
api/*.c, whichever file it is in, and asks that the router serves it (a table left out of
the router would otherwise be neither served nor noticed)."""
import glob
import os
import re
import subprocess

import yaml

from harness import BIN, ROOT, SAN_ENV

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def _served():
    """{(METHOD, pattern): (auth, takes_body)} from rdns-api --routes; '*' is one segment."""
    r = subprocess.run([os.path.join(BIN, "rdns-api"), "--routes"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=dict(os.environ, **SAN_ENV), timeout=30,
                       check=True)
    routes = {}
    for line in r.stdout.splitlines():
        method, pattern, auth, body = line.split()
        assert (method, pattern) not in routes, f"route twice in the router's tables: {line}"
        routes[(method, pattern)] = (auth, body == "body")
    return routes


def _documented():
    """{(METHOD, pattern): operation} from api/openapi.yaml, path parameters as '*'."""
    with open(os.path.join(ROOT, "api", "openapi.yaml")) as f:
        doc = yaml.safe_load(f)
    ops = {}
    for path, item in doc["paths"].items():
        pattern = re.sub(r"\{[^}/]+\}", "*", path)
        for method, op in item.items():
            if method in METHODS:
                ops[(method.upper(), pattern)] = op
    return ops


def _diff(name_a, a, name_b, b):
    lines = [f"in {name_a}, not in {name_b}: {m} {p}" for m, p in sorted(set(a) - set(b))]
    lines += [f"in {name_b}, not in {name_a}: {m} {p}" for m, p in sorted(set(b) - set(a))]
    return "\n".join(lines)


def test_router_and_openapi_document_have_the_same_routes():
    served, documented = _served(), _documented()
    assert len(served) > 20, served
    assert set(served) == set(documented), \
        "\n" + _diff("the router (rdns-api --routes)", served, "api/openapi.yaml", documented)


def test_public_routes_and_bodies_are_documented_as_served():
    served, documented = _served(), _documented()
    bad = []
    for key in sorted(set(served) & set(documented)):
        auth, body = served[key]
        op = documented[key]
        if (auth == "none") != (op.get("security") == []):
            bad.append(f"{key[0]} {key[1]}: router auth '{auth}', document security {op.get('security')!r}")
        if body != ("requestBody" in op):
            bad.append(f"{key[0]} {key[1]}: router {'takes' if body else 'takes no'} body, document "
                       f"{'has' if 'requestBody' in op else 'has no'} requestBody")
    assert not bad, "\n".join(bad)


def test_every_route_written_in_api_sources_is_served():
    """Route entries are the {"METHOD", "/path", ...} initialisers of api_route_t tables; this
    finds them in every api/*.c by that shape (a table added in a new file counts too)."""
    written = set()
    for path in sorted(glob.glob(os.path.join(ROOT, "api", "*.c"))):
        with open(path) as f:
            src = f.read()
        for table in re.findall(r"\bapi_route_t\s+\w+\s*\[\s*\]\s*=\s*\{(.*?)\n\s*\}\s*;", src, re.S):
            written |= set(re.findall(r'\{\s*"([A-Z]+)"\s*,\s*"(/[^"]*)"', table))
    served = _served()
    assert len(written) > 20, written
    assert written == set(served), "\n" + _diff("api/*.c route tables", written, "the router", served)
