"""Raters who deviate systematically from consensus for one manufacturer.

Every rating's residual is its score minus the other raters' mean for the same drug (per
dimension, leave-one-out, shrunk towards the class mean; :func:`._common.loo_residuals`).  For a
rater ``i`` and manufacturer ``m`` the statistic is

    d[i, m] = mean residual on m's drugs - the rater's offset on every other manufacturer,

so a habitually lenient or harsh rater (a tenth of honest raters are +/-0.9 points away from
the rest) is compared with themself, not with the crowd.  The offset is shrunk towards zero with
``offset_prior`` pseudo-ratings and the drug means towards their class with ``drug_prior``, so
thin histories cannot produce large statistics; the z-score's standard error uses a robust
(MAD) residual scale and the uncertainty of the offset.  Two rules flag a pair with at least
``min_ratings`` ratings of the manufacturer's drugs and an effect of at least ``min_effect``
points:

* **a lone deviator**: ``|z| >= min_z``;
* **a group**: the manufacturer has significantly many pairs with ``|z| >= seed_z`` in one
  direction (Poisson upper tail below ``group_alpha`` against the rate over all manufacturers
  in that direction), and the pair passes the re-test below.  A bashing or boosting group is a
  cluster of moderately deviant raters on one manufacturer, which no single rater's two or
  three ratings can prove; the group test spends the multiple-testing budget once per
  manufacturer instead of once per rater (a scan over manufacturers, Kulldorff 1997).

Empirical-Bayes shrinkage of ``d`` itself (Efron & Morris 1975) is deliberately not used: the
estimated spread of true rater-by-manufacturer effects is near zero because honest raters are
the overwhelming majority, so posterior means shrink every attacker to zero as well.

For a group, each rater of the manufacturer is re-tested on the drugs the group pushes (those
with two or more deviant ratings from its seed raters), counting only ratings that point the
group's way by ``min_push``, with the laxer ``group_z`` and ``group_effect``: an attacker's
honest ratings of the manufacturer's other drugs then no longer dilute the statistic.  A flagged
pair's flagged ratings are those of the manufacturer's drugs (the pushed drugs, for a group)
whose residual minus the offset points the same way by at least ``min_push`` points.

The construction follows the rater-bias literature for reviews (Mukherjee et al. 2012, *WWW*,
"Spotting fake reviewer groups in consumer reviews"; Lim et al. 2010, *CIKM*, "Detecting
product review spammers using rating behaviors", whose "rating deviation" feature this takes to
the manufacturer level, where competitor-bashing and self-promotion hide).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ._common import codes, loo_residuals
from .table import RatingTable, Suspicion

__all__ = ["ManufacturerBiasParams", "detect"]

NAME = "manufacturer_bias"


@dataclass(frozen=True)
class ManufacturerBiasParams:
    """Parameters of :func:`detect`; the defaults are calibrated in DETECTORS.md."""

    min_ratings: int = 2
    min_z: float = 4.5
    min_effect: float = 1.0
    seed_z: float = 3.0
    group_alpha: float = 1e-6
    group_z: float = 2.5
    group_effect: float = 0.8
    min_push: float = 0.5
    offset_prior: float = 5.0
    drug_prior: float = 3.0


@dataclass(frozen=True)
class _Pairs:
    """Rater-by-manufacturer statistics (one entry per pair with a rating)."""

    rater: np.ndarray  # index into the unique physicians
    manu: np.ndarray  # index into the unique manufacturers
    n: np.ndarray
    offset: np.ndarray  # the rater's offset on every other manufacturer
    offset_var: np.ndarray  # its sampling variance
    effect: np.ndarray
    z: np.ndarray
    row_pair: np.ndarray  # per table row, its pair (-1 when not aggregated)
    sigma: float  # robust residual scale of one rating


def _pairs(resid, phys, manu, known, params: ManufacturerBiasParams) -> _Pairs:
    n_phys, n_manu = phys.max() + 1, manu.max() + 1
    ok = ~np.isnan(resid)
    r = np.where(ok, resid, 0.0)
    tot_sum = np.bincount(phys, r, minlength=n_phys)
    tot_n = np.bincount(phys, ok, minlength=n_phys)
    use = ok & known
    pair_keys, pair_idx = np.unique((phys * n_manu + manu)[use], return_inverse=True)
    row_pair = np.full(resid.size, -1)
    row_pair[use] = pair_idx
    pair_sum = np.bincount(pair_idx, r[use])
    pair_n = np.bincount(pair_idx, minlength=pair_keys.size).astype(float)
    rater, m = pair_keys // n_manu, pair_keys % n_manu
    other_n = tot_n[rater] - pair_n
    offset = (tot_sum[rater] - pair_sum) / (other_n + params.offset_prior)
    effect = pair_sum / pair_n - offset
    # Robust residual scale after each rater's own offset: honest residuals are heavy-tailed
    # (specialty and hospital effects by class), so a MAD keeps a few outliers from widening it.
    centred = r[ok] - (tot_sum / (tot_n + params.offset_prior))[phys[ok]]
    sigma = 1.4826 * float(np.median(np.abs(centred - np.median(centred))))
    offset_var = sigma**2 / (other_n + params.offset_prior)
    z = effect / np.sqrt(sigma**2 / pair_n + offset_var)
    return _Pairs(rater, m, pair_n, offset, offset_var, effect, z, row_pair, sigma)


def _restricted(pairs: _Pairs, resid: np.ndarray, rows: np.ndarray):
    """``(n, effect, z)`` of every pair using only the table rows ``rows``."""
    idx = pairs.row_pair[rows]
    ok = (idx >= 0) & ~np.isnan(resid[rows])
    n = np.bincount(idx[ok], minlength=pairs.n.size).astype(float)
    total = np.bincount(idx[ok], resid[rows][ok], minlength=pairs.n.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        effect = np.where(n > 0, total / np.maximum(n, 1) - pairs.offset, 0.0)
        z = np.where(
            n > 0, effect / np.sqrt(pairs.sigma**2 / np.maximum(n, 1) + pairs.offset_var), 0.0
        )
    return n, effect, z


@dataclass(frozen=True)
class _Group:
    """A manufacturer with significantly many raters deviating one way, and where they push."""

    manu: int
    sign: int
    count: int
    expected: float
    p: float
    drugs: np.ndarray  # drug codes with at least two deviant ratings from those raters


def _groups(pairs: _Pairs, resid, drug, params: ManufacturerBiasParams) -> list[_Group]:
    multi = pairs.n >= params.min_ratings
    n_manu = pairs.manu.max() + 1
    total = np.bincount(pairs.manu[multi], minlength=n_manu)
    found = []
    for sign in (1, -1):
        seeds = multi & (sign * pairs.z >= params.seed_z)
        count = np.bincount(pairs.manu[seeds], minlength=n_manu)
        # Rate over all manufacturers in this direction; one attacked manufacturer barely moves
        # it, and using it rather than a Gaussian tail absorbs the residuals' heavy tails.
        rate = count.sum() / max(1, total.sum())
        log_p = stats.poisson.logsf(count - 1, np.maximum(rate * total, 1e-9))
        for m in np.flatnonzero((log_p <= np.log(params.group_alpha)) & (count >= 3)):
            seed_pairs = np.flatnonzero(seeds & (pairs.manu == m))
            rows = np.flatnonzero(np.isin(pairs.row_pair, seed_pairs))
            rows = rows[
                sign * (resid[rows] - pairs.offset[pairs.row_pair[rows]]) >= params.min_push
            ]
            d, c = np.unique(drug[rows], return_counts=True)
            found.append(
                _Group(
                    int(m),
                    sign,
                    int(count[m]),
                    float(rate * total[m]),
                    float(np.exp(log_p[m])),
                    d[c >= 2],
                )
            )
    return found


def detect(
    table: RatingTable, params: ManufacturerBiasParams = ManufacturerBiasParams()
) -> list[Suspicion]:
    """Flag raters whose ratings of one manufacturer's drugs sit far from consensus.

    Parameters
    ----------
    table : RatingTable
    params : ManufacturerBiasParams

    Returns
    -------
    list of Suspicion
        One per flagged (rater, manufacturer) pair; ``score`` is ``|z|``.
    """
    known = table.manufacturer >= 0
    if not known.any():
        return []
    resid = loo_residuals(table, params.drug_prior)
    phys_ids, phys = codes(table.physician)
    manu_ids, manu = codes(np.where(known, table.manufacturer, -1))
    _, drug = codes(table.drug)
    pairs = _pairs(resid, phys, manu, known, params)
    sign = np.sign(pairs.effect).astype(int)
    # pair -> (rows, effect, z, n, group); lone deviators first, group members may add to them.
    hits: dict[int, tuple] = {}
    lone = (
        (pairs.n >= params.min_ratings)
        & (np.abs(pairs.effect) >= params.min_effect)
        & (np.abs(pairs.z) >= params.min_z)
    )
    lone_rows = np.flatnonzero(np.isin(pairs.row_pair, np.flatnonzero(lone)))
    for p in np.flatnonzero(lone):
        rows = lone_rows[pairs.row_pair[lone_rows] == p]
        hits[int(p)] = (rows, sign[p], pairs.effect[p], pairs.z[p], pairs.n[p], None)
    for g in _groups(pairs, resid, drug, params):
        # Re-test every rater of the manufacturer on the drugs the group pushes: an attacker's
        # honest ratings of the manufacturer's other drugs no longer dilute the statistic, and
        # honest raters rarely rate two of the same few drugs.
        rows = np.flatnonzero((manu == g.manu) & known & np.isin(drug, g.drugs))
        # Only ratings pushing the group's way count: an attacker who had already rated one of
        # the drugs honestly is not diluted by that rating; honest raters rarely have two.
        rows = rows[g.sign * (resid[rows] - pairs.offset[pairs.row_pair[rows]]) >= params.min_push]
        n, effect, z = _restricted(pairs, resid, rows)
        hit = (
            (n >= params.min_ratings)
            & (g.sign * effect >= params.group_effect)
            & (g.sign * z >= params.group_z)
        )
        for p in np.flatnonzero(hit):
            if int(p) not in hits:
                mine = rows[pairs.row_pair[rows] == p]
                hits[int(p)] = (mine, g.sign, effect[p], z[p], n[p], g)
    out: list[Suspicion] = []
    for p, (rows, s_, effect, z, n, g) in hits.items():
        rows = rows[s_ * (resid[rows] - pairs.offset[p]) >= params.min_push]
        if rows.size == 0:
            continue
        word = "above" if s_ > 0 else "below"
        reason = (
            f"Rater {phys_ids[pairs.rater[p]]} scores manufacturer {manu_ids[pairs.manu[p]]}'s "
            f"drugs {abs(effect):.2f} points {word} the other raters of the same drugs (own "
            f"habit removed; {int(n)} ratings, z={z:.1f}); {rows.size} ratings flagged."
        )
        if g is not None:
            reason += (
                f" One of a group: {g.count} raters deviate this way on this manufacturer "
                f"against {g.expected:.1f} expected (p={g.p:.1e}), on drugs "
                f"{', '.join(str(d) for d in np.unique(table.drug[np.isin(drug, g.drugs)]))}."
            )
        out.append(
            Suspicion(NAME, table.rating_id[rows], table.physician[rows], abs(float(z)), reason)
        )
    return out
