"""Named personas, one per role the product knows, as the table-driven tests use them."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from drugratings.accounts.actions import sync_specialties
from drugratings.accounts.handles import unique_handle
from drugratings.accounts.models import PhysicianProfile, Role, Specialty, User, VerificationStatus
from drugratings.portal.models import PharmaAnalyst, PharmaOrganization
from drugratings.verification.models import PhysicianIdentity

PASSWORD = "correct-horse-battery-9"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

_handles: set[str] = set()


def make_physician(
    email: str,
    status: str = VerificationStatus.VERIFIED,
    *,
    specialty: str = "internal-medicine",
    first_name: str = "Grace",
    last_name: str = "Hopperfield",
    npi: str | None = None,
) -> User:
    user = User.objects.create_user(
        email, PASSWORD, role=Role.PHYSICIAN, email_confirmed_at=timezone.now()
    )
    profile = PhysicianProfile.objects.create(
        user=user,
        handle=unique_handle(_handles),
        specialty=Specialty.objects.get(slug=specialty),
        country="US",
        region="US-MA",
        verification_status=status,
        verified_at=timezone.now() if status == VerificationStatus.VERIFIED else None,
    )
    PhysicianIdentity.objects.create(
        physician=profile,
        first_name=first_name,
        last_name=last_name,
        npi=npi,
        license_number="LIC-42",
    )
    return user


def make_pharma(
    email: str = "analyst@pharma.test",
    organization: PharmaOrganization | None = None,
    *,
    all_areas: bool = True,
) -> User:
    user = User.objects.create_user(
        email, PASSWORD, role=Role.PHARMA, totp_secret=TOTP_SECRET, totp_confirmed_at=timezone.now()
    )
    organization = organization or PharmaOrganization.objects.create(
        name=f"Org of {email}", slug=email.split("@")[0].replace(".", "-"), all_areas=all_areas
    )
    PharmaAnalyst.objects.create(user=user, organization=organization)
    return user


def make_staff(email: str, role: str = Role.MODERATOR) -> User:
    return User.objects.create_user(
        email,
        PASSWORD,
        role=role,
        is_staff=True,
        is_superuser=role == Role.ADMIN,
        totp_secret=TOTP_SECRET,
        totp_confirmed_at=timezone.now(),
    )


@dataclass(frozen=True)
class Personas:
    verified: User
    other_verified: User
    unverified: User
    pending: User
    rejected: User
    pharma: User
    moderator: User
    admin: User


def make_personas() -> Personas:
    # Transactional (browser) tests flush the data migrations' rows: put specialties back.
    sync_specialties()
    return Personas(
        verified=make_physician(
            "verified@doc.test", first_name="Vera", last_name="Verity", npi="1234567893"
        ),
        other_verified=make_physician(
            "other@doc.test", specialty="cardiology", first_name="Otto", last_name="Otherton"
        ),
        unverified=make_physician(
            "unverified@doc.test",
            VerificationStatus.UNVERIFIED,
            first_name="Una",
            last_name="Unverifiedson",
        ),
        pending=make_physician(
            "pending@doc.test",
            VerificationStatus.PENDING,
            first_name="Penny",
            last_name="Pendleton",
        ),
        rejected=make_physician(
            "rejected@doc.test", VerificationStatus.REJECTED, first_name="Rex", last_name="Rejectus"
        ),
        pharma=make_pharma(),
        moderator=make_staff("moderator@staff.test"),
        admin=make_staff("admin@staff.test", Role.ADMIN),
    )
