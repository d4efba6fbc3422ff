"""Permission-checked reads of trust and safety (writes are in actions.py)."""

from __future__ import annotations

from drugratings.accounts.access import Capability, physician_of, require
from drugratings.accounts.models import User
from drugratings.trust.models import CaseStatus, InterestDeclaration, QuarantineCase


def open_quarantine_cases(user: User, limit: int = 50) -> list[QuarantineCase]:
    """The moderators' queue: open cases with their ratings (drug, rater's specialty)."""
    require(user, Capability.MODERATE)
    return list(
        QuarantineCase.objects.filter(status=CaseStatus.OPEN).prefetch_related(
            "ratings__drug", "ratings__physician__specialty"
        )[:limit]
    )


def my_interests(user: User) -> list[InterestDeclaration]:
    """The caller's own declared interests (a physician sees and withdraws only theirs)."""
    require(user, Capability.DECLARE_INTERESTS)
    return list(physician_of(user).interests.all())
