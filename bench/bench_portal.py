"""Pharma portal benchmarks: release building and report latency (issue: the pharma portal).

    python bench/bench_portal.py [--quick]

Works on a disposable copy of the demo SQLite database (var/drugratings.sqlite3, made by
`make demo`), or builds one in a temporary folder when there is none. Measures:
  1. a full release over all demo ratings, beside the time to read those ratings (the floor of
     any release build);
  2. an incremental release after 1,000 new ratings, beside the same floor;
  3. the indication report (JSON, through the API with the demo key) p50/p95 on gunicorn, beside
     /healthz on the same server; target p95 under 200 ms.
Writes bench/results/portal.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from _http import Endpoint, sample_latency  # noqa: E402
from _server import Server, install_handlers, stop_all  # noqa: E402

DEMO_DB = ROOT / "var" / "drugratings.sqlite3"
API_KEY = "drk_demo_0123456789abcdef"

PHASE = r"""
import json, random, time
from drugratings.portal.models import CellState, CellVersion, EngagementVersion, IncludedRating, LedgerEntry, Release
from drugratings.portal.releases import build_release
from drugratings.ratings.queries import scored_ratings
from drugratings.ratings.dimensions import DIMENSION_NAMES
phase = "{phase}"
out = {{}}
if phase == "full":
    for model in (CellVersion, EngagementVersion, CellState, IncludedRating, LedgerEntry, Release):
        model.objects.all().delete()
t = time.perf_counter(); n = len(list(scored_ratings().values_list("drug_id", "indication_id", "physician_id", "physician__specialty_id", "physician__region", "updated_at", *DIMENSION_NAMES).iterator(chunk_size=5000))); out["read_seconds"] = time.perf_counter() - t; out["ratings"] = n
if phase == "incremental":
    from django.utils import timezone
    from drugratings.catalog.models import DrugIndication
    from drugratings.accounts.models import PhysicianProfile
    from drugratings.ratings.models import Rating
    rng = random.Random(7)
    pairs = list(DrugIndication.objects.values_list("drug_id", "indication_id")[:3000])
    physicians = list(PhysicianProfile.objects.filter(verification_status="verified").values_list("pk", flat=True)[:5000])
    have = set(Rating.objects.values_list("physician_id", "drug_id", "indication_id"))
    new, now = [], timezone.now()
    while len(new) < {n_new}:
        p = rng.choice(physicians); d, i = rng.choice(pairs)
        if (p, d, i) in have: continue
        have.add((p, d, i))
        new.append(Rating(physician_id=p, drug_id=d, indication_id=i, created_at=now, updated_at=now, **{{k: rng.randint(1, 5) for k in DIMENSION_NAMES}}))
    Rating.objects.bulk_create(new)
t = time.perf_counter(); r = build_release(); out["release_seconds"] = time.perf_counter() - t
out.update(release=r.pk, events=r.n_events, cells_changed=r.n_cells_changed, published=r.n_cells_published)
print("RESULT " + json.dumps(out))
"""


def run_phase(env: dict[str, str], phase: str, n_new: int = 0) -> dict:
    code = PHASE.format(phase=phase, n_new=n_new)
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    line = next((x for x in result.stdout.splitlines() if x.startswith("RESULT ")), None)
    if result.returncode != 0 or line is None:
        raise SystemExit(f"phase {phase} failed:\n{result.stderr[-3000:]}")
    return json.loads(line[len("RESULT ") :])


def prepare_copy(tmp: Path, env: dict[str, str], quick: bool) -> None:
    copy = tmp / "portal-bench.sqlite3"
    if DEMO_DB.exists() and not quick:
        with sqlite3.connect(DEMO_DB) as src, sqlite3.connect(copy) as dst:
            src.backup(dst)
        print(f"copied the demo database ({DEMO_DB})")
    else:
        steps = [
            ["migrate", "-v0"],
            ["import_catalog", "--no-progress"],
            ["import_taxonomy"],
            [
                "load_demo",
                *(
                    ["--physicians", "1500", "--ratings", "30000", "--comments", "2000"]
                    if quick
                    else []
                ),
            ],
        ]
        print("building demo data (no var/drugratings.sqlite3)…")
        for step in steps:
            subprocess.run(
                [sys.executable, "manage.py", *step],
                cwd=ROOT,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)


def busiest_indication(env: dict[str, str]) -> int:
    code = (
        "from django.db.models import Count; from drugratings.portal.models import CellVersion; "
        "print('RESULT', CellVersion.objects.filter(level=1, breakdown='none', last_release=None)"
        ".values('indication_id').annotate(n=Count('id')).order_by('-n')[0]['indication_id'])"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(next(x for x in result.stdout.splitlines() if x.startswith("RESULT")).split()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    install_handlers()
    rows = []

    def row(section, measurement, value, baseline, unit, target=None, ok=None):
        ratio = value / baseline if baseline else None
        rows.append(
            {
                "section": section,
                "measurement": measurement,
                "value": value,
                "baseline": baseline,
                "unit": unit,
                "ratio": ratio,
                "target": target,
                "verdict": None if ok is None else ("PASS" if ok else "FAIL"),
            }
        )
        shown = f"{value:10.3f} {unit}   baseline {baseline:8.3f} {unit}"
        print(
            f"{section:<10} {measurement:<46} {shown}   x{ratio:6.1f}"
            + (f"   {target}: {'PASS' if ok else 'FAIL'}" if ok is not None else "")
        )

    with tempfile.TemporaryDirectory(prefix="bench-portal-") as tmp_name:
        tmp = Path(tmp_name)
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp / 'portal-bench.sqlite3'}",
            "DRUGRATINGS_VAR_DIR": str(tmp),
            "DRUGRATINGS_MODE": "demo",
            "DEBUG": "0",
            "RELEASE_INTERVAL_SECONDS": "1000000",
        }
        prepare_copy(tmp, env, args.quick)
        print(f"load average at start: {os.getloadavg()[0]:.2f}")
        full = run_phase(env, "full")
        row(
            "release",
            f"full release over {full['ratings']:,} ratings",
            full["release_seconds"],
            full["read_seconds"],
            "s",
        )
        n_new = 200 if args.quick else 1000
        incremental = run_phase(env, "incremental", n_new)
        row(
            "release",
            f"incremental release after {n_new:,} new ratings",
            incremental["release_seconds"],
            incremental["read_seconds"],
            "s",
        )
        print(
            f"  ({incremental['events']} changes included, {incremental['cells_changed']} "
            f"cells changed, {incremental['published']} cells published)"
        )
        indication = busiest_indication(env)
        with Server(root=ROOT, env=env, logdir=tmp, name="portal", with_worker=False) as server:
            auth = {"Authorization": f"Bearer {API_KEY}"}
            result = sample_latency(
                server.port,
                [
                    Endpoint("healthz", "/healthz"),
                    Endpoint("report", f"/api/v1/portal/reports/indications/{indication}", auth),
                ],
                warmup=5,
                samples=60 if args.quick else 300,
                max_seconds=120,
            )
        report, health = result["report"], result["healthz"]
        row(
            "latency",
            f"indication report #{indication} p50",
            report["p50_ms"],
            health["p50_ms"],
            "ms",
        )
        row(
            "latency",
            f"indication report #{indication} p95",
            report["p95_ms"],
            health["p95_ms"],
            "ms",
            "p95 < 200 ms",
            report["p95_ms"] < 200 and report["errors"] == 0,
        )
    (BENCH / "results").mkdir(exist_ok=True)
    (BENCH / "results" / "portal.json").write_text(json.dumps({"rows": rows}, indent=2))
    stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
