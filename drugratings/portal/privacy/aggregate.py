"""True cell totals of included ratings, vectorised: the private input of the tree mechanism.

Rows are included ratings of the drugs being recomputed. Level-1 cells take each rating; level-0
cells first reduce each physician's ratings of a drug to one row (their mean), so every cell row
is one distinct physician and a cell's row count is its number of distinct physicians.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from itertools import repeat

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


def group_sums(groups: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Per group, the sum of the rows of `values` (n_rows, columns) in it: `np.add.at`'s result,
    bit for bit (the same additions in row order), a column at a time with `np.bincount`,
    2-3 times faster on millions of rows."""
    return np.column_stack(
        [np.bincount(groups, weights=values[:, j], minlength=n) for j in range(values.shape[1])]
    ).reshape(n, values.shape[1])


def _vectors(adjusted: np.ndarray) -> np.ndarray:
    present = ~np.isnan(adjusted)
    return np.hstack([present.astype(float), np.where(present, adjusted, 0.0)])


def _per_physician_drug(rows: RatingRows) -> RatingRows:
    """One row per physician and drug: mean of their adjusted values, latest month."""
    uniques, inverse = _group([rows.physician, rows.drug])
    n = len(uniques[0])
    present = ~np.isnan(rows.adjusted)
    counts = group_sums(inverse, present.astype(float), n)
    sums = group_sums(inverse, np.where(present, rows.adjusted, 0.0), n)
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


def _text_ranks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each value's rank among the distinct values ordered as text, and those texts in rank
    order. Cells sort by their value as text ("10" before "9"); ranking the few distinct
    values, not millions of rows' strings, keeps that order without building the strings."""
    distinct, inverse = np.unique(values, return_inverse=True)
    texts = distinct.astype(str)
    order = np.argsort(texts, kind="stable")
    rank_of = np.empty(order.size, dtype=np.int64)
    rank_of[order] = np.arange(order.size)
    return rank_of[inverse.ravel()], texts[order]


def _pair_ranks(
    first: tuple[np.ndarray, np.ndarray], second: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """`_text_ranks` of the combined values "first|second", from each part's ranks."""
    (rank_a, labels_a), (rank_b, labels_b) = first, second
    width = max(labels_b.size, 1)
    pairs, inverse = np.unique(rank_a * width + rank_b, return_inverse=True)
    texts = np.array(
        [f"{labels_a[p // width]}|{labels_b[p % width]}" for p in pairs.tolist()], dtype=str
    )
    order = np.argsort(texts, kind="stable")
    rank_of = np.empty(order.size, dtype=np.int64)
    rank_of[order] = np.arange(order.size)
    return rank_of[inverse.ravel()], texts[order]


#: CellKey(*fields) without the Python call of a named tuple's __new__: a release at ten times
#: launch makes 3.3 M keys here.
_new_key = partial(tuple.__new__, CellKey)


def cell_totals(rows: RatingRows) -> CellTotals:
    """Every cell of these rows: keys sorted by (level 1 then 0, breakdown, drug, indication,
    value as text), true totals, distinct physicians, and each (cell, physician) membership.
    Breakdown values are grouped as integer ranks (`_text_ranks`): at ten times launch the
    strings of every row's combined values cost more than the rest of a release's totals."""
    keys: list[CellKey] = []
    vectors, raters, members_p, members_c, members_e = [], [], [], [], []
    drug_rows = _per_physician_drug(rows) if len(rows.physician) else rows
    for level, data in ((Level.DRUG_INDICATION, rows), (Level.DRUG, drug_rows)):
        if not len(data.physician):
            continue
        values = _vectors(data.adjusted)
        single = {
            Breakdown.SPECIALTY: _text_ranks(data.specialty),
            Breakdown.REGION: _text_ranks(data.region),
            Breakdown.MONTH: _text_ranks(data.month),
        }
        combined = {name: _pair_ranks(single[a], single[b]) for name, (a, b) in COMBINED.items()}
        for breakdown, ranked in ((Breakdown.NONE, None), *single.items(), *combined.items()):
            group_columns = [data.drug, data.indication]
            if ranked is not None:
                group_columns.append(ranked[0])
            uniques, inverse = _group(group_columns)
            n_cells = len(uniques[0])
            totals = group_sums(inverse, values, n_cells)
            base = len(keys)
            lvl, name = int(level), str(breakdown)
            drugs, indications = uniques[0].tolist(), uniques[1].tolist()
            labels = repeat("") if ranked is None else ranked[1][uniques[2]].tolist()
            keys += map(_new_key, zip(repeat(lvl), drugs, indications, repeat(name), labels))
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
