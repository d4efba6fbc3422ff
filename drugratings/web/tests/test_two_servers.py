"""Two web servers side by side on one database (and one Redis when REDIS_URL is set): one
takes ratings through the API, the other serves the drug; once a write has returned, the other
server never serves a stale figure, from its stored bytes or as a 304 to an old ETag.

Runs real uvicorn processes (as `manage.py serve` starts them) on 127.0.0.1 against a
temporary SQLite file, once per cache backend: the database cache, per-process local memory
(figures are still keyed by the version read from the database) and Redis when REDIS_URL is
set (CI sets it for one run).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from drugratings.demo.management.commands.serve import server_command

ROOT = Path(__file__).resolve().parents[3]
RATERS = 6
SCORES = ("efficacy", "safety", "tolerability", "accessibility", "adherence")

SEED = """
import json
from django.test import Client
from drugratings.accounts.actions import issue_token
from drugratings.testing.catalog import make_small_catalog
from drugratings.testing.personas import make_physician, make_personas
catalog = make_small_catalog()
personas = make_personas()
raters = [make_physician(f"rater{i}@two.test") for i in range(%(raters)d)]
client = Client()
client.force_login(personas.other_verified)
print(json.dumps({
    "drug": catalog.atorvastatin.pk,
    "slug": catalog.atorvastatin.slug,
    "indication": catalog.hyperlipidemia.pk,
    "reader": issue_token(personas.verified)[1],
    "raters": [issue_token(u)[1] for u in raters],
    "session": client.cookies["sessionid"].value,
}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tmp: Path, backend: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "CACHE_BACKEND", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp / 'two.sqlite3'}",
        DRUGRATINGS_VAR_DIR=str(tmp / "var"),
        CACHE_BACKEND=backend,
        DEBUG="0",
        DRUGRATINGS_MODE="development",
    )
    if backend == "redis":
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _wait_up(port: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server on {port} exited: {log.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"server on {port} did not answer /healthz: {log.read_text()[-3000:]}")


@pytest.fixture
def two_servers(tmp_path, request) -> Iterator[tuple[dict, int, int]]:
    backend = request.param
    if backend == "redis" and not os.environ.get("REDIS_URL"):
        pytest.skip("REDIS_URL is not set (CI sets it for its Redis run)")
    env = _env(tmp_path, backend)
    _manage(env, "migrate", "--no-input", "-v0")
    if backend == "redis":
        _manage(env, "shell", "-c", "from django.core.cache import cache; cache.clear()")
    seed = json.loads(_manage(env, "shell", "-c", SEED % {"raters": RATERS}).splitlines()[-1])
    procs: list[subprocess.Popen] = []
    try:
        procs, ports = _start_servers(env, tmp_path)
        yield seed, ports[0], ports[1]
    finally:
        _stop(procs)


def _start_servers(env: dict[str, str], logs: Path) -> tuple[list[subprocess.Popen], list[int]]:
    """Two single-worker uvicorn servers on free ports, up and answering."""
    procs: list[subprocess.Popen] = []
    ports = [_free_port(), _free_port()]
    try:
        for port in ports:
            with (logs / f"server-{port}.log").open("w") as out:
                procs.append(
                    subprocess.Popen(
                        server_command("127.0.0.1", port, 1),
                        cwd=ROOT,
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        for port, proc in zip(ports, procs, strict=True):
            _wait_up(port, proc, logs / f"server-{port}.log")
    except BaseException:
        _stop(procs)
        raise
    return procs, ports


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _call(
    port: int, method: str, path: str, headers: dict[str, str], body: dict | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    payload = json.dumps(body).encode() if body is not None else None
    if payload is not None:
        headers = {**headers, "Content-Type": "application/json"}
    conn.request(method, path, body=payload, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def _overall(doc: dict) -> dict[str, tuple[int, list[int]]]:
    return {
        s["dimension"]: (s["n_ratings"], s["distribution"])
        for s in doc["scores"]
        if s["indication_id"] is None
    }


@pytest.mark.slow
@pytest.mark.parametrize("two_servers", ["database", "locmem", "redis"], indirect=True)
def test_the_other_server_never_serves_a_stale_figure_after_a_write(two_servers):
    seed, writer, reader = two_servers
    drug_path = f"/api/v1/drugs/{seed['drug']}"
    page_path = f"/drugs/{seed['slug']}/"
    reader_auth = {"Authorization": f"Bearer {seed['reader']}"}
    session = {"Cookie": f"sessionid={seed['session']}"}
    expected: dict[int, int] = {}  # rater index -> efficacy
    etag = None
    for step in range(RATERS * 2):
        rater = step % RATERS
        efficacy = 1 + (step * 2) % 5
        body = {
            "indication_id": seed["indication"],
            **dict.fromkeys(SCORES, 3),
            "efficacy": efficacy,
        }
        # Warm both servers' stored bytes before the write, so a stale copy would be there.
        status, headers, _ = _call(reader, "GET", drug_path, reader_auth)
        assert status == 200
        assert _call(reader, "GET", page_path, session)[0] == 200
        status, _, data = _call(
            writer,
            "PUT",
            f"{drug_path}/ratings/mine",
            {"Authorization": f"Bearer {seed['raters'][rater]}"},
            body,
        )
        assert status in (200, 201), data[:500]
        expected[rater] = efficacy
        want = [sum(1 for e in expected.values() if e == v) for v in range(1, 6)]
        # At once after the write returned, the other server answers with the new figures:
        # never a 304 to the ETag it gave before, never the old bytes.
        status, headers, data = _call(
            reader, "GET", drug_path, {**reader_auth, "If-None-Match": headers["etag"]}
        )
        assert status == 200, f"step {step}: stale 304 after a write"
        n_ratings, distribution = _overall(json.loads(data))["efficacy"]
        assert (n_ratings, distribution) == (len(expected), want), f"step {step}"
        assert headers["etag"] != etag
        etag = headers["etag"]
        # The drug page on the other server, signed in with a session made elsewhere.
        status, _, page = _call(reader, "GET", page_path, session)
        assert status == 200
        raters = len(expected)
        assert f"{raters} physician{'s' if raters != 1 else ''}".encode() in page, f"step {step}"
        assert b"Sign out" in page  # the session created in another process is valid here
    # Unchanged figures: the reader's stored document is answered with a 304.
    status, _, data = _call(reader, "GET", drug_path, {**reader_auth, "If-None-Match": etag})
    assert status == 304 and data == b""
    # A write that changes the comments and not the figures (a helpful vote) on one server:
    # the other server's page shows it at once, and its figures keep their ETag.
    body = {
        "indication_id": seed["indication"],
        **dict.fromkeys(SCORES, 3),
        "comment": "Dose at night.",
    }
    rater = {"Authorization": f"Bearer {seed['raters'][0]}"}
    status, _, data = _call(writer, "PUT", f"{drug_path}/ratings/mine", rater, body)
    assert status == 200, data[:500]
    comment_id = json.loads(data)["comment"]["id"]
    etag = _call(reader, "GET", drug_path, reader_auth)[1]["etag"]
    assert b"<span data-count>0</span>" in _call(reader, "GET", page_path, session)[2]
    status, _, data = _call(writer, "POST", f"/api/v1/comments/{comment_id}/helpful", reader_auth)
    assert status == 200 and json.loads(data) == {"helpful_count": 1}
    assert b"<span data-count>1</span>" in _call(reader, "GET", page_path, session)[2]
    headers = {**reader_auth, "If-None-Match": etag}
    assert _call(reader, "GET", drug_path, headers)[0] == 304
