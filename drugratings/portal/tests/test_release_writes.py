"""A release is computed outside any transaction and written in one short one at the end; it
stays hidden until that transaction commits, and a build that stops midway leaves nothing a
reader can see (issue 10: on SQLite a long write transaction locks every request out)."""

from __future__ import annotations

import pytest
from django.db import connection

from drugratings.portal import releases
from drugratings.portal.models import CellVersion, IncludedRating, LedgerEntry, Release
from drugratings.portal.releases import build_release, versions_at
from drugratings.portal.tests.conftest import add_physicians, rate
from drugratings.ratings.queries import scored_ratings


def _cells(release: Release) -> dict[tuple, dict]:
    return {
        (v.level, v.drug_id, v.indication_id, v.breakdown, v.breakdown_value): v.values
        for v in versions_at(release)
    }


@pytest.mark.django_db(transaction=True)
def test_the_release_is_computed_outside_any_transaction(world, monkeypatch):
    """Planning (budgets, tree steps, noise) runs with no transaction open, so the database's
    write lock is held only while the planned rows are written."""
    seen = []
    for name in ("_include_events", "_plan_cells"):
        real = getattr(releases, name)

        def spy(*args, _real=real, _name=name, **kwargs):
            seen.append((_name, connection.in_atomic_block))
            return _real(*args, **kwargs)

        monkeypatch.setattr(releases, name, spy)
    first = build_release()
    assert first.complete and first.n_cells_published > 10
    assert seen == [("_include_events", False), ("_plan_cells", False)]


def test_a_release_stays_hidden_until_published(world, monkeypatch):
    first = build_release()
    for user in add_physicians(12, start=500):
        rate(user, world.catalog.atorvastatin, world.catalog.hyperlipidemia, 1)
    seen = {}

    def stop_before_publishing(*args, **kwargs):
        seen["latest"] = Release.objects.order_by("-pk").first()
        seen["cells"] = _cells(seen["latest"])
        raise RuntimeError("worker killed")

    monkeypatch.setattr(releases, "_publish", stop_before_publishing)
    with pytest.raises(RuntimeError):
        build_release()
    # Mid-build, readers still saw the first release, whole and unchanged; the write phase
    # rolled back, so the abandoned release holds no versions and charged nobody.
    assert seen["latest"].pk == first.pk
    assert seen["cells"] == _cells(first)
    abandoned = Release.all_objects.get(complete=False)
    assert not CellVersion.objects.filter(first_release=abandoned).exists()
    assert not LedgerEntry.objects.filter(release=abandoned).exists()
    assert Release.objects.order_by("-pk").first().pk == first.pk
    monkeypatch.undo()

    second = build_release()  # removes the abandoned row and publishes the changes
    assert second.complete and not Release.all_objects.filter(pk=abandoned.pk).exists()
    assert Release.objects.order_by("-pk").first().pk == second.pk
    assert _cells(first) == seen["cells"]  # the first release still reads the same
    keys = [
        (v.level, v.drug_id, v.indication_id, v.breakdown, v.breakdown_value)
        for v in versions_at(second)
    ]
    assert len(keys) == len(set(keys))  # one version per cell: nothing left half-closed
    atorvastatin = (1, world.catalog.atorvastatin.pk, world.catalog.hyperlipidemia.pk, "none", "")
    assert _cells(second)[atorvastatin] != _cells(first)[atorvastatin]  # the 12 new ratings
    third = build_release()
    assert third.n_events == 0 and third.n_cells_changed == 0


def test_a_stopped_first_release_leaves_nothing_and_the_next_build_includes_everything(
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
    assert release.n_events == scored_ratings().count()


@pytest.mark.django_db(transaction=True)
def test_the_first_release_is_written_in_short_transactions(world, monkeypatch):
    """Issue 10: the first release inserts a row per rating; one transaction held SQLite's write
    lock for 17 s under load. Before anything is published it writes in short batches on
    SQLite, and streams one COPY on PostgreSQL (which takes no lock a reader waits on)."""
    monkeypatch.setattr(releases, "FIRST_RELEASE_BATCH", 5)
    writes = []
    real_write_rows = releases.write_rows

    def spy(model, columns, rows, *, copy):
        rows = list(rows)
        writes.append((model, len(rows), copy, connection.in_atomic_block))
        return real_write_rows(model, columns, rows, copy=copy)

    monkeypatch.setattr(releases, "write_rows", spy)
    real_write_lines = releases.write_copy_lines

    def spy_lines(model, columns, lines):  # PostgreSQL: the rows as lines of COPY text
        lines = list(lines)
        writes.append((model, len(lines), True, connection.in_atomic_block))
        return real_write_lines(model, columns, lines)

    monkeypatch.setattr(releases, "write_copy_lines", spy_lines)
    first = build_release()
    n = IncludedRating.objects.count()
    assert first.complete and n > 10
    assert {model for model, *_ in writes} == {IncludedRating}
    assert sum(size for _, size, *_ in writes) == n
    if connection.vendor == "postgresql":
        assert [(copy, atomic) for _, _, copy, atomic in writes] == [(True, False)]
    else:
        assert len(writes) == -(-n // 5) and max(size for _, size, *_ in writes) == 5
        assert all(atomic and not copy for *_, copy, atomic in writes)  # one transaction each
    # The rows hold what the planner computed: raw scores and centred values, JSON both.
    row = IncludedRating.objects.order_by("pk").first()
    assert len(row.raw) == 5 and len(row.adjusted) == 5
    assert all(v is None or -2 <= v <= 2 for v in row.adjusted)


@pytest.mark.django_db(transaction=True)
def test_a_first_release_stopped_while_writing_is_cleared_and_rebuilt(world, monkeypatch):
    monkeypatch.setattr(releases, "FIRST_RELEASE_BATCH", 5)

    def dying(real):
        def write(model, rows, *args, **kwargs):
            if model is not CellVersion:
                return real(model, rows, *args, **kwargs)
            real(model, rows[:10], *args, **kwargs)  # some versions are written, then it dies
            raise RuntimeError("worker killed")

        return write

    def dying_rows(real):
        def write(model, columns, rows):
            if model is not CellVersion:
                return real(model, columns, rows)
            real(model, columns, list(rows)[:10])  # some versions are written, then it dies
            raise RuntimeError("worker killed")

        return write

    # SQLite writes versions in batches, PostgreSQL with COPY: both die half-way.
    monkeypatch.setattr(releases, "insert_in_batches", dying(releases.insert_in_batches))
    monkeypatch.setattr(releases, "write_plain_rows", dying_rows(releases.write_plain_rows))
    with pytest.raises(RuntimeError):
        build_release()
    # Half-written and hidden: readers see no release at all.
    assert Release.objects.count() == 0
    assert IncludedRating.objects.exists() and CellVersion.objects.exists()
    monkeypatch.undo()

    rebuilt = build_release()
    assert Release.all_objects.count() == 1 and rebuilt.complete
    included = IncludedRating.objects.count()
    assert (
        included
        == IncludedRating.objects.values("physician_id", "drug_id", "indication_id")
        .distinct()
        .count()
        > 10
    )
    keys = [
        (v.level, v.drug_id, v.indication_id, v.breakdown, v.breakdown_value)
        for v in versions_at(rebuilt)
    ]
    assert len(keys) == len(set(keys)) == rebuilt.n_cells_published > 10


def test_the_ledger_charges_each_included_physician_at_the_release_time(world):
    """The ledger is written by COPY on PostgreSQL and by Django elsewhere: either way one entry
    per charged physician, for this release, at its publication time, with a positive rho."""
    release = build_release()
    entries = list(LedgerEntry.objects.values_list("physician_id", "release_id", "rho", "at"))
    charged = set(scored_ratings().values_list("physician_id", flat=True))
    assert {entry[0] for entry in entries} == charged
    assert len(entries) == len(charged)
    assert all(
        r == release.pk and rho > 0 and at == release.published_at for _, r, rho, at in entries
    )
