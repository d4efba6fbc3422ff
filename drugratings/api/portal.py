"""The pharma portal API: releases, reports (JSON, CSV, Excel, Parquet) and a release stream."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from ninja import Field, Query, Router, Schema

from drugratings.accounts.access import Capability, require
from drugratings.api.auth import SIGNED_IN
from drugratings.api.bounds import MAX_OFFSET, Id, Offset
from drugratings.errors import InvalidInput
from drugratings.portal import access, alerts, changes, portfolio
from drugratings.portal import areas as portal_areas
from drugratings.portal.exports import FORMATS
from drugratings.portal.exports.dictionary import COLUMNS
from drugratings.portal.models import Release
from drugratings.portal.reports.notes import empty_reason
from drugratings.portal.stream import release_events
from drugratings.ratings.dimensions import DIMENSION_NAMES

router = Router(tags=["portal"], auth=SIGNED_IN)
MAX_RELEASE_ID = 2**63 - 1


class ReleaseOut(Schema):
    id: int
    published_at: datetime
    methodology_version: str
    n_cells_published: int
    n_cells_changed: int
    privacy: dict


class CellOut(Schema):
    drug_id: int
    drug_name: str
    brand_names: list[str] = Field(default_factory=list)
    manufacturer: str = ""
    indication_id: int | None
    indication_name: str | None = None
    dimension: str
    breakdown_value: str | dict[str, str] | None = None
    score: float | None
    ci_low: float | None
    ci_high: float | None
    n_raters: int | None
    suppressed: bool
    rank: int | None = None
    rank_low: int | None = None
    rank_high: int | None = None


class EngagementOut(Schema):
    month: str
    ratings: int | None = Field(
        None,
        description="Ratings that month (noisy, from the closed month cells); null if suppressed",
    )
    comments: int | None = Field(None, description="Comments (noisy); null if suppressed")
    page_views: int | None = Field(None, description="Drug-page views (noisy)")


class ReportOut(Schema):
    release: ReleaseOut
    kind: str
    subject: dict
    breakdown: str
    k: int = Field(description="Minimum distinct physicians behind a published cell")
    cells: list[CellOut]
    engagement: list[EngagementOut] = Field(
        default_factory=list, description="Drug scorecards: engagement by completed month"
    )
    note: str | None = Field(None, description="Why the report shows no figures, if it does not")


class AreaOut(Schema):
    organization: str
    all_areas: bool
    indications: list[dict]
    drug_classes: list[dict]
    results: dict | None = Field(
        None, description="With q: matching drugs, drug_classes and indications"
    )


class ReleaseItemOut(Schema):
    id: int
    published_at: datetime
    n_cells_changed: int


class ReleasePageOut(Schema):
    items: list[ReleaseItemOut]
    next: int | None = Field(None, description="Pass as `after` for the next page")


class FiguresOut(Schema):
    score: float
    ci_low: float
    ci_high: float
    n_raters: int


class ChangeOut(Schema):
    drug_id: int
    indication_id: int | None
    dimension: str
    breakdown: str | None
    breakdown_value: str | None
    before: FiguresOut | None
    after: FiguresOut | None


class ChangesOut(Schema):
    from_release: int
    to_release: int
    items: list[ChangeOut]


def _portal(request: HttpRequest, scope: str):
    """The caller's organisation, after the role check and, for API keys, the scope check."""
    require(request.user, Capability.USE_PORTAL)
    access.require_scope(getattr(request, "api_token", None), scope)
    return access.organization_of(request.user)


def _release_out(release: Release) -> dict:
    return {
        "id": release.pk,
        "published_at": release.published_at,
        "methodology_version": release.methodology_version,
        "n_cells_published": release.n_cells_published,
        "n_cells_changed": release.n_cells_changed,
        "privacy": release.privacy,
    }


def _respond(request: HttpRequest, report: access.Report, fmt: str):
    request.portal_release = report.release  # type: ignore[attr-defined]
    if fmt == "json":
        return {
            "release": _release_out(report.release),
            "kind": report.kind,
            "subject": report.subject,
            "breakdown": report.breakdown,
            "k": report.min_raters,
            "cells": [c.as_dict() for c in report.cells],
            "engagement": report.engagement,
            "note": empty_reason(report) or None,
        }
    if fmt not in FORMATS:
        raise InvalidInput("format", "Use json, csv, xlsx, parquet or pdf.")
    render, content_type, extension = FORMATS[fmt]
    response = HttpResponse(render(report), content_type=content_type)
    name = (
        f"drugratings-{report.kind}-{report.subject['id']}-{report.breakdown}-r{report.release.pk}"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.{extension}"'
    return response


@router.get(
    "/portal/areas",
    response=AreaOut,
    summary="What your organisation subscribes to; with q, find indications, classes and drugs",
)
def areas(request: HttpRequest, q: str = Query("", max_length=100)) -> dict:
    org = _portal(request, "reports:read")
    subs = org.subscriptions.select_related("indication", "drug_class")
    return {
        "results": portal_areas.search_areas(org, q) if q.strip() else None,
        "organization": org.name,
        "all_areas": org.all_areas,
        "indications": [
            {"id": s.indication_id, "name": s.indication.name} for s in subs if s.indication_id
        ],
        "drug_classes": [
            {"id": s.drug_class_id, "name": s.drug_class.name} for s in subs if s.drug_class_id
        ],
    }


@router.get(
    "/portal/releases",
    response=ReleasePageOut,
    summary="Releases oldest first, with the number of cells each changed",
)
def releases(
    request: HttpRequest, after: Offset | None = None, limit: int = Query(50, ge=1, le=200)
) -> dict:
    _portal(request, "releases:read")
    page, cursor = changes.releases_page(after, limit)
    return {
        "items": [
            {"id": r.pk, "published_at": r.published_at, "n_cells_changed": r.n_cells_changed}
            for r in page
        ],
        "next": cursor,
    }


@router.get(
    "/portal/changes",
    response=ChangesOut,
    summary="Every published cell whose figures differ between two releases",
)
def changes_feed(
    request: HttpRequest, since: int = Query(..., ge=0, le=MAX_OFFSET), until: Id | None = None
):
    org = _portal(request, "reports:read")
    to_release = (
        changes.get_release(until, "until") if until is not None else access.latest_release()
    )
    from_release = changes.get_release(since, "since") if since else None
    request.portal_release = to_release  # type: ignore[attr-defined]
    items = changes.changes_between(from_release, to_release, portal_areas.visible_drug_ids(org))
    return {
        "from_release": since,
        "to_release": to_release.pk,
        "items": [c.as_dict() for c in items],
    }


class MoveOut(Schema):
    delta: float
    ci_low: float
    ci_high: float
    significant: bool


class CompetitorOut(Schema):
    drug_id: int
    drug_name: str
    brand_names: list[str]
    manufacturer: str
    score: float
    ci_low: float
    ci_high: float
    n_raters: int


class TrendPointOut(Schema):
    month: str
    score: float
    ci_low: float
    ci_high: float
    n_raters: int


class PortfolioItemOut(Schema):
    drug_id: int
    drug_name: str
    brand_names: list[str]
    manufacturer: str
    indication_id: int
    indication_name: str
    dimension: str
    score: float
    ci_low: float
    ci_high: float
    n_raters: int
    rank: int | None
    rank_low: int | None
    rank_high: int | None
    rank_of: int
    change_90d: MoveOut | None
    competitors: list[CompetitorOut]
    trend: list[TrendPointOut]


class PortfolioOut(Schema):
    release: ReleaseOut
    manufacturers: list[str]
    items: list[PortfolioItemOut]


class AlertOut(ChangeOut):
    release_id: int
    delta: float
    ci_low: float
    ci_high: float
    drug_name: str
    brand_names: list[str]
    indication_name: str | None


class AlertsOut(Schema):
    items: list[AlertOut]


@router.get(
    "/portal/portfolio",
    response=PortfolioOut,
    summary="Your manufacturers' drugs against their competitors, from the latest release",
)
def portfolio_view(request: HttpRequest, dimension: str | None = None, release: Id | None = None):
    org = _portal(request, "reports:read")
    if dimension is not None and dimension not in DIMENSION_NAMES:
        raise InvalidInput("dimension", f"Use one of {', '.join(DIMENSION_NAMES)}.")
    pinned = access.get_release(release)
    request.portal_release = pinned  # type: ignore[attr-defined]
    return {
        "release": _release_out(pinned),
        "manufacturers": org.manufacturers,
        "items": [i.as_dict() for i in portfolio.portfolio(org, pinned, dimension)],
    }


@router.get(
    "/portal/alerts",
    response=AlertsOut,
    summary="Significant published moves of the drugs your organisation watches",
)
def alerts_view(request: HttpRequest, since: int = Query(0, ge=0, le=MAX_OFFSET)):
    org = _portal(request, "reports:read")
    return {"items": alerts.describe(alerts.alerts_since(org, since))}


@router.get("/portal/releases/latest", response=ReleaseOut, summary="The latest release")
def latest(request: HttpRequest) -> dict:
    _portal(request, "releases:read")
    release = access.latest_release()
    request.portal_release = release  # type: ignore[attr-defined]
    return _release_out(release)


@router.get("/portal/releases/{release_id}", response=ReleaseOut, summary="One release")
def release_detail(request: HttpRequest, release_id: Id) -> dict:
    _portal(request, "releases:read")
    release = access.get_release(release_id)
    request.portal_release = release  # type: ignore[attr-defined]
    return _release_out(release)


@router.get("/portal/reports/dictionary", summary="The data dictionary of report cells and exports")
def dictionary(request: HttpRequest) -> dict:
    _portal(request, "reports:read")
    return {"columns": [{"name": n, "type": t, "description": d} for n, t, d in COLUMNS]}


@router.get(
    "/portal/reports/indications/{indication_id}",
    response=ReportOut,
    summary="Indication report: every drug used for it (format=json|csv|xlsx|parquet)",
)
def indication_report(
    request: HttpRequest,
    indication_id: Id,
    breakdown: str = "none",
    format: str = "json",
    release: Id | None = None,
):
    _portal(request, "reports:read")
    return _respond(
        request, access.indication_report(request.user, indication_id, breakdown, release), format
    )


@router.get(
    "/portal/reports/drug-classes/{class_id}",
    response=ReportOut,
    summary="Drug-class report across indications",
)
def drug_class_report(
    request: HttpRequest,
    class_id: Id,
    breakdown: str = "none",
    format: str = "json",
    release: Id | None = None,
):
    _portal(request, "reports:read")
    return _respond(
        request, access.drug_class_report(request.user, class_id, breakdown, release), format
    )


@router.get(
    "/portal/reports/drugs/{drug_id}",
    response=ReportOut,
    summary="Drug scorecard against its class competitors, and per indication",
)
def drug_report(
    request: HttpRequest,
    drug_id: Id,
    breakdown: str = "none",
    format: str = "json",
    release: Id | None = None,
):
    _portal(request, "reports:read")
    return _respond(request, access.drug_report(request.user, drug_id, breakdown, release), format)


@router.get("/portal/stream", summary="Server-sent events, one per new release")
def stream(request: HttpRequest, after: Offset | None = None):
    # The checks (role, key scope, organisation) and the audit row happen here, synchronously
    # as for every endpoint; only the body is asynchronous (portal/stream.py).
    _portal(request, "releases:read")
    header = request.headers.get("Last-Event-ID")
    field, last = ("Last-Event-ID", header) if header else ("after", after)
    if last is None:
        latest_release = Release.objects.order_by("-pk").values_list("pk", flat=True).first()
        last = latest_release or 0
    try:
        start = int(last)
    except ValueError:
        raise InvalidInput(field, "Give a release id.") from None
    if not 0 <= start <= MAX_OFFSET:
        raise InvalidInput(field, f"Give a release id between 0 and {MAX_OFFSET}.")
    response = StreamingHttpResponse(release_events(start), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
