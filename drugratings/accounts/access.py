"""The one place that decides who may do what. Every write path asks `require()` first.

Pharma users may never rate, comment, vote, flag, message or list physicians. Only verified
physicians write physician content. Verifiers read identities; moderators work queues.
"""

from __future__ import annotations

from enum import StrEnum

from django.contrib.auth.models import AnonymousUser

from drugratings.accounts.models import PhysicianProfile, Role, User, VerificationStatus
from drugratings.core.rows import one_row


class Capability(StrEnum):
    READ_CATALOG = "read_catalog"
    READ_SCORES = "read_scores"
    READ_COMMENTS = "read_comments"
    RATE = "rate"
    COMMENT = "comment"
    VOTE = "vote"
    FLAG = "flag"
    SUBMIT_LICENCE = "submit_licence"
    DECLARE_INTERESTS = "declare_interests"
    MODERATE = "moderate"
    VERIFY = "verify"
    READ_IDENTITY = "read_identity"
    USE_PORTAL = "use_portal"
    # Live (unreleased) scores and trends: everyone signed in except pharma, who sees releases.
    READ_LIVE_FIGURES = "read_live_figures"
    ADMINISTER = "administer"


class FigureView(StrEnum):
    """Which score figures a caller sees (METHODOLOGY.md, "Who sees what").

    LIVE: counts, distributions, fresh scores, trends and the conflict sensitivity, which move
    with every rating: verified physicians (the product's users) and staff. RELEASE: the latest
    published release only, never live rows: pharma, within its key's scope and subscription
    (`portal.access.figure_view_for`). NONE: the catalogue and nothing that moves with a rating:
    everyone else (unverified, pending, rejected or suspended accounts, anonymous visitors).
    """

    LIVE = "live"
    RELEASE = "release"
    NONE = "none"


class AccessDenied(PermissionError):
    """Raised by `require`; the message is safe to show to the caller."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.status = status


_PHYSICIAN_CONTENT = {Capability.RATE, Capability.COMMENT, Capability.VOTE, Capability.FLAG}
_STAFF_ROLES = {Role.MODERATOR, Role.ADMIN}


def signed_in_user(user_id: object) -> User | None:
    """The user a session or token names, with their physician profile already attached (every
    figure and permission check asks for it): two one-row reads instead of the ORM's three."""
    user = one_row(User, pk=user_id)
    if user is not None and user.role == Role.PHYSICIAN:
        profile = one_row(PhysicianProfile, user=user.pk)
        # As `select_related` would: `user.physician` answers from memory, or raises.
        User.physician.related.set_cached_value(user, profile)  # type: ignore[attr-defined]
        if profile is not None:
            PhysicianProfile.user.field.set_cached_value(profile, user)
    return user


def physician_of(user: User | AnonymousUser | None) -> PhysicianProfile | None:
    if user is None or not user.is_authenticated or user.role != Role.PHYSICIAN:
        return None
    try:
        return user.physician
    except PhysicianProfile.DoesNotExist:
        return None


def is_verified_physician(user: User | AnonymousUser | None) -> bool:
    """Verified by the registry or a verifier, with a confirmed email address."""
    physician = physician_of(user)
    return bool(
        physician
        and physician.verification_status == VerificationStatus.VERIFIED
        and user.email_confirmed_at is not None
    )


def figure_view(user: User | AnonymousUser | None) -> FigureView:
    """The role part of who sees which figures; pharma's scope and subscription are checked on
    top of it by `portal.access.figure_view_for`."""
    if user is None or not user.is_authenticated or not user.is_active:
        return FigureView.NONE
    if user.role in _STAFF_ROLES or is_verified_physician(user):
        return FigureView.LIVE
    if user.role == Role.PHARMA:
        return FigureView.RELEASE
    return FigureView.NONE


def can(user: User | AnonymousUser | None, capability: Capability) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    role = user.role
    if capability in _PHYSICIAN_CONTENT:
        return is_verified_physician(user)
    if capability == Capability.READ_CATALOG:
        return True
    if capability == Capability.READ_SCORES:
        return figure_view(user) != FigureView.NONE
    if capability == Capability.READ_COMMENTS:
        # A comment is published with its rating and often says which way it went.
        return figure_view(user) == FigureView.LIVE
    if capability == Capability.READ_LIVE_FIGURES:
        return figure_view(user) == FigureView.LIVE
    if capability == Capability.SUBMIT_LICENCE:
        physician = physician_of(user)
        return bool(
            physician
            and physician.verification_status
            in (
                VerificationStatus.UNVERIFIED,
                VerificationStatus.PENDING,
                VerificationStatus.REJECTED,
            )
        )
    if capability == Capability.DECLARE_INTERESTS:
        return physician_of(user) is not None
    if capability in (Capability.MODERATE, Capability.VERIFY, Capability.READ_IDENTITY):
        return role in _STAFF_ROLES
    if capability == Capability.USE_PORTAL:
        return role == Role.PHARMA
    if capability == Capability.ADMINISTER:
        return role == Role.ADMIN
    return False


def require(user: User | AnonymousUser | None, capability: Capability) -> None:
    """Raise AccessDenied with a message that says what is missing."""
    if can(user, capability):
        return
    if user is None or not user.is_authenticated:
        raise AccessDenied("Sign in first.", status=401)
    if capability in _PHYSICIAN_CONTENT:
        physician = physician_of(user)
        if physician is None:
            raise AccessDenied("Only verified physicians may rate, comment, vote or flag.")
        if physician.is_verified and user.email_confirmed_at is None:
            raise AccessDenied("Confirm your email address first: we sent you a link.")
        raise AccessDenied(
            f"Your account is {physician.get_verification_status_display().lower()}: "
            "only verified physicians may rate, comment, vote or flag."
        )
    if capability == Capability.READ_SCORES:
        raise AccessDenied(
            "Scores, counts and trends are shown to verified physicians: verify your licence "
            "to see them."
        )
    raise AccessDenied("Your role does not allow this.")
