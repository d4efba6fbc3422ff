"""Write every pharma request to the audit log: who, what, which release, when."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from drugratings.accounts.access import Capability, can
from drugratings.portal import actions

_SKIP = ("/static/", "/healthz")


class PortalAuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # Bearer authentication replaces request.user inside the API view, so look afterwards.
        user = getattr(request, "user", None)
        if (
            user is not None
            and can(user, Capability.USE_PORTAL)
            and not request.path.startswith(_SKIP)
        ):
            actions.log_request(
                user,
                request.method or "",
                request.path,
                request.META.get("QUERY_STRING", ""),
                response.status_code,
                getattr(request, "portal_release", None),
                getattr(request, "api_token", None),
            )
        return response
