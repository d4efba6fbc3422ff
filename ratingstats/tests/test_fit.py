"""Correctness of the estimator beyond the lme4 fixtures: edge cases and internal identities."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla

from ratingstats import MIN_RATERS_SHOWN, FitResult, displayable, fit_crossed
from ratingstats._design import build_design, validate_inputs
from ratingstats.mme import dense_matrix, pcg, reduced_system
from ratingstats.reml import reml_deviance


def simulate(seed=0, n_items=80, n_raters=300, n=3000, n_groups=4, sd=(0.5, 0.6, 0.8)):
    rng = np.random.default_rng(seed)
    item = rng.integers(0, n_items, n)
    rater = rng.integers(0, n_raters, n)
    group = rater % n_groups
    a = rng.normal(0, sd[0], n_items)
    b = rng.normal(0, sd[1], n_raters)
    g = np.linspace(-0.4, 0.4, n_groups)
    y = 3.0 + a[item] + b[rater] + g[group] + rng.normal(0, sd[2], n)
    return item, rater, y, group


def test_result_is_frozen_dataclass():
    res = fit_crossed(*simulate()[:3])
    assert isinstance(res, FitResult)
    with pytest.raises(AttributeError):
        res.mu = 0.0  # type: ignore[misc]


def test_pcg_matches_dense_solve():
    item, rater, y, group = simulate(1)
    d = build_design(*validate_inputs(item, rater, y, group, None))
    rs = reduced_system(d, 0.7, 0.9)
    sol = pcg(d, rs, rtol=1e-12)
    A = dense_matrix(d, rs)
    direct = sla.solve(A, np.concatenate([rs.f_a, rs.f_b]), assume_a="pos")
    np.testing.assert_allclose(np.concatenate([sol.x_a, sol.x_b]), direct, atol=1e-9)


def test_reml_deviance_is_minimised():
    item, rater, y, group = simulate(2)
    res = fit_crossed(item, rater, y, group, method="reml")
    d = build_design(*validate_inputs(item, rater, y, group, None))
    theta = np.array([res.sd_item, res.sd_rater]) / res.sd_residual
    best = reml_deviance(d, theta)[0]
    for step in ([1e-3, 0], [-1e-3, 0], [0, 1e-3], [0, -1e-3]):
        assert reml_deviance(d, theta + np.array(step))[0] >= best - 1e-9


def test_moments_close_to_reml_on_large_sample():
    item, rater, y, group = simulate(3, n_items=300, n_raters=2000, n=30000)
    r1 = fit_crossed(item, rater, y, group, method="reml")
    r2 = fit_crossed(item, rater, y, group, method="moments")
    for a, b in ((r1.sd_item, r2.sd_item), (r1.sd_rater, r2.sd_rater)):
        assert a == pytest.approx(b, rel=0.05)
    assert r1.sd_residual == pytest.approx(r2.sd_residual, rel=0.01)
    assert np.abs(r1.estimate - r2.estimate).max() < 0.02


def test_approx_cov_close_to_exact():
    item, rater, y, group = simulate(4, n_items=400, n_raters=4000, n=20000)
    ex = fit_crossed(item, rater, y, group, cov="exact")
    ap = fit_crossed(item, rater, y, group, cov="approx")
    np.testing.assert_allclose(ap.estimate, ex.estimate, atol=1e-8)
    ratio = ap.se / ex.se
    assert ratio.min() > 0.97 and ratio.max() < 1.01
    sub = np.arange(10)
    np.testing.assert_allclose(
        ap.item_cov(sub), ex.item_cov(sub), atol=0.05 * ex.se[sub].max() ** 2
    )


def test_interval_and_average_rater_definition():
    item, rater, y, group = simulate(5)
    res = fit_crossed(item, rater, y, group)
    np.testing.assert_allclose(res.estimate, res.mu + res.item_effect)
    np.testing.assert_allclose(res.ci_high - res.estimate, 1.959963984540054 * res.se)
    counts = np.bincount(group) / group.size
    # mu is the fixed part averaged over the ratings: the rating-weighted group effects sum to 0.
    assert counts @ res.group_effects == pytest.approx(0.0, abs=1e-10)
    np.testing.assert_allclose(np.diag(res.item_cov(np.arange(5))), res.se[:5] ** 2)


def test_counts():
    item = np.array([0, 0, 0, 1, 2, 2])
    rater = np.array([0, 1, 1, 0, 2, 3])
    res = fit_crossed(item, rater, np.array([1.0, 2, 3, 4, 5, 4]), n_items=4)
    assert list(res.n_ratings) == [3, 1, 2, 0]
    assert list(res.n_raters) == [2, 1, 2, 0]
    # an item without ratings gets the prior: mu, with at least the item SD as uncertainty
    assert res.estimate[3] == pytest.approx(res.mu)
    assert res.se[3] >= res.sd_item


def test_single_ratings_per_item_and_rater():
    rng = np.random.default_rng(6)
    n = 200
    res = fit_crossed(np.arange(n), np.arange(n), rng.normal(3, 1, n))
    assert np.all(np.isfinite(res.estimate)) and np.all(np.isfinite(res.se))
    assert np.all(res.n_raters == 1)


def test_single_group_equals_no_group():
    item, rater, y, _ = simulate(7)
    a = fit_crossed(item, rater, y, np.zeros_like(item))
    b = fit_crossed(item, rater, y)
    np.testing.assert_allclose(a.estimate, b.estimate, atol=1e-8)
    assert a.group_effects.shape == (1,) and a.group_effects[0] == pytest.approx(0.0)


def test_all_identical_scores_is_boundary():
    item, rater, _, group = simulate(8)
    res = fit_crossed(item, rater, np.full(item.size, 4.0), group)
    assert res.sd_item == res.sd_rater == res.sd_residual == 0.0
    assert np.all(res.estimate == 4.0) and np.all(res.ci_low == res.ci_high)


def test_zero_item_variance_boundary():
    rng = np.random.default_rng(9)
    n = 4000
    item, rater = rng.integers(0, 50, n), rng.integers(0, 400, n)
    y = 3 + rng.normal(0, 0.5, 400)[rater] + rng.normal(0, 1, n)
    res = fit_crossed(item, rater, y, method="reml")
    assert res.sd_item < 0.05
    assert np.all(np.isfinite(res.se))


def test_empty_group_code_is_nan():
    item, rater, y, group = simulate(10)
    res = fit_crossed(item, rater, y, group + 1)  # code 0 unused
    assert np.isnan(res.group_effects[0]) and np.all(np.isfinite(res.group_effects[1:]))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"score": np.array([1.0, np.nan, 3.0])}, "NaN"),
        ({"score": np.array([1.0, np.inf, 3.0])}, "NaN/infinite"),
        ({"item": np.array([0, -1, 2])}, ">= 0"),
        ({"item": np.array([0, 1])}, "entries"),
        ({"rater": np.array([0.5, 1, 2])}, "integers"),
        ({"score": np.array([])}, "no ratings"),
        ({"n_items": 2}, "n_items"),
    ],
)
def test_bad_input_rejected(kwargs, message):
    args = {
        "item": np.array([0, 1, 2]),
        "rater": np.array([0, 1, 2]),
        "score": np.array([1.0, 2.0, 3.0]),
        "n_items": None,
    }
    args.update(kwargs)
    if args["score"].size == 0:
        args["item"] = args["rater"] = np.array([], dtype=int)
    with pytest.raises(ValueError, match=message):
        fit_crossed(**args)


def test_display_rule():
    item, rater, y, _ = simulate(11, n=600)
    res = fit_crossed(item, rater, y)
    assert MIN_RATERS_SHOWN == 10
    np.testing.assert_array_equal(displayable(res), res.n_raters >= 10)
    np.testing.assert_array_equal(displayable(res, min_raters=5), res.n_raters >= 5)


def test_blas_thread_limit_is_restored():
    from ratingstats._blas import _openblas_libs, blas_threads

    libs = _openblas_libs()
    assert libs, "numpy's OpenBLAS was not found: the limits below would check nothing"
    before = [get() for _, get in libs]
    with blas_threads(1):
        assert all(get() == 1 for _, get in libs)
        with blas_threads(1):
            pass
        assert all(get() == 1 for _, get in libs)
    assert [get() for _, get in libs] == before
