"""Inside-Django helper of bench/bench_platform.py, run as a subprocess with the benchmark's env.

    python bench/_fixtures.py prepare --tokens 200 --pairs 4000 --seed 7   -> JSON on stdout
    python bench/_fixtures.py read-ratings                                 -> JSON on stdout
    python bench/_fixtures.py counts [--since ISO]                         -> JSON on stdout

`prepare` picks the most-rated drug, issues bearer tokens (the product's
`accounts.actions.issue_token`) for physician@demo.drugratings.org and for N verified demo
physicians, and samples drug/indication pairs from the catalogue (`DrugIndication`).
`read-ratings` times `analytics.fitting.load_rating_arrays()`, the input read of a score refit.
Only ever pointed at the benchmark's own temporary database.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "drugratings.settings")

import django  # noqa: E402
import numpy as np  # noqa: E402

django.setup()

from _server import cpu_seconds_with_children  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils.dateparse import parse_datetime  # noqa: E402

from drugratings.accounts.actions import issue_token  # noqa: E402
from drugratings.accounts.models import User, VerificationStatus  # noqa: E402
from drugratings.analytics.models import FitRun  # noqa: E402
from drugratings.catalog.models import DrugIndication  # noqa: E402
from drugratings.ratings.models import Rating, RatingRevision  # noqa: E402

DEMO_PHYSICIAN = "physician@demo.drugratings.org"
DEMO_DOMAIN = "@physicians.demo.drugratings.org"


def prepare(n_tokens: int, n_pairs: int, seed: int) -> dict:
    top = (
        Rating.objects.values("drug_id", "drug__slug", "drug__generic_name")
        .annotate(n=Count("id"))
        .order_by("-n", "drug_id")
        .first()
    )
    if top is None:
        raise SystemExit("no ratings in the database: was load_demo run?")
    _, physician_token = issue_token(User.objects.get(email=DEMO_PHYSICIAN), name="bench")
    raters = list(
        User.objects.filter(
            email__endswith=DEMO_DOMAIN,
            is_active=True,
            physician__verification_status=VerificationStatus.VERIFIED,
        ).order_by("pk")[:n_tokens]
    )
    tokens = [issue_token(user, name="bench")[1] for user in raters]
    all_pairs = list(DrugIndication.objects.order_by("pk").values_list("drug_id", "indication_id"))
    rng = random.Random(seed)
    pairs = rng.sample(all_pairs, min(n_pairs, len(all_pairs)))
    return {
        "drug": {
            "id": top["drug_id"],
            "slug": top["drug__slug"],
            "name": top["drug__generic_name"],
            "n_ratings": top["n"],
        },
        "physician_token": physician_token,
        "tokens": tokens,
        "pairs": pairs,
        "catalogue_pairs": len(all_pairs),
    }


def read_ratings() -> dict:
    from drugratings.analytics.fitting import load_rating_arrays

    started = time.perf_counter()
    data = load_rating_arrays()
    return {"seconds": time.perf_counter() - started, "n": int(data.drug.size)}


def refit_methods() -> dict:
    """Issue 14: the 20 fits of a refit (5 dims x 2 windows x drug/pair) by REML from cold, by
    REML warm-started from that fit's components (what a refit after new ratings does), and by
    the method of moments.  Fits only: ranks and score writes are the same for all three and
    are in the `worker --once` row.  Wall and CPU seconds (the CPU time is what the fits cost
    when the machine is shared)."""
    from django.conf import settings
    from django.utils import timezone

    from drugratings.analytics import fitting
    from drugratings.analytics.models import Window
    from drugratings.analytics.windows import trailing_12m_start

    data = fitting.load_rating_arrays()
    recent = data.updated >= np.datetime64(int(trailing_12m_start(timezone.now()).timestamp()), "s")
    windows = {Window.ALL_TIME: data, Window.TRAILING_12M: data.subset(recent)}

    def run(method: str, previous: dict) -> tuple[dict, dict]:
        wall, cpu = time.perf_counter(), cpu_seconds_with_children()
        fitted = fitting.fit_all(windows, previous, method, processes=settings.FIT_PROCESSES)
        summary = {
            p.key: fitting._fit_summary(out.result, p.task, previous.get(p.key) or {})
            for p, out in fitted
        }
        timing = {
            "wall_s": time.perf_counter() - wall,
            "cpu_s": cpu_seconds_with_children() - cpu,  # the fits run in child processes
            "processes": settings.FIT_PROCESSES,
            "methods": sorted({v["method"] for v in summary.values()}),
            "reml_evaluations": sum(v["reml_evaluations"] for v in summary.values()),
            "max_items": max((out.result.n_items for _, out in fitted), default=0),
        }
        return summary, timing

    cold_summary, cold = run(fitting.PRODUCT_METHOD, {})
    _, warm = run(fitting.PRODUCT_METHOD, cold_summary)
    _, moments = run("moments", {})
    return {"n": int(data.drug.size), "reml_cold": cold, "reml_warm": warm, "moments": moments}


def counts(since: str | None) -> dict:
    fits = FitRun.objects
    out = {
        "ratings": Rating.objects.count(),
        "revisions": RatingRevision.objects.count(),
        "fit_runs": fits.count(),
        "current_fit": fits.filter(is_current=True).values_list("pk", flat=True).first(),
    }
    if since:
        out["fit_runs_started_since"] = fits.filter(started_at__gte=parse_datetime(since)).count()
    return out


def main() -> int:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    prep = sub.add_parser("prepare")
    prep.add_argument("--tokens", type=int, default=200)
    prep.add_argument("--pairs", type=int, default=4000)
    prep.add_argument("--seed", type=int, default=7)
    sub.add_parser("read-ratings")
    sub.add_parser("refit-methods")
    cnt = sub.add_parser("counts")
    cnt.add_argument("--since")
    args = p.parse_args()
    if args.cmd == "prepare":
        out = prepare(args.tokens, args.pairs, args.seed)
    elif args.cmd == "read-ratings":
        out = read_ratings()
    elif args.cmd == "refit-methods":
        out = refit_methods()
    else:
        out = counts(args.since)
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
