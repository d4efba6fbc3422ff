"""The differentially private route for rater-adjusted scores.

A physician's leniency is estimated from their own ratings only, against the previous
release's published (already noisy, public) scores of the same drug and indication:

    b_p = sum_j (y_pj - m_j) / (n_p + lambda)

Their ratings enter pharma cells as y - b_p, centred on 3 and clipped to [-2, 2]. Because b_p
uses nothing but the physician's own data and public values, removing a physician changes only
their own contributions, so the sensitivity analysis of plain means holds unchanged. Specialty
severity is absorbed the same way: a severe specialty's members each get a negative b_p.
"""

from __future__ import annotations

import numpy as np

CENTRE = 3.0
CLIP = 2.0


def leniency(own: np.ndarray, public: np.ndarray, shrinkage: float) -> np.ndarray:
    """Per-dimension leniency of one physician: `own` and `public` are (n, 5) arrays with NaN
    where the physician gave no score or no public score exists."""
    diff = own - public
    usable = ~np.isnan(diff)
    n = usable.sum(axis=0)
    total = np.where(usable, diff, 0.0).sum(axis=0)
    return total / (n + shrinkage)


def adjusted_values(raw: np.ndarray, lenience: np.ndarray) -> np.ndarray:
    """Centred, clipped, leniency-adjusted values; NaN stays NaN (no opinion)."""
    return np.clip(raw - lenience - CENTRE, -CLIP, CLIP)
