"""Through the web, with a `replica` alias that mirrors the test database: catalogue reads really
go through the replica's connection, live figures and every write through the primary's, and a
client that wrote reads the primary for the rest of that request and for the sticky window."""

from __future__ import annotations

import re
import time
from types import SimpleNamespace

import pytest
from django.core import signing

from drugratings.core.dbrouter import PRIMARY, REPLICA
from drugratings.core.middleware import STICKY_COOKIE
from drugratings.ratings.models import Rating
from drugratings.testing.replica import (
    REPLICA_TABLES,
    catalogue_reads_on_primary,
    on,
    route_reads_to_replica,
    tables,
    timeline,
)

DRUG = "/drugs/atorvastatin-calcium/"
SCORES = ("efficacy", "safety", "tolerability", "accessibility", "adherence")

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
    pytest.mark.usefixtures("replica_database"),
]


@pytest.fixture
def replica(settings):
    route_reads_to_replica(settings)


@pytest.fixture
def rated(small_catalog, personas):
    Rating.objects.create(
        physician=personas.other_verified.physician,
        drug=small_catalog.atorvastatin,
        indication=small_catalog.hyperlipidemia,
        **dict.fromkeys(SCORES, 4),
    )
    return small_catalog


def test_a_drug_page_reads_the_catalogue_on_the_replica_and_the_rest_on_the_primary(
    rated, personas, web_as, replica
):
    client = web_as(personas.verified)
    with timeline() as seen:
        page = client.get(DRUG)
    assert page.status_code == 200
    assert b"Atorvastatin" in page.content
    from_replica = on(seen, REPLICA)
    assert from_replica, "no query went through the replica's connection"
    for sql in from_replica:
        assert sql.lstrip().upper().startswith("SELECT"), sql
        assert tables(sql) <= REPLICA_TABLES, sql
    from_primary = on(seen, PRIMARY)
    assert any("ratings_rating" in tables(sql) for sql in from_primary)
    assert not catalogue_reads_on_primary(seen)
    assert STICKY_COOKIE not in page.cookies  # reading (and caching the page) is no write


def test_after_a_write_the_request_and_the_sticky_window_read_the_primary(
    rated, personas, api_as, replica, settings, monkeypatch
):
    writer, reader = api_as(personas.verified), api_as(personas.other_verified)
    drug = f"/api/v1/drugs/{rated.atorvastatin.pk}"
    body = {"indication_id": rated.hyperlipidemia.pk, **dict.fromkeys(SCORES, 5)}
    with timeline() as seen:
        done = writer.put(f"{drug}/ratings/mine", body)
    assert done.status_code in (200, 201), done.content[:300]
    writes = [i for i, (_, sql) in enumerate(seen) if re.match(r"\s*(INSERT|UPDATE)", sql)]
    assert writes, "the rating was not written"
    assert {seen[i][0] for i in writes} == {PRIMARY}
    assert not [sql for alias, sql in seen[writes[0] :] if alias == REPLICA]
    assert done.cookies[STICKY_COOKIE]["max-age"] == settings.DATABASE_REPLICA_STICKY_SECONDS

    with timeline() as seen:
        assert writer.get(drug).status_code == 200
    assert not on(seen, REPLICA), "the writer read the replica inside its sticky window"
    with timeline() as seen:
        assert reader.get(drug).status_code == 200
    assert on(seen, REPLICA), "a client that did not write should read the replica"

    # Once the window has passed (the server checks the signed time, whatever the browser
    # keeps), the writer reads the replica again.
    later = time.time() + settings.DATABASE_REPLICA_STICKY_SECONDS + 1
    monkeypatch.setattr(signing, "time", SimpleNamespace(time=lambda: later))
    with timeline() as seen:
        assert writer.get(drug).status_code == 200
    assert on(seen, REPLICA)


def test_a_forged_sticky_cookie_is_ignored(rated, personas, web_as, replica):
    client = web_as(personas.verified)
    client.cookies[STICKY_COOKIE] = "1"
    with timeline() as seen:
        assert client.get(DRUG).status_code == 200
    assert on(seen, REPLICA)


def test_a_bearer_client_reading_sets_no_sticky_window(rated, personas, api_as, replica):
    # Its token's last use is touched (a write) on the first call: bookkeeping, not a write.
    client = api_as(personas.verified)
    with timeline() as seen:
        found = client.get("/api/v1/indications", q="hyper")
    assert found.status_code == 200
    assert found.json()["items"][0]["n_drugs"] == 2
    assert on(seen, REPLICA)
    assert STICKY_COOKIE not in found.cookies


def test_the_search_index_is_built_from_the_primary(rated, personas, api_as, replica):
    # It lives for minutes in the process: built from a lagging replica, it would hide a
    # correction made here long after the replica caught up.
    with timeline() as seen:
        found = api_as(personas.verified).get("/api/v1/drugs", q="atorva")
    assert [d["slug"] for d in found.json()["items"]] == ["atorvastatin-calcium"]
    index_reads = [sql for sql in on(seen, PRIMARY) if "brand_names" in sql]
    assert index_reads and tables(index_reads[0]) == {"catalog_drug"}
    assert on(seen, REPLICA)  # the page of hits itself comes from the replica


@pytest.mark.parametrize(
    "path",
    [
        "/",
        DRUG,
        "/indications/",
        "/indications/hyperlipidemia/",
        "/classes/statin/",
        "/search/?q=statin",
        "/compare/?drugs=atorvastatin-calcium,rosuvastatin-calcium",
        "/me/ratings/",
    ],
)
def test_reading_a_page_keeps_the_reader_on_the_replica(rated, personas, web_as, replica, path):
    # A page that wrote on every view (a get_or_create, a counter) would end replica reads for
    # everyone signed in: the sticky cookie would follow each page.
    client = web_as(personas.verified)
    for _ in range(2):
        response = client.get(path)
        assert response.status_code == 200, path
        assert STICKY_COOKIE not in response.cookies, path
