"""The drug API document is served as stored bytes with a strong ETag: 304 on a match, a new
ETag after the write that changes the drug's figures or a new fit, and nothing else."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from drugratings.analytics.models import FitRun
from drugratings.portal.models import Release
from drugratings.ratings.versions import bump

FULL = {"efficacy": 4, "safety": 5, "tolerability": 3, "accessibility": 2, "adherence": 4}


def _path(catalog) -> str:
    return f"/api/v1/drugs/{catalog.atorvastatin.pk}"


def _rate(client, catalog, **scores):
    return client.put(
        f"{_path(catalog)}/ratings/mine",
        {"indication_id": catalog.hyperlipidemia.pk, **FULL, **scores},
    )


def _n_ratings(body: dict) -> int:
    return next(s["n_ratings"] for s in body["scores"] if s["indication_id"] is None)


def test_drug_document_has_a_strong_etag_and_a_match_is_a_bodyless_304(
    small_catalog, personas, api_as
):
    client = api_as(personas.verified)
    assert _rate(client, small_catalog).status_code == 201
    first = client.get(_path(small_catalog))
    assert first.status_code == 200
    assert first["Content-Type"] == "application/json"
    etag = first["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert first.json()["generic_name"] == small_catalog.atorvastatin.generic_name
    again = client.client.get(
        _path(small_catalog), headers={**client.headers, "If-None-Match": etag}
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    other = client.client.get(
        _path(small_catalog), headers={**client.headers, "If-None-Match": '"other"'}
    )
    assert other.status_code == 200 and other.content == first.content


def test_a_rating_write_changes_the_etag_and_the_figures_at_once(small_catalog, personas, api_as):
    client = api_as(personas.verified)
    _rate(client, small_catalog)
    before = client.get(_path(small_catalog))
    assert _n_ratings(before.json()) == 1
    assert _rate(api_as(personas.other_verified), small_catalog).status_code == 201
    after = client.client.get(
        _path(small_catalog), headers={**client.headers, "If-None-Match": before["ETag"]}
    )
    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    assert _n_ratings(after.json()) == 2


def test_reads_and_unrelated_writes_keep_the_stored_bytes(
    small_catalog, personas, api_as, monkeypatch
):
    from drugratings.api import catalog as api_catalog

    builds = []
    real = api_catalog._drug_document
    monkeypatch.setattr(api_catalog, "_drug_document", lambda *a: builds.append(1) or real(*a))
    client = api_as(personas.verified)
    _rate(client, small_catalog)
    first = client.get(_path(small_catalog))
    # Another drug's figures change: this document stays valid and is served from the store.
    bump([small_catalog.sertraline.pk])
    second = api_as(personas.other_verified).get(_path(small_catalog))
    assert second["ETag"] == first["ETag"] and second.content == first.content
    assert len(builds) == 1
    bump([small_catalog.atorvastatin.pk])
    assert client.get(_path(small_catalog))["ETag"] != first["ETag"]
    assert len(builds) == 2


def test_a_new_current_fit_changes_the_etag(small_catalog, personas, api_as):
    client = api_as(personas.verified)
    _rate(client, small_catalog)
    before = client.get(_path(small_catalog))["ETag"]
    FitRun.objects.create(methodology_version="test", is_current=True)
    assert client.get(_path(small_catalog))["ETag"] != before


def test_pharma_etag_does_not_move_with_live_ratings_only_with_a_release(
    small_catalog, personas, api_as
):
    pharma = api_as(personas.pharma)
    before = pharma.get(_path(small_catalog))
    assert before.status_code == 200
    _rate(api_as(personas.verified), small_catalog)
    assert pharma.get(_path(small_catalog))["ETag"] == before["ETag"]
    live = api_as(personas.verified).get(_path(small_catalog))
    assert live["ETag"] != before["ETag"]
    Release.objects.create(methodology_version="test")
    assert pharma.get(_path(small_catalog))["ETag"] != before["ETag"]


def test_missing_drug_is_a_404_and_nothing_is_stored(small_catalog, personas, api_as):
    client = api_as(personas.verified)
    assert client.get("/api/v1/drugs/999999").status_code == 404
    assert client.get("/api/v1/drugs/999999").status_code == 404


def test_viewers_sharing_a_key_get_the_same_figures(small_catalog, personas, api_as):
    """The key must follow `drug_cells_for_viewer`'s own decision of what each viewer sees: two
    viewers with one key share stored bytes, so their figures must be the same."""
    from drugratings.portal.access import (
        Subject,
        drug_cells_for_viewer,
        figures_key,
        page_figure_view,
    )

    _rate(api_as(personas.verified), small_catalog)
    drug = small_catalog.atorvastatin.pk
    by_key: dict[str, tuple[str, list]] = {}
    for name, user in vars(personas).items():
        view = page_figure_view(user, Subject(drug_id=drug))
        key = repr(figures_key(view, user, drug))
        cells = [repr(c) for c in drug_cells_for_viewer(view, drug)]
        if key in by_key:
            assert by_key[key][1] == cells, f"{name} and {by_key[key][0]} share a key"
        else:
            by_key[key] = (name, cells)
    assert len(by_key) >= 3  # live, release and catalogue-only viewers never share one


def test_a_stored_document_reads_only_the_drugs_name_not_its_facts(small_catalog, personas, api_as):
    """A hit needs the drug to exist, the viewer's key and the bytes: the catalogue facts and
    indications are read only when the document is built."""
    client = api_as(personas.verified)
    built = client.get(_path(small_catalog))
    assert built.json()["indications"], "the built document lists the drug's indications"
    with CaptureQueriesContext(connection) as queries:
        hit = client.get(_path(small_catalog))
    assert hit.status_code == 200 and hit.content == built.content
    tables = " ".join(q["sql"] for q in queries.captured_queries)
    assert "catalog_drugindication" not in tables
    assert "catalog_drug" in tables  # the drug must still exist
