"""Small honest data and helpers to plant patterns in it (pure numpy, no database)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from drugratings.trust.detectors._common import rating_means
from drugratings.trust.detectors.simulation import SPAN, T0, World, simulate_honest
from drugratings.trust.detectors.table import RatingTable

DAY = 86_400.0
MID = T0 + 0.6 * SPAN


@lru_cache(maxsize=2)
def small_world(seed: int = 11) -> World:
    """About 19,000 honest ratings (after de-duplication) by 1,500 physicians of 150 drugs."""
    return simulate_honest(seed, n_physicians=1_500, n_drugs=150, n_ratings=30_000)


def drug_counts(table: RatingTable) -> np.ndarray:
    return np.bincount(table.drug)


def append(
    table: RatingTable,
    physician: np.ndarray,
    drug: np.ndarray,
    created: np.ndarray,
    scores: np.ndarray,
    joined: np.ndarray | None = None,
    network: np.ndarray | None = None,
    device: np.ndarray | None = None,
) -> tuple[RatingTable, np.ndarray]:
    """Append ratings; new physicians get unique networks and devices unless given.

    Existing physicians keep their recorded sign-up data.  Returns the table and the new ids.
    """
    physician = np.asarray(physician, dtype=np.int64)
    n = physician.size
    ids = int(table.rating_id.max()) + 1 + np.arange(n)
    first = {int(p): i for i, p in reversed(list(enumerate(table.physician)))}
    known = np.array([int(p) in first for p in physician])
    rows = np.array([first.get(int(p), 0) for p in physician])
    fresh = np.asarray(physician, dtype=np.int64) + 5_000_000
    joined_all = np.where(
        known, table.physician_joined[rows], joined if joined is not None else created - DAY
    )
    net_all = np.where(
        known, table.physician_network[rows], network if network is not None else fresh
    )
    dev_all = np.where(known, table.physician_device[rows], device if device is not None else fresh)
    drow = np.array([np.flatnonzero(table.drug == d)[0] for d in drug])
    new = RatingTable(
        rating_id=ids,
        physician=physician,
        drug=drug,
        manufacturer=table.manufacturer[drow],
        drug_class=table.drug_class[drow],
        created=created,
        scores=scores,
        physician_joined=joined_all,
        physician_network=net_all,
        physician_device=dev_all,
    )
    return RatingTable.concat([table, new]), ids


def bootstrap_scores(table: RatingTable, drug: np.ndarray, rng: np.random.Generator):
    """Scores drawn from each drug's own honest ratings (an ordinary rating of that drug)."""
    out = np.empty((drug.size, 5))
    for i, d in enumerate(drug):
        rows = np.flatnonzero(table.drug == d)
        out[i] = table.scores[rng.choice(rows)]
    return out


def drug_mean(table: RatingTable, drug: int) -> float:
    return float(np.nanmean(rating_means(table)[table.drug == drug]))


def new_physicians(table: RatingTable, k: int) -> np.ndarray:
    return int(table.physician.max()) + 1 + np.arange(k)


def flagged(suspicions) -> tuple[np.ndarray, np.ndarray]:
    """Union of flagged rating ids and physician ids."""
    if not suspicions:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return (
        np.unique(np.concatenate([s.rating_ids for s in suspicions])),
        np.unique(np.concatenate([s.physician_ids for s in suspicions])),
    )


def manufacturer_with_drugs(
    table: RatingTable, n_drugs: int, lo: int, hi: int = 200, max_share: float = 0.1
):
    """A manufacturer code and ``n_drugs`` of its drugs with ``lo``-``hi`` ratings each.

    Manufacturers with more than ``max_share`` of the ratings are skipped: a small group is
    diluted among the many raters of a company that makes a large share of the catalogue (see
    DETECTORS.md).
    """
    counts = drug_counts(table)
    for m in np.unique(table.manufacturer[table.manufacturer >= 0]):
        if np.mean(table.manufacturer == m) > max_share:
            continue
        drugs = np.unique(table.drug[table.manufacturer == m])
        drugs = drugs[(counts[drugs] >= lo) & (counts[drugs] <= hi)]
        if drugs.size >= n_drugs:
            return int(m), drugs[np.argsort(-counts[drugs])[:n_drugs]]
    raise AssertionError("no manufacturer fits")


def established(
    table: RatingTable, k: int, rng, min_ratings: int = 12, avoid: np.ndarray | None = None
) -> np.ndarray:
    """``k`` physicians with long histories who joined in the first year and rated none of
    the drugs ``avoid``."""
    counts = np.bincount(table.physician)
    first = np.unique(table.physician[table.physician_joined < T0 + 365 * DAY])
    first = first[counts[first] >= min_ratings]
    if avoid is not None:
        first = first[~np.isin(first, table.physician[np.isin(table.drug, avoid)])]
    return rng.choice(first, k, replace=False)


def plant_bashing(table: RatingTable, k: int = 12, seed: int = 5, low: bool = True):
    """``k`` established raters give 3-4 of one manufacturer's top drugs 1s and 2s (or 5s).

    Returns the table, the planted rating ids, the planted physicians and the manufacturer.
    """
    rng = np.random.default_rng(seed)
    manu, drugs = manufacturer_with_drugs(table, 4, 40)
    who = established(table, k, rng, avoid=drugs)
    rated = set(zip(table.physician.tolist(), table.drug.tolist(), strict=True))
    pairs = [
        (p, d)
        for p in who
        for d in rng.permutation(drugs)[: rng.integers(3, 5)]
        if (int(p), int(d)) not in rated
    ]
    phys = np.array([p for p, _ in pairs])
    drug = np.array([d for _, d in pairs])
    scores = (
        rng.integers(1, 3, (phys.size, 5)).astype(float) if low else np.full((phys.size, 5), 5.0)
    )
    created = T0 + SPAN - rng.uniform(0, 300, phys.size) * DAY
    table, ids = append(table, phys, drug, created, scores)
    return table, ids, np.unique(phys), manu
