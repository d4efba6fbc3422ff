"""Regions are ISO codes: US states as ISO 3166-2 (US-CA), other countries as ISO 3166-1."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from drugratings.accounts.models import PhysicianProfile
from drugratings.accounts.regions import iso_region, region_name, us_state_code
from drugratings.testing.personas import make_physician


def test_us_states_and_countries_no_longer_collide():
    # CA, IN, DE, CO and GA are each a US state and a country.
    for code in ("CA", "IN", "DE", "CO", "GA"):
        assert iso_region("US", code) == f"US-{code}"
        assert iso_region(code, "") == code
    assert region_name("US-CA") == "California (US-CA)"
    assert region_name("CA") == "Canada (CA)"
    assert region_name("US-GA") == "Georgia (US-GA)"
    assert region_name("GE") == "Georgia (GE)"


def test_state_names_and_codes_are_understood_and_junk_is_not():
    assert us_state_code("california") == "US-CA"
    assert us_state_code(" us-ny ") == "US-NY"
    assert us_state_code("District of Columbia") == "US-DC"
    assert us_state_code("XX") is None and us_state_code("") is None
    assert iso_region("US", "Atlantis") == "US"
    assert iso_region("gb", "London") == "GB"


@pytest.mark.django_db
def test_migration_turns_stored_codes_into_iso_codes():
    us = make_physician("us@example.org").physician
    uk = make_physician("uk@example.org").physician
    PhysicianProfile.objects.filter(pk=us.pk).update(country="US", region="GA")
    PhysicianProfile.objects.filter(pk=uk.pk).update(country="GB", region="London")
    migration = importlib.import_module("drugratings.accounts.migrations.0004_h12_iso_regions")
    migration.to_iso(apps, None)
    assert PhysicianProfile.objects.get(pk=us.pk).region == "US-GA"
    assert PhysicianProfile.objects.get(pk=uk.pk).region == "GB"
    migration.to_iso(apps, None)  # idempotent
    assert PhysicianProfile.objects.get(pk=us.pk).region == "US-GA"
