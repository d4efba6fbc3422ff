"""Turn a cell's noisy running totals into published scores, intervals and counts."""

from __future__ import annotations

import math

import numpy as np

from drugratings.portal.privacy.adjustment import CENTRE
from drugratings.portal.privacy.policy import PrivacyPolicy
from drugratings.ratings.dimensions import DIMENSION_NAMES

Z95 = 1.959963984540054


def published_values(noisy: np.ndarray, n_nodes: int, policy: PrivacyPolicy) -> dict:
    """Per dimension: score (1-5), 95% interval and the noisy number of physicians.

    Post-processing keeps the published counts consistent with the k rule: a dimension whose
    noisy count is under k is left out (shown as suppressed), never published as "n = 7". So is
    a dimension whose interval spans the whole 1-5 scale (it carries no information) and one
    whose noisy mean falls on or beyond an end of the scale: clipped to 1.00 or 5.00, it would
    read as a real figure when it is mostly noise.

    score = 3 + S/N from the noisy sum S and count N. The interval adds three variances by the
    delta method: sampling (within-cell SD^2 / N), the sum's noise (nodes * sigma_s^2 / N^2) and
    the count's noise ((S/N)^2 * nodes * sigma_c^2 / N^2).
    """
    out = {}
    for d, name in enumerate(DIMENSION_NAMES):
        count, total = float(noisy[d]), float(noisy[5 + d])
        n = max(count, 1.0)
        ratio = total / n
        score = min(5.0, max(1.0, CENTRE + ratio))
        variance = (
            policy.within_cell_sd**2 / n
            + n_nodes * policy.sum_noise**2 / n**2
            + ratio**2 * n_nodes * policy.count_noise**2 / n**2
        )
        half = Z95 * math.sqrt(variance)
        shown_count = math.floor(count + 0.5)
        low, high = round(max(1.0, score - half), 3), round(min(5.0, score + half), 3)
        at_an_end = not 1.0 < round(CENTRE + ratio, 3) < 5.0  # as published, to 3 places
        if shown_count < policy.min_raters or at_an_end or (low <= 1.0 and high >= 5.0):
            continue
        out[name] = {
            "score": round(score, 3),
            "ci_low": low,
            "ci_high": high,
            "n_raters": shown_count,
        }
    return out
