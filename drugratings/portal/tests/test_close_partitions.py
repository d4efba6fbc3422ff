"""close_partitions visits only the groups a change touched: it must hide exactly what passing
over every group, again and again until nothing changes, hides (the rule's reference form)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from drugratings.portal.privacy.cell_index import cell_index, suppressed
from drugratings.portal.privacy.cells import CellKey
from drugratings.portal.privacy.suppression import (
    close_partitions,
    partition_groups,
    suppressed_cells,
)
from drugratings.portal.reports.combined import combined_lines, combined_suppression


def _sweeps(groups, hidden, true_raters, parent_hidden):
    """The reference: full passes in group order until one changes nothing."""
    changed = True
    while changed:
        changed = False
        for parent, cells in groups:
            if parent_hidden(parent):
                newly = [c for c in cells if c not in hidden]
                if newly:
                    hidden.update(newly)
                    changed = True
                continue
            if sum(c in hidden for c in cells) == 1:
                published = sorted(
                    (c for c in cells if c not in hidden), key=lambda c: (true_raters[c], c)
                )
                if published:
                    hidden.add(published[0])
                    changed = True
    return hidden


def _drug_cells(rng: random.Random, drug: int) -> dict[CellKey, int]:
    """A drug's cells at both levels, with every breakdown, and random physician counts."""
    raters: dict[CellKey, int] = {}
    specialties = [str(s) for s in rng.sample(range(1, 40), rng.randint(1, 6))]
    regions = rng.sample(["NE", "MW", "S", "W"], rng.randint(1, 4))
    months = [f"2026-{m:02d}" for m in rng.sample(range(1, 13), rng.randint(1, 5))]
    singles = {"specialty": specialties, "region": regions, "month": months}
    pairs = {
        "specialty,month": (specialties, months),
        "region,specialty": (regions, specialties),
        "region,month": (regions, months),
    }
    for level, indications in ((1, rng.sample(range(1, 30), rng.randint(1, 3))), (0, [0])):
        for indication in indications:
            raters[CellKey(level, drug, indication, "none", "")] = rng.randint(5, 80)
            for breakdown, values in singles.items():
                for value in values:
                    raters[CellKey(level, drug, indication, breakdown, value)] = rng.randint(1, 30)
            for breakdown, (first, second) in pairs.items():
                for a in first:
                    for b in second:
                        if rng.random() < 0.8:
                            key = CellKey(level, drug, indication, breakdown, f"{a}|{b}")
                            raters[key] = rng.randint(1, 20)
    return raters


@pytest.mark.parametrize("seed", range(60))
def test_visiting_touched_groups_hides_what_full_passes_hide(seed):
    rng = random.Random(seed)
    raters: dict[CellKey, int] = {}
    for drug in range(1, rng.randint(2, 4)):
        raters |= _drug_cells(rng, drug)
    k = rng.choice([5, 11])
    start = {key for key, n in raters.items() if n < k}
    start |= {key for key in raters if key.breakdown.endswith("month") and rng.random() < 0.1}

    groups = partition_groups(raters)
    single = close_partitions(groups, set(start), raters, lambda parent: parent in start)
    expected = _sweeps(groups, set(start), raters, lambda parent: parent in start)
    assert single == expected

    lines = combined_lines(raters)

    def margin_hidden(margin):
        return margin in expected or margin not in raters

    both = close_partitions(lines, set(expected), raters, margin_hidden)
    assert both == _sweeps(lines, set(expected), raters, margin_hidden)
    assert len(expected) > len(start)  # complementary suppression took part


def test_a_lone_hidden_cell_takes_its_smallest_published_sibling():
    parent = CellKey(1, 1, 1, "none", "")
    cells = [CellKey(1, 1, 1, "region", r) for r in ("MW", "NE", "S", "W")]
    raters = {parent: 60, cells[0]: 3, cells[1]: 20, cells[2]: 14, cells[3]: 14}
    hidden = close_partitions([(parent, cells)], {cells[0]}, raters, lambda p: False)
    assert hidden == {cells[0], cells[2]}  # 14 and 14: the smaller key, "S"


@pytest.mark.parametrize("seed", range(40))
def test_suppression_on_cell_numbers_hides_what_the_rule_on_keys_hides(seed):
    """cell_index.suppressed against suppressed_cells then combined_suppression, drug by drug,
    with running-month cells and, now and then, a drug-level cell missing (a margin or parent
    that is not among the cells)."""
    rng = random.Random(1000 + seed)
    raters: dict[CellKey, int] = {}
    for drug in rng.sample(range(1, 500), rng.randint(1, 4)):
        raters |= _drug_cells(rng, drug)
    for key in [key for key in raters if rng.random() < 0.02]:
        del raters[key]
    k = rng.choice([5, 11])
    running = {key for key in raters if key.breakdown.endswith("month") and rng.random() < 0.1}
    expected: set[CellKey] = set()
    for drug in {key.drug_id for key in raters}:
        of_drug = {key: n for key, n in raters.items() if key.drug_id == drug}
        unpublished = frozenset(key for key in running if key.drug_id == drug)
        expected |= combined_suppression(of_drug, k, suppressed_cells(of_drug, k, unpublished))

    keys = list(raters)  # groups are visited in the order of their first cell, as on keys
    index = cell_index(keys)
    mask = suppressed(
        index, np.array([raters[key] for key in keys]), [key in running for key in keys], k
    )
    assert {key for key, hide in zip(keys, mask, strict=True) if hide} == expected
    assert all(index.find(key) == n for n, key in enumerate(keys))
    assert index.find(CellKey(1, 999_999, 1, "none", "")) == -1


def test_finding_many_cells_at_once_finds_each_one():
    rng = random.Random(5)
    raters = _drug_cells(rng, 7) | _drug_cells(rng, 8)
    keys = list(raters)
    index = cell_index(keys)
    strangers = [CellKey(1, 9, 1, "none", ""), CellKey(0, 7, 0, "region", "nowhere")]
    asked = keys[::-1] + strangers
    assert index.find_many(asked).tolist() == [len(keys) - 1 - n for n in range(len(keys))] + [
        -1,
        -1,
    ]
    assert index.find_many([]).tolist() == []
