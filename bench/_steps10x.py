"""Inside-Django steps of bench/bench_10x.py, each run in its own process so its time and peak
memory are its own. Prints one JSON line on stdout.

    python bench/_steps10x.py initial-fit        # analytics.jobs.ensure_initial_fit
    python bench/_steps10x.py release            # portal.releases.build_release
    python bench/_steps10x.py refit              # the refit job: a due request, fit, detectors
    python bench/_steps10x.py new-ratings --n 10000 --seed 7

The worker runs the same functions (analytics/jobs.py, portal/jobs.py); a release here skips
the webhooks and digests the release job sends after it. Only ever pointed at the benchmark's
own database.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "drugratings.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import transaction  # noqa: E402
from django.db.models import Max, Min  # noqa: E402
from django.utils import timezone  # noqa: E402

from drugratings.accounts.models import PhysicianProfile, VerificationStatus  # noqa: E402
from drugratings.analytics.jobs import ensure_initial_fit, run_refit_if_due  # noqa: E402
from drugratings.analytics.models import RefitRequest  # noqa: E402
from drugratings.core.events import ScoresRefitted, scores_refitted  # noqa: E402
from drugratings.portal.releases import build_release  # noqa: E402
from drugratings.ratings.dimensions import DIMENSION_NAMES  # noqa: E402
from drugratings.ratings.models import Rating, RatingRevision, RevisionAction  # noqa: E402


def initial_fit() -> dict:
    started = time.perf_counter()
    fit = ensure_initial_fit()
    if fit is None:
        raise SystemExit("no initial fit ran: is there a current fit already, or no rating?")
    return {"seconds": time.perf_counter() - started, "fit": fit.pk, "n_ratings": fit.n_ratings}


def release() -> dict:
    started = time.perf_counter()
    r = build_release()
    return {
        "seconds": time.perf_counter() - started,
        "release": r.pk,
        "events": r.n_events,
        "cells_changed": r.n_cells_changed,
        "cells_published": r.n_cells_published,
    }


def refit() -> dict:
    """What the worker's refit job does, timed in its two parts: a request old enough to be due,
    then `run_refit_if_due` (claim and fit) and the detectors subscribed to the new fit."""
    RefitRequest.objects.create(
        reason="bench-10x",
        requested_at=timezone.now() - timedelta(seconds=settings.REFIT_MAX_DELAY_SECONDS + 1),
    )
    started = time.perf_counter()
    fit = run_refit_if_due()
    if fit is None:
        raise SystemExit("the refit was not due or was claimed by another worker")
    fitted = time.perf_counter()
    notes = scores_refitted.announce(ScoresRefitted(fit.pk))
    return {
        "seconds": fitted - started,
        "detect_seconds": time.perf_counter() - fitted,
        "fit": fit.pk,
        "n_ratings": fit.n_ratings,
        "notes": notes,
    }


def new_ratings(n: int, seed: int) -> dict:
    """`n` new ratings (and their first revisions) written in bulk: a day's traffic arriving
    between two releases, spread over the last 24 hours. Each copies the pair and scores of a
    random existing rating, so popular drugs get most of them and the scores look like the
    others (uniform random scores and one timestamp looked like an attack to the detectors:
    87 quarantine cases at --scale 0.2); raters come from a pool of verified physicians, on
    pairs they had not rated."""
    rng = random.Random(seed)
    started = time.perf_counter()
    bounds = Rating.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
    ids = range(bounds["lo"], bounds["hi"] + 1)
    sample = rng.sample(ids, min(4 * n, len(ids)))
    rows = list(
        Rating.objects.filter(pk__in=sample).values_list(
            "drug_id", "indication_id", *DIMENSION_NAMES
        )
    )
    verified = PhysicianProfile.objects.filter(verification_status=VerificationStatus.VERIFIED)
    physicians = list(verified.order_by("pk").values_list("pk", flat=True))
    physicians = rng.sample(physicians, min(len(physicians), max(n // 2, 100)))
    have = set(
        Rating.objects.filter(physician_id__in=physicians).values_list(
            "physician_id", "drug_id", "indication_id"
        )
    )
    now, new = timezone.now(), []
    while len(new) < n:
        physician, (drug, indication, *scores) = rng.choice(physicians), rng.choice(rows)
        if (physician, drug, indication) in have:
            continue
        have.add((physician, drug, indication))
        at = now - timedelta(seconds=rng.uniform(0, 86_400))
        new.append(
            Rating(
                physician_id=physician,
                drug_id=drug,
                indication_id=indication,
                created_at=at,
                updated_at=at,
                **dict(zip(DIMENSION_NAMES, scores, strict=True)),
            )
        )
    with transaction.atomic():
        Rating.objects.bulk_create(new, batch_size=2000)
        RatingRevision.objects.bulk_create(
            [
                RatingRevision(
                    rating_id=r.pk,
                    physician_id=r.physician_id,
                    drug_id=r.drug_id,
                    indication_id=r.indication_id,
                    action=RevisionAction.CREATED,
                    at=r.created_at,
                    **{d: getattr(r, d) for d in DIMENSION_NAMES},
                )
                for r in new
            ],
            batch_size=2000,
        )
    return {"seconds": time.perf_counter() - started, "n": len(new)}


def main() -> int:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("initial-fit")
    sub.add_parser("release")
    sub.add_parser("refit")
    new = sub.add_parser("new-ratings")
    new.add_argument("--n", type=int, default=10_000)
    new.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    if args.cmd == "initial-fit":
        out = initial_fit()
    elif args.cmd == "release":
        out = release()
    elif args.cmd == "refit":
        out = refit()
    else:
        out = new_ratings(args.n, args.seed)
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
