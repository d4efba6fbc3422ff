"""Query building blocks over ratings shared by scores, reports and the statistics feed."""

from __future__ import annotations

from django.db.models import Case, Count, IntegerField, Q, QuerySet, When

from drugratings.ratings.dimensions import DIMENSION_NAMES
from drugratings.ratings.models import Rating, RatingStatus


def scored_ratings() -> QuerySet[Rating]:
    """Ratings that count in scores: active, not quarantined, not under a conflict of interest."""
    return Rating.objects.filter(status=RatingStatus.ACTIVE, conflict_of_interest=False)


def distribution_aggregates() -> dict[str, Count]:
    """Per dimension: the number of non-null scores and the count of each score 1..5."""
    aggregates: dict[str, Count] = {}
    for name in DIMENSION_NAMES:
        aggregates[f"{name}__n"] = Count(name)
        for value in range(1, 6):
            aggregates[f"{name}__{value}"] = Count(
                Case(When(**{name: value}, then=1), output_field=IntegerField())
            )
    return aggregates


def distinct_rater_aggregates() -> dict[str, Count]:
    """Per dimension: distinct physicians with a non-null score (for cross-indication totals)."""
    return {
        f"{name}__raters": Count(
            "physician_id", distinct=True, filter=Q(**{f"{name}__isnull": False})
        )
        for name in DIMENSION_NAMES
    }
