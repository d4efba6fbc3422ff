"""The drug page: the indication asked for first, label links with sources, filters kept."""

from __future__ import annotations

import pytest

from drugratings.catalog.models import DrugIndication
from drugratings.ratings.models import Comment, Rating

DRUG = "/drugs/atorvastatin-calcium/"


@pytest.fixture
def rated(small_catalog, personas):
    me = personas.verified.physician
    for indication in (small_catalog.hyperlipidemia, small_catalog.migraine):
        rating = Rating.objects.create(
            physician=me, drug=small_catalog.atorvastatin, indication=indication, efficacy=4
        )
    for i in range(12):
        Comment.objects.create(
            physician=personas.other_verified.physician,
            drug=small_catalog.atorvastatin,
            indication=small_catalog.migraine,
            rating=rating if i == 0 else None,
            body=f"Observation number {i}.",
        )
    return small_catalog


def first_screen(html: str) -> str:
    return html[html.index('id="scores"') : html.index('id="mine"')]


def test_the_indication_asked_for_comes_first(rated, personas, web_as):
    client = web_as(personas.other_verified)
    html = client.get(DRUG, {"indication": rated.migraine.pk}).content.decode()
    assert "Migraine" in first_screen(html)
    assert first_screen(html).count('class="fs"') == 5
    html = client.get(DRUG).content.decode()
    assert "All indications" in first_screen(html)


def test_a_bad_indication_falls_back_to_all(rated, personas, web_as):
    page = web_as(personas.other_verified).get(DRUG, {"indication": "9" * 30})
    assert page.status_code == 200
    assert "All indications" in first_screen(page.content.decode())


def test_dailymed_link_and_labelled_indications_with_their_source(rated, client):
    DrugIndication.objects.filter(indication=rated.hyperlipidemia).update(source="FDA label 2024")
    html = client.get(DRUG).content.decode()
    assert (
        "https://dailymed.nlm.nih.gov/dailymed/search.cfm?labeltype=all&amp;query=atorvastatin+calcium"
        in html
    )
    assert "source: FDA label 2024" in html


def test_more_comments_keeps_every_filter(rated, personas, web_as):
    html = (
        web_as(personas.other_verified)
        .get(
            DRUG,
            {"sort": "newest", "comments_for": rated.migraine.pk, "specialty": 1, "window": "12m"},
        )
        .content.decode()
    )
    more = html[html.index("More comments") - 200 : html.index("More comments")]
    for part in ("sort=newest", f"comments_for={rated.migraine.pk}", "specialty=1", "comments=30"):
        assert part in more, part


def test_my_ratings_are_listed_with_edit_and_withdraw(rated, personas, web_as):
    html = web_as(personas.verified).get(DRUG).content.decode()
    mine = html[html.index('id="mine"') :][:4000]
    assert f"rate/?indication={rated.migraine.pk}" in mine
    assert f"withdraw/?indication={rated.hyperlipidemia.pk}" in mine
