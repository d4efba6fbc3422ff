"""The installable app: web app manifest, service worker and the offline page."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils.safestring import mark_safe
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    icons = [
        {"src": static(f"web/icons/icon-{s}.png"), "sizes": f"{s}x{s}", "type": "image/png"}
        for s in (192, 512)
    ] + [
        {
            "src": static(f"web/icons/maskable-{s}.png"),
            "sizes": f"{s}x{s}",
            "type": "image/png",
            "purpose": "maskable",
        }
        for s in (192, 512)
    ]
    response = JsonResponse(
        {
            "name": "Drug Ratings",
            "short_name": "Drug Ratings",
            "description": "How verified physicians rate prescription drugs.",
            "start_url": "/?source=app",
            "scope": "/",
            "display": "standalone",
            "background_color": "#f5f7fa",
            "theme_color": "#0b5cad",
            "icons": icons,
        }
    )
    response["Content-Type"] = "application/manifest+json"
    return response


# The worker must be served from the site root to control every page; never cached long, so
# a new version (new static file names) is picked up on the next visit.
@require_GET
@cache_control(no_cache=True, max_age=0)
def service_worker(request: HttpRequest) -> HttpResponse:
    shell = [static("web/site.css"), static("web/site.js"), static("web/icons/icon-192.png")]
    return render(
        request,
        "web/sw.js",
        {"shell": mark_safe(json.dumps(shell)), "version": mark_safe(json.dumps("|".join(shell)))},
        content_type="text/javascript; charset=utf-8",
    )


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    return render(request, "web/offline.html")
