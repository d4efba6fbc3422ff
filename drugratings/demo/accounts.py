"""The fixed demo logins (demo mode is the only place fixed secrets may exist)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from drugratings.accounts import actions as account_actions
from drugratings.accounts.models import (
    ApiToken,
    PhysicianProfile,
    Role,
    Specialty,
    TokenKind,
    User,
    VerificationStatus,
)
from drugratings.portal.models import PharmaAnalyst, PharmaOrganization
from drugratings.verification.models import Decision, PhysicianIdentity, VerificationDecision

PASSWORD = "demo-password-2017"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
API_KEY = "drk_demo_0123456789abcdef"
DOMAIN = "demo.drugratings.org"


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: str
    note: str


LOGINS = (
    DemoLogin(f"physician@{DOMAIN}", "verified physician", "rates and comments"),
    DemoLogin(f"pending@{DOMAIN}", "physician pending verification", "can browse, cannot rate"),
    DemoLogin(
        f"analyst@{DOMAIN}", "pharma analyst", f"TOTP secret {TOTP_SECRET}, API key {API_KEY}"
    ),
    DemoLogin(f"moderator@{DOMAIN}", "moderator / verifier", f"TOTP secret {TOTP_SECRET}"),
    DemoLogin(f"admin@{DOMAIN}", "administrator", f"TOTP secret {TOTP_SECRET}"),
)


def _user(email: str, role: str, **extra: object) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email, PASSWORD, role=role, **extra)
        user.email_confirmed_at = timezone.now()
        user.save(update_fields=["email_confirmed_at"])
    return user


def _physician(
    email: str, handle: str, status: str, first: str, last: str, npi: str | None
) -> None:
    user = _user(email, Role.PHYSICIAN)
    if hasattr(user, "physician"):
        return
    profile = PhysicianProfile.objects.create(
        user=user,
        handle=handle,
        specialty=Specialty.objects.get(slug="internal-medicine"),
        country="US",
        region="US-MA",
        verification_status=status,
        verified_at=timezone.now() if status == VerificationStatus.VERIFIED else None,
        status_reason="Demo account"
        if status == VerificationStatus.VERIFIED
        else "Awaiting licence review",
    )
    PhysicianIdentity.objects.create(
        physician=profile,
        first_name=first,
        last_name=last,
        npi=npi,
        license_number="MA-123456" if npi else "",
        license_country="US",
        license_body="Massachusetts Board of Registration in Medicine",
    )
    VerificationDecision.objects.create(
        physician=profile,
        reason="Demo account",
        decision=Decision.VERIFIED if status == VerificationStatus.VERIFIED else Decision.PENDING,
    )


def _staff(email: str, role: str) -> None:
    user = _user(email, role, is_staff=True, is_superuser=role == Role.ADMIN)
    if not user.has_two_factor:
        user.totp_secret = TOTP_SECRET
        user.totp_confirmed_at = timezone.now()
        user.save(update_fields=["totp_secret", "totp_confirmed_at"])


@transaction.atomic
def ensure_demo_accounts() -> None:
    """Create the demo logins if missing; reuse them when present."""
    _physician(
        f"physician@{DOMAIN}",
        "DemoDoctor1",
        VerificationStatus.VERIFIED,
        "Avery",
        "Demo",
        "1234567893",
    )
    _physician(
        f"pending@{DOMAIN}", "PendingDoctor2", VerificationStatus.PENDING, "Jordan", "Pending", None
    )
    _staff(f"moderator@{DOMAIN}", Role.MODERATOR)
    _staff(f"admin@{DOMAIN}", Role.ADMIN)
    analyst = _user(f"analyst@{DOMAIN}", Role.PHARMA)
    if not analyst.has_two_factor:
        analyst.totp_secret = TOTP_SECRET
        analyst.totp_confirmed_at = timezone.now()
        analyst.save(update_fields=["totp_secret", "totp_confirmed_at"])
    # The demo organisation stands for a real manufacturer with many rated brands (Lipitor,
    # Norvasc, Zoloft, ...), so the portfolio home has something to show.
    organization, _ = PharmaOrganization.objects.get_or_create(
        slug="demo-pharma",
        defaults={"name": "Pfizer brand insights (demo)", "all_areas": True},
    )
    if not organization.manufacturers:
        organization.manufacturers = ["Pfizer"]
        organization.save(update_fields=["manufacturers"])
    PharmaAnalyst.objects.get_or_create(
        user=analyst,
        defaults={
            "organization": organization,
            "display_name": "Demo Analyst",
            "is_org_admin": True,  # so the demo shows the organisation's own admin page
        },
    )
    if not ApiToken.objects.filter(digest=ApiToken.digest_of(API_KEY)).exists():
        account_actions.issue_token(
            analyst,
            TokenKind.API_KEY,
            days=3650,
            name="Demo key",
            scopes=["reports:read", "releases:read"],
            secret=API_KEY,
        )
