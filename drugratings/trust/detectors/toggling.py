"""Coordinated toggling: physicians who repeatedly change the same rating in step with each other.

The release rule (a cell moves only on >= k physicians' changes) means a differencing attack on
one physician's rating needs k - 1 accomplices whose changes land in the same release step as
the target's. Replayed to learn more than one rating, or to move a cell at will, that batch
changes its ratings of one drug and indication again and again, each time inside the same
short window. Honest physicians rarely edit one rating three times, and almost never in the
same hours as several others who do the same.

Input: change events (physician, cell, time) from the ratings' revision history. Output: for
each cell, every physician who changed it in at least ``min_shared`` windows that each also
saw changes by at least ``min_group - 1`` of the same other physicians. Their ratings of that
cell are quarantined, which holds them out of scores and releases until a moderator decides.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from .table import Suspicion

NAME = "toggling"


@dataclass(frozen=True)
class ToggleParams:
    window_seconds: float = 3600.0  # changes within one hour count as "in step"
    min_shared: int = 3  # windows a pair must share
    min_group: int = 3  # physicians toggling together


@dataclass(frozen=True)
class ChangeEvents:
    physician: np.ndarray  # int64
    cell: np.ndarray  # int64 code of (drug, indication)
    at: np.ndarray  # epoch seconds
    rating_of: dict[tuple[int, int], int]  # (physician, cell) -> current rating id


def _windows_by_cell(events: ChangeEvents, window: float) -> dict[int, dict[int, set[int]]]:
    """cell -> window -> physicians who changed that cell in that window."""
    out: dict[int, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    buckets = np.floor(events.at / window).astype(np.int64)
    for p, c, w in zip(
        events.physician.tolist(), events.cell.tolist(), buckets.tolist(), strict=True
    ):
        out[c][w].add(p)
    return out


def _in_step(windows: dict[int, set[int]], params: ToggleParams) -> set[int]:
    shared: dict[tuple[int, int], int] = defaultdict(int)
    for physicians in windows.values():
        if len(physicians) < 2:
            continue
        for pair in combinations(sorted(physicians), 2):
            shared[pair] += 1
    partners: dict[int, set[int]] = defaultdict(set)
    for (a, b), n in shared.items():
        if n >= params.min_shared:
            partners[a].add(b)
            partners[b].add(a)
    return {p for p, others in partners.items() if len(others) >= params.min_group - 1}


def detect(events: ChangeEvents, params: ToggleParams | None = None) -> list[Suspicion]:
    params = params or ToggleParams()
    found = []
    for cell, windows in _windows_by_cell(events, params.window_seconds).items():
        group = _in_step(windows, params)
        if len(group) < params.min_group:
            continue
        ratings = [events.rating_of[(p, cell)] for p in group if (p, cell) in events.rating_of]
        together = sum(1 for ps in windows.values() if len(ps & group) >= params.min_group)
        found.append(
            Suspicion(
                detector=NAME,
                rating_ids=np.unique(np.array(ratings, dtype=np.int64)),
                physician_ids=np.array(sorted(group), dtype=np.int64),
                score=float(together),
                reason=(
                    f"{len(group)} physicians changed their rating of the same drug and "
                    f"indication within the same hour {together} times: the pattern of a "
                    "batch completing release steps to isolate another physician's rating."
                ),
            )
        )
    return found
