"""Simulation scenarios of the validation study.

Every scenario draws data from the model ``y = mu + beta_g + a_i + b_r + e`` (Gaussian
scores, the model's own assumption) with ``sd_item = sd_rater = 0.5`` and ``sd_resid = 0.8``
unless stated, fits it, and returns per-replicate records.  The quantity an interval must cover
is the adjusted score of an average rater as defined in :class:`ratingstats.FitResult`:
``mu + xbar'beta + a_i`` with ``xbar`` the rating shares of the groups in that replicate.
Coverage is averaged over items drawn from the population (the sense in which empirical-Bayes
intervals are calibrated; Morris 1983, JASA 78:47).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from ratingstats import fit_crossed, rank_intervals

__all__ = ["Data", "Record", "draw", "evaluate"]

MU = 3.5
ORDINAL_MU = 3.9
SD = (0.5, 0.5, 0.8)


@dataclass(frozen=True)
class Data:
    item: np.ndarray
    rater: np.ndarray
    score: np.ndarray
    group: np.ndarray | None
    n_items: int
    truth: np.ndarray  # adjusted score of every item for the average rater
    sd2: tuple[float, float, float]  # true variances (item, rater, residual)


@dataclass(frozen=True)
class Record:
    covered: np.ndarray  # per item with >= 1 rating
    n_ratings: np.ndarray
    err_model: np.ndarray
    err_naive: np.ndarray
    var_hat: np.ndarray  # (3,) estimated variances
    rank_covered: np.ndarray
    seconds: float


def _finish(rng, item, rater, group, a, b, beta, n_items, sd2) -> Data:
    e = rng.normal(0.0, np.sqrt(sd2[2]), item.size)
    fixed = MU + (0.0 if group is None else beta[group])
    y = fixed + a[item] + b[rater] + e
    share = 0.0 if group is None else np.bincount(group, minlength=beta.size) / item.size @ beta
    return Data(item, rater, y, group, n_items, MU + share + a, sd2)


def _ratings_per_rater(rng, n_raters, mean):
    return 1 + rng.poisson(mean - 1, n_raters)


def _assign_uniform(rng, k, n_items, offset=0):
    """Each rater r rates k[r] items drawn uniformly; repeated picks collapse to one rating."""
    rater = np.repeat(np.arange(k.size), k)
    item = offset + rng.integers(0, n_items, rater.size)
    keep = np.unique(item.astype(np.int64) * k.size + rater, return_index=True)[1]
    return item[keep], rater[keep]


def _assign_preferring(rng, k, pools, preferred, p_pref):
    """Like :func:`_assign_uniform`, but each pick comes from the rater's preferred pool with
    probability ``p_pref`` and from ``pools[-1]`` (all items) otherwise."""
    rater = np.repeat(np.arange(k.size), k)
    use_pref = rng.random(rater.size) < p_pref
    item = np.empty(rater.size, dtype=np.int64)
    for j, pool in enumerate(pools):
        sel = np.where(j == len(pools) - 1, ~use_pref, use_pref & (preferred[rater] == j))
        item[sel] = pool[rng.integers(0, pool.size, int(sel.sum()))]
    keep = np.unique(item * k.size + rater, return_index=True)[1]
    return item[keep], rater[keep]


def draw(scenario: str, rng: np.random.Generator, scale: int = 1) -> Data:
    """Draw one replicate of ``scenario``; ``scale`` multiplies items and raters."""
    sd2 = tuple(s * s for s in SD)
    if scenario == "no_rater_variance":
        sd2 = (sd2[0], 0.0, sd2[2])
    n_items, n_raters = 150 * scale, 600 * scale
    a = rng.normal(0.0, np.sqrt(sd2[0]), n_items)
    b = rng.normal(0.0, np.sqrt(sd2[1]), n_raters)
    beta = np.array([0.0, -0.3, 0.2, -0.1, 0.15])

    if scenario == "rank_classes":
        # Fewer raters: about 20 ratings per drug, so that ranks within a class are uncertain.
        n_raters = 300 * scale
        b = b[:n_raters]
        scenario = "random"

    if scenario == "ordinal":
        # Integer 1-5 scores with a ceiling: latent mean 3.9, rounded and clipped.  The target is
        # the expected observed score of an average rater (rater effect integrated out as in
        # the model's population, specialty mix as in the data), not the latent value.
        k = _ratings_per_rater(rng, n_raters, 10)
        item, rater = _assign_uniform(rng, k, n_items)
        group = rater % beta.size
        latent = ORDINAL_MU + beta[group] + a[item] + b[rater]
        y = latent + rng.normal(0.0, np.sqrt(sd2[2]), item.size)
        y = np.clip(np.rint(y), 1.0, 5.0)
        share = np.bincount(group, minlength=beta.size) / item.size
        s_tot = np.sqrt(sd2[1] + sd2[2])
        centre = ORDINAL_MU + a[:, None] + beta[None, :]  # item x group
        expect = 1.0 + sum(ndtr((centre - (c + 0.5)) / s_tot) for c in range(1, 5))
        return Data(item, rater, y, group, n_items, expect @ share, sd2)

    if scenario in ("random", "no_rater_variance"):
        k = _ratings_per_rater(rng, n_raters, 10)
        item, rater = _assign_uniform(rng, k, n_items)
        group = (rater % beta.size) if scenario == "random" else None
        if group is None:
            beta = np.zeros(1)
        return _finish(rng, item, rater, group, a, b, beta, n_items, sd2)

    if scenario == "specialty_confounded":
        # Severe specialties rate particular drugs: specialty g rates drugs of class g 80% of
        # the time, and the specialties differ strongly in severity.
        beta = np.array([0.0, -0.8, 0.5, -0.4, 0.3])
        g_of = np.arange(n_raters) % beta.size
        ids = np.arange(n_items)
        pools = [ids[ids % beta.size == g] for g in range(beta.size)] + [ids]
        k = _ratings_per_rater(rng, n_raters, 10)
        item, rater = _assign_preferring(rng, k, pools, g_of, 0.8)
        return _finish(rng, item, rater, g_of[rater], a, b, beta, n_items, sd2)

    if scenario == "new_drugs":
        # Two thirds established drugs rated at random, one third new drugs with 1..19
        # ratings each from randomly chosen raters.
        n_old = 100 * scale
        k = _ratings_per_rater(rng, n_raters, 10)
        item, rater = _assign_uniform(rng, k, n_old)
        new = np.arange(n_old, n_items)
        m = rng.integers(1, 20, new.size)
        extra_i = np.repeat(new, m)
        extra_r = np.concatenate([rng.choice(n_raters, mm, replace=False) for mm in m])
        item, rater = np.concatenate([item, extra_i]), np.concatenate([rater, extra_r])
        group = rater % beta.size
        return _finish(rng, item, rater, group, a, b, beta, n_items, sd2)

    if scenario == "severity_confounded":
        # Rater severity drives drug choice: lenient raters (b > 0) pick from the first half of
        # the drugs 80% of the time, severe raters from the second half.  No groups.
        ids = np.arange(n_items)
        pools = [ids[: n_items // 2], ids[n_items // 2 :], ids]
        k = _ratings_per_rater(rng, n_raters, 10)
        # 80% from the preferred half = 60% "preferred" + 40% "anywhere" (half of which lands
        # in the preferred half again).
        item, rater = _assign_preferring(rng, k, pools, (b <= 0).astype(int), 0.6)
        return _finish(rng, item, rater, None, a, b, np.zeros(1), n_items, sd2)

    raise ValueError(f"unknown scenario {scenario!r}")


def _naive(data: Data) -> np.ndarray:
    s = np.bincount(data.item, weights=data.score, minlength=data.n_items)
    c = np.bincount(data.item, minlength=data.n_items)
    return np.where(c > 0, s / np.maximum(c, 1), data.score.mean())


def evaluate(
    data: Data,
    rng: np.random.Generator,
    use_group: bool = True,
    ranks: bool = False,
    **fit_kwargs,
) -> Record:
    """Fit one replicate and score it against the truth."""
    group = data.group if use_group else None
    res = fit_crossed(data.item, data.rater, data.score, group, n_items=data.n_items, **fit_kwargs)
    rated = res.n_ratings > 0
    # Without the group term the target is unchanged: the average rater of the data.
    truth = data.truth
    covered = (res.ci_low <= truth) & (truth <= res.ci_high)
    rank_cov = np.zeros(0, dtype=bool)
    if ranks:
        # Classes of 10 displayable items; does each item's rank interval contain its true rank?
        eligible = rng.permutation(np.flatnonzero(res.n_raters >= 10))
        out = []
        for c in range(min(5, eligible.size // 10)):
            items = eligible[10 * c : 10 * c + 10]
            ri = rank_intervals(res, items, rng=rng, n_sim=2000)
            true_rank = np.empty(10, dtype=int)
            true_rank[np.argsort(-truth[items])] = np.arange(1, 11)
            out.append((ri.low <= true_rank) & (true_rank <= ri.high))
        rank_cov = np.concatenate(out) if out else rank_cov
    return Record(
        covered=covered[rated],
        n_ratings=res.n_ratings[rated],
        err_model=(res.estimate - truth)[rated],
        err_naive=(_naive(data) - truth)[rated],
        var_hat=np.array([res.sd_item**2, res.sd_rater**2, res.sd_residual**2]),
        rank_covered=rank_cov,
        seconds=res.seconds,
    )
