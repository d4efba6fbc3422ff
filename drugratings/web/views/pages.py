"""Static content pages: the published methodology and the current fit's diagnostics."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import markdown
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from drugratings.analytics.access import current_fit_diagnostics
from drugratings.ratings.dimensions import DIMENSION_NAMES
from ratingstats.diagnostics import Diagnostics, fragment_html

METHODOLOGY = Path(settings.BASE_DIR) / "METHODOLOGY.md"


@lru_cache(maxsize=1)
def _methodology_html(mtime: float) -> str:
    text = METHODOLOGY.read_text(encoding="utf-8")
    # The file is ours and under review in the repository; raw HTML in it is not expected,
    # but escape it anyway so the page can only ever render Markdown.
    html = markdown.markdown(text.replace("<", "&lt;"), extensions=["tables", "fenced_code", "toc"])
    # Wide tables scroll inside a focusable region, so keyboard users can scroll them too.
    return html.replace(
        "<table>", '<div class="table-scroll" tabindex="0" role="region" aria-label="Table"><table>'
    ).replace("</table>", "</table></div>")


@lru_cache(maxsize=16)
def _diagnostics_html(fit_id: int, dimension: str, data_key: str) -> str:
    """Plots are drawn once per fit and dimension (matplotlib takes ~1 s for the five)."""
    del data_key  # part of the cache key only
    diag = current_fit_diagnostics().by_dimension.get(dimension)
    return fragment_html(Diagnostics.from_dict(diag)) if diag else ""


@require_GET
def methodology(request: HttpRequest) -> HttpResponse:
    html = (
        _methodology_html(METHODOLOGY.stat().st_mtime)
        if METHODOLOGY.exists()
        else "<p>The methodology document is missing from this installation.</p>"
    )
    fit = current_fit_diagnostics()
    available = [d for d in DIMENSION_NAMES if d in fit.by_dimension]
    dimension = request.GET.get("dimension", available[0] if available else "")
    if available and dimension not in available:
        return render(
            request,
            "web/methodology.html",
            {"html": mark_safe(html), "error": f"dimension: choose one of {', '.join(available)}"},
            status=400,
        )
    diagnostics = (
        _diagnostics_html(fit.fit_id, dimension, str(fit.finished_at)) if available else ""
    )
    return render(
        request,
        "web/methodology.html",
        {
            "html": mark_safe(html),
            "fit": fit,
            "dimensions": available,
            "dimension": dimension,
            "diagnostics": mark_safe(diagnostics),
        },
    )
