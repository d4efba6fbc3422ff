"""Rank intervals and the "best in class" rule.

Ranks are simulated from the approximate posterior of the selected items' scores,
``N(estimate[items], item_cov(items))`` -- the Gaussian that the prediction-error covariance
describes, with the variance components held at their estimates (an empirical-Bayes posterior;
Laird & Louis 1989, *J. Educ. Stat.* 14:29 for rank estimation, Goldstein & Spiegelhalter 1996,
*JRSS A* 159:385 for league tables with intervals).  Rank 1 is the highest score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .fit import MIN_RATERS_SHOWN, FitResult

__all__ = ["RankIntervals", "best_in_class", "rank_intervals"]


@dataclass(frozen=True)
class RankIntervals:
    """Ranks of ``items`` among themselves; rank 1 = highest adjusted score.

    ``rank`` ranks the point estimates; ``low``/``high`` bound the equal-tailed (mid-p by
    default) interval of the simulated ranks; ``p_best`` is the posterior probability of being
    ranked first.
    """

    items: np.ndarray
    rank: np.ndarray
    low: np.ndarray
    high: np.ndarray
    p_best: np.ndarray
    level: float
    n_sim: int


def rank_intervals(
    res: FitResult,
    items: np.ndarray,
    level: float = 0.95,
    rng: np.random.Generator | None = None,
    n_sim: int = 4000,
    rule: str = "midp",
) -> RankIntervals:
    """Simulate the ranks of ``items`` from the posterior of their adjusted scores.

    Parameters
    ----------
    res : FitResult
    items : ndarray of int
        Item codes to rank among themselves (e.g. the drugs of one class and indication).
    level : float
        Coverage of each marginal rank interval.
    rng : numpy.random.Generator, optional
        Source of randomness; pass a seeded generator for reproducible intervals.
    n_sim : int
        Number of posterior draws.
    rule : {"midp", "quantile"}
        How the discrete rank distribution is cut; see :func:`_interval`.  The default mid-p
        rule is what the validation study calibrates (equal-tailed quantiles over-cover).

    Returns
    -------
    RankIntervals
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    items = np.asarray(items, dtype=np.int64)
    if items.ndim != 1 or items.size == 0:
        raise ValueError("items must be a non-empty one-dimensional array of item codes")
    if np.unique(items).size != items.size:
        raise ValueError("items contains duplicates")
    if items.min() < 0 or items.max() >= res.n_items:
        raise ValueError("item code out of range")
    rng = np.random.default_rng() if rng is None else rng
    k = items.size
    mean = res.estimate[items]
    order = np.argsort(-mean, kind="stable")
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(1, k + 1)
    if k == 1:
        one = np.ones(1, dtype=np.int64)
        return RankIntervals(items, one, one, one.copy(), np.ones(1), level, n_sim)
    cov = res.item_cov(items)
    # Eigen-decomposition rather than Cholesky: the covariance may be singular (e.g. zero
    # item variance makes every score share one error).
    vals, vecs = np.linalg.eigh(0.5 * (cov + cov.T))
    root = vecs * np.sqrt(np.clip(vals, 0.0, None))
    draws = mean + rng.standard_normal((n_sim, k)) @ root.T
    # rank 1 = largest; ties (degenerate cases) broken by the order of the point estimates.
    sims = np.empty((n_sim, k), dtype=np.int64)
    idx = np.argsort(-draws[:, order], axis=1, kind="stable")
    sims[np.arange(n_sim)[:, None], order[idx]] = np.arange(1, k + 1)[None, :]
    low, high = _interval(sims, k, level, rule)
    p_best = (sims == 1).mean(axis=0)
    return RankIntervals(items, rank, low, high, p_best, level, n_sim)


def _interval(sims: np.ndarray, k: int, level: float, rule: str) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed rank intervals from simulated ranks (one column per item).

    ``"quantile"``: the ``alpha/2`` and ``1 - alpha/2`` quantiles, so each tail holds at most
    ``alpha/2`` and the interval at least ``level`` -- with discrete ranks often far more.
    ``"midp"``: rank ``r`` is excluded when its mid-p tail probability ``P(R < r) + P(R = r)/2``
    (or ``P(R > r) + P(R = r)/2``) is at most ``alpha/2``.  This is Lancaster's (1961, JASA
    56:223) mid-p correction for discrete distributions; it aims at the nominal level on
    average instead of guaranteeing it, which the validation study checks.
    """
    alpha = (1.0 - level) / 2.0
    if rule == "quantile":
        low = np.quantile(sims, alpha, axis=0, method="inverted_cdf").astype(np.int64)
        high = np.quantile(sims, 1.0 - alpha, axis=0, method="inverted_cdf").astype(np.int64)
        return low, high
    if rule != "midp":
        raise ValueError(f"rule must be 'midp' or 'quantile', got {rule!r}")
    # pmf[r - 1, j] = P(rank of item j == r)
    pmf = np.stack([(sims == r).mean(axis=0) for r in range(1, k + 1)])
    below = np.cumsum(pmf, axis=0) - pmf  # P(R < r)
    above = 1.0 - below - pmf  # P(R > r)
    keep = (below + 0.5 * pmf > alpha) & (above + 0.5 * pmf > alpha)
    ranks = np.arange(1, k + 1)[:, None]
    # The point-estimate-free fallback: an item whose mass is spread so thinly that no rank
    # passes both tests gets the rank of its largest mass (cannot happen for level >= 0.5).
    low = np.where(keep.any(axis=0), np.where(keep, ranks, k + 1).min(axis=0), pmf.argmax(0) + 1)
    high = np.where(keep.any(axis=0), np.where(keep, ranks, 0).max(axis=0), pmf.argmax(0) + 1)
    return low.astype(np.int64), high.astype(np.int64)


def best_in_class(
    res: FitResult,
    items: np.ndarray,
    level: float = 0.95,
    rng: np.random.Generator | None = None,
    min_raters: int = MIN_RATERS_SHOWN,
    n_sim: int = 4000,
) -> int | None:
    """Return the item code that is "best in class", or ``None``.

    Rule: among the ``items`` that are displayable (at least ``min_raters`` distinct raters),
    the item with the highest estimate is best in class only if its ``level`` rank interval is
    ``[1, 1]``, i.e. its posterior probability of ranking first is at least
    ``1 - (1 - level) / 2`` (97.5% at the default level).
    """
    items = np.asarray(items, dtype=np.int64)
    items = items[res.n_raters[items] >= min_raters]
    if items.size < 2:
        return None
    ri = rank_intervals(res, items, level=level, rng=rng, n_sim=n_sim)
    top = int(np.flatnonzero(ri.rank == 1)[0])
    if ri.low[top] == 1 and ri.high[top] == 1:
        return int(items[top])
    return None
