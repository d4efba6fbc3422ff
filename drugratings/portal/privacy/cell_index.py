"""Complementary suppression over millions of cells, on integer arrays.

At ten times launch a release's drugs hold 3.3 M cells, nine in ten under k (most combined
cells are small). `suppression.suppressed_cells` and `combined.combined_suppression` state the
rule on CellKeys; passing over them in Python took an incremental release 73 s of its 160 s of
planning. Here the same rule, with the same result, runs on cell numbers:

- the partitions and combined lines are found once, with numpy, from the cells' fields;
- a group can act only if its parent is hidden while a cell is not, or exactly one of its cells
  is hidden: those groups are found at once from the counts, and only they, and the groups a
  newly hidden cell touches, are visited in Python (`suppression.close_partitions` explains why
  that gives what full passes give, in the same order).
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter

import numpy as np
import pandas as pd

from drugratings.portal.models import Breakdown, Level
from drugratings.portal.privacy.cells import COMBINED, CellKey
from drugratings.portal.privacy.suppression import visit_in_passes

#: A group's parent when it has none (its cells are hidden only by their own rule) ...
NO_PARENT = -1
#: ... and when it is a margin that is not among the cells (a combined line's: always hidden).
ABSENT_MARGIN = -2


@dataclass(frozen=True)
class Groups:
    """Groups of cells, in the order of the rule's passes, as CSR arrays: group g is
    `members[start[g]:start[g + 1]]`, split from cell `parent[g]` (or NO_PARENT, ABSENT_MARGIN)."""

    parent: np.ndarray
    start: np.ndarray
    members: np.ndarray

    def __len__(self) -> int:
        return len(self.parent)


@dataclass(frozen=True)
class CellIndex:
    """The cells of some drugs, numbered in the order given, and their groups."""

    keys: list[CellKey]
    key_rank: np.ndarray  # each cell's place in CellKey order (ties between siblings)
    partitions: Groups  # a parent and the cells that split it (suppressed_cells)
    lines: Groups  # a combined breakdown's row or column and its cells (combined_suppression)
    _packed: np.ndarray  # each cell's fields packed into one integer
    _order: np.ndarray  # the cells in packed order (for searches)
    _tables: tuple[dict, ...]  # the codes of level, drug, indication, breakdown, value

    def find_many(self, keys: list[CellKey]) -> np.ndarray:
        """`find` of each of these keys, in one search."""
        if not keys or not len(self.keys):
            return np.full(len(keys), -1, dtype=np.int64)
        codes = np.array(
            [
                [table.get(field, -1) for table, field in zip(self._tables, key, strict=True)]
                for key in keys
            ],
            dtype=np.int64,
        ).reshape(-1, 5)
        known = (codes >= 0).all(axis=1)
        packed = _pack(list(np.where(known[:, None], codes, 0).T), _spans(self._tables))
        at = np.minimum(
            np.searchsorted(self._packed, packed, sorter=self._order), len(self._order) - 1
        )
        found = self._order[at]
        return np.where(known & (self._packed[found] == packed), found, -1)

    def find(self, key: CellKey) -> int:
        """The number of a cell, or -1 if it is not one of these."""
        return int(self.find_many([key])[0])

    def codes(self, field: int) -> tuple[np.ndarray, dict]:
        """Each cell's code of one of its fields (0 level, 1 drug, 2 indication, 3 breakdown,
        4 value), and that field's table of codes: a test on a field's few distinct values
        then covers millions of cells in one numpy step."""
        spans = _spans(self._tables)
        below = int(np.prod(spans[field + 1 :], dtype=np.int64))
        return (self._packed // below) % spans[field], self._tables[field]


def _codes(items: tuple, extra: tuple = ()) -> tuple[np.ndarray, dict]:
    """Dense codes of these values, and the table of codes (with `extra` values in it too)."""
    codes, uniques = pd.factorize(np.asarray(items, dtype=object), sort=False)
    table = {value: n for n, value in enumerate(uniques.tolist())}
    for value in extra:
        table.setdefault(value, len(table))
    return codes.astype(np.int64), table


def _spans(tables: tuple[dict, ...]) -> list[int]:
    return [max(len(table), 1) for table in tables]


def _pack(columns: list[np.ndarray], spans: list[int]) -> np.ndarray:
    if np.prod(spans, dtype=float) >= 2**62:
        raise OverflowError("too many distinct cell fields to pack into one integer")
    packed = np.zeros(len(columns[0]), dtype=np.int64)
    for column, span in zip(columns, spans, strict=True):
        packed = packed * span + column
    return packed


def _in_first_order(group_key: np.ndarray, first_seen: np.ndarray) -> tuple[np.ndarray, int]:
    """Each row's group number, groups numbered by the first `first_seen` of their rows."""
    _, inverse = np.unique(group_key, return_inverse=True)
    inverse = inverse.ravel()
    n = int(inverse.max()) + 1 if len(inverse) else 0
    first = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first, inverse, first_seen)
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(n)
    return rank[inverse], n


def _groups(group_of: np.ndarray, n_groups: int, cells: np.ndarray, parent_of_group) -> Groups:
    order = np.argsort(group_of, kind="stable")
    start = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(np.bincount(group_of, minlength=n_groups), out=start[1:])
    return Groups(parent_of_group, start, cells[order])


def cell_index(keys: list[CellKey]) -> CellIndex:
    """Number these cells and find their partitions and combined lines (as
    `suppression.partition_groups` and `combined.combined_lines` do, in the same order)."""
    n = len(keys)
    if not n:
        empty = np.zeros(0, dtype=np.int64)
        none = Groups(empty, np.zeros(1, dtype=np.int64), empty)
        return CellIndex([], empty, none, none, empty, empty, ({},) * 5)
    # A column at a time: zip(*keys) over 3.3 M cells took 9 s, these take 1 s.
    levels, drugs, indications, breakdowns, values = (
        list(map(itemgetter(field), keys)) for field in range(5)
    )
    value_texts = list(dict.fromkeys(values))
    parts = {text: text.split("|", 1) for text in value_texts if "|" in text}
    extra_values = ("", *(p for pair in parts.values() for p in pair))
    level_c, level_t = _codes(levels, (Level.DRUG, Level.DRUG_INDICATION))
    drug_c, drug_t = _codes(drugs)
    ind_c, ind_t = _codes(indications, (0,))
    bd_c, bd_t = _codes(
        breakdowns, (Breakdown.NONE, *(m for pair in COMBINED.values() for m in pair))
    )
    value_c, value_t = _codes(values, extra_values)
    tables = (level_t, drug_t, ind_t, bd_t, value_t)
    spans = _spans(tables)
    packed = _pack([level_c, drug_c, ind_c, bd_c, value_c], spans)
    order = np.argsort(packed)

    def find_all(columns: list[np.ndarray]) -> np.ndarray:
        wanted = _pack(columns, spans)
        found = order[np.minimum(np.searchsorted(packed, wanted, sorter=order), n - 1)]
        return np.where(packed[found] == wanted, found, NO_PARENT)

    # Ties between siblings are broken by CellKey order (suppression.close_partitions).
    text_rank = _text_rank(value_t)
    bd_rank = _text_rank(bd_t)
    key_rank = np.empty(n, dtype=np.int64)
    in_key_order = np.lexsort(  # last is first: level, drug, indication, breakdown, value
        (
            text_rank[value_c],
            bd_rank[bd_c],
            np.array(indications),
            np.array(drugs),
            np.array(levels),
        )
    )
    key_rank[in_key_order] = np.arange(n)

    level_of = np.array([k for k in level_t], dtype=np.int64)[level_c]
    none_code, blank = bd_t[Breakdown.NONE], value_t[""]
    is_none = bd_c == none_code
    combined_codes = {bd_t[name]: name for name in COMBINED if name in bd_t}
    is_combined = np.isin(bd_c, list(combined_codes))
    # Each combined value's two parts, as value codes (-1 for any other value).
    first_part = np.full(len(value_t), -1, dtype=np.int64)
    second_part = np.full(len(value_t), -1, dtype=np.int64)
    for text, (a, b) in parts.items():
        first_part[value_t[text]], second_part[value_t[text]] = value_t[a], value_t[b]
    margin_bd = np.full((len(bd_t), 2), -1, dtype=np.int64)
    for code, name in combined_codes.items():
        margin_bd[code] = [bd_t[m] for m in COMBINED[name]]

    # Partitions: a cell's parent (breakdown cells: their none cell; a combined cell: its
    # first margin; a drug x indication none cell: the drug's none cell), and siblings share
    # (parent, breakdown, level).
    has_parent = ~(is_none & (level_of == Level.DRUG))
    parent_fields = [
        np.where(is_none, level_t[Level.DRUG], level_c),
        drug_c,
        np.where(is_none, ind_t[0], ind_c),
        np.where(is_combined, margin_bd[bd_c, 0], none_code),
        np.where(is_combined, first_part[value_c], blank),
    ]
    parent_packed = _pack(parent_fields, spans)
    if np.prod(spans, dtype=float) * len(bd_t) * 2 >= 2**62:
        raise OverflowError("too many distinct cell fields to pack into one integer")
    parent_cell = find_all(parent_fields)
    cells = np.flatnonzero(has_parent)
    partition_key = (parent_packed[cells] * len(bd_t) + bd_c[cells]) * 2 + (
        level_of[cells] == Level.DRUG_INDICATION
    )
    group_of, n_groups = _in_first_order(partition_key, cells)
    group_parent = np.full(n_groups, NO_PARENT, dtype=np.int64)
    group_parent[group_of] = parent_cell[cells]
    partitions = _groups(group_of, n_groups, cells, group_parent)

    # Combined lines: each combined cell lies in its first margin's row and second margin's
    # column (combined_lines: both margins of a cell, before the next cell's).
    combined = np.flatnonzero(is_combined)
    line_keys, line_cells, line_seen, line_margins = [], [], [], []
    for side, part in ((0, first_part), (1, second_part)):
        fields = [
            level_c[combined],
            drug_c[combined],
            ind_c[combined],
            margin_bd[bd_c[combined], side],
            part[value_c[combined]],
        ]
        line_keys.append(_pack(fields, spans) * len(bd_t) + bd_c[combined])  # checked above
        line_cells.append(combined)
        line_seen.append(combined * 2 + side)
        line_margins.append(find_all(fields))
    all_cells = np.concatenate(line_cells)
    group_of, n_groups = _in_first_order(np.concatenate(line_keys), np.concatenate(line_seen))
    margin = np.concatenate(line_margins)
    line_parent = np.empty(n_groups, dtype=np.int64)
    line_parent[group_of] = np.where(margin == NO_PARENT, ABSENT_MARGIN, margin)
    lines = _groups(group_of, n_groups, all_cells, line_parent)
    return CellIndex(list(keys), key_rank, partitions, lines, packed, order, tables)


def _text_rank(table: dict) -> np.ndarray:
    """Each code's rank by its value (as the value compares: strings as text)."""
    values = list(table)
    rank = np.empty(len(values), dtype=np.int64)
    rank[sorted(range(len(values)), key=values.__getitem__)] = np.arange(len(values))
    return rank


def suppressed(
    index: CellIndex,
    raters: np.ndarray,
    unpublished: np.ndarray,
    k: int,
    shown_before: np.ndarray | None = None,
) -> np.ndarray:
    """Which cells are hidden (a mask), as `combined_suppression(raters, k,
    suppressed_cells(raters, k, unpublished))` finds them drug by drug. Where a group needs one
    more hidden cell, the one with the fewest raters is chosen; with `shown_before` (the cells
    the previous release published), a cell not published before is chosen first, so that a
    few changes to the counts do not swap which cell is hidden."""
    hidden = (np.asarray(raters) < k) | np.asarray(unpublished, dtype=bool)
    score = np.asarray(raters, dtype=np.int64) * max(len(index.keys), 1) + index.key_rank
    if shown_before is not None and len(score):
        score = score + np.asarray(shown_before, dtype=bool) * (int(score.max()) + 1)
    _close(index.partitions, hidden, score)
    _close(index.lines, hidden, score)
    return hidden


def _close(groups: Groups, hidden: np.ndarray, score: np.ndarray) -> None:
    """`suppression.close_partitions` on cell numbers: `hidden` grows in place."""
    if not len(groups):
        return
    sizes = np.diff(groups.start)
    group_of = np.repeat(np.arange(len(groups)), sizes)
    count = np.bincount(group_of, weights=hidden[groups.members], minlength=len(groups))
    parent_hidden = _parent_hidden(groups.parent, hidden)
    acts = np.where(parent_hidden, count < sizes, count == 1)
    # The groups each cell is in or is the parent of.
    has_parent = groups.parent >= 0
    cell = np.concatenate([groups.members, groups.parent[has_parent]])
    group = np.concatenate([group_of, np.flatnonzero(has_parent)])
    by_cell = np.argsort(cell, kind="stable")
    touched_start = np.zeros(len(hidden) + 1, dtype=np.int64)
    np.cumsum(np.bincount(cell, minlength=len(hidden)), out=touched_start[1:])
    touched_groups = group[by_cell]
    start, members, parent = groups.start, groups.members, groups.parent

    def act(g: int) -> list[int]:
        cells = members[start[g] : start[g + 1]]
        shown = cells[~hidden[cells]]
        p = parent[g]
        if p == ABSENT_MARGIN or (p >= 0 and hidden[p]):
            newly = shown
        elif len(shown) == len(cells) - 1 and len(shown):
            newly = shown[[np.argmin(score[shown])]]
        else:
            return []
        hidden[newly] = True
        return newly.tolist()

    def groups_of(cell: int) -> list[int]:
        return touched_groups[touched_start[cell] : touched_start[cell + 1]].tolist()

    visit_in_passes(np.flatnonzero(acts).tolist(), act, groups_of)


def _parent_hidden(parent: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    out = parent == ABSENT_MARGIN
    has = parent >= 0
    out[has] = hidden[parent[has]]
    return out
