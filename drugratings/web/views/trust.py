"""Physicians declare their industry relationships; moderators work the quarantine queue."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from drugratings.accounts.access import AccessDenied, Capability, require
from drugratings.bounds import require_int
from drugratings.errors import InvalidInput
from drugratings.trust import access, actions
from drugratings.trust.models import InterestKind


class InterestForm(forms.Form):
    company = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=InterestKind.choices, label="Relationship")
    starts_on = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(
        label="Until (empty if ongoing)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


def _denied(request: HttpRequest, exc: AccessDenied) -> HttpResponse:
    return render(
        request, "web/message.html", {"title": "Not allowed", "text": str(exc)}, status=exc.status
    )


@login_required
def interests(request: HttpRequest) -> HttpResponse:
    try:
        require(request.user, Capability.DECLARE_INTERESTS)
    except AccessDenied as exc:
        return _denied(request, exc)
    form = InterestForm(request.POST or None)
    if request.method == "POST":
        if request.POST.get("withdraw"):
            try:
                interest_id = require_int(request.POST["withdraw"], "withdraw")
            except InvalidInput as exc:
                messages.error(request, exc.message)
                return redirect("web:interests")
            actions.withdraw_interest(request.user, interest_id)
            messages.success(request, "Declaration withdrawn.")
            return redirect("web:interests")
        if form.is_valid():
            try:
                actions.declare_interest(request.user, **form.cleaned_data)
            except InvalidInput as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(
                    request,
                    "Declared. Your ratings of this company's drugs and "
                    "their competitors are now shown apart from scores.",
                )
                return redirect("web:interests")
    declarations = access.my_interests(request.user)
    return render(
        request,
        "web/interests.html",
        {"form": form, "declarations": declarations},
        status=400 if form.errors else 200,
    )


@login_required
def quarantine(request: HttpRequest) -> HttpResponse:
    try:
        cases = access.open_quarantine_cases(request.user)
    except AccessDenied as exc:
        return _denied(request, exc)
    return render(request, "web/quarantine.html", {"cases": cases})


@login_required
@require_POST
def decide(request: HttpRequest, case_id: int) -> HttpResponse:
    try:
        actions.decide_case(
            request.user, case_id, request.POST.get("decision", ""), request.POST.get("reason", "")
        )
    except AccessDenied as exc:
        return _denied(request, exc)
    except InvalidInput as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Case #{case_id} decided.")
    return redirect("web:quarantine")
