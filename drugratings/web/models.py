"""What the physician's web app keeps per user: saved drugs and notification settings."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class SavedDrug(models.Model):
    """A drug on a physician's personal list (also kept readable offline by the app)."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="saved_drugs")
    drug = models.ForeignKey("catalog.Drug", on_delete=models.CASCADE, related_name="+")
    saved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-saved_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "drug"], name="saved_drug_unique"),
        ]


class NotificationState(models.Model):
    """When a user last opened the notification centre, and their email digest choice."""

    user = models.OneToOneField(
        "accounts.User", on_delete=models.CASCADE, related_name="notification_state"
    )
    seen_at = models.DateTimeField(null=True, blank=True)
    digest = models.BooleanField(default=False)
    digest_sent_at = models.DateTimeField(null=True, blank=True)
