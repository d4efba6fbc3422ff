"""Query building blocks over ratings shared by scores, reports and the statistics feed.

`counting_ratings` is the one definition of a rating that counts: every figure (scores, live
counts, distributions, trends, releases, the manipulation detectors) starts from it, so a
suspension or a quarantine takes a rating out of all of them at once and lifting it puts it back.
"""

from __future__ import annotations

from django.db.models import Case, Count, IntegerField, Q, QuerySet, When

from drugratings.accounts.models import VerificationStatus
from drugratings.ratings.dimensions import DIMENSION_NAMES
from drugratings.ratings.models import Rating, RatingStatus

# A physician in one of these states has lost the standing to rate (an NPI deactivated in the
# registry, a moderator's or verifier's suspension, a rejected re-review). Their ratings are kept,
# not deleted, so that lifting the suspension makes them count again without the physician
# having to rate anew. A physician re-submitting a licence (pending) keeps counting meanwhile.
NOT_COUNTING_PHYSICIAN_STATUSES = (VerificationStatus.SUSPENDED, VerificationStatus.REJECTED)


def counting_ratings() -> QuerySet[Rating]:
    """Ratings that count: active (not quarantined or removed), by a physician in good standing.
    Conflicted ratings are included; `scored_ratings` leaves them out of the scores."""
    return Rating.objects.filter(status=RatingStatus.ACTIVE).exclude(
        physician__verification_status__in=NOT_COUNTING_PHYSICIAN_STATUSES
    )


def scored_ratings() -> QuerySet[Rating]:
    """Ratings that count in scores: counting ones without a conflict of interest."""
    return counting_ratings().filter(conflict_of_interest=False)


def conflicted_ratings() -> QuerySet[Rating]:
    """Counting ratings under a conflict of interest (shown only as a sensitivity figure)."""
    return counting_ratings().filter(conflict_of_interest=True)


def counts_in_scores(status: str) -> bool:
    """Whether a physician with this verification status has ratings that count."""
    return status not in NOT_COUNTING_PHYSICIAN_STATUSES


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
