"""Input validation and the sufficient statistics of the crossed design.

Everything the estimators need is a handful of counts and sums over the ratings plus one sparse
item x rater count matrix ``N``.  The dense design matrices ``X`` (n x p) and ``Z`` (n x q) are
never formed: for 10 million ratings they would not fit the memory budget, and every product the
mixed-model equations need (``X'X``, ``Z_a'X``, ``Z_b'X``, ``Z_a'Z_b`` ...) is a bincount.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["Design", "build_design", "validate_inputs"]


def _as_codes(name: str, values: np.ndarray, n: int) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a one-dimensional array, got shape {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} entries but score has {n}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or infinite codes")
        if np.any(arr != np.round(arr)):
            raise ValueError(f"{name} codes must be integers")
    elif arr.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integer codes, got dtype {arr.dtype}")
    if n and arr.min() < 0:
        raise ValueError(f"{name} codes must be >= 0")
    # int32 halves the memory of the 10M-row case; codes beyond 2**31 are not a real use.
    if n and arr.max() >= np.iinfo(np.int32).max:
        raise ValueError(f"{name} codes too large for int32")
    return arr.astype(np.int32, copy=False)


def validate_inputs(
    item: np.ndarray,
    rater: np.ndarray,
    score: np.ndarray,
    group: np.ndarray | None,
    n_items: int | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, int]:
    """Check shapes, codes and finiteness; return compact-typed copies (or views)."""
    y = np.asarray(score, dtype=np.float64)
    if y.ndim != 1:
        raise ValueError(f"score must be a one-dimensional array, got shape {y.shape}")
    n = y.shape[0]
    if n == 0:
        raise ValueError("no ratings: score is empty")
    bad = ~np.isfinite(y)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"score contains {int(bad.sum())} NaN/infinite value(s); first at index {first}"
        )
    it = _as_codes("item", item, n)
    ra = _as_codes("rater", rater, n)
    gr = None if group is None else _as_codes("group", group, n)
    needed = int(it.max()) + 1
    if n_items is None:
        n_items = needed
    elif n_items < needed:
        raise ValueError(f"n_items={n_items} but item codes go up to {needed - 1}")
    return it, ra, y, gr, int(n_items)


@dataclass(frozen=True)
class Design:
    """Sufficient statistics of ``score ~ group + (1|item) + (1|rater)``.

    Fixed effects use R's default treatment coding: an intercept plus one column per present
    group other than the first (lowest code), so that ``beta`` is directly comparable with
    ``lme4::fixef``.
    """

    n: int
    n_items: int
    n_raters: int  # size of the rater code range (absent codes have zero ratings)
    item: np.ndarray  # (n,) int32
    rater: np.ndarray  # (n,) int32
    y: np.ndarray  # (n,) float64
    gcol: np.ndarray | None  # (n,) int32 index into present groups, or None for one group
    present_groups: np.ndarray  # group codes with at least one rating, ascending
    n_group_codes: int
    p: int  # number of fixed-effect columns
    Da: np.ndarray  # ratings per item
    Db: np.ndarray  # ratings per rater
    N: sp.csr_matrix  # item x rater counts, duplicates merged
    NT: sp.csr_matrix  # transpose, kept as CSR for fast products
    Nsq_sum_rows: np.ndarray  # sum_r N_ir^2 per item (for moments)
    Nsq_sum_cols: np.ndarray  # sum_i N_ir^2 per rater
    N_sq: sp.csr_matrix  # N with squared entries, for diag(N W N')
    XtX: np.ndarray  # (p, p)
    ZaX: np.ndarray  # (n_items, p)
    # (n_raters, p), sparse: a rater rates in one or a few groups, so the products with it that
    # every REML evaluation forms cost O(nnz), not O(n_raters * p) (1.5 s of each evaluation
    # at ten times launch, 120,000 raters and 25 specialties).
    ZbX: sp.csr_matrix
    Xty: np.ndarray  # (p,)
    Zay: np.ndarray  # (n_items,)
    Zby: np.ndarray  # (n_raters,)
    yty: float
    xbar: np.ndarray  # (p,) column means of X: the "average rating's" covariate vector

    def x_times(self, beta: np.ndarray) -> np.ndarray:
        """Fixed part ``X beta`` for every rating without forming ``X``."""
        out = np.full(self.n, beta[0])
        if self.gcol is not None:
            contrast = np.concatenate([[0.0], beta[1:]])
            out += contrast[self.gcol]
        return out


def _xcols_per_code(codes: np.ndarray, gcol: np.ndarray | None, size: int, p: int) -> np.ndarray:
    """Rows of ``Z'X`` for a factor: counts of each fixed-effect column per level."""
    out = np.zeros((size, p))
    out[:, 0] = np.bincount(codes, minlength=size)
    if gcol is not None and p > 1:
        g = p  # present groups; column j>=1 is group index j
        cnt = np.bincount(codes.astype(np.int64) * g + gcol, minlength=size * g).reshape(size, g)
        out[:, 1:] = cnt[:, 1:]
    return out


def build_design(
    item: np.ndarray,
    rater: np.ndarray,
    y: np.ndarray,
    group: np.ndarray | None,
    n_items: int,
) -> Design:
    """Build the sufficient statistics (O(n) bincounts plus one sparse matrix)."""
    n = y.shape[0]
    n_raters = int(rater.max()) + 1
    gcol = None
    present = np.array([0], dtype=np.int64)
    n_group_codes = 1
    if group is not None:
        n_group_codes = int(group.max()) + 1
        counts = np.bincount(group, minlength=n_group_codes)
        present = np.flatnonzero(counts)
        if present.size > 1:
            remap = np.full(n_group_codes, -1, dtype=np.int32)
            remap[present] = np.arange(present.size, dtype=np.int32)
            gcol = remap[group]
    p = 1 if gcol is None else int(present.size)

    Da = np.bincount(item, minlength=n_items).astype(np.float64)
    Db = np.bincount(rater, minlength=n_raters).astype(np.float64)
    ones = np.ones(n)
    N = sp.csr_matrix((ones, (item, rater)), shape=(n_items, n_raters))
    N.sum_duplicates()
    NT = N.T.tocsr()
    N_sq = N.copy()
    N_sq.data = N_sq.data**2
    Nsq_sum_rows = np.asarray(N_sq.sum(axis=1)).ravel()
    Nsq_sum_cols = np.asarray(N_sq.sum(axis=0)).ravel()

    ZaX = _xcols_per_code(item, gcol, n_items, p)
    ZbX = _xcols_per_code(rater, gcol, n_raters, p)
    XtX = np.zeros((p, p))
    XtX[0, 0] = n
    Xty = np.zeros(p)
    Xty[0] = y.sum()
    if gcol is not None:
        gn = np.bincount(gcol, minlength=p).astype(np.float64)
        gs = np.bincount(gcol, weights=y, minlength=p)
        XtX[0, 1:] = XtX[1:, 0] = gn[1:]
        XtX[1:, 1:] = np.diag(gn[1:])
        Xty[1:] = gs[1:]
    return Design(
        n=n,
        n_items=n_items,
        n_raters=n_raters,
        item=item,
        rater=rater,
        y=y,
        gcol=gcol,
        present_groups=present,
        n_group_codes=n_group_codes,
        p=p,
        Da=Da,
        Db=Db,
        N=N,
        NT=NT,
        Nsq_sum_rows=Nsq_sum_rows,
        Nsq_sum_cols=Nsq_sum_cols,
        N_sq=N_sq,
        XtX=XtX,
        ZaX=ZaX,
        ZbX=sp.csr_matrix(ZbX),
        Xty=Xty,
        Zay=np.bincount(item, weights=y, minlength=n_items),
        Zby=np.bincount(rater, weights=y, minlength=n_raters),
        yty=float(y @ y),
        xbar=XtX[0] / n,
    )
