"""Run every benchmark (`make bench`): ``python bench/run.py [--quick] [--only reads|...]``.

Runs bench/bench_reads.py (healthz / drug API / drug page under 8 clients, with ratios), then
bench/bench_platform.py, bench/bench_portal.py and bench/bench_stats.py, each as a subprocess
whose output goes straight to this terminal, then prints a summary. Exits non-zero when a
benchmark crashed (exited non-zero); a FAIL against a target is reported, not turned into an
exit status.

--quick  passes --quick to bench_platform.py and --skip-10m --skip-r to bench_stats.py (its
         cheap subset: the 250k x 5 case without lme4), for a smoke run.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"


def command(name: str, quick: bool) -> list[str]:
    if name == "platform":
        return [sys.executable, str(BENCH / "bench_platform.py"), *(["--quick"] if quick else [])]
    if name == "reads":
        return [sys.executable, str(BENCH / "bench_reads.py"), *(["--quick"] if quick else [])]
    if name == "portal":
        return [sys.executable, str(BENCH / "bench_portal.py"), *(["--quick"] if quick else [])]
    if name == "privacy":
        return [sys.executable, str(BENCH / "bench_privacy.py"), *(["--quick"] if quick else [])]
    return [
        sys.executable,
        str(BENCH / "bench_stats.py"),
        *(["--skip-10m", "--skip-r", "--skip-2500k"] if quick else []),
    ]


def verdicts(name: str, since: float) -> tuple[int, int, list[str]]:
    """(PASS count, FAIL count, failed measurements) from the JSON the benchmark wrote in this
    run; (0, 0, []) when it wrote none."""
    path = RESULTS / ("bench_stats.json" if name == "stats" else f"{name}.json")
    try:
        if path.stat().st_mtime < since:
            return 0, 0, []
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return 0, 0, []
    if name in ("reads", "platform", "portal", "privacy"):
        rows = data.get("rows", [])
        passed = [r for r in rows if r.get("verdict") == "PASS"]
        failed = [f"{r['section']}: {r['measurement']}" for r in rows if r.get("verdict") == "FAIL"]
        return len(passed), len(failed), failed
    passed = [r for r in data if r.get("ok") is True]
    failed = [f"{r.get('case')}: {r.get('what')}" for r in data if r.get("ok") is False]
    return len(passed), len(failed), failed


def run(name: str, quick: bool) -> dict:
    cmd = command(name, quick)
    print(
        f"\n=== {name}: {' '.join(Path(c).name if i < 2 else c for i, c in enumerate(cmd))}",
        flush=True,
    )
    started_wall = time.time()
    started = time.monotonic()
    # Own process group, so an interrupted run can stop the benchmark and everything it started.
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True)
    try:
        code = proc.wait()
    except BaseException:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=60)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
        raise
    passed, failed, which = verdicts(name, started_wall)
    return {
        "name": name,
        "exit": code,
        "seconds": time.monotonic() - started,
        "pass": passed,
        "fail": failed,
        "failed": which,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    p.add_argument(
        "--only",
        choices=("reads", "privacy", "platform", "portal", "stats"),
        help="run one benchmark only",
    )
    args = p.parse_args()
    names = [args.only] if args.only else ["reads", "privacy", "platform", "portal", "stats"]

    def _term(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _term)
    outcomes = [run(name, args.quick) for name in names]
    print("\n=== summary" + (" (quick)" if args.quick else ""))
    print(f"{'benchmark':10s} {'exit':>4s} {'seconds':>8s} {'PASS':>5s} {'FAIL':>5s}  status")
    for o in outcomes:
        status = "ok" if o["exit"] == 0 else f"CRASHED (exit {o['exit']})"
        print(
            f"{o['name']:10s} {o['exit']:4d} {o['seconds']:8.0f} {o['pass']:5d} {o['fail']:5d}  "
            f"{status}"
        )
        for f in o["failed"]:
            print(f"{'':10s} FAIL {f}")
    print(f"results: {RESULTS}/")
    return 1 if any(o["exit"] != 0 for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
