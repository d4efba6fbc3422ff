"""Conflict-of-interest flagging across manufacturer and class-competitor cases."""

from __future__ import annotations

from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from drugratings.errors import InvalidInput
from drugratings.ratings.models import Rating
from drugratings.trust import actions, conflicts
from drugratings.trust.companies import same_company
from drugratings.trust.models import InterestDeclaration, OpenPayment

FIXTURE = Path(__file__).parent / "fixtures" / "open_payments_general_sample.csv"
FULL = {"efficacy": 5, "safety": 5, "tolerability": 5, "accessibility": 5, "adherence": 5}


def put(client, catalog, drug, **body):
    return client.put(
        f"/api/v1/drugs/{drug.pk}/ratings/mine",
        {"indication_id": catalog.hyperlipidemia.pk, **FULL, **body},
    )


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Pfizer", "Parke-Davis Div of Pfizer Inc", True),
        ("Pfizer Inc.", "PFIZER LABORATORIES DIV PFIZER INC", True),
        ("AstraZeneca", "AstraZeneca Pharmaceuticals LP", True),
        ("AstraZeneca Pharmaceuticals", "AstraZeneca Pharmaceuticals LP", True),
        ("Merck", "Merck Sharp & Dohme LLC", True),
        ("Novartis", "Novo Nordisk", False),
        ("", "Pfizer", False),
    ],
)
def test_company_names_match_by_distinctive_words(a, b, same):
    assert same_company(a, b) is same


def test_a_declared_manufacturer_flags_the_rating_and_drops_it_from_scores(
    small_catalog, personas, api_as
):
    client = api_as(personas.verified)
    actions.declare_interest(personas.verified, "Pfizer", "speaker", date(2024, 1, 1))
    put(client, small_catalog, small_catalog.atorvastatin)  # made by Pfizer
    rating = Rating.objects.get()
    assert rating.conflict_of_interest
    body = client.get(f"/api/v1/drugs/{small_catalog.atorvastatin.pk}").json()
    assert body["scores"] == []  # the only rating is conflicted: nothing is scored


def test_a_class_competitor_flags_too_but_an_unrelated_company_does_not(
    small_catalog, personas, api_as
):
    client = api_as(personas.verified)
    actions.declare_interest(personas.verified, "AstraZeneca", "consultant", date(2024, 1, 1))
    put(client, small_catalog, small_catalog.atorvastatin)  # rival of rosuvastatin (AstraZeneca)
    assert Rating.objects.get(drug=small_catalog.atorvastatin).conflict_of_interest
    other = api_as(personas.other_verified)
    actions.declare_interest(
        personas.other_verified, "Generic Labs", "shareholder", date(2024, 1, 1)
    )
    put(other, small_catalog, small_catalog.rosuvastatin)
    assert not Rating.objects.get(drug=small_catalog.rosuvastatin).conflict_of_interest


def test_a_declaration_that_ended_before_the_rating_does_not_flag(small_catalog, personas, api_as):
    actions.declare_interest(
        personas.verified, "Pfizer", "employee", date(2015, 1, 1), date(2018, 1, 1)
    )
    put(api_as(personas.verified), small_catalog, small_catalog.atorvastatin)
    assert not Rating.objects.get().conflict_of_interest


def test_declaring_later_reflags_existing_ratings_and_withdrawing_unflags(
    small_catalog, personas, api_as
):
    put(api_as(personas.verified), small_catalog, small_catalog.atorvastatin)
    declaration = actions.declare_interest(personas.verified, "Pfizer", "speaker", date(2024, 1, 1))
    assert Rating.objects.get().conflict_of_interest
    actions.withdraw_interest(personas.verified, declaration.pk)
    assert not Rating.objects.get().conflict_of_interest


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("company", {"company": " ", "kind": "speaker", "starts_on": date(2024, 1, 1)}),
        ("kind", {"company": "Pfizer", "kind": "friend", "starts_on": date(2024, 1, 1)}),
        (
            "ends_on",
            {
                "company": "Pfizer",
                "kind": "speaker",
                "starts_on": date(2024, 1, 1),
                "ends_on": date(2023, 1, 1),
            },
        ),
    ],
)
def test_bad_declarations_name_the_field(personas, field, kwargs):
    with pytest.raises(InvalidInput) as error:
        actions.declare_interest(personas.verified, **kwargs)
    assert error.value.field == field


def test_open_payments_flag_undeclared_relationships_by_npi(small_catalog, personas, api_as):
    client = api_as(personas.verified)  # Vera Verity, NPI 1234567893
    put(client, small_catalog, small_catalog.atorvastatin)
    put(client, small_catalog, small_catalog.rosuvastatin)
    out, err = StringIO(), StringIO()
    call_command("import_open_payments", str(FIXTURE), stdout=out, stderr=err)
    assert "open_payments_general_sample.csv:5: Covered_Recipient_NPI '12345'" in err.getvalue()
    assert (
        "open_payments_general_sample.csv:6: Total_Amount_of_Payment_USDollars 'not-a-number'"
        in err.getvalue()
    )
    assert OpenPayment.objects.count() == 3
    # AstraZeneca paid her: rosuvastatin is its drug, atorvastatin its class competitor.
    assert set(Rating.objects.values_list("drug__generic_name", "conflict_of_interest")) == {
        ("atorvastatin calcium", True),
        ("rosuvastatin calcium", True),
    }
    again = StringIO()
    call_command("import_open_payments", str(FIXTURE), stdout=again, stderr=StringIO())
    assert OpenPayment.objects.count() == 3  # idempotent on Record_ID


def test_the_drug_page_shows_the_sensitivity_figure(small_catalog, personas, api_as):
    from drugratings.testing.personas import make_physician

    for n in range(12):
        user = make_physician(f"d{n}@x.test")
        put(api_as(user), small_catalog, small_catalog.atorvastatin, efficacy=3)
    actions.declare_interest(personas.verified, "Pfizer", "speaker", date(2024, 1, 1))
    put(api_as(personas.verified), small_catalog, small_catalog.atorvastatin, efficacy=5)
    body = (
        api_as(personas.other_verified).get(f"/api/v1/drugs/{small_catalog.atorvastatin.pk}").json()
    )
    efficacy = next(
        s for s in body["scores"] if s["dimension"] == "efficacy" and s["indication_id"] is None
    )
    assert efficacy["n_ratings"] == 12 and efficacy["n_conflicted"] == 1
    assert efficacy["score"] == pytest.approx(3.0, abs=1e-6)
    assert efficacy["score_with_conflicts"] == pytest.approx(
        3.0 + (3 * 12 + 5) / 13 - 3.0, abs=1e-3
    )


def test_reflagging_many_physicians_looks_up_each_drug_s_makers_once(
    small_catalog, personas, api_as, monkeypatch
):
    raters = (personas.verified, personas.other_verified)
    for user in raters:
        put(api_as(user), small_catalog, small_catalog.atorvastatin)
    lookups = []
    real = conflicts.competitor_makers
    monkeypatch.setattr(conflicts, "competitor_makers", lambda d: lookups.append(d) or real(d))
    for user in raters:  # declared straight in the table, then re-flagged below
        InterestDeclaration.objects.create(
            physician=user.physician,
            company="AstraZeneca",
            kind="consultant",
            starts_on=date(2024, 1, 1),
        )
    makers = conflicts.Makers()
    changed = [conflicts.reflag_physician(u.physician.pk, makers) for u in raters]
    assert changed == [1, 1]  # atorvastatin's class rival rosuvastatin is AstraZeneca's
    assert lookups == [small_catalog.atorvastatin]
