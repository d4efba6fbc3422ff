"""Admin: organisations and subscriptions, releases, and the pharma request audit log."""

from __future__ import annotations

import csv

from django.contrib import admin
from django.http import HttpResponse

from drugratings.accounts.admin_access import CapabilityAdminMixin
from drugratings.portal.models import (
    PharmaAnalyst,
    PharmaOrganization,
    PortalRequest,
    Release,
    Subscription,
    Webhook,
)


class SubscriptionInline(admin.TabularInline):
    model = Subscription
    extra = 1
    autocomplete_fields = ("indication", "drug_class")


class AnalystInline(admin.TabularInline):
    model = PharmaAnalyst
    extra = 0
    raw_id_fields = ("user",)


@admin.register(PharmaOrganization)
class OrganizationAdmin(CapabilityAdminMixin, admin.ModelAdmin):
    allow_add = True
    list_display = ("name", "is_active", "all_areas", "created_at")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}
    inlines = (SubscriptionInline, AnalystInline)


@admin.register(Release)
class ReleaseAdmin(CapabilityAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "published_at",
        "n_events",
        "n_deferred",
        "n_cells_changed",
        "n_cells_published",
        "build_seconds",
    )
    readonly_fields = [f.name for f in Release._meta.fields]


@admin.register(Webhook)
class WebhookAdmin(CapabilityAdminMixin, admin.ModelAdmin):
    list_display = ("organization", "url", "is_active", "last_status")
    exclude = ("secret",)


@admin.action(description="Export selected requests as CSV")
def export_requests(modeladmin, request, queryset) -> HttpResponse:
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="pharma-requests.csv"'
    writer = csv.writer(response)
    writer.writerow(
        ["at", "user", "organization", "api_key", "method", "path", "query", "release", "status"]
    )
    for r in queryset.select_related("user", "organization"):
        writer.writerow(
            [
                r.at.isoformat(),
                r.user.email if r.user else "",
                r.organization.name if r.organization else "",
                r.api_key_prefix,
                r.method,
                r.path,
                r.query,
                r.release_id or "",
                r.status,
            ]
        )
    return response


@admin.register(PortalRequest)
class PortalRequestAdmin(CapabilityAdminMixin, admin.ModelAdmin):
    list_display = ("at", "user", "organization", "method", "path", "query", "release", "status")
    list_filter = ("organization", "status", "method")
    search_fields = ("path", "user__email", "api_key_prefix")
    date_hierarchy = "at"
    actions = (export_requests,)
    readonly_fields = [f.name for f in PortalRequest._meta.fields]

    def has_change_permission(self, request, obj=None) -> bool:
        return False
