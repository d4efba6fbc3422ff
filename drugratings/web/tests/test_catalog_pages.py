"""Catalogue pages render for visitors and members; scores only for signed-in users."""

from __future__ import annotations

import pytest

from drugratings.analytics.models import DrugViewDaily
from drugratings.ratings.models import Rating


@pytest.fixture
def rated(small_catalog, personas):
    Rating.objects.create(
        physician=personas.verified.physician,
        drug=small_catalog.atorvastatin,
        indication=small_catalog.hyperlipidemia,
        efficacy=4,
        safety=3,
    )
    return small_catalog


def test_the_home_page_shows_search_and_figures(rated, client):
    page = client.get("/")
    assert page.status_code == 200
    assert b'role="search"' in page.content
    assert b"1 rating of 4 prescription drugs by 2 verified physicians" in page.content


def test_search_finds_a_brand_and_links_to_the_drug(rated, client):
    page = client.get("/search/", {"q": "lipitor"})
    assert page.status_code == 200
    assert b"/drugs/atorvastatin-calcium/" in page.content


def test_suggestions_return_drugs_and_indications_as_json(rated, client):
    body = client.get("/search/suggest", {"q": "hyperlip"}).json()
    assert body["indications"][0]["name"] == "Hyperlipidemia"
    body = client.get("/search/suggest", {"q": "crestr"}).json()
    assert body["drugs"][0]["name"] == "rosuvastatin calcium"


def test_visitors_see_the_drug_but_not_its_scores(rated, client):
    page = client.get("/drugs/atorvastatin-calcium/")
    assert page.status_code == 200
    # Issue 13: scores are for verified physicians (not every signed-in member).
    assert b"Scores and comments are for verified physicians" in page.content
    assert b'class="dims"' not in page.content


def test_an_unverified_member_sees_the_drug_but_not_its_scores(rated, personas, web_as):
    page = web_as(personas.unverified).get("/drugs/atorvastatin-calcium/")
    assert page.status_code == 200
    assert b"Verify your licence" in page.content
    assert b'class="dims"' not in page.content and b"1 physician" not in page.content


def test_members_see_scores_distribution_and_count(rated, personas, web_as):
    page = web_as(personas.verified).get("/drugs/atorvastatin-calcium/")
    assert page.status_code == 200
    assert b'class="dims"' in page.content and b"1 physician" in page.content


def test_a_drug_page_view_is_counted_per_day_without_the_viewer(rated, client):
    from drugratings.analytics.actions import flush_drug_views

    client.get("/drugs/atorvastatin-calcium/")
    client.get("/drugs/atorvastatin-calcium/")
    flush_drug_views()
    row = DrugViewDaily.objects.get(drug=rated.atorvastatin)
    assert row.views == 2
    assert {f.name for f in DrugViewDaily._meta.get_fields()} == {"id", "drug", "day", "views"}


def test_indication_and_class_pages_compare_drugs(rated, personas, web_as):
    client = web_as(personas.verified)
    page = client.get("/indications/hyperlipidemia/")
    assert page.status_code == 200 and b"rosuvastatin" in page.content.lower()
    page = client.get("/classes/statin/")
    assert page.status_code == 200 and b"Rosuvastatin" in page.content


def test_unknown_pages_are_404(rated, client):
    assert client.get("/drugs/no-such-drug/").status_code == 404
    assert client.get("/indications/no-such/").status_code == 404


def test_pages_carry_a_content_security_policy(rated, client):
    page = client.get("/")
    assert "script-src 'self'" in page["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]
