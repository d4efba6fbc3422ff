"""Writes of verification: registry and taxonomy imports, sign-up, licence submission and
verifier decisions. Every status change writes a VerificationDecision (who, when, why)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from drugratings.accounts.access import Capability, require
from drugratings.accounts.handles import unique_handle
from drugratings.accounts.models import PhysicianProfile, Role, Specialty, User, VerificationStatus
from drugratings.accounts.regions import iso_region
from drugratings.accounts.specialties import specialty_slug_for_nucc
from drugratings.core.events import StatusChanged, status_changed
from drugratings.errors import InvalidInput
from drugratings.verification.countries import COUNTRY_CODES
from drugratings.verification.importers.nppes import RegistryRow
from drugratings.verification.matching import match_registry
from drugratings.verification.models import (
    Decision,
    PhysicianIdentity,
    RegistryRecord,
    Taxonomy,
    VerificationDecision,
)
from drugratings.verification.npi import npi_problem

REGISTRY_FIELDS = (
    "entity_type",
    "last_name",
    "first_name",
    "credential",
    "primary_taxonomy",
    "license_number",
    "license_state",
    "practice_state",
    "enumeration_date",
    "last_update",
    "deactivation_date",
    "reactivation_date",
    "imported_at",
)
DOCUMENT_TYPES = {"application/pdf", "image/jpeg", "image/png"}
DOCUMENT_MAX_BYTES = 5 * 1024 * 1024


def load_taxonomy(rows: Iterable[dict[str, str]]) -> int:
    items = [Taxonomy(**row) for row in rows]
    Taxonomy.objects.bulk_create(
        items,
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=["grouping", "classification", "specialization", "display_name", "section"],
    )
    return len(items)


def upsert_registry(rows: list[RegistryRow]) -> None:
    now = timezone.now()
    RegistryRecord.objects.bulk_create(
        [RegistryRecord(imported_at=now, **row.__dict__) for row in rows],
        update_conflicts=True,
        unique_fields=["npi"],
        update_fields=list(REGISTRY_FIELDS),
    )


def suspend_deactivated() -> int:
    """Suspend verified physicians whose NPI the registry now lists as deactivated."""
    suspended = 0
    identities = PhysicianIdentity.objects.filter(
        npi__isnull=False, physician__verification_status=VerificationStatus.VERIFIED
    ).select_related("physician")
    records = RegistryRecord.objects.in_bulk([i.npi for i in identities])
    for identity in identities:
        record = records.get(identity.npi)
        if record is not None and not record.is_active:
            set_status(
                identity.physician,
                VerificationStatus.SUSPENDED,
                Decision.SUSPENDED,
                "The NPPES registry now lists this NPI as deactivated.",
                by=None,
            )
            suspended += 1
    return suspended


def set_status(
    physician: PhysicianProfile, status: str, decision: str, reason: str, by: User | None
) -> None:
    old_status = physician.verification_status
    physician.verification_status = status
    physician.status_reason = reason[:300]
    fields = ["verification_status", "status_reason"]
    if status == VerificationStatus.VERIFIED:
        physician.verified_at = timezone.now()
        fields.append("verified_at")
    physician.save(update_fields=fields)
    VerificationDecision.objects.create(
        physician=physician, decision=decision, reason=reason[:500], decided_by=by
    )
    status_changed.announce(StatusChanged(physician.pk, old_status, status))


@dataclass(frozen=True)
class Registration:
    email: str
    password: str
    first_name: str
    last_name: str
    specialty: str
    country: str
    npi: str | None = None
    license_number: str = ""
    license_region: str = ""
    signup_ip: str | None = None


def _check_registration(data: Registration) -> Specialty:
    email = data.email.strip().lower()
    if User.objects.filter(email=email).exists():
        raise InvalidInput("email", "An account with this email already exists.", status=409)
    for field in ("first_name", "last_name"):
        if not getattr(data, field).strip():
            raise InvalidInput(field, "This field is required.")
    if data.country.upper() not in COUNTRY_CODES:
        raise InvalidInput("country", "Use a two-letter ISO 3166 country code, such as US or GB.")
    specialty = (
        Specialty.objects.filter(slug=data.specialty.strip().lower()).first()
        or Specialty.objects.filter(name__iexact=data.specialty.strip()).first()
    )
    if specialty is None:
        raise InvalidInput("specialty", f"Unknown specialty {data.specialty!r}.")
    if data.npi:
        problem = npi_problem(data.npi.strip())
        if problem:
            raise InvalidInput("npi", problem)
        if data.country.upper() != "US":
            raise InvalidInput(
                "npi",
                "An NPI is issued to US providers only; leave it empty "
                "and give your licence number instead.",
            )
    try:
        validate_password(data.password, User(email=email))
    except ValidationError as exc:
        raise InvalidInput("password", " ".join(exc.messages)) from None
    return specialty


@transaction.atomic
def register_physician(data: Registration) -> PhysicianProfile:
    """Create a physician account and verify it at once where the NPPES registry allows."""
    specialty = _check_registration(data)
    npi = data.npi.strip() if data.npi else None
    if npi and PhysicianIdentity.objects.filter(npi=npi).exists():
        outcome_status, reason, taxonomy = (
            VerificationStatus.PENDING,
            "This NPI is already linked to another account; a verifier will review it.",
            None,
        )
        npi_to_store = None
    elif npi:
        outcome = match_registry(npi, data.first_name, data.last_name)
        outcome_status, reason, taxonomy = outcome.status, outcome.reason, outcome.taxonomy
        npi_to_store = npi
    else:
        outcome_status = (
            VerificationStatus.PENDING if data.license_number else VerificationStatus.UNVERIFIED
        )
        reason = (
            "A verifier will review your licence."
            if data.license_number
            else "Submit your licence (number, issuing body and a document) for review."
        )
        taxonomy, npi_to_store = None, None
    if outcome_status == VerificationStatus.VERIFIED and taxonomy is not None:
        slug = specialty_slug_for_nucc(taxonomy.classification, taxonomy.specialization)
        specialty = Specialty.objects.filter(slug=slug).first() or specialty
    try:
        user = User.objects.create_user(
            data.email.strip().lower(), data.password, role=Role.PHYSICIAN, signup_ip=data.signup_ip
        )
    except IntegrityError:
        raise InvalidInput(
            "email", "An account with this email already exists.", status=409
        ) from None
    taken = set(PhysicianProfile.objects.values_list("handle", flat=True))
    profile = PhysicianProfile.objects.create(
        user=user,
        handle=unique_handle(taken),
        specialty=specialty,
        country=data.country.upper(),
        region=iso_region(data.country, data.license_region),
        verification_status=outcome_status,
        status_reason=reason[:300],
        verified_at=timezone.now() if outcome_status == VerificationStatus.VERIFIED else None,
    )
    PhysicianIdentity.objects.create(
        physician=profile,
        first_name=data.first_name.strip(),
        last_name=data.last_name.strip(),
        npi=npi_to_store,
        license_number=data.license_number.strip(),
        license_region=data.license_region.strip(),
        license_country=data.country.upper(),
        submitted_at=timezone.now() if data.license_number else None,
    )
    decision = {
        VerificationStatus.VERIFIED: Decision.VERIFIED,
        VerificationStatus.REJECTED: Decision.REJECTED,
    }.get(outcome_status, Decision.PENDING)
    VerificationDecision.objects.create(physician=profile, decision=decision, reason=reason[:500])
    return profile


def _check_document(document: UploadedFile | None) -> None:
    if document is None:
        raise InvalidInput("document", "Upload a scan or photo of your licence (PDF, JPEG or PNG).")
    if document.size > DOCUMENT_MAX_BYTES:
        raise InvalidInput("document", "The document is larger than 5 MB.")
    head = document.read(8)
    document.seek(0)
    looks_ok = (
        head.startswith(b"%PDF")
        or head.startswith(b"\xff\xd8\xff")
        or head.startswith(b"\x89PNG\r\n\x1a\n")
    )
    if not looks_ok:
        raise InvalidInput("document", "Upload a PDF, JPEG or PNG file.")


@transaction.atomic
def submit_licence(
    physician: PhysicianProfile,
    *,
    license_number: str,
    license_body: str,
    country: str,
    region: str,
    document: UploadedFile | None,
) -> None:
    """Store licence details and a document for manual review; the account becomes pending."""
    if not license_number.strip():
        raise InvalidInput("license_number", "This field is required.")
    if not license_body.strip():
        raise InvalidInput("license_body", "Name the body that issued the licence.")
    if country.upper() not in COUNTRY_CODES:
        raise InvalidInput("country", "Use a two-letter ISO 3166 country code, such as US or GB.")
    _check_document(document)
    identity = physician.identity
    identity.license_number = license_number.strip()[:60]
    identity.license_body = license_body.strip()[:200]
    identity.license_country = country.upper()
    identity.license_region = region.strip()[:60]
    identity.document = document
    identity.submitted_at = timezone.now()
    identity.save()
    set_status(
        physician,
        VerificationStatus.PENDING,
        Decision.PENDING,
        "Licence submitted; awaiting review.",
        by=None,
    )


REVIEW_DECISIONS = {
    Decision.VERIFIED: VerificationStatus.VERIFIED,
    Decision.REJECTED: VerificationStatus.REJECTED,
    Decision.MORE_INFO: VerificationStatus.UNVERIFIED,
    Decision.SUSPENDED: VerificationStatus.SUSPENDED,
    Decision.REINSTATED: VerificationStatus.VERIFIED,
}


@transaction.atomic
def decide(physician: PhysicianProfile, decision: str, reason: str, by: User) -> None:
    """A verifier's decision on a physician; the reason is required and audited."""
    require(by, Capability.VERIFY)
    if decision not in REVIEW_DECISIONS:
        raise InvalidInput("decision", f"Unknown decision {decision!r}.")
    if not reason.strip():
        raise InvalidInput("reason", "Give a reason; it is shown to the physician and audited.")
    set_status(physician, REVIEW_DECISIONS[decision], decision, reason.strip(), by=by)
