"""Platform benchmark of Drug Ratings: ``python bench/bench_platform.py [--quick] [--phases ...]``.

Everything runs in a fresh temporary directory and a scratch PostgreSQL database
(`drugratings_bench`, created and dropped here), never the developer's var/ database.

1. SQLite: migrate, import_catalog, import_taxonomy, load_demo (252,000 ratings, 20,500 comments,
   12,000 physicians; --quick: far fewer), each timed, against the same rows inserted with a bare
   sqlite3 ``executemany`` (the floor for any loader). Requirement: import + load < 120 s.
   Then the initial score fit (``manage.py worker --once``) against reading its input.
2. API and page latency on that database: p50/p95 of GET /api/v1/drugs/{id} (bearer token) and
   GET /drugs/<slug>/ (anonymous and signed in) for the most-rated drug, against GET /healthz on
   the same server with the same client. Target: p95 well under 200 ms.
3. PostgreSQL: the same loading steps (baseline: the same rows with psycopg ``executemany``),
   the same latencies, and rating submissions per second (PUT /api/v1/drugs/{id}/ratings/mine by
   many verified demo physicians from several client threads) against GET /healthz requests per
   second with the same client and concurrency.

Servers: gunicorn as ``manage.py serve`` runs it (2 workers x 4 threads) plus the background
worker, with DEBUG=0 and RATINGS_PER_HOUR=1000000 (the product's per-account limit of 60 rating
writes per hour would otherwise stop the write benchmark after 60 requests per token).
Results: a table on stdout and bench/results/platform.json. This is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _floor  # noqa: E402
import _server  # noqa: E402
from _http import Endpoint, browser_login, run_load, sample_latency  # noqa: E402

PY = sys.executable
PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DB = "drugratings_bench"
PG_URL = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
DEMO_PHYSICIAN = "physician@demo.drugratings.org"
DEMO_PASSWORD = "demo-password-2017"
LOAD_TARGET_S = 120.0
P95_TARGET_MS = 200.0


@dataclass(frozen=True)
class Sizes:
    physicians: int
    ratings: int
    comments: int
    warmup: int
    samples: int
    latency_max_s: float
    tokens: int
    threads: int
    writes: int
    writes_max_s: float
    health_requests: int
    health_max_s: float


FULL = Sizes(
    physicians=12000,
    ratings=252000,
    comments=20500,
    warmup=20,
    samples=200,
    latency_max_s=100,
    tokens=200,
    threads=8,
    writes=2000,
    writes_max_s=60,
    health_requests=4000,
    health_max_s=20,
)
QUICK = Sizes(
    physicians=1500,
    ratings=20000,
    comments=1500,
    warmup=5,
    samples=40,
    latency_max_s=30,
    tokens=40,
    threads=8,
    writes=300,
    writes_max_s=15,
    health_requests=1000,
    health_max_s=10,
)


def say(msg: str) -> None:
    print(msg, flush=True)


class Bench:
    def __init__(self, quick: bool, tmp: Path) -> None:
        self.quick = quick
        self.sizes = QUICK if quick else FULL
        self.tmp = tmp
        self.rows: list[dict] = []
        self.details: dict[str, dict] = {}
        self.errors: list[dict] = []
        self.captured: dict[str, _floor.Rows] = {}

    def add(
        self,
        section: str,
        measurement: str,
        value: float | None,
        unit: str,
        baseline_label: str,
        baseline: float | None,
        *,
        target: str = "",
        ok: bool | None = None,
        note: str = "",
    ) -> None:
        ratio = value / baseline if value is not None and baseline else None
        self.rows.append(
            {
                "section": section,
                "measurement": measurement,
                "value": value,
                "unit": unit,
                "baseline_label": baseline_label,
                "baseline": baseline,
                "ratio": ratio,
                "target": target,
                "verdict": None if ok is None else ("PASS" if ok else "FAIL"),
                "note": note,
            }
        )

    # --- subprocesses -------------------------------------------------------------------------

    def env(self, database_url: str, **extra: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.endswith("_FILE") and k not in {"DATABASE_URL", "DEBUG", "SECRET_KEY"}
        }
        env.update(
            {
                "DATABASE_URL": database_url,
                "DRUGRATINGS_MODE": "demo",
                "DRUGRATINGS_VAR_DIR": str(self.tmp / "var"),
                "DJANGO_SETTINGS_MODULE": "drugratings.settings",
                "PYTHONUNBUFFERED": "1",
                **extra,
            }
        )
        return env

    def run(
        self, env: dict[str, str], args: list[str], label: str, timeout: float = 900
    ) -> tuple[float, str]:
        """Run a command from the repository root; returns (wall seconds, its output)."""
        log = self.tmp / f"{label}.log"
        started = time.perf_counter()
        proc = subprocess.run(
            args,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            start_new_session=True,
        )
        seconds = time.perf_counter() - started
        out = proc.stdout.decode(errors="replace")
        log.write_text(out)
        if proc.returncode != 0:
            raise RuntimeError(
                f"{' '.join(args[1:])} exited {proc.returncode}:\n"
                + "\n".join(out.splitlines()[-25:])
            )
        return seconds, out

    def manage(self, env: dict[str, str], *args: str, label: str) -> tuple[float, str]:
        return self.run(env, [PY, "manage.py", *args], label)

    def fixtures(self, env: dict[str, str], *args: str) -> dict:
        _, out = self.run(
            env, [PY, str(ROOT / "bench" / "_fixtures.py"), *args], f"fixtures-{args[0]}"
        )
        return json.loads(out.strip().splitlines()[-1])

    # --- shared steps -------------------------------------------------------------------------

    def load_steps(self) -> list[tuple[str, list[str]]]:
        s = self.sizes
        demo = ["load_demo"]
        if self.quick:
            demo += [
                "--physicians",
                str(s.physicians),
                "--ratings",
                str(s.ratings),
                "--comments",
                str(s.comments),
            ]
        return [
            ("import_catalog", ["import_catalog", "--no-progress"]),
            ("import_taxonomy", ["import_taxonomy"]),
            ("load_demo", demo),
        ]

    def score_fit(self, section: str, env: dict[str, str], tag: str) -> None:
        say(f"[{section}] initial score fit (manage.py worker --once) ...")
        fit_s, out = self.manage(env, "worker", "--once", label=f"{tag}-fit")
        read = self.fixtures(env, "read-ratings")
        self.details[f"{tag}_fit"] = {
            "seconds": fit_s,
            "output": out.strip()[-500:],
            "read_ratings": read,
        }
        say(f"  fit {fit_s:.1f} s; reading its {read['n']:,} ratings {read['seconds']:.2f} s")
        self.add(
            section,
            "initial score fit (worker --once)",
            fit_s,
            "s",
            "read the fit's ratings",
            read["seconds"],
            note="20 fits (5 dims x 2 windows x drug/pair) + ranks + score writes",
        )
        self.refit_methods(section, env, tag)

    def refit_methods(self, section: str, env: dict[str, str], tag: str) -> None:
        """Issue 14: the refit's fits by REML (cold and warm-started) beside the moments."""
        say(f"[{section}] refit fits: REML (cold, warm) vs method of moments ...")
        m = self.fixtures(env, "refit-methods")
        self.details[f"{tag}_refit_methods"] = m
        moments = m["moments"]
        for key, label in (
            ("reml_cold", "refit fits, REML (published method), cold start"),
            ("reml_warm", "refit fits, REML warm-started from the previous fit"),
            ("moments", "refit fits, method of moments (previous product method)"),
        ):
            r = m[key]
            say(f"  {label}: {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU")
            self.add(
                section,
                label,
                r["wall_s"],
                "s",
                "moments, same fits",
                moments["wall_s"],
                note=f"{r['cpu_s']:.1f} CPU s; {m['n']:,} ratings; {'/'.join(r['methods'])}; "
                f"{r['reml_evaluations']} REML evaluations; largest fit {r['max_items']:,} items",
            )

    def latency(self, section: str, port: int, fx: dict, tag: str) -> None:
        s = self.sizes
        drug = fx["drug"]
        cookie = browser_login(port, DEMO_PHYSICIAN, DEMO_PASSWORD)
        bearer = {"Authorization": f"Bearer {fx['physician_token']}"}
        endpoints = [
            Endpoint("healthz", "/healthz"),
            Endpoint("api_drug", f"/api/v1/drugs/{drug['id']}", bearer),
            Endpoint("page_anon", f"/drugs/{drug['slug']}/"),
            Endpoint("page_signed_in", f"/drugs/{drug['slug']}/", {"Cookie": cookie}),
        ]
        say(
            f"[{section}] latency: {s.samples} rounds of {len(endpoints)} endpoints "
            f"(drug {drug['id']} {drug['name']!r}, {drug['n_ratings']:,} ratings) ..."
        )
        res = sample_latency(
            port, endpoints, warmup=s.warmup, samples=s.samples, max_seconds=s.latency_max_s
        )
        self.details[f"{tag}_latency"] = {"drug": drug, **res}
        h = res["healthz"]
        for name, label in (
            ("api_drug", "GET /api/v1/drugs/{id} (bearer)"),
            ("page_signed_in", "GET /drugs/<slug>/ signed in"),
            ("page_anon", "GET /drugs/<slug>/ anonymous"),
        ):
            r = res[name]
            say(
                f"  {name:15s} n={r['n']:4d} p50 {r.get('p50_ms', 0):7.1f} ms  "
                f"p95 {r.get('p95_ms', 0):7.1f} ms  errors {r['errors']}  statuses {r['statuses']}"
            )
            if r["n"] == 0:
                raise RuntimeError(f"{name}: no successful request: {r['statuses']}")
            note = f"{r['errors']} non-200 responses" if r["errors"] else ""
            self.add(
                section, f"{label} p50", r["p50_ms"], "ms", "/healthz p50", h["p50_ms"], note=note
            )
            self.add(
                section,
                f"{label} p95",
                r["p95_ms"],
                "ms",
                "/healthz p95",
                h["p95_ms"],
                target=f"< {P95_TARGET_MS:.0f} ms",
                ok=r["p95_ms"] < P95_TARGET_MS,
            )
        say(f"  {'healthz':15s} n={h['n']:4d} p50 {h['p50_ms']:7.1f} ms  p95 {h['p95_ms']:7.1f} ms")

    # --- phases -------------------------------------------------------------------------------

    def phase_sqlite(self) -> None:
        section = "sqlite"
        db = self.tmp / "bench.sqlite3"
        env = self.env(f"sqlite:///{db}")  # db is absolute: sqlite:////tmp/...
        self.startup(env)
        say(f"[{section}] loading into {db} ...")
        snaps = [_floor.snapshot(db)]
        migrate_s, _ = self.manage(env, "migrate", "--no-input", "-v0", label="sqlite-migrate")
        snaps.append(_floor.snapshot(db))
        say(f"  migrate {migrate_s:.1f} s")
        times: dict[str, float] = {}
        outputs: dict[str, str] = {}
        for name, args in self.load_steps():
            times[name], outputs[name] = self.manage(env, *args, label=f"sqlite-{name}")
            snaps.append(_floor.snapshot(db))
            say(f"  {name} {times[name]:.1f} s")
        steps = [name for name, _ in self.load_steps()]
        captured = {
            name: _floor.capture(db, snaps[i + 1], snaps[i + 2]) for i, name in enumerate(steps)
        }
        self.captured = captured
        floors = {
            name: _floor.sqlite_floor(rows, self.tmp / "floor.sqlite3")
            for name, rows in captured.items()
        }
        total_rows = _floor.merge(*captured.values())
        floor_total = _floor.sqlite_floor(total_rows, self.tmp / "floor.sqlite3")
        self.details["sqlite_load"] = {
            "seconds": {"migrate": migrate_s, **times},
            "floor_seconds": {**floors, "total": floor_total},
            "rows": {name: _floor.describe(rows) for name, rows in captured.items()},
            "load_demo_output": outputs["load_demo"].strip().splitlines()[:3],
        }
        self.add(
            section,
            "manage.py migrate (fresh database)",
            migrate_s,
            "s",
            "manage.py check start-up",
            self.details["startup"]["manage_check_s"],
        )
        for name in steps:
            info = _floor.describe(captured[name])
            self.add(
                section,
                f"manage.py {name}",
                times[name],
                "s",
                "executemany floor, same rows",
                floors[name],
                note=f"{info['rows']:,} rows in {info['tables']} tables, "
                f"~{info['avg_row_bytes']:.0f} B/row",
            )
        total = sum(times.values())
        info = _floor.describe(total_rows)
        judged = not self.quick
        self.add(
            section,
            "import + load total (catalogue, taxonomy, demo)",
            total,
            "s",
            "executemany floor, same rows",
            floor_total,
            target=f"< {LOAD_TARGET_S:.0f} s" if judged else "(quick: not judged)",
            ok=(total < LOAD_TARGET_S) if judged else None,
            note=f"{info['rows']:,} rows; with migrate {total + migrate_s:.1f} s",
        )
        say(f"  import + load {total:.1f} s (floor {floor_total:.2f} s for {info['rows']:,} rows)")
        self.score_fit(section, env, "sqlite")
        fx = self.fixtures(env, "prepare", "--tokens", "0")
        server_env = self.env(f"sqlite:///{db}", DEBUG="0", RATINGS_PER_HOUR="1000000")
        with _server.Server(root=ROOT, env=server_env, logdir=self.tmp, name="sqlite") as srv:
            self.latency(section, srv.port, fx, "sqlite")

    def startup(self, env: dict[str, str]) -> None:
        bare, _ = self.run(env, [PY, "-c", "pass"], "python-startup")
        check, _ = self.manage(env, "check", label="manage-check")
        self.details["startup"] = {"python_s": bare, "manage_check_s": check}
        self.add(
            "common",
            "manage.py check (start-up of any command)",
            check,
            "s",
            "python -c pass",
            bare,
            note="fixed cost inside every command timing",
        )

    def phase_postgres(self) -> None:
        section = "postgres"
        import psycopg

        try:
            admin = psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5)
        except psycopg.OperationalError as exc:
            raise RuntimeError(
                f"PostgreSQL is not reachable at 127.0.0.1:5432 ({exc}); start it with "
                "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`"
            ) from exc
        env = self.env(PG_URL)
        if "startup" not in self.details:
            self.startup(env)
        try:
            admin.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {PG_DB}")
            self._postgres(section, env)
        finally:
            try:
                admin.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
            finally:
                admin.close()

    def _postgres(self, section: str, env: dict[str, str]) -> None:
        s = self.sizes
        say(f"[{section}] loading into database {PG_DB} ...")
        migrate_s, _ = self.manage(env, "migrate", "--no-input", "-v0", label="pg-migrate")
        say(f"  migrate {migrate_s:.1f} s")
        times: dict[str, float] = {}
        for name, args in self.load_steps():
            times[name], _ = self.manage(env, *args, label=f"pg-{name}")
            say(f"  {name} {times[name]:.1f} s")
        dsn = PG_URL.replace("postgres://", "postgresql://", 1)
        floors: dict[str, float | None] = {}
        if self.captured:
            for name, rows in self.captured.items():
                floors[name] = _floor.postgres_floor(rows, dsn)
            floors["total"] = _floor.postgres_floor(_floor.merge(*self.captured.values()), dsn)
        self.details["postgres_load"] = {
            "seconds": {"migrate": migrate_s, **times},
            "floor_seconds": floors,
        }
        self.add(
            section,
            "manage.py migrate (fresh database)",
            migrate_s,
            "s",
            "manage.py check start-up",
            self.details["startup"]["manage_check_s"],
        )
        base_note = "" if self.captured else "no baseline: run the sqlite phase to capture rows"
        for name, _ in self.load_steps():
            self.add(
                section,
                f"manage.py {name}",
                times[name],
                "s",
                "psycopg executemany floor",
                floors.get(name),
                note=base_note,
            )
        total = sum(times.values())
        self.add(
            section,
            "import + load total (catalogue, taxonomy, demo)",
            total,
            "s",
            "psycopg executemany floor",
            floors.get("total"),
            note=base_note or f"with migrate {total + migrate_s:.1f} s",
        )
        say(f"  import + load {total:.1f} s")
        self.score_fit(section, env, "postgres")
        fx = self.fixtures(env, "prepare", "--tokens", str(s.tokens), "--pairs", "4000")
        if len(fx["tokens"]) < s.tokens:
            raise RuntimeError(f"only {len(fx['tokens'])} verified demo physicians for tokens")
        server_env = self.env(PG_URL, DEBUG="0", RATINGS_PER_HOUR="1000000")
        with _server.Server(root=ROOT, env=server_env, logdir=self.tmp, name="postgres") as srv:
            self.latency(section, srv.port, fx, "postgres")
            self.writes(section, srv.port, env, fx)

    def writes(self, section: str, port: int, env: dict[str, str], fx: dict) -> None:
        s = self.sizes
        say(
            f"[{section}] GET /healthz load: {s.threads} threads, up to "
            f"{s.health_requests} requests / {s.health_max_s:.0f} s ..."
        )
        health = run_load(
            port,
            lambda i: ("GET", "/healthz", None, {}),
            threads=s.threads,
            max_requests=s.health_requests,
            max_seconds=s.health_max_s,
        )
        say(f"  {health['rps']:.0f} requests/s, statuses {health['statuses']}")
        tokens, pairs = fx["tokens"], fx["pairs"]

        def rating(i: int):
            rng = random.Random(1_000_003 * i + 17)
            drug_id, indication_id = pairs[rng.randrange(len(pairs))]
            body = {
                "indication_id": indication_id,
                **{
                    d: rng.randint(1, 5)
                    for d in ("efficacy", "safety", "tolerability", "accessibility", "adherence")
                },
            }
            return (
                "PUT",
                f"/api/v1/drugs/{drug_id}/ratings/mine",
                json.dumps(body).encode(),
                {
                    "Authorization": f"Bearer {tokens[i % len(tokens)]}",
                    "Content-Type": "application/json",
                },
            )

        before = self.fixtures(env, "counts")
        started_at = datetime.now(UTC).isoformat()
        say(
            f"[{section}] rating submissions: {len(tokens)} physicians, {s.threads} threads, "
            f"up to {s.writes} PUTs / {s.writes_max_s:.0f} s (RATINGS_PER_HOUR=1000000) ..."
        )
        put = run_load(
            port,
            rating,
            threads=s.threads,
            max_requests=s.writes,
            max_seconds=s.writes_max_s,
            ok=(200, 201),
        )
        after = self.fixtures(env, "counts", "--since", started_at)
        errors = put["requests"] - put["ok"] + sum(put["exceptions"].values())
        written = after["revisions"] - before["revisions"]
        self.details["postgres_writes"] = {
            "healthz": health,
            "put": put,
            "before": before,
            "after": after,
            "revisions_written": written,
        }
        say(
            f"  {put['rps']:.1f} requests/s ({put['ok']} ok of {put['requests']}), statuses "
            f"{put['statuses']}, exceptions {put['exceptions']}; p50 "
            f"{put['latency'].get('p50_ms', 0):.0f} ms "
            f"p95 {put['latency'].get('p95_ms', 0):.0f} ms; {written} revisions stored; "
            f"refits started meanwhile: {after.get('fit_runs_started_since')}"
        )
        for sample in put["error_samples"]:
            say(f"  error: {sample}")
        note = (
            f"{put['ok']}/{put['requests']} ok ({put['statuses']}), {errors} errors, "
            f"{written} revisions stored; worker refits started during the run: "
            f"{after.get('fit_runs_started_since')}"
        )
        self.add(
            section,
            f"PUT /ratings/mine, {s.threads} threads (ok req/s)",
            put["ok_rps"],
            "req/s",
            f"/healthz req/s, {s.threads} threads",
            health["rps"],
            note=note,
        )
        lat = put["latency"]
        if lat.get("n"):
            self.add(
                section,
                "PUT /ratings/mine p95 under load",
                lat["p95_ms"],
                "ms",
                "/healthz p95 under load",
                health["latency"].get("p95_ms"),
                note=f"p50 {lat['p50_ms']:.0f} ms",
            )
        if errors:
            self.errors.append(
                {
                    "phase": "postgres-writes",
                    "error": f"{errors} failed rating "
                    f"submissions: {put['statuses']} {put['exceptions']}",
                    "samples": put["error_samples"],
                    "fatal": False,
                }
            )


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit == "s":
        digits = 3 if value < 1 else 2 if value < 10 else 1
        return f"{value:.{digits}f} s"
    if unit == "req/s":
        return f"{value:.1f}/s"
    return f"{value:.3g}"


def print_table(rows: list[dict]) -> None:
    head = (
        f"{'measurement':52s} {'value':>10s}  {'baseline':32s} {'':>10s} {'ratio':>8s}  "
        f"{'target':18s} verdict"
    )
    say("")
    say(head)
    say("-" * len(head))
    section = None
    for r in rows:
        if r["section"] != section:
            section = r["section"]
            say(f"[{section}]")
        ratio = (
            "-"
            if r["ratio"] is None
            else (f"{r['ratio']:.0f}x" if r["ratio"] >= 100 else f"{r['ratio']:.3g}x")
        )
        say(
            f"  {r['measurement']:50s} {fmt(r['value'], r['unit']):>10s}  "
            f"{r['baseline_label']:32s} {fmt(r['baseline'], r['unit']):>10s} {ratio:>8s}  "
            f"{r['target']:18s} {r['verdict'] or ''}"
        )
        if r["note"]:
            say(f"      {r['note']}")


def git_commit() -> str | None:
    try:
        return (
            subprocess.run(
                ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
            ).stdout.strip()
            or None
        )
    except OSError:
        return None


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    p.add_argument(
        "--phases",
        default="sqlite,postgres",
        help="comma-separated: sqlite, postgres (default both)",
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    args = p.parse_args()
    phases = [x.strip() for x in args.phases.split(",") if x.strip()]
    unknown = set(phases) - {"sqlite", "postgres"}
    if unknown:
        p.error(f"unknown phase(s): {', '.join(sorted(unknown))}")
    _server.install_handlers()
    tmp = Path(tempfile.mkdtemp(prefix="drugratings-bench-"))
    bench = Bench(args.quick, tmp)
    load = os.getloadavg()
    say(
        f"platform benchmark ({'quick' if args.quick else 'full'} scale) in {tmp}; load average "
        f"{load[0]:.2f} on {os.cpu_count()} CPUs (other processes slow every number below)"
    )
    say(
        "servers: gunicorn 2 workers x 4 threads + manage.py worker, DRUGRATINGS_MODE=demo, "
        "DEBUG=0, RATINGS_PER_HOUR=1000000 (product default 60/hour per account)"
    )
    started = time.monotonic()
    try:
        for phase in phases:
            try:
                getattr(bench, f"phase_{phase}")()
            except Exception as exc:  # record, and go on to the next phase
                traceback.print_exc()
                bench.errors.append(
                    {"phase": phase, "error": f"{type(exc).__name__}: {exc}", "fatal": True}
                )
    finally:
        _server.stop_all()
        if args.keep:
            say(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    wall = time.monotonic() - started
    print_table(bench.rows)
    verdicts = [r["verdict"] for r in bench.rows if r["verdict"]]
    say("")
    say(
        f"{verdicts.count('PASS')} PASS, {verdicts.count('FAIL')} FAIL; "
        f"{len(bench.errors)} error(s); {wall:.0f} s in all"
    )
    for e in bench.errors:
        say(f"ERROR [{e['phase']}]: {e['error']}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    result = {
        "benchmark": "platform",
        "finished_at": datetime.now(UTC).isoformat(),
        "git_commit": git_commit(),
        "quick": args.quick,
        "phases": phases,
        "wall_seconds": wall,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_at_start": load,
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "server": {
            "gunicorn_workers": 2,
            "gunicorn_threads": 4,
            "background_worker": True,
            "env": {"DRUGRATINGS_MODE": "demo", "DEBUG": "0", "RATINGS_PER_HOUR": "1000000"},
        },
        "sizes": bench.sizes.__dict__,
        "rows": bench.rows,
        "errors": bench.errors,
        "details": bench.details,
    }
    (out / "platform.json").write_text(json.dumps(result, indent=2, default=str))
    say(f"results written to {out / 'platform.json'}")
    return 1 if any(e.get("fatal") for e in bench.errors) else 0


if __name__ == "__main__":
    sys.exit(main())
