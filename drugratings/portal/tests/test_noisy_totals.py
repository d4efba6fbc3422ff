"""`steps.noisy_totals` skips the trees of cells that keep their published version (carried),
but never a tree that a drug-level sum still being published needs."""

from __future__ import annotations

import numpy as np

from drugratings.portal.models import Breakdown, Level
from drugratings.portal.privacy import steps, tree
from drugratings.portal.privacy.cells import CellKey
from drugratings.portal.privacy.policy import current_policy


def _state(seed: int, n_steps: int) -> dict:
    rng = np.random.default_rng(seed)
    state = tree.empty_state()
    for _ in range(n_steps):
        planned, node = tree.plan_step(state, rng.uniform(0, 5, 10))
        state = tree.attach_noise(planned, node + rng.normal(0, 1, 10))
    return state


def _cell(drug: int, indication: int, breakdown: str = Breakdown.NONE, value: str = ""):
    return CellKey(Level.DRUG_INDICATION, drug, indication, breakdown, value)


def test_carried_cells_are_not_summed_unless_a_published_sum_needs_them():
    a, b, c = _cell(1, 10), _cell(1, 11), _cell(2, 10, Breakdown.SPECIALTY, "7")
    drug_1 = CellKey(Level.DRUG, 1, 0, Breakdown.NONE, "")
    drug_2 = CellKey(Level.DRUG, 2, 0, Breakdown.SPECIALTY, "7")
    states = {key.encode(): _state(n, n + 1) for n, key in enumerate((a, b, c))}
    policy = current_policy()
    everything = steps.noisy_totals(states, set(), policy)
    # b is carried but drug 1's sum is not: b's total is still summed into it.
    lazy = steps.noisy_totals(states, set(), policy, carried={b, c, drug_2})
    assert lazy.keys() == everything.keys()
    for key in (a, b, drug_1):
        np.testing.assert_array_equal(lazy[key][0], everything[key][0])
    assert lazy[c][0] is None and lazy[drug_2][0] is None
    assert [lazy[k][1] for k in lazy] == [everything[k][1] for k in everything]
    np.testing.assert_allclose(everything[drug_1][0], everything[a][0] + everything[b][0])
