"""The job lease moved from analytics to core without touching its table: an existing
database keeps its lease rows through the migration."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from drugratings.core.leases import claim_lease, release_lease
from drugratings.core.models import JobLease

BEFORE = [("analytics", "0003_job_lease"), ("core", None)]


@pytest.mark.django_db(transaction=True)
def test_existing_lease_rows_survive_the_move_to_core():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO analytics_joblease (name, held_until) VALUES (%s, %s)",
            ["release", "2099-01-01 00:00:00"],
        )
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    lease = JobLease.objects.get(name="release")
    assert lease.held_until.year == 2099
    assert not claim_lease("release", 60)  # still held by the worker that took it
    release_lease("release")
    assert claim_lease("release", 60)
