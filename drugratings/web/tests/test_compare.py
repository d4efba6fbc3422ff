"""Comparisons: cards sorted by the picked dimension with a specialty filter kept in the URL,
and a head-to-head of two to four chosen drugs."""

from __future__ import annotations

import re

import pytest

from drugratings.accounts.models import Specialty
from drugratings.analytics.display import MIN_RATERS_SHOWN
from drugratings.ratings.models import Rating
from drugratings.testing.personas import make_physician


@pytest.fixture
def rated(small_catalog, personas):
    """Atorvastatin is better tolerated, rosuvastatin more effective; only a cardiologist rated
    sertraline (off-label) for hyperlipidemia."""
    other = personas.other_verified.physician
    extra = [
        make_physician(f"c{i}@doc.test", first_name="Cora", last_name=f"Compare{i}").physician
        for i in range(MIN_RATERS_SHOWN)
    ]
    for physician in (personas.verified.physician, other, *extra):
        Rating.objects.create(
            physician=physician,
            drug=small_catalog.atorvastatin,
            indication=small_catalog.hyperlipidemia,
            efficacy=3,
            tolerability=5,
        )
        Rating.objects.create(
            physician=physician,
            drug=small_catalog.rosuvastatin,
            indication=small_catalog.hyperlipidemia,
            efficacy=5,
            tolerability=2,
        )
    Rating.objects.create(
        physician=other,
        drug=small_catalog.sertraline,
        indication=small_catalog.hyperlipidemia,
        off_label=True,
        efficacy=1,
        tolerability=4,
    )
    return small_catalog


def order(html: str) -> list[str]:
    return re.findall(r'class="cmp-name" href="/drugs/([\w-]+)/', html)


def test_cards_follow_the_picked_dimension(rated, personas, web_as):
    client = web_as(personas.verified)
    by_efficacy = client.get("/indications/hyperlipidemia/", {"sort": "efficacy"}).content.decode()
    assert order(by_efficacy)[:2] == ["rosuvastatin-calcium", "atorvastatin-calcium"]
    by_tolerability = client.get(
        "/indications/hyperlipidemia/", {"sort": "tolerability"}
    ).content.decode()
    assert order(by_tolerability)[:2] == ["atorvastatin-calcium", "rosuvastatin-calcium"]
    assert '<option value="tolerability" selected>' in by_tolerability


def test_the_specialty_filter_is_kept_in_the_url(rated, personas, web_as):
    cardiology = Specialty.objects.get(slug="cardiology")
    html = (
        web_as(personas.verified)
        .get("/indications/hyperlipidemia/", {"sort": "tolerability", "specialty": cardiology.pk})
        .content.decode()
    )
    assert f'<option value="{cardiology.pk}" selected>' in html
    assert "specialty's ratings" in html


def test_a_class_page_can_be_sorted(rated, personas, web_as):
    client = web_as(personas.verified)
    html = client.get("/classes/statin/", {"sort": "tolerability"}).content.decode()
    assert order(html) == ["atorvastatin-calcium", "rosuvastatin-calcium"]
    html = client.get("/classes/statin/", {"sort": "efficacy"}).content.decode()
    assert order(html) == ["rosuvastatin-calcium", "atorvastatin-calcium"]


def test_bad_sort_and_specialty_fall_back(rated, personas, web_as):
    page = web_as(personas.verified).get(
        "/indications/hyperlipidemia/", {"sort": "nope", "specialty": "9" * 40, "page": "-1"}
    )
    assert page.status_code == 200


def test_head_to_head_of_three_drugs(rated, personas, web_as):
    page = web_as(personas.verified).get(
        "/compare/",
        {
            "drugs": ["atorvastatin-calcium", "rosuvastatin-calcium", "sertraline-hydrochloride"],
            "indication": rated.hyperlipidemia.pk,
        },
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('class="h2h-dim"') == 5
    assert html.count('class="h2h-cell"') == 15
    assert "for Hyperlipidemia" in html


def test_head_to_head_refuses_more_than_four(rated, personas, web_as):
    page = web_as(personas.verified).get(
        "/compare/", {"drugs": ["a", "b", "c", "d", "atorvastatin-calcium"]}
    )
    assert page.status_code == 400
    assert b"field: drugs" in page.content


def test_every_drug_page_links_to_a_head_to_head(rated, personas, web_as):
    html = web_as(personas.verified).get("/drugs/atorvastatin-calcium/").content.decode()
    assert "/compare/?drugs=atorvastatin-calcium" in html
    picker = web_as(personas.verified).get(
        "/compare/", {"drugs": "atorvastatin-calcium", "add": "crestor"}
    )
    assert picker.content.decode().count('class="h2h-dim"') == 5
