"""Connection floods above api_max_connections (issue #13, item 1): every worker stays
alive, the server answers other clients as soon as a flood ends, connections above the
limit are answered 503 problem+json, and SIGTERM still stops rdns-api at once."""
import concurrent.futures
import selectors
import signal
import socket
import time

import requests

from harness import wait_until

LIMIT = 64     # api_max_connections
THREADS = 4    # api_threads: the accept thread deals connections to 4 workers in turn
FLOOD = 80     # sockets per flood, 16 above the limit
FLOODS = 7


def flood(port, n, hold):
    """Open n idle connections as fast as possible, wait up to hold seconds for what the
    server sends on them, close them all. Returns what each socket received (b"" for a
    close without an answer, None for nothing: the connection was held open)."""
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        s.setblocking(False)
        socks.append(s)
    got = {s: None for s in socks}
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    deadline = time.monotonic() + hold
    while time.monotonic() < deadline and sel.get_map():
        for key, _ in sel.select(max(0.0, deadline - time.monotonic())):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except ConnectionResetError:
                data = b""
            got[s] = (got[s] or b"") + data
            if not data:
                sel.unregister(s)
    sel.close()
    for s in socks:
        s.close()
    return list(got.values())


def stop_within(api, seconds):
    """SIGTERM, and the process must be gone within seconds with exit code 0."""
    proc = api.proc
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(seconds)
    except Exception:
        proc.kill()
        proc.wait()
        raise AssertionError(f"rdns-api did not stop within {seconds} s of SIGTERM:\n"
                             + api.log()[-4000:])
    api.stop()  # raises if the exit code (or a sanitizer) says otherwise


def test_floods_above_the_connection_limit_leave_the_server_whole(api_factory):
    api = api_factory({"api_max_connections": LIMIT, "api_threads": THREADS,
                       "api_per_ip_connections": 0, "api_idle_timeout": 30})
    answers = []
    for _ in range(FLOODS):
        answers.append(flood(api.port, FLOOD, hold=0.4))

    # The floods are over: /healthz answers within 1 s (a 503 is possible for the few
    # milliseconds the workers take to see the flood's sockets closed), and so do
    # clients in parallel.
    wait_until(lambda: requests.get(api.base + "/healthz", timeout=1).status_code == 200,
               timeout=1, interval=0.01, what="/healthz right after the floods")
    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        codes = list(ex.map(lambda _: requests.get(api.base + "/healthz", timeout=2).status_code,
                            range(64)))
    assert codes == [200] * 64

    # A clean stop within 5 s (with libmicrohttpd 0.9.75 a worker hung in MHD_stop_daemon).
    stop_within(api, 5)

    # During each flood at most LIMIT connections were held; the others were told why.
    for got in answers:
        held = sum(1 for g in got if g is None)
        refused = [g for g in got if g is not None]
        assert held <= LIMIT
        assert len(refused) >= FLOOD - LIMIT
        for g in refused:
            assert g.startswith(b"HTTP/1.1 503 "), g[:200]
            assert b"application/problem+json" in g and b"Retry-After: 1" in g, g[:400]
    log = api.log()
    assert "Server reached connection limit" not in log
    assert log.count("api_max_connections") <= 4 * FLOODS, log[-3000:]


def test_slow_floods_and_per_ip_limit(api_factory):
    """Connections trickling in above the limit, and a per-address limit below it."""
    api = api_factory({"api_max_connections": LIMIT, "api_threads": THREADS,
                       "api_per_ip_connections": 16})
    for _ in range(3):
        got = flood(api.port, 24, hold=0.3)
        assert sum(1 for g in got if g is None) <= 16
    stop_within(api, 5)
    api = api_factory({"api_max_connections": LIMIT, "api_threads": THREADS})
    for _ in range(3):
        socks = []
        for _ in range(LIMIT + 8):
            socks.append(socket.create_connection(("127.0.0.1", api.port), timeout=2))
            time.sleep(0.002)
        for s in socks:
            s.close()
    wait_until(lambda: requests.get(api.base + "/healthz", timeout=1).status_code == 200,
               timeout=3, what="/healthz after slow floods")
    # And a stop in the middle of a flood, with every connection held.
    socks = [socket.create_connection(("127.0.0.1", api.port), timeout=2) for _ in range(LIMIT + 8)]
    time.sleep(0.2)
    stop_within(api, 5)
    for s in socks:
        s.close()
