"""Gaussian noise through OpenDP measurements, calibrated to the policy's scales.

OpenDP samples exactly (no floating-point attacks on the noise), at some cost per value, so a
release draws the noise of all its new tree nodes in one call per scale.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import numpy as np
import opendp.prelude as dp

from drugratings.portal.privacy.policy import COUNT_SENSITIVITY, SUM_SENSITIVITY, PrivacyPolicy

dp.enable_features("contrib")


@lru_cache(maxsize=8)
def _gaussian(scale: float):
    return dp.m.make_gaussian(
        dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.l2_distance(T=float), scale=scale
    )


def node_rho(policy: PrivacyPolicy) -> float:
    """zCDP loss of one noisy tree node, from OpenDP's privacy maps."""
    return float(
        _gaussian(policy.count_noise).map(COUNT_SENSITIVITY)
        + _gaussian(policy.sum_noise).map(SUM_SENSITIVITY)
    )


#: Draws run side by side in this many threads: OpenDP's library is called through ctypes,
#: which lets go of the GIL, and exact sampling is most of a big release's noise time.
NOISE_THREADS = 2
_PARALLEL_FROM = 20_000  # values; fewer are drawn in one call


def noisy_nodes(true_nodes: np.ndarray, policy: PrivacyPolicy) -> np.ndarray:
    """Add noise to an (n, 10) matrix of node values: 5 counts then 5 sums per row."""
    if true_nodes.size == 0:
        return true_nodes.astype(float)
    counts = _drawn(policy.count_noise, true_nodes[:, :5])
    sums = _drawn(policy.sum_noise, true_nodes[:, 5:])
    return np.hstack([counts.reshape(-1, 5), sums.reshape(-1, 5)])


def _drawn(scale: float, values: np.ndarray) -> np.ndarray:
    flat = values.astype(float).ravel()
    measure = _gaussian(scale)
    if flat.size < _PARALLEL_FROM:
        return np.asarray(measure(flat.tolist()), dtype=float)
    parts = np.array_split(flat, NOISE_THREADS)
    with ThreadPoolExecutor(NOISE_THREADS) as pool:
        drawn = list(pool.map(lambda part: measure(part.tolist()), parts))
    return np.concatenate([np.asarray(d, dtype=float) for d in drawn])
