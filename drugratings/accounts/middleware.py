"""Staff and pharma sessions must pass a second factor before they reach any page."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

SESSION_KEY = "two_factor_verified"
_OPEN_PREFIXES = ("/static/", "/api/", "/accounts/two-factor/", "/accounts/logout/", "/healthz")


class TwoFactorRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.needs_two_factor
            and not request.session.get(SESSION_KEY)
            and not request.path.startswith(_OPEN_PREFIXES)
        ):
            target = reverse("web:two_factor")
            return HttpResponseRedirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
