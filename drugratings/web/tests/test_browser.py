"""The physician journey on a phone, in headless Chromium (Debian's), through Playwright.

Screenshots of each step go to reports/screenshots/ for a person to look at.
"""

from __future__ import annotations

import pyotp
import pytest

from drugratings.ratings.models import Comment, Rating
from drugratings.testing.browser import no_horizontal_overflow, shot
from drugratings.testing.catalog import make_small_catalog
from drugratings.testing.personas import PASSWORD, TOTP_SECRET, make_personas

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_email", email)
    page.fill("#id_password", PASSWORD)
    page.click("button.primary")


@pytest.fixture
def world(db):
    catalog = make_small_catalog()
    personas = make_personas()
    # Another physician rated already, so there is a count to change.
    rating = Rating.objects.create(
        physician=personas.other_verified.physician,
        drug=catalog.atorvastatin,
        indication=catalog.hyperlipidemia,
        efficacy=5,
        safety=4,
    )
    Comment.objects.create(
        physician=personas.other_verified.physician,
        drug=catalog.atorvastatin,
        indication=catalog.hyperlipidemia,
        rating=rating,
        body="Dependable LDL lowering.",
    )
    return catalog, personas


def test_a_physician_finds_a_drug_by_brand_rates_it_and_sees_the_figures_change(
    live_server, phone, world
):
    catalog, _ = world
    base = live_server.url
    sign_in(phone, base, "verified@doc.test")
    shot(phone, "01-signed-in-home")
    assert no_horizontal_overflow(phone)

    phone.fill("#site-q", "lipitor")
    phone.wait_for_selector("#site-q-suggest a")  # instant suggestions
    shot(phone, "02-suggestions")
    phone.press("#site-q", "Enter")
    phone.wait_for_url("**/search/**")
    shot(phone, "03-search-results")
    phone.click("text=Atorvastatin calcium")
    phone.wait_for_url("**/drugs/atorvastatin-calcium/")
    section = phone.locator(f"#indication-{catalog.hyperlipidemia.pk}")
    assert "1 physician" in section.locator("summary").inner_text()
    efficacy_bars = section.locator(".dim").first.locator(".bar")
    assert efficacy_bars.nth(4).get_attribute("title") == "5: 1"
    assert efficacy_bars.nth(1).get_attribute("title") == "2: 0"
    shot(phone, "04-drug-page-before")
    assert no_horizontal_overflow(phone)

    phone.click("text=Rate this drug")
    phone.wait_for_url("**/rate/**")
    phone.check(f"input[name=indication][value='{catalog.hyperlipidemia.pk}']")
    for name, value in (("efficacy", "2"), ("safety", "4"), ("tolerability", "3")):
        phone.locator(f"input[name={name}][value='{value}']").check(force=True)
    phone.fill("#id_comment", "Myalgia limited adherence in several of my older patients.")
    shot(phone, "05-rating-form")
    assert no_horizontal_overflow(phone)
    phone.click("button.primary.wide")
    phone.wait_for_url("**/drugs/atorvastatin-calcium/**")
    # The confirmation is beside the physician's own rating, scrolled into view, and the
    # indication just rated comes first.
    assert "Rating saved" in phone.inner_text("#mine .notes")
    assert phone.evaluate("document.querySelector('#mine').getBoundingClientRect().top") < 200
    assert "2 physicians" in phone.inner_text("#first-h")
    efficacy_bars = phone.locator("#details .dim").first.locator(".bar")
    assert efficacy_bars.nth(1).get_attribute("title") == "2: 1"
    assert efficacy_bars.nth(4).get_attribute("title") == "5: 1"
    assert "Myalgia limited adherence" in phone.inner_text("#comments")
    shot(phone, "06-drug-page-after")
    assert no_horizontal_overflow(phone)


def test_a_pharma_analyst_sees_no_rating_form_and_no_comments(live_server, phone, world):
    base = live_server.url
    sign_in(phone, base, "analyst@pharma.test")
    phone.wait_for_url("**/two-factor/**")
    phone.fill("#id_otp", pyotp.TOTP(TOTP_SECRET).now())
    phone.click("button.primary")
    phone.goto(f"{base}/drugs/atorvastatin-calcium/")
    shot(phone, "07-pharma-drug-page")
    assert phone.locator("text=Rate this drug").count() == 0
    assert phone.locator("#comments").count() == 0
    assert "Dependable LDL lowering" not in phone.content()
    phone.goto(f"{base}/drugs/atorvastatin-calcium/rate/")
    assert phone.locator("form.rate-form").count() == 0
    assert no_horizontal_overflow(phone)


def test_pages_have_no_horizontal_overflow_on_a_phone(live_server, phone, world):
    base = live_server.url
    sign_in(phone, base, "verified@doc.test")
    for path, name in (
        ("/", "08-home"),
        ("/indications/hyperlipidemia/", "09-indication"),
        ("/classes/statin/", "10-class"),
        ("/me/ratings/", "11-my-ratings"),
        ("/accounts/", "12-account"),
        ("/search/?q=atorvastatn", "13-typo-search"),
    ):
        phone.goto(base + path)
        shot(phone, name)
        assert no_horizontal_overflow(phone), path
