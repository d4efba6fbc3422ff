"""Redirect targets from a request never leave the site (`next` on sign-in and 2FA, back links)."""

from __future__ import annotations

import pyotp
import pytest

from drugratings.ratings.models import Comment
from drugratings.testing.personas import PASSWORD, TOTP_SECRET

OFF_SITE = [
    "/\\evil.example",
    "/\\\\evil.example/path",
    "//evil.example",
    "\\\\evil.example",
    "https://evil.example/",
    "http://testserver@evil.example/",
    "javascript:alert(1)",
    "/\t/evil.example",
    " //evil.example",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_sign_in_ignores_an_off_site_next(personas, client, target):
    response = client.post(
        "/accounts/login/",
        {"email": "verified@doc.test", "password": PASSWORD, "next": target},
    )
    assert response.status_code == 302 and response["Location"] == "/"


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_sign_in_page_does_not_carry_an_off_site_next(client, db, target):
    page = client.get("/accounts/login/", {"next": target})
    assert page.status_code == 200
    assert 'name="next" value="/"' in page.content.decode()


def test_sign_in_follows_a_next_on_this_site(personas, client):
    response = client.post(
        "/accounts/login/",
        {"email": "verified@doc.test", "password": PASSWORD, "next": "/drugs/?q=statin"},
    )
    assert response.status_code == 302 and response["Location"] == "/drugs/?q=statin"


@pytest.mark.parametrize("target", OFF_SITE[:4])
def test_the_second_factor_ignores_an_off_site_next(personas, client, target):
    client.post("/accounts/login/", {"email": "moderator@staff.test", "password": PASSWORD})
    response = client.post(
        "/accounts/two-factor/", {"otp": pyotp.TOTP(TOTP_SECRET).now(), "next": target}
    )
    assert response.status_code == 302 and response["Location"] == "/"


@pytest.mark.parametrize("target", OFF_SITE)
def test_comment_back_links_stay_on_the_site(small_catalog, personas, api_as, web_as, target):
    body = {
        "indication_id": small_catalog.hyperlipidemia.pk,
        "efficacy": 4,
        "safety": 4,
        "tolerability": 4,
        "accessibility": 4,
        "adherence": 4,
        "comment": "Works well for most of my patients.",
    }
    api_as(personas.verified).put(
        f"/api/v1/drugs/{small_catalog.atorvastatin.pk}/ratings/mine", body
    )
    comment = Comment.objects.get()
    web = web_as(personas.other_verified)
    helpful = web.post(f"/comments/{comment.pk}/helpful/", {"next": target})
    assert helpful.status_code == 302 and helpful["Location"] == "/"
    flag = web.post(f"/comments/{comment.pk}/flag/", {"reason": "other", "next": target})
    assert flag.status_code == 302 and flag["Location"] == "/"
    ok = web.post(f"/comments/{comment.pk}/helpful/", {"next": "/drugs/x/#comment-1"})
    assert ok["Location"] == "/drugs/x/#comment-1"
