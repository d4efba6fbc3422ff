"""Stdlib-only HTTP load tools for the platform benchmark: keep-alive clients, latency sampling
and bounded concurrent loops. Every loop here is bounded in count and in time; only 127.0.0.1."""

from __future__ import annotations

import http.client
import itertools
import json
import re
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlencode

HOST = "127.0.0.1"


@dataclass
class Response:
    status: int
    body: bytes
    seconds: float
    headers: list[tuple[str, str]]

    def json(self):
        return json.loads(self.body)


class Client:
    """One keep-alive connection to 127.0.0.1:port; reconnects once if the server closed it."""

    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self.port = port
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None
        self.reconnects = 0

    def _connect(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        headers = dict(headers or {})
        for attempt in (0, 1):
            conn = self._connect()
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except (
                http.client.RemoteDisconnected,
                http.client.BadStatusLine,
                ConnectionResetError,
                BrokenPipeError,
            ):
                # The server dropped an idle keep-alive connection: retry once on a fresh one.
                self.close()
                self.reconnects += 1
                if attempt:
                    raise
                continue
            elapsed = time.perf_counter() - started
            if resp.getheader("Connection", "").lower() == "close":
                self.close()
            return Response(resp.status, data, elapsed, resp.getheaders())
        raise AssertionError("unreachable")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def summarize(seconds: list[float]) -> dict:
    if not seconds:
        return {"n": 0}
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "p99_ms": percentile(ms, 99),
        "mean_ms": statistics.fmean(ms),
        "max_ms": max(ms),
    }


@dataclass
class Endpoint:
    name: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    expect: int = 200


def sample_latency(
    port: int, endpoints: list[Endpoint], *, warmup: int, samples: int, max_seconds: float
) -> dict[str, dict]:
    """Sequential GETs from one thread, the endpoints interleaved round-robin (so drift in the
    machine's load hits all of them alike), each on its own keep-alive connection. Stops after
    `samples` rounds or `max_seconds`, whichever comes first; warm-up rounds are not recorded."""
    clients = {e.name: Client(port) for e in endpoints}
    times: dict[str, list[float]] = {e.name: [] for e in endpoints}
    statuses: dict[str, Counter] = {e.name: Counter() for e in endpoints}
    sizes: dict[str, int] = {}
    try:
        for _ in range(warmup):
            for e in endpoints:
                clients[e.name].request("GET", e.path, headers=e.headers)
        deadline = time.monotonic() + max_seconds
        for _ in range(samples):
            if time.monotonic() > deadline:
                break
            for e in endpoints:
                r = clients[e.name].request("GET", e.path, headers=e.headers)
                statuses[e.name][r.status] += 1
                sizes[e.name] = len(r.body)
                if r.status == e.expect:
                    times[e.name].append(r.seconds)
    finally:
        for c in clients.values():
            c.close()
    out = {}
    for e in endpoints:
        out[e.name] = {
            **summarize(times[e.name]),
            "path": e.path,
            "statuses": {str(k): v for k, v in sorted(statuses[e.name].items())},
            "errors": sum(v for k, v in statuses[e.name].items() if k != e.expect),
            "bytes": sizes.get(e.name),
            "reconnects": clients[e.name].reconnects,
        }
    return out


RequestMaker = Callable[[int], tuple[str, str, bytes | None, dict[str, str]]]


def run_load(
    port: int,
    make_request: RequestMaker,
    *,
    threads: int,
    max_requests: int,
    max_seconds: float,
    ok: tuple[int, ...] = (200,),
) -> dict:
    """`threads` client threads, each with its own keep-alive connection, take request numbers
    0, 1, 2, ... from a shared counter until `max_requests` are taken or `max_seconds` have
    passed. Returns requests per second (completed requests / wall time), status counts,
    latency percentiles of the successful requests and a few error bodies."""
    counter = itertools.count()
    lock = threading.Lock()
    statuses: Counter = Counter()
    latencies: list[float] = []
    error_samples: list[str] = []
    exceptions: Counter = Counter()
    started = time.monotonic()
    deadline = started + max_seconds

    def worker() -> None:
        client = Client(port)
        local_times: list[float] = []
        local_status: Counter = Counter()
        try:
            while time.monotonic() < deadline:
                with lock:
                    i = next(counter)
                if i >= max_requests:
                    break
                method, path, body, headers = make_request(i)
                try:
                    r = client.request(method, path, body=body, headers=headers)
                except OSError as exc:  # timeouts, refused: count and carry on
                    with lock:
                        exceptions[type(exc).__name__] += 1
                    client.close()
                    continue
                local_status[r.status] += 1
                if r.status in ok:
                    local_times.append(r.seconds)
                elif len(error_samples) < 5:
                    with lock:
                        error_samples.append(f"{r.status}: {r.body[:300]!r}")
        finally:
            client.close()
            with lock:
                statuses.update(local_status)
                latencies.extend(local_times)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [pool.submit(worker) for _ in range(threads)]
        for f in futures:
            f.result()
    wall = time.monotonic() - started
    done = sum(statuses.values())
    n_ok = sum(v for k, v in statuses.items() if k in ok)
    return {
        "threads": threads,
        "wall_s": wall,
        "requests": done,
        "ok": n_ok,
        "rps": done / wall if wall else 0.0,
        "ok_rps": n_ok / wall if wall else 0.0,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "exceptions": dict(exceptions),
        "error_samples": error_samples,
        "latency": summarize(latencies),
        "stopped_by": "count" if done + sum(exceptions.values()) >= max_requests else "time",
    }


def _cookies(headers: list[tuple[str, str]]) -> dict[str, str]:
    jar = {}
    for name, value in headers:
        if name.lower() == "set-cookie":
            pair = value.split(";", 1)[0]
            if "=" in pair:
                k, v = pair.split("=", 1)
                jar[k.strip()] = v.strip()
    return jar


def browser_login(port: int, email: str, password: str) -> str:
    """Sign in through the login form (GET for the CSRF token, then POST); returns the Cookie
    header value of the signed-in session."""
    client = Client(port)
    try:
        page = client.request("GET", "/accounts/login/")
        jar = _cookies(page.headers)
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        if page.status != 200 or not match or "csrftoken" not in jar:
            raise RuntimeError(f"login page: status {page.status}, no CSRF token")
        form = urlencode(
            {
                "csrfmiddlewaretoken": match.group(1).decode(),
                "email": email,
                "password": password,
                "next": "/",
            }
        ).encode()
        resp = client.request(
            "POST",
            "/accounts/login/",
            body=form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={jar['csrftoken']}",
            },
        )
        jar.update(_cookies(resp.headers))
        if resp.status != 302 or "sessionid" not in jar:
            raise RuntimeError(f"login POST: status {resp.status}: {resp.body[:200]!r}")
        return "; ".join(f"{k}={v}" for k, v in jar.items())
    finally:
        client.close()


def wait_ready(port: int, timeout: float, alive: Callable[[], bool]) -> float:
    """Poll GET /healthz until it answers 200 (bounded by `timeout`); returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if not alive():
            raise RuntimeError("the server exited during start-up")
        try:
            c = Client(port, timeout=2)
            try:
                if c.request("GET", "/healthz").status == 200:
                    return time.monotonic() - started
            finally:
                c.close()
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer /healthz within {timeout:.0f} s")


def run_mixed(
    port: int,
    endpoints: list[Endpoint],
    *,
    threads: int,
    min_seconds: float,
    max_seconds: float,
    done: Callable[[], bool] = lambda: True,
) -> dict[str, dict]:
    """`threads` client threads, each on its own keep-alive connection, send GETs to the
    endpoints in turn (request i goes to endpoint i mod n, so every endpoint sees the same
    moments of the run) until `min_seconds` have passed and `done()` is true, or `max_seconds`
    have passed. Returns, per endpoint, latency percentiles of the expected answers and the
    status counts."""
    counter = itertools.count()
    lock = threading.Lock()
    times: dict[str, list[float]] = {e.name: [] for e in endpoints}
    statuses: dict[str, Counter] = {e.name: Counter() for e in endpoints}
    started = time.monotonic()
    finished = threading.Event()

    def stop_when_done() -> None:
        while not finished.is_set():
            elapsed = time.monotonic() - started
            if elapsed >= max_seconds or (elapsed >= min_seconds and done()):
                finished.set()
            finished.wait(0.5)

    def worker() -> None:
        client = Client(port)
        try:
            while not finished.is_set():
                with lock:
                    e = endpoints[next(counter) % len(endpoints)]
                try:
                    r = client.request("GET", e.path, headers=e.headers)
                except OSError as exc:
                    with lock:
                        statuses[e.name][type(exc).__name__] += 1
                    client.close()
                    continue
                with lock:
                    statuses[e.name][r.status] += 1
                    if r.status == e.expect:
                        times[e.name].append(r.seconds)
        finally:
            client.close()

    watcher = threading.Thread(target=stop_when_done, daemon=True)
    watcher.start()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for f in [pool.submit(worker) for _ in range(threads)]:
            f.result()
    wall = time.monotonic() - started
    return {
        e.name: {
            **summarize(times[e.name]),
            "wall_s": wall,
            "rps": len(times[e.name]) / wall if wall else 0.0,
            "statuses": {str(k): v for k, v in sorted(statuses[e.name].items(), key=str)},
            "errors": sum(v for k, v in statuses[e.name].items() if k != e.expect),
        }
        for e in endpoints
    }
