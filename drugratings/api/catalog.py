"""Catalogue and scores: /stats, /drugs, /indications, /drug-classes."""

from __future__ import annotations

import json
from datetime import date, datetime

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status
from ninja.responses import NinjaJSONEncoder

from drugratings.accounts.access import AccessDenied, Capability, FigureView, require
from drugratings.analytics.access import public_figures
from drugratings.analytics.trends import monthly_trend
from drugratings.api.auth import SIGNED_IN
from drugratings.api.bounds import MAX_OFFSET, Id, Page
from drugratings.catalog import access as catalog
from drugratings.catalog import actions as catalog_actions
from drugratings.catalog.models import CatalogErrorReport, Drug
from drugratings.core.cached import document_response
from drugratings.portal.access import (
    Subject,
    drug_cells_for_viewer,
    drugs_shown_for_indication,
    figure_view_for,
    figures_key,
    indication_cells_for_viewer,
)
from drugratings.ratings import access as ratings_access

router = Router(tags=["catalogue"])


class ClassRef(Schema):
    id: int
    name: str


class IndicationRef(Schema):
    id: int
    name: str
    icd10: list[str]
    source: str | None = Field(
        None, description="The reference that lists this labelled indication, e.g. the FDA label"
    )


class DrugSummary(Schema):
    id: int
    generic_name: str
    slug: str
    brand_names: list[str]
    drug_class: ClassRef | None
    indications: list[IndicationRef]


class DrugList(Schema):
    items: list[DrugSummary]
    total: int
    page: int
    page_size: int


class ScoreOut(Schema):
    indication_id: int | None
    dimension: str
    score: float | None
    ci_low: float | None
    ci_high: float | None
    n_ratings: int
    n_raters: int
    shown: bool
    distribution: list[int] = Field(description="Counts of scores 1..5")
    method: str = Field(
        description="'adjusted' (model), 'mean' (before the next refit) or "
        "'release' (pharma: the latest published release)"
    )
    n_conflicted: int = Field(0, description="Ratings left out for a conflict of interest")
    score_with_conflicts: float | None = Field(
        None, description="Approximate score if conflicted ratings were counted"
    )
    rank: int | None = Field(
        None, description="Rank among shown drugs of the indication (or class)"
    )
    rank_low: int | None = None
    rank_high: int | None = Field(None, description="95% rank interval")
    rank_of: int | None = None
    best_in_class: bool = Field(False, description="Only when the rank interval is 1 to 1")


class DrugDetail(DrugSummary):
    manufacturer: str
    application_numbers: list[str]
    routes: str
    approval_status: str
    first_marketed: date | None
    scores: list[ScoreOut]


class Stats(Schema):
    drugs: int
    indications: int
    drug_classes: int
    ratings: int
    comments: int
    verified_physicians: int


class DrugFilters(Schema):
    q: str = Field("", max_length=100)
    drug_class: Id | None = None
    indication: Id | None = None
    page: Page = 1
    page_size: int = Field(20, ge=1, le=100)


def _view(request: HttpRequest, subject: Subject) -> FigureView:
    """Live, release or no figures for this caller (403 for pharma outside scope or
    subscription): the same check for every endpoint that shows a figure."""
    return figure_view_for(request.user, getattr(request, "api_token", None), subject)


def drug_summary(drug: Drug) -> dict:
    return {
        "id": drug.pk,
        "generic_name": drug.generic_name,
        "slug": drug.slug,
        "brand_names": drug.brand_names,
        "drug_class": {"id": drug.drug_class.pk, "name": drug.drug_class.name}
        if drug.drug_class
        else None,
        "indications": [
            {"id": i.pk, "name": i.name, "icd10": i.icd10_codes, "source": i.source}
            for i in drug.listed_indications
        ],
    }


@router.get("/stats", response=Stats, tags=["public"], summary="Public figures")
def stats(request: HttpRequest) -> dict:
    return public_figures()


@router.get("/drugs", response=DrugList, auth=SIGNED_IN, summary="Search the catalogue")
def list_drugs(request: HttpRequest, filters: Query[DrugFilters]) -> dict:
    require(request.user, Capability.READ_CATALOG)
    found = catalog.search_drugs(
        filters.q,
        drug_class_id=filters.drug_class,
        indication_id=filters.indication,
        page=filters.page,
        page_size=filters.page_size,
    )
    return {
        "items": [drug_summary(d) for d in found.drugs],
        "total": found.total,
        "page": found.page,
        "page_size": found.page_size,
    }


@router.get(
    "/drugs/{drug_id}", response=DrugDetail, auth=SIGNED_IN, summary="A drug and its scores"
)
def get_drug(request: HttpRequest, drug_id: Id) -> HttpResponse:
    require(request.user, Capability.READ_CATALOG)
    # The drug's catalogue facts and indications (three queries) are read only when its
    # document is built: a stored document needs only the drug to exist.
    drug = catalog.get_drug_ref(drug_id)
    # The one figure check (403 for pharma outside scope or subscription) runs before the
    # cache: stored bytes per (drug, figures version, kind of viewer), see core/cached.py.
    view = _view(request, Subject(drug_id=drug.pk))
    return document_response(
        request,
        "api-drug",
        figures_key(view, request.user, drug.pk),
        lambda: _drug_document(view, catalog.get_drug(drug.pk)),
        content_type="application/json",
    )


def _drug_document(view: FigureView, drug: Drug) -> bytes:
    doc = {
        **drug_summary(drug),
        "manufacturer": drug.manufacturer,
        "application_numbers": drug.application_numbers,
        "routes": drug.routes,
        "approval_status": drug.approval_status,
        "first_marketed": drug.first_marketed,
        "scores": [cell.as_api() for cell in drug_cells_for_viewer(view, drug.pk)],
    }
    return json.dumps(
        DrugDetail.model_validate(doc).model_dump(mode="json"), cls=NinjaJSONEncoder
    ).encode()


class TrendPointOut(Schema):
    month: str
    dimension: str
    value: float | None = Field(description="Rater-adjusted mean; null below the display minimum")
    ci_low: float | None
    ci_high: float | None
    n_raters: int


@router.get(
    "/drugs/{drug_id}/trend",
    response=list[TrendPointOut],
    auth=SIGNED_IN,
    summary="Monthly rater-adjusted trend of a drug (last 24 months)",
)
def drug_trend(request: HttpRequest, drug_id: Id) -> list[dict]:
    require(request.user, Capability.READ_SCORES)
    drug = catalog.get_drug(drug_id)
    if _view(request, Subject(drug_id=drug.pk)) != FigureView.LIVE:
        raise AccessDenied("Pharma accounts see trends in the portal's month breakdowns.")
    return [p.__dict__ for p in monthly_trend(drug.pk)]


class IndicationSummary(IndicationRef):
    slug: str
    n_drugs: int


class IndicationList(Schema):
    items: list[IndicationSummary]
    total: int


class DrugWithScores(DrugSummary):
    listed: bool = Field(description="False when the drug is only rated off-label for it")
    scores: list[ScoreOut]


class IndicationDetail(IndicationRef):
    slug: str
    drugs: list[DrugWithScores]


class ClassSummary(ClassRef):
    slug: str
    n_drugs: int


class ClassList(Schema):
    items: list[ClassSummary]
    total: int


class ClassDetail(ClassRef):
    slug: str
    drugs: list[DrugWithScores]


@router.get("/indications", response=IndicationList, auth=SIGNED_IN, summary="Indications")
def list_indications(
    request: HttpRequest,
    q: str = "",
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> dict:
    require(request.user, Capability.READ_CATALOG)
    items, total = catalog.list_indications(q, limit, offset)
    return {
        "items": [
            {
                "id": i.pk,
                "name": i.name,
                "slug": i.slug,
                "icd10": i.icd10_codes,
                "n_drugs": i.n_drugs,
            }
            for i in items
        ],
        "total": total,
    }


@router.get(
    "/indications/{indication_id}",
    response=IndicationDetail,
    auth=SIGNED_IN,
    summary="An indication and its drugs, side by side",
)
def get_indication(request: HttpRequest, indication_id: Id) -> dict:
    require(request.user, Capability.READ_CATALOG)
    indication = catalog.get_indication(indication_id)
    view = _view(request, Subject(indication_id=indication.pk))
    cells = indication_cells_for_viewer(view, indication.pk)
    drugs = drugs_shown_for_indication(view, ratings_access.drugs_for_indication(indication), cells)
    return {
        "id": indication.pk,
        "name": indication.name,
        "slug": indication.slug,
        "icd10": indication.icd10_codes,
        "drugs": [
            {
                **drug_summary(drug),
                "listed": listed,
                "scores": [c.as_api() for c in cells.get(drug.pk, [])],
            }
            for drug, listed in drugs
        ],
    }


@router.get("/drug-classes", response=ClassList, auth=SIGNED_IN, summary="Drug classes")
def list_drug_classes(
    request: HttpRequest,
    q: str = "",
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> dict:
    require(request.user, Capability.READ_CATALOG)
    items, total = catalog.list_drug_classes(q, limit, offset)
    return {
        "items": [
            {"id": c.pk, "name": c.name, "slug": c.slug, "n_drugs": c.n_drugs} for c in items
        ],
        "total": total,
    }


@router.get(
    "/drug-classes/{class_id}",
    response=ClassDetail,
    auth=SIGNED_IN,
    summary="A drug class and its drugs, with scores across indications",
)
def get_drug_class(request: HttpRequest, class_id: Id) -> dict:
    require(request.user, Capability.READ_CATALOG)
    drug_class = catalog.get_drug_class(class_id)
    view = _view(request, Subject(class_id=drug_class.pk))
    drugs = catalog.drugs_in_class(drug_class)
    return {
        "id": drug_class.pk,
        "name": drug_class.name,
        "slug": drug_class.slug,
        "drugs": [
            {
                **drug_summary(d),
                "listed": True,
                "scores": [
                    c.as_api() for c in drug_cells_for_viewer(view, d.pk) if c.indication_id is None
                ],
            }
            for d in drugs
        ],
    }


class CatalogReportIn(Schema):
    kind: str = Field(description="not_on_label, missing_indication, wrong_source or other")
    message: str = Field(max_length=2000)
    indication_id: Id | None = None


class CatalogReportOut(Schema):
    id: int
    drug_id: int
    indication_id: int | None
    kind: str
    message: str
    status: str
    created_at: datetime


class CatalogResolveIn(Schema):
    decision: str = Field(description="correct or dismiss")
    note: str = Field("", max_length=500)
    action: str | None = Field(None, description="remove_indication or add_indication")
    indication_id: Id | None = None
    reference: str = Field("", max_length=150, description="The label or reference checked")


def _report_out(report: CatalogErrorReport) -> dict:
    return {
        "id": report.pk,
        "drug_id": report.drug_id,
        "indication_id": report.indication_id,
        "kind": report.kind,
        "message": report.message,
        "status": report.status,
        "created_at": report.created_at,
    }


@router.post(
    "/drugs/{drug_id}/catalog-reports",
    response={201: CatalogReportOut},
    auth=SIGNED_IN,
    summary="Report a wrong catalogue fact (verified physicians and moderators)",
)
def report_catalog_error(request: HttpRequest, drug_id: Id, payload: CatalogReportIn) -> Status:
    report = catalog_actions.report_error(
        request.user,
        drug_id,
        kind=payload.kind,
        message=payload.message,
        indication_id=payload.indication_id,
    )
    return Status(201, _report_out(report))


@router.get(
    "/moderation/catalog-reports",
    response=list[CatalogReportOut],
    auth=SIGNED_IN,
    summary="Open catalogue error reports (moderators)",
)
def catalog_report_queue(request: HttpRequest) -> list[dict]:
    require(request.user, Capability.MODERATE)
    return [_report_out(r) for r in catalog.open_reports()[:200]]


@router.post(
    "/moderation/catalog-reports/{report_id}/resolve",
    response=CatalogReportOut,
    auth=SIGNED_IN,
    summary="Correct the catalogue or dismiss a report (moderators; audited)",
)
def resolve_catalog_report(request: HttpRequest, report_id: Id, payload: CatalogResolveIn) -> dict:
    report = catalog_actions.resolve_report(
        request.user,
        report_id,
        decision=payload.decision,
        note=payload.note,
        action=payload.action,
        indication_id=payload.indication_id,
        reference=payload.reference,
    )
    return _report_out(report)
