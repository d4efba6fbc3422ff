"""A release is written in short transactions, stays hidden until published, and a build that
stops midway leaves nothing a reader can see."""

from __future__ import annotations

import pytest
from django.db import connection

from drugratings.portal import releases
from drugratings.portal.models import CellVersion, LedgerEntry, Release
from drugratings.portal.releases import build_release, versions_at
from drugratings.portal.tests.conftest import add_physicians, rate
from drugratings.testing.transactions import rows_per_transaction


def _cells(release: Release) -> dict[tuple, dict]:
    return {
        (v.level, v.drug_id, v.indication_id, v.breakdown, v.breakdown_value): v.values
        for v in versions_at(release)
    }


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_release_is_written_in_short_transactions(world, monkeypatch):
    if connection.vendor != "sqlite":
        pytest.skip("measures SQLite's BEGIN statements")
    monkeypatch.setattr(releases, "WRITE_BATCH", 10)
    with rows_per_transaction() as sizes:
        first = build_release()
    assert first.n_events > 60 and first.n_cells_published > 10
    assert sum(sizes) > 100  # included ratings, trees, versions, ledger
    # Batches of 10 rows; the publishing transaction writes the release row and the monthly
    # engagement figures only.
    assert max(sizes) <= 10 + first.n_cells_published, sizes
    assert sorted(sizes)[-2] <= 10, sizes


def test_a_release_stays_hidden_until_published(world, monkeypatch):
    first = build_release()
    for user in add_physicians(6, start=500):
        rate(user, world.catalog.atorvastatin, world.catalog.hyperlipidemia, 1)
    seen = {}

    def stop_before_publishing(*args, **kwargs):
        seen["latest"] = Release.objects.order_by("-pk").first()
        seen["cells"] = _cells(seen["latest"])
        raise RuntimeError("worker killed")

    monkeypatch.setattr(releases, "_publish", stop_before_publishing)
    with pytest.raises(RuntimeError):
        build_release()
    # Mid-build, readers still saw the first release, whole and unchanged.
    assert seen["latest"].pk == first.pk
    assert seen["cells"] == _cells(first)
    abandoned = Release.all_objects.get(complete=False)
    assert CellVersion.objects.filter(first_release=abandoned).exists()
    assert LedgerEntry.objects.filter(release=abandoned).exists()  # charged before writing
    assert Release.objects.order_by("-pk").first().pk == first.pk
    monkeypatch.undo()

    second = build_release()  # resumes the stopped build and publishes it
    assert second.pk == abandoned.pk and second.complete
    assert Release.objects.order_by("-pk").first().pk == second.pk
    assert _cells(first) == seen["cells"]  # the first release still reads the same
    keys = [
        (v.level, v.drug_id, v.indication_id, v.breakdown, v.breakdown_value)
        for v in versions_at(second)
    ]
    assert len(keys) == len(set(keys))  # one version per cell: nothing left half-closed
    assert set(keys) >= set(_cells(first))
    atorvastatin = (1, world.catalog.atorvastatin.pk, world.catalog.hyperlipidemia.pk, "none", "")
    assert _cells(second)[atorvastatin] != _cells(first)[atorvastatin]  # the 6 new ratings
    third = build_release()
    assert third.n_events == 0 and third.n_cells_changed == 0


def test_a_build_stopped_while_writing_cells_resumes_without_duplicates(world, monkeypatch):
    first = build_release()
    for user in add_physicians(12, start=500):
        rate(user, world.catalog.atorvastatin, world.catalog.hyperlipidemia, 1)
        rate(user, world.catalog.rosuvastatin, world.catalog.hyperlipidemia, 5)
    monkeypatch.setattr(releases, "WRITE_BATCH", 4)  # one cell per write transaction
    real = releases._write_steps
    calls = []

    def stop_on_third(chunk, previous):
        calls.append(len(chunk))
        if len(calls) == 3:
            raise RuntimeError("worker killed")
        real(chunk, previous)

    monkeypatch.setattr(releases, "_write_steps", stop_on_third)
    with pytest.raises(RuntimeError):
        build_release()
    assert Release.objects.order_by("-pk").first().pk == first.pk
    assert _cells(first) == _cells(Release.objects.order_by("-pk").first())
    monkeypatch.setattr(releases, "_write_steps", real)
    second = build_release()
    keys = [
        (v.level, v.drug_id, v.indication_id, v.breakdown, v.breakdown_value)
        for v in versions_at(second)
    ]
    assert len(keys) == len(set(keys))
    changed = [k for k, v in _cells(second).items() if _cells(first).get(k) != v]
    assert len(changed) > 2  # the two cells written before the stop and the rest after it


def test_a_stopped_first_release_resumed_after_new_ratings_has_one_version_per_cell(
    world, monkeypatch
):
    def stop(*args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(releases, "_publish", stop)
    with pytest.raises(RuntimeError):
        build_release()
    assert Release.objects.count() == 0
    monkeypatch.undo()
    for user in add_physicians(12, start=700):
        rate(user, world.catalog.atorvastatin, world.catalog.hyperlipidemia, 1)
    release = build_release()
    keys = [
        (v.level, v.drug_id, v.indication_id, v.breakdown, v.breakdown_value)
        for v in versions_at(release)
    ]
    assert len(keys) == len(set(keys))
    assert release.n_events == 12
