"""Fit ``score ~ group + (1|item) + (1|rater)`` and report item scores for an average rater."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla
from scipy.special import ndtri
from scipy.stats import chi2

from ._blas import blas_threads
from ._design import Design, build_design, validate_inputs
from .cov import ApproxCov, ExactCov, approx_cov, exact_cov
from .mme import DenseAssembler, pcg, penalised_rss, rater_effects, reduced_system
from .moments import moment_components
from .reml import fit_reml

__all__ = [
    "DENSE_COV_MAX",
    "MIN_RATERS_SHOWN",
    "REML_MAX",
    "FitResult",
    "displayable",
    "fit_crossed",
]

#: Minimum number of distinct raters before a score is shown.  See METHODOLOGY.md, "Display
#: rule": at 10 raters the 95% interval half-width is about 0.6 points for typical rater and
#: residual spreads, a handful of colluding accounts cannot move a score far, and it matches
#: the small-cell threshold of common health-data publication rules.
MIN_RATERS_SHOWN: int = 10

#: Largest ``n_items + p`` fitted by exact REML under ``method="auto"``.  Each REML evaluation
#: is a dense Cholesky factorisation of that size (about 0.1 s at 1,600 items and 1-2 s at
#: 6,000 on one core; 30-40 evaluations per fit, fewer from a warm start); the number of
#: ratings only enters through O(nnz) set-up, so any input up to millions of ratings is fitted
#: by REML as long as it has at most this many items.  Above it the method of moments is used
#: (METHODOLOGY.md 2.3).  Memory: two dense matrices of this size, 2 x 8 x 6000^2 = 576 MB.
REML_MAX: int = 6000

#: Largest ``n_items + p`` for which the exact dense prediction-error covariance is computed
#: under ``cov="auto"`` (memory 8 (n_items + p)^2 bytes); above it, :class:`ApproxCov`.
DENSE_COV_MAX: int = 5000


@dataclass(frozen=True)
class FitResult:
    """Result of :func:`fit_crossed`.  All per-item arrays have length ``n_items``.

    ``estimate`` is the adjusted score of each item for an *average rater*:
    ``mu + item_effect``, where ``mu = xbar' beta`` is the fixed part averaged over all ratings
    in the fit (each specialty weighted by its share of ratings) and the rater effect is zero.
    ``group_effects[g]`` is the mean score of specialty ``g`` relative to ``mu`` (NaN for codes
    without ratings); ``fixef`` holds lme4's treatment-coded coefficients.  ``se`` is the full
    prediction-error SD used for the intervals, ``se_conditional`` lme4's ``condVar`` SD (given
    ``beta_hat``).  ``pcg_iterations`` counts the conjugate-gradient steps of all solves.
    Use :meth:`item_cov` for the covariance of a subset of estimates.
    """

    mu: float
    sd_item: float
    sd_rater: float
    sd_residual: float
    n: int
    seconds: float
    group_effects: np.ndarray
    fixef: np.ndarray
    item_effect: np.ndarray
    rater_effect: np.ndarray
    estimate: np.ndarray
    se: np.ndarray
    se_conditional: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    level: float
    n_ratings: np.ndarray
    n_raters: np.ndarray
    method: str
    cov_method: str
    pcg_iterations: int
    reml_deviance: float | None
    group_se: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: (3, 2) intervals at ``level`` for sd_item, sd_rater, sd_residual (NaN: not available).
    component_ci: np.ndarray = field(default_factory=lambda: np.full((3, 2), np.nan))
    converged: bool = True
    convergence: str = ""
    reml_evaluations: int = 0
    warm_start: bool = False
    #: The REML criterion's Hessian in log theta near the optimum (NaN: not formed), for the
    #: next warm start (``fit_crossed``'s ``start_hessian``).
    log_theta_hessian: np.ndarray = field(default_factory=lambda: np.full((2, 2), np.nan))
    _cov: ExactCov | ApproxCov | None = field(default=None, repr=False)
    _sigma2: float = field(default=0.0, repr=False)
    #: True for a result returned by :func:`ratingstats.run_tasks`, which leaves the covariance
    #: factor (up to hundreds of MB) in the process that fitted it.
    cov_dropped: bool = False

    @property
    def n_items(self) -> int:
        return int(self.estimate.shape[0])

    def item_cov(self, items: np.ndarray) -> np.ndarray:
        """Prediction-error covariance of ``estimate[items]`` (exact or approximate, as ``se``)."""
        items = np.asarray(items, dtype=np.int64)
        if self.cov_dropped:
            raise ValueError("this result's covariance was not kept (ratingstats.run_tasks)")
        if self._cov is None:  # constant data: nothing is uncertain
            return np.zeros((items.size, items.size))
        return self._sigma2 * self._cov.contrast_cov(items)


def displayable(res: FitResult, min_raters: int = MIN_RATERS_SHOWN) -> np.ndarray:
    """Boolean mask of items whose score may be shown (at least ``min_raters`` distinct raters)."""
    return res.n_raters >= min_raters


def _choose(option: str, size: int, limit: int, small: str, large: str, name: str) -> str:
    if option == "auto":
        return small if size <= limit else large
    if option not in (small, large):
        raise ValueError(f"{name} must be 'auto', {small!r} or {large!r}, got {option!r}")
    return option


def _theta_from_components(s2: np.ndarray) -> tuple[np.ndarray, float]:
    s2e = float(s2[2])
    if s2e <= 1e-12 * max(float(s2.sum()), 1e-300):
        s2e = max(float(s2.sum()) * 1e-6, 1e-12)
    return np.sqrt(np.maximum(s2[:2], 0.0) / s2e), s2e


def fit_crossed(
    item: np.ndarray,
    rater: np.ndarray,
    score: np.ndarray,
    group: np.ndarray | None = None,
    n_items: int | None = None,
    *,
    level: float = 0.95,
    method: str = "auto",
    cov: str = "auto",
    reml_max: int = REML_MAX,
    dense_cov_max: int = DENSE_COV_MAX,
    rtol: float = 1e-10,
    threads: int | None = 1,
    start: tuple[float, float, float] | None = None,
    intervals: bool = True,
    start_hessian: np.ndarray | None = None,
) -> FitResult:
    """Fit the crossed random-effects model ``score ~ group + (1|item) + (1|rater)``.

    Parameters
    ----------
    item, rater : ndarray of int
        Codes ``0..n_items-1`` and ``0..n_raters-1``; one entry per rating.
    score : ndarray of float
        The ratings (1-5 in the product, any real scale works).  NaN is rejected.
    group : ndarray of int, optional
        The rater's group (specialty) for each rating, a fixed effect.  ``None``: one group.
    n_items : int, optional
        Number of items; items without ratings get the prior (``mu``, ``sd_item``).
    level : float
        Confidence level of ``ci_low``/``ci_high``.
    method : {"auto", "reml", "moments"}
        Variance components by exact REML (Patterson & Thompson 1971, Biometrika 58:545, in
        lme4's profiled form) or by the method of moments (Henderson 1953; Gao & Owen 2017).
        ``auto`` uses REML when ``n_items + p <= reml_max``.
    cov : {"auto", "exact", "approx"}
        Prediction-error variances from the exact dense inverse or the O(nnz) approximation of
        :mod:`ratingstats.cov`; ``auto`` is exact when ``n_items + p <= dense_cov_max``.
    rtol : float
        Relative residual at which preconditioned conjugate gradients stop.
    threads : int or None
        OpenBLAS threads for the dense factorisations (default 1, robust when the machine is
        busy; see :mod:`ratingstats._blas`).  ``None`` keeps the library's setting.
    start : (sd_item, sd_rater, sd_residual), optional
        Warm start for REML: the components of a previous fit of nearly the same data (the
        product's refit).  It changes only the speed, not the optimum.  Ignored by moments.
    start_hessian : (2, 2) array, optional
        With ``start``: that fit's ``log_theta_hessian``, so the warm start need not form it
        again (3 REML evaluations per Newton step instead of 5 to 7; the optimum to about 1e-5
        in log theta, see :func:`ratingstats.reml._newton_from`).

    Returns
    -------
    FitResult

    Notes
    -----
    BLUPs solve Henderson's mixed-model equations (Henderson 1950, 1984) with the rater block
    absorbed, by preconditioned conjugate gradients; see METHODOLOGY.md for every formula.
    """
    with blas_threads(threads):
        return _fit(
            item,
            rater,
            score,
            group,
            n_items,
            level,
            method,
            cov,
            reml_max,
            dense_cov_max,
            rtol,
            start,
            intervals,
            start_hessian,
        )


def _fit(
    item: np.ndarray,
    rater: np.ndarray,
    score: np.ndarray,
    group: np.ndarray | None,
    n_items: int | None,
    level: float,
    method: str,
    cov: str,
    reml_max: int,
    dense_cov_max: int,
    rtol: float,
    start: tuple[float, float, float] | None,
    intervals: bool,
    start_hessian: np.ndarray | None,
) -> FitResult:
    t0 = time.perf_counter()
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    it, ra, y, gr, n_items = validate_inputs(item, rater, score, group, n_items)
    d = build_design(it, ra, y, gr, n_items)
    n_raters_item = np.diff(d.N.indptr).astype(np.int64)
    n_ratings = d.Da.astype(np.int64)
    if d.n <= d.p:
        raise ValueError(f"{d.n} ratings cannot identify {d.p} fixed effects")
    vc_method = _choose(method, n_items + d.p, reml_max, "reml", "moments", "method")
    cov_method = _choose(cov, n_items + d.p, dense_cov_max, "exact", "approx", "cov")

    beta = sla.solve(d.XtX, d.Xty, assume_a="pos")
    if np.ptp(y) == 0.0:
        return _constant_fit(d, beta, level, n_ratings, n_raters_item, t0)

    warm = vc_method == "reml" and _usable_start(start)
    if warm:
        # The previous fit's optimum: no moment rounds needed to find a starting point.
        theta, s2e, x0, steps = np.array([start[0], start[1]]) / start[2], 0.0, None, 0
    else:
        # Method-of-moments components: the answer for large problems, the start for REML.
        theta, s2e, x0, steps = _moment_theta(d, y, beta, 1 if vc_method == "reml" else 2, rtol)
    deviance = None
    converged, convergence, evaluations = True, "method of moments (closed form)", 0
    cov_log_theta = hessian = np.full((2, 2), np.nan)
    assembler = DenseAssembler(d) if vc_method == "reml" else None
    if vc_method == "reml":
        rf = fit_reml(
            d,
            theta,
            warm=warm,
            intervals=intervals,
            assembler=assembler,
            hessian=start_hessian if warm else None,
        )
        theta, deviance, cov_log_theta = rf.theta, rf.deviance, rf.cov_log_theta
        hessian = rf.hessian
        converged, convergence, evaluations = rf.converged, rf.message, rf.evaluations

    rs = reduced_system(d, float(theta[0]), float(theta[1]))
    sol = pcg(d, rs, x0=x0, rtol=rtol)
    steps += sol.iterations
    if vc_method == "reml":
        s2e = penalised_rss(d, rs, sol.x_a, sol.x_b) / (d.n - d.p)
    a = theta[0] * sol.x_a
    beta = sol.x_b
    b = rater_effects(d, rs, a, beta)
    cv = exact_cov(d, rs, assembler) if cov_method == "exact" else approx_cov(d, rs)
    del assembler  # its pair matrix and buffer: hundreds of MB at ten times launch
    var = s2e * np.maximum(cv.contrast_var(), 0.0)
    var_cond = s2e * np.maximum(cv.conditional_var(), 0.0)

    mu = float(d.xbar @ beta)
    est = mu + a
    se = np.sqrt(var)
    z = float(ndtri(0.5 + level / 2.0))
    return FitResult(
        mu=mu,
        sd_item=float(theta[0] * np.sqrt(s2e)),
        sd_rater=float(theta[1] * np.sqrt(s2e)),
        sd_residual=float(np.sqrt(s2e)),
        n=d.n,
        seconds=time.perf_counter() - t0,
        group_effects=_group_effects(d, beta, mu),
        fixef=beta.copy(),
        item_effect=a,
        rater_effect=b,
        estimate=est,
        se=se,
        se_conditional=np.sqrt(var_cond),
        ci_low=est - z * se,
        ci_high=est + z * se,
        level=level,
        n_ratings=n_ratings,
        n_raters=n_raters_item,
        method=vc_method,
        cov_method=cov_method,
        pcg_iterations=steps,
        reml_deviance=deviance,
        group_se=_group_se(d, s2e * cv.fixed_cov()),
        component_ci=_component_ci(theta, s2e, cov_log_theta, d.n - d.p, level),
        converged=converged,
        convergence=convergence,
        reml_evaluations=evaluations,
        warm_start=warm,
        log_theta_hessian=hessian,
        _cov=cv,
        _sigma2=s2e,
    )


def _usable_start(start: tuple[float, float, float] | None) -> bool:
    """A warm start needs three finite components and a positive residual SD."""
    if start is None:
        return False
    values = np.asarray(start, dtype=float)
    return (
        values.shape == (3,)
        and bool(np.all(np.isfinite(values)))
        and values[2] > 0.0
        and bool(np.all(values >= 0.0))
    )


def _moment_theta(
    d: Design, y: np.ndarray, beta: np.ndarray, rounds: int, rtol: float
) -> tuple[np.ndarray, float, tuple[np.ndarray, np.ndarray], int]:
    """Moment components iterated ``rounds`` times with GLS ``beta`` (METHODOLOGY.md 2.3)."""
    s2 = moment_components(d, y - d.x_times(beta))
    theta, s2e = _theta_from_components(s2)
    x0 = None
    steps = 0
    for _ in range(rounds):
        rs = reduced_system(d, *theta)
        sol = pcg(d, rs, x0=x0, rtol=max(rtol, 1e-8))
        steps += sol.iterations
        s2 = moment_components(d, y - d.x_times(sol.x_b))
        theta, s2e = _theta_from_components(s2)
        x0 = (sol.x_a, sol.x_b)
    return theta, s2e, x0, steps


def _component_ci(
    theta: np.ndarray, s2e: float, cov_log_theta: np.ndarray, dof: int, level: float
) -> np.ndarray:
    """Intervals for (sd_item, sd_rater, sd_residual) at ``level``.

    Item and rater SDs: Wald on ``log theta`` (curvature of the REML criterion), times
    ``sigma``, whose own relative error (about ``1/sqrt(2 dof)``) is negligible next to theirs.
    Residual SD: the chi-square interval ``sigma sqrt(dof / chi2_q)``.  NaN where unavailable
    (method of moments, or a component on the boundary).
    """
    out = np.full((3, 2), np.nan)
    sigma = float(np.sqrt(s2e))
    z = float(ndtri(0.5 + level / 2.0))
    for k in (0, 1):
        var = cov_log_theta[k, k]
        if np.isfinite(var) and theta[k] > 0.0:
            half = z * float(np.sqrt(var))
            out[k] = sigma * theta[k] * np.exp([-half, half])
    alpha = 1.0 - level
    hi, lo = chi2.ppf([alpha / 2.0, 1.0 - alpha / 2.0], dof)
    out[2] = sigma * np.sqrt(dof / np.array([lo, hi]))
    return out


def _group_se(d: Design, cov_beta: np.ndarray) -> np.ndarray:
    """SE of each specialty's effect relative to ``mu``: contrast ``(c_g - xbar)' beta``."""
    out = np.full(d.n_group_codes, np.nan)
    p = d.p
    contrasts = np.zeros((p, p))
    contrasts[:, 0] = 1.0
    contrasts[np.arange(1, p), np.arange(1, p)] = 1.0
    contrasts -= d.xbar[None, :]
    var = np.einsum("ij,jk,ik->i", contrasts, cov_beta, contrasts)
    out[d.present_groups] = np.sqrt(np.maximum(var, 0.0))
    return out


def _group_effects(d: Design, beta: np.ndarray, mu: float) -> np.ndarray:
    out = np.full(d.n_group_codes, np.nan)
    levels = beta[0] + np.concatenate([[0.0], beta[1:]])
    out[d.present_groups] = levels - mu
    return out


def _constant_fit(
    d: Design,
    beta: np.ndarray,
    level: float,
    n_ratings: np.ndarray,
    n_raters_item: np.ndarray,
    t0: float,
) -> FitResult:
    """All scores identical: every variance component is zero (the REML boundary)."""
    c = float(d.y[0])
    na = d.n_items
    zeros = np.zeros(na)
    est = np.full(na, c)
    return FitResult(
        mu=c,
        sd_item=0.0,
        sd_rater=0.0,
        sd_residual=0.0,
        n=d.n,
        seconds=time.perf_counter() - t0,
        group_effects=_group_effects(d, beta, c),
        fixef=beta,
        item_effect=zeros,
        rater_effect=np.zeros(d.n_raters),
        estimate=est,
        se=zeros.copy(),
        se_conditional=zeros.copy(),
        ci_low=est.copy(),
        ci_high=est.copy(),
        level=level,
        n_ratings=n_ratings,
        n_raters=n_raters_item,
        method="constant",
        cov_method="none",
        pcg_iterations=0,
        reml_deviance=None,
    )
