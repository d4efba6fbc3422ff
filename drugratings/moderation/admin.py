from django.contrib import admin

from drugratings.accounts.access import Capability
from drugratings.accounts.admin_access import CapabilityAdminMixin
from drugratings.moderation.models import ModeratorAction


@admin.register(ModeratorAction)
class ModeratorActionAdmin(CapabilityAdminMixin, admin.ModelAdmin):
    """The audit trail of moderator decisions: read-only for everyone."""

    view_capability = Capability.MODERATE
    list_display = ("at", "moderator", "kind", "comment", "rating", "physician", "reason")
    list_filter = ("kind",)
    readonly_fields = [f.name for f in ModeratorAction._meta.fields]

    def has_change_permission(self, request, obj=None) -> bool:
        return False
