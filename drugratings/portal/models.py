"""Pharma organisations, their subscriptions and analysts. Releases and reports build on these."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class PharmaOrganization(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(unique=True)
    is_active = models.BooleanField(default=True)
    # Covers every indication and class (used for the demo organisation and for enterprise plans).
    all_areas = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class Subscription(models.Model):
    """One area an organisation may see: an indication or a drug class."""

    organization = models.ForeignKey(
        PharmaOrganization, on_delete=models.CASCADE, related_name="subscriptions"
    )
    indication = models.ForeignKey(
        "catalog.Indication", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    drug_class = models.ForeignKey(
        "catalog.DrugClass", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    starts_on = models.DateField(default=timezone.now)
    ends_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(indication__isnull=False) & Q(drug_class__isnull=True))
                | (Q(indication__isnull=True) & Q(drug_class__isnull=False)),
                name="subscription_one_area",
            )
        ]


class PharmaAnalyst(models.Model):
    user = models.OneToOneField(
        "accounts.User", on_delete=models.CASCADE, related_name="pharma_analyst"
    )
    organization = models.ForeignKey(
        PharmaOrganization, on_delete=models.CASCADE, related_name="analysts"
    )
    display_name = models.CharField(max_length=120, blank=True)

    def __str__(self) -> str:
        return self.display_name or f"analyst #{self.pk}"
