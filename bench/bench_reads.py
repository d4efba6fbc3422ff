"""Reads near the floor: `/healthz`, the drug API and the drug page under 8 concurrent clients.

    python bench/bench_reads.py [--database-url URL] [--seconds 20] [--threads 8] [--quick]

Serves the demo database as `manage.py serve` does (uvicorn, 2 workers, DEBUG=0, demo mode,
no background worker so no refit moves the figures mid-run) and measures, one endpoint after
the other with the same client, p50/p95 latency and requests per second of:

* `GET /healthz`                      -- the floor: no database, no template
* `GET /api/v1/drugs/{id}`            -- bearer token of physician@demo, most-rated drug
* `GET /drugs/<slug>/`                -- signed in as physician@demo (session from the form)

and prints their ratios to `/healthz`. Targets (issue 17): drug API p95 within 2x of healthz and
its throughput at least half of it; drug page p95 within 3x. The cache is the one the settings
choose (database cache, or Redis when REDIS_URL is set).

Without --database-url it builds the demo database in a temporary directory first (migrate,
import_catalog, import_taxonomy, load_demo, `worker --once` for the first fit: minutes). With
it, the database is used as it is (tokens are issued in it, nothing else is written).
Results: bench/results/reads.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from _http import Endpoint, browser_login, run_load  # noqa: E402
from _server import Server, install_handlers  # noqa: E402

DEMO_PHYSICIAN = "physician@demo.drugratings.org"
DEMO_PASSWORD = "demo-password-2017"  # drugratings/demo/accounts.py PASSWORD
TARGETS = {"drug_api": {"p95": 2.0, "rps": 0.5}, "drug_page": {"p95": 3.0}}


def manage(env: dict[str, str], *args: str) -> str:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    print(f"  manage.py {' '.join(args):40s} {time.monotonic() - started:6.1f} s", flush=True)
    return done.stdout


def build_demo(env: dict[str, str]) -> None:
    print("building the demo database (migrate, import, load_demo, first fit)", flush=True)
    manage(env, "migrate", "--no-input", "-v0")
    manage(env, "import_catalog", "--no-progress")
    manage(env, "import_taxonomy")
    manage(env, "load_demo")
    manage(env, "worker", "--once")


def prepare(env: dict[str, str]) -> dict:
    out = subprocess.run(
        [sys.executable, str(BENCH / "_fixtures.py"), "prepare", "--tokens", "0", "--pairs", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"preparing tokens failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.splitlines()[-1])


def measure(port: int, endpoint: Endpoint, threads: int, seconds: float) -> dict:
    def make(_i: int):
        return "GET", endpoint.path, None, endpoint.headers

    # Warm-up: the first request of a drug builds its stored bytes; connections open.
    run_load(port, make, threads=threads, max_requests=threads * 20, max_seconds=5)
    return run_load(port, make, threads=threads, max_requests=10**9, max_seconds=seconds)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database-url", default=os.environ.get("BENCH_READS_DATABASE_URL"))
    p.add_argument("--seconds", type=float, default=20.0, help="measured seconds per endpoint")
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--quick", action="store_true", help="5 s per endpoint")
    args = p.parse_args()
    seconds = 5.0 if args.quick else args.seconds
    install_handlers()
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-reads-") as tmp_name:
        tmp = Path(tmp_name)
        env = {
            **os.environ,
            "DRUGRATINGS_MODE": "demo",
            "DEBUG": "0",
            "DRUGRATINGS_VAR_DIR": str(tmp / "var"),
            "DATABASE_URL": args.database_url or f"sqlite:///{tmp / 'demo.sqlite3'}",
        }
        if not args.database_url:
            build_demo(env)
        fixtures = prepare(env)
        drug = fixtures["drug"]
        with Server(root=ROOT, env=env, logdir=tmp, name="reads", with_worker=False) as server:
            cookie = browser_login(server.port, DEMO_PHYSICIAN, DEMO_PASSWORD)
            endpoints = [
                Endpoint("healthz", "/healthz"),
                Endpoint(
                    "drug_api",
                    f"/api/v1/drugs/{drug['id']}",
                    {"Authorization": f"Bearer {fixtures['physician_token']}"},
                ),
                Endpoint("drug_page", f"/drugs/{drug['slug']}/", {"Cookie": cookie}),
            ]
            results = {e.name: measure(server.port, e, args.threads, seconds) for e in endpoints}
    return report(results, drug, args.threads, seconds, load[0])


def report(results: dict, drug: dict, threads: int, seconds: float, load: float) -> int:
    floor = results["healthz"]
    print(
        f"\nreads: {threads} concurrent clients, {seconds:.0f} s per endpoint; most-rated drug "
        f"{drug['name']} ({drug['n_ratings']} ratings)"
    )
    print(
        f"{'endpoint':10s} {'n':>7s} {'p50 ms':>8s} {'p95 ms':>8s} {'req/s':>8s} "
        f"{'p95/hz':>7s} {'rps/hz':>7s}  errors  target"
    )
    rows = []
    for name, r in results.items():
        lat = r["latency"]
        if not lat.get("n"):
            print(f"{name:10s} no successful response: {r['statuses']} {r['error_samples'][:2]}")
            rows.append({"section": "reads", "measurement": f"{name} answered", "verdict": "FAIL"})
            continue
        p95_ratio = lat["p95_ms"] / floor["latency"]["p95_ms"]
        rps_ratio = r["ok_rps"] / floor["ok_rps"]
        target = TARGETS.get(name, {})
        verdicts = []
        if "p95" in target:
            verdicts.append(("p95", p95_ratio <= target["p95"], f"p95 <= {target['p95']:g}x"))
        if "rps" in target:
            verdicts.append(("rps", rps_ratio >= target["rps"], f"rps >= {target['rps']:g}x"))
        errors = r["requests"] - r["ok"] + sum(r["exceptions"].values())
        text = ", ".join(f"{t} {'PASS' if ok else 'FAIL'}" for _, ok, t in verdicts) or "floor"
        print(
            f"{name:10s} {lat['n']:7d} {lat['p50_ms']:8.1f} {lat['p95_ms']:8.1f} "
            f"{r['ok_rps']:8.1f} {p95_ratio:7.2f} {rps_ratio:7.2f}  {errors:6d}  {text}"
        )
        for what, ok, label in verdicts:
            rows.append(
                {
                    "section": "reads",
                    "measurement": f"{name} {label}",
                    "ratio": p95_ratio if what == "p95" else rps_ratio,
                    "verdict": "PASS" if ok and not errors else "FAIL",
                }
            )
    results_dir = BENCH / "results"
    results_dir.mkdir(exist_ok=True)
    (results_dir / "reads.json").write_text(
        json.dumps(
            {
                "load_average": load,
                "threads": threads,
                "seconds": seconds,
                "drug": drug,
                "endpoints": results,
                "rows": rows,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
