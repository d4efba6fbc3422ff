"""Which cells may be published: at least k distinct physicians, and complementary suppression
so that no suppressed cell can be worked out from its parent total and published siblings.

Rule: within every partition (the cells that split one parent), a suppressed cell never stands
alone: if exactly one sibling is suppressed, the smallest published sibling is suppressed too;
and if the parent itself is suppressed, every child is. Then a parent minus its published
children leaves at least two hidden cells, so none of them is determined.
"""

from __future__ import annotations

from collections import defaultdict

from drugratings.portal.privacy.cells import CellKey


def suppressed_cells(
    true_raters: dict[CellKey, int], k: int, unpublished: frozenset[CellKey] = frozenset()
) -> set[CellKey]:
    """`unpublished`: cells that do not show whatever their size (the running month's cells),
    so that they too cannot be worked out from their parent and published siblings."""
    hidden = {key for key, n in true_raters.items() if n < k} | set(unpublished)
    # Parents first (level 0 totals, then level 1 totals), then their children.
    changed = True
    while changed:
        changed = False
        partitions: dict[tuple, list[CellKey]] = defaultdict(list)
        for key in true_raters:
            if key.partition:
                partitions[key.partition].append(key)
        for siblings in partitions.values():
            parent = siblings[0].parent
            if parent in hidden:
                newly = [s for s in siblings if s not in hidden]
                if newly:
                    hidden.update(newly)
                    changed = True
                continue
            suppressed = [s for s in siblings if s in hidden]
            if len(suppressed) == 1:
                published = sorted(
                    (s for s in siblings if s not in hidden), key=lambda s: (true_raters[s], s)
                )
                if published:
                    hidden.add(published[0])
                    changed = True
    return hidden
