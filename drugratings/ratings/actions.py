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
from drugratings.catalog.models import Drug, DrugIndication, Indication
from drugratings.core.events import (
    CommentWritten,
    RatingChanged,
    StandingChanged,
    StatusChanged,
    comment_written,
    rating_changed,
    standing_changed,
)
from drugratings.errors import InvalidInput
from drugratings.ratings.dimensions import DIMENSION_NAMES, SCORE_MAX, SCORE_MIN
from drugratings.ratings.limits import Action, check_rate_limit
from drugratings.ratings.models import (
    Comment,
    CommentStatus,
    HelpfulVote,
    Rating,
    RatingRevision,
    RevisionAction,
)
from drugratings.ratings.queries import counts_in_scores
from drugratings.ratings.versions import bump, bump_comments

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


def _revision_row(rating: Rating, action: str) -> RatingRevision:
    return RatingRevision(
        rating=rating,
        physician_id=rating.physician_id,
        drug_id=rating.drug_id,
        indication_id=rating.indication_id,
        action=action,
        **rating.scores(),
    )


def _revision(rating: Rating, action: str) -> None:
    _revision_row(rating, action).save()


def set_status(ratings: list[Rating], status: str, action: str) -> None:
    """Move ratings between active, quarantined and removed (trust's quarantine and its
    moderators' decisions), with one history row each; the caller checked permission."""
    Rating.objects.filter(pk__in=[r.pk for r in ratings]).update(status=status)
    bump(r.drug_id for r in ratings)
    RatingRevision.objects.bulk_create([_revision_row(r, action) for r in ratings])


def set_conflict_of_interest(rating: Rating, flagged: bool) -> None:
    """Mark whether a rating is under a conflict of interest (trust decides which)."""
    if flagged != rating.conflict_of_interest:
        rating.conflict_of_interest = flagged
        rating.save(update_fields=["conflict_of_interest"])
        bump([rating.drug_id])


def _save_comment(rating: Rating, text: str) -> Comment:
    """New or changed text is saved held; the comment-written event lets moderation screen it
    and publish it (in this transaction), so nothing unscreened is ever shown."""
    now = timezone.now()
    comment = Comment.objects.filter(rating=rating).first()
    if comment is None:
        comment = Comment.objects.create(
            physician_id=rating.physician_id,
            drug_id=rating.drug_id,
            indication_id=rating.indication_id,
            rating=rating,
            body=text,
            status=CommentStatus.HELD,
            hold_reasons=[],
            created_at=now,
            updated_at=now,
        )
    elif comment.body != text or comment.status == CommentStatus.REMOVED:
        comment.body, comment.status = text, CommentStatus.HELD
        comment.hold_reasons, comment.updated_at = [], now
        comment.save(update_fields=["body", "status", "hold_reasons", "updated_at"])
    else:
        return comment
    comment_written.announce(CommentWritten(comment.pk))
    comment.refresh_from_db()
    return comment


def _announce(rating: Rating, withdrawn: bool) -> None:
    """Tell the subscribers (analytics refits, trust checks conflicts) in this transaction."""
    rating_changed.announce(
        RatingChanged(
            rating_id=rating.pk,
            physician_id=rating.physician_id,
            drug_id=rating.drug_id,
            indication_id=rating.indication_id,
            withdrawn=withdrawn,
        )
    )


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
    bump([drug.pk])
    _announce(rating, withdrawn=False)
    rating.refresh_from_db()  # a subscriber may have set its conflict-of-interest flag
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
    _announce(rating, withdrawn=True)
    rating.delete()
    bump([drug_id])


def recount_after_status_change(event: StatusChanged) -> None:
    """A physician's verification status changed: if that takes their ratings out of the
    counting ones or puts them back (suspension and its lifting), drop the cached live figures
    of every drug they rated and announce it (analytics refits), so scores and the next
    release follow. Subscribed to ``status_changed`` in RatingsConfig.ready."""
    if counts_in_scores(event.old_status) == counts_in_scores(event.new_status):
        return
    drug_ids = list(
        Rating.objects.filter(physician_id=event.physician_id)
        .values_list("drug_id", flat=True)
        .distinct()
    )
    if not drug_ids:
        return
    bump(drug_ids)
    standing_changed.announce(
        StandingChanged(event.physician_id, counts_in_scores(event.new_status))
    )


def visible_comment(comment_id: int) -> Comment:
    """A published comment, or 404 (what a physician may vote on or report)."""
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
    parent = visible_comment(comment_id)
    if parent.parent_id is not None:
        raise InvalidInput("comment_id", "Replies are one level deep: answer the first comment.")
    body = (text or "").strip()
    if not body:
        raise InvalidInput("body", "Write your reply.")
    if len(body) > COMMENT_MAX:
        raise InvalidInput("body", f"Keep replies under {COMMENT_MAX} characters.")
    check_rate_limit(physician, Action.COMMENT)
    now = timezone.now()
    # Saved held; the comment-written event lets moderation screen it and publish it in this
    # transaction, exactly as for a rating's comment.
    reply = Comment.objects.create(
        physician=physician,
        drug_id=parent.drug_id,
        indication_id=parent.indication_id,
        parent=parent,
        body=body,
        status=CommentStatus.HELD,
        hold_reasons=[],
        created_at=now,
        updated_at=now,
    )
    comment_written.announce(CommentWritten(reply.pk))
    bump_comments([reply.drug_id])
    reply.refresh_from_db()
    return reply


@transaction.atomic
def vote_helpful(user: User, comment_id: int) -> int:
    """Mark a comment helpful (once per physician); returns the new count."""
    require(user, Capability.VOTE)
    physician = physician_of(user)
    comment = visible_comment(comment_id)
    if comment.physician_id == physician.pk:
        raise InvalidInput("comment_id", "You cannot vote for your own comment.")
    if HelpfulVote.objects.filter(comment=comment, physician=physician).exists():
        return comment.helpful_count
    check_rate_limit(physician, Action.VOTE)
    HelpfulVote.objects.create(comment=comment, physician=physician)
    Comment.objects.filter(pk=comment.pk).update(helpful_count=F("helpful_count") + 1)
    bump_comments([comment.drug_id])
    comment.refresh_from_db(fields=["helpful_count"])
    return comment.helpful_count
