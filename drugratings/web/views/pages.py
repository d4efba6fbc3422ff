"""Static content pages: the published methodology."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import markdown
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

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


@require_GET
def methodology(request: HttpRequest) -> HttpResponse:
    html = (
        _methodology_html(METHODOLOGY.stat().st_mtime)
        if METHODOLOGY.exists()
        else "<p>The methodology document is missing from this installation.</p>"
    )
    return render(request, "web/methodology.html", {"html": mark_safe(html)})
