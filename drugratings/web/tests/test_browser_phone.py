"""The physician's app on a phone, upright (390x844) and in landscape (844x390), in headless
Chromium through Playwright. Screenshots go to reports/screenshots/ to be looked at."""

from __future__ import annotations

import pytest

from drugratings.analytics.fitting import refit_scores
from drugratings.ratings.models import Rating
from drugratings.testing.browser import no_horizontal_overflow, shot
from drugratings.testing.personas import PASSWORD, make_physician

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"portrait": {"width": 390, "height": 844}, "landscape": {"width": 844, "height": 390}}


@pytest.fixture(params=list(VIEWPORTS))
def device(request, browser):
    context = browser.new_context(
        viewport=VIEWPORTS[request.param], device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    yield request.param, page
    context.close()


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_email", email)
    page.fill("#id_password", PASSWORD)
    page.click("button.primary")
    page.wait_for_load_state()


@pytest.fixture
def rated_world(small_catalog, personas):
    """Twelve physicians rated the statins for hyperlipidemia, so scores are shown."""
    doctors = [personas.verified, personas.other_verified] + [
        make_physician(f"doc{i}@doc.test", first_name="Doc", last_name=f"Number{i}")
        for i in range(10)
    ]
    for i, doctor in enumerate(doctors):
        for drug, base in (
            (small_catalog.atorvastatin, 4),
            (small_catalog.rosuvastatin, 3),
            (small_catalog.sertraline, 2),
        ):
            Rating.objects.create(
                physician=doctor.physician,
                drug=drug,
                indication=small_catalog.hyperlipidemia,
                efficacy=base + (i % 2),
                safety=base - (i % 3 == 0),
                tolerability=3 + (i % 3 == 1),
                accessibility=4,
                adherence=2 + (i % 4 == 0) + (drug == small_catalog.atorvastatin),
                off_label=drug == small_catalog.sertraline,
            )
    refit_scores()
    return small_catalog


def inside_viewport(page, selector: str) -> list[bool]:
    return page.eval_on_selector_all(
        selector,
        "els => els.map(e => { const r = e.getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= window.innerHeight && r.left >= 0"
        " && r.right <= window.innerWidth; })",
    )


def test_the_five_scores_are_on_the_first_screen(live_server, device, rated_world):
    name, page = device
    sign_in(page, live_server.url, "other@doc.test")
    page.goto(
        f"{live_server.url}/drugs/atorvastatin-calcium/?indication={rated_world.hyperlipidemia.pk}"
    )
    shot_name = f"20-drug-first-screen-{name}"
    page.screenshot(path=str(_shots() / f"{shot_name}.png"))  # the first screen only
    shot(page, f"{shot_name}-full")
    assert "Hyperlipidemia" in page.inner_text("#first-h")
    scores = page.locator(".first .fs-score")
    assert scores.count() == 5
    assert all(inside_viewport(page, ".first .fs")), "a score row is below the first screen"
    assert all(t.strip() not in {"", "–"} for t in scores.all_inner_texts())
    assert all(inside_viewport(page, ".first .fs-ci")) and all(
        inside_viewport(page, ".first .fs-n")
    )
    assert no_horizontal_overflow(page)


def test_comparisons_need_no_horizontal_scroll(live_server, device, rated_world):
    name, page = device
    base = live_server.url
    sign_in(page, base, "other@doc.test")
    page.goto(f"{base}/indications/hyperlipidemia/?sort=tolerability")
    names = page.locator(".cmp-name").all_inner_texts()
    assert names[0] == "Atorvastatin calcium"  # the best tolerated first
    shot(page, f"21-indication-by-tolerability-{name}")
    assert no_horizontal_overflow(page)
    # Pick three drugs on the cards and open the head-to-head.
    for box in page.locator(".cmp-pick input").all()[:3]:
        box.check()
    page.click(".h2h-bar button")
    page.wait_for_url("**/compare/**")
    assert page.locator(".h2h-dim").count() == 5
    assert page.locator(".h2h-cell").count() == 15
    shot(page, f"22-head-to-head-{name}")
    assert no_horizontal_overflow(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[name]["width"]


def test_saved_drugs_open_offline_marked_as_saved_copies(live_server, browser, rated_world):
    context = browser.new_context(viewport=VIEWPORTS["portrait"], is_mobile=True, has_touch=True)
    page = context.new_page()
    base = live_server.url
    sign_in(page, base, "other@doc.test")
    page.goto(f"{base}/drugs/atorvastatin-calcium/?indication={rated_world.hyperlipidemia.pk}")
    page.click("button[form=save-form]")
    page.wait_for_url("**#scores")
    assert "Saved ✓" in page.inner_text(".first-actions")
    page.goto(f"{base}/me/saved/")
    page.wait_for_selector("html[data-offline-ready]", state="attached", timeout=15000)
    context.set_offline(True)
    page.goto(f"{base}/drugs/atorvastatin-calcium/")
    banner = page.locator(".offline-banner")
    assert "Saved copy from" in banner.inner_text()
    assert page.locator(".first .fs-score").count() == 5
    assert page.evaluate("document.body.classList.contains('offline-copy')")
    assert page.is_visible(".offline-state")  # the page says it is offline
    shot(page, "23-offline-saved-drug")
    page.goto(f"{base}/me/saved/")
    assert "Atorvastatin calcium" in page.inner_text(".saved-list")
    page.goto(f"{base}/drugs/rosuvastatin-calcium/")  # not saved: the offline page
    assert "You are offline" in page.inner_text("h1")
    shot(page, "24-offline-not-saved")
    context.close()


def test_a_physician_sees_a_notification_when_a_colleague_comments(
    live_server, browser, rated_world
):
    from drugratings.accounts.models import User
    from drugratings.ratings import actions as rating_actions

    context = browser.new_context(viewport=VIEWPORTS["portrait"], is_mobile=True, has_touch=True)
    page = context.new_page()
    sign_in(page, live_server.url, "verified@doc.test")  # rated atorvastatin in rated_world
    assert page.locator(".nav-notices .badge").count() == 0
    rating_actions.upsert_rating(
        User.objects.get(email="other@doc.test"),
        rated_world.atorvastatin.pk,
        rating_actions.RatingInput(rated_world.hyperlipidemia.pk, {"efficacy": 4}, "Works well."),
    )
    page.goto(live_server.url + "/")
    assert page.inner_text(".nav-notices .badge") == "1"
    page.click(".nav-notices")
    assert "New comment on Atorvastatin calcium" in page.inner_text(".notices")
    shot(page, "25-notifications")
    assert no_horizontal_overflow(page)
    context.close()


def _shots():
    from drugratings.testing.browser import SHOTS

    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
