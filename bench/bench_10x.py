"""Ten times launch on PostgreSQL (issue 17): `make bench-10x`.

    python bench/bench_10x.py [--scale 10] [--database drugratings_10x] [--seconds 20]
                              [--threads 8] [--new-ratings 10000] [--max-wait 900]
                              [--keep | --serving-only]

Drops and creates the PostgreSQL database --database (on 127.0.0.1 as postgres; the admin
connection is BENCH_PG_ADMIN_DSN), loads --scale times the launch demo (launch: 12,000
physicians, 252,000 ratings, 20,500 comments; 10 gives 2.52 M ratings), then runs each step in
its own process and records its time and peak resident memory (os.wait4's ru_maxrss, which
covers the process and its children):

  loader                  `manage.py load_demo` (COPY on PostgreSQL)
  initial fit             the worker's initial-fit job (analytics.jobs.ensure_initial_fit)
  first release           portal.releases.build_release over every rating
  new ratings             --new-ratings ratings written in bulk (a helper, not the product)
  refit                   the worker's refit job: claim, fit (target), then the detectors
  incremental release     build_release after those ratings
  worker --once           the worker's remaining jobs (quarterly decks, digests), so the
                          worker below starts idle
  serving, worker idle    uvicorn as `manage.py serve` runs it, no worker: drug page (signed
                          in) and drug API (bearer token) of the most-rated drug, --threads
                          clients sending to both in turn for --seconds
  new rating -> refit     the worker running (`worker --nice 10`, as serve starts it), no
                          clients: one rating PUT through the API, then the time until a fit
                          including it is current (its finished_at minus the PUT's answer)
  serving, worker refits  the same clients from a second rating until its refit and the
                          detectors after it are done (that refit's delay is shown too)
  serving, release        the same clients while a release (a few changes) is built beside them

Peak memory of the server and the worker is their VmHWM read before they stop. The worker runs
with RELEASE_INTERVAL_SECONDS=3600 so the refit measured is not queued behind a release (the
worker runs its jobs one after the other: a rating arriving during a release waits for it).
A latency with any answer other than 200 is a FAIL. --keep keeps the database; --serving-only
then runs the serving phases again on it (nothing dropped or loaded).
Prints a table of each figure beside its target with PASS/FAIL and writes
bench/results/bench_10x.json (and the logs to bench/results/bench_10x_logs/). A failing target
is reported, not an exit status. On a shared machine run it small (--scale 0.2); at 10 it
takes most of an hour.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from _http import Client, Endpoint, browser_login, run_mixed  # noqa: E402
from _server import (  # noqa: E402
    Server,
    group_peak_rss_mb,
    install_handlers,
    peak_rss_mb,
    start,
    stop,
    tail,
)

ADMIN_DSN = os.environ.get("BENCH_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
LAUNCH = {"physicians": 12_000, "ratings": 252_000, "comments": 20_500}
DEMO_PHYSICIAN = "physician@demo.drugratings.org"
DEMO_PASSWORD = "demo-password-2017"  # drugratings/demo/accounts.py PASSWORD
MEMORY_LIMIT_MB = 4096
# Issue 17's done-when figures (seconds, or ms for latencies).
TARGETS = {
    "first_release": 120.0,
    "refit": 120.0,
    "incremental_release": 30.0,
    "rating_to_refit": 120.0,
    "page_p95_worker": 500.0,
}


class WorkerWatch:
    """What the running worker has done, from the database and its log."""

    def __init__(self, db: psycopg.Connection, log: Path, max_wait: float) -> None:
        self.db, self.log, self.max_wait = db, log, max_wait
        current = self._current_fit()
        self.settled = current[0] if current else None  # fitted (and detected) before it ran

    def _current_fit(self) -> tuple[int, datetime] | None:
        return self.db.execute(
            "SELECT id, finished_at FROM analytics_fitrun WHERE is_current"
        ).fetchone()

    def idle(self) -> bool:
        """No refit asked for or running, and the current fit's detectors have run (the
        worker logs "refit #N" after them; claimed requests are deleted after the fit)."""
        if self.db.execute("SELECT count(*) FROM analytics_refitrequest").fetchone()[0]:
            return False
        current = self._current_fit()
        if current is None or current[0] == self.settled:
            return True
        return f"refit #{current[0]} " in self.log.read_text(errors="replace")

    def refitted(self, put_at: datetime, landed: dict) -> bool:
        """Has a fit finished after `put_at` become current? Records its delay in `landed`."""
        if not landed:
            current = self._current_fit()
            if current and current[1] > put_at:
                landed.update(fit=current[0], seconds=(current[1] - put_at).total_seconds())
        return bool(landed)

    def _until(self, condition) -> None:
        deadline = time.monotonic() + self.max_wait
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.5)

    def wait_idle(self) -> None:
        self._until(self.idle)

    def refit_after(self, put_at: datetime) -> dict:
        landed: dict = {}
        self._until(lambda: self.refitted(put_at, landed))
        return landed


class Bench:
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args, self.tmp = args, tmp
        self.rows: list[dict] = []
        self.details: dict = {}
        self.env = {
            **os.environ,
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{args.database}",
            "DRUGRATINGS_MODE": "demo",
            "DEBUG": "0",
            "DRUGRATINGS_VAR_DIR": str(tmp / "var"),
            "RATINGS_PER_HOUR": "1000000",
            "RELEASE_INTERVAL_SECONDS": "3600",
        }

    # -- recording -------------------------------------------------------------------------
    def row(
        self,
        figure: str,
        value: float | None,
        unit: str,
        *,
        target: float | None = None,
        peak_mb: float | None = None,
        errors: int = 0,
    ) -> None:
        ok = None if target is None or value is None else value < target and not errors
        self.rows.append(
            {
                "figure": figure,
                "value": value,
                "unit": unit,
                "target": target,
                "peak_mb": peak_mb,
                "verdict": None if ok is None else ("PASS" if ok else "FAIL"),
            }
        )
        shown = "n/a" if value is None else f"{value:,.1f} {unit}"
        aim = f"< {target:g} {unit}" if target is not None else "-"
        mem = f"{peak_mb:8,.0f}" if peak_mb else "       -"
        verdict = self.rows[-1]["verdict"] or ""
        print(f"  {figure:<46} {shown:>14}  {aim:>12}  {verdict:<4} {mem} MB", flush=True)

    # -- processes -------------------------------------------------------------------------
    def measured(self, name: str, cmd: list[str]) -> tuple[float, float, str]:
        """Run `cmd` to the end; (wall seconds, peak RSS MB of it and its children, stdout)."""
        out, err = self.tmp / f"{name}.out", self.tmp / f"{name}.err"
        started = time.monotonic()
        with open(out, "wb") as stdout, open(err, "wb") as stderr:
            proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=stdout, stderr=stderr)
            _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        if proc.returncode != 0:
            raise SystemExit(f"{name} failed ({proc.returncode}):\n{tail(err, 40)}")
        return seconds, usage.ru_maxrss / 1024, out.read_text()

    def manage(self, name: str, *args: str) -> tuple[float, float, str]:
        return self.measured(name, [sys.executable, "manage.py", *args])

    def step(self, name: str, *args: str) -> tuple[dict, float]:
        """A step of bench/_steps10x.py: (its JSON, peak RSS MB)."""
        _, peak, out = self.measured(name, [sys.executable, str(BENCH / "_steps10x.py"), *args])
        result = json.loads(out.splitlines()[-1])
        self.details[name] = {**result, "peak_mb": peak}
        return result, peak

    # -- phases ----------------------------------------------------------------------------
    def build(self) -> None:
        scale = self.args.scale
        n = {k: max(1, round(v * scale)) for k, v in LAUNCH.items()}
        self.details["sizes"] = n
        print(f"\nsetup ({self.args.database}):", flush=True)
        for name, args in (
            ("migrate", ("migrate", "--no-input", "-v0")),
            ("import_catalog", ("import_catalog", "--no-progress")),
            ("import_taxonomy", ("import_taxonomy",)),
        ):
            seconds, peak, _ = self.manage(name, *args)
            self.row(name, seconds, "s", peak_mb=peak)
        print(
            f"\n{scale:g} x launch: {n['physicians']:,} physicians, {n['ratings']:,} ratings, "
            f"{n['comments']:,} comments",
            flush=True,
        )
        seconds, peak, _ = self.manage(
            "loader",
            "load_demo",
            *("--physicians", str(n["physicians"]), "--ratings", str(n["ratings"])),
            *("--comments", str(n["comments"])),
        )
        self.details["loader_log"] = (self.tmp / "loader.err").read_text().splitlines()
        self.row("loader (load_demo)", seconds, "s", peak_mb=peak)

    def jobs(self) -> None:
        fit, peak = self.step("initial_fit", "initial-fit")
        self.row(f"initial fit ({fit['n_ratings']:,} ratings)", fit["seconds"], "s", peak_mb=peak)
        first, peak = self.step("first_release", "release")
        self.row(
            "first release",
            first["seconds"],
            "s",
            target=TARGETS["first_release"],
            peak_mb=peak,
        )
        n_new = self.args.new_ratings
        new, peak = self.step("new_ratings", "new-ratings", "--n", str(n_new))
        self.row(f"{n_new:,} new ratings written (bench helper)", new["seconds"], "s", peak_mb=peak)
        refit, peak = self.step("refit", "refit")
        self.row("refit (fit and scores)", refit["seconds"], "s", target=TARGETS["refit"])
        self.row("  then its detectors", refit["detect_seconds"], "s", peak_mb=peak)
        incremental, peak = self.step("incremental_release", "release")
        self.row(
            f"incremental release ({incremental['events']:,} changes)",
            incremental["seconds"],
            "s",
            target=TARGETS["incremental_release"],
            peak_mb=peak,
        )
        # The worker's other jobs (quarterly decks once a release exists, digests) run now, so
        # the worker started below has only the new rating's refit to do.
        seconds, peak, out = self.manage("worker_once", "worker", "--once")
        self.details["worker_once"] = out.splitlines()
        self.row("worker --once (decks, digests)", seconds, "s", peak_mb=peak)

    def serving(self) -> None:
        fixtures = [sys.executable, str(BENCH / "_fixtures.py"), "prepare", "--tokens", "1"]
        out = subprocess.run(
            [*fixtures, "--pairs", "50"], cwd=ROOT, env=self.env, capture_output=True, text=True
        )
        if out.returncode != 0:
            raise SystemExit(f"preparing tokens failed:\n{out.stderr[-3000:]}")
        fx = json.loads(out.stdout.splitlines()[-1])
        drug = fx["drug"]
        self.details["drug"] = drug
        print(
            f"\nserving: most-rated drug {drug['name']} ({drug['n_ratings']:,} ratings), "
            f"{self.args.threads} clients",
            flush=True,
        )
        dsn = self.env["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
        with (
            Server(root=ROOT, env=self.env, logdir=self.tmp, name="10x", with_worker=False) as srv,
            psycopg.connect(dsn, autocommit=True) as db,
        ):
            cookie = browser_login(srv.port, DEMO_PHYSICIAN, DEMO_PASSWORD)
            endpoints = [
                Endpoint("drug_page", f"/drugs/{drug['slug']}/", {"Cookie": cookie}),
                Endpoint(
                    "drug_api",
                    f"/api/v1/drugs/{drug['id']}",
                    {"Authorization": f"Bearer {fx['physician_token']}"},
                ),
            ]
            # Warm-up: the first request of a drug builds its stored bytes; connections open.
            run_mixed(srv.port, endpoints, threads=self.args.threads, min_seconds=3, max_seconds=3)
            self.load(srv.port, endpoints, "worker idle", self.args.seconds, self.args.seconds)
            worker = start(
                [sys.executable, "manage.py", "worker", "--nice", "10"],
                env={**self.env, "PYTHONUNBUFFERED": "1"},  # its log says when it is done
                cwd=ROOT,
                log=self.tmp / "10x-worker.log",
            )
            try:
                watch = WorkerWatch(db, self.tmp / "10x-worker.log", self.args.max_wait)
                watch.wait_idle()
                landed = watch.refit_after(self.rate(srv.port, fx, 0))
                watch.wait_idle()
                self.details["rating_to_refit"] = landed
                self.row(
                    "new rating -> its refit current",
                    landed.get("seconds"),
                    "s",
                    target=TARGETS["rating_to_refit"],
                )
                # Again, with the clients on: the load lasts until that refit and its detectors
                # are done, so every answer below was served while the worker fitted.
                put_at = self.rate(srv.port, fx, 1)
                landed = {}
                self.load(
                    srv.port,
                    endpoints,
                    "worker refits",
                    5,
                    self.args.max_wait,
                    lambda: watch.refitted(put_at, landed) and watch.idle(),
                )
                self.details["rating_to_refit_under_load"] = landed
                self.row("  the same under the clients' load", landed.get("seconds"), "s")
                self.release_under_load(srv.port, endpoints)
                worker_peak = peak_rss_mb(worker.pid)
            finally:
                stop(worker)
            server_peak = group_peak_rss_mb(srv.gunicorn)
        self.row("server (uvicorn, 2 workers) peak memory", None, "", peak_mb=server_peak)
        self.row("worker peak memory", None, "", peak_mb=worker_peak)

    def load(
        self,
        port: int,
        endpoints: list[Endpoint],
        label: str,
        min_seconds: float,
        max_seconds: float,
        done=lambda: True,
    ) -> dict:
        result = run_mixed(
            port,
            endpoints,
            threads=self.args.threads,
            min_seconds=min_seconds,
            max_seconds=max_seconds,
            done=done,
        )
        self.details[f"serving {label}"] = result
        for name, r in result.items():
            busy = label != "worker idle"
            for q in ("p50", "p95"):
                target = TARGETS["page_p95_worker"] if busy and name == "drug_page" else None
                self.row(
                    f"{name} {q}, {label} (n={r.get('n', 0)}, err={r['errors']})",
                    r.get(f"{q}_ms"),
                    "ms",
                    target=target if q == "p95" else None,
                    errors=r["errors"],
                )
        return result

    def rate(self, port: int, fx: dict, k: int) -> datetime:
        """The k-th sampled pair rated through the API by a demo physician; when it answered."""
        drug_id, indication_id = fx["pairs"][k]
        body = {"indication_id": indication_id, "efficacy": 4, "safety": 3, "tolerability": 4}
        client = Client(port)
        try:
            answer = client.request(
                "PUT",
                f"/api/v1/drugs/{drug_id}/ratings/mine",
                body=json.dumps(body).encode(),
                headers={
                    "Authorization": f"Bearer {fx['tokens'][0]}",
                    "Content-Type": "application/json",
                },
            )
        finally:
            client.close()
        if answer.status not in (200, 201):
            raise SystemExit(f"rating PUT answered {answer.status}: {answer.body[:300]!r}")
        return datetime.now(UTC)

    def release_under_load(self, port: int, endpoints: list[Endpoint]) -> None:
        finished: dict = {}

        def build() -> None:
            finished["result"], finished["peak"] = self.step("busy_release", "release")

        builder = threading.Thread(target=build, daemon=True)
        builder.start()
        self.load(port, endpoints, "release builds", 5, self.args.max_wait, lambda: bool(finished))
        builder.join()
        result = finished["result"]
        self.row(
            f"release beside the load ({result['events']} change"
            f"{'' if result['events'] == 1 else 's'})",
            result["seconds"],
            "s",
            peak_mb=finished["peak"],
        )

    def report(self, load: tuple[float, float, float]) -> None:
        peaks = [r["peak_mb"] for r in self.rows if r["peak_mb"]]
        self.row("largest process peak memory", max(peaks), "MB", target=MEMORY_LIMIT_MB)
        failed = [r["figure"] for r in self.rows if r["verdict"] == "FAIL"]
        passed = sum(r["verdict"] == "PASS" for r in self.rows)
        print(f"\n{passed} PASS, {len(failed)} FAIL" + (f": {'; '.join(failed)}" if failed else ""))
        (BENCH / "results").mkdir(exist_ok=True)
        (BENCH / "results" / "bench_10x.json").write_text(
            json.dumps(
                {
                    "scale": self.args.scale,
                    "database": self.args.database,
                    "load_average_start": load,
                    "load_average_end": os.getloadavg(),
                    "rows": self.rows,
                    "details": self.details,
                },
                indent=2,
                default=str,
            )
        )


def keep_logs(tmp: Path) -> None:
    """The steps' output and the server's and worker's logs, for a 5xx or a failed step."""
    logs = BENCH / "results" / "bench_10x_logs"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    for path in tmp.iterdir():
        if path.is_file():
            shutil.copy(path, logs / path.name)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scale", type=float, default=10.0, help="times the launch demo")
    p.add_argument("--database", default="drugratings_10x", help="dropped and created")
    p.add_argument("--seconds", type=float, default=20.0, help="measured seconds, worker idle")
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--new-ratings", type=int, default=10_000)
    p.add_argument("--max-wait", type=float, default=900.0, help="bound of each busy phase")
    once = p.add_mutually_exclusive_group()
    once.add_argument("--keep", action="store_true", help="keep the database afterwards")
    once.add_argument(
        "--serving-only", action="store_true", help="serving phases on a kept database"
    )
    args = p.parse_args()
    if not args.database.replace("_", "").isalnum():
        raise SystemExit("--database: letters, digits and underscores only")
    install_handlers()
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    print(f"  {'figure':<46} {'value':>14}  {'target':>12}  {'':<4} {'peak':>8}")
    admin = psycopg.connect(ADMIN_DSN, autocommit=True, connect_timeout=5)
    if not args.serving_only:
        admin.execute(f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {args.database}")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-10x-") as tmp_name:
            bench = Bench(args, Path(tmp_name))
            started = time.monotonic()
            try:
                if not args.serving_only:
                    bench.build()
                    bench.jobs()
                bench.serving()
            finally:
                bench.details["total_seconds"] = time.monotonic() - started
                if bench.rows:
                    bench.report(load)
                keep_logs(Path(tmp_name))
    finally:
        if not (args.keep or args.serving_only):
            admin.execute(f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)")
        admin.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
