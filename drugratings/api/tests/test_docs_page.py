"""The API documentation page works offline: every asset it loads comes from our own origin."""

from __future__ import annotations

import re

from drugratings.web.middleware import CONTENT_SECURITY_POLICY

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


def test_the_docs_page_loads_swagger_from_our_own_static_files(client, db):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assets = ASSET.findall(html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert any(a.endswith("swagger-ui.css") for a in assets)
    for asset in assets:
        # Same origin: a path on this site, never a CDN or protocol-relative address.
        assert asset.startswith("/") and not asset.startswith("//"), asset
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert b"".join(served.streaming_content if served.streaming else [served.content])
    assert "cdn" not in html.lower()
    # No inline script: our Content-Security-Policy (script-src 'self') would block it.
    inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", html)
    assert inline == [] and "script-src 'self'" in CONTENT_SECURITY_POLICY


def test_the_openapi_document_the_docs_page_reads_is_served(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.json()["info"]["title"] == "Drug Ratings API"
