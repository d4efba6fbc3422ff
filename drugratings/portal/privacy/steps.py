"""Which cells take a noisy step in a release, and what every cell then publishes.

Rules (METHODOLOGY.md, "Privacy route for pharma reports"):
- Only drug x indication cells (level 1) carry noise. Their none, specialty and region
  breakdowns are continual-release trees; a month cell is released once, when the month has
  closed, and never again. Drug-level cells (level 0) are sums of the level-1 cells' noisy
  totals: post-processing, so they cost no privacy and carry no noise of their own.
- A cell steps only when at least k distinct physicians' changes (new, edited or withdrawn
  ratings) are pending in it; its first release and a tree's restart obey the same rule. So every
  published movement rests on at least k physicians, and a differencing attack on one rating
  needs k - 1 colluding physicians whose changes land in the same step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass

import numpy as np

from drugratings.portal.models import Breakdown, Level
from drugratings.portal.privacy import tree
from drugratings.portal.privacy.aggregate import CellTotals
from drugratings.portal.privacy.cell_index import CellIndex
from drugratings.portal.privacy.cells import CellKey
from drugratings.portal.privacy.policy import REGION_SPECIALTY_NOISE_FACTOR, PrivacyPolicy


@dataclass(frozen=True)
class Grid:
    """Every cell of the recomputed drugs: those with included ratings, then published or
    private cells that lost every contributor (they must close too)."""

    keys: list[CellKey]
    vectors: np.ndarray  # (cells, 10) true totals
    raters: np.ndarray  # distinct physicians per cell


@dataclass(frozen=True)
class Step:
    index: int  # row in the grid
    key: CellKey
    state: dict  # the tree state after the step, noise not yet attached
    node: np.ndarray  # the new node's true value
    restart: bool  # a first release or a rebuilt tree: the node holds every contributor
    physicians: int  # distinct physicians' changes the step rests on


def grid_of(totals: CellTotals, state_keys: list[str]) -> Grid:
    keys = list(totals.keys)
    known = set(keys)
    for text in state_keys:
        key = CellKey.decode(text)
        if key not in known:
            keys.append(key)
            known.add(key)
    extra = len(keys) - len(totals.keys)
    return Grid(
        keys,
        np.vstack([totals.vectors, np.zeros((extra, 10))]),
        np.concatenate([totals.raters, np.zeros(extra, dtype=np.int64)]),
    )


# Month-bearing breakdowns and where the month sits in their value ("12|2025-03": second).
MONTH_PART: dict[str, int] = {
    Breakdown.MONTH: 0,
    Breakdown.SPECIALTY_MONTH: 1,
    Breakdown.REGION_MONTH: 1,
}


def is_once_cell(key: CellKey) -> bool:
    """Month cells, single or combined with a specialty or region, are released once, when
    their month has closed (one noisy node each, never a tree)."""
    return key.breakdown in MONTH_PART


def open_month_cells(index: CellIndex, month_now: str) -> np.ndarray:
    """Which of the index's cells bear a month that is running (or later): they are not
    published until it closes. Each distinct breakdown value is tested once: testing each of
    the 3.2 M keys of an incremental release at ten times launch took 2 s of its CPU."""
    breakdowns, breakdown_table = index.codes(3)
    values, value_table = index.codes(4)
    open_at = {  # per position of the month in a value: which values are open
        part: np.fromiter(
            (_part_at_least(text, part, month_now) for text in value_table), bool, len(value_table)
        )
        for part in set(MONTH_PART.values())
    }
    mask = np.zeros(len(index.keys), dtype=bool)
    for name, part in MONTH_PART.items():
        code = breakdown_table.get(name)
        if code is not None:
            mask |= (breakdowns == code) & open_at[part][values]
    return mask


def _part_at_least(value: str, part: int, month_now: str) -> bool:
    parts = value.split("|")
    return part < len(parts) and parts[part] >= month_now


def cell_policy(key: CellKey, policy: PrivacyPolicy) -> PrivacyPolicy:
    """The noise scales a cell is released with: region x specialty cells (level 1, and the
    level-0 sums of them) at the wider scale that keeps a rating's rho within budget."""
    if key.breakdown == Breakdown.REGION_SPECIALTY:
        return policy.scaled(REGION_SPECIALTY_NOISE_FACTOR)
    return policy


def is_disabled(key: CellKey, policy: PrivacyPolicy) -> bool:
    """Region x specialty is the one combined breakdown that needs its own tree (it has no
    month to close), so it is published only while the setting that pays for it is on."""
    return key.breakdown == Breakdown.REGION_SPECIALTY and not policy.region_specialty


def pending_changes(
    totals: CellTotals,
    grid: Grid,
    states: Mapping[str, dict],
    departures: Mapping[str, int],
    find: Callable[[list[CellKey]], np.ndarray],
) -> np.ndarray:
    """Per cell: physicians whose change was included since the cell's last step, plus those
    who left it (withdrawn, or moved to another specialty, region or month). `find` gives the
    grid rows of some keys (-1: not in the grid); only the cells with a state or a departure
    are looked up (at ten times launch a few hundred thousand of 3.3 M)."""
    n_cells = len(grid.keys)
    stepped_at = np.zeros(n_cells)
    pending = np.zeros(n_cells, dtype=np.int64)
    texts = list(states)
    at = find([CellKey.decode(text) for text in texts])
    for row, text in zip(at.tolist(), texts, strict=True):
        if row >= 0:
            state = states[text]
            stepped_at[row] = float(state.get("stepped_at", 0.0))
            pending[row] += int(state.get("departed", 0))
    left = list(departures)
    for row, text in zip(find([CellKey.decode(text) for text in left]).tolist(), left, strict=True):
        if row >= 0:
            pending[row] += departures[text]
    if len(totals.member_cell):
        fresh = totals.member_included_at > stepped_at[totals.member_cell]
        pending += np.bincount(totals.member_cell[fresh], minlength=n_cells)
    return pending


def _step_of(
    n: int, key: CellKey, state: dict | None, vector: np.ndarray, policy: PrivacyPolicy
) -> tuple[dict, np.ndarray, bool] | None:
    nodes = state.get("nodes") if state else None
    if nodes and is_once_cell(key):
        return None  # a closed month is released once
    if not nodes or int(state["step"]) >= policy.max_steps:
        new_state, node = tree.plan_step(tree.empty_state(), vector)
        return new_state, node, True
    true_total = tree.totals(state)[1]
    if np.allclose(vector, true_total):
        return None
    new_state, node = tree.plan_step(state, vector - true_total)
    return new_state, node, False


def plan_steps(
    grid: Grid,
    states: Mapping[str, dict],
    closed: set[CellKey],
    pending: np.ndarray,
    policy: PrivacyPolicy,
    now_ts: float,
) -> list[Step]:
    """The level-1 cells that step now: at least k pending physicians, not closed (a running
    month, or too few physicians in the cell). Cells hidden only by complementary suppression
    still step, so the drug-level sums include them."""
    steps = []
    # Only cells with k physicians and enough pending changes can step (a few thousand of the
    # 3.3 M cells of a release at ten times launch); they are visited in grid order.
    able = (grid.raters >= policy.min_raters) & (pending >= policy.step_min_physicians)
    for n in np.flatnonzero(able).tolist():
        key = grid.keys[n]
        if key.level != Level.DRUG_INDICATION or key in closed or is_disabled(key, policy):
            continue
        planned = _step_of(n, key, states.get(key.encode()), grid.vectors[n], policy)
        if planned is None:
            continue
        new_state, node, restart = planned
        new_state["stepped_at"] = now_ts
        new_state["departed"] = 0
        if is_once_cell(key):
            new_state["final"] = True
        steps.append(Step(n, key, new_state, node, restart, int(pending[n])))
    return steps


def noisy_totals(
    states: Mapping[str, dict],
    closed: set[CellKey],
    policy: PrivacyPolicy,
    carried: Set[CellKey] = frozenset(),
) -> dict[CellKey, tuple[np.ndarray | None, int]]:
    """Noisy running total and node count of every level-1 cell with a released tree, and the
    drug-level cells summed from them (their noise variances add: nodes are summed). The
    totals of `carried` cells, which keep their published version, are not summed (None),
    unless a drug-level sum that is not carried needs them: an incremental release at ten
    times launch carries 320,000 of 325,000 cells, and summing their trees took 2 s."""
    level1: dict[CellKey, tuple[np.ndarray | None, int]] = {}
    for text, state in states.items():
        key = CellKey.decode(text)
        nodes = state.get("nodes") or []
        if key.level != Level.DRUG_INDICATION or key in closed or not nodes:
            continue
        if is_disabled(key, policy):
            continue
        if any(node[2] is None for node in nodes):
            continue
        needed = key not in carried or _drug_key(key) not in carried
        level1[key] = (tree.totals(state)[0] if needed else None, len(nodes))
    out = dict(level1)
    for key, (vector, n_nodes) in level1.items():
        drug_key = _drug_key(key)
        total, nodes = out.get(drug_key, (np.zeros(10), 0))
        if drug_key in carried:
            out[drug_key] = (None, nodes + n_nodes)
        else:
            out[drug_key] = (total + vector, nodes + n_nodes)
    return out


def _drug_key(key: CellKey) -> CellKey:
    """The drug-level cell a drug x indication cell is summed into."""
    return CellKey(Level.DRUG, key.drug_id, 0, key.breakdown, key.value)


def drug_keys_moved(steps: list[Step]) -> set[CellKey]:
    """Drug-level cells whose sum moved because one of their level-1 cells stepped."""
    return {_drug_key(s.key) for s in steps}
