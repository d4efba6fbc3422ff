"""The API docs page renders Swagger UI with the network cut off (nothing from a CDN)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_docs_page_renders_offline_under_our_content_security_policy(live_server, browser):
    context = browser.new_context()
    page = context.new_page()
    ours = urlsplit(live_server.url).netloc
    foreign: list[str] = []
    problems: list[str] = []

    def only_ours(route):
        if urlsplit(route.request.url).netloc == ours:
            route.continue_()
        else:  # what a machine without internet would see
            foreign.append(route.request.url)
            route.abort()

    page.route("**/*", only_ours)
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{live_server.url}/api/v1/docs")
    page.wait_for_selector(".opblock", timeout=20_000)
    assert page.locator(".opblock").count() > 10  # every operation of the API is listed
    assert foreign == []
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p]
    context.close()
