"""Bursts of ratings for one drug that break from its history.

A scan over every window that starts at one of the drug's ratings (Kulldorff 1997,
*Commun. Stat. Theory Methods* 26:1481, in its one-dimensional, temporal form; Neill 2012,
*JRSS B* 74:337 for fast subset scans) with lengths ``windows_days``.  A window is a burst when
three things hold together:

1. **Too many ratings.**  The count in the window has a Poisson upper tail probability below
   ``count_alpha`` under the drug's own rate outside the window (its ratings since its first
   one, excluding the window).  Honest rates are not Poisson -- launches and news surges are
   real -- so this gate only shortlists windows; it is never enough on its own.
2. **Their scores move the drug**, by either of two routes.  *Shift*: the window's mean score
   differs from the drug's honest mean by at least ``min_shift`` points with a z-statistic of
   at least ``min_z``; the honest mean is the empirical-Bayes posterior of the ratings outside
   the window shrunk towards the drug class's mean (Efron & Morris 1975, *JASA* 70:311), and
   its posterior variance enters the z-statistic, so a drug with no history cannot "shift"
   away from an unknown mean.  *Share*: the share of the window's ratings that sit at least
   ``min_push`` points above (or below) the drug's median exceeds the share outside the window
   with a binomial upper tail below ``share_alpha``; a campaign of 5s on a drug that already
   scores 4 moves the mean little once honest ratings dilute it, but it still floods the top.
   Either route tells a campaign from a natural surge, whose ratings look like the rest.
3. **Flagged ratings** are only those inside the burst that push in its direction by at least
   ``min_push`` points and come from accounts that are new (rating made within
   ``new_account_days`` of sign-up) or thin (at most ``thin_history`` ratings in total);
   established raters who happen to rate in the window are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ._common import DAY, codes, counts_per_row, rating_means
from .table import RatingTable, Suspicion

__all__ = ["BurstParams", "detect"]

NAME = "bursts"


@dataclass(frozen=True)
class BurstParams:
    """Parameters of :func:`detect`; the defaults are calibrated in DETECTORS.md."""

    windows_days: tuple[float, ...] = (1.0, 2.0, 4.0, 7.0, 14.0, 28.0)
    count_alpha: float = 1e-5
    min_count: int = 8
    min_shift: float = 0.5
    min_z: float = 4.5
    share_alpha: float = 1e-6
    min_push: float = 0.5
    new_account_days: float = 30.0
    thin_history: int = 8
    max_bursts_per_drug: int = 2


@dataclass(frozen=True)
class _Windows:
    """Every scanned window, as aligned arrays (``start``/``stop`` index the sorted rows)."""

    start: np.ndarray
    stop: np.ndarray
    days: np.ndarray
    shift: np.ndarray
    z: np.ndarray
    log_p: np.ndarray
    expected: np.ndarray
    ref: np.ndarray  # the drug's honest mean (posterior, outside the window)
    log_share: np.ndarray  # binomial tail of the share of ratings pushing one way
    share_sign: np.ndarray  # that way (+1 up, -1 down)


def _honest_prior(y: np.ndarray, drug: np.ndarray, cls: np.ndarray) -> tuple:
    """Class means, within-drug variance and between-drug variance of the scores."""
    n_d = np.bincount(drug)
    mean_d = np.bincount(drug, y) / np.maximum(n_d, 1)
    within = np.bincount(drug, (y - mean_d[drug]) ** 2).sum() / max(1, y.size - n_d.size)
    c_of_d = np.zeros(n_d.size, dtype=np.int64)
    c_of_d[drug] = cls
    class_mean = np.bincount(c_of_d, mean_d * n_d) / np.maximum(np.bincount(c_of_d, n_d), 1)
    # Method of moments for the spread of true drug means around their class means.
    big = n_d >= 20
    dev = (mean_d - class_mean[c_of_d])[big]
    tau2 = (
        max(0.02, float(np.mean(dev**2) - within * np.mean(1.0 / n_d[big]))) if big.any() else 0.1
    )
    return class_mean[c_of_d][drug], within, tau2


def _scan(t, y, drug, params: BurstParams, prior_mean, sigma2, tau2) -> _Windows:
    """Count and shift statistics of every window starting at each (drug-sorted) rating."""
    n = t.size
    first = np.r_[0, np.flatnonzero(np.diff(drug)) + 1]
    bounds = np.r_[first, n]
    n_d = np.diff(bounds)
    grp = np.repeat(np.arange(first.size), n_d)
    total = np.bincount(grp, y)[grp]
    count = n_d[grp]
    span = (t.max() - t[first])[grp]  # the drug's observed history
    cs = np.r_[0.0, np.cumsum(y)]
    # One sorted key per (drug, time), with gaps between drugs wider than any window.
    gap = (t.max() - t.min()) + 2 * max(params.windows_days) * DAY + 1.0
    key = grp * gap + (t - t.min())
    # Ratings that push away from the drug's median (robust to the burst itself).
    by_value = np.lexsort((y, grp))
    median = y[by_value][first + (n_d - 1) // 2][grp]
    pushes = {+1: y >= median + params.min_push, -1: y <= median - params.min_push}
    push_cs = {d: np.r_[0, np.cumsum(v)] for d, v in pushes.items()}
    parts: list[tuple[np.ndarray, ...]] = []
    idx = np.arange(n)
    for w in params.windows_days:
        stop = np.searchsorted(key, key + w * DAY, side="left")
        k = stop - idx
        out = count - k
        rate = out / np.maximum(span - w * DAY, w * DAY)
        expected = np.maximum(rate * w * DAY, 1e-3)
        log_p = stats.poisson.logsf(k - 1, expected)
        mean_w = (cs[stop] - cs[idx]) / k
        post_prec = out / sigma2 + 1.0 / tau2
        post_mean = ((total - (cs[stop] - cs[idx])) / sigma2 + prior_mean / tau2) / post_prec
        shift = mean_w - post_mean
        z = shift / np.sqrt(sigma2 / k + 1.0 / post_prec)
        share = {}
        for d, c in push_cs.items():
            inside = c[stop] - c[idx]
            p_out = (c[bounds[1:]][grp] - c[first][grp] - inside + 1.0) / (out + 2.0)
            share[d] = stats.binom.logsf(inside - 1, k, p_out)
        share_sign = np.where(share[1] <= share[-1], 1, -1)
        log_share = np.minimum(share[1], share[-1])
        parts.append(
            (idx, stop, np.full(n, w), shift, z, log_p, expected, post_mean, log_share, share_sign)
        )
    return _Windows(*(np.concatenate(c) for c in zip(*parts, strict=True)))


def detect(table: RatingTable, params: BurstParams = BurstParams()) -> list[Suspicion]:
    """Find rating bursts for one drug that shift its score; flag their new or thin raters.

    Parameters
    ----------
    table : RatingTable
    params : BurstParams

    Returns
    -------
    list of Suspicion
        One per burst, with the flagged ratings and their accounts; ``score`` is the shift's
        z-statistic.
    """
    y_all = rating_means(table)
    rows = np.flatnonzero(~np.isnan(y_all))
    if rows.size == 0:
        return []
    order = rows[np.lexsort((table.created[rows], table.drug[rows]))]
    t, y = table.created[order], y_all[order]
    _, drug = codes(table.drug[order])
    _, cls = codes(table.drug_class[order])
    prior_mean, sigma2, tau2 = _honest_prior(y, drug, cls)
    win = _scan(t, y, drug, params, prior_mean, sigma2, tau2)
    k = win.stop - win.start
    by_shift = (np.abs(win.shift) >= params.min_shift) & (np.abs(win.z) >= params.min_z)
    by_share = win.log_share <= np.log(params.share_alpha)
    hit = (
        (win.log_p <= np.log(params.count_alpha)) & (k >= params.min_count) & (by_shift | by_share)
    )
    # One strength scale for both routes: the shift's |z|, or the normal quantile of the share
    # test's tail probability.
    strength = np.where(by_shift, np.abs(win.z), 0.0)
    strength = np.maximum(
        strength, np.where(by_share, stats.norm.isf(np.exp(np.maximum(win.log_share, -700.0))), 0)
    )
    direction = np.where(by_shift, np.sign(win.shift), win.share_sign)
    cand = np.flatnonzero(hit)
    if cand.size == 0:
        return []
    new = (table.created - table.physician_joined) <= params.new_account_days * DAY
    thin = counts_per_row(table.physician) <= params.thin_history
    weak = (new | thin)[order]
    out: list[Suspicion] = []
    cand_drug = drug[win.start[cand]]
    for d in np.unique(cand_drug):
        mine = cand[cand_drug == d]
        mine = mine[np.argsort(-strength[mine])]
        taken = np.zeros(0, dtype=np.int64)
        for _ in range(params.max_bursts_per_drug):
            free = mine[~np.isin(mine, taken)]
            if free.size == 0:
                break
            best = free[0]
            sign = direction[best]
            # Merge the same-direction windows overlapping the best one: a campaign spread over
            # three weeks lights up several overlapping windows.
            same = free[
                (direction[free] == sign)
                & (win.start[free] < win.stop[best])
                & (win.stop[free] > win.start[best])
            ]
            lo, hi = win.start[same].min(), win.stop[same].max()
            taken = np.concatenate(
                [taken, same, free[(win.start[free] < hi) & (win.stop[free] > lo)]]
            )
            inside = np.arange(lo, hi)
            ref = win.ref[best]
            push = sign * (y[inside] - ref) >= params.min_push
            flag = inside[push & weak[inside]]
            if flag.size == 0:
                continue
            span = (hi - lo, t[lo], t[hi - 1], float(y[inside].mean()))
            out.append(_suspicion(table, order[flag], win, best, sign, float(strength[best]), span))
    return out


def _suspicion(table, flagged, win: _Windows, best, sign, strength, span) -> Suspicion:
    drug = int(table.drug[flagged[0]])
    direction = "up" if sign > 0 else "down"
    n_in, t0, t1, mean_in = span
    reason = (
        f"Burst of {n_in} ratings for drug {drug} over {(t1 - t0) / DAY:.1f} days (a "
        f"{win.days[best]:g}-day window held {win.stop[best] - win.start[best]} against "
        f"{win.expected[best]:.1f} expected, p={np.exp(win.log_p[best]):.1e}); mean "
        f"{mean_in:.2f} against {win.ref[best]:.2f} otherwise (z={win.z[best]:.1f}; share of "
        f"ratings pushing {direction}: p={np.exp(win.log_share[best]):.1e}). {flagged.size} "
        f"ratings pushing {direction} come from new or thin accounts."
    )
    return Suspicion(NAME, table.rating_id[flagged], table.physician[flagged], strength, reason)
