"""Reporting a wrong catalogue fact from the drug page, and the moderators' queue of reports."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from drugratings.accounts.access import AccessDenied, Capability, can
from drugratings.catalog import access as catalog
from drugratings.catalog import actions
from drugratings.catalog.models import CatalogReportKind, CorrectionAction
from drugratings.errors import InvalidInput


class ReportForm(forms.Form):
    kind = forms.ChoiceField(label="What is wrong", choices=CatalogReportKind.choices)
    indication = forms.TypedChoiceField(
        label="Indication (if the report is about one)",
        coerce=int,
        required=False,
        empty_value=None,
    )
    message = forms.CharField(
        label="What should it say, and where can a moderator check it (e.g. the label)?",
        widget=forms.Textarea(attrs={"rows": 4}),
        min_length=actions.MESSAGE_MIN,
        max_length=actions.MESSAGE_MAX,
    )


def _denied(request: HttpRequest, text: str) -> HttpResponse:
    return render(request, "web/message.html", {"title": "Not allowed", "text": text}, status=403)


@login_required
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest, slug: str) -> HttpResponse:
    drug = catalog.get_drug_by_slug(slug)
    if not actions.can_report(request.user):
        return _denied(request, "Only verified physicians and moderators may report errors.")
    choices = [("", "—")] + [(i.pk, i.name) for i in drug.listed_indications]
    form = ReportForm(request.POST or None)
    form.fields["indication"].choices = choices
    if request.method == "POST" and form.is_valid():
        try:
            actions.report_error(
                request.user,
                drug.pk,
                kind=form.cleaned_data["kind"],
                message=form.cleaned_data["message"],
                indication_id=form.cleaned_data["indication"],
            )
        except InvalidInput as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Thank you: a moderator will check your report.")
            return redirect("web:drug", slug=drug.slug)
    status = 400 if request.method == "POST" else 200
    return render(request, "web/catalog_report.html", {"drug": drug, "form": form}, status=status)


@login_required
@require_http_methods(["GET"])
def queue(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Capability.MODERATE):
        return _denied(request, "This page is for moderators.")
    return render(
        request,
        "web/catalog_queue.html",
        {"reports": list(catalog.open_reports()[:100]), "actions": CorrectionAction.choices},
    )


@login_required
@require_POST
def resolve(request: HttpRequest, report_id: int) -> HttpResponse:
    indication = request.POST.get("indication_id", "").strip()
    try:
        actions.resolve_report(
            request.user,
            report_id,
            decision=request.POST.get("decision", ""),
            note=request.POST.get("note", ""),
            action=request.POST.get("action") or None,
            indication_id=int(indication) if indication.isdigit() else None,
            reference=request.POST.get("reference", ""),
        )
    except AccessDenied as exc:
        return _denied(request, str(exc))
    except InvalidInput as exc:
        messages.error(request, f"Report #{report_id}: {exc.field}: {exc.message}")
    else:
        messages.success(request, f"Report #{report_id} resolved.")
    return redirect("web:catalog_queue")
