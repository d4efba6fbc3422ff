"""Conflicts of interest (declared and from CMS Open Payments) and quarantine cases."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class InterestKind(models.TextChoices):
    SPEAKER = "speaker", "Speaker"
    CONSULTANT = "consultant", "Consultant or advisory board"
    RESEARCH = "research_funding", "Research funding"
    EMPLOYEE = "employee", "Employee"
    SHAREHOLDER = "shareholder", "Shareholder"
    OTHER = "other", "Other paid relationship"


class InterestDeclaration(models.Model):
    """A physician's declared relationship with a company."""

    physician = models.ForeignKey(
        "accounts.PhysicianProfile", on_delete=models.CASCADE, related_name="interests"
    )
    company = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=InterestKind.choices)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True, help_text="Empty while ongoing")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="interest_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.company}"


class OpenPayment(models.Model):
    """One CMS Open Payments general-payment record (imported by NPI)."""

    record_id = models.CharField(max_length=40, unique=True)
    npi = models.CharField(max_length=10, db_index=True)
    manufacturer = models.CharField(max_length=200)
    amount_usd = models.DecimalField(max_digits=12, decimal_places=2)
    paid_on = models.DateField()
    nature = models.CharField(max_length=200, blank=True)
    products = models.JSONField(default=list, blank=True)
    program_year = models.PositiveSmallIntegerField()


class CaseStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLEARED = "cleared", "Cleared: ratings restored"
    REMOVED = "removed", "Removed: ratings deleted from scores"


class QuarantineCase(models.Model):
    """Ratings a detector found suspect, held out of scores and releases until a moderator
    decides. Raters are never told which signal fired."""

    detector = models.CharField(max_length=40)
    score = models.FloatField()
    reason = models.CharField(max_length=500)
    status = models.CharField(max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    ratings = models.ManyToManyField("ratings.Rating", related_name="quarantine_cases", blank=True)
    physicians = models.ManyToManyField(
        "accounts.PhysicianProfile", related_name="quarantine_cases", blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "detector"])]

    def __str__(self) -> str:
        return f"{self.detector} case #{self.pk} ({self.status})"
