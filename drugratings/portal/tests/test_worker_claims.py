"""Several workers (or a worker and `manage.py send_digests`): each digest and each quarter's
decks are made by one of them only."""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import timezone

from drugratings.core.leases import claim_lease, release_lease
from drugratings.portal import alerts, jobs
from drugratings.portal.models import PharmaAnalyst, QuarterlyReport
from drugratings.portal.releases import build_release
from drugratings.portal.tests.conftest import add_physicians, rate


def _digest_due(world) -> PharmaAnalyst:
    """The analyst watches atorvastatin and a significant drop is published after their last
    digest's release."""
    org = world.analyst.pharma_analyst.organization
    org.manufacturers = ["Pfizer"]
    org.save(update_fields=["manufacturers"])
    first = build_release()
    for user in add_physicians(30, start=700):
        rate(user, world.catalog.atorvastatin, world.catalog.hyperlipidemia, 1)
    build_release()
    analyst = world.analyst.pharma_analyst
    analyst.digest_last_release = first
    analyst.digest_sent_at = None
    analyst.save(update_fields=["digest_last_release", "digest_sent_at"])
    return analyst


def test_a_digest_claimed_by_another_sender_is_not_sent_again(world):
    _digest_due(world)
    stale = PharmaAnalyst.objects.get(pk=world.analyst.pharma_analyst.pk)  # read before the send
    assert alerts.send_digests() == 1
    assert len(mail.outbox) == 1
    # A second worker that read the analyst before the first sent loses the claim.
    assert not alerts._claim_digest(stale, timezone.now())
    assert alerts.send_digests() == 0
    assert len(mail.outbox) == 1


def test_a_digest_whose_mail_failed_is_due_again(world, monkeypatch):
    analyst = _digest_due(world)

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(alerts, "send_mail", refuse)
    with pytest.raises(ConnectionRefusedError):
        alerts.send_digests()
    analyst.refresh_from_db()
    assert analyst.digest_sent_at is None  # the claim was given back
    monkeypatch.undo()
    assert alerts.send_digests() == 1
    assert "atorvastatin calcium" in mail.outbox[-1].body


def test_quarterly_decks_wait_while_another_worker_holds_the_lease(world):
    build_release()
    assert claim_lease("quarterly", 3600)  # another worker is rendering the decks
    assert jobs.quarterly_job() is None
    assert not QuarterlyReport.objects.exists()
    release_lease("quarterly")
    assert "quarterly PDF report" in (jobs.quarterly_job() or "")
    assert QuarterlyReport.objects.exists()
    assert claim_lease("quarterly", 3600)  # the job freed its lease when it ended
