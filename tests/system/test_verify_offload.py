"""Slow forward checks stall nobody (issue #13, item 2): a verification runs off the HTTP
workers, so one customer's PUTs against a resolver that never answers do not delay
another customer's GETs; verifications in flight are bounded per account
(verify_per_account: 429 too-many-verifications with Retry-After) and in total
(verify_max_inflight: 503 with Retry-After), and a client that goes away while its
verification is in flight costs nothing (no crash, no leak: the ASan build's report)."""
import concurrent.futures
import selectors
import socket
import time

import pytest
import requests

from conftest import Client, new_account
from rawhttp import connect, parse_responses

ZONE_PREFIX = "198.51.100.0/24"
A_NET, B_NET = "198.51.100.0/25", "198.51.100.128/25"
PER_ACCOUNT = 8
B_BOUND = 0.3  # seconds: the longest any of B's GETs may take


@pytest.fixture(scope="module")
def silent():
    """A resolver that reads every query and never answers."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    yield s.getsockname()[1]
    s.close()


@pytest.fixture(scope="module")
def tenants(staff):
    r = staff.post("/v1/zones", json={"prefix": ZONE_PREFIX, "nameservers": ["ns1.vps.example.net"]})
    assert r.status_code == 201, r.text
    out = {}
    for name, net in (("verify-a", A_NET), ("verify-b", B_NET)):
        acct = new_account(staff, name)["id"]
        r = staff.post(f"/v1/accounts/{acct}/tokens", json={})
        assert r.status_code == 201, r.text
        out[name] = r.json()["token"]
        r = staff.post("/v1/allocations", json={"account_id": acct, "prefix": net})
        assert r.status_code == 201, r.text
    return out["verify-a"], out["verify-b"]


def slow_api(api_factory, silent, **extra):
    conf = {"resolvers": f"127.0.0.1:{silent}", "verify_timeout_ms": 2000, "verify_deadline_ms": 2000,
            "verify_retries": 0, "verify_per_account": PER_ACCOUNT, "api_threads": 4}
    conf.update(extra)
    return api_factory(conf)


def put(base, token, i):
    t0 = time.monotonic()
    r = requests.put(f"{base}/v1/ptr/198.51.100.{i}", json={"hostname": f"h{i}.verify-a.example.com"},
                     headers={"Authorization": f"Bearer {token}"}, timeout=15)
    return r, time.monotonic() - t0


def keep_alive_gets(port, token, n, seconds):
    """n keep-alive connections, each GETting one of B's PTRs again as soon as the last
    answer is in, for `seconds`. Returns (latencies, failures)."""
    sel = selectors.DefaultSelector()
    state = {}
    lat, failures = [], []

    def send(s, k):
        ip = f"198.51.100.{128 + k % 100}"
        s.sendall(f"GET /v1/ptr/{ip} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
        state[s] = [k, time.monotonic(), b""]

    for k in range(n):
        try:
            s = connect(port)
        except OSError as e:
            failures.append(f"conn {k}: connect: {e}")
            continue
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        send(s, k)
    deadline = time.monotonic() + seconds
    while state:
        now = time.monotonic()
        for s, (k, t0, _) in list(state.items()):
            if now - t0 > 5:
                failures.append(f"conn {k}: no answer in 5 s")
                sel.unregister(s)
                s.close()
                del state[s]
        for key, _ in sel.select(0.05):
            s = key.fileobj
            k, t0, buf = state[s]
            try:
                d = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                d = b""
            if not d:
                failures.append(f"conn {k}: closed")
                sel.unregister(s)
                s.close()
                del state[s]
                continue
            buf += d
            state[s][2] = buf
            head, sep, body = buf.partition(b"\r\n\r\n")
            if not sep:
                continue
            [r] = parse_responses(head + sep)
            if len(body) < int(r.header("Content-Length")[0]):
                continue
            lat.append(time.monotonic() - t0)
            if r.status != 200:
                failures.append(f"conn {k}: {r.status} {body[:200]!r}")
            if time.monotonic() < deadline:
                send(s, k + n)
            else:
                sel.unregister(s)
                s.close()
                del state[s]
    sel.close()
    return lat, failures


def test_slow_verifications_do_not_stall_another_customer(api_factory, silent, tenants):
    a_tok, b_tok = tenants
    api = slow_api(api_factory, silent, verify_max_inflight=64)
    with concurrent.futures.ThreadPoolExecutor(64) as ex:
        puts = [ex.submit(put, api.base, a_tok, i) for i in range(1, 65)]
        time.sleep(0.3)  # A's verifications are in flight
        lat, failures = keep_alive_gets(api.port, b_tok, 48, 2.0)
        results = [f.result() for f in puts]
    assert not failures, failures[:10]
    lat.sort()
    assert len(lat) >= 48 and lat[-1] <= B_BOUND, \
        f"B: {len(lat)} GETs, p50 {lat[len(lat) // 2]:.3f} s, slowest {lat[-1]:.3f} s"
    # A: at most PER_ACCOUNT verified (422: the forward check timed out), the rest 429 at once.
    codes = sorted(r.status_code for r, _ in results)
    limited = [(r, took) for r, took in results if r.status_code == 429]
    assert len(limited) >= 64 - PER_ACCOUNT, codes
    for r, took in limited:
        p = problem_of(r, 429)
        assert p["type"].endswith("too-many-verifications"), p
        assert int(r.headers["Retry-After"]) >= 1, r.headers
        assert took < 1.0, f"a 429 took {took:.2f} s"
    assert all(r.status_code in (422, 429) for r, _ in results), codes
    api.stop()


def problem_of(r, status):
    assert r.status_code == status, f"{r.status_code} {r.text}"
    assert r.headers["Content-Type"] == "application/problem+json", r.headers
    p = r.json()
    assert p["status"] == status and p["title"] and p["type"] and "detail" in p
    return p


def test_total_bound_answers_503(api_factory, silent, tenants, staff):
    a_tok, _ = tenants
    api = slow_api(api_factory, silent, verify_max_inflight=4)
    with concurrent.futures.ThreadPoolExecutor(6) as ex:
        first = [ex.submit(put, api.base, a_tok, i) for i in range(1, 5)]
        time.sleep(0.5)  # four verifications in flight: the total bound is reached
        r, took = put(api.base, a_tok, 5)
        p = problem_of(r, 503)
        assert int(r.headers["Retry-After"]) >= 1 and took < 1.0, (r.headers, took)
        assert p["detail"]
        # Reads and staff writes that need no verification are not refused.
        assert requests.get(api.base + "/healthz", timeout=1).status_code == 200
        assert Client(api.base, staff.s.headers["Authorization"].split()[1]).get(
            "/v1/audit", timeout=1).status_code == 200
        assert [f.result()[0].status_code for f in first] == [422] * 4
    # Once they are done, a verification is accepted again.
    r, _ = put(api.base, a_tok, 6)
    assert r.status_code == 422, r.text
    api.stop()


def test_client_gone_while_verifying(api_factory, silent, tenants):
    a_tok, _ = tenants
    api = slow_api(api_factory, silent, verify_max_inflight=64)
    body = b'{"hostname": "gone.verify-a.example.com"}'
    for i in range(8):
        s = connect(api.port)
        s.sendall((f"PUT /v1/ptr/198.51.100.{10 + i} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {a_tok}\r\n"
                   f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body)
        time.sleep(0.05)
        if i % 2:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST
        s.close()
    time.sleep(2.5)  # every verification has ended and found its client gone
    assert requests.get(api.base + "/healthz", timeout=1).status_code == 200
    r, _ = put(api.base, a_tok, 20)
    assert r.status_code == 422, r.text
    api.stop()  # exit code 0: no leak report
    assert "ERROR: AddressSanitizer" not in api.log() and "runtime error" not in api.log()


def test_requests_sent_while_a_verification_is_parked_are_answered_after_it(api_factory, silent, tenants):
    """A parked PUT's connection stays watched for reading (an epoll_ctl less each way); what
    its client sends meanwhile (a pipelined PUT in the same write, a GET written while the
    first waits) is read only once the answer before it is out, and answered in order."""
    a_tok, _ = tenants
    api = slow_api(api_factory, silent, verify_max_inflight=64, verify_timeout_ms=700, verify_deadline_ms=700)
    body = b'{"hostname": "parked.verify-a.example.com"}'

    def put_req(i):
        return (f"PUT /v1/ptr/198.51.100.{30 + i} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {a_tok}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body

    get = f"GET /v1/ptr/198.51.100.40 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {a_tok}\r\n\r\n".encode()
    s = connect(api.port, timeout=10)
    t0 = time.monotonic()
    s.sendall(put_req(0) + put_req(1))  # the second waits in the buffer while the first is parked
    time.sleep(0.3)
    s.sendall(get)  # EPOLLIN on a parked connection
    data, got = b"", []
    while len(got) < 3 and time.monotonic() - t0 < 10:
        d = s.recv(65536)
        if not d:
            break
        data += d
        try:
            got = parse_responses(data)
        except ValueError:
            continue
    s.close()
    assert [r.status for r in got] == [422, 422, 200], data[:600]
    # each PUT waited out its own verification, one after the other
    assert time.monotonic() - t0 >= 1.3
    assert requests.get(api.base + "/healthz", timeout=1).status_code == 200
    api.stop()
    assert "ERROR: AddressSanitizer" not in api.log() and "runtime error" not in api.log()


def test_a_verification_unsettled_on_the_worker_runs_again_whole_on_a_thread(api_factory, silent, tenants):
    """With a resolver that never answers, the try on the HTTP worker ends after
    verify_inline_ms (counted handed_off) and the verification runs again on a verification
    thread with its own timeouts and deadline: the PUT is answered 422 (the forward check timed
    out) after the whole verify_deadline_ms, not after the worker's few milliseconds."""
    a_tok, _ = tenants
    api = slow_api(api_factory, silent, verify_max_inflight=64, verify_timeout_ms=400, verify_deadline_ms=400,
                   verify_inline_ms=5, metrics_allow="127.0.0.1/32")

    def inline(outcome):
        text = requests.get(api.base + "/metrics", timeout=5).text
        line = f'rdns_api_verify_inline_total{{outcome="{outcome}"}} '
        return float(next(x for x in text.splitlines() if x.startswith(line)).split()[-1])

    before = inline("handed_off"), inline("answered")
    r, took = put(api.base, a_tok, 50)
    assert r.status_code == 422, r.text
    forward = next(c for c in r.json()["checks"] if c["id"] == "forward")
    assert forward["status"] == "fail", forward
    assert took >= 0.39, took
    assert (inline("handed_off") - before[0], inline("answered") - before[1]) == (1, 0)
    api.stop()
    assert "ERROR: AddressSanitizer" not in api.log() and "runtime error" not in api.log()
