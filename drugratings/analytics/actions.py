"""Writes of the analytics app: view counts and refit requests."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from drugratings.analytics.models import DrugViewDaily, RefitRequest

# Views are counted in memory and written in batches: a write per page view would take SQLite's
# write lock on every GET. A process that dies loses at most one batch of counts.
VIEW_FLUSH_SECONDS = 30.0
VIEW_FLUSH_COUNT = 200
_pending_views: Counter[tuple[int, date]] = Counter()
_pending_lock = threading.Lock()
_last_flush = [time.monotonic()]


def count_drug_view(drug_id: int, *, flush: bool = False) -> None:
    """Count one view of a drug today. Only the count is kept: never who viewed."""
    with _pending_lock:
        _pending_views[(drug_id, timezone.localdate())] += 1
        due = (
            flush
            or sum(_pending_views.values()) >= VIEW_FLUSH_COUNT
            or time.monotonic() - _last_flush[0] >= VIEW_FLUSH_SECONDS
        )
        if not due:
            return
        batch = dict(_pending_views)
        _pending_views.clear()
        _last_flush[0] = time.monotonic()
    for (drug, day), views in batch.items():
        _add_views(drug, day, views)


def flush_drug_views() -> None:
    with _pending_lock:
        batch = dict(_pending_views)
        _pending_views.clear()
        _last_flush[0] = time.monotonic()
    for (drug, day), views in batch.items():
        _add_views(drug, day, views)


def _add_views(drug_id: int, day: date, views: int) -> None:
    if DrugViewDaily.objects.filter(drug_id=drug_id, day=day).update(views=F("views") + views):
        return
    try:
        with transaction.atomic():
            DrugViewDaily.objects.create(drug_id=drug_id, day=day, views=views)
    except IntegrityError:  # another process created the row first
        DrugViewDaily.objects.filter(drug_id=drug_id, day=day).update(views=F("views") + views)


def request_refit(reason: str) -> None:
    """Ask the worker to refit scores; it waits for quiet (debounce) before fitting."""
    RefitRequest.objects.create(reason=reason[:60])


def discard_pending_views() -> None:
    """Forget unwritten view counts (tests start from a clean slate)."""
    with _pending_lock:
        _pending_views.clear()
