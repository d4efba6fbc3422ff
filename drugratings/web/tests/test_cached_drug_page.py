"""The drug page: its figures fragment is built once per (drug, version, kind of viewer, the
viewer's own rated indications) and reused; everything per user is assembled per request."""

from __future__ import annotations

import re

import pytest
from django.middleware.csrf import _unmask_cipher_token

from drugratings.ratings.models import Rating
from drugratings.web.views import catalog as views

PAGE = "/drugs/atorvastatin-calcium/"


@pytest.fixture
def builds(monkeypatch):
    """Counts builds of the figures (the work a cached fragment saves)."""
    calls: list[int] = []
    real = views._sections
    monkeypatch.setattr(views, "_sections", lambda *a: calls.append(1) or real(*a))
    return calls


def _rate(catalog, user, efficacy: int = 4) -> None:
    Rating.objects.update_or_create(
        physician=user.physician,
        drug=catalog.atorvastatin,
        indication=catalog.hyperlipidemia,
        defaults={"efficacy": efficacy, "safety": 3},
    )


def _rate_through_api(api_as, catalog, user) -> None:
    body = {
        "indication_id": catalog.hyperlipidemia.pk,
        "efficacy": 4, "safety": 5, "tolerability": 3, "accessibility": 2, "adherence": 4,
    }
    response = api_as(user).put(f"/api/v1/drugs/{catalog.atorvastatin.pk}/ratings/mine", body)
    assert response.status_code == 201


def _csrf_secrets(html: str) -> set[str]:
    tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert tokens, "the page carries no CSRF token"
    return {_unmask_cipher_token(t) for t in tokens}


def test_two_physicians_never_see_each_others_rating_links_csrf_or_handle(
    small_catalog, personas, web_as, api_as, builds
):
    _rate_through_api(api_as, small_catalog, personas.verified)
    rater, other = web_as(personas.verified), web_as(personas.other_verified)
    first = rater.get(PAGE).content.decode()
    second = other.get(PAGE).content.decode()
    # The rater's page links to their own rating; the other physician's page never does.
    assert "Edit your rating" in first
    assert "Edit your rating" not in second and "Rate for this indication" in second
    # Each page carries its own session's CSRF secret, never the other's.
    assert _csrf_secrets(first) == {rater.cookies["csrftoken"].value}
    assert _csrf_secrets(second) == {other.cookies["csrftoken"].value}
    assert rater.cookies["csrftoken"].value != other.cookies["csrftoken"].value
    # Asked again, each still sees only their own parts (now from the stored fragments).
    again = rater.get(PAGE).content.decode()
    assert "Edit your rating" in again
    assert _csrf_secrets(again) == {rater.cookies["csrftoken"].value}
    assert "Edit your rating" not in other.get(PAGE).content.decode()


def test_the_figures_fragment_is_built_once_and_rebuilt_after_a_rating(
    small_catalog, personas, web_as, api_as, builds
):
    _rate_through_api(api_as, small_catalog, personas.verified)
    viewer = web_as(personas.moderator)
    page = viewer.get(PAGE).content.decode()
    assert "1 physician" in page and "2 physicians" not in page
    assert len(builds) == 1
    viewer.get(PAGE)
    web_as(personas.admin).get(PAGE)  # same kind of viewer, same own ratings (none)
    assert len(builds) == 1
    _rate_through_api(api_as, small_catalog, personas.other_verified)
    page = viewer.get(PAGE).content.decode()
    assert len(builds) == 2
    assert "2 physicians" in page


def test_filters_and_viewer_kinds_get_their_own_fragments(
    small_catalog, personas, web_as, builds
):
    _rate(small_catalog, personas.verified)
    member = web_as(personas.moderator)
    member.get(PAGE)
    member.get(PAGE, {"window": "12m"})
    member.get(PAGE, {"all": "1"})
    assert len(builds) == 3
    pharma_page = web_as(personas.pharma).get(PAGE).content.decode()
    assert len(builds) == 4
    assert "You see the latest published release" in pharma_page
    # Release viewers never get the live distribution of the member's fragment.
    assert 'class="dist"' not in pharma_page
