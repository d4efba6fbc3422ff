"""Catalogue pages: home, search (with instant suggestions), indication and class pages (the drug
page is views/drug.py)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from drugratings.accounts.access import FigureView
from drugratings.accounts.models import Specialty
from drugratings.analytics.access import public_figures
from drugratings.bounds import MAX_PAGE, query_int
from drugratings.catalog import access as catalog
from drugratings.portal.access import (
    Subject,
    drug_cells_for_viewer,
    drugs_shown_for_indication,
    indication_cells_for_viewer,
    page_figure_view,
)
from drugratings.ratings.access import (
    drugs_for_indication,
    most_rated_indications,
)
from drugratings.ratings.dimensions import DIMENSIONS


def _int_or_none(value: str | None) -> int | None:
    # Ids and counts from the query string: malformed or out-of-range values mean "not given".
    return query_int(value, None)


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
    page_number = query_int(request.GET.get("page"), 1, high=MAX_PAGE)
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


@require_GET
def indication_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:100]
    items, total = catalog.list_indications(q, limit=2000)
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    return render(request, "web/indication_list.html", {"q": q, "page": page, "total": total})


CARDS_PER_PAGE = 30


@dataclass(frozen=True)
class CompareFilters:
    """Sort dimension and specialty of a comparison, both kept in the URL."""

    sort: str
    specialty_id: int | None

    @classmethod
    def from_request(cls, request: HttpRequest) -> CompareFilters:
        sort = request.GET.get("sort", DIMENSIONS[0].value)
        return cls(
            sort=sort if sort in {d.value for d in DIMENSIONS} else DIMENSIONS[0].value,
            specialty_id=_valid_specialty(request.GET.get("specialty")),
        )

    def query(self) -> str:
        parts = {"sort": self.sort}
        if self.specialty_id:
            parts["specialty"] = str(self.specialty_id)
        return urlencode(parts)


def _valid_specialty(raw: str | None) -> int | None:
    specialty_id = _int_or_none(raw)
    if specialty_id is None or not 0 < specialty_id < 2**31:
        return None
    return specialty_id if Specialty.objects.filter(pk=specialty_id).exists() else None


def _sorted_rows(rows: list[dict], sort: str) -> list[dict]:
    """Shown scores of the picked dimension first, best first; then by physicians, then name."""
    for row in rows:
        row["key"] = next((c for c in row["cells"] if c.dimension == sort), None)

    def sort_key(row: dict) -> tuple:
        cell = row["key"]
        shown = cell is not None and cell.shown
        return (
            not shown,
            -(cell.score or 0) if shown else 0,
            -(cell.n_raters if cell else 0),
            row["drug"].generic_name,
        )

    return sorted(rows, key=sort_key)


def _comparison_context(request: HttpRequest, rows: list[dict], filters: CompareFilters) -> dict:
    rows = _sorted_rows(rows, filters.sort)
    page = Paginator(rows, CARDS_PER_PAGE).get_page(request.GET.get("page"))
    return {
        "rows": page.object_list,
        "page": page,
        "dimensions": DIMENSIONS,
        "sort": filters.sort,
        "specialty_id": filters.specialty_id,
        "specialties": Specialty.objects.all(),
        "filter_query": filters.query(),
    }


@require_GET
def indication_page(request: HttpRequest, slug: str) -> HttpResponse:
    indication = catalog.get_indication_by_slug(slug)
    view = page_figure_view(request.user, Subject(indication_id=indication.pk))
    show_scores = view != FigureView.NONE
    filters = CompareFilters.from_request(request)
    cells = indication_cells_for_viewer(view, indication.pk, specialty_id=filters.specialty_id)
    drugs = drugs_shown_for_indication(view, drugs_for_indication(indication), cells)
    rows = [
        {"drug": drug, "listed": listed, "cells": cells.get(drug.pk, [])} for drug, listed in drugs
    ]
    return render(
        request,
        "web/indication.html",
        {
            "indication": indication,
            "show_scores": show_scores,
            **_comparison_context(request, rows, filters),
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
    view = page_figure_view(request.user, Subject(class_id=drug_class.pk))
    show_scores = view != FigureView.NONE
    filters = CompareFilters.from_request(request)
    rows = [
        {"drug": drug, "listed": True, "cells": _across_cells(view, drug, filters)}
        for drug in catalog.drugs_in_class(drug_class)
    ]
    return render(
        request,
        "web/drug_class.html",
        {
            "drug_class": drug_class,
            "show_scores": show_scores,
            **_comparison_context(request, rows, filters),
        },
    )


def _across_cells(view: FigureView, drug, filters: CompareFilters) -> list:
    cells = drug_cells_for_viewer(view, drug.pk, specialty_id=filters.specialty_id)
    return [c for c in cells if c.indication_id is None]
