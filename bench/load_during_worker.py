"""Done-when check of issue 10: no 5xx and no slow answer while the worker fits and releases.

    .venv/bin/python bench/load_during_worker.py        # or: make demo-load-check

Starts from a fresh SQLite database in a temporary directory (never var/), loads the demo as
`make demo` does, starts `manage.py serve` (gunicorn + the background worker) and, from the
server's first second, sends requests from several threads: sign-ins (API token and the web
form), rating PUTs with an API token, drug pages, and pharma reports with the demo API key. It
keeps going through the first score fit and the first release (and --after seconds more), then
prints the count of 5xx answers, failed connections and the slowest answer. Exit status 1 when
any answer was a 5xx or slower than --max-seconds.

RATINGS_PER_HOUR is raised for the served process: the product's per-account limit of 60 rating
writes an hour would otherwise turn the rating traffic into 429s after a minute.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _server

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HOST = "127.0.0.1"
PASSWORD = "demo-password-2017"
PHYSICIAN = "physician@demo.drugratings.org"
API_KEY = "drk_demo_0123456789abcdef"


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: Counter[str] = Counter()
        self.slowest: list[tuple[float, str]] = []
        self.server_errors: list[str] = []
        self.failures: list[str] = []
        self.n = 0
        self.started = time.monotonic()
        self.worst_by_kind: dict[str, tuple[float, float]] = {}  # kind -> (seconds, at)

    def add(self, kind: str, status: int | None, seconds: float, detail: str = "") -> None:
        with self.lock:
            self.n += 1
            self.statuses[f"{kind} {status}"] += 1
            self.slowest = sorted([*self.slowest, (seconds, f"{kind} {status}")])[-5:]
            at = time.monotonic() - self.started - seconds
            if seconds > self.worst_by_kind.get(kind, (0.0, 0.0))[0]:
                self.worst_by_kind[kind] = (seconds, at)
            if status is None:
                self.failures.append(f"{time.strftime('%H:%M:%S')} {kind}: {detail}")
            elif status >= 500:
                self.server_errors.append(f"{time.strftime('%H:%M:%S')} {kind} {status}")


def call(
    port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None
) -> tuple[int, bytes, dict]:
    conn = http.client.HTTPConnection(HOST, port, timeout=120)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        conn.close()


def timed(rec: Recorder, kind: str, port: int, method: str, path: str, **kw) -> tuple | None:
    started = time.monotonic()
    try:
        status, body, headers = call(port, method, path, **kw)
    except OSError as exc:
        rec.add(kind, None, time.monotonic() - started, repr(exc))
        return None
    rec.add(kind, status, time.monotonic() - started)
    return status, body, headers


def api_sign_in(rec: Recorder, port: int) -> str | None:
    payload = json.dumps({"email": PHYSICIAN, "password": PASSWORD}).encode()
    result = timed(
        rec,
        "sign-in api",
        port,
        "POST",
        "/api/v1/auth/token",
        body=payload,
        headers={"Content-Type": "application/json"},
    )
    if result and result[0] == 200:
        return json.loads(result[1])["token"]
    return None


def web_sign_in(rec: Recorder, port: int) -> None:
    result = timed(rec, "sign-in page", port, "GET", "/accounts/login/")
    if not result or result[0] != 200:
        return
    cookie = result[2].get("Set-Cookie", "")
    token = re.search(r"csrftoken=([^;]+)", cookie)
    field = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', result[1])
    if not token or not field:
        return
    form = urlencode(
        {
            "csrfmiddlewaretoken": field.group(1).decode(),
            "username": PHYSICIAN,
            "email": PHYSICIAN,
            "password": PASSWORD,
        }
    ).encode()
    timed(
        rec,
        "sign-in form",
        port,
        "POST",
        "/accounts/login/",
        body=form,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={token.group(1)}",
            "Referer": f"http://{HOST}:{port}/accounts/login/",
        },
    )


def targets(port: int, token: str) -> list[tuple[int, str, int]]:
    """(drug id, slug, indication id) of the most-rated drugs, for pages and ratings."""
    auth = {"Authorization": f"Bearer {token}"}
    status, body, _ = call(port, "GET", "/api/v1/drugs?q=statin&page_size=10", headers=auth)
    out = []
    for drug in json.loads(body)["items"] if status == 200 else []:
        if drug["indications"]:
            out.append((drug["id"], drug["slug"], drug["indications"][0]["id"]))
    return out


def worker_progress(db: Path) -> tuple[int, int]:
    """(finished score fits, published releases), read from the database (WAL: no locking)."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            fits = con.execute(
                "SELECT COUNT(*) FROM analytics_fitrun WHERE finished_at IS NOT NULL"
            ).fetchone()[0]
            releases = con.execute("SELECT COUNT(*) FROM portal_release WHERE complete").fetchone()[
                0
            ]
        finally:
            con.close()
    except sqlite3.Error:
        return -1, -1
    return fits, releases


def load_loop(rec: Recorder, port: int, stop: threading.Event, role: int) -> None:
    token = None
    while token is None and not stop.is_set():
        token = api_sign_in(rec, port)
        if token is None:
            time.sleep(0.5)
    drugs = []
    while not drugs and not stop.is_set():
        drugs = targets(port, token)
        time.sleep(0.2)
    bearer = {"Authorization": f"Bearer {token}"}
    pharma = {"Authorization": f"Bearer {API_KEY}"}
    n = 0
    while not stop.is_set():
        drug_id, slug, indication_id = drugs[n % len(drugs)]
        kind = (n + role) % 6
        if kind == 0:
            api_sign_in(rec, port)
            web_sign_in(rec, port)
        elif kind == 1:
            body = json.dumps({"indication_id": indication_id, "efficacy": 1 + n % 5}).encode()
            timed(
                rec,
                "rating PUT",
                port,
                "PUT",
                f"/api/v1/drugs/{drug_id}/ratings/mine",
                body=body,
                headers={**bearer, "Content-Type": "application/json"},
            )
        elif kind == 2:
            timed(rec, "drug page", port, "GET", f"/drugs/{slug}/")
        elif kind == 3:
            timed(rec, "drug api", port, "GET", f"/api/v1/drugs/{drug_id}", headers=bearer)
        elif kind == 4:
            timed(
                rec,
                "pharma report",
                port,
                "GET",
                f"/api/v1/portal/reports/indications/{indication_id}",
                headers=pharma,
            )
        else:
            timed(
                rec, "pharma latest", port, "GET", "/api/v1/portal/releases/latest", headers=pharma
            )
        n += 1
        time.sleep(0.2)


def run(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="drugratings-loadcheck-"))
    env = {
        **os.environ,
        "DRUGRATINGS_MODE": "demo",
        "DRUGRATINGS_VAR_DIR": str(tmp),
        "DATABASE_URL": f"sqlite:///{tmp / 'drugratings.sqlite3'}",
        "DEBUG": "0",
        "RATINGS_PER_HOUR": "1000000",
        "PYTHONUNBUFFERED": "1",
    }
    print(f"fresh SQLite database in {tmp}", flush=True)
    steps = [["migrate", "--no-input", "-v0"]]
    if args.database:
        # A copy of a database just loaded by load_demo (never served): saves the load's minutes.
        shutil.copy(args.database, tmp / "drugratings.sqlite3")
    else:
        steps += [["import_catalog", "--no-progress"], ["import_taxonomy"], ["load_demo"]]
    for step in steps:
        started = time.monotonic()
        proc = _server.start([PYTHON, "manage.py", *step], env=env, cwd=ROOT, log=tmp / "load.log")
        if proc.wait() != 0:
            print(f"{step[0]} failed:\n{_server.tail(tmp / 'load.log')}")
            return 2
        print(f"  {step[0]}: {time.monotonic() - started:.0f} s", flush=True)
    port = _server.free_port()
    server = _server.start(
        [PYTHON, "manage.py", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        log=tmp / "serve.log",
    )
    rec, stop = Recorder(), threading.Event()
    started = rec.started = time.monotonic()
    while True:  # the first second the server answers
        try:
            call(port, "GET", "/healthz")
            break
        except OSError:
            if server.poll() is not None or time.monotonic() - started > 120:
                print(f"server did not start:\n{_server.tail(tmp / 'serve.log')}")
                return 2
            time.sleep(0.1)
    print(f"serving on {port} after {time.monotonic() - started:.1f} s; load starts", flush=True)
    threads = [
        threading.Thread(target=load_loop, args=(rec, port, stop, role), daemon=True)
        for role in range(args.threads)
    ]
    for thread in threads:
        thread.start()
    released_at = fitted_at = None
    try:
        while time.monotonic() - started < args.timeout:
            time.sleep(5)
            fits, releases = worker_progress(tmp / "drugratings.sqlite3")
            if fitted_at is None and fits > 0:
                fitted_at = time.monotonic()
                print(f"  first fit after {fitted_at - started:.0f} s", flush=True)
            if released_at is None and releases > 0:
                released_at = time.monotonic()
                print(f"  first release after {released_at - started:.0f} s", flush=True)
            print(
                f"  {time.monotonic() - started:4.0f} s: {rec.n} requests, fits {fits}, "
                f"5xx {len(rec.server_errors)}, failed {len(rec.failures)}, "
                f"slowest {rec.slowest[-1][0] if rec.slowest else 0:.2f} s",
                flush=True,
            )
            if released_at is not None and time.monotonic() - released_at > args.after:
                break
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=130)
        _server.stop(server)
    elapsed = time.monotonic() - started
    slowest = rec.slowest[-1] if rec.slowest else (0.0, "-")
    print("\nrequests by kind and status:")
    for key, count in sorted(rec.statuses.items()):
        print(f"  {key:<28} {count}")
    print("slowest answer by kind (seconds, sent at second):")
    for kind, (seconds, at) in sorted(rec.worst_by_kind.items()):
        print(f"  {kind:<28} {seconds:6.2f}  at {at:5.0f}")
    for line in rec.server_errors[:20] + rec.failures[:20]:
        print(f"  ! {line}")
    print(
        f"\n{rec.n} requests in {elapsed:.0f} s; first release: "
        f"{'yes' if released_at else 'NOT REACHED'}; 5xx: {len(rec.server_errors)}; "
        f"failed connections: {len(rec.failures)}; max latency {slowest[0]:.2f} s ({slowest[1]})"
    )
    ok = (
        released_at is not None
        and not rec.server_errors
        and not rec.failures
        and slowest[0] < args.max_seconds
    )
    print("PASS" if ok else "FAIL", f"(target: 0 5xx, every answer < {args.max_seconds:.0f} s)")
    if args.keep:
        print(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=6)
    parser.add_argument("--after", type=float, default=30.0, help="seconds after first release")
    parser.add_argument("--timeout", type=float, default=1800.0, help="give up after (s)")
    parser.add_argument("--max-seconds", type=float, default=10.0)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--database",
        type=Path,
        help="start from a copy of this SQLite file, just loaded by load_demo and never served, "
        "instead of loading the demo (for repeated runs)",
    )
    args = parser.parse_args()
    _server.install_handlers()
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
