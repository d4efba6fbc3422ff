from django.contrib import admin

from drugratings.accounts.access import Capability
from drugratings.accounts.admin_access import CapabilityAdminMixin
from drugratings.trust.models import InterestDeclaration, OpenPayment, QuarantineCase


@admin.register(QuarantineCase)
class QuarantineCaseAdmin(CapabilityAdminMixin, admin.ModelAdmin):
    """Read-only here: decisions go through the moderation page, which audits them."""

    view_capability = Capability.MODERATE
    list_display = ("id", "detector", "score", "status", "created_at", "decided_by")
    list_filter = ("status", "detector")
    readonly_fields = (
        "detector",
        "score",
        "reason",
        "status",
        "created_at",
        "decided_by",
        "decided_at",
        "decision_reason",
    )
    exclude = ("ratings", "physicians")


@admin.register(InterestDeclaration)
class InterestDeclarationAdmin(CapabilityAdminMixin, admin.ModelAdmin):
    view_capability = Capability.MODERATE
    list_display = ("physician", "company", "kind", "starts_on", "ends_on")
    search_fields = ("company",)


@admin.register(OpenPayment)
class OpenPaymentAdmin(CapabilityAdminMixin, admin.ModelAdmin):
    view_capability = Capability.MODERATE
    list_display = ("record_id", "manufacturer", "amount_usd", "paid_on", "program_year")
    search_fields = ("manufacturer", "record_id")
