"""Admin pages ask the same `access` layer as every other interface."""

from __future__ import annotations

from django.http import HttpRequest

from drugratings.accounts.access import Capability, can


class CapabilityAdminMixin:
    """Grant admin view/change rights by capability instead of per-model Django permissions."""

    view_capability: Capability = Capability.ADMINISTER
    change_capability: Capability = Capability.ADMINISTER
    allow_add = False
    allow_delete = False

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can(request.user, self.view_capability)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return can(request.user, self.view_capability)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return can(request.user, self.change_capability)

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self.allow_add and can(request.user, self.change_capability)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self.allow_delete and can(request.user, self.change_capability)
