"""A change's privacy cost summed per breakdown (the release's fast path) is the cost of the
cells it enters, leaves or edits (`event_cost`, which builds them), for every kind of change."""

from __future__ import annotations

import random

import pytest

from drugratings.portal.privacy.policy import current_policy
from drugratings.portal.releases import Placed, _cell_keys, breakdown_costs, event_cost


def _placed(rng: random.Random) -> Placed:
    return Placed(
        raw=(rng.randint(1, 5),) * 5,
        specialty_id=rng.choice([1, 2, 12]),
        region=rng.choice(["US-CA", "US-NY", "", "GB"]),
        month=rng.choice(["2025-03", "2025-04", "2026-11"]),
    )


@pytest.mark.parametrize("region_specialty", [True, False])
def test_the_cost_by_breakdown_equals_the_cost_of_the_cells(settings, region_specialty):
    settings.PORTAL_REGION_SPECIALTY = region_specialty
    policy = current_policy()
    costs = breakdown_costs(policy)
    rng = random.Random(3)
    key = (7, 11, 13)
    kinds = {"new": 0, "withdrawn": 0, "edited in place": 0, "moved": 0}
    for _ in range(400):
        new = None if rng.random() < 0.15 else _placed(rng)
        old = None if (new is None or rng.random() < 0.3) else _placed(rng)
        if new is None:
            old = _placed(rng)
        if rng.random() < 0.3 and new is not None and old is not None:
            old = Placed((1,) * 5, new.specialty_id, new.region, new.month)  # scores only
        new_cells = set(_cell_keys(key, new)) if new else set()
        old_cells = set(_cell_keys(key, old)) if old else set()
        expected = event_cost(new_cells, old_cells, policy)
        assert costs.of(new, old) == pytest.approx(expected, rel=1e-12)
        if old is None:
            kinds["new"] += 1
        elif new is None:
            kinds["withdrawn"] += 1
        elif new_cells == old_cells:
            kinds["edited in place"] += 1
        else:
            kinds["moved"] += 1
    assert all(count > 20 for count in kinds.values()), kinds
    # A new rating costs the policy's headline figure.
    assert costs.of(_placed(rng), None) == pytest.approx(policy.rho_per_new_rating)
