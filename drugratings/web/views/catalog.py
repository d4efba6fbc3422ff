"""Catalogue pages: home, search (with instant suggestions), drug, indication and class pages."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from drugratings.accounts.access import Capability, can
from drugratings.accounts.models import Specialty
from drugratings.analytics.access import ScoreCell, public_figures
from drugratings.analytics.actions import count_drug_view
from drugratings.analytics.models import Window
from drugratings.analytics.trends import monthly_trend
from drugratings.catalog import access as catalog
from drugratings.catalog.models import Indication
from drugratings.core.cached import deferred, fragment_key
from drugratings.moderation.models import FlagReason
from drugratings.portal.access import (
    drug_cells_for_viewer,
    figures_key,
    indication_cells_for_viewer,
)
from drugratings.ratings.access import (
    CommentSort,
    drugs_for_indication,
    most_rated_indications,
    my_ratings,
    published_comments,
)
from drugratings.ratings.dimensions import DIMENSIONS

SECTIONS_SHOWN = 6  # across-indications plus the five most-rated indications; ?all=1 for all


@dataclass(frozen=True)
class ScoreSection:
    """Score cells of one drug for one indication (None: across all indications)."""

    indication: Indication | None
    listed: bool
    cells: list[ScoreCell]

    @property
    def n_raters(self) -> int:
        return max((c.n_raters for c in self.cells), default=0)


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    indications = most_rated_indications() or catalog.list_indications(limit=12)[0]
    classes, _ = catalog.list_drug_classes(limit=12)
    return render(
        request,
        "web/home.html",
        {
            "stats": public_figures(),
            "indications": indications,
            "classes": classes,
        },
    )


@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:100]
    page_number = _int_or_none(request.GET.get("page")) or 1
    found = catalog.search_drugs(q, page=page_number, page_size=20) if q else None
    indications = catalog.list_indications(q, limit=8)[0] if q else []
    return render(request, "web/search.html", {"q": q, "found": found, "indications": indications})


@require_GET
def suggest(request: HttpRequest) -> JsonResponse:
    """Instant suggestions for the search box: a handful of drugs and indications."""
    q = request.GET.get("q", "").strip()[:100]
    if len(q) < 2:
        return JsonResponse({"drugs": [], "indications": []})
    found = catalog.search_drugs(q, page_size=8)
    indications = catalog.list_indications(q, limit=4)[0]
    return JsonResponse(
        {
            "drugs": [
                {
                    "name": d.generic_name,
                    "brands": d.brand_names[:3],
                    "url": f"/drugs/{d.slug}/",
                    "class": d.drug_class.name if d.drug_class else "",
                }
                for d in found.drugs
            ],
            "indications": [
                {"name": i.name, "icd10": i.icd10_codes[:2], "url": f"/indications/{i.slug}/"}
                for i in indications
            ],
        }
    )


def _sections(drug_id: int, cells: list[ScoreCell], listed_ids: set[int]) -> list[ScoreSection]:
    by_indication: dict[int | None, list[ScoreCell]] = {}
    for cell in cells:
        by_indication.setdefault(cell.indication_id, []).append(cell)
    indications = catalog.indications_by_id([i for i in by_indication if i is not None])
    sections = [
        ScoreSection(indications.get(i) if i is not None else None, i is None or i in listed_ids, c)
        for i, c in by_indication.items()
    ]
    # Across-indications first, then the indications with the most physicians.
    sections.sort(key=lambda s: (s.indication is not None, -s.n_raters))
    return sections


@require_GET
def drug_page(request: HttpRequest, slug: str) -> HttpResponse:
    drug = catalog.get_drug_by_slug(slug)

    count_drug_view(drug.pk)
    show_scores = can(request.user, Capability.READ_SCORES)
    specialty_id = _int_or_none(request.GET.get("specialty"))
    window = request.GET.get("window", Window.ALL_TIME)
    if window not in Window.values:
        window = Window.ALL_TIME
    pharma = not can(request.user, Capability.READ_LIVE_FIGURES)

    def figures() -> tuple[list[ScoreSection], int, list[dict]]:
        sections: list[ScoreSection] = []
        if show_scores:
            cells = drug_cells_for_viewer(
                request.user, drug.pk, specialty_id=specialty_id, window=window
            )
            sections = _sections(drug.pk, cells, {i.pk for i in drug.indications.all()})
        all_sections = len(sections)
        if request.GET.get("all") != "1":
            sections = sections[:SECTIONS_SHOWN]
        trend = _trend_lines(drug.pk) if show_scores and not pharma else []
        return sections, all_sections - len(sections), trend

    # Built only when the template's cached figures fragment misses (core/cached.py).
    built = deferred(figures)
    comments, comment_total = [], 0
    comment_sort = request.GET.get("sort", CommentSort.HELPFUL)
    if comment_sort not in CommentSort.ALL:
        comment_sort = CommentSort.HELPFUL
    comment_indication = _int_or_none(request.GET.get("comments_for"))
    comment_limit = min(max(_int_or_none(request.GET.get("comments")) or 10, 10), 200)
    show_comments = can(request.user, Capability.READ_COMMENTS)
    if show_comments:
        comments, comment_total = published_comments(
            request.user,
            drug.pk,
            indication_id=comment_indication,
            sort=comment_sort,
            limit=comment_limit,
        )
    mine = {}
    if can(request.user, Capability.RATE):
        mine = {r.indication_id: r for r in my_ratings(request.user).filter(drug=drug)}
    return render(
        request,
        "web/drug.html",
        {
            "drug": drug,
            "pharma": pharma,
            "hidden_sections": deferred(lambda: built[1]),
            "trend": deferred(lambda: built[2]),
            "figures_fragment": fragment_key(
                *(figures_key(request.user, drug.pk) if show_scores else ["none"]),
                drug.pk, specialty_id, window, request.GET.get("all") == "1",
                can(request.user, Capability.RATE), sorted(mine, key=str), get_language(),
            ),
            "show_comments": show_comments,
            "comments": comments,
            "comment_total": comment_total,
            "comment_sort": comment_sort,
            "comment_indication": comment_indication,
            "comment_limit": comment_limit,
            "can_rate": can(request.user, Capability.RATE),
            "can_vote": can(request.user, Capability.VOTE),
            "mine": mine,
            "flag_reasons": FlagReason.choices,
            "sections": deferred(lambda: built[0]),
            "show_scores": show_scores,
            "specialties": Specialty.objects.all(),
            "specialty_id": specialty_id,
            "window": window,
            "windows": Window.choices,
            "dimensions": DIMENSIONS,
            "official": getattr(drug, "official_info", None),
        },
    )


def _trend_lines(drug_id: int) -> list[dict]:
    """Sparkline geometry per dimension: points of the monthly rater-adjusted means (1-5 mapped
    to a 0-40 px high band) and the months they cover."""
    points = monthly_trend(drug_id)
    months = sorted({p.month for p in points})
    if len(months) < 2:
        return []
    step = 300 / (len(months) - 1)
    lines = []
    for dimension in DIMENSIONS:
        mine = [p for p in points if p.dimension == dimension.value]
        coords, band_top, band_bottom = [], [], []
        for p in mine:
            if p.value is None:
                continue
            x = months.index(p.month) * step

            def y(v: float) -> float:
                return 44 - (v - 1) / 4 * 40

            coords.append(f"{x:.1f},{y(p.value):.1f}")
            band_top.append(f"{x:.1f},{y(p.ci_high):.1f}")
            band_bottom.append(f"{x:.1f},{y(p.ci_low):.1f}")
        shown = [p for p in mine if p.value is not None]
        lines.append(
            {
                "label": dimension.label,
                "points": " ".join(coords),
                "band": " ".join(band_top + band_bottom[::-1]),
                "first": shown[0] if shown else None,
                "last": shown[-1] if shown else None,
            }
        )
    return [{"months": (months[0], months[-1]), "lines": lines}]


@require_GET
def indication_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:100]
    items, total = catalog.list_indications(q, limit=2000)
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    return render(request, "web/indication_list.html", {"q": q, "page": page, "total": total})


@require_GET
def indication_page(request: HttpRequest, slug: str) -> HttpResponse:
    indication = catalog.get_indication_by_slug(slug)
    drugs = drugs_for_indication(indication)
    show_scores = can(request.user, Capability.READ_SCORES)
    cells = indication_cells_for_viewer(request.user, indication.pk) if show_scores else {}
    sort = request.GET.get("sort", "efficacy")
    if sort not in {d.value for d in DIMENSIONS}:
        sort = "efficacy"
    rows = [
        {"drug": drug, "listed": listed, "cells": cells.get(drug.pk, [])} for drug, listed in drugs
    ]

    def sort_key(row: dict) -> tuple:
        cell = next((c for c in row["cells"] if c.dimension == sort), None)
        shown = cell is not None and cell.shown
        return (
            not shown,
            -(cell.score or 0) if shown else 0,
            -(cell.n_raters if cell else 0),
            row["drug"].generic_name,
        )

    rows.sort(key=sort_key)
    return render(
        request,
        "web/indication.html",
        {
            "indication": indication,
            "rows": rows,
            "show_scores": show_scores,
            "dimensions": DIMENSIONS,
            "sort": sort,
        },
    )


@require_GET
def class_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:100]
    items, total = catalog.list_drug_classes(q, limit=1000)
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    return render(request, "web/class_list.html", {"q": q, "page": page, "total": total})


@require_GET
def class_page(request: HttpRequest, slug: str) -> HttpResponse:
    drug_class = catalog.get_drug_class_by_slug(slug)
    drugs = catalog.drugs_in_class(drug_class)
    show_scores = can(request.user, Capability.READ_SCORES)
    rows = []
    for drug in drugs:
        cells = (
            [c for c in drug_cells_for_viewer(request.user, drug.pk) if c.indication_id is None]
            if show_scores
            else []
        )
        rows.append({"drug": drug, "listed": True, "cells": cells})
    rows.sort(
        key=lambda r: (-max((c.n_raters for c in r["cells"]), default=0), r["drug"].generic_name)
    )
    return render(
        request,
        "web/drug_class.html",
        {
            "drug_class": drug_class,
            "rows": rows,
            "show_scores": show_scores,
            "dimensions": DIMENSIONS,
        },
    )
