"""A replica that is behind the primary. Two ways:

- a real second PostgreSQL database replaying the primary by logical replication
  (CREATE PUBLICATION / SUBSCRIPTION on the same server); it needs `wal_level = logical`, so it
  skips, saying so, on a server without it (the shared one here has `replica`, and it is not
  ours to reconfigure);
- on any database, a copy of the test database taken before a write: a replica that lags for
  as long as the test likes. The writer's sticky window sends it to the primary, where its
  correction is; everyone else reads the replica, where it is not yet.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from django.core import signing
from django.db import connections
from psycopg import sql

from drugratings.catalog.models import CatalogErrorReport, CatalogReportKind, DrugIndication
from drugratings.core.dbrouter import PRIMARY, REPLICA
from drugratings.core.middleware import STICKY_COOKIE
from drugratings.testing.replica import (
    admin_connection,
    database_copy,
    replica_reading,
    route_reads_to_replica,
)

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
    pytest.mark.usefixtures("replica_database"),
]


@pytest.fixture
def report(small_catalog, personas):
    """A physician's report that atorvastatin's label lists migraine (a made-up fact)."""
    return CatalogErrorReport.objects.create(
        drug=small_catalog.atorvastatin,
        indication=small_catalog.migraine,
        kind=CatalogReportKind.MISSING_INDICATION,
        message="The label lists migraine prophylaxis; please add it.",
        reporter=personas.verified,
    )


def _correct(client, report) -> None:
    response = client.post(
        f"/moderation/catalogue/{report.pk}/",
        {
            "decision": "correct",
            "action": "add_indication",
            "indication_id": report.indication_id,
            "reference": "https://dailymed.example/label",
        },
    )
    assert response.status_code == 302
    assert STICKY_COOKIE in response.cookies


def _migraine_drugs(client) -> int:
    response = client.get("/api/v1/indications", {"q": "migraine"})
    assert response.status_code == 200
    (item,) = response.json()["items"]
    return item["n_drugs"]


def test_the_writer_reads_its_correction_from_the_primary_while_the_replica_lags(
    report, personas, web_as, settings, tmp_path, monkeypatch
):
    moderator, physician = web_as(personas.moderator), web_as(personas.other_verified)
    with database_copy(tmp_path) as before, replica_reading(before):
        route_reads_to_replica(settings)
        assert _migraine_drugs(physician) == 0
        _correct(moderator, report)
        assert DrugIndication.objects.filter(indication=report.indication).count() == 1
        assert _migraine_drugs(moderator) == 1  # its sticky window: the primary
        assert _migraine_drugs(physician) == 0  # the replica, a copy from before the write
        # After the window the moderator reads the (still lagging) replica like everyone.
        later = time.time() + settings.DATABASE_REPLICA_STICKY_SECONDS + 1
        monkeypatch.setattr(signing, "time", SimpleNamespace(time=lambda: later))
        assert _migraine_drugs(moderator) == 0


# --- A real replica: logical replication on the same PostgreSQL server ------------------------


def _wal_level() -> str | None:
    primary = connections[PRIMARY]
    if primary.vendor != "postgresql":
        return None
    with primary.cursor() as cursor:
        cursor.execute("SHOW wal_level")
        return cursor.fetchone()[0]


@pytest.fixture
def logical_replica(small_catalog, personas):
    """A second database on the same server, subscribed to every table of the test database."""
    level = _wal_level()
    if level is None:
        pytest.skip("logical replication needs PostgreSQL (DATABASE_URL=postgres://...)")
    if level != "logical":
        pytest.skip(f"wal_level is {level!r}: logical replication needs 'logical' (server-wide)")
    entry = connections[PRIMARY].settings_dict
    primary, name = entry["NAME"], f"{entry['NAME']}_logical"
    slot = f"{primary}_slot"[:63]
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute("CREATE PUBLICATION drugratings_replica FOR ALL TABLES")
    connections.close_all()  # the new database starts as a copy: its template must be idle
    with admin_connection() as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(primary)
            )
        )
    with connections[PRIMARY].cursor() as cursor:
        # A subscription on the same server cannot create its own slot (it would wait for
        # itself): the slot is made here, after the copy, so no change falls between the two.
        cursor.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')", [slot])
    conninfo = " ".join(
        f"{key}={value}"
        for key, value in (
            ("host", entry["HOST"]),
            ("port", entry["PORT"]),
            ("user", entry["USER"]),
            ("password", entry["PASSWORD"]),
            ("dbname", primary),
        )
        if value
    )
    try:
        with replica_reading(name):
            with connections[REPLICA].cursor() as cursor:
                cursor.execute("DROP PUBLICATION drugratings_replica")  # came with the copy
                cursor.execute(
                    "CREATE SUBSCRIPTION drugratings_replica CONNECTION %s PUBLICATION "
                    "drugratings_replica WITH (create_slot = false, slot_name = %s, "
                    "copy_data = false)",
                    [conninfo, slot],
                )
            yield name
            with connections[REPLICA].cursor() as cursor:
                cursor.execute("ALTER SUBSCRIPTION drugratings_replica DISABLE")
                cursor.execute("ALTER SUBSCRIPTION drugratings_replica SET (slot_name = NONE)")
                cursor.execute("DROP SUBSCRIPTION drugratings_replica")
    finally:
        _drop_slot(slot)
        with connections[PRIMARY].cursor() as cursor:
            cursor.execute("DROP PUBLICATION IF EXISTS drugratings_replica")
        with admin_connection() as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _drop_slot(slot: str) -> None:
    """A slot left behind would keep the server's WAL for ever: drop it once its sender ends."""
    deadline = time.monotonic() + 30
    with admin_connection() as admin:
        while time.monotonic() < deadline:
            row = admin.execute(
                "SELECT active_pid FROM pg_replication_slots WHERE slot_name = %s", [slot]
            ).fetchone()
            if row is None:
                return
            if row[0] is not None:
                admin.execute("SELECT pg_terminate_backend(%s)", [row[0]])
                time.sleep(0.2)
                continue
            admin.execute("SELECT pg_drop_replication_slot(%s)", [slot])
            return
    raise AssertionError(f"replication slot {slot} is still active: drop it by hand")


def _replayed(count_on_replica, want: int, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if count_on_replica() == want:
            return True
        time.sleep(0.1)
    return False


def test_a_logical_replica_serves_catalogue_reads_once_it_has_replayed_a_write(
    logical_replica, report, personas, web_as, settings
):
    route_reads_to_replica(settings)
    moderator, physician = web_as(personas.moderator), web_as(personas.other_verified)
    assert _migraine_drugs(physician) == 0
    _correct(moderator, report)
    assert _migraine_drugs(moderator) == 1  # at once: the sticky window reads the primary

    def on_replica() -> int:
        return DrugIndication.objects.using(REPLICA).filter(indication=report.indication).count()

    assert _replayed(on_replica, 1), "the subscription did not replay the correction"
    assert _migraine_drugs(physician) == 1  # read on the replica, which has it now
