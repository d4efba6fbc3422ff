"""Physician identity (verification staff only), the NPPES registry copy and review decisions."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.utils import timezone
from django.utils.functional import LazyObject

from drugratings.accounts.models import PhysicianProfile

PHYSICIAN_GROUPING = "Allopathic & Osteopathic Physicians"


class _PrivateStorage(LazyObject):
    """Licence documents live outside MEDIA/STATIC and are served only through the admin."""

    def _setup(self) -> None:
        self._wrapped = FileSystemStorage(location=settings.PRIVATE_MEDIA_ROOT, base_url=None)


private_storage = _PrivateStorage()


class Taxonomy(models.Model):
    """A NUCC Health Care Provider Taxonomy code."""

    code = models.CharField(max_length=10, primary_key=True)
    grouping = models.CharField(max_length=120)
    classification = models.CharField(max_length=120)
    specialization = models.CharField(max_length=120, blank=True)
    display_name = models.CharField(max_length=200, blank=True)
    section = models.CharField(max_length=20, blank=True)

    class Meta:
        verbose_name_plural = "taxonomies"

    def __str__(self) -> str:
        return f"{self.code} {self.display_name or self.classification}"

    @property
    def is_physician(self) -> bool:
        return self.grouping == PHYSICIAN_GROUPING


class RegistryRecord(models.Model):
    """One NPI from the NPPES dissemination file: only the columns verification needs."""

    npi = models.CharField(max_length=10, primary_key=True)
    entity_type = models.PositiveSmallIntegerField(help_text="1 individual, 2 organisation")
    last_name = models.CharField(max_length=100, blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    credential = models.CharField(max_length=60, blank=True)
    primary_taxonomy = models.CharField(max_length=10, blank=True)
    license_number = models.CharField(max_length=40, blank=True)
    license_state = models.CharField(max_length=4, blank=True)
    practice_state = models.CharField(max_length=40, blank=True)
    enumeration_date = models.DateField(null=True, blank=True)
    last_update = models.DateField(null=True, blank=True)
    deactivation_date = models.DateField(null=True, blank=True)
    reactivation_date = models.DateField(null=True, blank=True)
    imported_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.npi

    @property
    def is_active(self) -> bool:
        if self.deactivation_date is None:
            return True
        return bool(self.reactivation_date and self.reactivation_date >= self.deactivation_date)


class PhysicianIdentity(models.Model):
    """Real identity of a physician. Read only through `verification.access` by verifiers."""

    physician = models.OneToOneField(
        "accounts.PhysicianProfile", on_delete=models.CASCADE, related_name="identity"
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    npi = models.CharField(max_length=10, null=True, blank=True, unique=True)
    license_number = models.CharField(max_length=60, blank=True)
    license_body = models.CharField(max_length=200, blank=True, help_text="Issuing body")
    license_country = models.CharField(max_length=2, blank=True)
    license_region = models.CharField(max_length=60, blank=True)
    document = models.FileField(storage=private_storage, upload_to="licences/%Y/%m", blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "physician identities"
        permissions = [("review_physician", "Can review physician verification")]

    def __str__(self) -> str:
        return f"identity of physician #{self.physician_id}"


class Decision(models.TextChoices):
    VERIFIED = "verified", "Verified"
    PENDING = "pending", "Sent to manual review"
    MORE_INFO = "more_info", "More information requested"
    REJECTED = "rejected", "Rejected"
    SUSPENDED = "suspended", "Suspended"
    REINSTATED = "reinstated", "Reinstated"


class VerificationDecision(models.Model):
    """Audit trail of every verification outcome: who (null = automatic), when and why."""

    physician = models.ForeignKey(
        "accounts.PhysicianProfile", on_delete=models.CASCADE, related_name="decisions"
    )
    decision = models.CharField(max_length=16, choices=Decision.choices)
    reason = models.CharField(max_length=500)
    decided_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.decision} for physician #{self.physician_id}"


class VerificationCase(PhysicianProfile):
    """The verifiers' view of a physician account in the admin queue."""

    class Meta:
        proxy = True
        verbose_name = "verification case"
        verbose_name_plural = "verification queue"
