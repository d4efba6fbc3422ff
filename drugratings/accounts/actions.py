"""Writes about accounts: sign-in with throttling, tokens, and TOTP two-factor enrolment."""

from __future__ import annotations

import io
import secrets
from datetime import timedelta

import pyotp
import segno
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from drugratings.accounts.models import (
    ApiToken,
    EmailConfirmation,
    LoginAttempt,
    Specialty,
    TokenKind,
    User,
)
from drugratings.accounts.specialties import SPECIALTIES
from drugratings.errors import InvalidInput

TOTP_ISSUER = "Drug Ratings"
CONFIRMATION_DAYS = 7


def _recent_failures(email: str, address: str | None) -> tuple[int, int]:
    since = timezone.now() - timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS)
    failures = LoginAttempt.objects.filter(at__gte=since, succeeded=False)
    by_account = failures.filter(email=email).count()
    by_address = failures.filter(address=address).count() if address else 0
    return by_account, by_address


def check_login_throttle(email: str, address: str | None) -> None:
    by_account, by_address = _recent_failures(email, address)
    minutes = settings.LOGIN_THROTTLE_WINDOW_SECONDS // 60
    if by_account >= settings.LOGIN_THROTTLE_PER_ACCOUNT:
        raise InvalidInput(
            "email",
            f"Too many failed sign-ins for this account. Try again in {minutes} minutes.",
            status=429,
        )
    if by_address >= settings.LOGIN_THROTTLE_PER_ADDRESS:
        raise InvalidInput(
            "email",
            f"Too many failed sign-ins from your address. Try again in {minutes} minutes.",
            status=429,
        )


def authenticate_password(email: str, password: str, address: str | None) -> User:
    """Check a password, throttled per account and per address; raise InvalidInput on failure."""
    email = email.strip().lower()
    check_login_throttle(email, address)
    user = authenticate(email=email, password=password)
    LoginAttempt.objects.create(email=email, address=address, succeeded=user is not None)
    if user is None:
        raise InvalidInput("password", "Email or password is wrong.", status=401)
    return user


def _totp(user: User) -> pyotp.TOTP:
    return pyotp.TOTP(user.totp_secret, issuer=TOTP_ISSUER, name=user.email)


def start_totp_enrolment(user: User, secret: str | None = None) -> str:
    user.totp_secret = secret or pyotp.random_base32()
    user.totp_confirmed_at = None
    user.save(update_fields=["totp_secret", "totp_confirmed_at"])
    return user.totp_secret


def totp_qr_svg(user: User) -> str:
    buffer = io.BytesIO()
    segno.make(_totp(user).provisioning_uri(), error="m").save(
        buffer, kind="svg", scale=4, xmldecl=False, svgns=True, title="Two-factor QR code"
    )
    return buffer.getvalue().decode()


@transaction.atomic
def verify_totp(user: User, code: str, *, enrol: bool = False) -> None:
    """Accept a current TOTP code once (no replay); with `enrol`, confirm the enrolment."""
    user = User.objects.select_for_update().get(pk=user.pk)
    code = (code or "").strip().replace(" ", "")
    if not user.totp_secret:
        raise InvalidInput("otp", "Two-factor authentication is not set up for this account.")
    if not (len(code) == 6 and code.isdigit()):
        raise InvalidInput("otp", "Enter the 6-digit code from your authenticator app.")
    totp = _totp(user)
    now = timezone.now()
    for drift in (-1, 0, 1):
        at = now + timedelta(seconds=30 * drift)
        counter = totp.timecode(at)
        if counter > user.totp_last_counter and totp.at(at) == code:
            user.totp_last_counter = counter
            fields = ["totp_last_counter"]
            if enrol and user.totp_confirmed_at is None:
                user.totp_confirmed_at = now
                fields.append("totp_confirmed_at")
            user.save(update_fields=fields)
            return
    raise InvalidInput("otp", "That code is wrong or was already used.")


def send_email_confirmation(user: User, base_url: str) -> None:
    """Mail a one-time confirmation link; only its digest is stored."""
    secret = secrets.token_urlsafe(32)
    EmailConfirmation.objects.create(user=user, digest=ApiToken.digest_of(secret))
    link = f"{base_url.rstrip('/')}/accounts/confirm/{secret}/"
    send_mail(
        "Confirm your Drug Ratings email",
        f"Welcome to Drug Ratings.\n\nConfirm your email address by opening this link within "
        f"{CONFIRMATION_DAYS} days:\n{link}\n\nIf you did not sign up, ignore this message.",
        settings.DEFAULT_FROM_EMAIL,
        [user.email],
    )


@transaction.atomic
def confirm_email(secret: str) -> User:
    record = (
        EmailConfirmation.objects.select_for_update()
        .select_related("user")
        .filter(digest=ApiToken.digest_of(secret))
        .first()
    )
    if record is None or record.used_at is not None:
        raise InvalidInput("token", "This confirmation link is invalid or was already used.")
    if timezone.now() - record.created_at > timedelta(days=CONFIRMATION_DAYS):
        raise InvalidInput("token", "This confirmation link has expired; sign in to get a new one.")
    record.used_at = timezone.now()
    record.save(update_fields=["used_at"])
    user = record.user
    if user.email_confirmed_at is None:
        user.email_confirmed_at = record.used_at
        user.save(update_fields=["email_confirmed_at"])
    return user


def check_signup_rate(address: str | None) -> None:
    """Limit sign-ups per network address: mass account creation is how rating rings start."""
    if not address:
        return
    since = timezone.now() - timedelta(hours=1)
    if (
        User.objects.filter(signup_ip=address, date_joined__gte=since).count()
        >= settings.SIGNUPS_PER_ADDRESS_PER_HOUR
    ):
        raise InvalidInput(
            "email", "Too many sign-ups from your network address; try again later.", status=429
        )


def revoke_token(token: ApiToken) -> None:
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])


def issue_token(
    user: User,
    kind: str = TokenKind.SESSION,
    *,
    days: int | None = None,
    name: str = "",
    scopes: list[str] | None = None,
    secret: str | None = None,
) -> tuple[ApiToken, str]:
    """Create a bearer token; returns the record and the secret, which is never stored."""
    secret = secret or ApiToken.new_secret(kind)
    record = ApiToken.objects.create(
        user=user,
        kind=kind,
        name=name,
        prefix=secret[:12],
        digest=ApiToken.digest_of(secret),
        scopes=scopes or [],
        expires_at=timezone.now() + timedelta(days=days or settings.API_TOKEN_DAYS),
    )
    return record, secret


def sync_specialties() -> None:
    """Make the Specialty table match `accounts.specialties.SPECIALTIES` (idempotent)."""
    for spec in SPECIALTIES:
        Specialty.objects.update_or_create(slug=spec.slug, defaults={"name": spec.name})
