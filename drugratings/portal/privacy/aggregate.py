"""True cell totals of included ratings, vectorised: the private input of the tree mechanism.

Rows are included ratings of the drugs being recomputed. Level-1 cells take each rating; level-0
cells first reduce each physician's ratings of a drug to one row (their mean), so every cell row
is one distinct physician and a cell's row count is its number of distinct physicians.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drugratings.portal.models import Breakdown, Level
from drugratings.portal.privacy.cells import COMBINED, CellKey


@dataclass(frozen=True)
class RatingRows:
    physician: np.ndarray
    drug: np.ndarray
    indication: np.ndarray
    specialty: np.ndarray
    region: np.ndarray  # str
    month: np.ndarray  # str "YYYY-MM"
    adjusted: np.ndarray  # (n, 5), NaN = no opinion
    included_at: np.ndarray  # epoch seconds of inclusion


@dataclass(frozen=True)
class CellTotals:
    keys: list[CellKey]
    vectors: np.ndarray  # (cells, 10): 5 counts, 5 sums
    raters: np.ndarray  # distinct physicians per cell
    member_physician: np.ndarray  # one entry per (cell, physician) membership
    member_cell: np.ndarray
    member_included_at: np.ndarray


def _group(columns: list[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows of `columns` (integers; the last may be strings), in sorted order, as
    columns, and each row's group. Strings are replaced by their rank among the distinct
    strings, so the rows are sorted as integers (one int64 key), in the order a sort by
    (first, ..., last as text) gives."""
    *numbers, last = columns
    if last.dtype.kind in "US":
        _, last = np.unique(last, return_inverse=True)
    parts = [c.astype(np.int64) for c in (*numbers, last)]
    spans = [int(c.max()) + 1 if len(c) else 1 for c in parts]
    if any(int(c.min()) < 0 for c in parts if len(c)) or np.prod(spans, dtype=float) >= 2**62:
        stacked = np.rec.fromarrays(columns)  # cannot pack into one int64: sort the records
        uniques, inverse = np.unique(stacked, return_inverse=True)
        return [uniques[f"f{n}"] for n in range(len(columns))], inverse.ravel()
    key = np.zeros(len(last), dtype=np.int64)
    for part, span in zip(parts, spans, strict=True):
        key = key * span + part
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return [c[first] for c in columns], inverse.ravel()


def _vectors(adjusted: np.ndarray) -> np.ndarray:
    present = ~np.isnan(adjusted)
    return np.hstack([present.astype(float), np.where(present, adjusted, 0.0)])


def _per_physician_drug(rows: RatingRows) -> RatingRows:
    """One row per physician and drug: mean of their adjusted values, latest month."""
    uniques, inverse = _group([rows.physician, rows.drug])
    n = len(uniques[0])
    present = ~np.isnan(rows.adjusted)
    counts = np.zeros((n, 5))
    sums = np.zeros((n, 5))
    np.add.at(counts, inverse, present)
    np.add.at(sums, inverse, np.where(present, rows.adjusted, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    order = np.lexsort([rows.month, inverse])  # last row of each group has the latest month
    last = np.zeros(n, dtype=np.int64)
    last[inverse[order]] = order
    included = np.zeros(n)
    np.maximum.at(included, inverse, rows.included_at)
    return RatingRows(
        uniques[0],
        uniques[1],
        np.zeros(n, dtype=np.int64),
        rows.specialty[last],
        rows.region[last],
        rows.month[last],
        mean,
        included,
    )


def cell_totals(rows: RatingRows) -> CellTotals:
    keys: list[CellKey] = []
    vectors, raters, members_p, members_c, members_e = [], [], [], [], []
    drug_rows = _per_physician_drug(rows) if len(rows.physician) else rows
    for level, data in ((Level.DRUG_INDICATION, rows), (Level.DRUG, drug_rows)):
        if not len(data.physician):
            continue
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
            group_columns = [data.drug, data.indication]
            if column is not None:
                group_columns.append(column.astype(str))
            uniques, inverse = _group(group_columns)
            n_cells = len(uniques[0])
            totals = np.zeros((n_cells, 10))
            np.add.at(totals, inverse, values)
            base = len(keys)
            found = zip(*(u.tolist() for u in uniques), strict=True)  # Python ints and str
            lvl, name = int(level), str(breakdown)
            if column is None:
                keys += [CellKey(lvl, d, i, name, "") for d, i in found]
            else:
                keys += [CellKey(lvl, d, i, name, v) for d, i, v in found]
            vectors.append(totals)
            raters.append(np.bincount(inverse, minlength=n_cells))
            members_p.append(data.physician)
            members_c.append(inverse + base)
            members_e.append(data.included_at)
    if not keys:
        empty = np.zeros(0, dtype=np.int64)
        return CellTotals([], np.zeros((0, 10)), empty, empty, empty, np.zeros(0))
    return CellTotals(
        keys,
        np.vstack(vectors),
        np.concatenate(raters),
        np.concatenate(members_p),
        np.concatenate(members_c),
        np.concatenate(members_e),
    )
