"""Per-account rate limits on physician writes. Counted in the database, so they hold across
server processes: a burst of ratings from one account is a manipulation signal in itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.utils import timezone

from drugratings.accounts.models import PhysicianProfile
from drugratings.errors import InvalidInput
from drugratings.ratings.models import Comment, HelpfulVote, RatingRevision


class Action(StrEnum):
    RATE = "rate"
    COMMENT = "comment"
    VOTE = "vote"
    FLAG = "flag"


def enforce_hourly_limit(action: Action, done_since: Callable[[datetime], int]) -> None:
    """Raise a 429 when `done_since(an hour ago)` has reached the hourly limit of `action`.
    The owner of each kind of write counts its own rows (moderation counts flags)."""
    limit = settings.WRITE_LIMITS_PER_HOUR[action.value]
    if done_since(timezone.now() - timedelta(hours=1)) >= limit:
        raise InvalidInput(
            action.value,
            f"You have reached the limit of {limit} {action.value} actions per hour; "
            "please try again later.",
            status=429,
        )


def check_rate_limit(physician: PhysicianProfile, action: Action) -> None:
    """The limit on ratings' own writes: ratings, comments and helpful votes."""
    counts: dict[Action, Callable[[datetime], int]] = {
        Action.RATE: lambda since: RatingRevision.objects.filter(
            physician=physician, at__gte=since
        ).count(),
        Action.COMMENT: lambda since: Comment.objects.filter(
            physician=physician, updated_at__gte=since
        ).count(),
        Action.VOTE: lambda since: HelpfulVote.objects.filter(
            physician=physician, at__gte=since
        ).count(),
    }
    enforce_hourly_limit(action, counts[action])
