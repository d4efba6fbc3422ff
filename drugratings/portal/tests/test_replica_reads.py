"""Pharma reports with a `replica` alias mirroring the test database: the release and its cells
are read on the replica, who may see them (analyst, subscriptions) on the primary, and the audit
row written on every request does not send the analyst's next requests to the primary. A release
the replica does not have yet (its id came by webhook) is read from the primary."""

from __future__ import annotations

import pytest

from drugratings.accounts.actions import issue_token
from drugratings.core.dbrouter import PRIMARY, REPLICA
from drugratings.core.middleware import STICKY_COOKIE
from drugratings.portal.models import PortalRequest
from drugratings.portal.releases import build_release
from drugratings.testing.replica import (
    REPLICA_TABLES,
    catalogue_reads_on_primary,
    database_copy,
    on,
    replica_reading,
    route_reads_to_replica,
    tables,
    timeline,
)

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
    pytest.mark.usefixtures("replica_database"),
]


def test_a_report_reads_the_release_on_the_replica_and_the_permissions_on_the_primary(
    world, client, settings
):
    build_release()  # the worker: no request, so all of it on the primary
    route_reads_to_replica(settings)
    _, secret = issue_token(world.analyst)
    path = f"/api/v1/portal/reports/indications/{world.catalog.hyperlipidemia.pk}"
    auth = {"Authorization": f"Bearer {secret}"}
    with timeline() as seen:
        response = client.get(path, headers=auth)
    assert response.status_code == 200, response.content[:300]
    assert response.json()["cells"], "the release's cells are shown"
    replica_tables = set().union(*(tables(sql) for sql in on(seen, REPLICA)))
    assert {"portal_release", "portal_cellversion"} <= replica_tables <= REPLICA_TABLES
    primary_tables = set().union(*(tables(sql) for sql in on(seen, PRIMARY)))
    assert {"portal_pharmaanalyst", "portal_subscription"} <= primary_tables
    assert not catalogue_reads_on_primary(seen)
    assert PortalRequest.objects.filter(path=path).count() == 1  # audited, on the primary
    assert STICKY_COOKIE not in response.cookies
    with timeline() as seen:
        assert client.get(path, headers=auth).status_code == 200
    assert "portal_cellversion" in set().union(*(tables(sql) for sql in on(seen, REPLICA)))


def test_a_release_not_yet_on_the_replica_is_read_from_the_primary(
    world, client, settings, tmp_path
):
    first = build_release()
    _, secret = issue_token(world.analyst)
    auth = {"Authorization": f"Bearer {secret}"}
    report = f"/api/v1/portal/reports/indications/{world.catalog.hyperlipidemia.pk}"
    with database_copy(tmp_path) as before, replica_reading(before):
        route_reads_to_replica(settings)
        second = build_release()  # announced by webhook and stream before the replica has it
        latest = client.get("/api/v1/portal/releases/latest", headers=auth)
        assert latest.json()["id"] == first.pk  # the lagging replica's latest, still coherent
        with timeline() as seen:
            pinned = client.get(f"/api/v1/portal/releases/{second.pk}", headers=auth)
        assert pinned.status_code == 200
        assert pinned.json()["id"] == second.pk
        assert "portal_release" in set().union(*(tables(sql) for sql in on(seen, PRIMARY)))
        cells = client.get(report, {"release": second.pk}, headers=auth)
        assert cells.status_code == 200
        assert cells.json()["release"]["id"] == second.pk
        assert (
            client.get(f"/api/v1/portal/releases/{second.pk + 1}", headers=auth).status_code == 404
        )
