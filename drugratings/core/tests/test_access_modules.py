"""Reads moved out of views into access modules, and role decisions through can()."""

from __future__ import annotations

import pytest

from drugratings.accounts.access import AccessDenied, Capability, can
from drugratings.portal import access as portal_access
from drugratings.portal.actions import API_KEY_SCOPES, create_api_key
from drugratings.ratings.models import Rating
from drugratings.testing.personas import make_pharma
from drugratings.trust import access as trust_access
from drugratings.trust.actions import open_case
from drugratings.verification.access import npi_of, physicians_with_npis


def test_only_non_pharma_accounts_read_live_figures(personas):
    assert can(personas.verified, Capability.READ_LIVE_FIGURES)
    assert can(personas.moderator, Capability.READ_LIVE_FIGURES)
    assert not can(personas.pharma, Capability.READ_LIVE_FIGURES)
    assert not can(None, Capability.READ_LIVE_FIGURES)
    personas.verified.is_active = False
    assert not can(personas.verified, Capability.READ_LIVE_FIGURES)


def test_an_organisation_sees_its_own_api_keys_only(personas):
    colleague = make_pharma("colleague@pharma.test", personas.pharma.pharma_analyst.organization)
    outsider = make_pharma("outsider@other.test")
    mine, _ = create_api_key(colleague, "warehouse", 30, [API_KEY_SCOPES[0]])
    create_api_key(outsider, "theirs", 30, [API_KEY_SCOPES[0]])
    assert [k.pk for k in portal_access.organization_api_keys(personas.pharma)] == [mine.pk]
    with pytest.raises(AccessDenied):
        portal_access.organization_api_keys(personas.verified)


def test_the_quarantine_queue_is_for_moderators(personas, small_catalog):
    rating = Rating.objects.create(
        physician=personas.verified.physician,
        drug=small_catalog.atorvastatin,
        indication=small_catalog.hyperlipidemia,
        efficacy=5,
    )
    case = open_case("bursts", 3.0, "burst", [rating.pk], [rating.physician_id])
    assert [c.pk for c in trust_access.open_quarantine_cases(personas.moderator)] == [case.pk]
    with pytest.raises(AccessDenied):
        trust_access.open_quarantine_cases(personas.verified)


def test_trust_gets_npi_facts_not_identities(personas):
    physician = personas.verified.physician
    assert npi_of(physician.pk) == "1234567893"
    assert physicians_with_npis({"1234567893", "0000000000"}) == [physician.pk]
    assert npi_of(personas.unverified.physician.pk) in (None, "")
