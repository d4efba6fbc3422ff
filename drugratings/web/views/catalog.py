"""Catalogue pages: home, search (with instant suggestions), drug, indication and class pages."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.messages import get_messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from drugratings.accounts.access import Capability, FigureView, can, physician_of
from drugratings.accounts.models import Specialty
from drugratings.analytics.access import ScoreCell, public_figures
from drugratings.analytics.actions import count_drug_view
from drugratings.analytics.models import Window
from drugratings.analytics.trends import monthly_trend
from drugratings.bounds import MAX_PAGE, query_int
from drugratings.catalog import access as catalog
from drugratings.catalog import actions as catalog_actions
from drugratings.catalog.models import Indication
from drugratings.moderation.models import FlagReason
from drugratings.portal.access import (
    Subject,
    drug_cells_for_viewer,
    drugs_shown_for_indication,
    indication_cells_for_viewer,
    page_figure_view,
)
from drugratings.ratings.access import (
    CommentSort,
    drugs_for_indication,
    most_rated_indications,
    my_ratings,
    published_comments,
    published_replies,
)
from drugratings.ratings.actions import COMMENT_MAX
from drugratings.ratings.dimensions import DIMENSIONS
from drugratings.web.models import SavedDrug
from drugratings.web.views.me import remember_view

# The label itself is not fetched at run time: DailyMed's search by generic name finds it.
DAILYMED_SEARCH = "https://dailymed.nlm.nih.gov/dailymed/search.cfm?"
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


@dataclass(frozen=True)
class DrugPageFilters:
    """What the reader asked the drug page for, from its query string (bad values ignored)."""

    indication_id: int | None
    specialty_id: int | None
    window: str
    all_sections: bool

    @classmethod
    def from_request(cls, request: HttpRequest) -> DrugPageFilters:
        window = request.GET.get("window", Window.ALL_TIME)
        return cls(
            indication_id=_int_or_none(request.GET.get("indication")),
            specialty_id=_int_or_none(request.GET.get("specialty")),
            window=window if window in Window.values else Window.ALL_TIME,
            all_sections=request.GET.get("all") == "1",
        )


def _primary(sections: list[ScoreSection], indication_id: int | None) -> ScoreSection | None:
    """The section the first screen shows: the indication the reader came for, else all."""
    chosen = [s for s in sections if s.indication and s.indication.pk == indication_id]
    return (chosen or sections or [None])[0]


def _score_context(request: HttpRequest, drug, filters: DrugPageFilters) -> dict:
    view = page_figure_view(request.user, Subject(drug_id=drug.pk))
    show_scores = view != FigureView.NONE
    pharma = view == FigureView.RELEASE
    sections: list[ScoreSection] = []
    if show_scores:
        cells = drug_cells_for_viewer(
            view, drug.pk, specialty_id=filters.specialty_id, window=filters.window
        )
        sections = _sections(drug.pk, cells, {i.pk for i in drug.indications.all()})
    primary = _primary(sections, filters.indication_id)
    others = [s for s in sections if s is not primary]
    shown = others if filters.all_sections else others[: SECTIONS_SHOWN - 1]
    return {
        "show_scores": show_scores,
        "pharma": pharma,
        "primary": primary,
        "sections": shown,
        "all_sections": sections,
        "hidden_sections": len(others) - len(shown),
        "trend": _trend_lines(drug.pk) if view == FigureView.LIVE else [],
        "specialties": Specialty.objects.all(),
        "specialty_id": filters.specialty_id,
        "window": filters.window,
        "windows": Window.choices,
        "indication_id": primary.indication.pk if primary and primary.indication else None,
    }


def _comment_context(request: HttpRequest, drug) -> dict:
    sort = request.GET.get("sort", CommentSort.HELPFUL)
    sort = sort if sort in CommentSort.ALL else CommentSort.HELPFUL
    indication_id = _int_or_none(request.GET.get("comments_for"))
    limit = min(max(_int_or_none(request.GET.get("comments")) or 10, 10), 200)
    show = can(request.user, Capability.READ_COMMENTS)
    comments, total = (
        published_comments(
            request.user, drug.pk, indication_id=indication_id, sort=sort, limit=limit
        )
        if show
        else ([], 0)
    )
    replies = published_replies(request.user, [c.id for c in comments]) if comments else {}
    return {
        "replies": replies,
        "can_reply": can(request.user, Capability.COMMENT),
        "comment_max": COMMENT_MAX,
        "show_comments": show,
        "comments": comments,
        "comment_total": total,
        "comment_sort": sort,
        "comment_indication": indication_id,
        "comment_limit": limit,
        "more_comments_query": _more_comments_query(request, limit + 20),
        "flag_reasons": FlagReason.choices,
        "can_vote": can(request.user, Capability.VOTE),
    }


def _more_comments_query(request: HttpRequest, limit: int) -> str:
    """The current query string with a larger comment limit: every filter is kept."""
    query = request.GET.copy()
    query["comments"] = str(limit)
    return query.urlencode()


def _mine_context(request: HttpRequest, drug) -> dict:
    can_rate = can(request.user, Capability.RATE)
    mine = list(my_ratings(request.user).filter(drug=drug)) if can_rate else []
    is_physician = physician_of(request.user) is not None
    return {
        "is_physician": is_physician,
        "is_saved": is_physician
        and SavedDrug.objects.filter(user=request.user, drug=drug).exists(),
        "can_rate": can_rate,
        "mine": {r.indication_id: r for r in mine},
        "my_list": mine,
    }


def _notes(request: HttpRequest) -> dict[str, list[dict[str, str]]]:
    """Flash messages by where they belong: beside the physician's rating ("mine"), on a
    comment ("comment-<id>"), or at the top of the page ("top")."""
    notes: dict[str, list[dict[str, str]]] = {}
    for message in get_messages(request):
        anchor = message.extra_tags or "top"
        notes.setdefault(anchor, []).append({"level": message.level_tag, "text": str(message)})
    return notes


def _label_context(drug) -> dict:
    labelled = drug.drug_indications.select_related("indication").order_by("indication__name")
    return {
        "labelled": list(labelled),
        "dailymed_url": DAILYMED_SEARCH
        + urlencode({"labeltype": "all", "query": drug.generic_name}),
        "official": getattr(drug, "official_info", None),
    }


def _report_context(request: HttpRequest) -> dict:
    return {"can_report_error": catalog_actions.can_report(request.user)}


@require_GET
def drug_page(request: HttpRequest, slug: str) -> HttpResponse:
    drug = catalog.get_drug_by_slug(slug)
    count_drug_view(drug.pk)
    remember_view(request, drug)
    filters = DrugPageFilters.from_request(request)
    context = {
        "drug": drug,
        "dimensions": DIMENSIONS,
        **_score_context(request, drug, filters),
        **_comment_context(request, drug),
        **_mine_context(request, drug),
        **_label_context(drug),
        **_report_context(request),
    }
    context["notes"] = _notes(request)
    return render(request, "web/drug.html", context)


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
