"""Raters who deviate systematically from consensus for one manufacturer.

Every rating's residual is its score minus the other raters' mean for the same drug (per
dimension, leave-one-out, shrunk towards the class mean; :func:`._common.loo_residuals`).  For a
rater ``i`` and manufacturer ``m`` the statistic is

    d[i, m] = mean residual on m's drugs - the rater's offset on every other manufacturer,

counting each (physician, drug) once (ratings of one drug for several indications are averaged
into one opinion), so a habitually lenient or harsh rater (a tenth of honest raters are +/-0.9
points away from the rest) is compared with themself, not with the crowd.  The offset is
shrunk towards zero with ``offset_prior`` pseudo-ratings and the drug means towards their class
with ``drug_prior``, so thin histories cannot produce large statistics; the z-score's standard
error uses a robust (MAD) residual scale and the uncertainty of the offset.  Two rules flag a
rater-manufacturer pair with at least ``min_ratings`` of the manufacturer's drugs rated:

* **a lone deviator**: ``|z| >= min_z`` and ``|d| >= min_effect`` points;
* **a group**: some pair of the manufacturer's drugs is pushed the same way by significantly
  many of the same raters (a rating pushes when its residual minus the rater's offset is at
  least ``pair_push`` points; at least ``min_codeviation`` raters push both drugs, with a
  Poisson upper tail below ``pair_alpha`` against ``n_jk * q_j * q_k``; see :func:`_groups`),
  and the rater passes the re-test below.  A bashing or boosting group is a cluster of
  moderately deviant raters on a few drugs of one manufacturer, which no single rater's two or
  three ratings can prove; the scan spends the multiple-testing budget once per drug pair
  instead of once per rater.  The group's drug set then grows with the manufacturer's drugs
  that its raters also push (:func:`_expand`, Poisson tail below ``expand_alpha``).

Empirical-Bayes shrinkage of ``d`` itself (Efron & Morris 1975) is deliberately not used: the
estimated spread of true rater-by-manufacturer effects is near zero because honest raters are
the overwhelming majority, so posterior means shrink every attacker to zero as well.

For a group, each rater of the manufacturer is re-tested on the drugs the group pushes (the
drugs of its significant pairs and their expansion), counting only ratings that point the
group's way by ``min_push``, with the laxer ``group_z`` and ``group_effect``: an attacker's
honest ratings of the manufacturer's other drugs then no longer dilute the statistic.  A
flagged rater's flagged ratings are those of the manufacturer's drugs (the pushed drugs, for a
group) whose residual minus the offset points the same way by at least ``min_push`` points.

The construction follows the rater-bias literature for reviews (Mukherjee et al. 2012, *WWW*,
"Spotting fake reviewer groups in consumer reviews"; Lim et al. 2010, *CIKM*, "Detecting
product review spammers using rating behaviors", whose "rating deviation" feature this takes to
the manufacturer level, where competitor-bashing and self-promotion hide).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse, stats

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
    pair_push: float = 1.0
    min_codeviation: int = 4
    pair_alpha: float = 1e-6
    expand_alpha: float = 1e-4
    group_z: float = 2.5
    group_effect: float = 1.2
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
    """Drugs of one manufacturer that the same raters push the same way, and the evidence."""

    manu: int
    sign: int
    count: int  # raters pushing two or more of the drugs together
    expected: float  # co-deviations expected for the most significant drug pair
    p: float  # its Poisson upper tail
    drugs: np.ndarray  # drug codes in significant pairs


def _groups(pairs: _Pairs, resid, phys, drug, manu, params: ManufacturerBiasParams):
    """Drug pairs of one manufacturer that many raters push the same way together.

    A rating "pushes" when its residual minus the rater's offset is at least ``pair_push``
    points in one direction.  For drugs ``j`` and ``k`` of one manufacturer, the number of
    raters pushing both is compared with ``n_jk * q_j * q_k`` (``n_jk`` raters rated both,
    ``q`` is each drug's share of pushing ratings) by a Poisson upper tail.  This is a frequent
    itemset view of group spam (Mukherjee et al. 2012) restricted to pairs, and it looks where
    a group acts: a manufacturer-wide count drowns a 25-rater group among the thousands of
    raters of a company that makes a large share of the catalogue.
    """
    rows = np.flatnonzero((pairs.row_pair >= 0) & ~np.isnan(resid))
    if rows.size == 0:
        return []
    n_phys, n_drug = phys.max() + 1, drug.max() + 1
    away = resid[rows] - pairs.offset[pairs.row_pair[rows]]
    rated = sparse.csr_matrix((np.ones(rows.size), (phys[rows], drug[rows])), (n_phys, n_drug))
    rated.data[:] = 1.0  # several indications of one drug count once
    n_rated = np.asarray(rated.sum(axis=0)).ravel()
    drug_manu = np.full(n_drug, -1)
    drug_manu[drug[rows]] = manu[rows]
    found = []
    for sign in (1, -1):
        dev = rows[sign * away >= params.pair_push]
        d_mat = sparse.csr_matrix((np.ones(dev.size), (phys[dev], drug[dev])), (n_phys, n_drug))
        d_mat.data[:] = 1.0
        q = np.asarray(d_mat.sum(axis=0)).ravel() / np.maximum(n_rated, 1)
        co = sparse.triu(d_mat.T @ d_mat, k=1).tocoo()
        keep = (co.data >= params.min_codeviation) & (drug_manu[co.row] == drug_manu[co.col])
        j, k, x = co.row[keep], co.col[keep], co.data[keep]
        if x.size == 0:
            continue
        both = np.asarray(rated[:, j].multiply(rated[:, k]).sum(axis=0)).ravel()
        expected = np.maximum(both * q[j] * q[k], 1e-9)
        log_p = stats.poisson.logsf(x - 1, expected)
        hit = log_p <= np.log(params.pair_alpha)
        for m in np.unique(drug_manu[j[hit]]):
            mine = hit & (drug_manu[j] == m)
            drugs = np.unique(np.concatenate([j[mine], k[mine]]))
            drugs = _expand(drugs, rated, d_mat, q, drug_manu == m, params)
            pushers = np.unique(phys[dev][np.isin(drug[dev], drugs)])
            together = np.asarray(d_mat[pushers][:, drugs].sum(axis=1)).ravel() >= 2
            best = np.argmin(np.where(mine, log_p, np.inf))
            found.append(
                _Group(
                    int(m),
                    sign,
                    int(together.sum()),
                    float(expected[best]),
                    float(np.exp(log_p[best])),
                    drugs,
                )
            )
    return found


def _expand(drugs, rated, d_mat, q, same_manu, params: ManufacturerBiasParams) -> np.ndarray:
    """Grow a group's drug set with the manufacturer's drugs its pushers also push.

    A drug joins when the raters pushing any drug of the set push it more often than the
    drug's own rate predicts among the set's raters (Poisson tail below ``expand_alpha``); a
    group that spreads over four drugs rarely makes every pair significant on its own.
    """
    while True:
        in_set = np.asarray(rated[:, drugs].sum(axis=1)).ravel() > 0
        push_set = np.asarray(d_mat[:, drugs].sum(axis=1)).ravel() > 0
        q_set = push_set.sum() / max(1, in_set.sum())
        x = np.asarray(d_mat.T @ push_set.astype(float)).ravel()
        n = np.asarray(rated.T @ in_set.astype(float)).ravel()
        log_p = stats.poisson.logsf(x - 1, np.maximum(n * q * q_set, 1e-9))
        new = same_manu & (x >= params.min_codeviation) & (log_p <= np.log(params.expand_alpha))
        new[drugs] = False
        if not new.any():
            return drugs
        drugs = np.union1d(drugs, np.flatnonzero(new))


def _units(table: RatingTable, resid: np.ndarray):
    """Collapse ratings to one unit per (physician, drug).

    A physician may rate one drug for several indications; those ratings are one opinion of
    the drug and would otherwise count as independent evidence (two indications of one drug
    would meet ``min_ratings`` on their own).  Returns the id arrays, each row's unit and the
    unit-level ``(residual, physician, drug, manufacturer, known)`` arrays (codes).
    """
    phys_ids, phys = codes(table.physician)
    drug_ids, drug = codes(table.drug)
    known_row = table.manufacturer >= 0
    manu_ids, manu = codes(np.where(known_row, table.manufacturer, -1))
    keys, first, unit_of_row = np.unique(
        phys * drug_ids.size + drug, return_index=True, return_inverse=True
    )
    unit_of_row = unit_of_row.ravel()
    ok = ~np.isnan(resid)
    n = np.bincount(unit_of_row[ok], minlength=keys.size)
    total = np.bincount(unit_of_row[ok], resid[ok], minlength=keys.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        unit_resid = np.where(n > 0, total / np.maximum(n, 1), np.nan)
    units = (unit_resid, keys // drug_ids.size, keys % drug_ids.size, manu[first], known_row[first])
    return phys_ids, drug_ids, manu_ids, unit_of_row, units


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
    if not (table.manufacturer >= 0).any():
        return []
    phys_ids, drug_ids, manu_ids, unit_of_row, (resid, phys, drug, manu, known) = _units(
        table, loo_residuals(table, params.drug_prior)
    )
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
    for g in _groups(pairs, resid, phys, drug, manu, params):
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
    for p, (units, s_, effect, z, n, g) in hits.items():
        units = units[s_ * (resid[units] - pairs.offset[p]) >= params.min_push]
        rows = np.flatnonzero(np.isin(unit_of_row, units))
        if rows.size == 0:
            continue
        word = "above" if s_ > 0 else "below"
        reason = (
            f"Rater {phys_ids[pairs.rater[p]]} scores manufacturer {manu_ids[pairs.manu[p]]}'s "
            f"drugs {abs(effect):.2f} points {word} the other raters of the same drugs (own "
            f"habit removed; {int(n)} drugs rated, z={z:.1f}); {rows.size} ratings flagged."
        )
        if g is not None:
            reason += (
                f" One of a group: {g.count} raters push two or more of this manufacturer's "
                f"drugs {', '.join(str(d) for d in drug_ids[g.drugs])}"
                f" the same way (most significant pair: p={g.p:.1e} against "
                f"{g.expected:.2f} co-deviations expected)."
            )
        out.append(
            Suspicion(NAME, table.rating_id[rows], table.physician[rows], abs(float(z)), reason)
        )
    return out
