"""Henderson's mixed-model equations with the rater block absorbed.

We use lme4's parametrisation (Bates et al. 2015, J. Stat. Softw. 67(1), sec. 3): spherical
random effects ``u`` with ``b = Lambda u``, ``Lambda = diag(theta_a I, theta_b I)`` and
``theta = sigma_component / sigma_residual``.  Henderson's equations (Henderson 1950; Henderson
1984, *Applications of Linear Models in Animal Breeding*, ch. 5) in that scaling are::

    [ Lambda'Z'Z Lambda + I   Lambda'Z'X ] [u]   [Lambda'Z'y]
    [ X'Z Lambda              X'X        ] [b] = [X'y       ]

Each rating has exactly one rater, so the rater block ``theta_b^2 diag(n_r) + I`` is diagonal
and can be eliminated exactly ("absorbed", as in animal-breeding software).  What remains is a
system ``A x = f`` in the item effects and the p fixed effects, with rater weights
``w_r = theta_b^2 / (theta_b^2 n_r + 1)``::

    A_aa = I + theta_a^2 (D_a - N W N')      A_ab = theta_a (Z_a'X - N W Z_b'X)
    A_bb = X'X - X'Z_b W Z_b'X               f_a  = theta_a (Z_a'y - N W Z_b'y)
                                             f_b  = X'y - X'Z_b W Z_b'y

``A`` is the Schur complement of the full coefficient matrix over the rater block, so ``A^{-1}``
is exactly the (item, fixed) block of the inverse of Henderson's coefficient matrix.  Writing
it with ``theta`` (not ``sigma^2 / sigma_a^2``) keeps it finite at the boundary ``theta = 0``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from ._design import Design

__all__ = [
    "DenseAssembler",
    "ReducedSystem",
    "dense_matrix",
    "pcg",
    "rater_effects",
    "reduced_system",
]


@dataclass(frozen=True)
class ReducedSystem:
    """The absorbed (item, fixed) system for one value of ``theta``."""

    theta_a: float
    theta_b: float
    w: np.ndarray  # rater weights theta_b^2 / (theta_b^2 n_r + 1)
    A_ab: np.ndarray  # (n_items, p)
    A_bb: np.ndarray  # (p, p)
    f_a: np.ndarray
    f_b: np.ndarray
    diag_aa: np.ndarray  # diagonal of A_aa (block-Jacobi preconditioner, variance approximation)
    wZby_sq: float  # sum_r w_r (Z_b'y)_r^2, the absorbed rater part of the penalised RSS


def reduced_system(d: Design, theta_a: float, theta_b: float) -> ReducedSystem:
    """Form everything of ``A`` except the dense item-item block (O(nnz(N) * p))."""
    ta2, tb2 = theta_a * theta_a, theta_b * theta_b
    w = tb2 / (tb2 * d.Db + 1.0)
    wZbX = d.ZbX.copy()  # rows scaled by w, in place of the copy's data
    wZbX.data *= np.repeat(w, np.diff(wZbX.indptr))
    NwZbX = (d.N @ wZbX).toarray()
    wZby = w * d.Zby
    return ReducedSystem(
        theta_a=theta_a,
        theta_b=theta_b,
        w=w,
        A_ab=theta_a * (d.ZaX - NwZbX),
        A_bb=d.XtX - (d.ZbX.T @ wZbX).toarray(),
        f_a=theta_a * (d.Zay - d.N @ wZby),
        f_b=d.Xty - d.ZbX.T @ wZby,
        diag_aa=1.0 + ta2 * (d.Da - d.N_sq @ w),
        wZby_sq=float(wZby @ d.Zby),
    )


def apply_aa(d: Design, rs: ReducedSystem, v: np.ndarray) -> np.ndarray:
    """``A_aa v`` using two sparse products; ``N W N'`` is never formed."""
    ta2 = rs.theta_a * rs.theta_a
    return v + ta2 * (d.Da * v - d.N @ (rs.w * (d.NT @ v)))


def cholesky_lower(A: np.ndarray) -> np.ndarray:
    """The lower Cholesky factor of ``A`` (its lower triangle read; the upper one is zeroed),
    in place when ``A`` is a Fortran-ordered float64 array. Cannot fail for ``A >= I`` unless
    ``X`` is rank deficient."""
    factor, info = sla.lapack.dpotrf(A, lower=1, overwrite_a=1, clean=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"Cholesky of the absorbed system failed (info={info})")
    return factor


class DenseAssembler:
    """Assemble the lower triangle of the dense ``A`` repeatedly for different ``theta`` (REML
    iterations), into one buffer.

    ``(N W N')_ij = sum_r n_ir n_jr w_r`` is linear in the rater weights, and a rater's weight
    ``w_r = theta_b^2 / (theta_b^2 n_r + 1)`` depends on the rater only through ``n_r``, the
    number of ratings.  We precompute, once, the sparse matrix ``P`` from the co-rated item
    pairs ``i >= j`` to the distinct values of ``n_r`` (``P[(i, j), v] = sum over raters with
    n_r = v of n_ir n_jr``), so that each evaluation is one sparse mat-vec with a vector of a
    few hundred weights and a scatter into the matrix.  Only the lower triangle is built: the
    Cholesky factorisation (``dpotrf`` with ``lower=1``) reads nothing else, and it halves the
    work.  Merging raters of equal activity makes ``P`` several times smaller than a
    rater-by-rater incidence.

    :meth:`matrix` returns the same Fortran-ordered buffer at every call (the factorisation
    overwrites it in place): allocating a fresh 300 MB matrix per evaluation cost more in page
    faults than the arithmetic (bench_stats.py's 2.5M case, 145 s of system time).
    """

    def __init__(self, d: Design) -> None:
        self.d = d
        na = d.n_items
        self.levels, level_of = np.unique(d.Db, return_inverse=True)
        n_levels = self.levels.size
        # Raters grouped by level: one sparse product N_v N_v' per distinct n_r (SciPy's
        # compiled SpGEMM) instead of enumerating every rater's item pairs in NumPy and sorting
        # them (49 million pairs at 2.5 million ratings: 20 s and 2 GB per fit at ten times
        # launch; this takes about 2 s).
        order = np.argsort(level_of, kind="stable")
        bounds = np.searchsorted(level_of[order], np.arange(n_levels + 1))
        # Pair keys i * na + j: int32 when they fit (REML_MAX items: 36 million), which halves
        # the memory traffic of the gathers below over tens of millions of entries.
        key_type = np.int32 if na * na < 2**31 else np.int64
        pairs, weights = [], []
        per_level = np.zeros(n_levels + 1, dtype=np.int64)
        for level in range(n_levels):
            block = d.NT[order[bounds[level] : bounds[level + 1]]]  # its raters' rows
            counts = (sp.csr_matrix(block.T) @ block).tocoo()
            lower = counts.row >= counts.col  # i >= j
            pairs.append(counts.row[lower].astype(key_type) * na + counts.col[lower])
            weights.append(counts.data[lower].astype(np.float64))
            per_level[level + 1] = pairs[-1].size
        keys = np.concatenate(pairs)
        del pairs
        # Distinct pairs in order without sorting the 20 million keys: a flag per (i, j) of the
        # matrix (the dense buffer below is that size anyway).
        seen = np.zeros(na * na, dtype=bool)
        seen[keys] = True
        pair = np.flatnonzero(seen)
        row_of = np.cumsum(seen, dtype=key_type) - 1
        # Built column by column (each level's pairs once) as CSC, then turned to CSR once: the
        # product with the weights, once per evaluation, reads a CSR matrix in order and a CSC
        # one scattered over millions of rows (0.09 against 0.7 s at ten times launch).
        self.P = sp.csc_matrix(
            (np.concatenate(weights), row_of[keys], np.cumsum(per_level)),
            shape=(pair.size, n_levels),
        ).tocsr()
        del seen, row_of, keys
        i, j = pair // na, pair % na
        size = na + d.p
        self._flat = i + j * size  # Fortran order: element (i, j) of the buffer
        self._A = np.zeros((size, size), order="F")
        self._A_flat = self._A.reshape(-1, order="F")  # a view (the buffer is F-contiguous)
        #: (theta_a, theta_b) whose Cholesky factor the buffer holds, set by the caller that
        #: factorised it in place; the covariance at the optimum reuses it (`factor_at`).
        self.factored_theta: tuple[float, float] | None = None

    def factor_at(self, rs: ReducedSystem) -> np.ndarray:
        """The lower Cholesky factor of ``A`` at ``rs``'s theta, in the reused buffer: the one
        already there when the last REML evaluation was at this theta (the optimum, usually),
        otherwise assembled and factorised now."""
        if self.factored_theta != (rs.theta_a, rs.theta_b):
            self.factored_theta = None
            factor = cholesky_lower(self.matrix(rs))
            if not np.shares_memory(factor, self._A):  # f2py works in place on this buffer
                self._A[...] = factor
            self.factored_theta = (rs.theta_a, rs.theta_b)
        return self._A

    def matrix(self, rs: ReducedSystem) -> np.ndarray:
        """The lower triangle of ``A`` (the upper one is zero) in the reused buffer."""
        d = self.d
        na = d.n_items
        ta2 = rs.theta_a * rs.theta_a
        tb2 = rs.theta_b * rs.theta_b
        w_levels = tb2 / (tb2 * self.levels + 1.0)
        A = self._A
        self.factored_theta = None
        A.fill(0.0)
        self._A_flat[self._flat] = -ta2 * (self.P @ w_levels)
        idx = np.arange(na)
        A[idx, idx] += 1.0 + ta2 * d.Da
        A[na:, :na] = rs.A_ab.T
        A[na:, na:] = np.tril(rs.A_bb)
        return A


def dense_matrix(d: Design, rs: ReducedSystem) -> np.ndarray:
    """The full (n_items + p) square matrix ``A`` as a dense Fortran array (a new one)."""
    lower = DenseAssembler(d).matrix(rs)
    return np.asfortranarray(lower + np.tril(lower, -1).T)


@dataclass(frozen=True)
class PCGResult:
    x_a: np.ndarray
    x_b: np.ndarray
    iterations: int
    rel_residual: float


def pcg(
    d: Design,
    rs: ReducedSystem,
    x0: tuple[np.ndarray, np.ndarray] | None = None,
    rtol: float = 1e-10,
    maxiter: int = 2000,
) -> PCGResult:
    """Preconditioned conjugate gradients on ``A x = f``.

    Preconditioner: block Jacobi, i.e. the diagonal of ``A_aa`` for the item block and the exact
    inverse of the small dense ``A_bb`` for the fixed effects (Saad 2003, *Iterative Methods for
    Sparse Linear Systems*, alg. 9.1).  ``A_aa >= I`` because ``D_a - N W N'`` is itself a Schur
    complement of a positive semi-definite matrix, so the system is never singular, even for
    items without ratings or at ``theta = 0``.
    """
    na = d.n_items
    Mb = sla.cho_factor(rs.A_bb)
    inv_diag = 1.0 / rs.diag_aa

    def matvec(xa: np.ndarray, xb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ya = apply_aa(d, rs, xa) + rs.A_ab @ xb
        yb = rs.A_ab.T @ xa + rs.A_bb @ xb
        return ya, yb

    if x0 is None:
        xa = np.zeros(na)
        xb = sla.cho_solve(Mb, rs.f_b)
    else:
        xa, xb = x0[0].copy(), x0[1].copy()
    ya, yb = matvec(xa, xb)
    ra, rb = rs.f_a - ya, rs.f_b - yb
    fnorm = np.sqrt(rs.f_a @ rs.f_a + rs.f_b @ rs.f_b) or 1.0
    za, zb = inv_diag * ra, sla.cho_solve(Mb, rb)
    pa, pb = za.copy(), zb.copy()
    rz = ra @ za + rb @ zb
    it = 0
    res = np.sqrt(ra @ ra + rb @ rb) / fnorm
    while res > rtol and it < maxiter:
        qa, qb = matvec(pa, pb)
        alpha = rz / (pa @ qa + pb @ qb)
        xa += alpha * pa
        xb += alpha * pb
        ra -= alpha * qa
        rb -= alpha * qb
        res = np.sqrt(ra @ ra + rb @ rb) / fnorm
        it += 1
        za, zb = inv_diag * ra, sla.cho_solve(Mb, rb)
        rz_new = ra @ za + rb @ zb
        beta = rz_new / rz
        rz = rz_new
        pa = za + beta * pa
        pb = zb + beta * pb
    if res > rtol:
        raise RuntimeError(f"PCG did not converge: relative residual {res:.2e} after {it} steps")
    return PCGResult(xa, xb, it, float(res))


def penalised_rss(d: Design, rs: ReducedSystem, xa: np.ndarray, xb: np.ndarray) -> float:
    """``||y - X beta - Z b||^2 + ||u||^2`` at the solution (Bates et al. 2015, eq. 31)."""
    return float(d.yty - xa @ rs.f_a - xb @ rs.f_b - rs.wZby_sq)


def rater_effects(d: Design, rs: ReducedSystem, a: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Back-substitute the absorbed rater block: ``b = W (Z_b'y - N'a - Z_b'X beta)``."""
    return rs.w * (d.Zby - d.NT @ a - d.ZbX @ beta)
