"""Gaussian noise through OpenDP measurements, calibrated to the policy's scales.

OpenDP samples exactly (no floating-point attacks on the noise), at some cost per value, so a
release draws the noise of all its new tree nodes in one call per scale.
"""

from __future__ import annotations

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


def noisy_nodes(true_nodes: np.ndarray, policy: PrivacyPolicy) -> np.ndarray:
    """Add noise to an (n, 10) matrix of node values: 5 counts then 5 sums per row."""
    if true_nodes.size == 0:
        return true_nodes.astype(float)
    counts = _gaussian(policy.count_noise)(true_nodes[:, :5].astype(float).ravel().tolist())
    sums = _gaussian(policy.sum_noise)(true_nodes[:, 5:].astype(float).ravel().tolist())
    return np.hstack([np.asarray(counts).reshape(-1, 5), np.asarray(sums).reshape(-1, 5)])
