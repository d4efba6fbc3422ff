"""A small world of rated drugs for release and report tests."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
from django.utils import timezone

from drugratings.accounts.models import Specialty
from drugratings.portal.models import PharmaOrganization, Subscription
from drugratings.ratings.models import Rating
from drugratings.testing.catalog import SmallCatalog, make_small_catalog
from drugratings.testing.personas import make_pharma, make_physician

SPECIALTIES = ("cardiology", "family-medicine", "internal-medicine")
REGIONS = ("US-MA", "US-NY", "US-CA")  # ISO 3166-2


@dataclass
class RatedWorld:
    catalog: SmallCatalog
    physicians: list
    analyst: object
    outsider: object


def add_physicians(count: int, start: int = 0) -> list:
    users = []
    for n in range(start, start + count):
        user = make_physician(
            f"doc{n}@world.test",
            specialty=SPECIALTIES[n % 3],
            first_name=f"First{n}",
            last_name=f"Last{n}",
        )
        user.physician.region = REGIONS[(n // 3) % 3]
        user.physician.save(update_fields=["region"])
        users.append(user)
    return users


def rate(user, drug, indication, value: int) -> Rating:
    return Rating.objects.create(
        physician=user.physician,
        drug=drug,
        indication=indication,
        efficacy=value,
        safety=value,
        tolerability=value,
        accessibility=value,
        adherence=value,
        updated_at=timezone.now(),
        created_at=timezone.now(),
    )


@pytest.fixture
def world(db) -> RatedWorld:
    from drugratings.accounts.actions import sync_specialties

    sync_specialties()
    catalog = make_small_catalog()
    rng = random.Random(7)
    physicians = add_physicians(36)
    for user in physicians:
        rate(user, catalog.atorvastatin, catalog.hyperlipidemia, rng.randint(3, 5))
        if rng.random() < 0.8:
            rate(user, catalog.rosuvastatin, catalog.hyperlipidemia, rng.randint(2, 5))
    for user in physicians[:8]:  # below k: the sertraline cells stay suppressed
        rate(user, catalog.sertraline, catalog.depression, 4)
    analyst = make_pharma("analyst@pharma.test", all_areas=False)
    org = analyst.pharma_analyst.organization
    Subscription.objects.create(organization=org, indication=catalog.hyperlipidemia)
    Subscription.objects.create(organization=org, drug_class=catalog.statins)
    outsider_org = PharmaOrganization.objects.create(name="Other Co", slug="other-co")
    outsider = make_pharma("outsider@other.test", outsider_org)
    assert Specialty.objects.count() > 3
    return RatedWorld(catalog, physicians, analyst, outsider)
