"""Sign-up through the API: automatic NPPES verification, and clear errors for bad input."""

from __future__ import annotations

import pytest
from django.core import mail

from drugratings.accounts.models import PhysicianProfile, User, VerificationStatus
from drugratings.verification.models import Decision, VerificationDecision
from drugratings.verification.tests.conftest import (
    APGAR_REACTIVATED,
    HARVEY_CARDIOLOGY,
    HOSPITAL_ORG,
    LOVELACE_MD,
    NIGHTINGALE_RN,
    POTTER_COUNSELOR,
    SNOW_DEACTIVATED,
)


def signup(client, **overrides):
    body = {
        "email": "ada@clinic.test",
        "password": "a-long-and-unusual-passphrase",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "specialty": "internal-medicine",
        "country": "US",
        "npi": LOVELACE_MD,
        **overrides,
    }
    return client.post("/api/v1/physicians/register", body, content_type="application/json")


def test_a_physician_in_the_registry_is_verified_at_once(registry, client):
    response = signup(client)
    assert response.status_code == 201
    body = response.json()
    assert body["verification_status"] == "verified"
    assert "Matched the NPPES registry" in body["reason"]
    profile = PhysicianProfile.objects.get(pk=body["id"])
    assert profile.handle == body["handle"] and "Lovelace" not in profile.handle
    assert profile.identity.npi == LOVELACE_MD
    assert VerificationDecision.objects.get(physician=profile).decision == Decision.VERIFIED
    assert "/accounts/confirm/" in mail.outbox[0].body


def test_the_registry_taxonomy_sets_the_specialty(registry, client):
    body = signup(
        client,
        first_name="William",
        last_name="Harvey",
        npi=HARVEY_CARDIOLOGY,
        specialty="family-medicine",
    ).json()
    assert body["verification_status"] == "verified"
    assert PhysicianProfile.objects.get(pk=body["id"]).specialty.slug == "cardiology"


def test_names_match_without_case_or_accents(registry, client):
    body = signup(client, first_name="adá", last_name="LOVE-lace").json()
    assert body["verification_status"] == "verified"


def test_a_reactivated_npi_counts_as_active(registry, client):
    body = signup(client, first_name="Virginia", last_name="Apgar", npi=APGAR_REACTIVATED).json()
    assert body["verification_status"] == "verified"


@pytest.mark.parametrize("npi", ["1234567890", "12345", "abcdefghij"])
def test_a_malformed_npi_is_a_422_naming_npi_and_creates_nothing(registry, client, npi):
    response = signup(client, npi=npi)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "npi"
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("npi", "first", "last", "status", "reason"),
    [
        (NIGHTINGALE_RN, "Florence", "Nightingale", "rejected", "not a physician taxonomy"),
        (POTTER_COUNSELOR, "X", "Potter", "rejected", "not a physician taxonomy"),
        (SNOW_DEACTIVATED, "John", "Snow", "rejected", "deactivated"),
        (HOSPITAL_ORG, "Gen", "Hospital", "rejected", "organisation"),
        (LOVELACE_MD, "Charles", "Babbage", "pending", "does not match"),
        ("1234567893", "Ada", "Lovelace", "pending", "not in our copy"),
    ],
)
def test_registry_mismatches_are_pending_or_rejected_with_a_reason(
    registry, client, npi, first, last, status, reason
):
    response = signup(client, npi=npi, first_name=first, last_name=last)
    assert response.status_code == 201
    body = response.json()
    assert body["verification_status"] == status
    assert reason in body["reason"]
    profile = PhysicianProfile.objects.get(pk=body["id"])
    assert VerificationDecision.objects.get(physician=profile).reason == body["reason"]


def test_an_npi_already_linked_to_an_account_goes_to_review(registry, client):
    signup(client)
    body = signup(client, email="copycat@clinic.test").json()
    assert body["verification_status"] == "pending"
    assert "already linked" in body["reason"]


def test_non_us_physicians_without_npi_await_their_licence(registry, client):
    body = signup(client, npi=None, country="DE", email="dr@klinik.test").json()
    assert body["verification_status"] == "unverified"
    body = signup(
        client, npi=None, country="GB", email="dr@nhs.test", license_number="GMC-7654321"
    ).json()
    assert body["verification_status"] == "pending"


@pytest.mark.parametrize(
    ("overrides", "field", "status"),
    [
        ({"password": "short"}, "password", 422),
        ({"password": "password123456"}, "password", 422),
        ({"email": "not-an-email"}, "email", 422),
        ({"specialty": "astrology"}, "specialty", 422),
        ({"country": "XX"}, "country", 422),
        ({"country": "USA"}, "country", 422),
        ({"country": "GB"}, "npi", 422),
        ({"first_name": ""}, "first_name", 422),
    ],
)
def test_bad_sign_up_input_is_a_4xx_naming_the_field(registry, client, overrides, field, status):
    response = signup(client, **overrides)
    assert response.status_code == status, response.content
    assert response.json()["errors"][0]["field"] == field
    assert not User.objects.exists()


def test_a_second_account_with_the_same_email_is_a_409(registry, client):
    signup(client)
    response = signup(client, npi=None, country="FR")
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "email"
    assert User.objects.count() == 1


def test_sign_ups_are_limited_per_address(registry, client, settings):
    settings.SIGNUPS_PER_ADDRESS_PER_HOUR = 2
    for i in range(2):
        assert signup(client, email=f"a{i}@x.test", npi=None, country="FR").status_code == 201
    response = signup(client, email="a3@x.test", npi=None, country="FR")
    assert response.status_code == 429
    assert "Too many sign-ups" in response.json()["errors"][0]["message"]


def test_confirming_the_email_lets_a_verified_physician_rate(registry, client):
    from drugratings.accounts.access import Capability, can

    signup(client)
    user = User.objects.get()
    assert user.physician.verification_status == VerificationStatus.VERIFIED
    assert not can(user, Capability.RATE)
    link = next(line for line in mail.outbox[0].body.splitlines() if "/accounts/confirm/" in line)
    response = client.get(link[link.index("/accounts/") :])
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email_confirmed_at is not None and can(user, Capability.RATE)
    again = client.get(link[link.index("/accounts/") :])
    assert again.status_code == 400


def test_the_practice_region_is_stored_as_an_iso_code(registry, client):
    response = signup(client, license_region="ca", license_number="A12345")
    assert response.status_code == 201
    profile = PhysicianProfile.objects.get(pk=response.json()["id"])
    assert profile.region == "US-CA"  # California, not Canada
    response = signup(
        client,
        email="grace@clinic.test",
        country="CA",
        npi=None,
        license_region="Ontario",
        license_number="ON-9",
    )
    assert response.status_code == 201
    assert PhysicianProfile.objects.get(pk=response.json()["id"]).region == "CA"
