"""The one place that decides who may do what. Every write path asks `require()` first.

Pharma users may never rate, comment, vote, flag, message or list physicians. Only verified
physicians write physician content. Verifiers read identities; moderators work queues.
"""

from __future__ import annotations

from enum import StrEnum

from django.contrib.auth.models import AnonymousUser

from drugratings.accounts.models import PhysicianProfile, Role, User, VerificationStatus


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


class AccessDenied(PermissionError):
    """Raised by `require`; the message is safe to show to the caller."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.status = status


_PHYSICIAN_CONTENT = {Capability.RATE, Capability.COMMENT, Capability.VOTE, Capability.FLAG}
_STAFF_ROLES = {Role.MODERATOR, Role.ADMIN}


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


def can(user: User | AnonymousUser | None, capability: Capability) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    role = user.role
    if capability in _PHYSICIAN_CONTENT:
        return is_verified_physician(user)
    if capability in (Capability.READ_CATALOG, Capability.READ_SCORES):
        return True
    if capability in (Capability.READ_COMMENTS, Capability.READ_LIVE_FIGURES):
        return role != Role.PHARMA
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
    raise AccessDenied("Your role does not allow this.")
