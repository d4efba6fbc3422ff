"""Alerts: published moves of watched drugs whose 95% interval of change excludes zero, told on
the alerts page, as webhook `alert` events and in a daily or weekly email digest."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from drugratings.portal import outbound
from drugratings.portal.actions import changes_url, signature
from drugratings.portal.areas import drug_labels, indication_names, visible_drug_ids
from drugratings.portal.changes import Change, changes_between
from drugratings.portal.models import (
    DigestFrequency,
    PharmaAnalyst,
    PharmaOrganization,
    Release,
    Webhook,
)
from drugratings.portal.portfolio import watched_drug_ids

MAX_RELEASES = 100  # one request looks at most this many releases; page with `since`
DIGEST_EVERY = {DigestFrequency.DAILY: timedelta(days=1), DigestFrequency.WEEKLY: timedelta(days=7)}


@dataclass(frozen=True)
class Alert:
    release_id: int
    change: Change

    def as_dict(self) -> dict:
        move = self.change.move
        assert move is not None
        return {
            "release_id": self.release_id,
            **self.change.as_dict(),
            "delta": move.delta,
            "ci_low": move.ci_low,
            "ci_high": move.ci_high,
        }


def watched_visible(org: PharmaOrganization) -> set[int]:
    watched = watched_drug_ids(org)
    visible = visible_drug_ids(org)
    return watched if visible is None else watched & visible


def alerts_in(release: Release, drug_ids: set[int]) -> list[Alert]:
    """Significant moves a release published, against the release before it."""
    if not drug_ids:
        return []
    previous = Release.objects.filter(pk__lt=release.pk).order_by("-pk").first()
    if previous is None:
        return []  # a first publication is not a move
    return [
        Alert(release.pk, change)
        for change in changes_between(previous, release, drug_ids)
        if change.move is not None and change.move.significant
    ]


def alerts_since(org: PharmaOrganization, since: int) -> list[Alert]:
    drug_ids = watched_visible(org)
    out: list[Alert] = []
    for release in Release.objects.filter(pk__gt=since).order_by("pk")[:MAX_RELEASES]:
        out += alerts_in(release, drug_ids)
    return out


def describe(alerts: list[Alert]) -> list[dict]:
    """Alerts with names, for pages, emails and webhook bodies."""
    labels = drug_labels({a.change.drug_id for a in alerts})
    names = indication_names({a.change.indication_id for a in alerts})
    return [
        {
            **a.as_dict(),
            "drug_name": labels[a.change.drug_id].drug_name,
            "brand_names": list(labels[a.change.drug_id].brand_names),
            "indication_name": names.get(a.change.indication_id or 0),
        }
        for a in alerts
    ]


def _post(hook: Webhook, event: str, body: bytes) -> str:
    """Through the SSRF guard, like release webhooks: the address is checked again at delivery
    (its DNS answer may have changed since it was saved), failures are recorded, never raised."""
    timestamp = int(time.time())
    return outbound.post(
        hook.url,
        body,
        {
            "Content-Type": "application/json",
            "X-DrugRatings-Signature": signature(hook.secret, timestamp, body),
            "X-DrugRatings-Event": event,
        },
        timeout=settings.PORTAL_WEBHOOK_TIMEOUT_SECONDS,
    )


def deliver_alert_webhooks(release: Release) -> int:
    """POST an `alert` event to each webhook that subscribes to alerts and whose organisation
    has alerts in this release; returns deliveries made."""
    sent = 0
    for hook in Webhook.objects.filter(is_active=True).select_related("organization"):
        if "alert" not in (hook.events or []) or not hook.organization.is_active:
            continue
        found = alerts_in(release, watched_visible(hook.organization))
        if not found:
            continue
        body = json.dumps(
            {
                "type": "alert",
                "release_id": release.pk,
                "n_cells_changed": release.n_cells_changed,
                "changes_url": changes_url(release),
                "alerts": describe(found),
            }
        ).encode()
        status = _post(hook, "alert", body)
        hook.last_status = status[:100]
        hook.save(update_fields=["last_status"])
        sent += status.startswith("HTTP 2")
    return sent


def send_digests(now: datetime | None = None) -> int:
    """Email each analyst who wants a digest and is due one the alerts since their last."""
    now = now or timezone.now()
    latest = Release.objects.order_by("-pk").first()
    if latest is None:
        return 0
    sent = 0
    analysts = (
        PharmaAnalyst.objects.exclude(digest=DigestFrequency.OFF)
        .filter(organization__is_active=True, user__is_active=True)
        .select_related("organization", "user")
    )
    for analyst in analysts:
        every = DIGEST_EVERY[analyst.digest]
        if analyst.digest_sent_at and now - analyst.digest_sent_at < every:
            continue
        if not _claim_digest(analyst, now):
            continue  # another worker (or `manage.py send_digests`) is sending this one
        since = analyst.digest_last_release_id or max(latest.pk - 1, 0)
        found = describe(alerts_since(analyst.organization, since))
        if found:
            lines = [
                f"- {a['drug_name']}"
                + (f" for {a['indication_name']}" if a["indication_name"] else "")
                + f", {a['dimension']}"
                + (f" ({a['breakdown']} {a['breakdown_value']})" if a["breakdown"] else "")
                + f": {a['delta']:+.2f} (95% interval {a['ci_low']:+.2f} to {a['ci_high']:+.2f}),"
                f" release #{a['release_id']}"
                for a in found
            ]
            try:
                send_mail(
                    f"Drug Ratings: {len(found)} significant moves",
                    "Published moves whose 95% interval of change excludes zero, for the drugs "
                    "your organisation watches:\n\n"
                    + "\n".join(lines)
                    + "\n\nSwitch this digest off or change its frequency on the portal's alerts "
                    "page.",
                    settings.DEFAULT_FROM_EMAIL,
                    [analyst.user.email],
                )
            except Exception:
                _unclaim_digest(analyst, now)
                raise
            sent += 1
        analyst.digest_sent_at = now
        analyst.digest_last_release = latest
        analyst.save(update_fields=["digest_sent_at", "digest_last_release"])
    return sent


def _claim_digest(analyst: PharmaAnalyst, now: datetime) -> bool:
    """Take this digest: a conditional UPDATE from the send time this process read, so when
    two workers (or a worker and the command) reach the same analyst only one sends it."""
    claimed = PharmaAnalyst.objects.filter(
        pk=analyst.pk, digest_sent_at=analyst.digest_sent_at
    ).update(digest_sent_at=now)
    return bool(claimed)


def _unclaim_digest(analyst: PharmaAnalyst, now: datetime) -> None:
    """The mail failed: the digest is due again (only if nobody claimed it since)."""
    PharmaAnalyst.objects.filter(pk=analyst.pk, digest_sent_at=now).update(
        digest_sent_at=analyst.digest_sent_at
    )
