"""Which cells may be published: at least k distinct physicians, and complementary suppression
so that no suppressed cell can be worked out from its parent total and published siblings.

Rule: within every partition (the cells that split one parent), a suppressed cell never stands
alone: if exactly one sibling is suppressed, the smallest published sibling is suppressed too;
and if the parent itself is suppressed, every child is. Then a parent minus its published
children leaves at least two hidden cells, so none of them is determined.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from drugratings.portal.privacy.cells import CellKey

#: (parent, the cells that split it) of every partition of some cells.
Groups = list[tuple[CellKey, list[CellKey]]]


def partition_groups(keys: Iterable[CellKey]) -> Groups:
    """The partitions of these cells, in the order their first cell comes. They depend only on
    which cells exist, so a release that suppresses a drug's cells twice finds them once."""
    partitions: dict[tuple, list[CellKey]] = defaultdict(list)
    for key in keys:
        partition = key.partition  # computed, not stored: once per key
        if partition:
            partitions[partition].append(key)
    return [(partition[0], siblings) for partition, siblings in partitions.items()]


def suppressed_cells(
    true_raters: dict[CellKey, int],
    k: int,
    unpublished: frozenset[CellKey] = frozenset(),
    groups: Groups | None = None,
) -> set[CellKey]:
    """`unpublished`: cells that do not show whatever their size (the running month's cells),
    so that they too cannot be worked out from their parent and published siblings. `groups`:
    `partition_groups(true_raters)`, if the caller has them already."""
    hidden = {key for key, n in true_raters.items() if n < k} | set(unpublished)
    if groups is None:
        groups = partition_groups(true_raters)
    return close_partitions(groups, hidden, true_raters, lambda parent: parent in hidden)


def close_partitions(
    groups: list[tuple[object, list[CellKey]]],
    hidden: set[CellKey],
    true_raters: dict[CellKey, int],
    parent_hidden: Callable[[object], bool],
) -> set[CellKey]:
    """Apply the rule above to ``groups`` of (parent, cells that split it) until nothing
    changes, adding to ``hidden`` (and returning it): every cell of a hidden parent is hidden,
    and a lone hidden cell takes the smallest published one of its group with it. A cell may
    sit in several groups (combined breakdowns: its row and its column)."""
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
