"""The moderators' queue: held comments and comments with open flags."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from drugratings.accounts.access import Capability, require
from drugratings.accounts.models import User
from drugratings.ratings.models import Comment, CommentStatus


def comment_queue(user: User) -> QuerySet[Comment]:
    require(user, Capability.MODERATE)
    return (
        Comment.objects.annotate(
            open_flags=Count("flags", filter=Q(flags__resolved_at__isnull=True))
        )
        .filter(Q(status=CommentStatus.HELD) | Q(status=CommentStatus.PUBLISHED, open_flags__gt=0))
        .select_related("physician__specialty", "drug", "indication")
        .prefetch_related("flags")
        .order_by("created_at")
    )
