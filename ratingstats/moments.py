"""Method-of-moments variance components for very large crossed designs.

Three quadratic forms of the residuals ``r = y - X beta`` with expectations that are linear in
the three variances (Henderson 1953, *Biometrics* 9:226, "Method 1"; in the O(n) form of
Gao & Owen 2017, *Efficient moment calculations for variance components in large unbalanced
crossed random effects models*, Electron. J. Stat. 11:1235).  With ``n_ij`` ratings of item i by
rater j, ``N_i`` ratings of item i, ``N_j`` of rater j, ``R_a``/``R_b`` items/raters with any
rating, and ``n`` ratings in all::

    W_a = sum (r - rbar_item)^2     E = s_b^2 sum_i (N_i - sum_j n_ij^2 / N_i) + s_e^2 (n - R_a)
    W_b = sum (r - rbar_rater)^2    E = s_a^2 sum_j (N_j - sum_i n_ij^2 / N_j) + s_e^2 (n - R_b)
    T   = sum (r - rbar)^2          E = s_a^2 (n - sum_i N_i^2/n) + s_b^2 (n - sum_j N_j^2/n)
                                        + s_e^2 (n - 1)

The 3 x 3 system is solved by non-negative least squares, so a component estimated below zero
sits on the boundary.  ``beta`` comes from the mixed-model equations (GLS), which
:func:`ratingstats.fit.fit_crossed` iterates twice; the O(p/n) loss of degrees of freedom from
estimating ``beta`` is ignored.  These estimators are unbiased but less efficient than REML
(Gao & Owen 2017, sec. 5); they are used only above the dense-REML size limit.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import nnls

from ._design import Design

__all__ = ["moment_components"]


def moment_components(d: Design, resid: np.ndarray) -> np.ndarray:
    """Return ``(sigma2_item, sigma2_rater, sigma2_resid)`` from residuals ``resid``."""
    n = d.n
    ra_mask = d.Da > 0
    rb_mask = d.Db > 0
    sa = np.bincount(d.item, weights=resid, minlength=d.n_items)
    sb = np.bincount(d.rater, weights=resid, minlength=d.n_raters)
    ss = float(resid @ resid)
    w_a = ss - float((sa[ra_mask] ** 2 / d.Da[ra_mask]).sum())
    w_b = ss - float((sb[rb_mask] ** 2 / d.Db[rb_mask]).sum())
    tot = ss - float(resid.sum()) ** 2 / n

    ka = float((d.Da[ra_mask] - d.Nsq_sum_rows[ra_mask] / d.Da[ra_mask]).sum())
    kb = float((d.Db[rb_mask] - d.Nsq_sum_cols[rb_mask] / d.Db[rb_mask]).sum())
    M = np.array(
        [
            [0.0, ka, n - ra_mask.sum()],
            [kb, 0.0, n - rb_mask.sum()],
            [n - (d.Da**2).sum() / n, n - (d.Db**2).sum() / n, n - 1.0],
        ]
    )
    rhs = np.array([w_a, w_b, tot])
    # Scale rows so that NNLS weighs the three equations alike.
    scale = np.abs(M).max(axis=1)
    scale[scale == 0] = 1.0
    sol, _ = nnls(M / scale[:, None], rhs / scale)
    return sol
