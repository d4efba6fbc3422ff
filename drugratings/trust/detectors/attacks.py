"""The three attacks the evaluation injects into honest simulated data.

(a) ``ring``: 20 colluding accounts (aged a few months, each with 3-6 ordinary camouflage
    ratings) give one moderately popular drug 5s on every dimension within three weeks.
(b) ``burst``: 30 accounts created within one day from two networks (one of them a carrier
    network shared with honest physicians) give one drug 5s within 48 hours; a third of them
    also rate one or two other drugs normally.
(c) ``bashing``: 25 established accounts (joined in the first year, eight or more honest
    ratings) rate 2-4 of the four most rated drugs of one manufacturer 1-2 on every dimension,
    spread over the last 18 months, among their otherwise honest ratings.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ._common import DAY
from .simulation import SPAN, T0, World, honest_scores, make_table
from .table import RatingTable

__all__ = ["Attack", "Scenario", "inject_attacks"]


@dataclass(frozen=True)
class Attack:
    """Ground truth of one injected attack.

    ``rating_ids`` are the manipulative ratings (camouflage excluded); ``physician_ids`` the
    attacking accounts; ``drugs`` the attacked drugs, whose ratings form the attribution scope.
    """

    name: str
    rating_ids: np.ndarray
    physician_ids: np.ndarray
    drugs: np.ndarray
    manufacturer: int


@dataclass(frozen=True)
class Scenario:
    honest: RatingTable
    table: RatingTable
    attacks: tuple[Attack, ...]


def _add_accounts(world: World, joined, network, device, rng) -> tuple[World, np.ndarray]:
    """Append accounts with an ordinary rater profile (leniency, specialty, no hospital)."""
    k = joined.size
    first = world.joined.size
    leniency = rng.normal(0.0, 0.35, k)
    specialty = rng.integers(0, world.spec_class.shape[0], k)
    world = replace(
        world,
        joined=np.concatenate([world.joined, joined]),
        network=np.concatenate([world.network, network]),
        device=np.concatenate([world.device, device]),
        leniency=np.concatenate([world.leniency, leniency]),
        specialty=np.concatenate([world.specialty, specialty]),
        hospital=np.concatenate([world.hospital, np.full(k, -1)]),
    )
    return world, np.arange(first, first + k)


def _fives(k: int) -> np.ndarray:
    return np.full((k, 5), 5.0)


def _pick_drug(counts: np.ndarray, lo: int, hi: int, known: np.ndarray, rng, taken=()) -> int:
    ok = (counts >= lo) & (counts <= hi) & known
    ok[list(taken)] = False
    return int(rng.choice(np.flatnonzero(ok)))


class _Rows:
    """Collects attack rows; ids continue after the honest table's."""

    def __init__(self, next_id: int) -> None:
        self.next_id = next_id
        self.parts: list[tuple[np.ndarray, ...]] = []

    def add(self, phys, drug, created, scores) -> np.ndarray:
        ids = np.arange(self.next_id, self.next_id + phys.size)
        self.next_id += phys.size
        self.parts.append((ids, phys, drug, created, scores))
        return ids

    def table(self, world: World) -> RatingTable:
        cols = [np.concatenate([p[i] for p in self.parts]) for i in range(5)]
        return make_table(world, *cols)


def _ring(world, rows, counts, known, rng, days: float) -> tuple[World, Attack]:
    drug = _pick_drug(counts, 150, 400, known, rng)
    start = T0 + rng.uniform(0.3, 0.95) * SPAN - (days + 4) * DAY
    start = max(start, T0 + 0.05 * SPAN)
    joined = start - rng.uniform(60, 400, 20) * DAY
    world, acc = _add_accounts(
        world, joined, world.next_network + np.arange(20), world.next_device + np.arange(20), rng
    )
    world = replace(world, next_network=world.next_network + 20, next_device=world.next_device + 20)
    n_camo = rng.integers(3, 7, acc.size)
    camo_p = np.repeat(acc, n_camo)
    p = world.popularity.copy()
    p[drug] = 0.0
    camo_d = rng.choice(p.size, camo_p.size, p=p / p.sum())
    _, keep = np.unique(camo_p * p.size + camo_d, return_index=True)
    camo_p, camo_d = camo_p[keep], camo_d[keep]
    lo = np.maximum(world.joined[camo_p], world.launch[camo_d])
    camo_t = lo + rng.random(camo_p.size) * (T0 + SPAN - lo)
    rows.add(camo_p, camo_d, camo_t, honest_scores(world, camo_p, camo_d, rng))
    ids = rows.add(
        acc, np.full(acc.size, drug), start + rng.uniform(0, days, acc.size) * DAY, _fives(acc.size)
    )
    return world, Attack("ring", ids, acc, np.array([drug]), -1)


def _burst(world, rows, counts, known, rng, taken) -> tuple[World, Attack]:
    drug = _pick_drug(counts, 40, 200, known, rng, taken)
    start = T0 + rng.uniform(0.2, 0.98) * SPAN
    joined = start + rng.uniform(0, DAY, 30)
    carrier = 1_000 + int(rng.integers(0, 12))  # shared with honest physicians
    network = np.where(np.arange(30) < 18, world.next_network, carrier)
    world, acc = _add_accounts(world, joined, network, world.next_device + np.arange(30), rng)
    world = replace(world, next_network=world.next_network + 1, next_device=world.next_device + 30)
    created = np.minimum(joined + rng.uniform(600, 2 * DAY, 30), start + 2 * DAY)
    ids = rows.add(acc, np.full(30, drug), created, _fives(30))
    extra = acc[rng.random(30) < 1 / 3]
    extra = np.concatenate([extra, extra[rng.random(extra.size) < 0.5]])
    p = world.popularity.copy()
    p[drug] = 0.0
    extra_d = rng.choice(p.size, extra.size, p=p / p.sum())
    _, keep = np.unique(extra * p.size + extra_d, return_index=True)
    extra, extra_d = extra[keep], extra_d[keep]
    extra_t = np.maximum(
        world.joined[extra] + rng.uniform(600, 3 * DAY, extra.size), world.launch[extra_d]
    )
    rows.add(extra, extra_d, extra_t, honest_scores(world, extra, extra_d, rng))
    return world, Attack("burst", ids, acc, np.array([drug]), -1)


def _bashing(world, rows, counts, honest: RatingTable, rng, taken) -> Attack:
    manu_known = honest.manufacturer >= 0
    drug_manu = np.full(counts.size, -1)
    drug_manu[honest.drug[manu_known]] = honest.manufacturer[manu_known]
    best = None
    for m in rng.permutation(np.unique(drug_manu[drug_manu >= 0])):
        mine = np.flatnonzero((drug_manu == m) & (counts >= 100))
        mine = mine[~np.isin(mine, list(taken))]
        if mine.size >= 5:
            best = (int(m), mine[np.argsort(-counts[mine])[:4]])
            break
    assert best is not None, "no manufacturer with five drugs of 100+ ratings"
    manu, targets = best
    per_phys = np.bincount(honest.physician, minlength=world.joined.size)
    eligible = np.flatnonzero((world.joined < T0 + 0.3 * SPAN) & (per_phys >= 8))
    eligible = eligible[world.hospital[eligible] < 0]
    acc = rng.choice(eligible, 25, replace=False)
    rated = set(zip(honest.physician.tolist(), honest.drug.tolist(), strict=True))
    phys, drug = [], []
    for a in acc:
        for d in rng.permutation(targets)[: rng.integers(2, 5)]:
            if (int(a), int(d)) not in rated:
                phys.append(a)
                drug.append(d)
    phys_a, drug_a = np.array(phys), np.array(drug)
    created = T0 + SPAN - rng.uniform(0, 540, phys_a.size) * DAY
    scores = rng.integers(1, 3, (phys_a.size, 5)).astype(float)
    ids = rows.add(phys_a, drug_a, created, scores)
    return Attack("bashing", ids, np.unique(phys_a), targets, manu)


def inject_attacks(world: World, seed: int = 0, ring_days: float = 21.0) -> Scenario:
    """Add the three attacks to ``world.table``; deterministic per ``seed``.

    ``ring_days`` spreads the ring's 5s over that many days (21 by default; the evaluation's
    ``--ring-days`` shows what happens when a patient ring spreads them over a year).
    """
    rng = np.random.default_rng([seed, 7])
    honest = world.table
    counts = np.bincount(honest.drug, minlength=world.quality.shape[0])
    known = np.zeros(counts.size, dtype=bool)
    known[honest.drug[honest.manufacturer >= 0]] = True
    rows = _Rows(int(honest.rating_id.max()) + 1)
    world, ring = _ring(world, rows, counts, known, rng, ring_days)
    world, burst = _burst(world, rows, counts, known, rng, taken=ring.drugs.tolist())
    bashing = _bashing(world, rows, counts, honest, rng, taken=[*ring.drugs, *burst.drugs])
    table = RatingTable.concat([honest, rows.table(world)])
    return Scenario(honest, table, (ring, burst, bashing))
