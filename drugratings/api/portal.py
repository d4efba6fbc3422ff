"""The pharma portal API: releases, reports (JSON, CSV, Excel, Parquet) and a release stream."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from ninja import Field, Router, Schema

from drugratings.accounts.access import Capability, require
from drugratings.api.auth import SIGNED_IN
from drugratings.api.bounds import MAX_OFFSET, Id, Offset
from drugratings.errors import InvalidInput
from drugratings.portal import access
from drugratings.portal.exports import FORMATS
from drugratings.portal.exports.dictionary import COLUMNS
from drugratings.portal.models import Release
from drugratings.portal.stream import release_events

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
    indication_id: int | None
    dimension: str
    breakdown_value: str | None = None
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


class AreaOut(Schema):
    organization: str
    all_areas: bool
    indications: list[dict]
    drug_classes: list[dict]


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
        }
    if fmt not in FORMATS:
        raise InvalidInput("format", "Use json, csv, xlsx or parquet.")
    render, content_type, extension = FORMATS[fmt]
    response = HttpResponse(render(report), content_type=content_type)
    name = (
        f"drugratings-{report.kind}-{report.subject['id']}-{report.breakdown}-r{report.release.pk}"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.{extension}"'
    return response


@router.get("/portal/areas", response=AreaOut, summary="What your organisation subscribes to")
def areas(request: HttpRequest) -> dict:
    org = _portal(request, "reports:read")
    subs = org.subscriptions.select_related("indication", "drug_class")
    return {
        "organization": org.name,
        "all_areas": org.all_areas,
        "indications": [
            {"id": s.indication_id, "name": s.indication.name} for s in subs if s.indication_id
        ],
        "drug_classes": [
            {"id": s.drug_class_id, "name": s.drug_class.name} for s in subs if s.drug_class_id
        ],
    }


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
