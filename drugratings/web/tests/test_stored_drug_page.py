"""The drug page's body is stored once per (drug, versions, kind of viewer, filters, language) and
stitched with each reader's own parts. Readers of a kind share one build; no kind of viewer sees
another kind's figures, no reader another reader's parts; a write that changes what the page
shows is on the page as soon as it has returned, and nothing else rebuilds it. Every test runs
on each cache backend the settings can choose (Redis only where REDIS_URL is set)."""

from __future__ import annotations

import os
import re

import pytest
from django.core.cache import cache
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client

from drugratings.moderation import actions as moderation
from drugratings.portal.releases import build_release
from drugratings.portal.tests.conftest import add_physicians, rate
from drugratings.ratings.models import Comment
from drugratings.ratings.versions import bump, bump_comments
from drugratings.testing.catalog import make_small_catalog
from drugratings.testing.personas import make_physician
from drugratings.web import drug_body, shell, stitching

PAGE = "/drugs/atorvastatin-calcium/"
SCORES = {"efficacy": 4, "safety": 5, "tolerability": 3, "accessibility": 2, "adherence": 4}
BACKENDS = {
    "locmem": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "stored-drug-page",
    },
    "database": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "drugratings_cache",
    },
    "redis": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": os.environ.get("REDIS_URL", ""),
        "KEY_PREFIX": "stored-drug-page-test",
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
    },
}


@pytest.fixture(autouse=True, params=list(BACKENDS))
def backend(request, settings, db) -> str:
    if request.param == "redis" and not os.environ.get("REDIS_URL"):
        pytest.skip("REDIS_URL is not set")
    settings.CACHES = {"default": BACKENDS[request.param]}
    cache.clear()
    yield request.param
    cache.clear()


@pytest.fixture
def builds(monkeypatch) -> list:
    """The viewer of every body built (the work a stored body saves)."""
    calls: list = []
    real = drug_body.build
    monkeypatch.setattr(drug_body, "build", lambda *a: calls.append(a[2]) or real(*a))
    return calls


def rate_through_api(api_as, catalog, user, comment: str | None = None, efficacy: int = 4):
    body = {"indication_id": catalog.hyperlipidemia.pk, **SCORES, "efficacy": efficacy}
    if comment:
        body["comment"] = comment
    answer = api_as(user).put(f"/api/v1/drugs/{catalog.atorvastatin.pk}/ratings/mine", body)
    assert answer.status_code in (200, 201), answer.content
    return answer.json()


def page_of(client, **params) -> str:
    html = client.get(PAGE, params).content.decode()
    assert not stitching.leftover(html), "a marker reached the browser"
    return html


def csrf_secrets(html: str) -> set[str]:
    return {
        _unmask_cipher_token(t) for t in re.findall(r'csrfmiddlewaretoken" value="(\w+)"', html)
    }


def without_tokens(html: str) -> str:
    return re.sub(r'csrfmiddlewaretoken" value="\w+"', "", html)


def test_readers_of_a_kind_share_one_build_and_each_keeps_their_own_parts(
    small_catalog, personas, api_as, web_as, builds
):
    rate_through_api(api_as, small_catalog, personas.verified, "Myalgia in older patients.")
    rater, other = web_as(personas.verified), web_as(personas.other_verified)
    mine, theirs = page_of(rater), page_of(other)
    assert len(builds) == 1  # one body for both verified physicians
    assert "Your ratings of Atorvastatin calcium" in mine
    assert "Rate for another indication" in mine and "Rate this drug" not in mine
    assert "You have not rated Atorvastatin calcium" in theirs and "Rate this drug" in theirs
    # The rater's own comment takes no vote from them; the colleague may vote and reply.
    comment = Comment.objects.get(physician=personas.verified.physician)
    assert f"/comments/{comment.pk}/helpful/" not in mine
    assert f"/comments/{comment.pk}/helpful/" in theirs and "Send reply" in theirs
    # Each page carries its own session's CSRF secret, and only that.
    assert csrf_secrets(mine) == {rater.cookies["csrftoken"].value}
    assert csrf_secrets(theirs) == {other.cookies["csrftoken"].value}
    assert rater.cookies["csrftoken"].value != other.cookies["csrftoken"].value


def test_no_kind_of_viewer_sees_another_kinds_figures(personas, web_as, builds):
    """Each kind's page is the same whether its body was built first or after every other
    kind's: nothing is shared across kinds. Pharma sees the release, the rest no figures."""
    physicians = add_physicians(12)
    catalog = _rated(physicians)
    build_release()
    readers = {
        "live": web_as(physicians[0]),
        "staff": web_as(personas.moderator),
        "release": web_as(personas.pharma),
        "pending": web_as(personas.pending),
        "anonymous": Client(),
    }
    alone = {}
    for name, client in readers.items():
        cache.clear()
        alone[name] = without_tokens(page_of(client))
    cache.clear()
    together = {name: without_tokens(page_of(client)) for name, client in readers.items()}
    assert together == alone
    assert "12 physicians" in alone["live"] and "12 physicians" in alone["staff"]
    assert "The latest published release" in alone["release"]
    for name in ("pending", "anonymous"):
        assert "Scores and comments are for verified physicians." in alone[name]
        assert 'class="first-scores"' not in alone[name]
    assert catalog.atorvastatin.display_name in alone["anonymous"]


def _rated(physicians):
    catalog = make_small_catalog()
    for n, user in enumerate(physicians):
        rate(user, catalog.atorvastatin, catalog.hyperlipidemia, 3 + n % 3)
    bump([catalog.atorvastatin.pk])
    return catalog


def test_a_rating_write_is_on_the_page_once_it_has_returned(
    small_catalog, personas, api_as, web_as, builds
):
    rate_through_api(api_as, small_catalog, personas.verified)
    reader = web_as(personas.moderator)
    assert "1 physician" in page_of(reader) and len(builds) == 1
    assert "1 physician" in page_of(reader) and len(builds) == 1
    rate_through_api(api_as, small_catalog, personas.other_verified)
    assert "2 physicians" in page_of(reader) and len(builds) == 2


def test_a_vote_is_on_the_page_at_once_and_leaves_the_figures_alone(
    small_catalog, personas, api_as, web_as, builds
):
    rate_through_api(api_as, small_catalog, personas.verified, "Works for most of my patients.")
    comment = Comment.objects.get(physician=personas.verified.physician)
    voter = web_as(personas.other_verified)
    drug_api = f"/api/v1/drugs/{small_catalog.atorvastatin.pk}"
    etag = api_as(personas.other_verified).get(drug_api)["ETag"]
    assert "<span data-count>0</span>" in page_of(voter)
    voted = api_as(personas.other_verified).post(f"/api/v1/comments/{comment.pk}/helpful")
    assert voted.json() == {"helpful_count": 1}
    page = page_of(voter)
    assert "<span data-count>1</span>" in page and 'aria-pressed="true" disabled' in page
    assert len(builds) == 2
    # The figures did not change: the drug API keeps its ETag.
    assert api_as(personas.other_verified).get(drug_api)["ETag"] == etag


def test_a_moderators_removal_is_on_the_page_at_once(
    small_catalog, personas, api_as, web_as, builds
):
    rate_through_api(api_as, small_catalog, personas.verified, "Ask me about dosing.")
    comment = Comment.objects.get(physician=personas.verified.physician)
    reader = web_as(personas.other_verified)
    assert "Ask me about dosing." in page_of(reader)
    moderation.remove(personas.moderator, comment.pk, "Off topic")
    assert "Ask me about dosing." not in page_of(reader)


def test_filters_and_languages_get_their_own_bodies_and_unrelated_writes_none(
    small_catalog, personas, api_as, web_as, builds
):
    rate_through_api(api_as, small_catalog, personas.verified)
    reader = web_as(personas.moderator)
    page_of(reader)
    page_of(reader, window="12m")
    page_of(reader, all="1")
    page_of(reader, sort="newest")
    assert len(builds) == 4
    page_of(reader, window="12m", junk="1")  # unknown parameters name nothing new
    assert len(builds) == 4
    spanish = reader.get(PAGE, headers={"Accept-Language": "es"}).content.decode()
    assert len(builds) == 5 and 'lang="es"' in spanish
    bump([small_catalog.sertraline.pk])
    bump_comments([small_catalog.sertraline.pk])
    page_of(reader)
    assert len(builds) == 5


def test_text_a_user_writes_cannot_open_a_hole(small_catalog, personas, api_as, web_as):
    forged = f"<!--{stitching._tag()}h:csrf:--> and <!--{stitching._tag()}h:mine:-->"
    rate_through_api(api_as, small_catalog, personas.verified, forged)
    other = web_as(personas.other_verified)
    html = page_of(other)
    assert "&lt;!--" in html
    assert len(csrf_secrets(html)) == 1
    assert html.count("Your ratings of") == 1  # the reader's own section, once


def test_a_stored_body_never_holds_a_readers_own_parts(
    small_catalog, personas, api_as, web_as, monkeypatch
):
    """What is stored for a kind of viewer is the same whoever caused the build."""
    rate_through_api(api_as, small_catalog, personas.verified, "Fine for most.")
    bodies: list[drug_body.StoredBody] = []
    real = drug_body.build
    monkeypatch.setattr(drug_body, "build", lambda *a: bodies.append(real(*a)) or bodies[-1])
    for user in (personas.verified, make_physician("third@doc.test")):
        cache.clear()
        web_as(user).get(PAGE)
    # Branch numbers differ from build to build; nothing else may.
    numbered = re.compile(rf"(<!--{stitching._tag()}[cez])\d+")
    first, second = (numbered.sub(r"\1", b.html) for b in bodies)
    assert first == second and bodies[0].authors == bodies[1].authors


def test_a_body_stored_by_another_release_of_the_templates_is_not_reused(
    small_catalog, personas, web_as, builds, monkeypatch
):
    reader = web_as(personas.moderator)
    page_of(reader)
    monkeypatch.setattr(drug_body, "layout", lambda: "another release")
    page_of(reader)
    assert len(builds) == 2


def test_the_readers_own_ratings_are_fresh_after_their_writes_and_moderators_decisions(
    small_catalog, personas, api_as, web_as
):
    rater = web_as(personas.verified)
    rate_through_api(api_as, small_catalog, personas.verified, efficacy=4)
    assert "Efficacy <strong>4</strong>" in mine_section(page_of(rater))
    rate_through_api(api_as, small_catalog, personas.verified, efficacy=2)
    assert "Efficacy <strong>2</strong>" in mine_section(page_of(rater))
    held = rate_through_api(
        api_as, small_catalog, personas.verified, "Call my patient on 415-555-0134.", efficacy=2
    )
    assert held["comment"]["status"] == "held"
    assert "held for a moderator" in mine_section(page_of(rater))
    moderation.approve(personas.moderator, held["comment"]["id"])
    assert "held for a moderator" not in mine_section(page_of(rater))
    api_as(personas.verified).delete(
        f"/api/v1/drugs/{small_catalog.atorvastatin.pk}/ratings/mine",
        indication_id=small_catalog.hyperlipidemia.pk,
    )
    assert "You have not rated Atorvastatin calcium" in mine_section(page_of(rater))


def mine_section(html: str) -> str:
    return html[html.index('id="mine"') :][:3000]


def test_the_shell_is_rendered_once_per_kind_and_filled_per_request(
    small_catalog, personas, api_as, web_as
):
    """Header, menu and footer come from one render per kind of reader (web/shell.py); the
    title, this request's path, the CSRF token and the unread badge are this request's."""
    shell._rendered.cache_clear()
    rate_through_api(api_as, small_catalog, personas.verified)
    reader = web_as(personas.verified)
    first = page_of(reader, window="12m")
    assert '<input name="next" type="hidden" value="/drugs/atorvastatin-calcium/?window=12m">' in (
        first
    )
    assert "<title>Atorvastatin calcium · " in first
    assert 'class="badge"' not in first
    rate_through_api(api_as, small_catalog, personas.other_verified, "Watch the liver enzymes.")
    second = page_of(reader, sort="new", window="12m")
    assert 'value="/drugs/atorvastatin-calcium/?sort=new&amp;window=12m"' in second
    assert '<span class="badge" aria-label="1 new">1</span>' in second
    assert csrf_secrets(second) == {reader.cookies["csrftoken"].value}
    anonymous = page_of(Client(), window="12m")
    assert 'href="/accounts/login/?next=/drugs/atorvastatin-calcium/%3Fwindow%3D12m"' in anonymous
    assert 'value="/drugs/atorvastatin-calcium/?window=12m"' in anonymous
    assert shell._rendered.cache_info().misses == 2  # a signed-in physician, a visitor
