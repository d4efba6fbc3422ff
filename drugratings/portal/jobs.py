"""The scheduled release job: publish a release every RELEASE_INTERVAL_SECONDS, then tell the
webhooks. Only one worker builds at a time (a lease in the database)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from drugratings.core.leases import claim_lease, release_lease
from drugratings.portal import actions, alerts
from drugratings.portal.included_order import keep_in_drug_order
from drugratings.portal.models import Release
from drugratings.portal.quarterly import generate_quarterly_reports
from drugratings.portal.releases import build_release


def release_due() -> bool:
    latest = Release.objects.order_by("-pk").values_list("published_at", flat=True).first()
    return latest is None or timezone.now() - latest >= timedelta(
        seconds=settings.RELEASE_INTERVAL_SECONDS
    )


def run_release_if_due() -> Release | None:
    if not release_due() or not claim_lease("release", 3600):
        return None
    try:
        release = build_release()
        keep_in_drug_order()  # under the lease: no release reads the table meanwhile
    finally:
        release_lease("release")
    actions.deliver_webhooks(release)
    alerts.deliver_alert_webhooks(release)
    alerts.send_digests()
    return release


def release_job() -> str | None:
    """The worker's step (registered in PortalConfig.ready): a release when one is due."""
    release = run_release_if_due()
    return (
        f"release #{release.pk}: {release.n_events} changes, {release.n_cells_changed} cells"
        if release
        else None
    )


def quarterly_job() -> str | None:
    """The worker's step (registered in PortalConfig.ready): PDF decks once a quarter ends.
    One worker at a time (the `quarterly` lease): two would render every deck twice and the
    second's inserts would be refused by the unique constraint."""
    if not claim_lease("quarterly", 3600):
        return None
    try:
        made = generate_quarterly_reports()
    finally:
        release_lease("quarterly")
    return f"{made} quarterly PDF report(s)" if made else None
