"""The pharma audit row is best effort: it never turns an answer into a 5xx."""

from __future__ import annotations

import logging

from django.db import OperationalError

from drugratings.portal.models import PortalRequest


def _locked(*args, **kwargs):
    raise OperationalError("database is locked")


def test_a_locked_database_does_not_turn_a_pharma_answer_into_a_500(
    personas, api_as, monkeypatch, caplog
):
    client = api_as(personas.pharma)
    expected = client.get("/api/v1/portal/areas").status_code
    assert PortalRequest.objects.count() == 1  # normally the row is stored
    monkeypatch.setattr(PortalRequest, "save", _locked)
    with caplog.at_level(logging.WARNING, logger="drugratings.portal.actions"):
        response = client.get("/api/v1/portal/areas")
        denied = client.get("/api/v1/drugs/999999")
    assert response.status_code == expected < 500
    assert denied.status_code < 500
    logged = [r for r in caplog.records if "audit row not stored" in r.getMessage()]
    assert len(logged) == 2
    assert "/api/v1/portal/areas" in logged[0].getMessage()


def test_the_audit_row_waits_only_briefly_for_the_lock(db):
    from django.db import connection

    from drugratings.dblocks import short_lock_wait

    if connection.vendor != "sqlite":
        return
    with short_lock_wait(0.25), connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] == 250
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 5000  # the connection's own timeout is back
