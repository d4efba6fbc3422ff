"""Flags raised on comments and the audit trail of every moderator action."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class FlagReason(models.TextChoices):
    PATIENT_IDENTIFIER = "patient_identifier", "Contains patient-identifying information"
    PROMOTIONAL = "promotional", "Promotional or conflict of interest"
    OFF_TOPIC = "off_topic", "Off-topic"
    ABUSIVE = "abusive", "Abusive or unprofessional"
    MISINFORMATION = "misinformation", "Clinically misleading"
    OTHER = "other", "Other"


class CommentFlag(models.Model):
    comment = models.ForeignKey("ratings.Comment", on_delete=models.CASCADE, related_name="flags")
    reporter = models.ForeignKey(
        "accounts.PhysicianProfile", on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(max_length=24, choices=FlagReason.choices)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["comment", "reporter"], name="one_flag_per_reporter")
        ]


class ModeratorActionKind(models.TextChoices):
    APPROVE = "approve", "Approved comment"
    EDIT = "edit", "Edited out identifiers"
    REMOVE = "remove", "Removed comment"
    DISMISS_FLAGS = "dismiss_flags", "Dismissed flags"
    WARN = "warn", "Warned author"
    SUSPEND = "suspend", "Suspended author"
    CLEAR_RATING = "clear_rating", "Cleared quarantined rating"
    REMOVE_RATING = "remove_rating", "Removed quarantined rating"


class ModeratorAction(models.Model):
    """One moderator decision. Written by `moderation.actions` only, never edited."""

    moderator = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=ModeratorActionKind.choices)
    comment = models.ForeignKey(
        "ratings.Comment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rating = models.ForeignKey(
        "ratings.Rating", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    physician = models.ForeignKey(
        "accounts.PhysicianProfile",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reason = models.CharField(max_length=500)
    details = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]
