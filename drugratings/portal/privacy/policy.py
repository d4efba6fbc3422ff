"""The published privacy parameters (see METHODOLOGY.md, "Privacy route for pharma reports")."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from django.conf import settings

N_DIMENSIONS = 5
# One physician's contribution to a cell: a count of 0/1 and a centred value in [-2, 2] per
# dimension. Between two instants the contribution can move by at most 1 (count) and 4
# (value: -2 -> +2) per dimension, so the L2 sensitivities of a tree node are:
COUNT_SENSITIVITY = math.sqrt(N_DIMENSIONS * 1.0**2)
SUM_SENSITIVITY = math.sqrt(N_DIMENSIONS * 4.0**2)


@dataclass(frozen=True)
class PrivacyPolicy:
    min_raters: int  # k: distinct physicians behind a published cell
    count_noise: float  # Gaussian scale of each tree node's counts
    sum_noise: float  # Gaussian scale of each tree node's sums of centred values
    max_steps: int  # refresh steps per cell tree (then it is rebuilt)
    min_batch: int  # changes (physicians) a published cell waits for before moving
    rho_budget: float  # zCDP budget per physician per rolling year
    within_cell_sd: float  # assumed SD of adjusted ratings inside a cell (intervals)
    leniency_shrinkage: float  # lambda in b_p = sum(y - public mean) / (n_p + lambda)

    @property
    def levels(self) -> int:
        """Tree nodes one contribution can enter over a tree's life: floor(log2 M) + 1."""
        return math.floor(math.log2(self.max_steps)) + 1

    @property
    def rho_node(self) -> float:
        return COUNT_SENSITIVITY**2 / (2 * self.count_noise**2) + SUM_SENSITIVITY**2 / (
            2 * self.sum_noise**2
        )

    @property
    def rho_per_cell_event(self) -> float:
        """Privacy loss of one physician's change entering one cell, over all its tree nodes."""
        return self.levels * self.rho_node

    def as_dict(self) -> dict:
        return {
            **asdict(self),
            "levels": self.levels,
            "rho_node": self.rho_node,
            "rho_per_cell_event": self.rho_per_cell_event,
        }


def current_policy() -> PrivacyPolicy:
    return PrivacyPolicy(
        min_raters=settings.PORTAL_MIN_CELL_RATERS,
        count_noise=settings.PORTAL_COUNT_NOISE,
        sum_noise=settings.PORTAL_SUM_NOISE,
        max_steps=settings.PORTAL_TREE_MAX_STEPS,
        min_batch=settings.PORTAL_MIN_BATCH,
        rho_budget=settings.PORTAL_RHO_BUDGET,
        within_cell_sd=1.0,
        leniency_shrinkage=5.0,
    )


def epsilon_for(rho: float, delta: float = 1e-6) -> float:
    """(epsilon, delta)-DP implied by rho-zCDP (Bun & Steinke 2016, Prop. 1.3)."""
    return rho + 2.0 * math.sqrt(rho * math.log(1.0 / delta))
