"""Dense blocks of raters who give the same drugs the same extreme ratings (FRAUDAR).

**Graph.**  Rows are physicians, columns are (drug, direction) pairs.  An edge joins a physician
to ``(drug, up)`` when every answered dimension of a rating is at least ``high_at`` (all 5s),
or to ``(drug, down)`` when every one is at most ``low_at`` (1s and 2s), with at least
``min_answered`` dimensions answered.  Ordinary ratings carry no weight, so the camouflage a
colluder adds by rating other drugs normally is invisible.

**Weights.**  FRAUDAR's column weight ``1 / log(extreme degree + c)`` (Hooi et al. 2016, *KDD*)
multiplies a surplus, observed minus expected: every (physician, drug, direction) the physician
rated contributes ``1 - p`` when extreme and ``-p`` when not, where ``p`` is the probability of
an extreme rating given the rater's and the column's leave-one-out habits
(:func:`expected_extreme`).  Without the surplus, the densest block of honest data is the core
of lenient raters and the popular drugs they give 5s to (measured: 678 physicians x 626 columns
at density 1.25, as dense as in degree-preserving shuffles), which buries any small block; this
is the edge-surplus idea of Tsourakakis et al. 2013 (*KDD*, "Denser than the densest subgraph")
with the expected count of a Rasch-type null instead of a constant.

**Scopes.**  Collusion serves a company or a drug class, and a 25 x 4 block is lost in the whole
graph, whose random cores are as dense: on the evaluation's seed 0 the densest honest blocks
reach 0.54 and the bashing group was never isolated (7 of its 25 raters ended up inside a
182-physician block of density 0.50).  Inside the victim manufacturer's columns the same group
is the densest block (0.57 against at most 0.43 in null draws).  FRAUDAR's peeling
(:mod:`._fraudar`) is therefore run inside each scope of the families in ``scopes`` (the
columns of one manufacturer; of one class; or ``"all"`` columns), keeping the densest prefix
with at least ``min_rows`` physicians and ``min_cols`` columns, removing its edges and
repeating up to ``max_blocks`` times per scope.

**Calibration.**  ``n_null`` graphs are drawn from the null itself (each edge extreme with its
probability ``p``), and the largest densest-block density over a family's scopes is recorded
for each; a block is reported only when its density exceeds ``null_margin`` times the largest
of these (a max-statistic permutation-style threshold, Westfall & Young 1993, which controls the
family-wise error over scopes).  DETECTORS.md gives the measured honest-to-null ratios that set
the margin.

A block needs at least two columns: a single column is a star whose density is bounded by its
column weight whatever its size, so one-drug campaigns are left to the burst and cohort
detectors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._common import codes
from ._fraudar import peel
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
    scopes: tuple[str, ...] = ("manufacturer", "class")
    max_blocks: int = 3
    n_null: int = 6
    null_margin: float = 1.25
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


def _scope_of_columns(table: RatingTable, drug_ids: np.ndarray, family: str) -> np.ndarray:
    """Scope code of every column for one family (-1: the column is in no scope)."""
    if family == "all":
        return np.zeros(2 * drug_ids.size, dtype=np.int64)
    if family not in ("manufacturer", "class"):
        raise ValueError(f"unknown scope family {family!r}")
    code = table.manufacturer if family == "manufacturer" else table.drug_class
    per_drug = np.full(drug_ids.size, -1, dtype=np.int64)
    per_drug[np.searchsorted(drug_ids, table.drug)] = code
    return np.repeat(per_drug, 2)


def _densest(g: _Support, extreme, p, cols: np.ndarray, alive, params: DenseBlockParams):
    """Peel the surplus graph on the columns ``cols`` (a boolean mask over columns)."""
    in_scope = cols[g.col] & alive
    ext = extreme & in_scope
    deg = np.bincount(g.col[ext], minlength=g.n_cols)
    # Only physicians and columns with an extreme edge in scope can be in a block; the rest
    # would be peeled first anyway, and dropping them keeps the peeling fast.
    keep = in_scope & (np.bincount(g.row[ext], minlength=g.n_rows)[g.row] > 0) & (deg[g.col] > 0)
    idx = np.flatnonzero(keep)
    if idx.size == 0:
        return None, idx
    weight = (ext[idx] - p[idx]) / np.log(deg[g.col[idx]] + params.c)
    block = peel(
        g.row[idx],
        g.col[idx],
        weight,
        g.n_rows,
        g.n_cols,
        min_rows=params.min_rows,
        min_cols=params.min_cols,
    )
    if block is None:
        return None, idx[:0]
    inside = idx[np.isin(g.row[idx], block.rows) & np.isin(g.col[idx], block.cols)]
    return block, inside[ext[inside]]


def _scope_masks(scope_col: np.ndarray, extreme: np.ndarray, g: _Support):
    """Column masks of the scopes that hold at least two extreme columns."""
    ext_cols = np.unique(g.col[extreme])
    sc = scope_col[ext_cols]
    ids, counts = np.unique(sc[sc >= 0], return_counts=True)
    for s in ids[counts >= 2]:
        yield int(s), scope_col == s


def family_null_max(g: _Support, p, scope_col, params: DenseBlockParams) -> np.ndarray:
    """For each null draw, the densest block density over all scopes of one family."""
    rng = np.random.default_rng(params.seed)
    alive = np.ones(p.size, dtype=bool)
    out = np.zeros(params.n_null)
    for r in range(params.n_null):
        extreme = rng.random(p.size) < p
        p_null = expected_extreme(g, extreme, params)
        for _, cols in _scope_masks(scope_col, extreme, g):
            block, _ = _densest(g, extreme, p_null, cols, alive, params)
            if block is not None:
                out[r] = max(out[r], block.density)
    return out


def detect(table: RatingTable, params: DenseBlockParams = DenseBlockParams()) -> list[Suspicion]:
    """Find blocks of physicians giving the same drugs the same extreme scores.

    Parameters
    ----------
    table : RatingTable
    params : DenseBlockParams

    Returns
    -------
    list of Suspicion
        One per block denser than its family's calibrated threshold; ``score`` is the density
        divided by the threshold.
    """
    g, ext_rows, ext_edge, phys_ids, drug_ids = _support(table, params)
    if not g.extreme.any():
        return []
    p = expected_extreme(g, g.extreme, params)
    alive = np.ones(g.extreme.size, dtype=bool)  # edges of a reported block are not reused
    out: list[Suspicion] = []
    for family in params.scopes:
        scope_col = _scope_of_columns(table, drug_ids, family)
        threshold = params.null_margin * float(family_null_max(g, p, scope_col, params).max())
        for s, cols in _scope_masks(scope_col, g.extreme, g):
            for _ in range(params.max_blocks):
                block, inside = _densest(g, g.extreme, p, cols, alive, params)
                if block is None or block.density <= threshold:
                    break
                alive[inside] = False
                flagged = ext_rows[np.isin(ext_edge, inside)]
                out.append(
                    _suspicion(
                        table,
                        g,
                        flagged,
                        inside,
                        phys_ids,
                        drug_ids,
                        block.density,
                        threshold,
                        family,
                        s,
                    )
                )
    return out


def _suspicion(table, g, flagged, inside, phys_ids, drug_ids, density, threshold, family, s):
    cols = np.unique(g.col[inside])
    drugs = drug_ids[np.unique(cols // 2)]
    ups = int((cols % 2).sum())
    who = np.unique(g.row[inside])
    where = "all drugs" if family == "all" else f"{family} {s}"
    reason = (
        f"{who.size} physicians gave {cols.size} drug(s) of {where} "
        f"({', '.join(str(d) for d in drugs[:12])}{'...' if drugs.size > 12 else ''}) the same "
        f"extreme scores ({ups} all-top, {cols.size - ups} all-bottom; {inside.size} ratings): "
        f"FRAUDAR surplus density {density:.3f} against a threshold of {threshold:.3f} from "
        f"simulated honest data."
    )
    return Suspicion(NAME, table.rating_id[flagged], phys_ids[who], density / threshold, reason)
