"""The pharma portal in the browser: areas, reports with charts, exports, API keys, webhooks."""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from drugratings.accounts.access import AccessDenied
from drugratings.accounts.regions import region_name
from drugratings.bounds import MAX_ID, parse_int, require_int
from drugratings.catalog import access as catalog
from drugratings.errors import InvalidInput
from drugratings.portal import access, actions
from drugratings.portal.areas import search_areas
from drugratings.portal.exports import FORMATS
from drugratings.portal.models import Breakdown
from drugratings.portal.reports.notes import empty_reason
from drugratings.ratings.dimensions import DIMENSIONS
from drugratings.web.views.portal_brand import _denied, month_panels, portfolio_context

REPORTS = {
    "indications": access.indication_report,
    "classes": access.drug_class_report,
    "drugs": access.drug_report,
}


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    try:
        org = access.organization_of(request.user)
    except AccessDenied as exc:
        return _denied(request, exc)
    q = request.GET.get("q", "").strip()[:100]
    found_indications, found_classes = [], []
    if q:
        found_indications = catalog.list_indications(q, limit=10)[0]
        found_classes = catalog.list_drug_classes(q, limit=10)[0]
    return render(
        request,
        "web/portal/dashboard.html",
        {
            "org": org,
            "subscriptions": org.subscriptions.select_related("indication", "drug_class"),
            "releases": access.recent_releases(request.user),
            "q": q,
            "found_indications": found_indications,
            "found_classes": found_classes,
            "found": search_areas(org, q) if q else None,
            **portfolio_context(request, org),
        },
    )


def _table(report: access.Report, dimension: str) -> dict:
    """Rows for the page: one per drug (and indication), columns per breakdown value."""
    cells = [c for c in report.cells if c.dimension == dimension]
    columns: list[str] = []
    rows: dict[tuple, dict] = {}
    by_region = report.breakdown == Breakdown.REGION
    for cell in cells:
        value = cell.breakdown_value
        if isinstance(value, dict):  # a combined breakdown: {"region": "US-CA", "month": ...}
            label = " · ".join(
                region_name(part) if name == "region" else part for name, part in value.items()
            )
        else:
            label = value or "All"
            if by_region and value:
                label = region_name(value)  # "California (US-CA)"
        if label not in columns:
            columns.append(label)
        key = (cell.drug_id, cell.indication_id)
        row = rows.setdefault(
            key,
            {
                "drug_id": cell.drug_id,
                "name": cell.drug_name,
                "brands": ", ".join(b.title() for b in cell.brand_names[:3]),
                "manufacturer": cell.manufacturer,
                "indication_id": cell.indication_id,
                "indication_name": cell.indication_name,
                "cells": {},
            },
        )
        row["cells"][label] = cell
    ordered = sorted(
        rows.values(),
        key=lambda r: (
            r["indication_id"] is not None,
            -(
                r["cells"].get("All").score
                if r["cells"].get("All") and r["cells"]["All"].score
                else 0
            ),
            r["name"],
        ),
    )
    return {
        "columns": columns,
        "rows": [{**r, "ordered": [r["cells"].get(c) for c in columns]} for r in ordered],
    }


def _release_param(request: HttpRequest) -> int | None:
    """`release=` pins a page or export to one release, so two downloads a minute apart agree."""
    raw = request.GET.get("release", "").strip()
    if not raw:
        return None
    value = parse_int(raw, 1, MAX_ID)
    if value is None:
        raise InvalidInput("release", "Give a release id (a whole number).")
    return value


def _load_report(request: HttpRequest, kind: str, pk: int) -> access.Report | HttpResponse:
    """The report, or the page that says why not (unknown kind, no access, bad option)."""
    if kind not in REPORTS:
        raise Http404("No such report.")
    try:
        release_id = _release_param(request)
        result = REPORTS[kind](
            request.user, pk, request.GET.get("breakdown", Breakdown.NONE), release_id
        )
    except AccessDenied as exc:
        return _denied(request, exc)
    except InvalidInput as exc:
        return render(
            request, "web/message.html", {"title": "Bad request", "text": exc.message}, status=400
        )
    request.portal_release = result.release  # type: ignore[attr-defined]
    return result


@login_required
@require_GET
def report(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    result = _load_report(request, kind, pk)
    if isinstance(result, HttpResponse):
        return result
    dimension = request.GET.get("dimension", DIMENSIONS[0].value)
    if dimension not in {d.value for d in DIMENSIONS}:
        dimension = DIMENSIONS[0].value
    by_month = month_panels(result, dimension, request.GET.get("focus", ""))
    forest = defaultdict(list)
    if result.breakdown == Breakdown.NONE:
        for cell in result.cells:
            if cell.indication_id is None or result.kind == "indication":
                forest[cell.dimension].append(cell)
    return render(
        request,
        "web/portal/report.html",
        {
            "report": result,
            "kind": kind,
            "pk": pk,
            "dimension": dimension,
            "dimensions": DIMENSIONS,
            "breakdowns": Breakdown.choices,
            "table": _table(result, dimension) if not by_month else None,
            "by_month": by_month,
            "empty_reason": empty_reason(result),
            "forest": sorted(
                forest.get(dimension, []), key=lambda c: (c.suppressed, -(c.score or 0))
            ),
            "formats": list(FORMATS),
        },
    )


@login_required
@require_GET
def export(request: HttpRequest, kind: str, pk: int, fmt: str) -> HttpResponse:
    if fmt not in FORMATS:
        return render(
            request,
            "web/message.html",
            {"title": "Unknown format", "text": "Use csv, xlsx, parquet or pdf."},
            status=404,
        )
    result = _load_report(request, kind, pk)
    if isinstance(result, HttpResponse):
        return result
    render_fn, content_type, extension = FORMATS[fmt]
    response = HttpResponse(render_fn(result), content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="drugratings-{result.kind}-{pk}-{result.breakdown}-'
        f'r{result.release.pk}.{extension}"'
    )
    return response


@login_required
def keys(request: HttpRequest) -> HttpResponse:
    try:
        access.organization_of(request.user)  # an analyst of an active organisation
    except AccessDenied as exc:
        return _denied(request, exc)
    secret, status = None, 200
    if request.method == "POST":
        try:
            if request.POST.get("revoke"):
                actions.revoke_api_key(request.user, require_int(request.POST["revoke"], "revoke"))
                messages.success(request, "Key revoked.")
                return redirect("web:portal_keys")
            _, secret = actions.create_api_key(
                request.user,
                request.POST.get("name", ""),
                require_int(request.POST.get("days") or 0, "days", 0, 3650),
                request.POST.getlist("scopes"),
            )
        except (InvalidInput, ValueError) as exc:
            messages.error(request, getattr(exc, "message", "Days must be a number."))
            status = 400
    return render(
        request,
        "web/portal/keys.html",
        {
            "keys": access.organization_api_keys(request.user),
            "secret": secret,
            "scopes": actions.API_KEY_SCOPES,
        },
        status=status,
    )


@login_required
def webhooks(request: HttpRequest) -> HttpResponse:
    try:
        org = access.organization_of(request.user)
    except AccessDenied as exc:
        return _denied(request, exc)
    secret, status = None, 200
    if request.method == "POST":
        try:
            if request.POST.get("delete"):
                actions.delete_webhook(request.user, require_int(request.POST["delete"], "delete"))
                messages.success(request, "Webhook deleted.")
                return redirect("web:portal_webhooks")
            _, secret = actions.create_webhook(
                request.user,
                request.POST.get("url", "").strip(),
                ["release", *request.POST.getlist("events")],
            )
        except (InvalidInput, ValueError) as exc:
            messages.error(request, getattr(exc, "message", "Bad request."))
            status = 400
    return render(
        request,
        "web/portal/webhooks.html",
        {"hooks": org.webhooks.all(), "secret": secret},
        status=status,
    )
