"""Permission-checked reads of physician content: comments and the caller's own ratings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from drugratings.accounts.access import Capability, physician_of, require
from drugratings.accounts.models import User
from drugratings.errors import InvalidInput
from drugratings.ratings.models import Comment, CommentStatus, HelpfulVote, Rating


class CommentSort:
    HELPFUL = "helpful"
    NEWEST = "newest"
    ALL = (HELPFUL, NEWEST)


@dataclass(frozen=True)
class CommentView:
    """What any member may see of a comment: never who wrote it beyond handle and specialty."""

    id: int
    body: str
    handle: str
    specialty: str
    indication_id: int | None
    indication: str
    off_label: bool
    helpful_count: int
    created_at: datetime
    edited: bool
    voted: bool
    own: bool


def published_comments(
    user: User,
    drug_id: int,
    *,
    indication_id: int | None = None,
    sort: str = CommentSort.HELPFUL,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[CommentView], int]:
    require(user, Capability.READ_COMMENTS)
    if sort not in CommentSort.ALL:
        raise InvalidInput("sort", "Use helpful or newest.")
    qs: QuerySet[Comment] = Comment.objects.filter(
        drug_id=drug_id, status=CommentStatus.PUBLISHED, parent__isnull=True
    )
    if indication_id is not None:
        qs = qs.filter(indication_id=indication_id)
    order = ("-helpful_count", "-created_at") if sort == CommentSort.HELPFUL else ("-created_at",)
    total = qs.count()
    rows = list(
        qs.select_related("physician__specialty", "indication", "rating").order_by(*order, "-pk")[
            offset : offset + limit
        ]
    )
    views = _views(rows, physician_of(user))
    return views, total


def _views(rows: list[Comment], me) -> list[CommentView]:
    voted = (
        set(
            HelpfulVote.objects.filter(physician=me, comment__in=rows).values_list(
                "comment_id", flat=True
            )
        )
        if me
        else set()
    )
    return [
        CommentView(
            id=c.pk,
            body=c.body,
            handle=c.physician.handle,
            specialty=c.physician.specialty.name,
            indication_id=c.indication_id,
            indication=c.indication.name if c.indication else "",
            off_label=bool(c.rating and c.rating.off_label),
            helpful_count=c.helpful_count,
            created_at=c.created_at,
            edited=(c.updated_at - c.created_at).total_seconds() > 60,
            voted=c.pk in voted,
            own=me is not None and c.physician_id == me.pk,
        )
        for c in rows
    ]


REPLIES_SHOWN = 50


def published_replies(user: User, parent_ids: list[int]) -> dict[int, list[CommentView]]:
    """Published replies (one level) to the given comments, oldest first, by parent id."""
    require(user, Capability.READ_COMMENTS)
    rows = list(
        Comment.objects.filter(parent_id__in=parent_ids, status=CommentStatus.PUBLISHED)
        .select_related("physician__specialty", "indication", "rating")
        .order_by("created_at", "pk")[: REPLIES_SHOWN * max(1, len(parent_ids))]
    )
    replies: dict[int, list[CommentView]] = {}
    for row, view in zip(rows, _views(rows, physician_of(user)), strict=True):
        replies.setdefault(row.parent_id, []).append(view)
    return replies


def my_ratings(user: User) -> QuerySet[Rating]:
    require(user, Capability.RATE)
    return (
        Rating.objects.filter(physician=physician_of(user))
        .select_related("drug", "indication", "comment")
        .order_by("-updated_at")
    )


def my_rating(user: User, drug_id: int, indication_id: int) -> Rating | None:
    physician = physician_of(user)
    if physician is None:
        return None
    return (
        Rating.objects.filter(physician=physician, drug_id=drug_id, indication_id=indication_id)
        .select_related("comment")
        .first()
    )
