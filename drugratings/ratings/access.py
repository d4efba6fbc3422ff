"""Permission-checked reads of physician content: comments and the caller's own ratings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db.models import Count, QuerySet

from drugratings.accounts.access import Capability, physician_of, require
from drugratings.accounts.models import PhysicianProfile, User
from drugratings.catalog.access import drugs_with_relations, indications_by_id
from drugratings.catalog.models import Drug, DrugIndication, Indication, is_clinical
from drugratings.errors import InvalidInput
from drugratings.ratings.models import Comment, CommentStatus, HelpfulVote, Rating
from drugratings.ratings.queries import scored_ratings


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
    return _published(drug_id, indication_id, sort, limit, offset, physician_of(user))


def _published(
    drug_id: int,
    indication_id: int | None,
    sort: str,
    limit: int,
    offset: int,
    me: PhysicianProfile | None,
) -> tuple[list[CommentView], int]:
    rows, total = _published_rows(drug_id, indication_id, sort, limit, offset)
    return _views(rows, me), total


def _published_rows(
    drug_id: int, indication_id: int | None, sort: str, limit: int, offset: int
) -> tuple[list[Comment], int]:
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
    return rows, total


def _views(rows: list[Comment], me: PhysicianProfile | None) -> list[CommentView]:
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


@dataclass(frozen=True)
class CommentThread:
    """A page of a drug's published comments with their replies, as every reader allowed to see
    comments sees it: `own` and `voted` are false throughout (see `my_votes`)."""

    comments: list[CommentView]
    total: int
    replies: dict[int, list[CommentView]]
    authors: dict[int, int]  # physician id by comment id: for `own` per reader, never shown


def shared_comments(
    user: User,
    drug_id: int,
    *,
    indication_id: int | None,
    sort: str,
    limit: int,
) -> CommentThread:
    """For pages stored once for all readers of comments: `user` is only checked, never
    marked in the result."""
    require(user, Capability.READ_COMMENTS)
    rows, total = _published_rows(drug_id, indication_id, sort, limit, 0)
    comments = _views(rows, None)
    replies = _replies([c.id for c in comments]) if comments else {}
    return CommentThread(comments, total, replies, {c.pk: c.physician_id for c in rows})


def my_votes(user: User, comment_ids: list[int]) -> set[int]:
    """Which of these comments the caller found helpful."""
    me = physician_of(user)
    if me is None or not comment_ids:
        return set()
    return set(
        HelpfulVote.objects.filter(physician=me, comment_id__in=comment_ids).values_list(
            "comment_id", flat=True
        )
    )


REPLIES_SHOWN = 50


def _replies(parent_ids: list[int]) -> dict[int, list[CommentView]]:
    """Published replies (one level) to the given comments, oldest first, by parent id."""
    rows = list(
        Comment.objects.filter(parent_id__in=parent_ids, status=CommentStatus.PUBLISHED)
        .select_related("physician__specialty", "indication", "rating")
        .order_by("created_at", "pk")[: REPLIES_SHOWN * max(1, len(parent_ids))]
    )
    replies: dict[int, list[CommentView]] = {}
    for row, view in zip(rows, _views(rows, None), strict=True):
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


def drugs_for_indication(indication: Indication) -> list[tuple[Drug, bool]]:
    """Drugs listed for an indication and drugs rated for it off-label, with `listed` flags.
    (Here, not in catalog: the off-label ones come from ratings, a layer above the catalog.)"""
    listed = set(
        DrugIndication.objects.filter(indication=indication).values_list("drug_id", flat=True)
    )
    rated = set(
        scored_ratings().filter(indication=indication).values_list("drug_id", flat=True).distinct()
    )
    drugs = drugs_with_relations().filter(pk__in=listed | rated)
    return [(drug, drug.pk in listed) for drug in drugs.order_by("generic_name")]


def most_rated_indications(limit: int = 12) -> list[Indication]:
    """The indications physicians rate most (cached ten minutes: the home page is the busiest
    page, and the order changes slowly)."""
    ids = cache.get("home:indications")
    if ids is None:
        ranked = list(
            scored_ratings()
            .values("indication_id")
            .annotate(n=Count("id"))
            .order_by("-n")
            .values_list("indication_id", flat=True)[: limit * 4]
        )
        names = {i.pk: i.name for i in indications_by_id(ranked).values()}
        # Real clinical indications only: not "Administration of Local Anesthesia".
        ids = [i for i in ranked if is_clinical(names.get(i, ""))][:limit]
        cache.set("home:indications", ids, 600)
    found = indications_by_id(ids)
    return [found[i] for i in ids if i in found]


def listed_indications_by_use(drug: Drug) -> list[Indication]:
    """A drug's labelled indications, the most rated first (the rate form's choices)."""
    counts = dict(
        scored_ratings()
        .filter(drug=drug)
        .values_list("indication_id")
        .annotate(n=Count("id"))
        .values_list("indication_id", "n")
    )
    listed = list(drug.indications.all())
    listed.sort(key=lambda i: (-counts.get(i.pk, 0), i.name))
    return listed
