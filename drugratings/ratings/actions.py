"""Writes of physician content: ratings (with history), comments, helpful votes and flags.

Every function checks the caller with `accounts.access.require` first, validates its input into
`InvalidInput` naming the field, and writes inside one transaction, so a refused request stores
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone

from drugratings.accounts.access import Capability, physician_of, require
from drugratings.accounts.models import User
from drugratings.analytics.actions import request_refit
from drugratings.catalog.models import Drug, DrugIndication, Indication
from drugratings.errors import InvalidInput
from drugratings.moderation.models import CommentFlag, FlagReason
from drugratings.moderation.screening import screen_comment
from drugratings.ratings.dimensions import DIMENSION_NAMES, SCORE_MAX, SCORE_MIN
from drugratings.ratings.models import (
    Comment,
    CommentStatus,
    HelpfulVote,
    Rating,
    RatingRevision,
    RevisionAction,
)
from drugratings.ratings.versions import bump
from drugratings.trust.limits import Action, check_rate_limit

COMMENT_MAX = 4000


@dataclass(frozen=True)
class RatingInput:
    indication_id: int
    scores: dict[str, int | None]
    comment: str | None = None


@dataclass(frozen=True)
class RatingOutcome:
    rating: Rating
    created: bool
    comment: Comment | None


def validate_scores(scores: dict[str, int | None]) -> dict[str, int | None]:
    clean: dict[str, int | None] = {}
    for name in DIMENSION_NAMES:
        value = scores.get(name)
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not SCORE_MIN <= value <= SCORE_MAX
        ):
            raise InvalidInput(
                name,
                f"Give a whole number from {SCORE_MIN} to {SCORE_MAX}, or null for no opinion.",
            )
        clean[name] = value
    if all(v is None for v in clean.values()):
        raise InvalidInput(
            DIMENSION_NAMES[0],
            "Score at least one dimension; the others may be left as no opinion.",
        )
    return clean


def _drug(drug_id: int) -> Drug:
    drug = Drug.objects.filter(pk=drug_id).first()
    if drug is None:
        raise Http404(f"Drug {drug_id} does not exist.")
    return drug


def _indication(indication_id: int) -> Indication:
    indication = Indication.objects.filter(pk=indication_id).first()
    if indication is None:
        raise InvalidInput("indication_id", f"Indication {indication_id} does not exist.")
    return indication


def _revision(rating: Rating, action: str) -> None:
    RatingRevision.objects.create(
        rating=rating,
        physician_id=rating.physician_id,
        drug_id=rating.drug_id,
        indication_id=rating.indication_id,
        action=action,
        **rating.scores(),
    )


def _save_comment(rating: Rating, text: str) -> Comment:
    screening = screen_comment(text)
    status = CommentStatus.HELD if screening.held else CommentStatus.PUBLISHED
    now = timezone.now()
    comment = Comment.objects.filter(rating=rating).first()
    if comment is None:
        return Comment.objects.create(
            physician_id=rating.physician_id,
            drug_id=rating.drug_id,
            indication_id=rating.indication_id,
            rating=rating,
            body=text,
            status=status,
            hold_reasons=list(screening.reasons),
            created_at=now,
            updated_at=now,
        )
    if comment.body != text or comment.status == CommentStatus.REMOVED:
        comment.body, comment.status = text, status
        comment.hold_reasons, comment.updated_at = list(screening.reasons), now
        comment.save(update_fields=["body", "status", "hold_reasons", "updated_at"])
    return comment


@transaction.atomic
def upsert_rating(user: User, drug_id: int, data: RatingInput) -> RatingOutcome:
    """Create or replace the caller's rating of a drug for an indication (one per triple)."""
    require(user, Capability.RATE)
    physician = physician_of(user)
    scores = validate_scores(data.scores)
    drug = _drug(drug_id)
    indication = _indication(data.indication_id)
    comment_text = (data.comment or "").strip()
    if len(comment_text) > COMMENT_MAX:
        raise InvalidInput("comment", f"Keep comments under {COMMENT_MAX} characters.")
    if comment_text:
        require(user, Capability.COMMENT)
    check_rate_limit(physician, Action.RATE)
    off_label = not DrugIndication.objects.filter(drug=drug, indication=indication).exists()
    rating = (
        Rating.objects.select_for_update()
        .filter(physician=physician, drug=drug, indication=indication)
        .first()
    )
    now = timezone.now()
    created = rating is None
    if created:
        try:
            with transaction.atomic():
                rating = Rating.objects.create(
                    physician=physician,
                    drug=drug,
                    indication=indication,
                    off_label=off_label,
                    created_at=now,
                    updated_at=now,
                    **scores,
                )
        except IntegrityError:  # a concurrent request created it first: replace that one
            rating = Rating.objects.select_for_update().get(
                physician=physician, drug=drug, indication=indication
            )
            created = False
    if not created:
        for name, value in scores.items():
            setattr(rating, name, value)
        rating.off_label, rating.updated_at = off_label, now
        rating.save(update_fields=[*DIMENSION_NAMES, "off_label", "updated_at"])
    _revision(rating, RevisionAction.CREATED if created else RevisionAction.UPDATED)
    comment = None
    if comment_text:
        check_rate_limit(physician, Action.COMMENT)
        comment = _save_comment(rating, comment_text)
    elif data.comment is not None:  # an explicit empty comment removes the old one
        Comment.objects.filter(rating=rating).exclude(status=CommentStatus.REMOVED).update(
            status=CommentStatus.REMOVED, updated_at=now
        )
    else:
        comment = Comment.objects.filter(rating=rating).first()
    from drugratings.trust.conflicts import flag_conflict_of_interest

    flag_conflict_of_interest(rating)
    bump([drug.pk])
    request_refit("rating")
    return RatingOutcome(rating, created, comment)


@transaction.atomic
def withdraw_rating(user: User, drug_id: int, indication_id: int) -> None:
    """Delete the caller's rating (its history stays) and take its comment down."""
    require(user, Capability.RATE)
    physician = physician_of(user)
    rating = (
        Rating.objects.select_for_update()
        .filter(physician=physician, drug_id=drug_id, indication_id=indication_id)
        .first()
    )
    if rating is None:
        raise Http404("You have no rating of this drug for this indication.")
    _revision(rating, RevisionAction.WITHDRAWN)
    Comment.objects.filter(rating=rating).update(
        status=CommentStatus.REMOVED, updated_at=timezone.now()
    )
    rating.delete()
    bump([drug_id])
    request_refit("withdrawal")


def _visible_comment(comment_id: int) -> Comment:
    comment = Comment.objects.filter(pk=comment_id, status=CommentStatus.PUBLISHED).first()
    if comment is None:
        raise Http404(f"Comment {comment_id} does not exist.")
    return comment


@transaction.atomic
def reply_to_comment(user: User, comment_id: int, text: str) -> Comment:
    """Answer a colleague's comment, one level deep, under the same screening and moderation as
    comments: a reply that may hold an identifier waits for a moderator."""
    require(user, Capability.COMMENT)
    physician = physician_of(user)
    parent = _visible_comment(comment_id)
    if parent.parent_id is not None:
        raise InvalidInput("comment_id", "Replies are one level deep: answer the first comment.")
    body = (text or "").strip()
    if not body:
        raise InvalidInput("body", "Write your reply.")
    if len(body) > COMMENT_MAX:
        raise InvalidInput("body", f"Keep replies under {COMMENT_MAX} characters.")
    check_rate_limit(physician, Action.COMMENT)
    screening = screen_comment(body)
    now = timezone.now()
    return Comment.objects.create(
        physician=physician,
        drug_id=parent.drug_id,
        indication_id=parent.indication_id,
        parent=parent,
        body=body,
        status=CommentStatus.HELD if screening.held else CommentStatus.PUBLISHED,
        hold_reasons=list(screening.reasons),
        created_at=now,
        updated_at=now,
    )


@transaction.atomic
def vote_helpful(user: User, comment_id: int) -> int:
    """Mark a comment helpful (once per physician); returns the new count."""
    require(user, Capability.VOTE)
    physician = physician_of(user)
    comment = _visible_comment(comment_id)
    if comment.physician_id == physician.pk:
        raise InvalidInput("comment_id", "You cannot vote for your own comment.")
    if HelpfulVote.objects.filter(comment=comment, physician=physician).exists():
        return comment.helpful_count
    check_rate_limit(physician, Action.VOTE)
    HelpfulVote.objects.create(comment=comment, physician=physician)
    Comment.objects.filter(pk=comment.pk).update(helpful_count=F("helpful_count") + 1)
    comment.refresh_from_db(fields=["helpful_count"])
    return comment.helpful_count


@transaction.atomic
def flag_comment(user: User, comment_id: int, reason: str, note: str = "") -> CommentFlag:
    """Report a comment to the moderators (once per physician and comment)."""
    require(user, Capability.FLAG)
    physician = physician_of(user)
    if reason not in FlagReason.values:
        raise InvalidInput("reason", f"Choose one of: {', '.join(FlagReason.values)}.")
    if len(note) > 500:
        raise InvalidInput("note", "Keep the note under 500 characters.")
    comment = _visible_comment(comment_id)
    existing = CommentFlag.objects.filter(comment=comment, reporter=physician).first()
    if existing is not None:
        return existing
    check_rate_limit(physician, Action.FLAG)
    return CommentFlag.objects.create(
        comment=comment, reporter=physician, reason=reason, note=note.strip()
    )
