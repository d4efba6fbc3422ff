"""Combined breakdowns (two at a time, e.g. specialty by month): which combined cells may be
published, and the report cells of a combined breakdown.

A combined cell sits in two partitions: its row (the cells that split its first margin, e.g.
one specialty's months) and its column (the cells that split its second margin, e.g. one
month's specialties). `suppressed_cells` already applies the single-partition rule along rows
(a combined cell's parent is its first margin); here the same rule runs along both lines until
nothing changes, so neither margin minus its published cells leaves a lone hidden cell.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from drugratings.accounts.models import Specialty
from drugratings.portal.privacy.cells import COMBINED, CellKey
from drugratings.portal.privacy.suppression import Groups, close_partitions


def combined_lines(keys: Iterable[CellKey]) -> Groups:
    """(margin, the combined cells in its row or column) of every line of these cells. They
    depend only on which cells exist (see `partition_groups`)."""
    lines: dict[tuple, list[CellKey]] = defaultdict(list)
    for key in keys:
        if key.breakdown in COMBINED:
            for margin in key.margins:  # type: ignore[union-attr]
                lines[(margin, key.breakdown)].append(key)
    return [(margin, cells) for (margin, _), cells in lines.items()]


def combined_suppression(
    true_raters: dict[CellKey, int], k: int, hidden: set[CellKey], lines: Groups | None = None
) -> set[CellKey]:
    """`hidden` (from `suppressed_cells`) plus every combined cell that must be hidden: fewer
    than k physicians, a hidden margin, or the complement of a lone hidden cell in its row or
    its column. `lines`: `combined_lines(true_raters)`, if the caller has them already."""
    hidden = set(hidden)
    hidden.update(key for key, n in true_raters.items() if n < k and key.breakdown in COMBINED)
    if lines is None:
        lines = combined_lines(true_raters)
    return close_partitions(
        lines, hidden, true_raters, lambda m: m in hidden or m not in true_raters
    )


def split_value(breakdown: str, value: str) -> dict[str, str]:
    """ "12|2025-03" under "specialty,month" → {"specialty": "12", "month": "2025-03"}."""
    first, second = COMBINED[breakdown]
    a, _, b = value.partition("|")
    return {first: a, second: b}


def is_combined(breakdown: str) -> bool:
    return breakdown in COMBINED


def _months(found: set[str], end: str) -> list[str]:
    """Every month from the first published one to `end`, newest first (no month skipped)."""
    if not found:
        return []
    year, month = map(int, min(found).split("-"))
    out = []
    while f"{year:04d}-{month:02d}" <= end:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out[::-1]


def combined_layout(
    breakdown: str, found: set[str], end_month: str
) -> list[tuple[str, dict[str, str]]]:
    """Every combination of the two margins' values, published or not (absence reveals
    nothing), as (stored value, labelled object). Months run newest first."""

    first, second = COMBINED[breakdown]
    seen: dict[str, set[str]] = {first: set(), second: set()}
    for value in found:
        for dim, raw in split_value(breakdown, value).items():
            seen[dim].add(raw)
    specialties = list(Specialty.objects.order_by("name").values_list("pk", "name"))
    names = {"specialty": {str(pk): name for pk, name in specialties}}

    def grid(dim: str) -> list[str]:
        if dim == "specialty":
            return [str(pk) for pk, _ in specialties]
        if dim == "month":
            return _months(seen[dim], end_month)
        return sorted(seen[dim])

    return [
        (f"{a}|{b}", label_value(breakdown, f"{a}|{b}", names))
        for a in grid(first)
        for b in grid(second)
    ]


def label_value(breakdown: str, value: str, names: dict[str, dict[str, str]]) -> dict[str, str]:
    """The object form of a combined value, with names (specialty names) in place of ids."""
    parts = split_value(breakdown, value)
    return {dim: names.get(dim, {}).get(raw, raw) for dim, raw in parts.items()}
