"""Small vectorised helpers shared by the detectors (no Django, numpy only)."""

from __future__ import annotations

import numpy as np

from .table import RatingTable

DAY = 86_400.0


def rating_means(table: RatingTable) -> np.ndarray:
    """Mean of the answered dimensions of each rating (NaN when none is answered)."""
    s = table.scores
    answered = ~np.isnan(s)
    n = answered.sum(axis=1)
    total = np.where(answered, s, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, total / np.maximum(n, 1), np.nan)


def codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(unique_values, inverse)`` so that per-group sums are ``np.bincount(inverse, w)``."""
    uniq, inv = np.unique(values, return_inverse=True)
    return uniq, inv.ravel()


def counts_per_row(values: np.ndarray) -> np.ndarray:
    """How many rows share each row's value (e.g. a physician's number of ratings)."""
    _, inv, cnt = np.unique(values, return_inverse=True, return_counts=True)
    return cnt[inv.ravel()]


def loo_residuals(table: RatingTable, prior_weight: float = 3.0) -> np.ndarray:
    """Each rating minus the other raters' mean for the same drug, averaged over dimensions.

    The drug mean is computed per dimension, leaving the rating itself out (so a rating cannot
    pull its own reference), and shrunk towards the drug class's mean with ``prior_weight``
    pseudo-ratings so that drugs with a handful of ratings do not produce huge residuals.
    Dimensions the rater left blank are skipped.

    Returns
    -------
    ndarray of float64, shape (n,)
        NaN where the rating has no answered dimension.
    """
    s = table.scores
    answered = ~np.isnan(s)
    filled = np.where(answered, s, 0.0)
    _, drug = codes(table.drug)
    cls_key = np.where(table.drug_class >= 0, table.drug_class, -1)
    _, cls = codes(cls_key)
    resid_sum = np.zeros(len(table))
    resid_n = np.zeros(len(table))
    for d in range(s.shape[1]):
        a, x = answered[:, d], filled[:, d]
        global_mean = x[a].mean() if a.any() else 3.0
        c_sum = np.bincount(cls, x, minlength=cls.max() + 1)
        c_n = np.bincount(cls, a, minlength=cls.max() + 1)
        class_mean = (c_sum + prior_weight * global_mean) / (c_n + prior_weight)
        d_sum = np.bincount(drug, x)[drug] - x
        d_n = np.bincount(drug, a)[drug] - a
        ref = (d_sum + prior_weight * class_mean[cls]) / (d_n + prior_weight)
        resid_sum += np.where(a, x - ref, 0.0)
        resid_n += a
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(resid_n > 0, resid_sum / np.maximum(resid_n, 1), np.nan)


def extreme_direction(table: RatingTable, high_at: float = 5.0, low_at: float = 2.0) -> np.ndarray:
    """+1 when every answered dimension is >= ``high_at``, -1 when every one is <= ``low_at``.

    The defaults (top box vs the bottom two boxes) are symmetric around the typical honest mean
    of about 3.5 on the latent scale, so honest raters hit either extreme about equally rarely.
    """
    s = table.scores
    answered = ~np.isnan(s)
    any_answered = answered.any(axis=1)
    high = np.where(answered, s >= high_at, True).all(axis=1) & any_answered
    low = np.where(answered, s <= low_at, True).all(axis=1) & any_answered
    return high.astype(np.int64) - low.astype(np.int64)
