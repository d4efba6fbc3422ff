"""FRAUDAR's greedy peeling on a weighted bipartite graph.

Hooi B, Song HA, Beutel A, Shah N, Shin K, Faloutsos C (2016).  FRAUDAR: bounding graph fraud in
the face of camouflage.  *KDD* 2016, 895-904.  The suspiciousness of a node set ``S`` is
``g(S) = f(S) / |S|`` with ``f(S) = sum of node priors in S + sum of edge weights inside S``;
peeling the node of least weighted degree, one at a time, and keeping the best prefix gives a
2-approximation of the densest set (Charikar 2000, *APPROX*, for the unweighted case; Theorem 1
of the paper for this family of ``f``).  The column weighting ``1 / log(degree + c)`` is what
makes the density camouflage-resistant: edges to popular columns count little, so fraudsters
cannot hide by adding them, and honest popular columns do not form dense blocks.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

__all__ = ["Block", "column_weights", "peel"]


@dataclass(frozen=True)
class Block:
    """The best prefix of one peeling run: row and column indices and their density."""

    rows: np.ndarray
    cols: np.ndarray
    density: float


def column_weights(col: np.ndarray, n_cols: int, c: float = 5.0) -> np.ndarray:
    """FRAUDAR's per-edge weight ``1 / log(d_j + c)`` for edges into column ``col``."""
    degree = np.bincount(col, minlength=n_cols)
    return 1.0 / np.log(degree[col] + c)


def peel(
    row: np.ndarray,
    col: np.ndarray,
    weight: np.ndarray,
    n_rows: int,
    n_cols: int,
    row_prior: np.ndarray | None = None,
    min_rows: int = 1,
    min_cols: int = 1,
) -> Block | None:
    """Greedily peel the bipartite graph and return its densest admissible prefix.

    Parameters
    ----------
    row, col : ndarray of int
        Edge endpoints (row indices in ``[0, n_rows)``, column indices in ``[0, n_cols)``).
    weight : ndarray of float
        Edge weights (e.g. :func:`column_weights`).  FRAUDAR's guarantee needs them
        non-negative; signed weights (observed minus expected, as in the edge-surplus objective
        of Tsourakakis et al. 2013, *KDD*) make the peeling a heuristic, with the same code.
    row_prior : ndarray of float, optional
        Node suspiciousness of the rows (FRAUDAR's ``a_i``); zero by default.
    min_rows, min_cols : int
        Only prefixes with at least this many rows and columns are candidates; a lone star is
        not a block.

    Returns
    -------
    Block or None
        ``None`` when no prefix is admissible.
    """
    n = n_rows + n_cols
    u = np.asarray(row, dtype=np.int64)
    v = np.asarray(col, dtype=np.int64) + n_rows
    w = np.asarray(weight, dtype=np.float64)
    # Symmetric CSR adjacency so that removing a node updates its neighbours in O(degree).
    src = np.concatenate([u, v])
    order = np.argsort(src, kind="stable")
    dst = np.concatenate([v, u])[order].tolist()
    ww = np.concatenate([w, w])[order].tolist()
    start = np.searchsorted(src[order], np.arange(n + 1)).tolist()
    prio = np.bincount(src, np.concatenate([w, w]), minlength=n)
    live = np.bincount(src, minlength=n) > 0
    f = float(w.sum())
    if row_prior is not None:
        prio[:n_rows] += row_prior
        live[:n_rows] |= row_prior != 0
        f += float(row_prior[live[:n_rows]].sum())
    # Nodes without edges or prior are not part of the graph at all.
    prio_l = prio.tolist()
    alive = live.tolist()
    rows_alive, cols_alive = int(live[:n_rows].sum()), int(live[n_rows:].sum())
    heap = [(prio_l[i], i) for i in range(n) if alive[i]]
    heapq.heapify(heap)
    removed: list[int] = []
    best, best_step = -1.0, -1
    while heap:
        if rows_alive >= min_rows and cols_alive >= min_cols:
            g = f / (rows_alive + cols_alive)
            if g > best:
                best, best_step = g, len(removed)
        p, i = heapq.heappop(heap)
        if not alive[i] or p != prio_l[i]:
            continue  # stale entry
        alive[i] = False
        removed.append(i)
        f -= prio_l[i]
        if i < n_rows:
            rows_alive -= 1
        else:
            cols_alive -= 1
        for k in range(start[i], start[i + 1]):
            j = dst[k]
            if alive[j]:
                prio_l[j] -= ww[k]
                heapq.heappush(heap, (prio_l[j], j))
    if best_step < 0:
        return None
    keep = np.array(removed[best_step:], dtype=np.int64)
    return Block(np.sort(keep[keep < n_rows]), np.sort(keep[keep >= n_rows] - n_rows), best)
