"""Fit diagnostics (issue 14): warm starts, intervals, the diagnostics summary and its report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import chi2

from ratingstats import REML_MAX, fit_crossed
from ratingstats.cli import main, read_ratings
from ratingstats.diagnostics import Diagnostics, compute, fragment_html, render_svgs

RESULTS = Path(__file__).resolve().parent / "results"
FIXTURE = RESULTS / "confounded.csv"


@pytest.fixture(scope="module")
def confounded():
    tab = read_ratings(FIXTURE)
    return tab, fit_crossed(tab.item, tab.rater, tab.score, tab.group)


def test_auto_is_reml_up_to_6000_items_whatever_the_number_of_ratings():
    assert REML_MAX >= 6000
    rng = np.random.default_rng(1)
    item = rng.integers(0, 1600, 20_000)
    rater = rng.integers(0, 3000, 20_000)
    y = rng.normal(3.5, 1.0, 20_000) + 0.3 * np.sin(item)
    assert fit_crossed(item, rater, y, intervals=False).method == "reml"  # was moments (> 1500)


@pytest.mark.parametrize(
    ("offset", "max_evaluations"),
    # A refit after a few new ratings moves the optimum by well under 0.1%: Newton from the
    # previous optimum then needs 8 evaluations (COBYQA: 22 from the same start, 25 cold).
    [(1.0, 8), (1.0005, 8), (1.002, 13), (1.01, 15), (1.05, 20)],
)
def test_a_warm_start_takes_newton_steps_to_the_same_optimum(confounded, offset, max_evaluations):
    tab, cold = confounded
    start = (cold.sd_item * offset, cold.sd_rater / offset, cold.sd_residual)
    warm = fit_crossed(tab.item, tab.rater, tab.score, tab.group, start=start)
    assert warm.warm_start and not cold.warm_start
    assert warm.convergence.startswith("Newton")
    assert warm.reml_evaluations <= max_evaluations < cold.reml_evaluations
    assert warm.pcg_iterations < cold.pcg_iterations  # no moment rounds
    np.testing.assert_allclose(warm.estimate, cold.estimate, atol=1e-6)
    # The criterion is flat here: the cold fit's trust region stops 1e-6 (relative) from lme4's
    # sd_item, Newton 2e-7 from it, with a deviance lower by 1e-11. So 2e-6 between them.
    assert warm.sd_item == pytest.approx(cold.sd_item, rel=2e-6)
    assert warm.sd_rater == pytest.approx(cold.sd_rater, rel=2e-6)
    assert warm.reml_deviance <= cold.reml_deviance + 1e-9
    assert warm.reml_deviance == pytest.approx(cold.reml_deviance, abs=1e-7)
    np.testing.assert_allclose(warm.component_ci, cold.component_ci, atol=5e-4)


@pytest.mark.parametrize(
    ("offset", "max_evaluations", "without"),
    # With the previous fit's Hessian a Newton step costs 3 evaluations, not 5 to 7 (the
    # product's refit at ten times launch: 13 -> 7 per fit).
    [(1.0, 4, 8), (1.0005, 4, 8), (1.002, 7, 13), (1.01, 7, 15), (1.05, 10, 20)],
)
def test_a_warm_start_with_the_previous_hessian_reaches_the_same_optimum_sooner(
    confounded, offset, max_evaluations, without
):
    tab, cold = confounded
    assert np.all(np.isfinite(cold.log_theta_hessian))  # a cold fit with intervals forms it
    start = (cold.sd_item * offset, cold.sd_rater / offset, cold.sd_residual)
    plain = fit_crossed(tab.item, tab.rater, tab.score, tab.group, start=start)
    warm = fit_crossed(
        tab.item, tab.rater, tab.score, tab.group, start=start, start_hessian=cold.log_theta_hessian
    )
    assert warm.convergence.startswith("Newton")
    assert warm.reml_evaluations <= max_evaluations < without == plain.reml_evaluations
    np.testing.assert_array_equal(warm.log_theta_hessian, cold.log_theta_hessian)  # reused
    np.testing.assert_allclose(warm.estimate, cold.estimate, atol=1e-6)
    assert warm.sd_item == pytest.approx(cold.sd_item, rel=2e-6)
    assert warm.sd_rater == pytest.approx(cold.sd_rater, rel=2e-6)
    assert warm.reml_deviance == pytest.approx(cold.reml_deviance, abs=1e-7)
    np.testing.assert_allclose(warm.component_ci, cold.component_ci, atol=5e-4)


@pytest.mark.parametrize("hessian", [np.full((2, 2), np.nan), -np.eye(2), np.eye(3)])
def test_an_unusable_previous_hessian_is_formed_again(confounded, hessian):
    tab, cold = confounded
    start = (cold.sd_item * 1.0005, cold.sd_rater, cold.sd_residual)
    warm = fit_crossed(
        tab.item, tab.rater, tab.score, tab.group, start=start, start_hessian=hessian
    )
    assert warm.reml_evaluations == 8 and warm.convergence.startswith("Newton")
    np.testing.assert_allclose(warm.estimate, cold.estimate, atol=1e-6)


def test_a_far_warm_start_falls_back_to_the_trust_region_search(confounded):
    tab, cold = confounded
    start = (cold.sd_item * 1.2, cold.sd_rater / 1.2, cold.sd_residual)  # Newton's step > 10%
    warm = fit_crossed(tab.item, tab.rater, tab.score, tab.group, start=start)
    assert warm.warm_start and not warm.convergence.startswith("Newton")
    np.testing.assert_allclose(warm.estimate, cold.estimate, atol=1e-6)


def test_a_warm_start_on_the_boundary_falls_back_to_the_trust_region_search(confounded):
    tab, cold = confounded
    warm = fit_crossed(tab.item, tab.rater, tab.score, tab.group, start=(0.0, 0.5, 0.8))
    assert warm.warm_start and not warm.convergence.startswith("Newton")
    np.testing.assert_allclose(warm.estimate, cold.estimate, atol=1e-6)


@pytest.mark.parametrize("start", [(np.nan, 0.5, 0.8), (0.5, 0.5, 0.0), (-1.0, 0.5, 0.8)])
def test_an_unusable_warm_start_is_ignored(confounded, start):
    tab, cold = confounded
    res = fit_crossed(tab.item, tab.rater, tab.score, tab.group, start=start)
    assert not res.warm_start
    np.testing.assert_allclose(res.estimate, cold.estimate, atol=1e-6)


def test_component_intervals_bracket_the_estimates(confounded):
    _, res = confounded
    assert res.converged and res.method == "reml"
    for k, sd in enumerate((res.sd_item, res.sd_rater, res.sd_residual)):
        low, high = res.component_ci[k]
        assert 0 < low < sd < high
    # Residual SD: the chi-square interval exactly.
    dof = res.n - 5
    expect = res.sd_residual * np.sqrt(dof / chi2.ppf([0.975, 0.025], dof))
    np.testing.assert_allclose(res.component_ci[2], expect, rtol=1e-9)


def test_component_intervals_cover_the_truth_in_simulation():
    """Wald intervals on log(theta) from the REML curvature: nominal 95%, checked on 40 draws."""
    covered = []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        item = rng.integers(0, 80, 2500)
        rater = rng.integers(0, 300, 2500)
        y = rng.normal(0, 0.5, 80)[item] + rng.normal(0, 0.4, 300)[rater]
        y = y + rng.normal(0, 0.8, item.size)
        res = fit_crossed(item, rater, y)
        covered.append(res.component_ci[0, 0] <= 0.5 <= res.component_ci[0, 1])
    assert 0.85 <= np.mean(covered) <= 1.0


def test_specialty_effect_se_matches_the_inverse_of_hendersons_equations(confounded):
    tab, res = confounded
    # Dense Henderson matrix in the (item, rater, fixed) order, inverted directly.
    ni, nr, p = res.n_items, int(tab.rater.max()) + 1, 5
    X = np.zeros((tab.score.size, p))
    X[:, 0] = 1.0
    X[np.arange(tab.score.size), tab.group] = 1.0
    X[:, 0] = 1.0
    Z = np.zeros((tab.score.size, ni + nr))
    Z[np.arange(tab.score.size), tab.item] = 1.0
    Z[np.arange(tab.score.size), ni + tab.rater] = 1.0
    s2 = res.sd_residual**2
    G = np.concatenate([np.full(ni, s2 / res.sd_item**2), np.full(nr, s2 / res.sd_rater**2)])
    C = np.block([[Z.T @ Z + np.diag(G), Z.T @ X], [X.T @ Z, X.T @ X]])
    cov_beta = s2 * np.linalg.inv(C)[ni + nr :, ni + nr :]
    xbar = X.mean(axis=0)
    contrasts = np.eye(p)
    contrasts[:, 0] = 1.0
    contrasts -= xbar
    se = np.sqrt(np.einsum("ij,jk,ik->i", contrasts, cov_beta, contrasts))
    np.testing.assert_allclose(res.group_se, se, rtol=1e-6)


def test_diagnostics_summarise_the_fit_and_survive_json(confounded):
    tab, res = confounded
    d = compute(tab.item, tab.rater, tab.score, tab.group, res, group_labels=tab.group_labels)
    again = Diagnostics.from_dict(json.loads(json.dumps(d.to_dict())))
    assert again == d
    assert (d.n_ratings, d.n_items, d.n_raters) == (1653, 60, 250)
    assert sum(map(sum, d.counts)) == 1653  # every rating in the histogram (min_cell=1)
    assert len(d.shrink_n) == 60 and sum(d.shrink_n) == 1653
    assert [g.label for g in d.groups] == tab.group_labels
    for g in d.groups:
        assert g.low < g.effect < g.high
    # The fitted values reproduce the score: residuals average zero within rounding.
    assert abs(np.average(d.binned_resid)) < 0.1
    # Gaussian-ish residuals: the QQ points lie near the diagonal in the middle.
    mid = slice(40, 160)
    np.testing.assert_allclose(d.qq_resid[mid], d.qq_normal[mid], atol=0.25)


def test_public_diagnostics_drop_small_cells_and_unshown_drugs(confounded):
    tab, res = confounded
    include = res.n_raters >= 30
    d = compute(tab.item, tab.rater, tab.score, tab.group, res, min_cell=10, include=include)
    assert all(c == 0 or c >= 10 for row in d.counts for c in row)
    assert len(d.shrink_n) == int(include.sum()) < 60


def test_svgs_are_inline_scalable_and_titled(confounded):
    tab, res = confounded
    d = compute(tab.item, tab.rater, tab.score, tab.group, res, label="efficacy")
    svgs = render_svgs(d)
    assert set(svgs) == {"residuals", "qq_residuals", "qq_effects", "shrinkage", "groups"}
    for svg in svgs.values():
        assert svg.startswith("<svg") and "<?xml" not in svg
        head = svg[: svg.index(">")]
        assert "viewBox" in head and " width=" not in head and 'role="img"' in head
        assert "<title>efficacy: " in svg


def test_fragment_escapes_labels(confounded):
    tab, res = confounded
    labels = ["<script>alert(1)</script>", *tab.group_labels[1:]]
    d = compute(tab.item, tab.rater, tab.score, tab.group, res, group_labels=labels, label="<b>")
    html = fragment_html(d, svgs={})
    assert "<script>" not in html and "&lt;script&gt;" in html and "<h3>&lt;b&gt;</h3>" in html


def test_cli_report_and_gzip_input(tmp_path):
    out, report, summ = tmp_path / "o.csv", tmp_path / "r.html", tmp_path / "s.json"
    argv = ["fit", str(RESULTS / "ordinal.csv.gz"), "-o", str(out), "--report", str(report)]
    assert main([*argv, "--summary", str(summ)]) == 0
    text = report.read_text()
    assert text.startswith("<!doctype html>") and text.count("<svg") == 4  # no groups here
    assert "Variance components" in text and "REML" in text
    assert json.loads(summ.read_text())["converged"] is True


def test_cli_report_is_not_written_on_bad_input(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("item,rater,score\na,b,3\na,c,oops\n")
    report = tmp_path / "r.html"
    assert main(["fit", str(bad), "-o", str(tmp_path / "o.csv"), "--report", str(report)]) == 2
    assert "line 3" in capsys.readouterr().err
    assert not report.exists()


def test_cli_rejects_a_corrupt_gzip_with_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.csv.gz"
    bad.write_bytes(b"not gzip at all")
    assert main(["fit", str(bad), "-o", str(tmp_path / "o.csv")]) == 2
    assert "bad.csv.gz" in capsys.readouterr().err
