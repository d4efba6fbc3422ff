"""Writes about accounts: sign-in with throttling, tokens, and TOTP two-factor enrolment."""

from __future__ import annotations

import hmac
import io
import logging
import math
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
import segno
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
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
from drugratings.errors import InvalidInput, Throttled

log = logging.getLogger(__name__)

TOTP_ISSUER = "Drug Ratings"
CONFIRMATION_DAYS = 7


@dataclass(frozen=True)
class LoginThrottle:
    """What to do with a sign-in attempt before its password is checked."""

    wait_seconds: int = 0  # > 0: refuse; this client may try again after that long
    message: str = ""
    slow_seconds: float = 0.0  # check the password, but only after this pause


def _in_words(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


def login_throttle(email: str, address: str | None, now: datetime | None = None) -> LoginThrottle:
    """Throttle guessing without letting a stranger lock an account.

    - One address failing across many accounts waits until its failures age out of the window.
    - One client (account, address) gets a few free failures, then waits twice as long after
      each further one; a success from it starts it afresh.
    - Past the per-account ceiling (failures from anywhere) every attempt on the account is
      slowed and a client that has failed has no free attempts left, but a client that has not
      failed still gets its password checked: the right one always works from there.
    """
    now = now or timezone.now()
    window = timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS)
    recent = LoginAttempt.objects.filter(at__gte=now - window)
    if address:
        by_address = list(
            recent.filter(address=address, succeeded=False)
            .order_by("-at")
            .values_list("at", flat=True)[: settings.LOGIN_THROTTLE_PER_ADDRESS]
        )
        if len(by_address) >= settings.LOGIN_THROTTLE_PER_ADDRESS:
            wait = math.ceil((by_address[-1] + window - now).total_seconds())
            if wait > 0:
                return LoginThrottle(
                    wait,
                    f"Too many failed sign-ins from your address. Try again in {_in_words(wait)}.",
                )
    account_failures = recent.filter(email=email, succeeded=False).count()
    over_ceiling = account_failures >= settings.LOGIN_THROTTLE_PER_ACCOUNT
    pair = recent.filter(email=email, address=address)
    last_success = pair.filter(succeeded=True).order_by("-at").values_list("at", flat=True)
    failures = pair.filter(succeeded=False)
    if last_success:
        failures = failures.filter(at__gt=last_success[0])
    failed_times = list(failures.order_by("-at").values_list("at", flat=True)[:64])
    free = 0 if over_ceiling else settings.LOGIN_THROTTLE_FREE_ATTEMPTS
    if failed_times and len(failed_times) >= free:
        delay = min(
            settings.LOGIN_THROTTLE_BASE_DELAY_SECONDS * 2 ** min(len(failed_times) - free, 30),
            settings.LOGIN_THROTTLE_MAX_DELAY_SECONDS,
        )
        wait = math.ceil((failed_times[0] + timedelta(seconds=delay) - now).total_seconds())
        if wait > 0:
            return LoginThrottle(
                wait,
                "Too many failed sign-ins for this account from here. "
                f"Try again in {_in_words(wait)}.",
            )
    if over_ceiling:
        return LoginThrottle(slow_seconds=settings.LOGIN_THROTTLE_SLOWDOWN_SECONDS)
    return LoginThrottle()


def _alert_holder_once_per_burst(email: str, now: datetime) -> None:
    """Email the account holder when failures pass the ceiling, once per window."""
    since = now - timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS)
    failures = LoginAttempt.objects.filter(email=email, succeeded=False, at__gte=since)
    count = failures.count()
    if count < settings.LOGIN_THROTTLE_PER_ACCOUNT:
        return
    # A conditional update: of concurrent failed attempts, exactly one sends the email.
    claimed = (
        User.objects.filter(email=email, is_active=True)
        .filter(Q(login_alert_sent_at__isnull=True) | Q(login_alert_sent_at__lt=since))
        .update(login_alert_sent_at=now)
    )
    if not claimed:
        return
    addresses = failures.exclude(address=None).values("address").distinct().count()
    minutes = settings.LOGIN_THROTTLE_WINDOW_SECONDS // 60
    try:
        send_mail(
            "Failed sign-ins to your Drug Ratings account",
            f"There were {count} failed attempts to sign in to your Drug Ratings account "
            f"({email}) in the last {minutes} minutes, from {addresses} network "
            "address(es).\n\nIf that was you, nothing needs doing. If not, someone may be "
            "guessing your password: your account is not locked, and you can still sign in "
            "as usual, but choose a long password you use nowhere else.\n",
            settings.DEFAULT_FROM_EMAIL,
            [email],
        )
    except Exception:  # the sign-in answer must not depend on the mail server
        log.warning("could not send the failed sign-in alert to user %s", email, exc_info=True)


def authenticate_password(email: str, password: str, address: str | None) -> User:
    """Check a password, throttled (see `login_throttle`); raise InvalidInput on failure."""
    email = email.strip().lower()
    throttle = login_throttle(email, address)
    if throttle.wait_seconds:
        raise Throttled("email", throttle.message, retry_after=throttle.wait_seconds)
    if throttle.slow_seconds:
        time.sleep(throttle.slow_seconds)  # costly for a guesser, a second for the holder
    user = authenticate(email=email, password=password)
    now = timezone.now()
    LoginAttempt.objects.create(email=email, address=address, succeeded=user is not None, at=now)
    if user is None:
        _alert_holder_once_per_burst(email, now)
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
        # Constant time: a timing difference must not reveal how many leading digits match.
        if counter > user.totp_last_counter and hmac.compare_digest(totp.at(at), code):
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
