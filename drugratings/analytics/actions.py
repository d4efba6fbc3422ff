"""Writes of the analytics app: view counts and refit requests."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from drugratings.analytics.models import DrugViewDaily, RefitRequest


def count_drug_view(drug_id: int) -> None:
    """Add one view of a drug today. Only the count is stored: never who viewed."""
    today = timezone.localdate()
    if DrugViewDaily.objects.filter(drug_id=drug_id, day=today).update(views=F("views") + 1):
        return
    try:
        with transaction.atomic():
            DrugViewDaily.objects.create(drug_id=drug_id, day=today, views=1)
    except IntegrityError:  # another request created today's row first
        DrugViewDaily.objects.filter(drug_id=drug_id, day=today).update(views=F("views") + 1)


def request_refit(reason: str) -> None:
    """Ask the worker to refit scores; it waits for quiet (debounce) before fitting."""
    RefitRequest.objects.create(reason=reason[:60])
