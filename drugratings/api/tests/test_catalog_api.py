"""The read side of the v1 API: stats, drug search, drug detail, indications and classes."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from drugratings.ratings.models import Rating

DIMENSIONS = {"efficacy", "safety", "tolerability", "accessibility", "adherence"}


@pytest.fixture
def real_catalog(db):
    call_command("import_catalog", "--no-progress", verbosity=0)


@pytest.mark.parametrize("query", ["atorvastatin", "Lipitor", "LIPITOR", "atorvastatn", "lipitr"])
def test_search_finds_atorvastatin_by_generic_brand_or_typo(real_catalog, personas, api_as, query):
    response = api_as(personas.verified).get("/api/v1/drugs", q=query)
    assert response.status_code == 200
    first = response.json()["items"][0]
    assert first["generic_name"] == "atorvastatin calcium"
    assert first["drug_class"]["name"] == "HMG-CoA Reductase Inhibitor"
    assert "LIPITOR" in first["brand_names"]
    assert any(i["name"] == "Hypercholesterolemia" for i in first["indications"])


def test_search_is_paginated_and_filtered_by_class_and_indication(real_catalog, personas, api_as):
    client = api_as(personas.verified)
    page1 = client.get("/api/v1/drugs", q="metformin", page_size=2).json()
    page2 = client.get("/api/v1/drugs", q="metformin", page_size=2, page=2).json()
    assert page1["total"] == page2["total"] > 4
    assert {d["id"] for d in page1["items"]}.isdisjoint({d["id"] for d in page2["items"]})
    statin_class = (
        page1 and client.get("/api/v1/drugs", q="lipitor").json()["items"][0]["drug_class"]
    )
    in_class = client.get("/api/v1/drugs", drug_class=statin_class["id"], page_size=100).json()
    assert in_class["total"] >= 5
    assert all(d["drug_class"]["id"] == statin_class["id"] for d in in_class["items"])
    hypertension = client.get("/api/v1/indications", q="hypertension").json()["items"][0]
    treated = client.get("/api/v1/drugs", indication=hypertension["id"], page_size=100).json()
    assert treated["total"] > 10
    assert all(
        any(i["id"] == hypertension["id"] for i in d["indications"]) for d in treated["items"]
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page_size": 101}, "page_size"),
        ({"page": 0}, "page"),
        ({"page": "x"}, "page"),
        ({"drug_class": 999999}, "drug_class"),
        ({"indication": 999999}, "indication"),
    ],
)
def test_bad_search_parameters_are_a_422_naming_the_field(
    small_catalog, personas, api_as, params, field
):
    response = api_as(personas.verified).get("/api/v1/drugs", **params)
    assert response.status_code == 422
    body = response.json()
    assert body["errors"][0]["field"] == field
    assert field in body["detail"]


def test_the_catalogue_api_needs_a_sign_in(small_catalog, api_as):
    response = api_as(None).get("/api/v1/drugs")
    assert response.status_code == 401
    assert "Sign in" in response.json()["detail"]


def test_stats_are_public_and_count_what_is_there(small_catalog, personas, api_as):
    Rating.objects.create(
        physician=personas.verified.physician,
        drug=small_catalog.atorvastatin,
        indication=small_catalog.hyperlipidemia,
        efficacy=4,
    )
    body = api_as(None).get("/api/v1/stats").json()
    assert body == {
        "drugs": 4,
        "indications": 3,
        "drug_classes": 2,
        "ratings": 1,
        "comments": 0,
        "verified_physicians": 2,
    }


def test_a_drug_has_scores_for_every_dimension_across_and_per_indication(
    small_catalog, personas, api_as
):
    Rating.objects.create(
        physician=personas.verified.physician,
        drug=small_catalog.atorvastatin,
        indication=small_catalog.hyperlipidemia,
        efficacy=4,
        safety=5,
    )
    Rating.objects.create(
        physician=personas.other_verified.physician,
        drug=small_catalog.atorvastatin,
        indication=small_catalog.hyperlipidemia,
        efficacy=2,
    )
    body = api_as(personas.verified).get(f"/api/v1/drugs/{small_catalog.atorvastatin.pk}").json()
    assert body["generic_name"] == "atorvastatin calcium"
    assert {(s["indication_id"], s["dimension"]) for s in body["scores"]} == {
        (i, d) for i in (None, small_catalog.hyperlipidemia.pk) for d in DIMENSIONS
    }
    efficacy = next(
        s for s in body["scores"] if s["dimension"] == "efficacy" and s["indication_id"] is None
    )
    assert efficacy["n_ratings"] == 2 and efficacy["n_raters"] == 2
    assert efficacy["distribution"] == [0, 1, 0, 1, 0]
    # Two physicians are below the display minimum: the count shows, the score does not.
    assert efficacy["shown"] is False and efficacy["score"] is None and efficacy["ci_low"] is None


def test_an_unknown_drug_is_a_404(small_catalog, personas, api_as):
    response = api_as(personas.verified).get("/api/v1/drugs/999999")
    assert response.status_code == 404
    assert response.json()["detail"] == "Drug 999999 does not exist."


def test_an_indication_lists_its_drugs_side_by_side_with_off_label_ones(
    small_catalog, personas, api_as
):
    Rating.objects.create(
        physician=personas.verified.physician,
        drug=small_catalog.sertraline,
        indication=small_catalog.hyperlipidemia,
        off_label=True,
        efficacy=1,
    )
    body = (
        api_as(personas.verified)
        .get(f"/api/v1/indications/{small_catalog.hyperlipidemia.pk}")
        .json()
    )
    listed = {d["generic_name"]: d["listed"] for d in body["drugs"]}
    assert listed == {
        "atorvastatin calcium": True,
        "rosuvastatin calcium": True,
        "sertraline hydrochloride": False,
    }
    sertraline = next(d for d in body["drugs"] if d["generic_name"].startswith("sertraline"))
    assert {s["dimension"] for s in sertraline["scores"]} == DIMENSIONS


def test_drug_classes_list_and_detail(small_catalog, personas, api_as):
    client = api_as(personas.verified)
    classes = client.get("/api/v1/drug-classes").json()
    assert {c["name"] for c in classes["items"]} == {
        "HMG-CoA Reductase Inhibitor",
        "Serotonin Reuptake Inhibitor",
    }
    statins = client.get(f"/api/v1/drug-classes/{small_catalog.statins.pk}").json()
    assert [d["generic_name"] for d in statins["drugs"]] == [
        "atorvastatin calcium",
        "rosuvastatin calcium",
    ]


def test_the_openapi_document_is_served_with_the_contract_paths(client):
    spec = client.get("/api/v1/openapi.json").json()
    for path in (
        "/api/v1/stats",
        "/api/v1/drugs",
        "/api/v1/drugs/{drug_id}",
        "/api/v1/indications",
        "/api/v1/indications/{indication_id}",
        "/api/v1/drug-classes",
        "/api/v1/drug-classes/{class_id}",
    ):
        assert path in spec["paths"]
