"""The portal's brand-team pages: the portfolio home, alerts (watch list and digest) and what
changed between releases."""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe

from drugratings.accounts.access import AccessDenied
from drugratings.accounts.backends import BACKEND
from drugratings.bounds import query_int
from drugratings.catalog.models import Drug
from drugratings.core.dbrouter import retry_on_primary
from drugratings.errors import InvalidInput
from drugratings.portal import access, alerts, changes, organisation
from drugratings.portal.areas import drug_labels, indication_names, visible_drug_ids
from drugratings.portal.models import DigestFrequency, QuarterlyReport, Release
from drugratings.portal.portfolio import portfolio, portfolio_drug_ids
from drugratings.ratings.dimensions import DIMENSIONS
from drugratings.web.templatetags.portal_charts import lines_svg


def _denied(request: HttpRequest, exc: AccessDenied) -> HttpResponse:
    return render(
        request, "web/message.html", {"title": "Not available", "text": str(exc)}, status=exc.status
    )


def _dimension(request: HttpRequest, default: str = "tolerability") -> str:
    value = request.GET.get("dimension", default)
    return value if value in {d.value for d in DIMENSIONS} else default


def portfolio_context(request: HttpRequest, org) -> dict:
    """The portfolio section of the portal home: one row per drug and indication."""
    dimension = _dimension(request)
    release = Release.objects.order_by("-pk").first()
    items = portfolio(org, release, dimension) if release else []
    return {
        "quarterly": org.quarterly_reports.only(
            "pk", "kind", "subject_name", "quarter", "release_id"
        )[:12],
        "portfolio": items,
        "portfolio_dimension": dimension,
        "dimensions": DIMENSIONS,
        "latest_release": release,
    }


def _int(raw: str | None) -> int | None:
    return query_int(raw, None)  # ids only: out of range reads as absent (h10b's bounds)


@login_required
def alerts_page(request: HttpRequest) -> HttpResponse:
    try:
        org = access.organization_of(request.user)
    except AccessDenied as exc:
        return _denied(request, exc)
    analyst = request.user.pharma_analyst
    if request.method == "POST":
        if "digest" in request.POST:
            choice = request.POST["digest"]
            if choice not in DigestFrequency.values:
                messages.error(request, "Digest: choose off, daily or weekly.")
                return redirect("web:portal_alerts")
            analyst.digest = choice
            analyst.save(update_fields=["digest"])
            messages.success(request, f"Email digest: {DigestFrequency(choice).label.lower()}.")
        elif "watch" in request.POST:
            drug = Drug.objects.filter(pk=_int(request.POST["watch"]) or 0).first()
            if drug is None:
                messages.error(request, "Watch: no such drug.")
            else:
                org.watched_drugs.add(drug)
                messages.success(request, f"Now watching {drug.generic_name}.")
        elif "unwatch" in request.POST:
            org.watched_drugs.remove(_int(request.POST["unwatch"]) or 0)
            messages.success(request, "Removed from the watch list.")
        return redirect("web:portal_alerts")
    latest = Release.objects.order_by("-pk").first()
    since = _int(request.GET.get("since"))
    if since is None:
        since = max((latest.pk if latest else 0) - 10, 0)
    found = alerts.describe(alerts.alerts_since(org, since))
    found.sort(key=lambda a: (-a["release_id"], a["drug_name"], a["dimension"]))
    mine = portfolio_drug_ids(org)
    labels = drug_labels(mine | set(org.watched_drugs.values_list("pk", flat=True)))
    competitors_to_add = []
    if mine:
        classes = {lab.drug_class_id for lab in labels.values() if lab.drug_class_id}
        competitors_to_add = list(
            Drug.objects.filter(drug_class_id__in=classes)
            .exclude(pk__in=labels.keys())
            .order_by("generic_name")[:40]
        )
    return render(
        request,
        "web/portal/alerts.html",
        {
            "org": org,
            "alerts": found,
            "since": since,
            "analyst": analyst,
            "digest_choices": DigestFrequency.choices,
            "portfolio_drugs": [labels[d] for d in sorted(mine, key=lambda d: labels[d].drug_name)],
            "watched": org.watched_drugs.order_by("generic_name"),
            "candidates": competitors_to_add,
        },
    )


@login_required
def releases_page(request: HttpRequest) -> HttpResponse:
    """Every release with the cells it changed, and the changes of one release."""
    try:
        org = access.organization_of(request.user)
    except AccessDenied as exc:
        return _denied(request, exc)

    releases = list(Release.objects.order_by("-pk")[:50])
    chosen = _int(request.GET.get("release")) or (releases[0].pk if releases else None)
    rows = []
    if chosen:
        until = retry_on_primary(Release.objects.filter(pk=chosen).first)
        if until is not None:
            since = Release.objects.filter(pk__lt=until.pk).order_by("-pk").first()
            found = changes.changes_between(since, until, visible_drug_ids(org))
            labels = drug_labels({c.drug_id for c in found})
            names = indication_names({c.indication_id for c in found})
            grouped = defaultdict(list)
            for c in found[:500]:
                grouped[(c.drug_id, c.indication_id, c.breakdown, c.breakdown_value)].append(c)
            for (drug_id, indication_id, breakdown, value), cells in grouped.items():
                rows.append(
                    {
                        "drug": labels[drug_id],
                        "indication": names.get(indication_id or 0, "all indications"),
                        "breakdown": f"{breakdown} {value}" if breakdown else "",
                        "cells": cells,
                    }
                )
    return render(
        request,
        "web/portal/releases.html",
        {"releases": releases, "chosen": chosen, "rows": rows},
    )


def month_panels(report, dimension: str, focus: str) -> dict | None:
    """A breakdown by something and month, read as the brand team asks it: for one value of the
    other breakdown (e.g. Cardiology), each drug's score by month as lines with interval bands,
    and a table of months (newest first) by drug."""

    if "," not in report.breakdown or "month" not in report.breakdown.split(","):
        return None
    other = next(b for b in report.breakdown.split(",") if b != "month")
    cells = [
        c for c in report.cells if c.dimension == dimension and isinstance(c.breakdown_value, dict)
    ]
    choices = list(dict.fromkeys(c.breakdown_value[other] for c in cells))
    with_data = [
        v for v in choices if any(not c.suppressed and c.breakdown_value[other] == v for c in cells)
    ]
    chosen = (
        focus
        if focus in choices
        else (with_data[0] if with_data else (choices[0] if choices else ""))
    )
    mine = [c for c in cells if c.breakdown_value[other] == chosen]
    months = list(dict.fromkeys(c.breakdown_value["month"] for c in mine))  # newest first
    drugs: dict[tuple, dict] = {}
    for c in mine:
        row = drugs.setdefault(
            (c.drug_id, c.indication_id),
            {
                "name": c.drug_name,
                "drug_id": c.drug_id,
                "indication": c.indication_name,
                "points": {},
                "cells": {},
            },
        )
        row["cells"][c.breakdown_value["month"]] = c
        if not c.suppressed:
            row["points"][c.breakdown_value["month"]] = {
                "score": c.score,
                "ci_low": c.ci_low,
                "ci_high": c.ci_high,
            }
    series = list(drugs.values())
    return {
        "other": other,
        "choices": choices,
        "with_data": with_data,
        "chosen": chosen,
        "months": months,
        "series": series,
        "rows": [{"month": m, "cells": [s["cells"].get(m) for s in series]} for m in months],
        "chart": mark_safe(lines_svg(series, months[::-1]))
        if any(s["points"] for s in series)
        else "",
        "empty_reason": ""
        if with_data
        else "No cell of this breakdown reached k physicians, so every cell is suppressed.",
    }


@login_required
def quarterly_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """A stored quarterly deck, only to its own organisation."""
    from django.http import Http404

    try:
        org = access.organization_of(request.user)
    except AccessDenied as exc:
        return _denied(request, exc)
    deck = QuarterlyReport.objects.filter(pk=pk, organization=org).first()
    if deck is None:
        raise Http404("No such report in your organisation.")
    request.portal_release = deck.release  # type: ignore[attr-defined]
    response = HttpResponse(bytes(deck.pdf), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="drugratings-{deck.kind}-{deck.subject_id}-{deck.quarter}'
        f'-r{deck.release_id}.pdf"'
    )
    return response


def _org_error(request: HttpRequest, exc: Exception) -> None:
    messages.error(request, getattr(exc, "message", str(exc)))


@login_required
def organisation_page(request: HttpRequest) -> HttpResponse:
    """The organisation admin's page: analysts within seats, invites, removals, the audit log."""

    try:
        org = organisation.require_org_admin(request.user)
    except AccessDenied as exc:
        return _denied(request, exc)
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("remove"):
                organisation.remove_analyst(request.user, _int(request.POST["remove"]) or 0)
                messages.success(
                    request, "Analyst removed; their sign-ins and keys no longer work."
                )
            else:
                invited = organisation.invite_analyst(
                    request.user,
                    request.POST.get("email", ""),
                    request.POST.get("display_name", ""),
                    request.build_absolute_uri("/"),
                )
                messages.success(request, f"Invitation sent to {invited.email}.")
            return redirect("web:portal_organisation")
        except InvalidInput as exc:
            _org_error(request, exc)
            status = 400
    return render(
        request,
        "web/portal/organisation.html",
        {
            "org": org,
            "analysts": org.analysts.select_related("user").order_by(
                "-user__is_active", "user__email"
            ),
            "seats_used": organisation.seats_used(org),
            "audit": organisation.audit_rows(request.user, limit=50),
        },
        status=status,
    )


@login_required
def organisation_audit_csv(request: HttpRequest) -> HttpResponse:

    try:
        organisation.require_org_admin(request.user)
    except AccessDenied as exc:
        return _denied(request, exc)
    response = HttpResponse(organisation.audit_csv(request.user), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="drugratings-portal-audit.csv"'
    return response


def accept_invite(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """An invited analyst sets a password, then enrols the second factor."""
    from django.contrib.auth import login

    user = organisation.invited_user(uidb64, token)
    error, status = "", 200
    if request.method == "POST":
        try:
            organisation.set_password(
                user, request.POST.get("new_password1", ""), request.POST.get("new_password2", "")
            )
        except InvalidInput as exc:
            error, status = exc.message, 400
        else:
            login(request, user, backend=BACKEND)
            return redirect("/accounts/two-factor/?next=/portal/")
    return render(
        request,
        "web/portal/invite.html",
        {"invited": user, "error": error},
        status=status,
    )


@login_required
def my_account(request: HttpRequest) -> HttpResponse:
    """An analyst changes their own password or starts over with a new authenticator."""
    from django.contrib.auth import update_session_auth_hash

    try:
        access.organization_of(request.user)
    except AccessDenied as exc:
        return _denied(request, exc)
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("action") == "second-factor":
                organisation.restart_second_factor(request.user, request.POST.get("password", ""))
                return redirect("/accounts/two-factor/?next=/portal/account/")
            organisation.change_password(
                request.user,
                request.POST.get("current_password", ""),
                request.POST.get("new_password1", ""),
                request.POST.get("new_password2", ""),
            )
            update_session_auth_hash(request, request.user)
            messages.success(request, "Password changed.")
            return redirect("web:portal_account")
        except InvalidInput as exc:
            _org_error(request, exc)
            status = 400
    return render(request, "web/portal/account.html", {}, status=status)
