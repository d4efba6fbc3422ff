"""Accounts created together that rate alike.

**Cohorts** are sets of accounts that were plausibly created by one hand:

* ``device``: accounts signed up from one device fingerprint;
* ``network``: accounts signed up from one network block, split into sign-up waves (accounts
  joined less than ``wave_gap_days`` after the previous one stay in the wave), so that a
  hospital's doctors who joined over the years are not one cohort;
* ``spike``: every account that joined in a ``spike_hours`` window in which sign-ups exceed the
  local rate (the 60 days around it) with a Poisson upper tail below ``spike_alpha``, whatever
  its network or device.

Only cohorts with at least ``min_cohort`` accounts are examined.

**Rating alike.**  For every cohort and drug that at least ``min_cell`` of its members rated,
the members' mean scores are compared with the drug's other raters: for each candidate value
``v`` (each member's own score), ``k`` members lie within ``tol`` of ``v`` while a fraction
``q`` of the other raters do; the binomial upper tail ``P(K >= k | m, q)``, Bonferroni-corrected
for the number of candidate values, must be below ``alpha``.  Because ``q`` is the drug's own
background agreement, a cohort of doctors who agree about a drug everyone agrees about is not
suspicious.  The cell is flagged only if, in addition, ``k >= min_agree``, the excess agreement
``k / m - q`` is at least ``min_excess`` and ``v`` is at least ``min_shift`` points from the
other raters' mean (agreeing on the consensus moves no score).  The flagged ratings are the
members' ratings within ``tol`` of ``v``; one suspicion gathers every flagged cell of a drug.

The idea follows lockstep and group-spam detection (Beutel et al. 2013, *WWW*, "CopyCatch:
stopping group attacks by spotting lockstep behavior in social networks"; Mukherjee et al.
2012, *WWW*, group spam with "group content similarity" and "group early time frame"), with the
group proposed from sign-up metadata instead of mined from the ratings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ._common import DAY, codes, rating_means
from .table import RatingTable, Suspicion

__all__ = ["CohortParams", "detect"]

NAME = "cohorts"


@dataclass(frozen=True)
class CohortParams:
    """Parameters of :func:`detect`; the defaults are calibrated in DETECTORS.md."""

    wave_gap_days: float = 3.0
    spike_hours: float = 24.0
    spike_alpha: float = 1e-6
    min_cohort: int = 4
    min_cell: int = 5
    tol: float = 0.25
    alpha: float = 1e-7
    min_agree: int = 5
    min_excess: float = 0.4
    min_shift: float = 0.5


@dataclass(frozen=True)
class _Accounts:
    """One entry per physician (from the first of their rows)."""

    ids: np.ndarray
    joined: np.ndarray
    network: np.ndarray
    device: np.ndarray


def _accounts(table: RatingTable) -> tuple[_Accounts, np.ndarray]:
    ids, first, phys = np.unique(table.physician, return_index=True, return_inverse=True)
    acc = _Accounts(
        ids,
        table.physician_joined[first],
        table.physician_network[first],
        table.physician_device[first],
    )
    return acc, phys.ravel()


def _waves(key: np.ndarray, joined: np.ndarray, gap: float) -> np.ndarray:
    """Split accounts sharing ``key`` into waves separated by more than ``gap`` seconds."""
    order = np.lexsort((joined, key))
    k, t = key[order], joined[order]
    new = np.r_[True, (k[1:] != k[:-1]) | (np.diff(t) > gap)]
    wave = np.empty(key.size, dtype=np.int64)
    wave[order] = np.cumsum(new) - 1
    return np.where(key >= 0, wave, -1)


def _spikes(joined: np.ndarray, params: CohortParams) -> np.ndarray:
    """Spike-window code of each account (-1 outside every sign-up spike)."""
    order = np.argsort(joined)
    t = joined[order]
    w = params.spike_hours * 3600.0
    k = np.searchsorted(t, t + w) - np.arange(t.size)
    around = np.searchsorted(t, t + 30 * DAY) - np.searchsorted(t, t - 30 * DAY)
    expected = np.maximum((around - k) / (60 * DAY - w) * w, 0.5)
    hot = stats.poisson.logsf(k - 1, expected) <= np.log(params.spike_alpha)
    code = np.full(t.size, -1, dtype=np.int64)
    stop = np.searchsorted(t, t + w)
    n_spikes = 0
    i = 0
    for s in np.flatnonzero(hot):
        if s < i:  # overlapping spike windows merge into one
            code[s : stop[s]] = n_spikes - 1
            i = max(i, stop[s])
            continue
        code[s : stop[s]] = n_spikes
        n_spikes += 1
        i = stop[s]
    out = np.empty_like(code)
    out[order] = code
    return out


def _cohorts(acc: _Accounts, params: CohortParams) -> list[tuple[str, np.ndarray]]:
    """(kind, cohort code per account, -1 when none) for each kind of cohort."""
    _, device = codes(acc.device)  # compact codes, so that bincount stays small
    return [
        ("device", np.where(acc.device >= 0, device, -1)),
        ("network", _waves(acc.network, acc.joined, params.wave_gap_days * DAY)),
        ("spike", _spikes(acc.joined, params)),
    ]


def _drug_background(y: np.ndarray, drug: np.ndarray):
    """Per drug, its ratings' scores sorted (for counting scores near a value)."""
    order = np.lexsort((y, drug))
    start = np.searchsorted(drug[order], np.arange(drug.max() + 2))
    return y[order], start


def _count_near(sorted_y, start, d, v, tol):
    lo, hi = start[d], start[d + 1]
    seg = sorted_y[lo:hi]
    return np.searchsorted(seg, v + tol + 1e-9) - np.searchsorted(seg, v - tol - 1e-9)


def _test_cell(y_cell, d, sorted_y, start, drug_sum, drug_n, params: CohortParams):
    """Best agreement value of one cohort-drug cell: (value, p, k, q, members agreeing)."""
    m = y_cell.size
    values = np.unique(y_cell)
    k = (np.abs(y_cell[None, :] - values[:, None]) <= params.tol + 1e-9).sum(axis=1)
    others = drug_n[d] - m
    if others < params.min_cell:
        return None
    q = (_count_near(sorted_y, start, d, values, params.tol) - k) / others
    q = np.clip(q, 1.0 / (others + 1), 1.0)
    log_p = stats.binom.logsf(k - 1, m, q) + np.log(values.size)
    best = int(np.argmin(log_p))
    other_mean = (drug_sum[d] - y_cell.sum()) / others
    ok = (
        log_p[best] <= np.log(params.alpha)
        and k[best] >= params.min_agree
        and k[best] / m - q[best] >= params.min_excess
        and abs(values[best] - other_mean) >= params.min_shift
    )
    if not ok:
        return None
    agree = np.abs(y_cell - values[best]) <= params.tol + 1e-9
    return values[best], float(np.exp(log_p[best])), int(k[best]), float(q[best]), agree, other_mean


def detect(table: RatingTable, params: CohortParams = CohortParams()) -> list[Suspicion]:
    """Find cohorts of accounts created together whose ratings of a drug agree unusually.

    Parameters
    ----------
    table : RatingTable
    params : CohortParams

    Returns
    -------
    list of Suspicion
        One per drug with flagged cells; ``score`` is ``-log10`` of the smallest cell p-value.
    """
    y_rows = rating_means(table)
    ok_rows = np.flatnonzero(~np.isnan(y_rows))
    if ok_rows.size == 0:
        return []
    acc, phys_rows = _accounts(table)
    drug_ids, drug_rows = codes(table.drug)
    # One unit per (physician, drug): ratings of one drug for several indications are one
    # opinion, and must not count as two agreeing members.
    keys, unit_of_ok = np.unique(
        phys_rows[ok_rows] * drug_ids.size + drug_rows[ok_rows], return_inverse=True
    )
    unit_of_ok = unit_of_ok.ravel()
    y = np.bincount(unit_of_ok, y_rows[ok_rows]) / np.bincount(unit_of_ok)
    phys, drug = keys // drug_ids.size, keys % drug_ids.size
    sorted_y, start = _drug_background(y, drug)
    drug_sum = np.bincount(drug, y, minlength=drug_ids.size)
    drug_n = np.bincount(drug, minlength=drug_ids.size)
    found: dict[int, list] = {}
    for kind, cohort in _cohorts(acc, params):
        size = np.bincount(cohort[cohort >= 0])
        member = cohort >= 0
        member[member] = size[cohort[member]] >= params.min_cohort
        units = np.flatnonzero(member[phys])
        if units.size == 0:
            continue
        cell_key = cohort[phys[units]] * drug_ids.size + drug[units]
        cells, inv, counts = np.unique(cell_key, return_inverse=True, return_counts=True)
        order = np.argsort(inv, kind="stable")
        bounds = np.r_[0, np.cumsum(counts)]
        for c in np.flatnonzero(counts >= params.min_cell):
            cell = units[order[bounds[c] : bounds[c + 1]]]
            d = int(cells[c] % drug_ids.size)
            res = _test_cell(y[cell], d, sorted_y, start, drug_sum, drug_n, params)
            if res is not None:
                value, p, k, q, agree, other_mean = res
                rows = ok_rows[np.isin(unit_of_ok, cell[agree])]
                cohort_id = int(cells[c] // drug_ids.size)
                found.setdefault(d, []).append(
                    (kind, cohort_id, rows, value, p, k, cell.size, q, other_mean)
                )
    return [_suspicion(table, drug_ids[d], cells) for d, cells in found.items()]


def _suspicion(table: RatingTable, drug_id, cells) -> Suspicion:
    rows = np.unique(np.concatenate([c[2] for c in cells]))
    parts = [
        f"{kind} cohort {cid}: {k} of {m} members rated {value:.2f} (other raters' mean "
        f"{mean:.2f}, {100 * q:.0f}% of them within the same band; p={p:.1e})"
        for kind, cid, _, value, p, k, m, q, mean in cells
    ]
    best = min(c[4] for c in cells)
    reason = (
        f"Accounts created together rate drug {drug_id} alike: "
        + "; ".join(parts)
        + f". {rows.size} ratings flagged."
    )
    return Suspicion(
        NAME, table.rating_id[rows], table.physician[rows], -np.log10(max(best, 1e-300)), reason
    )
