"""500 open release streams do not slow other requests: a real server on 127.0.0.1.

The server is started the way `manage.py serve` starts it (uvicorn, one worker here: the
hardest case), on its own SQLite file. The test times page requests idle, opens 500 streams
with an API key, times the same requests again, publishes a release and checks the open
streams announce it. Everything is bounded: streams end by themselves after a minute, and the
server is stopped at the end whatever happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from drugratings.demo.management.commands.serve import server_command

STREAMS = 500
SAMPLES = 60  # timed requests per phase
PAGES = ("/healthz", "/api/v1/portal/releases/latest", "/api/v1/portal/areas", "/")

SETUP = """
from drugratings.accounts.actions import issue_token
from drugratings.accounts.models import TokenKind
from drugratings.portal.models import Release
from drugratings.testing.personas import make_pharma
analyst = make_pharma("stream@pharma.test")
Release.objects.create(methodology_version="load-test")
scopes = ["releases:read", "reports:read"]
_, key = issue_token(analyst, TokenKind.API_KEY, days=1, name="load", scopes=scopes)
print(key)
"""
PUBLISH = """
from drugratings.portal.models import Release
print(Release.objects.create(methodology_version="load-test").pk)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""


def _get(port: int, path: str, key: str) -> tuple[int, float]:
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {key}"})
        response = connection.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        connection.close()


def _timings(port: int, key: str) -> list[float]:
    times = []
    for n in range(SAMPLES):
        status, seconds = _get(port, PAGES[n % len(PAGES)], key)
        assert status == 200, (PAGES[n % len(PAGES)], status)
        times.append(seconds)
    return times


def _stop(server: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


async def _open_stream(port: int, key: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        (
            "GET /api/v1/portal/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {key}\r\nAccept: text/event-stream\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
    assert head.startswith(b"HTTP/1.1 200"), head[:200]
    first = await asyncio.wait_for(reader.readuntil(b"retry: 5000"), 30)
    assert first
    return reader, writer


async def _load(port: int, key: str, env: dict) -> dict:
    await asyncio.to_thread(_timings, port, key)  # warm-up: first imports and queries
    idle = await asyncio.to_thread(_timings, port, key)
    streams = []
    limit = asyncio.Semaphore(50)  # open them briskly, but not as one burst of 500 handshakes

    async def open_one() -> None:
        async with limit:
            streams.append(await _open_stream(port, key))

    await asyncio.gather(*(open_one() for _ in range(STREAMS)))
    try:
        loaded = await asyncio.to_thread(_timings, port, key)
        published = int(await asyncio.to_thread(_manage, env, "shell", "-c", PUBLISH))
        marker = f"id: {published}\nevent: release".encode()

        async def announced(reader: asyncio.StreamReader) -> bool:
            try:
                await asyncio.wait_for(reader.readuntil(marker), 20)
            except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                return False
            return True

        told = await asyncio.gather(*(announced(reader) for reader, _ in streams))
    finally:
        for _, writer in streams:
            writer.close()
    return {"idle": idle, "loaded": loaded, "opened": len(streams), "told": sum(told)}


@pytest.mark.slow
def test_500_open_streams_do_not_slow_other_requests(tmp_path: Path):
    port = _free_port()
    env = {
        **os.environ,
        "DRUGRATINGS_MODE": "development",
        "DRUGRATINGS_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'load.sqlite3'}",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "PORTAL_STREAM_SECONDS": "60",
        "PORTAL_STREAM_POLL_SECONDS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    _manage(env, "migrate", "--no-input", "-v0")
    key = _manage(env, "shell", "-c", SETUP)
    assert key.startswith("drk_")
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        server_command("127.0.0.1", port, workers=1),
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped whole, children included
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(port, "/healthz", key)[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        result = asyncio.run(asyncio.wait_for(_load(port, key, env), 240))
    finally:
        _stop(server)
        log.close()
    idle, loaded = result["idle"], result["loaded"]
    summary = (
        f"idle p95 {_p95(idle) * 1000:.1f} ms, with {result['opened']} streams p95 "
        f"{_p95(loaded) * 1000:.1f} ms, max {max(loaded) * 1000:.1f} ms; "
        f"{result['told']} streams told of the new release"
    )
    print(summary)
    assert result["opened"] == STREAMS, summary
    assert max(loaded) < 2.0, summary
    # A small multiple of the idle baseline (plus 50 ms: the machine is shared and noisy).
    assert _p95(loaded) <= 4 * _p95(idle) + 0.05, summary
    assert result["told"] == STREAMS, summary
