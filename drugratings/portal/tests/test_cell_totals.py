"""Cell totals group breakdown values as integer ranks: the same cells, in the same order, with
the same totals and members as grouping every row's value as text (the reference below)."""

from __future__ import annotations

import numpy as np
import pytest

from drugratings.portal.models import Breakdown, Level
from drugratings.portal.privacy.aggregate import (
    RatingRows,
    _group,
    _per_physician_drug,
    _vectors,
    cell_totals,
)
from drugratings.portal.privacy.cells import COMBINED, CellKey


def _reference_totals(rows: RatingRows) -> tuple[list[CellKey], np.ndarray, np.ndarray, list]:
    """Every row's breakdown value as a string, grouped by text (the earlier implementation)."""
    keys: list[CellKey] = []
    vectors, raters, members = [], [], []
    for level, data in ((Level.DRUG_INDICATION, rows), (Level.DRUG, _per_physician_drug(rows))):
        values = _vectors(data.adjusted)
        single = {
            Breakdown.SPECIALTY: data.specialty.astype(str),
            Breakdown.REGION: data.region.astype(str),
            Breakdown.MONTH: data.month.astype(str),
        }
        combined = {
            name: np.char.add(np.char.add(single[a], "|"), single[b])
            for name, (a, b) in COMBINED.items()
        }
        for breakdown, column in ((Breakdown.NONE, None), *single.items(), *combined.items()):
            columns = [data.drug, data.indication] + ([] if column is None else [column])
            uniques, inverse = _group(columns)
            totals = np.zeros((len(uniques[0]), 10))
            np.add.at(totals, inverse, values)
            base = len(keys)
            found = zip(*(u.tolist() for u in uniques), strict=True)
            keys += [
                CellKey(
                    int(level),
                    cell[0],
                    cell[1],
                    str(breakdown),
                    cell[2] if column is not None else "",
                )
                for cell in found
            ]
            vectors.append(totals)
            raters.append(np.bincount(inverse, minlength=len(uniques[0])))
            members += list(zip(data.physician.tolist(), (inverse + base).tolist(), strict=True))
    return keys, np.vstack(vectors), np.concatenate(raters), members


def _rows(seed: int, n: int = 3000) -> RatingRows:
    rng = np.random.default_rng(seed)
    # Specialty ids whose text order differs from their numeric order (9 < 10 < 100, "10" <
    # "100" < "9"); regions and months of several lengths; some no-opinion values.
    specialties = np.array([9, 10, 100, 2, 21])
    regions = np.array(["US-CA", "US-NY", "GB", "DE", "US-C"])
    months = np.array(["2025-01", "2025-10", "2025-02", "2024-12"])
    adjusted = rng.normal(0, 1, (n, 5))
    adjusted[rng.random((n, 5)) < 0.1] = np.nan
    physician = rng.integers(1, 400, n)
    return RatingRows(
        physician=physician,
        drug=rng.integers(1, 6, n),
        indication=rng.integers(1, 4, n),
        specialty=specialties[physician % 5],
        region=regions[rng.integers(0, 5, n)],
        month=months[rng.integers(0, 4, n)],
        adjusted=adjusted,
        included_at=rng.integers(1_700_000_000, 1_760_000_000, n).astype(float),
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ranked_grouping_gives_the_cells_text_grouping_gives_in_the_same_order(seed):
    rows = _rows(seed)
    totals = cell_totals(rows)
    keys, vectors, raters, members = _reference_totals(rows)
    assert totals.keys == keys  # same cells, same order (suppression's order depends on it)
    assert any(k.value.startswith("10|") for k in keys) and any(
        k.value.startswith("9|") for k in keys
    )
    np.testing.assert_array_equal(totals.vectors, vectors)
    np.testing.assert_array_equal(totals.raters, raters)
    assert (
        list(zip(totals.member_physician.tolist(), totals.member_cell.tolist(), strict=True))
        == members
    )
    assert all(isinstance(k.value, str) and isinstance(k.drug_id, int) for k in totals.keys)
