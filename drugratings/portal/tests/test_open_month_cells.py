"""A release hides the cells of the running month by a mask computed from the distinct
breakdown values (`steps.open_month_cells`); it must mark exactly the cells the rule names:
month-bearing breakdowns whose month part is the running month or later, and nothing else
(regions such as "US-WA" sort after any month as text, so a test on the text alone would hide
region cells)."""

from __future__ import annotations

import random

from drugratings.portal.models import Breakdown, Level
from drugratings.portal.privacy import steps
from drugratings.portal.privacy.cell_index import cell_index
from drugratings.portal.privacy.cells import CellKey, breakdown_values

MONTHS = ["2025-12", "2026-10", "2026-11", "2026-12", "2027-01"]
REGIONS = ["US-WA", "US-CA", "GB", "unknown"]


def _is_open_by_rule(key: CellKey, month_now: str) -> bool:
    part = steps.MONTH_PART.get(key.breakdown)
    return part is not None and key.value.split("|")[part] >= month_now


def _keys(seed: int) -> list[CellKey]:
    rng = random.Random(seed)
    keys = set()
    for _ in range(400):
        drug, indication = rng.randint(1, 4), rng.randint(1, 3)
        where = breakdown_values(rng.randint(1, 30), rng.choice(REGIONS), rng.choice(MONTHS))
        keys.add(CellKey(Level.DRUG_INDICATION, drug, indication, Breakdown.NONE, ""))
        keys.add(CellKey(Level.DRUG, drug, 0, Breakdown.NONE, ""))
        for breakdown, value in where.items():
            keys.add(CellKey(Level.DRUG_INDICATION, drug, indication, breakdown, value))
            keys.add(CellKey(Level.DRUG, drug, 0, breakdown, value))
    out = sorted(keys)
    rng.shuffle(out)
    return out


def test_the_mask_names_the_running_months_cells_and_no_other():
    open_found = 0
    for seed in range(5):
        keys = _keys(seed)
        index = cell_index(keys)
        for month_now in ("2026-11", "2026-12", "2027-02"):
            mask = steps.open_month_cells(index, month_now)
            expected = [_is_open_by_rule(key, month_now) for key in keys]
            assert mask.tolist() == expected
            open_found += sum(expected)
    # The test meets both kinds of cell: open month cells, and region cells that sort after
    # any month as text.
    assert open_found
    assert any(k.breakdown == Breakdown.REGION and k.value >= "2026-12" for k in keys)


def test_no_cells_no_mask():
    assert steps.open_month_cells(cell_index([]), "2026-12").tolist() == []


def test_codes_give_each_cells_fields():
    keys = _keys(1)
    index = cell_index(keys)
    for field in range(5):
        codes, table = index.codes(field)
        names = list(table)
        assert [names[c] for c in codes.tolist()] == [key[field] for key in keys]
