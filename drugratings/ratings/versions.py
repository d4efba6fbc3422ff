"""Per-drug version numbers of ratings, for cache keys of the drug's figures."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import F

from drugratings.ratings.models import DrugRatingsVersion


def bump(drug_ids: Iterable[int]) -> None:
    for drug_id in set(drug_ids):
        if DrugRatingsVersion.objects.filter(drug_id=drug_id).update(version=F("version") + 1):
            continue
        try:
            with transaction.atomic():
                DrugRatingsVersion.objects.create(drug_id=drug_id, version=1)
        except IntegrityError:
            DrugRatingsVersion.objects.filter(drug_id=drug_id).update(version=F("version") + 1)


def version_of(drug_id: int) -> int:
    return (
        DrugRatingsVersion.objects.filter(drug_id=drug_id).values_list("version", flat=True).first()
        or 0
    )
