"""Every page type, light and dark, at 390x844 and 320 px wide: axe-core finds no serious or
critical violations, tap targets are at least 44x44 px, headings are in order, nothing scrolls
sideways."""

from __future__ import annotations

import pytest

from drugratings.ratings.models import Comment, Rating
from drugratings.testing.browser import (
    SHOTS,
    axe_violations,
    headings_in_order,
    no_horizontal_overflow,
    small_tap_targets,
)
from drugratings.testing.personas import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(small_catalog, personas):
    rating = Rating.objects.create(
        physician=personas.other_verified.physician,
        drug=small_catalog.atorvastatin,
        indication=small_catalog.hyperlipidemia,
        efficacy=4,
        safety=3,
    )
    comment = Comment.objects.create(
        physician=personas.other_verified.physician,
        drug=small_catalog.atorvastatin,
        indication=small_catalog.hyperlipidemia,
        rating=rating,
        body="Dependable LDL lowering.",
    )
    Rating.objects.create(
        physician=personas.verified.physician,
        drug=small_catalog.atorvastatin,
        indication=small_catalog.hyperlipidemia,
        efficacy=5,
    )
    Comment.objects.create(
        physician=personas.verified.physician,
        drug=small_catalog.atorvastatin,
        indication=small_catalog.hyperlipidemia,
        parent=comment,
        body="Agreed.",
    )
    return small_catalog


ANONYMOUS_PAGES = ["/", "/accounts/login/", "/accounts/signup/", "/methodology/", "/offline/"]
PHYSICIAN_PAGES = [
    "/",
    "/search/?q=statin",
    "/drugs/atorvastatin-calcium/",
    "/drugs/atorvastatin-calcium/rate/",
    "/drugs/atorvastatin-calcium/rate/?indication={hyperlipidemia}",
    "/drugs/atorvastatin-calcium/withdraw/?indication={hyperlipidemia}",
    "/indications/",
    "/indications/hyperlipidemia/?sort=tolerability",
    "/classes/",
    "/classes/statin/",
    "/compare/?drugs=atorvastatin-calcium&drugs=rosuvastatin-calcium",
    "/me/saved/",
    "/me/notifications/",
    "/me/ratings/",
    "/accounts/",
]


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_email", email)
    page.fill("#id_password", PASSWORD)
    page.click("button.primary")
    page.wait_for_load_state()


SHOTS.mkdir(parents=True, exist_ok=True)


def check(page, url: str, name: str) -> list[str]:
    page.goto(url)
    # Open every <details> so what is one tap away is checked too.
    page.eval_on_selector_all("details", "els => els.forEach(e => e.open = true)")
    problems = [
        f"axe {v['impact']} {v['id']}: {v['help']} {v['nodes']}" for v in axe_violations(page)
    ]
    problems += [f"tap target {t}" for t in small_tap_targets(page)]
    problems += [f"heading {h}" for h in headings_in_order(page)]
    if not no_horizontal_overflow(page):
        problems.append("horizontal scroll")
    page.screenshot(path=str(SHOTS / f"{name}.png"))  # the first screen
    return [f"{url}: {p}" for p in problems]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [390, 320])
def test_every_page_type_is_accessible(live_server, browser, world, scheme, width):
    context = browser.new_context(
        viewport={"width": width, "height": 844},
        color_scheme=scheme,
        bypass_csp=True,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    base = live_server.url
    problems: list[str] = []
    for i, path in enumerate(ANONYMOUS_PAGES):
        problems += check(page, base + path, f"30-a11y-{scheme}-{width}-anon-{i:02d}")
    sign_in(page, base, "verified@doc.test")
    for i, path in enumerate(PHYSICIAN_PAGES):
        url = base + path.format(hyperlipidemia=world.hyperlipidemia.pk)
        problems += check(page, url, f"31-a11y-{scheme}-{width}-physician-{i:02d}")
    context.close()
    pending = browser.new_context(
        viewport={"width": width, "height": 844}, color_scheme=scheme, bypass_csp=True
    )
    page = pending.new_page()
    sign_in(page, base, "pending@doc.test")
    problems += check(
        page, base + "/drugs/atorvastatin-calcium/rate/", f"32-a11y-{scheme}-{width}-pending"
    )
    pending.close()
    assert problems == [], "\n".join(problems)
