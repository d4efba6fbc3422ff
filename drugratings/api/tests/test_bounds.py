"""Out-of-range numbers and malformed bodies are 4xx with the error shape, never a 500."""

from __future__ import annotations

import pytest
from django.test import Client

from drugratings.api.main import api
from drugratings.bounds import MAX_ID

HUGE = "6815820484788468143859171328"  # far beyond 64 bits


def _integer_schemas(schema: dict, components: dict, seen: set[str]):
    """Yield every integer (sub)schema reachable from `schema`."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return
        seen.add(name)
        yield from _integer_schemas(components[name], components, seen)
        return
    if schema.get("type") == "integer":
        yield schema
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            yield from _integer_schemas(sub, components, seen)
    for sub in schema.get("properties", {}).values():
        yield from _integer_schemas(sub, components, seen)
    if isinstance(schema.get("items"), dict):
        yield from _integer_schemas(schema["items"], components, seen)


def test_every_integer_the_api_reads_is_bounded():
    document = api.get_openapi_schema(path_prefix="/api/v1/")
    components = document.get("components", {}).get("schemas", {})
    unbounded = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            inputs = [(p["name"], p["schema"]) for p in operation.get("parameters", [])]
            for content in operation.get("requestBody", {}).get("content", {}).values():
                inputs.append(("body", content["schema"]))
            for name, schema in inputs:
                for integer in _integer_schemas(schema, components, set()):
                    if "maximum" not in integer or "minimum" not in integer:
                        unbounded.append(f"{method.upper()} {path} {name}")
    assert not unbounded, unbounded


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/indications?offset={HUGE}",
        "/api/v1/indications?offset=-1",
        f"/api/v1/drug-classes?offset={HUGE}",
        f"/api/v1/drugs?page={HUGE}",
        "/api/v1/drugs?page=-1",
        f"/api/v1/drugs?indication={HUGE}",
        f"/api/v1/drugs?drug_class=-{HUGE}",
        f"/api/v1/drugs/{HUGE}",
        f"/api/v1/drugs/{MAX_ID + 1}",
        "/api/v1/drugs/0",
        f"/api/v1/indications/{HUGE}",
        f"/api/v1/drug-classes/{HUGE}",
        f"/api/v1/drugs/1/comments?offset={HUGE}",
        f"/api/v1/drugs/1/comments?indication_id={HUGE}",
    ],
)
def test_out_of_range_numbers_are_422_naming_the_field(personas, api_as, path):
    response = api_as(personas.verified).client.get(path, headers=api_as(personas.verified).headers)
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["detail"].startswith("Invalid input")
    assert body["errors"] and all(e["field"] and e["message"] for e in body["errors"])


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/portal/releases/{HUGE}",
        f"/api/v1/portal/reports/indications/1?release={HUGE}",
        f"/api/v1/portal/reports/drugs/{HUGE}",
        f"/api/v1/portal/stream?after={HUGE}",
    ],
)
def test_portal_numbers_are_bounded(personas, api_as, path):
    client = api_as(personas.pharma)
    response = client.client.get(path, headers=client.headers)
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["field"]


def test_stream_refuses_an_out_of_range_last_event_id(personas, api_as):
    client = api_as(personas.pharma)
    response = client.client.get(
        "/api/v1/portal/stream", headers={**client.headers, "Last-Event-ID": HUGE}
    )
    assert response.status_code == 422
    # The error names where the bad number came from: the header, not the query parameter.
    assert response.json()["errors"][0]["field"] == "Last-Event-ID"


def test_rating_body_with_a_huge_indication_is_422(personas, api_as, small_catalog):
    client = api_as(personas.verified)
    response = client.put(
        f"/api/v1/drugs/{small_catalog.atorvastatin.pk}/ratings/mine",
        {"indication_id": int(HUGE), "efficacy": 4},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "indication_id"


def test_multipart_without_boundary_is_a_json_400(personas, api_as):
    client = api_as(personas.unverified)
    response = client.client.post(
        "/api/v1/me/licence",
        data=b"license_number=1",
        content_type="multipart/form-data",
        headers=client.headers,
    )
    assert response.status_code == 400
    body = response.json()
    assert body["errors"][0]["field"] == "body"
    assert "multipart" in body["detail"].lower()


def test_malformed_json_body_is_a_4xx_with_the_error_shape(personas, api_as, small_catalog):
    client = api_as(personas.verified)
    response = client.client.put(
        f"/api/v1/drugs/{small_catalog.atorvastatin.pk}/ratings/mine",
        data=b"{not json",
        content_type="application/json",
        headers=client.headers,
    )
    assert response.status_code in (400, 415, 422)
    assert {"detail", "errors"} <= set(response.json())


@pytest.mark.django_db
def test_unknown_api_path_is_a_json_404():
    response = Client().get("/api/v1/no-such-endpoint")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "errors": []}


# --- pages -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["page=-1", f"page={HUGE}", "page=abc", "page=0"],
)
def test_search_page_numbers_fall_back_to_the_first_page(small_catalog, client, query):
    response = client.get(f"/search/?q=statin&{query}")
    assert response.status_code == 200


def test_drug_page_ignores_out_of_range_ids(small_catalog, client):
    slug = small_catalog.atorvastatin.slug
    for query in (f"specialty={HUGE}", "specialty=-5", f"comments_for={HUGE}", f"comments={HUGE}"):
        assert client.get(f"/drugs/{slug}/?{query}").status_code == 200, query


def test_rate_page_with_a_huge_indication_answers(small_catalog, personas, web_as):
    client = web_as(personas.verified)
    slug = small_catalog.atorvastatin.slug
    assert client.get(f"/drugs/{slug}/rate/?indication={HUGE}").status_code == 200
    response = client.post(f"/drugs/{slug}/withdraw/", {"indication": HUGE})
    assert response.status_code == 302


def test_path_ids_beyond_the_range_are_404(personas, web_as):
    client = web_as(personas.verified)
    assert client.post(f"/comments/{HUGE}/helpful/").status_code == 404
    assert client.post(f"/comments/{MAX_ID + 1}/flag/").status_code == 404


def test_portal_forms_refuse_huge_numbers_with_400(personas, web_as):
    client = web_as(personas.pharma)
    assert client.post("/portal/keys/", {"revoke": HUGE}).status_code == 400
    assert client.post("/portal/keys/", {"name": "k", "days": HUGE}).status_code == 400
    assert client.post("/portal/webhooks/", {"delete": HUGE}).status_code == 400
