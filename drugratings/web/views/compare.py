"""Head-to-head of two to four drugs the physician picks, for one indication or across all."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from drugratings.accounts.access import FigureView, figure_view
from drugratings.analytics.access import ScoreCell
from drugratings.catalog import access as catalog
from drugratings.catalog.models import Drug, Indication
from drugratings.portal.access import Subject, drug_cells_for_viewer, page_figure_view
from drugratings.ratings.access import drugs_for_indication
from drugratings.ratings.dimensions import DIMENSIONS

MAX_DRUGS = 4
MAX_SUGGESTIONS = 12


@dataclass(frozen=True)
class DrugCell:
    drug: Drug
    cell: ScoreCell | None


@dataclass(frozen=True)
class DimensionRow:
    """One dimension across the chosen drugs: a row on a desktop, a stacked block on a phone."""

    label: str
    cells: list[DrugCell]


def _chosen_slugs(request: HttpRequest) -> list[str]:
    slugs = [s for s in request.GET.getlist("drugs") if s][: MAX_DRUGS + 1]
    added = request.GET.get("add", "").strip()[:100]
    if added:
        found = catalog.search_drugs(added, page_size=1).drugs
        slugs += [found[0].slug] if found else []
    return list(dict.fromkeys(slugs))


def _indication(request: HttpRequest) -> Indication | None:
    raw = request.GET.get("indication", "")
    if not (raw.isdigit() and len(raw) <= 10):
        return None
    return catalog.indications_by_id([int(raw)]).get(int(raw))


def _rows(request: HttpRequest, drugs: list[Drug], indication: Indication | None) -> list:
    wanted = indication.pk if indication else None
    by_drug: dict[int, dict[str, ScoreCell]] = {}
    for drug in drugs:
        # Each drug passes the one figure check (pharma: its subscription covers that drug).
        view = page_figure_view(request.user, Subject(drug_id=drug.pk))
        cells = drug_cells_for_viewer(view, drug.pk)
        by_drug[drug.pk] = {c.dimension: c for c in cells if c.indication_id == wanted}
    return [
        DimensionRow(d.label, [DrugCell(drug, by_drug[drug.pk].get(d.value)) for drug in drugs])
        for d in DIMENSIONS
    ]


def _suggestions(drugs: list[Drug], indication: Indication | None) -> list[Drug]:
    """Drugs to add: others for the same indication, else others in the first drug's class."""
    if indication is not None:
        candidates = [drug for drug, listed in drugs_for_indication(indication) if listed]
    elif drugs and drugs[0].drug_class is not None:
        candidates = catalog.drugs_in_class(drugs[0].drug_class)
    else:
        candidates = []
    chosen = {d.pk for d in drugs}
    return [d for d in candidates if d.pk not in chosen][:MAX_SUGGESTIONS]


@require_GET
def compare(request: HttpRequest) -> HttpResponse:
    slugs = _chosen_slugs(request)
    error = ""
    if len(slugs) > MAX_DRUGS:
        error = f"Compare at most {MAX_DRUGS} drugs: untick one (field: drugs)."
        slugs = slugs[:MAX_DRUGS]
    found = {d.slug: d for d in catalog.drugs_with_relations().filter(slug__in=slugs)}
    drugs = [found[s] for s in slugs if s in found]
    indication = _indication(request)
    show_scores = figure_view(request.user) != FigureView.NONE
    return render(
        request,
        "web/compare.html",
        {
            "drugs": drugs,
            "indication": indication,
            "rows": _rows(request, drugs, indication) if show_scores and len(drugs) >= 2 else [],
            "suggestions": _suggestions(drugs, indication) if len(drugs) < MAX_DRUGS else [],
            "show_scores": show_scores,
            "error": error,
            "max_drugs": MAX_DRUGS,
        },
        status=400 if error else 200,
    )
