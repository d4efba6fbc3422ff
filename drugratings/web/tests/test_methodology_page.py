"""Issue 14: the methodology page shows the current fit's diagnostics."""

from __future__ import annotations

import random

import pytest

from drugratings.analytics.fitting import refit_scores
from drugratings.ratings.models import Rating
from drugratings.testing.personas import make_physician


@pytest.fixture
def fitted(small_catalog):
    rng = random.Random(5)
    for n in range(40):
        user = make_physician(f"m{n}@x.test")
        for drug, ind in (
            (small_catalog.atorvastatin, small_catalog.hyperlipidemia),
            (small_catalog.rosuvastatin, small_catalog.hyperlipidemia),
            (small_catalog.sertraline, small_catalog.depression),
        ):
            value = rng.choice((2, 3, 3, 4, 4, 5))
            Rating.objects.create(
                physician=user.physician, drug=drug, indication=ind, efficacy=value, safety=value
            )
    return refit_scores()


def test_page_without_a_fit_says_so(client, db):
    page = client.get("/methodology/")
    assert page.status_code == 200
    assert "No fit has run yet" in page.content.decode()


def test_page_shows_the_current_fits_diagnostics(client, fitted):
    body = client.get("/methodology/").content.decode()
    assert "Diagnostics of the current fit" in body
    assert "Method <strong>REML</strong>" in body and "converged" in body
    assert "Variance components" in body and "120 ratings of 3 drugs by 40 raters" in body
    assert body.count("<svg") == 5  # residuals, 2 QQ plots, shrinkage, specialty effects
    assert 'aria-current="page">Efficacy' in body
    assert "</article>" in body  # the methodology text is still there


def test_each_dimension_has_its_own_tab(client, fitted):
    body = client.get("/methodology/", {"dimension": "safety"}).content.decode()
    assert 'aria-current="page">Safety' in body and "<h3>Safety</h3>" in body


def test_unknown_dimension_is_a_400_naming_the_field(client, fitted):
    page = client.get("/methodology/", {"dimension": "price"})
    assert page.status_code == 400
    assert "dimension: choose one of efficacy, safety" in page.content.decode()
