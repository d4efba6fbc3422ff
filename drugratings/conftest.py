"""Fixtures shared by every app's tests."""

from __future__ import annotations

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.db import DatabaseCache
from django.test import Client

from drugratings.accounts.actions import issue_token
from drugratings.accounts.middleware import SESSION_KEY
from drugratings.accounts.models import User
from drugratings.catalog.search import invalidate_search_index
from drugratings.testing.catalog import SmallCatalog, make_small_catalog
from drugratings.testing.personas import Personas, make_personas
from drugratings.testing.replica import replica_alias


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Argon2 is deliberately slow; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_caches(request):
    from drugratings.analytics.actions import discard_pending_views

    if isinstance(caches["default"], DatabaseCache):
        # The database cache lives in the test database, outside any test's transaction (and
        # outside `flush`): clear it with the database unblocked. A test without the database
        # cannot reach the database cache either.
        uses_db = request.node.get_closest_marker("django_db") or {
            "db",
            "transactional_db",
            "live_server",
            "django_db_setup",
        } & set(request.fixturenames)
        if uses_db:
            request.getfixturevalue("django_db_setup")
            with request.getfixturevalue("django_db_blocker").unblock():
                cache.clear()
    else:
        cache.clear()
    discard_pending_views()
    invalidate_search_index()
    yield
    invalidate_search_index()


@pytest.fixture
def small_catalog(db) -> SmallCatalog:
    return make_small_catalog()


@pytest.fixture
def personas(db) -> Personas:
    return make_personas()


class ApiClient:
    """A test client that sends a bearer token for one user (or none)."""

    def __init__(self, user: User | None) -> None:
        self.client = Client()
        self.headers = {}
        if user is not None:
            _, secret = issue_token(user)
            self.headers = {"Authorization": f"Bearer {secret}"}

    def get(self, path: str, **params):
        return self.client.get(path, params, headers=self.headers)

    def post(self, path: str, data=None):
        return self.client.post(
            path, data or {}, content_type="application/json", headers=self.headers
        )

    def put(self, path: str, data=None):
        return self.client.put(
            path, data or {}, content_type="application/json", headers=self.headers
        )

    def delete(self, path: str, **params):
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return self.client.delete(f"{path}?{query}" if query else path, headers=self.headers)


@pytest.fixture
def api_as():
    return ApiClient


def browser_session(user: User) -> Client:
    """A web client signed in as `user`, past the second factor where the role needs one."""
    client = Client()
    client.force_login(user)
    if user.needs_two_factor:
        session = client.session
        session[SESSION_KEY] = True
        session.save()
    return client


@pytest.fixture
def web_as():
    return browser_session


@pytest.fixture
def browser(monkeypatch):
    from pathlib import Path

    from playwright.sync_api import sync_playwright

    from drugratings.testing.browser import CHROMIUM, CHROMIUM_ARGS

    # Playwright's sync API keeps an event loop in this thread; the test's own database calls
    # are still synchronous, so Django's async guard does not apply.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is required for browser tests (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    from drugratings.testing.browser import PHONE

    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="module")
def replica_database(django_db_setup):
    """The `replica` alias, a mirror of the test database, for a whole module: before any test
    sets up its database access (`pytest.mark.usefixtures("replica_database")`, with
    `django_db(transaction=True, databases=["default", "replica"])`)."""
    with replica_alias():
        yield
