"""Writes of the portal: API keys, webhooks, the request audit log, and webhook delivery."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time

from django.conf import settings
from django.db import DatabaseError
from django.http import Http404

from drugratings.accounts import actions as account_actions
from drugratings.accounts.access import Capability, can, require
from drugratings.accounts.models import ApiToken, TokenKind, User
from drugratings.dblocks import short_lock_wait
from drugratings.errors import InvalidInput
from drugratings.portal import outbound
from drugratings.portal.models import PortalRequest, Release, Webhook

API_KEY_SCOPES = ("reports:read", "releases:read")
AUDIT_LOCK_WAIT_SECONDS = 2.0
log = logging.getLogger(__name__)


def log_request(
    user: User | None,
    method: str,
    path: str,
    query: str,
    status: int,
    release: Release | None,
    api_token: ApiToken | None,
) -> None:
    organization = None
    if can(user, Capability.USE_PORTAL):
        analyst = getattr(user, "pharma_analyst", None)
        organization = analyst.organization if analyst else None
    row = PortalRequest(
        user=user if user is not None and user.is_authenticated else None,
        organization=organization,
        method=method[:8],
        path=path[:300],
        query=query[:500],
        status=status,
        release=release,
        api_key_prefix=api_token.prefix
        if api_token and api_token.kind == TokenKind.API_KEY
        else "",
    )
    # Best effort: the audit row must never turn the answer into a 5xx or hold it up while the
    # worker writes. A row that cannot be stored within AUDIT_LOCK_WAIT_SECONDS goes to the log
    # in full instead, so the record survives.
    try:
        with short_lock_wait(AUDIT_LOCK_WAIT_SECONDS):
            row.save()
    except DatabaseError:
        log.warning(
            "portal audit row not stored: user=%s org=%s %s %s?%s status=%s release=%s key=%s",
            row.user_id,
            row.organization_id,
            row.method,
            row.path,
            row.query,
            row.status,
            row.release_id,
            row.api_key_prefix,
            exc_info=True,
        )


def create_api_key(user: User, name: str, days: int, scopes: list[str]) -> tuple[ApiToken, str]:
    require(user, Capability.USE_PORTAL)
    if not name.strip():
        raise InvalidInput("name", "Name the key after the integration that will use it.")
    if not 1 <= days <= 366:
        raise InvalidInput("days", "Keys last between 1 and 366 days.")
    unknown = [s for s in scopes if s not in API_KEY_SCOPES]
    if unknown or not scopes:
        raise InvalidInput("scopes", f"Choose from: {', '.join(API_KEY_SCOPES)}.")
    return account_actions.issue_token(
        user, TokenKind.API_KEY, days=days, name=name.strip()[:80], scopes=scopes
    )


def revoke_api_key(user: User, key_id: int) -> None:
    require(user, Capability.USE_PORTAL)
    key = ApiToken.objects.filter(
        pk=key_id,
        kind=TokenKind.API_KEY,
        user__pharma_analyst__organization=user.pharma_analyst.organization,
    ).first()
    if key is None:
        raise Http404("No such key in your organisation.")
    account_actions.revoke_token(key)


WEBHOOK_EVENTS = ("release", "alert")


def create_webhook(user: User, url: str, events: list[str] | None = None) -> tuple[Webhook, str]:
    require(user, Capability.USE_PORTAL)
    events = list(dict.fromkeys(events or ["release"]))
    if any(e not in WEBHOOK_EVENTS for e in events):
        raise InvalidInput("events", f"Choose from: {', '.join(WEBHOOK_EVENTS)}.")
    url = outbound.check_for_saving(url.strip())
    secret = secrets.token_hex(32)
    hook = Webhook.objects.create(
        organization=user.pharma_analyst.organization, url=url, secret=secret, events=events
    )
    return hook, secret


def delete_webhook(user: User, hook_id: int) -> None:
    require(user, Capability.USE_PORTAL)
    deleted, _ = Webhook.objects.filter(
        pk=hook_id, organization=user.pharma_analyst.organization
    ).delete()
    if not deleted:
        raise Http404("No such webhook in your organisation.")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: receivers recompute and compare,
    and reject old timestamps to stop replays."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def changes_url(release: Release) -> str:
    """Where a client reads what this release changed since the one before it."""
    previous = Release.objects.filter(pk__lt=release.pk).order_by("-pk").first()
    since = previous.pk if previous else 0
    return f"/api/v1/portal/changes?since={since}&until={release.pk}"


def release_event(release: Release) -> dict:
    return {
        "type": "release.published",
        "release_id": release.pk,
        "n_cells_changed": release.n_cells_changed,
        "changes_url": changes_url(release),
        "release": {
            "id": release.pk,
            "published_at": release.published_at.isoformat(),
            "n_cells_published": release.n_cells_published,
            "n_cells_changed": release.n_cells_changed,
            "url": f"/api/v1/portal/releases/{release.pk}",
        },
    }


def deliver_webhooks(release: Release) -> int:
    """POST the release event to every active webhook not yet told of it; returns deliveries."""
    body = json.dumps(release_event(release)).encode()
    sent = 0
    hooks = Webhook.objects.filter(is_active=True).exclude(last_release_sent=release)
    for hook in hooks.select_related("organization"):
        if not hook.organization.is_active:
            continue
        timestamp = int(time.time())
        # Checked again here, not only when saved: the name's DNS answer may have changed.
        # Failures are recorded, not raised: the next release retries.
        status = outbound.post(
            hook.url,
            body,
            {
                "Content-Type": "application/json",
                "X-DrugRatings-Signature": signature(hook.secret, timestamp, body),
                "X-DrugRatings-Event": "release.published",
            },
            timeout=settings.PORTAL_WEBHOOK_TIMEOUT_SECONDS,
        )
        if status.startswith("HTTP 2"):
            hook.last_release_sent = release
            sent += 1
        hook.last_status = status[:100]
        hook.save(update_fields=["last_release_sent", "last_status"])
    return sent
