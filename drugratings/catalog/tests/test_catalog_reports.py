"""A wrong catalogue fact reported from the drug page reaches the moderators' queue, the
correction is audited and survives `import_catalog`; the drug page and API show sources."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from drugratings.catalog.models import (
    CatalogAudit,
    CatalogCorrection,
    CatalogErrorReport,
    Drug,
    DrugIndication,
    Indication,
)


def _import() -> None:
    call_command("import_catalog", "--no-progress", stdout=StringIO(), stderr=StringIO())


@pytest.fixture
def catalogue(personas):
    _import()
    return personas


def _atorvastatin() -> Drug:
    return Drug.objects.get(moiety_key="atorvastatin")


@pytest.mark.django_db
def test_report_correct_and_survive_a_reimport(catalogue, api_as, web_as):
    drug = _atorvastatin()
    heart_failure = Indication.objects.get(name="Heart Failure")
    assert DrugIndication.objects.filter(drug=drug, indication=heart_failure).exists()
    physician = api_as(catalogue.verified)
    created = physician.post(
        f"/api/v1/drugs/{drug.pk}/catalog-reports",
        {
            "kind": "not_on_label",
            "indication_id": heart_failure.pk,
            "message": "Lipitor's label lists no heart-failure indication; see section 1.",
        },
    )
    assert created.status_code == 201, created.content
    report_id = created.json()["id"]
    # It reaches the moderators' queue (API and page), and the comment queue links to it.
    queue = api_as(catalogue.moderator).get("/api/v1/moderation/catalog-reports")
    assert [r["id"] for r in queue.json()] == [report_id]
    moderator_web = web_as(catalogue.moderator)
    page = moderator_web.get("/moderation/catalogue/").content.decode()
    assert "Lipitor&#x27;s label lists no heart-failure" in page
    assert "Catalogue reports (1)" in moderator_web.get("/moderation/").content.decode()
    # The moderator removes the indication from the drug.
    resolved = moderator_web.post(
        f"/moderation/catalogue/{report_id}/",
        {
            "decision": "correct",
            "action": "remove_indication",
            "indication_id": str(heart_failure.pk),
            "reference": "LIPITOR label, section 1 (2024)",
            "note": "Checked the label",
        },
    )
    assert resolved.status_code == 302
    assert not DrugIndication.objects.filter(drug=drug, indication=heart_failure).exists()
    assert CatalogErrorReport.objects.get().status == "corrected"
    assert list(CatalogAudit.objects.order_by("at").values_list("action", flat=True)) == [
        "report",
        "resolve:correct",
    ]
    # A re-import brings the source data back, and the correction with it.
    _import()
    assert not DrugIndication.objects.filter(drug=drug, indication=heart_failure).exists()
    assert api_as(catalogue.moderator).get("/api/v1/moderation/catalog-reports").json() == []


@pytest.mark.django_db
def test_an_added_indication_shows_the_moderators_reference_as_its_source(catalogue, api_as):
    drug = _atorvastatin()
    report = api_as(catalogue.moderator).post(
        f"/api/v1/drugs/{drug.pk}/catalog-reports",
        {"kind": "missing_indication", "message": "Primary prevention of stroke is labelled."},
    )
    assert report.status_code == 201
    stroke = Indication.objects.get(name="Ischemic stroke")
    body = {
        "decision": "correct",
        "action": "add_indication",
        "indication_id": stroke.pk,
        "reference": "LIPITOR label 1.1",
    }
    done = api_as(catalogue.moderator).post(
        f"/api/v1/moderation/catalog-reports/{report.json()['id']}/resolve", body
    )
    assert done.status_code == 200 and done.json()["status"] == "corrected"
    _import()
    listed = DrugIndication.objects.get(drug=drug, indication=stroke)
    assert listed.source == "Moderator correction: LIPITOR label 1.1"
    detail = api_as(catalogue.verified).get(f"/api/v1/drugs/{drug.pk}").json()
    sources = {i["name"]: i["source"] for i in detail["indications"]}
    assert sources["Ischemic stroke"] == "Moderator correction: LIPITOR label 1.1"
    assert "LabeledIn" in sources["Hypercholesterolemia"]
    again = api_as(catalogue.moderator).post(
        f"/api/v1/moderation/catalog-reports/{report.json()['id']}/resolve", body
    )
    assert again.status_code == 409
    assert CatalogCorrection.objects.count() == 1


@pytest.mark.django_db
def test_bad_reports_are_4xx_naming_the_field_and_store_nothing(catalogue, api_as, web_as):
    drug = _atorvastatin()
    client = api_as(catalogue.verified)
    cases = [
        ({"kind": "gossip", "message": "Something is wrong here."}, "kind"),
        ({"kind": "other", "message": "short"}, "message"),
        ({"kind": "not_on_label", "message": "This is not on the label."}, "indication_id"),
        (
            {"kind": "other", "message": "Wrong class shown.", "indication_id": 10**9},
            "indication_id",
        ),
    ]
    for body, field in cases:
        response = client.post(f"/api/v1/drugs/{drug.pk}/catalog-reports", body)
        assert response.status_code == 422, (body, response.content)
        assert field in response.content.decode()
    missing = client.post(
        "/api/v1/drugs/999999999/catalog-reports", cases[0][0] | {"kind": "other"}
    )
    assert missing.status_code == 404
    pending = api_as(catalogue.pending).post(
        f"/api/v1/drugs/{drug.pk}/catalog-reports", {"kind": "other", "message": "x" * 20}
    )
    assert pending.status_code == 403
    assert api_as(catalogue.verified).get("/api/v1/moderation/catalog-reports").status_code == 403
    form = web_as(catalogue.verified).post(
        f"/drugs/{drug.slug}/report-error/", {"kind": "other", "message": ""}
    )
    assert form.status_code == 400
    assert not CatalogErrorReport.objects.exists() and not CatalogAudit.objects.exists()


@pytest.mark.django_db
def test_the_drug_page_shows_each_indications_source_and_the_report_link(catalogue, web_as):
    drug = _atorvastatin()
    page = web_as(catalogue.verified).get(f"/drugs/{drug.slug}/").content.decode()
    assert "FDA label (LabeledIn)" in page
    assert f"/drugs/{drug.slug}/report-error/" in page
    anonymous = Client().get(f"/drugs/{drug.slug}/")
    assert "report-error" not in anonymous.content.decode()
    form = web_as(catalogue.verified).post(
        f"/drugs/{drug.slug}/report-error/",
        {"kind": "wrong_source", "message": "The source for angina is a different label."},
    )
    assert form.status_code == 302
    assert CatalogErrorReport.objects.get().kind == "wrong_source"
