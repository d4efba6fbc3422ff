"""The notification centre, computed from what happened rather than stored per event: new
comments on drugs the physician rated or saved, replies to their comments, and verification
outcomes. Only published comments count, so a held one appears once a moderator approves it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Q
from django.urls import reverse

from drugratings.accounts.access import physician_of
from drugratings.accounts.models import User
from drugratings.core.rows import one_row
from drugratings.ratings.models import Comment, CommentStatus, Rating
from drugratings.verification.models import VerificationDecision
from drugratings.web.models import NotificationState, SavedDrug

LIMIT = 50


class Kind:
    COMMENT = "comment"
    REPLY = "reply"
    VERIFICATION = "verification"


@dataclass(frozen=True)
class Notice:
    kind: str
    text: str
    url: str
    at: datetime
    new: bool


def _comment_notices(user: User, since: datetime | None) -> list[tuple[str, Comment]]:
    me = physician_of(user)
    rated = Rating.objects.filter(physician=me).values("drug_id")
    saved = SavedDrug.objects.filter(user=user).values("drug_id")
    mine = Q(parent__physician=me)
    watched = Q(parent__isnull=True) & (Q(drug_id__in=rated) | Q(drug_id__in=saved))
    rows = (
        Comment.objects.filter(mine | watched, status=CommentStatus.PUBLISHED)
        .exclude(physician=me)
        .select_related("drug", "physician", "indication", "parent")
        .order_by("-created_at", "-pk")
    )
    if since is not None:
        rows = rows.filter(created_at__gt=since)
    return [
        (Kind.REPLY if c.parent_id and c.parent.physician_id == me.pk else Kind.COMMENT, c)
        for c in rows[:LIMIT]
    ]


def _comment_notice(kind: str, comment: Comment, seen: datetime | None) -> Notice:
    drug = comment.drug.display_name
    anchor = f"#comment-{comment.parent_id or comment.pk}"
    text = (
        f"{comment.physician.handle} replied to your comment on {drug}"
        if kind == Kind.REPLY
        else f"New comment on {drug}"
        + (f" ({comment.indication.name})" if comment.indication else "")
        + f" by {comment.physician.handle}"
    )
    return Notice(
        kind,
        text,
        reverse("web:drug", args=[comment.drug.slug]) + anchor,
        comment.created_at,
        seen is None or comment.created_at > seen,
    )


def _verification_notices(user: User, since: datetime | None, seen: datetime | None):
    rows = VerificationDecision.objects.filter(physician=physician_of(user)).order_by("-at")
    if since is not None:
        rows = rows.filter(at__gt=since)
    return [
        Notice(
            Kind.VERIFICATION,
            f"Verification: {d.get_decision_display().lower()}",
            reverse("web:account"),
            d.at,
            seen is None or d.at > seen,
        )
        for d in rows[:LIMIT]
    ]


def notices_for(user: User, since: datetime | None = None) -> list[Notice]:
    """The physician's notifications, newest first (those after `since` only, if given)."""
    if physician_of(user) is None:
        return []
    state = NotificationState.objects.filter(user=user).first()
    seen = state.seen_at if state else None
    notices = [_comment_notice(k, c, seen) for k, c in _comment_notices(user, since)]
    notices += _verification_notices(user, since, seen)
    notices.sort(key=lambda n: n.at, reverse=True)
    return notices[:LIMIT]


def unread_count(user: User) -> int:
    """`len(notices_for(user, since=<last seen>))`, counted in one statement: every page's
    menu shows it. Three counts, each stopping at LIMIT and each answered by its own index
    (comments on watched drugs, replies to the physician's comments, verification decisions):
    the ORM's `OR` of them walks every published comment, and building the three as querysets
    cost twenty times the counting."""
    me = physician_of(user)
    if me is None:
        return 0
    state = one_row(NotificationState, user=user, fields=("seen_at",))  # on every page
    since = state.seen_at if state is not None else None
    stamp = [] if since is None else [connection.ops.adapt_datetimefield_value(since)]
    after, decided = ("AND c.created_at > %s", "AND d.at > %s") if stamp else ("", "")
    sql = _UNREAD.format(
        comment=Comment._meta.db_table,
        rating=Rating._meta.db_table,
        saved=SavedDrug._meta.db_table,
        decision=VerificationDecision._meta.db_table,
        after=after,
        decided=decided,
    )
    published, n = CommentStatus.PUBLISHED.value, LIMIT
    params = [
        *(published, me.pk, me.pk, user.pk, *stamp, n),
        *(published, me.pk, me.pk, *stamp, n),
        *(me.pk, *stamp, n),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return min(LIMIT, cursor.fetchone()[0])


# What `notices_for` lists, counted: keep the two in step (test_unread_count.py compares them).
_UNREAD = """
SELECT
  (SELECT COUNT(*) FROM (
     SELECT c.id FROM {comment} c
     WHERE c.status = %s AND c.physician_id <> %s AND c.parent_id IS NULL
       AND c.drug_id IN (SELECT drug_id FROM {rating} WHERE physician_id = %s
                         UNION SELECT drug_id FROM {saved} WHERE user_id = %s)
       {after}
     LIMIT %s) AS watched)
+ (SELECT COUNT(*) FROM (
     SELECT c.id FROM {comment} c
     WHERE c.status = %s AND c.physician_id <> %s
       AND c.parent_id IN (SELECT id FROM {comment} WHERE physician_id = %s)
       {after}
     LIMIT %s) AS replies)
+ (SELECT COUNT(*) FROM (
     SELECT d.id FROM {decision} d WHERE d.physician_id = %s {decided}
     LIMIT %s) AS decisions)
"""
