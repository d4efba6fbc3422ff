"""Rank intervals and the best-in-class rule."""

from __future__ import annotations

import numpy as np
import pytest

from ratingstats import RankIntervals, best_in_class, fit_crossed, rank_intervals


def _fit(gap: float, seed: int = 0, n_per_item: int = 200):
    rng = np.random.default_rng(seed)
    k, n_raters = 6, 400
    item = np.repeat(np.arange(k), n_per_item)
    rater = rng.integers(0, n_raters, item.size)
    a = np.array([gap, 0.0, -0.1, -0.2, -0.3, -0.4])
    y = 3 + a[item] + rng.normal(0, 0.4, n_raters)[rater] + rng.normal(0, 0.8, item.size)
    return fit_crossed(item, rater, y)


def test_rank_intervals_shape_and_order():
    res = _fit(1.0)
    ri = rank_intervals(res, np.arange(6), rng=np.random.default_rng(1))
    assert isinstance(ri, RankIntervals)
    assert np.all(ri.low <= ri.rank) and np.all(ri.rank <= ri.high)
    assert sorted(ri.rank) == list(range(1, 7))
    assert ri.rank[0] == 1 and ri.low[0] == 1 and ri.high[0] == 1
    assert ri.p_best.sum() == pytest.approx(1.0)


def test_reproducible_with_seed():
    res = _fit(0.1)
    a = rank_intervals(res, np.arange(6), rng=np.random.default_rng(5))
    b = rank_intervals(res, np.arange(6), rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a.low, b.low)
    np.testing.assert_array_equal(a.high, b.high)


def test_best_in_class_only_when_clear():
    assert best_in_class(_fit(1.0), np.arange(6), rng=np.random.default_rng(2)) == 0
    assert best_in_class(_fit(0.02), np.arange(6), rng=np.random.default_rng(2)) is None


def test_best_in_class_respects_display_rule():
    res = _fit(1.0, n_per_item=8)  # at most 8 raters per item: nothing is displayable
    assert best_in_class(res, np.arange(6), rng=np.random.default_rng(3)) is None


def test_single_item_and_bad_input():
    res = _fit(0.5)
    ri = rank_intervals(res, np.array([2]))
    assert ri.rank[0] == ri.low[0] == ri.high[0] == 1
    with pytest.raises(ValueError):
        rank_intervals(res, np.array([0, 0]))
    with pytest.raises(ValueError):
        rank_intervals(res, np.array([99]))
