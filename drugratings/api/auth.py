"""API authentication: bearer tokens (sign-in tokens and portal API keys) or the browser session."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from drugratings.accounts.access import signed_in_user
from drugratings.accounts.middleware import SESSION_KEY
from drugratings.accounts.models import ApiToken
from drugratings.core.rows import one_row

_TOUCH_EVERY = timedelta(minutes=1)


class BearerToken(HttpBearer):
    openapi_scheme = "bearer"

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        record = one_row(ApiToken, digest=ApiToken.digest_of(token))
        if record is None:
            return None
        now = timezone.now()
        if not record.is_usable(now):
            return None
        user = signed_in_user(record.user_id)
        if user is None or not user.is_active:
            return None
        record.user = user
        if record.last_used_at is None or now - record.last_used_at > _TOUCH_EVERY:
            ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
        request.user = record.user
        request.api_token = record  # type: ignore[attr-defined]
        return record.user


class BrowserSession(SessionAuth):
    """The signed-in browser session (CSRF-checked on writes), after two-factor where required."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        if not user.is_authenticated:
            return None
        if user.needs_two_factor and not request.session.get(SESSION_KEY):
            return None
        request.api_token = None  # type: ignore[attr-defined]
        return user


SIGNED_IN = [BearerToken(), BrowserSession()]
