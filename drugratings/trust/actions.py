"""Writes of trust and safety: interest declarations, Open Payments imports, quarantine cases
and the moderators' decisions on them (audited)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from drugratings.accounts.access import Capability, physician_of, require
from drugratings.accounts.models import User
from drugratings.analytics.actions import request_refit
from drugratings.errors import InvalidInput
from drugratings.moderation.actions import audit_rating_decision
from drugratings.moderation.models import ModeratorActionKind
from drugratings.ratings import actions as rating_actions
from drugratings.ratings.models import Rating, RatingStatus, RevisionAction
from drugratings.trust.conflicts import Makers, reflag_physician
from drugratings.trust.models import (
    CaseStatus,
    InterestDeclaration,
    InterestKind,
    OpenPayment,
    QuarantineCase,
)
from drugratings.verification.access import physicians_with_npis


@transaction.atomic
def declare_interest(
    user: User, company: str, kind: str, starts_on: date, ends_on: date | None = None
) -> InterestDeclaration:
    require(user, Capability.DECLARE_INTERESTS)
    company = company.strip()
    if not company:
        raise InvalidInput("company", "Name the company.")
    if kind not in InterestKind.values:
        raise InvalidInput("kind", f"Choose one of: {', '.join(InterestKind.values)}.")
    if ends_on is not None and ends_on < starts_on:
        raise InvalidInput("ends_on", "The end date is before the start date.")
    if starts_on > timezone.localdate():
        raise InvalidInput("starts_on", "The start date is in the future.")
    physician = physician_of(user)
    declaration = InterestDeclaration.objects.create(
        physician=physician, company=company[:200], kind=kind, starts_on=starts_on, ends_on=ends_on
    )
    if reflag_physician(physician.pk):
        request_refit("interest declared")
    return declaration


@transaction.atomic
def withdraw_interest(user: User, declaration_id: int) -> None:
    require(user, Capability.DECLARE_INTERESTS)
    physician = physician_of(user)
    deleted, _ = InterestDeclaration.objects.filter(pk=declaration_id, physician=physician).delete()
    if not deleted:
        raise Http404("No such declaration.")
    if reflag_physician(physician.pk):
        request_refit("interest withdrawn")


def store_payments(records: Iterable[OpenPayment]) -> set[str]:
    """Insert new payment records (idempotent on Record_ID); returns the NPIs touched."""
    records = list(records)
    OpenPayment.objects.bulk_create(records, batch_size=2000, ignore_conflicts=True)
    return {r.npi for r in records}


def reflag_npis(npis: set[str]) -> int:
    changed, makers = 0, Makers()
    for physician_id in physicians_with_npis(npis):
        changed += reflag_physician(physician_id, makers)
    if changed:
        request_refit("open payments")
    return changed


@transaction.atomic
def open_case(
    detector: str,
    score: float,
    reason: str,
    rating_ids: Iterable[int],
    physician_ids: Iterable[int],
) -> QuarantineCase | None:
    """Quarantine suspect ratings. Ratings a moderator already cleared for this detector, or
    already in an open case, are left alone, so a decision is not undone by the next run."""
    cleared = set(
        QuarantineCase.objects.filter(detector=detector, status=CaseStatus.CLEARED).values_list(
            "ratings", flat=True
        )
    )
    open_ids = set(
        QuarantineCase.objects.filter(status=CaseStatus.OPEN).values_list("ratings", flat=True)
    )
    ratings = list(
        Rating.objects.filter(pk__in=list(rating_ids), status=RatingStatus.ACTIVE).exclude(
            pk__in=cleared | open_ids
        )
    )
    if not ratings:
        return None
    case = QuarantineCase.objects.create(detector=detector, score=score, reason=reason[:500])
    case.ratings.set(ratings)
    case.physicians.set(list(physician_ids))
    rating_actions.set_status(ratings, RatingStatus.QUARANTINED, RevisionAction.QUARANTINED)
    request_refit("quarantine")
    return case


@transaction.atomic
def decide_case(moderator: User, case_id: int, decision: str, reason: str) -> QuarantineCase:
    """Clear (restore the ratings) or remove (keep them out of scores for good)."""
    require(moderator, Capability.MODERATE)
    if decision not in (CaseStatus.CLEARED, CaseStatus.REMOVED):
        raise InvalidInput("decision", "Use cleared or removed.")
    if not reason.strip():
        raise InvalidInput("reason", "Give a reason; it is audited.")
    case = QuarantineCase.objects.select_for_update().filter(pk=case_id).first()
    if case is None:
        raise Http404(f"Case {case_id} does not exist.")
    if case.status != CaseStatus.OPEN:
        raise InvalidInput("decision", "This case was already decided.", status=409)
    ratings = list(case.ratings.filter(status=RatingStatus.QUARANTINED))
    status = RatingStatus.ACTIVE if decision == CaseStatus.CLEARED else RatingStatus.REMOVED
    action = RevisionAction.RESTORED if decision == CaseStatus.CLEARED else RevisionAction.REMOVED
    kind = (
        ModeratorActionKind.CLEAR_RATING
        if decision == CaseStatus.CLEARED
        else ModeratorActionKind.REMOVE_RATING
    )
    rating_actions.set_status(ratings, status, action)
    for rating in ratings:
        audit_rating_decision(moderator, kind, rating, reason, case=case.pk, detector=case.detector)
    case.status, case.decided_by = decision, moderator
    case.decided_at, case.decision_reason = timezone.now(), reason.strip()[:500]
    case.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    request_refit("quarantine decision")
    return case
