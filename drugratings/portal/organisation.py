"""The organisation runs itself: its admin invites and removes analysts within the seats bought
and reads its own audit log; every analyst changes their own password and second factor."""

from __future__ import annotations

import csv
import io

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.http import Http404
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from drugratings.accounts import actions as account_actions
from drugratings.accounts.access import AccessDenied
from drugratings.accounts.models import ApiToken, Role, User
from drugratings.errors import InvalidInput
from drugratings.portal.access import organization_of
from drugratings.portal.models import PharmaAnalyst, PharmaOrganization, PortalRequest

AUDIT_COLUMNS = ("at", "user", "api_key_prefix", "method", "path", "query", "release_id", "status")


def require_org_admin(user: User) -> PharmaOrganization:
    org = organization_of(user)
    if not user.pharma_analyst.is_org_admin:
        raise AccessDenied("Only your organisation's administrator can do this.")
    return org


def seats_used(org: PharmaOrganization) -> int:
    return org.analysts.filter(user__is_active=True).count()


def invite_link(user: User, base_url: str) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return f"{base_url.rstrip('/')}/portal/invite/{uid}/{token}/"


@transaction.atomic
def invite_analyst(admin: User, email: str, display_name: str, base_url: str) -> User:
    """A new analyst of the admin's organisation, told by email how to set a password; the
    second factor is enrolled at first sign-in."""
    org = require_org_admin(admin)
    # Lock the organisation so two invites at once cannot both take the last seat.
    org = PharmaOrganization.objects.select_for_update().get(pk=org.pk)
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput("email", "Enter a valid email address.") from None
    if User.objects.filter(email=email).exists():
        raise InvalidInput("email", "An account with this email already exists.")
    if seats_used(org) >= org.seats:
        raise InvalidInput(
            "email", f"All {org.seats} seats are taken: remove an analyst or buy more seats."
        )
    user = User.objects.create_user(email, None, role=Role.PHARMA)  # no usable password yet
    PharmaAnalyst.objects.create(
        user=user, organization=org, display_name=(display_name or "").strip()[:120]
    )
    send_mail(
        f"You are invited to the Drug Ratings portal for {org.name}",
        f"{admin.email} invited you to {org.name}'s Drug Ratings portal.\n\n"
        f"Set your password here (the link works once): {invite_link(user, base_url)}\n\n"
        "You will then set up a second factor with an authenticator app.",
        settings.DEFAULT_FROM_EMAIL,
        [email],
    )
    return user


def invited_user(uidb64: str, token: str) -> User:
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (ValueError, TypeError):
        raise Http404("This invitation link is not valid.") from None
    user = User.objects.filter(pk=pk, is_active=True, role=Role.PHARMA).first()
    if user is None or not default_token_generator.check_token(user, token):
        raise Http404("This invitation link is not valid or was already used.")
    return user


@transaction.atomic
def remove_analyst(admin: User, analyst_id: int) -> None:
    """Sign the analyst out for good: deactivate the account and revoke its keys and tokens."""
    org = require_org_admin(admin)
    analyst = PharmaAnalyst.objects.filter(pk=analyst_id, organization=org).first()
    if analyst is None:
        raise Http404("No such analyst in your organisation.")
    if analyst.user_id == admin.pk:
        raise InvalidInput("analyst", "You cannot remove yourself.")
    user = analyst.user
    user.is_active = False
    user.save(update_fields=["is_active"])
    for token in ApiToken.objects.filter(user=user, revoked_at__isnull=True):
        account_actions.revoke_token(token)


def audit_rows(admin: User, limit: int | None = None):
    org = require_org_admin(admin)
    rows = PortalRequest.objects.filter(organization=org).select_related("user").order_by("-at")
    return rows[:limit] if limit else rows


def audit_csv(admin: User) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(AUDIT_COLUMNS)
    for r in audit_rows(admin).iterator(chunk_size=2000):
        writer.writerow(
            [
                r.at.isoformat(),
                r.user.email if r.user else "",
                r.api_key_prefix,
                r.method,
                r.path,
                r.query,
                r.release_id or "",
                r.status,
            ]
        )
    return buffer.getvalue().encode()


def change_password(user: User, current: str, new: str, again: str) -> None:

    if not user.check_password(current or ""):
        raise InvalidInput("current_password", "Your current password is wrong.")
    set_password(user, new, again)


def set_password(user: User, new: str, again: str) -> None:
    from django.contrib.auth.password_validation import validate_password

    if new != again:
        raise InvalidInput("new_password2", "The two new passwords differ.")
    try:
        validate_password(new, user)
    except ValidationError as exc:
        raise InvalidInput("new_password1", " ".join(exc.messages)) from None
    user.set_password(new)
    user.save(update_fields=["password"])


def restart_second_factor(user: User, password: str) -> None:
    """Drop the current authenticator: the next sign-in step enrols a new one."""
    if not user.check_password(password or ""):
        raise InvalidInput("password", "Your password is wrong.")
    account_actions.start_totp_enrolment(user)
