"""Moderator decisions on comments and authors. Each writes one ModeratorAction (the audit)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from drugratings.accounts.access import Capability, physician_of, require
from drugratings.accounts.models import User, VerificationStatus
from drugratings.core.events import CommentWritten
from drugratings.errors import InvalidInput
from drugratings.moderation.models import (
    CommentFlag,
    FlagReason,
    ModeratorAction,
    ModeratorActionKind,
)
from drugratings.moderation.screening import screen_comment
from drugratings.ratings.actions import visible_comment
from drugratings.ratings.limits import Action, enforce_hourly_limit
from drugratings.ratings.models import Comment, CommentStatus, Rating
from drugratings.ratings.versions import bump_comments
from drugratings.verification.actions import set_status
from drugratings.verification.models import Decision


def _comment(comment_id: int) -> Comment:
    comment = (
        Comment.objects.select_for_update()
        .filter(pk=comment_id)
        .select_related("physician__user")
        .first()
    )
    if comment is None:
        raise Http404(f"Comment {comment_id} does not exist.")
    return comment


def _audit(moderator: User, kind: str, comment: Comment | None, reason: str, **details) -> None:
    ModeratorAction.objects.create(
        moderator=moderator,
        kind=kind,
        comment=comment,
        physician=comment.physician if comment else details.pop("physician", None),
        reason=reason[:500],
        details=details,
    )


def audit_rating_decision(
    moderator: User, kind: str, rating: Rating, reason: str, **details
) -> None:
    """The audit row of a moderator's decision on a rating (trust's quarantine cases)."""
    require(moderator, Capability.MODERATE)
    ModeratorAction.objects.create(
        moderator=moderator,
        kind=kind,
        rating=rating,
        physician_id=rating.physician_id,
        reason=reason.strip()[:500],
        details=details,
    )


def _resolve_flags(comment: Comment) -> None:
    CommentFlag.objects.filter(comment=comment, resolved_at__isnull=True).update(
        resolved_at=timezone.now()
    )


@transaction.atomic
def approve(moderator: User, comment_id: int, reason: str = "") -> Comment:
    """Publish a held comment as it is (the screening was a false alarm)."""
    require(moderator, Capability.MODERATE)
    comment = _comment(comment_id)
    comment.status = CommentStatus.PUBLISHED
    comment.save(update_fields=["status"])
    bump_comments([comment.drug_id])
    _resolve_flags(comment)
    _audit(
        moderator,
        ModeratorActionKind.APPROVE,
        comment,
        reason or "Approved",
        hold_reasons=comment.hold_reasons,
    )
    return comment


@transaction.atomic
def edit(moderator: User, comment_id: int, new_body: str, reason: str) -> Comment:
    """Replace the text (to edit out identifiers) and publish; the old text stays in the audit."""
    require(moderator, Capability.MODERATE)
    new_body = new_body.strip()
    if not new_body:
        raise InvalidInput("body", "The edited comment is empty; remove it instead.")
    if not reason.strip():
        raise InvalidInput("reason", "Say what was edited out.")
    comment = _comment(comment_id)
    remaining = screen_comment(new_body)
    old = comment.body
    comment.body, comment.status = new_body, CommentStatus.PUBLISHED
    comment.hold_reasons, comment.updated_at = list(remaining.reasons), timezone.now()
    comment.save(update_fields=["body", "status", "hold_reasons", "updated_at"])
    bump_comments([comment.drug_id])
    _resolve_flags(comment)
    _audit(
        moderator,
        ModeratorActionKind.EDIT,
        comment,
        reason,
        previous_body=old,
        still_flagged_by_screening=list(remaining.reasons),
    )
    return comment


@transaction.atomic
def remove(moderator: User, comment_id: int, reason: str) -> Comment:
    require(moderator, Capability.MODERATE)
    if not reason.strip():
        raise InvalidInput("reason", "Give a reason for removing the comment.")
    comment = _comment(comment_id)
    comment.status = CommentStatus.REMOVED
    comment.save(update_fields=["status"])
    bump_comments([comment.drug_id])
    _resolve_flags(comment)
    _audit(moderator, ModeratorActionKind.REMOVE, comment, reason)
    return comment


@transaction.atomic
def dismiss_flags(moderator: User, comment_id: int, reason: str = "") -> Comment:
    require(moderator, Capability.MODERATE)
    comment = _comment(comment_id)
    _resolve_flags(comment)
    _audit(moderator, ModeratorActionKind.DISMISS_FLAGS, comment, reason or "Flags dismissed")
    return comment


@transaction.atomic
def warn_author(moderator: User, comment_id: int, message: str) -> None:
    require(moderator, Capability.MODERATE)
    if not message.strip():
        raise InvalidInput("reason", "Write the warning the author will receive.")
    comment = _comment(comment_id)
    _audit(moderator, ModeratorActionKind.WARN, comment, message)
    send_mail(
        "A note from the Drug Ratings moderators",
        f"{message.strip()}\n\nThis concerns your comment:\n\n{comment.body[:500]}",
        settings.DEFAULT_FROM_EMAIL,
        [comment.physician.user.email],
    )


@transaction.atomic
def suspend_author(moderator: User, comment_id: int, reason: str) -> None:
    require(moderator, Capability.MODERATE)
    if not reason.strip():
        raise InvalidInput("reason", "Give a reason for the suspension.")
    comment = _comment(comment_id)
    physician = comment.physician
    set_status(
        physician,
        VerificationStatus.SUSPENDED,
        Decision.SUSPENDED,
        f"Suspended by a moderator: {reason.strip()}",
        by=moderator,
    )
    comment.status = CommentStatus.REMOVED
    comment.save(update_fields=["status"])
    bump_comments([comment.drug_id])
    _resolve_flags(comment)
    _audit(moderator, ModeratorActionKind.SUSPEND, comment, reason)


MODERATION_ACTIONS = {
    "approve": approve,
    "remove": remove,
    "dismiss": dismiss_flags,
    "warn": warn_author,
    "suspend": suspend_author,
}


def screen_written_comment(event: CommentWritten) -> None:
    """Subscribed to comment-written: publish the new text, or keep it held with the reasons
    for the moderators' queue (patient identifiers, promotion)."""
    comment = Comment.objects.select_for_update().get(pk=event.comment_id)
    screening = screen_comment(comment.body)
    comment.status = CommentStatus.HELD if screening.held else CommentStatus.PUBLISHED
    comment.hold_reasons = list(screening.reasons)
    comment.save(update_fields=["status", "hold_reasons"])
    bump_comments([comment.drug_id])


@transaction.atomic
def flag_comment(user: User, comment_id: int, reason: str, note: str = "") -> CommentFlag:
    """Report a comment to the moderators (once per physician and comment)."""
    require(user, Capability.FLAG)
    physician = physician_of(user)
    if reason not in FlagReason.values:
        raise InvalidInput("reason", f"Choose one of: {', '.join(FlagReason.values)}.")
    if len(note) > 500:
        raise InvalidInput("note", "Keep the note under 500 characters.")
    comment = visible_comment(comment_id)
    existing = CommentFlag.objects.filter(comment=comment, reporter=physician).first()
    if existing is not None:
        return existing
    enforce_hourly_limit(
        Action.FLAG,
        lambda since: CommentFlag.objects.filter(reporter=physician, created_at__gte=since).count(),
    )
    return CommentFlag.objects.create(
        comment=comment, reporter=physician, reason=reason, note=note.strip()
    )
