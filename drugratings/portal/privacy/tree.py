"""Continual release of a cell's running totals with the binary ("tree") mechanism.

Dwork, Naor, Pitassi & Rothblum (2010) and Chan, Shi & Song (2011): the increments of a
cell's totals at refresh steps 1..m are summed over dyadic blocks; each block is released once
with noise, and the running total at step m is the sum of the O(log m) blocks that cover it.
One physician's change enters one node per tree level over the tree's whole life, so its
privacy cost is fixed when it is included, however many releases follow; the error of a running
total grows with log m, not m.

State (private, JSON-serialisable): {"step": m, "nodes": [[level, true[10], noisy[10]], ...]}
where the nodes are the current binary decomposition of m, highest level first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

VECTOR = 10  # 5 counts then 5 sums of centred values


@dataclass(frozen=True)
class TreeRelease:
    state: dict
    noisy_total: np.ndarray
    true_total: np.ndarray
    n_nodes: int


def empty_state() -> dict:
    return {"step": 0, "nodes": []}


def _lowest_set_bit(m: int) -> int:
    return (m & -m).bit_length() - 1


def plan_step(state: dict, increment: np.ndarray) -> tuple[dict, np.ndarray]:
    """Advance the tree by one step whose true increment is `increment`.

    At step m with lowest set bit i, the new node of level i covers the nodes of levels < i and
    this step: its true value is their sum plus the increment. Returns the new state with the
    node's noisy value left empty, and the node's true value; `attach_noise` completes it.
    """
    step = int(state["step"]) + 1
    level = _lowest_set_bit(step)
    keep, merged = [], np.asarray(increment, dtype=float).copy()
    for node_level, true_values, noisy_values in state["nodes"]:
        if node_level < level:
            merged += np.asarray(true_values, dtype=float)
        else:
            keep.append([node_level, true_values, noisy_values])
    keep.append([level, merged.tolist(), None])
    return {"step": step, "nodes": keep}, merged


def attach_noise(state: dict, noisy: np.ndarray) -> dict:
    state["nodes"][-1][2] = [float(v) for v in noisy]
    return state


def add_step(
    state: dict, increment: np.ndarray, release_node: Callable[[np.ndarray], np.ndarray]
) -> TreeRelease:
    """`plan_step` and `attach_noise` in one, for a single cell."""
    planned, merged = plan_step(state, increment)
    new_state = attach_noise(planned, release_node(merged))
    return TreeRelease(new_state, *totals(new_state), len(new_state["nodes"]))


def totals(state: dict) -> tuple[np.ndarray, np.ndarray]:
    """(noisy running total, true running total) of a tree state."""
    noisy, true = np.zeros(VECTOR), np.zeros(VECTOR)
    for _, true_values, noisy_values in state["nodes"]:
        true += np.asarray(true_values, dtype=float)
        noisy += np.asarray(noisy_values, dtype=float)
    return noisy, true
