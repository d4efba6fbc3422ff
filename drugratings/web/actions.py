"""Writes of the physician's web app: saved drugs, notification centre state, digest choice."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from drugratings.accounts.access import AccessDenied, physician_of
from drugratings.accounts.models import User
from drugratings.catalog.models import Drug
from drugratings.errors import InvalidInput
from drugratings.web.models import NotificationState, SavedDrug

MAX_SAVED = 200


def require_physician(user: User) -> None:
    """Saved drugs and notifications are the physician's app: other roles have neither."""
    if physician_of(user) is None:
        raise AccessDenied("Saved drugs and notifications are for physicians.")


@transaction.atomic
def save_drug(user: User, drug: Drug) -> bool:
    """Put a drug on the user's list; False if it was there already."""
    require_physician(user)
    if SavedDrug.objects.filter(user=user, drug=drug).exists():
        return False
    if SavedDrug.objects.filter(user=user).count() >= MAX_SAVED:
        raise InvalidInput("drug", f"Your list holds at most {MAX_SAVED} drugs: remove one first.")
    try:
        with transaction.atomic():
            SavedDrug.objects.create(user=user, drug=drug)
    except IntegrityError:  # saved by a concurrent request
        return False
    return True


def unsave_drug(user: User, drug: Drug) -> bool:
    require_physician(user)
    deleted, _ = SavedDrug.objects.filter(user=user, drug=drug).delete()
    return deleted > 0


def state_of(user: User) -> NotificationState:
    state, _ = NotificationState.objects.get_or_create(user=user)
    return state


def mark_seen(user: User) -> None:
    NotificationState.objects.update_or_create(user=user, defaults={"seen_at": timezone.now()})


def set_digest(user: User, enabled: bool) -> None:
    require_physician(user)
    NotificationState.objects.update_or_create(user=user, defaults={"digest": enabled})
