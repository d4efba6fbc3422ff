"""Which cells may be published: at least k distinct physicians, and complementary suppression
so that no suppressed cell can be worked out from its parent total and published siblings.

Rule: within every partition (the cells that split one parent), a suppressed cell never stands
alone: if exactly one sibling is suppressed, the smallest published sibling is suppressed too;
and if the parent itself is suppressed, every child is. Then a parent minus its published
children leaves at least two hidden cells, so none of them is determined.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable

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
    sit in several groups (combined breakdowns: its row and its column).

    The result is that of passing over every group in order, again and again until a pass
    changes nothing (the order decides which sibling a lone hidden cell takes). A group that
    acted is settled, so a pass over it changes nothing until one of its cells or its parent
    is hidden: only such groups are visited, in the same order, pass by pass. At ten times
    launch full passes cost a release 16 s of its 62 s of planning."""
    member_of: dict[object, list[int]] = defaultdict(list)
    for index, (parent, cells) in enumerate(groups):
        member_of[parent].append(index)
        for cell in cells:
            member_of[cell].append(index)
    due = [
        index
        for index, (parent, cells) in enumerate(groups)
        if _acts(parent, cells, hidden, parent_hidden)
    ]
    visit_in_passes(
        due,
        lambda index: _act(*groups[index], hidden, true_raters, parent_hidden),
        lambda cell: member_of.get(cell, ()),
    )
    return hidden


def visit_in_passes(
    due: list[int],
    act: Callable[[int], Iterable[Hashable]],
    groups_of: Callable[[Hashable], Iterable[int]],
) -> None:
    """Visit the groups numbered `due` (sorted) as passes over every group in order would, but
    only those: `act(group)` visits one and returns the cells it hid; `groups_of(cell)` are the
    groups a hidden cell touches. One ahead in this pass is visited in it, one behind in the
    next pass, until a pass hides nothing."""
    while due:
        this_pass, later = due, set()
        queued = set(this_pass)
        heapq.heapify(this_pass)
        while this_pass:
            index = heapq.heappop(this_pass)
            queued.discard(index)
            for cell in act(index):
                for touched in groups_of(cell):
                    if touched > index:  # still ahead in this pass
                        if touched not in queued:
                            queued.add(touched)
                            heapq.heappush(this_pass, touched)
                    else:
                        later.add(touched)
        due = sorted(later)


def _acts(
    parent: object, cells: list[CellKey], hidden: set[CellKey], parent_hidden: Callable
) -> bool:
    if parent_hidden(parent):
        return any(c not in hidden for c in cells)
    return sum(c in hidden for c in cells) == 1


def _act(
    parent: object,
    cells: list[CellKey],
    hidden: set[CellKey],
    true_raters: dict[CellKey, int],
    parent_hidden: Callable[[object], bool],
) -> list[CellKey]:
    """One visit of one group: the cells it hides now (added to `hidden`)."""
    if parent_hidden(parent):
        newly = [c for c in cells if c not in hidden]
        hidden.update(newly)
        return newly
    if sum(c in hidden for c in cells) == 1:
        published = [c for c in cells if c not in hidden]
        if published:
            smallest = min(published, key=lambda c: (true_raters[c], c))
            hidden.add(smallest)
            return [smallest]
    return []
