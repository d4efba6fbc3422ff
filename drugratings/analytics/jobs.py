"""The debounced refit job. The database is the queue: a conditional UPDATE claims requests,
so exactly one worker fits even when several run."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max, Min
from django.utils import timezone

from drugratings.analytics.fitting import METHODOLOGY_VERSION, refit_scores
from drugratings.analytics.models import FitRun, RefitRequest
from drugratings.core.events import ScoresRefitted, scores_refitted
from drugratings.ratings.queries import scored_ratings

log = logging.getLogger(__name__)


def refit_due(now: datetime | None = None) -> bool:
    """True when unclaimed requests have been quiet for the debounce time, or the oldest has
    waited the maximum delay (so a steady stream of ratings cannot postpone a refit forever)."""
    now = now or timezone.now()
    window = RefitRequest.objects.filter(claimed_at__isnull=True).aggregate(
        oldest=Min("requested_at"), newest=Max("requested_at")
    )
    if window["oldest"] is None:
        return False
    quiet = now - window["newest"] >= timedelta(seconds=settings.REFIT_DEBOUNCE_SECONDS)
    overdue = now - window["oldest"] >= timedelta(seconds=settings.REFIT_MAX_DELAY_SECONDS)
    return quiet or overdue


def claim_refit(now: datetime | None = None) -> int:
    """Claim every unclaimed request; returns how many this worker won (0: someone else did)."""
    now = now or timezone.now()
    return RefitRequest.objects.filter(claimed_at__isnull=True, requested_at__lte=now).update(
        claimed_at=now
    )


def run_refit_if_due() -> FitRun | None:
    now = timezone.now()
    if not refit_due(now) or not claim_refit(now):
        return None
    fit = refit_scores(now)
    # Claimed requests are done; keep the table small.
    RefitRequest.objects.filter(claimed_at__isnull=False, claimed_at__lte=now).delete()
    return fit


def ensure_initial_fit() -> FitRun | None:
    """Fit once when ratings exist but no fit does (a fresh database or a new methodology)."""
    current = FitRun.objects.filter(is_current=True).first()
    if current is not None and current.methodology_version == METHODOLOGY_VERSION:
        return None
    if not scored_ratings().exists():
        return None
    return refit_scores()


def initial_fit_job() -> str | None:
    """The worker's first step (registered in AnalyticsConfig.ready)."""
    fit = ensure_initial_fit()
    return f"initial fit #{fit.pk}" if fit else None


def refit_job() -> str | None:
    """The worker's refit step; announces the new fit (trust runs its detectors on it)."""
    fit = run_refit_if_due()
    if fit is None:
        return None
    notes = scores_refitted.announce(ScoresRefitted(fit.pk))
    return "; ".join([f"refit #{fit.pk} over {fit.n_ratings} ratings", *notes])
