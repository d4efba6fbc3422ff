"""Admin: the catalogue, and the official information panel that only administrators edit."""

from __future__ import annotations

from django.contrib import admin

from drugratings.accounts.access import Capability
from drugratings.accounts.admin_access import CapabilityAdminMixin
from drugratings.catalog.models import (
    CatalogAudit,
    CatalogCorrection,
    Drug,
    DrugClass,
    Indication,
    OfficialDrugInfo,
)


class OfficialInfoInline(admin.StackedInline):
    model = OfficialDrugInfo
    fields = ("label_url", "approval_date", "summary")
    extra = 0
    max_num = 1


@admin.register(Drug)
class DrugAdmin(CapabilityAdminMixin, admin.ModelAdmin):
    view_capability = Capability.MODERATE
    list_display = ("generic_name", "drug_class", "manufacturer", "approval_status", "is_listed")
    search_fields = ("generic_name", "search_text")
    list_filter = ("approval_status", "is_listed")
    readonly_fields = (
        "source_id",
        "moiety_key",
        "search_text",
        "brand_names",
        "manufacturers",
        "application_numbers",
    )
    autocomplete_fields = ("drug_class",)
    filter_horizontal = ()
    exclude = ("other_classes", "indications")
    inlines = (OfficialInfoInline,)

    def save_formset(self, request, form, formset, change) -> None:
        for instance in formset.save(commit=False):
            instance.updated_by = request.user
            instance.save()
        formset.save_m2m()


@admin.register(DrugClass)
class DrugClassAdmin(CapabilityAdminMixin, admin.ModelAdmin):
    view_capability = Capability.MODERATE
    search_fields = ("name",)
    list_display = ("name", "source")


@admin.register(Indication)
class IndicationAdmin(CapabilityAdminMixin, admin.ModelAdmin):
    view_capability = Capability.MODERATE
    search_fields = ("name", "search_text")
    list_display = ("name", "icd10_display", "doid")


class _ReadOnly(CapabilityAdminMixin, admin.ModelAdmin):
    """Moderators read these here; they change them only through the audited queue."""

    view_capability = Capability.MODERATE

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CatalogCorrection)
class CatalogCorrectionAdmin(_ReadOnly):
    list_display = ("drug", "indication", "action", "reference", "created_by", "created_at")
    search_fields = ("drug__generic_name", "indication__name")


@admin.register(CatalogAudit)
class CatalogAuditAdmin(_ReadOnly):
    list_display = ("at", "actor", "action", "drug")
    list_filter = ("action",)
