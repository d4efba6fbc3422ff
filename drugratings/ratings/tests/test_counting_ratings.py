"""A suspended physician's ratings stop counting everywhere while the suspension lasts, and
count again once it is lifted (issue 10)."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from drugratings.accounts.actions import sync_specialties
from drugratings.analytics.access import drug_score_cells, public_figures
from drugratings.analytics.fitting import load_rating_arrays
from drugratings.analytics.models import RefitRequest
from drugratings.analytics.trends import monthly_trend
from drugratings.ratings.models import Rating
from drugratings.ratings.queries import scored_ratings
from drugratings.testing.catalog import make_small_catalog
from drugratings.testing.personas import make_physician, make_staff
from drugratings.trust.detection import rating_table
from drugratings.verification.actions import decide, suspend_deactivated
from drugratings.verification.models import Decision, RegistryRecord


def _rate(user, drug, indication, value: int) -> Rating:
    now = timezone.now()
    return Rating.objects.create(
        physician=user.physician,
        drug=drug,
        indication=indication,
        efficacy=value,
        safety=value,
        tolerability=value,
        accessibility=value,
        adherence=value,
        created_at=now,
        updated_at=now,
    )


@pytest.fixture
def rated(db):
    sync_specialties()
    catalog = make_small_catalog()
    doctors = [make_physician(f"doc{n}@count.test", npi=None) for n in range(4)]
    for user in doctors:
        _rate(user, catalog.atorvastatin, catalog.hyperlipidemia, 4)
    _rate(doctors[0], catalog.sertraline, catalog.depression, 2)
    return catalog, doctors


def _all_time_n(drug_id: int) -> int:
    cell = next(
        c
        for c in drug_score_cells(drug_id)
        if c.indication_id is None and c.dimension == "efficacy"
    )
    return cell.n_ratings


def _figures(catalog) -> dict[str, int]:
    from django.core.cache import cache

    cache.delete("public:figures")  # the public counts are cached for 10 s by design
    return {
        "drug_cells": _all_time_n(catalog.atorvastatin.pk),
        "public": public_figures()["ratings"],
        "fit_inputs": int(load_rating_arrays().drug.size),
        "detector_inputs": len(rating_table().rating_id),
        "trend": sum(
            p.n_raters for p in monthly_trend(catalog.atorvastatin.pk) if p.dimension == "efficacy"
        ),
    }


def test_a_suspension_takes_the_ratings_out_and_reinstatement_puts_them_back(rated):
    catalog, doctors = rated
    verifier = make_staff("verifier@staff.test", role="admin")
    before = _figures(catalog)
    assert before["drug_cells"] == 4 and before["public"] == 5 and before["fit_inputs"] == 5
    requests_before = RefitRequest.objects.count()

    decide(doctors[0].physician, Decision.SUSPENDED, "Licence under investigation", by=verifier)

    during = _figures(catalog)
    assert during["drug_cells"] == 3  # live cells follow at once: the drug's cache was bumped
    assert during["public"] == 3 and during["fit_inputs"] == 3
    assert during["detector_inputs"] == 3
    assert during["trend"] == before["trend"] - 1
    assert RefitRequest.objects.count() == requests_before + 1  # scores are refitted without them
    assert Rating.objects.filter(physician=doctors[0].physician).count() == 2  # kept, not deleted

    decide(doctors[0].physician, Decision.REINSTATED, "Investigation closed", by=verifier)

    assert _figures(catalog) == before
    assert RefitRequest.objects.count() == requests_before + 2


def test_a_registry_deactivation_suspends_and_the_ratings_stop_counting(rated):
    catalog, doctors = rated
    doctors[1].physician.identity.npi = "1234567893"
    doctors[1].physician.identity.save(update_fields=["npi"])
    RegistryRecord.objects.create(
        npi="1234567893", entity_type=1, deactivation_date=date(2026, 1, 15)
    )
    assert suspend_deactivated() == 1
    assert not scored_ratings().filter(physician=doctors[1].physician).exists()
    assert _all_time_n(catalog.atorvastatin.pk) == 3


def test_a_status_change_that_keeps_the_standing_asks_for_no_refit(rated):
    _, doctors = rated
    verifier = make_staff("verifier@staff.test", role="admin")
    before = RefitRequest.objects.count()
    decide(doctors[2].physician, Decision.VERIFIED, "Re-verified", by=verifier)
    assert RefitRequest.objects.count() == before
