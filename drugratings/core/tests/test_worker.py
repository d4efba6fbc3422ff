"""The worker runs the debounced refit, the detectors and the scheduled release."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from drugratings.analytics.actions import request_refit
from drugratings.analytics.models import FitRun
from drugratings.portal.models import Release
from drugratings.ratings.models import Rating


def test_one_pass_of_the_worker_fits_and_releases(small_catalog, personas, settings):
    settings.REFIT_DEBOUNCE_SECONDS = 0
    for user in (personas.verified, personas.other_verified):
        Rating.objects.create(
            physician=user.physician,
            drug=small_catalog.atorvastatin,
            indication=small_catalog.hyperlipidemia,
            efficacy=4,
        )
    out = StringIO()
    call_command("worker", "--once", stdout=out)
    assert FitRun.objects.filter(is_current=True).count() == 1
    assert Release.objects.count() == 1
    assert "initial fit" in out.getvalue() and "release #" in out.getvalue()
    request_refit("rating")
    again = StringIO()
    call_command("worker", "--once", stdout=again)
    assert "refit #" in again.getvalue() and "quarantine case" in again.getvalue()
    assert Release.objects.count() == 1  # not due again yet


def test_the_worker_can_yield_the_cpu_to_the_web_server(db, monkeypatch):
    import os

    calls = []
    monkeypatch.setattr(os, "nice", lambda n: calls.append(n))
    call_command("worker", "--once", "--nice", "10", stdout=StringIO())
    assert calls == [10]
    call_command("worker", "--once", stdout=StringIO())
    assert calls == [10]  # not by default
