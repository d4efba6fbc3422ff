"""Releases plan their cells a chunk of drugs at a time (every cell, parent and partition lies
within one drug): the release is the same whatever the chunk size."""

from __future__ import annotations

import random
from itertools import compress

import numpy as np
import pytest

from drugratings.portal import releases
from drugratings.portal.models import (
    Breakdown,
    CellState,
    CellVersion,
    IncludedRating,
    LedgerEntry,
    Release,
)
from drugratings.portal.privacy.cell_index import cell_index, suppressed
from drugratings.portal.privacy.cells import (
    CellKey,
    breakdown_values,
    drug_cells,
    drug_indication_cells,
)
from drugratings.portal.privacy.suppression import suppressed_cells
from drugratings.portal.release_processes import ChunkProcesses
from drugratings.portal.releases import build_release, versions_at
from drugratings.portal.reports.combined import combined_suppression
from drugratings.portal.tests.conftest import add_physicians, rate


def _without_noise(monkeypatch) -> None:
    # Noise is random; without it two builds of the same ratings must agree exactly.
    monkeypatch.setattr(releases, "noisy_nodes", lambda nodes, policy: nodes.astype(float))


def _published(release: Release) -> dict[tuple, dict]:
    return {
        (v.level, v.drug_id, v.indication_id, v.breakdown, v.breakdown_value): v.values
        for v in versions_at(release)
    }


def _build_twice(monkeypatch, chunk: int) -> tuple[dict, dict, Release]:
    monkeypatch.setattr(releases, "PLAN_CHUNK_RATINGS", chunk)
    first = build_release()
    charges = dict(LedgerEntry.objects.values_list("physician_id", "rho"))
    return _published(first), charges, first


def _forget_releases() -> None:
    for model in (LedgerEntry, CellVersion, CellState, IncludedRating):
        model.objects.all().delete()
    Release.all_objects.all().delete()


def test_a_release_planned_in_chunks_of_drugs_equals_one_planned_at_once(world, monkeypatch):
    _without_noise(monkeypatch)
    for user in add_physicians(30, start=500):  # a second drug with enough raters to publish
        rate(user, world.catalog.sertraline, world.catalog.depression, 4)
    whole, whole_charges, one = _build_twice(monkeypatch, 10**9)
    assert len({key[1] for key in whole}) >= 2 and one.n_cells_published > 10
    _forget_releases()
    chunks = []
    real_plan_chunk = releases._plan_chunk

    def spy(drugs, *args, **kwargs):
        chunks.append(list(drugs))
        return real_plan_chunk(drugs, *args, **kwargs)

    monkeypatch.setattr(releases, "_plan_chunk", spy)
    chunked, chunked_charges, many = _build_twice(monkeypatch, 1)  # one drug per chunk
    assert len(chunks) >= 2 and all(len(drugs) == 1 for drugs in chunks)
    assert chunked == whole
    assert chunked_charges.keys() == whole_charges.keys()
    assert all(abs(chunked_charges[p] - rho) < 1e-9 for p, rho in whole_charges.items())
    assert (many.n_cells_changed, many.n_cells_suppressed, many.n_events) == (
        one.n_cells_changed,
        one.n_cells_suppressed,
        one.n_events,
    )


def test_suppression_drug_by_drug_hides_what_suppression_of_all_drugs_hides():

    rng = random.Random(11)
    raters: dict[CellKey, int] = {}
    for drug in (1, 2, 3):
        for indication in (10, 20):
            for _ in range(40):
                where = breakdown_values(
                    rng.choice([1, 2, 3]),
                    rng.choice(["US-CA", "US-NY"]),
                    rng.choice(["2025-01", "2025-02"]),
                )
                for key in drug_indication_cells(drug, indication, where) + drug_cells(drug, where):
                    raters[key] = raters.get(key, 0) + 1
    running = {k for k in raters if k.breakdown == Breakdown.MONTH and k.value == "2025-02"}
    whole = combined_suppression(raters, 11, suppressed_cells(raters, 11, frozenset(running)))
    keys = list(raters)
    mask = suppressed(
        cell_index(keys), np.array([raters[k] for k in keys]), [k in running for k in keys], 11
    )
    assert set(compress(keys, mask)) == whole
    assert whole and len(whole) < len(raters)  # some cells hidden, some shown
    # Complementary suppression took part: cells big enough on their own are hidden too.
    assert any(raters[k] >= 11 for k in whole if k not in running)


def test_a_cell_left_out_by_the_count_floor_never_stands_alone_in_its_line():
    from drugratings.portal.privacy.policy import current_policy

    def cell(breakdown: str, value: str) -> CellKey:
        return CellKey(1, 1, 1, breakdown, value)

    raters = {cell(Breakdown.NONE, ""): 90, cell(Breakdown.REGION, "US-NY"): 60}
    for s in ("1", "2", "3"):
        raters[cell(Breakdown.SPECIALTY, s)] = 30
        raters[cell(Breakdown.REGION_SPECIALTY, f"US-NY|{s}")] = 20
    noisy = dict.fromkeys(raters, None)
    lone = cell(Breakdown.REGION_SPECIALTY, "US-NY|2")
    values = {key: {"efficacy": {}} for key in raters if key != lone}  # the floor took `lone`
    hidden: set[CellKey] = set()
    keys = list(raters)
    shown = releases._close_after_count_floor(
        values,
        noisy,
        hidden,
        cell_index(keys),
        np.array([raters[k] for k in keys]),
        np.zeros(len(keys), dtype=bool),
        current_policy(),
    )
    line = [k for k in raters if k.breakdown == Breakdown.REGION_SPECIALTY]
    assert lone in hidden and lone not in shown
    assert sum(k not in shown for k in line) >= 2  # a sibling is hidden with it
    assert cell(Breakdown.NONE, "") in shown  # nothing else had to go


def _noise_free_outcome(release: Release) -> dict:
    """What a release decided before any noise: every cell state's key, step and true totals,
    the included ratings and the charges."""
    from drugratings.portal.privacy import tree

    return {
        "states": {
            s.key: (s.step, [round(v, 9) for v in tree.totals(s.state)[1].tolist()])
            for s in CellState.objects.all()
        },
        "included": sorted(
            IncludedRating.objects.values_list(
                "physician_id", "drug_id", "indication_id", "adjusted"
            )
        ),
        "charges": sorted(
            (p, round(rho, 9)) for p, rho in LedgerEntry.objects.values_list("physician_id", "rho")
        ),
        "events": release.n_events,
        "published": release.n_cells_published > 0,
    }


@pytest.mark.django_db(transaction=True)
def test_chunks_planned_in_processes_decide_what_planning_here_decides(
    world, monkeypatch, settings
):
    """Large releases on PostgreSQL plan their chunks in spawned processes: the same steps, true
    totals, charges and included ratings as one process planning every chunk (noise differs
    between any two builds; what it was added to does not). A later, incremental release
    plans its changed drugs in processes too."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("chunks are planned in processes on PostgreSQL only")
    for user in add_physicians(30, start=500):  # a second drug with enough raters to publish
        rate(user, world.catalog.sertraline, world.catalog.depression, 4)
    monkeypatch.setattr(releases, "PLAN_CHUNK_RATINGS", 1)  # one drug per chunk
    monkeypatch.setattr(releases, "RELEASE_PARALLEL_MIN_ROWS", 0)
    spawned = []
    real_run = ChunkProcesses.run

    def counting(self, plan, jobs):
        spawned.append((len(jobs), self.processes))
        return real_run(self, plan, jobs)

    monkeypatch.setattr(ChunkProcesses, "run", counting)
    settings.RELEASE_PROCESSES = 1
    here = _noise_free_outcome(build_release())
    _forget_releases()
    settings.RELEASE_PROCESSES = 2
    first = build_release()
    assert spawned == [(3, 2)]
    assert _noise_free_outcome(first) == here
    assert here["events"] > 60 and len(here["states"]) > 10

    edited = {}
    for user, drug in zip(
        world.physicians[:2], (world.catalog.atorvastatin, world.catalog.rosuvastatin), strict=True
    ):
        rating = user.physician.ratings.get(drug=drug)
        rating.efficacy = 1 if rating.efficacy != 1 else 2
        rating.save()
        edited[(rating.physician_id, rating.drug_id)] = rating.efficacy
    second = build_release()
    assert spawned == [(3, 2), (2, 2)]
    assert second.complete and second.n_events == 2
    for (physician, drug), efficacy in edited.items():
        included = IncludedRating.objects.get(physician_id=physician, drug_id=drug)
        assert included.raw[0] == efficacy
