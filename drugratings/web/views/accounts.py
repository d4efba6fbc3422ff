"""Sign-in, sign-out and the second factor for staff and pharma accounts."""

from __future__ import annotations

from django import forms
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from drugratings.accounts import actions as account_actions
from drugratings.accounts.addresses import client_address
from drugratings.accounts.backends import BACKEND
from drugratings.accounts.middleware import SESSION_KEY
from drugratings.errors import InvalidInput, Throttled
from drugratings.web.redirects import safe_target


class LoginForm(forms.Form):
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "username"}))
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class OtpForm(forms.Form):
    otp = forms.CharField(
        label="Six-digit code",
        max_length=6,
        min_length=6,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]{6}"}
        ),
    )


def _safe_next(request: HttpRequest, default: str = "/") -> str:
    return safe_target(request, default)


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    error, status, retry_after = "", 200, None
    if request.method == "POST" and form.is_valid():
        try:
            user = account_actions.authenticate_password(
                form.cleaned_data["email"], form.cleaned_data["password"], client_address(request)
            )
        except InvalidInput as exc:
            error, status = exc.message, 429 if isinstance(exc, Throttled) else 400
            retry_after = getattr(exc, "retry_after", None)
        else:
            login(request, user, backend=BACKEND)
            return redirect(_safe_next(request))
    response = render(
        request,
        "web/login.html",
        {"form": form, "error": error, "next": _safe_next(request)},
        status=status,
    )
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("web:home")


@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """Enrol (first time: shows the secret as a QR code) or verify the TOTP second factor."""
    user = request.user
    if not user.is_authenticated:
        return redirect("web:login")
    enrolling = not user.has_two_factor
    if enrolling and not user.totp_secret:
        account_actions.start_totp_enrolment(user)
    form = OtpForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            account_actions.verify_totp(user, form.cleaned_data["otp"], enrol=enrolling)
        except InvalidInput as exc:
            error = exc.message
        else:
            request.session[SESSION_KEY] = True
            return redirect(_safe_next(request))
    context = {"form": form, "error": error, "enrolling": enrolling, "next": _safe_next(request)}
    if enrolling:
        context["secret"] = user.totp_secret
        context["qr_svg"] = account_actions.totp_qr_svg(user)
    return render(request, "web/two_factor.html", context, status=400 if error else 200)
