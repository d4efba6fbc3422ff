"""Start and always stop the product's server processes for the platform benchmark.

Each process runs in its own session (process group), so stopping it reaches its children too
(gunicorn's workers). `stop_all()` is registered with atexit and on SIGTERM/SIGINT/SIGHUP by
`install_handlers()`; it only ever signals process groups this module started.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

_STARTED: list[subprocess.Popen] = []


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd: list[str], *, env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen:
    handle = open(log, "ab")  # noqa: SIM115 - closed with the process in stop()
    proc = subprocess.Popen(
        cmd,
        env=env,
        cwd=cwd,
        stdout=handle,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    proc._bench_log = handle  # type: ignore[attr-defined]
    _STARTED.append(proc)
    return proc


def stop(proc: subprocess.Popen, grace: float = 30.0) -> int | None:
    """SIGTERM the process group, wait up to `grace` seconds, then SIGKILL it."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
    # Children (gunicorn workers) may outlive a dead leader: make sure the group is gone.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)
    handle = getattr(proc, "_bench_log", None)
    if handle is not None:
        handle.close()
    if proc in _STARTED:
        _STARTED.remove(proc)
    return proc.returncode


def stop_all() -> None:
    for proc in list(reversed(_STARTED)):
        stop(proc, grace=10.0)


def _on_signal(signum, _frame) -> None:
    # Turn the signal into an exception so every `finally` runs (servers stopped, database dropped).
    raise SystemExit(128 + signum)


def install_handlers() -> None:
    atexit.register(stop_all)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    # SIGINT already raises KeyboardInterrupt.


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class Server:
    """uvicorn with the product's settings (as `manage.py serve` runs it: 2 workers; `threads` is
    kept for callers and unused, since synchronous views get a thread per request under ASGI)
    and, optionally, the background worker beside it (`manage.py worker`)."""

    def __init__(
        self,
        *,
        root: Path,
        env: dict[str, str],
        logdir: Path,
        name: str,
        with_worker: bool = True,
        workers: int = 2,
        threads: int = 4,
    ) -> None:
        self.root, self.env, self.logdir, self.name = root, env, logdir, name
        self.with_worker, self.workers, self.threads = with_worker, workers, threads
        self.port = free_port()
        self.gunicorn: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.gunicorn_log = logdir / f"{name}-gunicorn.log"
        self.worker_log = logdir / f"{name}-worker.log"

    def __enter__(self) -> Server:
        from _http import wait_ready

        self.gunicorn = start(
            # The command of `manage.py serve` (demo/management/commands/serve.py): uvicorn.
            [
                sys.executable,
                "-m",
                "uvicorn",
                "drugratings.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
                "--no-proxy-headers",
                "--timeout-graceful-shutdown",
                "5",
                "--log-level",
                "warning",
            ],
            env=self.env,
            cwd=self.root,
            log=self.gunicorn_log,
        )
        if self.with_worker:
            self.worker = start(
                [sys.executable, "manage.py", "worker"],
                env=self.env,
                cwd=self.root,
                log=self.worker_log,
            )
        try:
            self.ready_s = wait_ready(self.port, 60, lambda: self.gunicorn.poll() is None)
        except BaseException:
            sys.stderr.write(f"gunicorn log:\n{tail(self.gunicorn_log)}\n")
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        for proc in (self.worker, self.gunicorn):
            if proc is not None:
                stop(proc)
        if self.gunicorn is not None and self.gunicorn.returncode not in (0, -15, None):
            sys.stderr.write(
                f"gunicorn exited {self.gunicorn.returncode}:\n{tail(self.gunicorn_log)}\n"
            )


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a live process, in MB; 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def group_peak_rss_mb(proc: subprocess.Popen) -> float:
    """The largest peak resident memory of any live process in `proc`'s process group (the
    server and its workers): read before stopping them."""
    peak = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == proc.pid:  # after the name: state, ppid, pgrp
            peak = max(peak, peak_rss_mb(int(stat.parent.name)))
    return peak


def cpu_seconds_with_children() -> float:
    """CPU seconds of this process and of its finished children (e.g. the refit's fit
    processes, which ``ratingstats.run_tasks`` joins before it returns)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime
