"""The published privacy parameters (see METHODOLOGY.md, "Privacy route for pharma reports")."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

from django.conf import settings

N_DIMENSIONS = 5
# One physician's contribution to a cell: a count of 0/1 and a value centred on 3 and clipped to
# [-2, 2] per dimension (the midpoint of 1-5 is the centre that makes the largest |value|
# smallest). Neighbouring datasets differ by adding or removing one physician's rating
# (add/remove), so a new rating or a withdrawal moves a node by at most 1 and 2 per dimension;
# an edit that stays in the cell replaces a value (-2 -> +2: 4 per dimension). L2 sensitivities:
COUNT_SENSITIVITY = math.sqrt(N_DIMENSIONS * 1.0**2)
SUM_SENSITIVITY_ADD = math.sqrt(N_DIMENSIONS * 2.0**2)
SUM_SENSITIVITY = math.sqrt(N_DIMENSIONS * 4.0**2)  # an edit in place (replace)
# Noise is drawn on a grid (noise.NOISE_GRANULARITY); OpenDP's map of a node's loss is then a
# few parts in a billion above Delta^2 / (2 sigma^2). Every charge carries this margin over it.
DISCRETISATION_MARGIN = 1e-6
# Cells a rating feeds with their own noise: none, specialty and region trees of its drug x
# indication cell (and its region x specialty tree while that breakdown is on), plus its month,
# specialty x month and region x month cells, each published once when the month closes.
# Drug-level cells are sums of drug x indication cells (post-processing: no noise, no cost).
TREE_CELLS_PER_RATING = 3
ONCE_CELLS_PER_RATING = 3
# The region x specialty tree draws noise at twice the scale (a quarter of the rho per node):
# with it a new rating costs (3 * 9 + 3 + 9 / 4) * 0.868 = 28.0, within issue 13's 30.5, where
# the same tree at the common scale would cost 33.9. Its cells' intervals say so (wider).
REGION_SPECIALTY_NOISE_FACTOR = 2.0


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
    # Region x specialty breakdowns: a fourth tree per rating (PORTAL_REGION_SPECIALTY).
    region_specialty: bool = False

    def scaled(self, factor: float) -> PrivacyPolicy:
        """The same policy with every node's noise scale multiplied by `factor`."""
        if factor == 1.0:
            return self
        return replace(
            self, count_noise=self.count_noise * factor, sum_noise=self.sum_noise * factor
        )

    @property
    def levels(self) -> int:
        """Tree nodes one contribution can enter over a tree's life: floor(log2 M) + 1."""
        return math.floor(math.log2(self.max_steps)) + 1

    @property
    def step_min_physicians(self) -> int:
        """A cell's published value moves only on at least k physicians' changes (and never
        on fewer than the configured batch)."""
        return max(self.min_batch, self.min_raters)

    @property
    def rho_node(self) -> float:
        """zCDP loss of one noisy node for an edit in place (replace sensitivity), with the
        margin that covers the noise's grid (noise.NOISE_GRANULARITY)."""
        return (1 + DISCRETISATION_MARGIN) * (
            COUNT_SENSITIVITY**2 / (2 * self.count_noise**2)
            + SUM_SENSITIVITY**2 / (2 * self.sum_noise**2)
        )

    @property
    def rho_node_add(self) -> float:
        """zCDP loss of one noisy node for a new rating or a withdrawal (add/remove)."""
        return (1 + DISCRETISATION_MARGIN) * (
            COUNT_SENSITIVITY**2 / (2 * self.count_noise**2)
            + SUM_SENSITIVITY_ADD**2 / (2 * self.sum_noise**2)
        )

    @property
    def rho_per_cell_event(self) -> float:
        """Loss of an edit in place entering one tree cell, over all its tree nodes."""
        return self.levels * self.rho_node

    @property
    def rho_per_new_rating(self) -> float:
        """Loss of one new rating across every cell it feeds (the headline figure)."""
        nodes = TREE_CELLS_PER_RATING * self.levels + ONCE_CELLS_PER_RATING
        if self.region_specialty:
            nodes += self.levels / REGION_SPECIALTY_NOISE_FACTOR**2
        return nodes * self.rho_node_add

    def noise_sd_of_mean(self, n_physicians: int, n_nodes: int | None = None) -> float:
        """SD that the noise adds to the published mean of a cell of n physicians whose tree
        has n_nodes nodes (all levels, the worst case, by default), at the scale's centre."""
        nodes = self.levels if n_nodes is None else n_nodes
        return math.sqrt(nodes) * self.sum_noise / n_physicians

    def as_dict(self) -> dict:
        return {
            **asdict(self),
            "levels": self.levels,
            "rho_node": self.rho_node,
            "rho_per_cell_event": self.rho_per_cell_event,
            "rho_node_add": self.rho_node_add,
            "rho_per_new_rating": self.rho_per_new_rating,
            "neighbours": "add/remove one physician's rating",
            "min_physicians_per_step": self.step_min_physicians,
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
        region_specialty=settings.PORTAL_REGION_SPECIALTY,
    )


def epsilon_for(rho: float, delta: float = 1e-6) -> float:
    """(epsilon, delta)-DP implied by rho-zCDP (Bun & Steinke 2016, Prop. 1.3)."""
    return rho + 2.0 * math.sqrt(rho * math.log(1.0 / delta))
