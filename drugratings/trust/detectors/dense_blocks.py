"""Dense blocks of raters who give the same drugs the same extreme ratings (FRAUDAR).

The graph is bipartite: rows are physicians, columns are (drug, direction) pairs, and an edge
joins a physician to ``(drug, up)`` when every answered dimension of their rating is at least
``high_at`` (all 5s), or to ``(drug, down)`` when every one is at most ``low_at`` (1s and 2s),
with at least ``min_answered`` dimensions answered.  Ordinary ratings carry no weight, so the
camouflage a colluder adds by rating other drugs normally is invisible, and honest extreme
ratings are sparse.  Edges are weighted ``1 / log(column degree + c)`` and the graph is peeled
with FRAUDAR (Hooi et al. 2016, *KDD*; :mod:`._fraudar`), keeping the densest prefix with at
least ``min_rows`` physicians and ``min_cols`` columns; the block's edges are removed and the
search repeated up to ``max_blocks`` times.

**Calibration.**  Honest data have dense corners of their own (lenient raters give many 5s to
the popular drugs of their specialty), so density is judged against a permutation null: the
edges' column endpoints are shuffled ``n_null`` times (a bipartite configuration model that
keeps every physician's and every column's degree; Newman, Strogatz & Watts 2001, *Phys. Rev. E*
64:026118) and the null densest blocks found the same way.  A block is reported only when its
density exceeds ``null_margin`` times the largest null density; DETECTORS.md gives the measured
honest-to-null ratio that sets the margin.

A block needs at least two columns: a single column is a star whose FRAUDAR density is bounded
by its column weight whatever its size, so one-drug campaigns are left to the burst, cohort and
manufacturer detectors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._common import codes
from ._fraudar import Block, column_weights, peel
from .table import RatingTable, Suspicion

__all__ = ["DenseBlockParams", "detect"]

NAME = "dense_blocks"


@dataclass(frozen=True)
class DenseBlockParams:
    """Parameters of :func:`detect`; the defaults are calibrated in DETECTORS.md."""

    high_at: float = 5.0
    low_at: float = 2.0
    min_answered: int = 3
    c: float = 5.0
    min_rows: int = 5
    min_cols: int = 2
    rater_prior: float = 10.0
    column_prior: float = 20.0
    max_blocks: int = 5
    n_null: int = 8
    null_margin: float = 1.5
    seed: int = 0


@dataclass(frozen=True)
class _Support:
    """Every (physician, drug, direction) a physician could have rated extremely."""

    row: np.ndarray  # physician code
    col: np.ndarray  # drug code * 2 + is_up
    n_rows: int
    n_cols: int
    extreme: np.ndarray  # observed: some rating of the pair is extreme in that direction


def _support(table: RatingTable, params: DenseBlockParams):
    """The support graph, plus, for each extreme table row, its support edge index."""
    s = table.scores
    answered = ~np.isnan(s)
    enough = answered.sum(axis=1) >= params.min_answered
    up = enough & np.where(answered, s >= params.high_at, True).all(axis=1)
    down = enough & np.where(answered, s <= params.low_at, True).all(axis=1)
    phys_ids, phys = codes(table.physician)
    drug_ids, drug = codes(table.drug)
    pair_key, pair_of_row = np.unique(phys * drug_ids.size + drug, return_inverse=True)
    pair_of_row = pair_of_row.ravel()
    n_pairs = pair_key.size
    ext_up = np.bincount(pair_of_row, up, minlength=n_pairs) > 0
    ext_down = np.bincount(pair_of_row, down, minlength=n_pairs) > 0
    prow = pair_key // drug_ids.size
    pcol = pair_key % drug_ids.size
    # Edge 2k is pair k's "down" edge and 2k + 1 its "up" edge.
    support = _Support(
        row=np.repeat(prow, 2),
        col=(np.repeat(pcol, 2) * 2 + np.tile([0, 1], n_pairs)),
        n_rows=phys_ids.size,
        n_cols=2 * drug_ids.size,
        extreme=np.column_stack([ext_down, ext_up]).ravel(),
    )
    ext_rows = np.flatnonzero(up | down)
    ext_edge = 2 * pair_of_row[ext_rows] + up[ext_rows]
    return support, ext_rows, ext_edge, phys_ids, drug_ids


def expected_extreme(g: _Support, extreme: np.ndarray, params: DenseBlockParams) -> np.ndarray:
    """Probability that each support edge is extreme given the rater's and the column's habits.

    A Rasch-type odds model, ``odds = odds(rater rate) * odds(column rate) / odds(overall)``,
    with each rate leave-one-out (the edge cannot explain itself) and shrunk towards the
    overall rate of its direction with ``rater_prior`` / ``column_prior`` pseudo-ratings.  A
    habitually lenient rater's 5s, and 5s for a drug everyone loves, are expected; a 5 from a
    rater who seldom gives them, for a drug that seldom gets them, is not.
    """
    e = extreme.astype(float)
    is_up = g.col % 2
    p = np.zeros(e.size)
    for d in (0, 1):
        m = is_up == d
        base = e[m].mean() if m.any() else 0.0
        base = min(max(base, 1e-4), 1 - 1e-4)
        row_obs = np.bincount(g.row[m], e[m], minlength=g.n_rows)[g.row[m]] - e[m]
        row_n = np.bincount(g.row[m], minlength=g.n_rows)[g.row[m]] - 1.0
        col_obs = np.bincount(g.col[m], e[m], minlength=g.n_cols)[g.col[m]] - e[m]
        col_n = np.bincount(g.col[m], minlength=g.n_cols)[g.col[m]] - 1.0
        r = (row_obs + params.rater_prior * base) / (row_n + params.rater_prior)
        c = (col_obs + params.column_prior * base) / (col_n + params.column_prior)
        odds = r / (1 - r) * c / (1 - c) / (base / (1 - base))
        p[m] = odds / (1 + odds)
    return p


def _densest(g: _Support, extreme: np.ndarray, alive: np.ndarray,
             params: DenseBlockParams) -> tuple[Block | None, np.ndarray]:
    """Peel the surplus graph restricted to ``alive`` edges; returns the block and its edges."""
    p = expected_extreme(g, extreme, params)
    ext = extreme & alive
    deg = np.bincount(g.col[ext], minlength=g.n_cols)
    weight = (ext - p) / np.log(deg[g.col] + params.c)
    # Only physicians and columns with an extreme edge can be in a block; the rest would be
    # peeled first anyway, and dropping them keeps the peeling fast.
    keep = alive & (np.bincount(g.row[ext], minlength=g.n_rows)[g.row] > 0) & (deg[g.col] > 0)
    idx = np.flatnonzero(keep)
    block = peel(g.row[idx], g.col[idx], weight[idx], g.n_rows, g.n_cols,
                 min_rows=params.min_rows, min_cols=params.min_cols)
    if block is None:
        return None, np.zeros(0, dtype=np.int64)
    inside = idx[np.isin(g.row[idx], block.rows) & np.isin(g.col[idx], block.cols)]
    return block, inside[ext[inside]]


def null_densities(g: _Support, extreme: np.ndarray, params: DenseBlockParams) -> np.ndarray:
    """Densest-block densities of ``n_null`` graphs drawn from the expected-extreme model."""
    rng = np.random.default_rng(params.seed)
    p = expected_extreme(g, extreme, params)
    alive = np.ones(extreme.size, dtype=bool)
    out = []
    for _ in range(params.n_null):
        block, _ = _densest(g, rng.random(p.size) < p, alive, params)
        out.append(block.density if block is not None else 0.0)
    return np.array(out)


def detect(table: RatingTable, params: DenseBlockParams = DenseBlockParams()) -> list[Suspicion]:
    """Find blocks of physicians giving the same drugs the same extreme scores.

    Parameters
    ----------
    table : RatingTable
    params : DenseBlockParams

    Returns
    -------
    list of Suspicion
        One per block denser than the calibrated threshold; ``score`` is its density divided
        by the threshold.
    """
    g, ext_rows, ext_edge, phys_ids, drug_ids = _support(table, params)
    if not g.extreme.any():
        return []
    threshold = params.null_margin * float(null_densities(g, g.extreme, params).max())
    alive = np.ones(g.extreme.size, dtype=bool)
    out: list[Suspicion] = []
    for _ in range(params.max_blocks):
        block, inside = _densest(g, g.extreme, alive, params)
        if block is None or block.density <= threshold:
            break
        alive[inside] = False
        flagged = ext_rows[np.isin(ext_edge, inside)]
        cols = np.unique(g.col[inside])
        drugs = drug_ids[np.unique(cols // 2)]
        ups = int((cols % 2).sum())
        who = np.unique(g.row[inside])
        reason = (
            f"{who.size} physicians gave {cols.size} drug(s) "
            f"({', '.join(str(d) for d in drugs[:12])}{'...' if drugs.size > 12 else ''}) the "
            f"same extreme scores ({ups} all-top, {cols.size - ups} all-bottom), "
            f"{inside.size} extreme ratings in all: surplus density {block.density:.3f} against "
            f"a threshold of {threshold:.3f} from data simulated without collusion."
        )
        out.append(Suspicion(NAME, table.rating_id[flagged], phys_ids[who],
                             block.density / threshold, reason))
    return out
