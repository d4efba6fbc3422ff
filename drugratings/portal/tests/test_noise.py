"""Noise is drawn by OpenDP on a grid of 2^-40, and what a release charges covers OpenDP's own
account of that noise (its privacy map), for every draw size it makes."""

from __future__ import annotations

import numpy as np
import pytest

from drugratings.portal.privacy import noise
from drugratings.portal.privacy.policy import (
    COUNT_SENSITIVITY,
    SUM_SENSITIVITY,
    SUM_SENSITIVITY_ADD,
    PrivacyPolicy,
    current_policy,
)


def _policies() -> list[PrivacyPolicy]:
    policy = current_policy()
    return [policy, policy.scaled(2.0), policy.scaled(0.5)]


@pytest.mark.parametrize("index", [0, 1, 2])
def test_a_nodes_charge_covers_opendps_map_of_its_noise(index):
    policy = _policies()[index]
    formula = COUNT_SENSITIVITY**2 / (2 * policy.count_noise**2) + SUM_SENSITIVITY**2 / (
        2 * policy.sum_noise**2
    )
    opendp = noise.node_rho(policy)
    assert formula < opendp <= policy.rho_node  # the grid costs a little; the margin covers it
    assert policy.rho_node - formula < 1e-5 * formula  # and costs no more than that
    add = noise.gaussian_rho(COUNT_SENSITIVITY, policy.count_noise) + noise.gaussian_rho(
        SUM_SENSITIVITY_ADD, policy.sum_noise
    )
    assert add <= policy.rho_node_add


def test_no_shorter_draw_costs_more_than_the_longest_one():
    scale = current_policy().sum_noise
    longest = noise._gaussian(scale, noise.MAX_DRAW).map(SUM_SENSITIVITY)
    for size in (1, 10, 5_000, 100_000):
        assert noise._gaussian(scale, size).map(SUM_SENSITIVITY) <= longest


def test_long_draws_are_split_and_keep_their_order_and_scale(monkeypatch):
    monkeypatch.setattr(noise, "MAX_DRAW", 1_000)
    calls: list[int] = []
    real = noise._gaussian

    def counted(scale, size):
        calls.append(size)
        return real(scale, size)

    monkeypatch.setattr(noise, "_gaussian", counted)
    true = np.arange(25_000, dtype=float).reshape(-1, 5) * 1000.0
    noisy = noise.noisy_values(3.0, true)
    assert noisy.shape == (25_000,) and max(calls) <= 1_000 and sum(calls) == 25_000
    errors = noisy - true.ravel()
    assert np.abs(errors).max() < 1000 / 2  # each value kept its place
    assert 2.8 < errors.std() < 3.2
    assert noise.noisy_values(3.0, np.zeros((0, 5))).size == 0
