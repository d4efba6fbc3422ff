"""Physician sign-up, email confirmation, licence submission and the account page."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from drugratings.accounts import actions as account_actions
from drugratings.accounts.access import Capability, can, physician_of
from drugratings.accounts.addresses import client_address
from drugratings.accounts.backends import BACKEND
from drugratings.accounts.models import Specialty
from drugratings.errors import InvalidInput
from drugratings.verification import actions as verification_actions


class SignupForm(forms.Form):
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters, not a common password.",
    )
    first_name = forms.CharField(max_length=100, help_text="Never shown to other users.")
    last_name = forms.CharField(max_length=100, help_text="Never shown to other users.")
    specialty = forms.ModelChoiceField(queryset=Specialty.objects.all(), to_field_name="slug")
    country = forms.CharField(
        max_length=2,
        initial="US",
        help_text="Two-letter code of the country where you are licensed.",
    )
    npi = forms.CharField(
        label="NPI (US physicians)",
        required=False,
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        help_text="With a matching NPI you are verified at once.",
    )
    license_number = forms.CharField(label="Licence number (others)", required=False, max_length=60)
    license_region = forms.CharField(
        label="State or region of the licence", required=False, max_length=60
    )


class LicenceForm(forms.Form):
    license_number = forms.CharField(label="Licence number", max_length=60)
    license_body = forms.CharField(
        label="Issuing body",
        max_length=200,
        help_text="e.g. General Medical Council, Ärztekammer Berlin",
    )
    country = forms.CharField(max_length=2, help_text="Two-letter country code")
    region = forms.CharField(required=False, max_length=60)
    document = forms.FileField(help_text="PDF, JPEG or PNG, up to 5 MB. Seen by verifiers only.")


def _form_error(form: forms.Form, exc: InvalidInput) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            account_actions.check_signup_rate(client_address(request))
            profile = verification_actions.register_physician(
                verification_actions.Registration(
                    email=data["email"],
                    password=data["password"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    specialty=data["specialty"].slug,
                    country=data["country"],
                    npi=data["npi"] or None,
                    license_number=data["license_number"],
                    license_region=data["license_region"],
                    signup_ip=client_address(request),
                )
            )
        except InvalidInput as exc:
            _form_error(form, exc)
        else:
            account_actions.send_email_confirmation(profile.user, request.build_absolute_uri("/"))
            login(request, profile.user, backend=BACKEND)
            messages.success(
                request, f"Welcome, {profile.handle}. Check your email to confirm your address."
            )
            return redirect("web:account")
    return render(request, "web/signup.html", {"form": form}, status=400 if form.errors else 200)


def confirm_email(request: HttpRequest, secret: str) -> HttpResponse:
    try:
        user = account_actions.confirm_email(secret)
    except InvalidInput as exc:
        return render(
            request,
            "web/message.html",
            {"title": "Confirmation failed", "text": exc.message},
            status=400,
        )
    if not request.user.is_authenticated:
        login(request, user, backend=BACKEND)
    messages.success(request, "Your email address is confirmed.")
    return redirect("web:account")


@login_required
@require_http_methods(["GET", "POST"])
def licence(request: HttpRequest) -> HttpResponse:
    physician = physician_of(request.user)
    if physician is None or not can(request.user, Capability.SUBMIT_LICENCE):
        return render(
            request,
            "web/message.html",
            {
                "title": "Nothing to submit",
                "text": "Only physicians awaiting verification submit a licence.",
            },
            status=403,
        )
    form = LicenceForm(
        request.POST or None, request.FILES or None, initial={"country": physician.country}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            verification_actions.submit_licence(
                physician,
                license_number=data["license_number"],
                license_body=data["license_body"],
                country=data["country"],
                region=data["region"],
                document=data["document"],
            )
        except InvalidInput as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Thank you: a verifier will review your licence.")
            return redirect("web:account")
    return render(request, "web/licence.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def account(request: HttpRequest) -> HttpResponse:
    physician = physician_of(request.user)
    return render(
        request,
        "web/account.html",
        {
            "physician": physician,
            "can_submit_licence": can(request.user, Capability.SUBMIT_LICENCE),
            "can_rate": can(request.user, Capability.RATE),
            "support_email": settings.DEFAULT_FROM_EMAIL,
        },
    )
