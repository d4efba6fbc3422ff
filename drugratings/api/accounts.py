"""Authentication, physician sign-up and the caller's own profile."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import AfterValidator

from drugratings.accounts import actions as account_actions
from drugratings.accounts.access import AccessDenied, Capability, can, physician_of, require
from drugratings.accounts.addresses import client_address
from drugratings.api.auth import SIGNED_IN
from drugratings.errors import InvalidInput
from drugratings.verification import actions as verification_actions

router = Router(tags=["accounts"])


def _email(value: str) -> str:
    try:
        validate_email(value.strip())
    except ValidationError:
        raise ValueError("Enter a valid email address.") from None
    return value.strip().lower()


EmailStr = Annotated[str, Field(max_length=254), AfterValidator(_email)]


class TokenRequest(Schema):
    email: EmailStr
    password: str = Field(..., min_length=1, max_length=200)
    otp: str | None = Field(None, description="Current TOTP code; required for pharma and staff")


class TokenOut(Schema):
    token: str
    expires_at: datetime
    role: str
    verification_status: str | None = None


class RegisterIn(Schema):
    email: EmailStr
    password: str = Field(..., min_length=1, max_length=200)
    first_name: str = Field(..., min_length=1, max_length=100)
    last_name: str = Field(..., min_length=1, max_length=100)
    specialty: str = Field(..., description="Specialty slug or name, e.g. cardiology")
    country: str = Field(..., min_length=2, max_length=2, description="ISO 3166-1 alpha-2")
    npi: str | None = Field(None, description="US National Provider Identifier, 10 digits")
    license_number: str | None = Field(None, max_length=60)
    license_region: str | None = Field(None, max_length=60)


class RegisterOut(Schema):
    id: int
    handle: str
    verification_status: str
    reason: str


class MeOut(Schema):
    id: int
    email: str
    role: str
    email_confirmed: bool
    two_factor: bool
    handle: str | None = None
    specialty: str | None = None
    country: str | None = None
    verification_status: str | None = None
    reason: str | None = None
    organization: str | None = None


class LicenceOut(Schema):
    verification_status: str
    reason: str


def _address(request: HttpRequest) -> str | None:
    return client_address(request)


@router.post("/auth/token", response=TokenOut, summary="Exchange a password (and TOTP) for a token")
def create_token(request: HttpRequest, payload: TokenRequest) -> dict:
    user = account_actions.authenticate_password(payload.email, payload.password, _address(request))
    if user.needs_two_factor:
        if not user.has_two_factor:
            raise AccessDenied("Set up two-factor authentication in the browser first.")
        if not payload.otp:
            raise InvalidInput(
                "otp", "This account needs the current code of its authenticator app.", status=401
            )
        account_actions.verify_totp(user, payload.otp)
    record, secret = account_actions.issue_token(user)
    physician = physician_of(user)
    return {
        "token": secret,
        "expires_at": record.expires_at,
        "role": user.role,
        "verification_status": physician.verification_status if physician else None,
    }


@router.delete("/auth/token", auth=SIGNED_IN, response={204: None}, summary="Revoke this token")
def delete_token(request: HttpRequest) -> Status:
    token = getattr(request, "api_token", None)
    if token is None:
        raise InvalidInput("Authorization", "Send the bearer token to revoke.", status=400)
    account_actions.revoke_token(token)
    return Status(204, None)


@router.post("/physicians/register", response={201: RegisterOut}, summary="Physician sign-up")
def register(request: HttpRequest, payload: RegisterIn) -> Status:
    account_actions.check_signup_rate(_address(request))
    profile = verification_actions.register_physician(
        verification_actions.Registration(
            email=payload.email,
            password=payload.password,
            first_name=payload.first_name,
            last_name=payload.last_name,
            specialty=payload.specialty,
            country=payload.country,
            npi=payload.npi or None,
            license_number=payload.license_number or "",
            license_region=payload.license_region or "",
            signup_ip=_address(request),
        )
    )
    account_actions.send_email_confirmation(profile.user, settings.PUBLIC_BASE_URL)
    return Status(
        201,
        {
            "id": profile.pk,
            "handle": profile.handle,
            "verification_status": profile.verification_status,
            "reason": profile.status_reason,
        },
    )


@router.get("/me", auth=SIGNED_IN, response=MeOut, summary="Your own profile")
def me(request: HttpRequest) -> dict:
    user = request.user
    out = {
        "id": user.pk,
        "email": user.email,
        "role": user.role,
        "email_confirmed": user.email_confirmed_at is not None,
        "two_factor": user.has_two_factor,
    }
    physician = physician_of(user)
    if physician is not None:
        out.update(
            handle=physician.handle,
            specialty=physician.specialty.name,
            country=physician.country,
            verification_status=physician.verification_status,
            reason=physician.status_reason,
        )
    if can(user, Capability.USE_PORTAL) and hasattr(user, "pharma_analyst"):
        out["organization"] = user.pharma_analyst.organization.name
    return out


@router.post(
    "/me/licence",
    auth=SIGNED_IN,
    response=LicenceOut,
    summary="Submit a licence for manual review (multipart form)",
)
def submit_licence(
    request: HttpRequest,
    license_number: Form[str],
    license_body: Form[str],
    country: Form[str],
    region: Form[str] = "",
    document: File[UploadedFile] = None,  # type: ignore[assignment]
) -> dict:
    require(request.user, Capability.SUBMIT_LICENCE)
    physician = physician_of(request.user)
    verification_actions.submit_licence(
        physician,
        license_number=license_number,
        license_body=license_body,
        country=country,
        region=region,
        document=document,
    )
    return {"verification_status": physician.verification_status, "reason": physician.status_reason}
