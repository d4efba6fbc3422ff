"""Per-drug version numbers of ratings and of comments, for cache keys of what a drug shows."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import F

from drugratings.core.rows import one_row
from drugratings.ratings.models import DrugRatingsVersion


def _bump(drug_ids: Iterable[int], field: str) -> None:
    for drug_id in set(drug_ids):
        rows = DrugRatingsVersion.objects.filter(drug_id=drug_id)
        if rows.update(**{field: F(field) + 1}):
            continue
        try:
            with transaction.atomic():
                DrugRatingsVersion.objects.create(drug_id=drug_id, **{field: 1})
        except IntegrityError:
            rows.update(**{field: F(field) + 1})


def bump(drug_ids: Iterable[int]) -> None:
    """The drugs' ratings changed: their figures (and comment lists, keyed by both) are new."""
    _bump(drug_ids, "version")


def bump_comments(drug_ids: Iterable[int]) -> None:
    """What the drugs' comment lists show changed (a vote, a reply, a moderator's decision)
    and their ratings did not: the figures, and their ETags, stay as they are."""
    _bump(drug_ids, "comments_version")


def version_of(drug_id: int) -> int:
    row = one_row(DrugRatingsVersion, drug=drug_id, fields=("version",))
    return row.version if row is not None else 0


def versions_of(drug_id: int) -> tuple[int, int]:
    """(ratings version, comments version), in one read: a comment list depends on both."""
    # On every drug document and page: one compiled read (core/rows.py).
    row = one_row(DrugRatingsVersion, drug=drug_id, fields=("version", "comments_version"))
    return (row.version, row.comments_version) if row is not None else (0, 0)
