"""Errors show the site's own pages; Django's debug page (with settings) only under DEBUG=1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.test import Client
from django.urls import include, path

ROOT = Path(__file__).resolve().parents[3]


def _boom(request):
    raise RuntimeError("secret-internal-detail")


def _forbidden(request):
    raise PermissionDenied


def _bad(request):
    raise SuspiciousOperation("malformed")


urlpatterns = [
    path("boom/", _boom),
    path("forbidden/", _forbidden),
    path("bad/", _bad),
    path("i18n/", include("django.conf.urls.i18n")),  # the footer's language switch
    path("", include("drugratings.web.urls")),  # the error pages link to the site's pages
]


def _debug_in(mode: str, **extra: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DRUGRATINGS_MODE")}
    env.update({"DRUGRATINGS_MODE": mode, **extra})
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE',"
            " 'drugratings.settings'); from django.conf import settings; print(settings.DEBUG)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize("mode", ["development", "demo"])
def test_debug_is_off_unless_asked_for(mode):
    assert _debug_in(mode) == "False"
    assert _debug_in(mode, DEBUG="1") == "True"


@pytest.mark.django_db
def test_unknown_page_shows_our_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Page not found" in body
    assert "brand-mark" in body  # the site's layout, not Django's plain page


@pytest.mark.django_db
@pytest.mark.urls("drugratings.web.tests.test_error_pages")
def test_server_error_shows_our_500_without_details():
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert "secret-internal-detail" not in body
    assert "SECRET_KEY" not in body


@pytest.mark.django_db
@pytest.mark.urls("drugratings.web.tests.test_error_pages")
def test_forbidden_and_bad_request_show_our_pages(client):
    response = client.get("/forbidden/")
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()
    response = client.get("/bad/")
    assert response.status_code == 400
    assert "Bad request" in response.content.decode()


@pytest.mark.django_db
def test_static_files_are_served_without_debug(client, settings):
    assert settings.DEBUG is False
    response = client.get("/static/web/site.css")
    assert response.status_code == 200
