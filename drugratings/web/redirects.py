"""Redirect targets that come from a request (`next`, back links): our own site only."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_target(request: HttpRequest, fallback: str = "/") -> str:
    """The request's `next` (POST, then GET) if it stays on this site, else `fallback`.

    Django's check rejects what browsers treat as another host even though it starts with a
    slash: `//evil.example`, `/\\evil.example`, control characters and foreign schemes.
    """
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback
