"""Gaussian noise through OpenDP measurements, calibrated to the policy's scales.

OpenDP samples exactly (no floating-point attacks on the noise), on a grid of 2^-40, at some
cost per value, so a release draws the noise of all its new tree nodes in a few calls per scale.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import numpy as np
import opendp.prelude as dp

from drugratings.portal.privacy.policy import COUNT_SENSITIVITY, SUM_SENSITIVITY, PrivacyPolicy

dp.enable_features("contrib")


#: Noise granularity, 2^-40: OpenDP samples the Gaussian exactly on this grid and rounds the
#: input to it. At its default (the finest grid) a value cost 49 us; on this one 9.5 us, and
#: a first release at ten times launch draws 3 M values. OpenDP's privacy map accounts for the
#: rounding: it raises a node's rho by about 2e-9 of itself (`PrivacyPolicy.rho_node` charges
#: DISCRETISATION_MARGIN more; a test holds the map under it).
NOISE_GRANULARITY = -40
#: Values per OpenDP call (the map depends on the vector's length; charged at this one).
MAX_DRAW = 2**20


@lru_cache(maxsize=64)
def _gaussian(scale: float, size: int):
    return dp.m.make_gaussian(
        dp.vector_domain(dp.atom_domain(T=float, nan=False), size=size),
        dp.l2_distance(T=float),
        scale=scale,
        k=NOISE_GRANULARITY,
    )


def gaussian_rho(sensitivity: float, scale: float) -> float:
    """zCDP loss of one draw at this scale for this l2 sensitivity, from OpenDP's privacy map
    at the longest draw (MAX_DRAW values): no draw of noisy_values costs more."""
    return float(_gaussian(scale, MAX_DRAW).map(sensitivity))


def node_rho(policy: PrivacyPolicy) -> float:
    """zCDP loss of one noisy tree node, from OpenDP's privacy maps."""
    return gaussian_rho(COUNT_SENSITIVITY, policy.count_noise) + gaussian_rho(
        SUM_SENSITIVITY, policy.sum_noise
    )


#: Draws run side by side in this many threads: OpenDP's library is called through ctypes,
#: which lets go of the GIL.
NOISE_THREADS = 2
_PARALLEL_FROM = 20_000  # values; fewer are drawn in one call


def noisy_nodes(true_nodes: np.ndarray, policy: PrivacyPolicy) -> np.ndarray:
    """Add noise to an (n, 10) matrix of node values: 5 counts then 5 sums per row."""
    if true_nodes.size == 0:
        return true_nodes.astype(float)
    counts = noisy_values(policy.count_noise, true_nodes[:, :5])
    sums = noisy_values(policy.sum_noise, true_nodes[:, 5:])
    return np.hstack([counts.reshape(-1, 5), sums.reshape(-1, 5)])


def noisy_values(scale: float, values: np.ndarray) -> np.ndarray:
    """`values` (flattened) plus Gaussian noise of this scale, in draws of at most MAX_DRAW."""
    flat = values.astype(float).ravel()
    if flat.size == 0:
        return flat
    parts = max(-(-flat.size // MAX_DRAW), NOISE_THREADS if flat.size >= _PARALLEL_FROM else 1)
    pieces = np.array_split(flat, parts)

    def draw(piece: np.ndarray) -> np.ndarray:
        return np.asarray(_gaussian(scale, piece.size)(piece.tolist()), dtype=float)

    if len(pieces) == 1:
        return draw(pieces[0])
    with ThreadPoolExecutor(NOISE_THREADS) as pool:
        return np.concatenate(list(pool.map(draw, pieces)))
