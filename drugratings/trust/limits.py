"""Per-account rate limits on physician writes. Counted in the database, so they hold across
server processes: a burst of ratings from one account is a manipulation signal in itself."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from django.conf import settings
from django.utils import timezone

from drugratings.accounts.models import PhysicianProfile
from drugratings.errors import InvalidInput


class Action(StrEnum):
    RATE = "rate"
    COMMENT = "comment"
    VOTE = "vote"
    FLAG = "flag"


def _recent(physician: PhysicianProfile, action: Action, since) -> int:
    from drugratings.moderation.models import CommentFlag
    from drugratings.ratings.models import Comment, HelpfulVote, RatingRevision

    if action == Action.RATE:
        return RatingRevision.objects.filter(physician=physician, at__gte=since).count()
    if action == Action.COMMENT:
        return Comment.objects.filter(physician=physician, updated_at__gte=since).count()
    if action == Action.VOTE:
        return HelpfulVote.objects.filter(physician=physician, at__gte=since).count()
    return CommentFlag.objects.filter(reporter=physician, created_at__gte=since).count()


def check_rate_limit(physician: PhysicianProfile, action: Action) -> None:
    """Raise a 429 when the account has done `action` too often in the last hour."""
    limit = settings.WRITE_LIMITS_PER_HOUR[action.value]
    since = timezone.now() - timedelta(hours=1)
    if _recent(physician, action, since) >= limit:
        raise InvalidInput(
            action.value,
            f"You have reached the limit of {limit} {action.value} actions per hour; "
            "please try again later.",
            status=429,
        )
