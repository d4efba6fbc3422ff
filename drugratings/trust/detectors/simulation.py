"""Honest synthetic rating data for calibrating and evaluating the detectors.

The generator is deliberately richer than the detectors' assumptions, so that the evaluation
shows how they behave on the honest look-alikes a real deployment has: heavy-tailed drug
popularity and rater activity, lenient and harsh raters, specialty and hospital effects per
drug class, drug launches (a natural burst of ordinary ratings), news-driven surges, hospital
networks with on-boarding waves on shared kiosk devices, and carrier-grade NAT networks shared
by unrelated physicians.  Scores follow an additive latent model rounded to 1-5, the model
ratingstats fits (METHODOLOGY.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._common import DAY
from .table import RatingTable

T0 = 1_640_995_200.0  # 2022-01-01 UTC
SPAN = 3 * 365 * DAY
NO_OPINION = np.array([0.04, 0.05, 0.06, 0.15, 0.10])  # accessibility is left blank most


@dataclass(frozen=True)
class World:
    """Latent parameters of a simulated population (needed to add camouflage ratings)."""

    quality: np.ndarray  # (drugs, 5) latent mean score per dimension
    drug_class: np.ndarray
    manufacturer: np.ndarray
    launch: np.ndarray  # epoch seconds the drug became available
    popularity: np.ndarray  # sampling weight
    leniency: np.ndarray  # per physician
    specialty: np.ndarray
    spec_class: np.ndarray  # (specialties, classes) score effect
    affinity: np.ndarray  # (specialties, classes) prescribing weight
    hospital: np.ndarray  # per physician, -1 none
    hosp_class: np.ndarray  # (hospitals, classes) score effect
    joined: np.ndarray
    network: np.ndarray
    device: np.ndarray
    table: RatingTable
    next_network: int
    next_device: int


def honest_scores(world: World, phys: np.ndarray, drug: np.ndarray, rng: np.random.Generator):
    """Scores (n, 5) of honest raters ``phys`` for ``drug`` under the world's latent model."""
    cls = world.drug_class[drug]
    hosp = world.hospital[phys]
    latent = (
        world.quality[drug]
        + world.leniency[phys, None]
        + world.spec_class[world.specialty[phys], cls][:, None]
        + np.where(hosp >= 0, world.hosp_class[np.maximum(hosp, 0), cls], 0.0)[:, None]
        + rng.normal(0.0, 0.55, (len(phys), 1))  # rater-drug impression shared by dimensions
        + rng.normal(0.0, 0.5, (len(phys), 5))
    )
    scores = np.clip(np.rint(latent), 1, 5)
    blank = rng.random(scores.shape) < NO_OPINION
    blank[blank.all(axis=1), 0] = False  # the database requires one answered dimension
    return np.where(blank, np.nan, scores)


def _population(rng, n_phys: int, n_classes: int):
    """Joined times, hospitals, networks, devices, leniency and specialty of the physicians."""
    joined = T0 + SPAN * rng.random(n_phys) ** 0.85 - 30 * DAY  # a few joined before the data
    n_hosp = 300
    hosp_p = 1.0 / np.arange(1, n_hosp + 1) ** 0.8
    hospital = np.where(
        rng.random(n_phys) < 0.35, rng.choice(n_hosp, n_phys, p=hosp_p / hosp_p.sum()), -1
    )
    network = np.arange(n_phys) + 10_000  # most physicians sign up from a unique address
    device = np.arange(n_phys) + 10_000
    in_hosp = hospital >= 0
    at_work = in_hosp & (rng.random(n_phys) < 0.9)
    network[at_work] = hospital[at_work]
    # Carrier-grade NAT: unrelated physicians behind one mobile carrier address block.
    nat = ~in_hosp & (rng.random(n_phys) < 0.06)
    network[nat] = 1_000 + rng.integers(0, 12, nat.sum())
    next_device = 10_000 + n_phys
    # On-boarding waves: a hospital signs up half its doctors on one day, on shared kiosks.
    for h in rng.choice(n_hosp, 120, replace=False):
        members = np.flatnonzero(hospital == h)
        wave = members[rng.random(members.size) < 0.5]
        if wave.size < 3:
            continue
        day = T0 + rng.uniform(0.05, 0.95) * SPAN
        joined[wave] = day + rng.uniform(0, 8 * 3600, wave.size)
        network[wave] = h
        kiosk = wave[rng.random(wave.size) < 0.6]
        device[kiosk] = next_device + rng.integers(0, 3, kiosk.size)
        next_device += 3
    leniency = rng.normal(0.0, 0.35, n_phys)
    strong = rng.random(n_phys) < 0.10
    leniency[strong] += rng.choice([-0.9, 0.9], strong.sum())
    n_spec = 25
    spec_p = rng.dirichlet(np.full(n_spec, 2.0))
    specialty = rng.choice(n_spec, n_phys, p=spec_p)
    spec_class = rng.normal(0.0, 0.2, (n_spec, n_classes))
    affinity = rng.gamma(0.3, 1.0, (n_spec, n_classes)) + 0.02
    hosp_class = rng.normal(0.0, 0.15, (n_hosp, n_classes))
    return (
        joined,
        hospital,
        network,
        device,
        next_device,
        leniency,
        specialty,
        spec_class,
        affinity,
        hosp_class,
    )


def _drugs(rng, n_drugs: int, n_classes: int, n_manu: int):
    class_p = rng.dirichlet(np.ones(n_classes))
    drug_class = rng.choice(n_classes, n_drugs, p=class_p)
    manu_p = 1.0 / np.arange(1, n_manu + 1) ** 1.0
    manufacturer = rng.choice(n_manu, n_drugs, p=manu_p / manu_p.sum())
    dim_offset = np.array([0.0, 0.1, -0.1, -0.3, -0.1])
    class_mean = 3.6 + rng.normal(0.0, 0.25, (n_classes, 1)) + dim_offset
    quality = (
        class_mean[drug_class]
        + rng.normal(0.0, 0.35, (n_drugs, 1))
        + rng.normal(0.0, 0.2, (n_drugs, 5))
    )
    launch = np.where(rng.random(n_drugs) < 0.15, T0 + rng.uniform(0.1, 0.85, n_drugs) * SPAN, T0)
    launch = np.where(launch > T0, launch, T0 - 365 * DAY)
    popularity = rng.lognormal(0.0, 1.4, n_drugs)
    return drug_class, manufacturer, quality, launch, popularity


def _times(rng, joined: np.ndarray, launch: np.ndarray) -> np.ndarray:
    lo = np.maximum(np.maximum(joined, launch), T0)
    # Front-loaded: new accounts rate what they know first, a launched drug collects ratings
    # soon after launch (the natural bursts the burst detector must leave alone).
    return lo + (T0 + SPAN - lo) * rng.random(lo.size) ** 1.4


def simulate_honest(
    seed: int = 0, n_physicians: int = 12_000, n_drugs: int = 1_200, n_ratings: int = 250_000
) -> World:
    """Build an honest population and its ratings; deterministic per ``seed``."""
    rng = np.random.default_rng(seed)
    n_classes, n_manu = max(3, n_drugs // 20), max(3, n_drugs // 8)
    drug_class, manufacturer, quality, launch, popularity = _drugs(rng, n_drugs, n_classes, n_manu)
    (
        joined,
        hospital,
        network,
        device,
        next_device,
        leniency,
        specialty,
        spec_class,
        affinity,
        hosp_class,
    ) = _population(rng, n_physicians, n_classes)
    active = np.clip((T0 + SPAN - joined) / SPAN, 0.0, 1.0)
    activity = rng.lognormal(0.0, 1.0, n_physicians) * (0.25 + 0.75 * active)
    target = n_ratings * 1.28  # duplicate physician-drug draws are dropped below
    per_phys = np.maximum(1, rng.poisson(activity / activity.sum() * target))
    per_phys = np.minimum(per_phys, n_drugs // 3)
    phys = np.repeat(np.arange(n_physicians), per_phys)
    drug = np.empty(phys.size, dtype=np.int64)
    for s in range(spec_class.shape[0]):
        rows = np.flatnonzero(specialty[phys] == s)
        w = popularity * affinity[s, drug_class]
        drug[rows] = rng.choice(n_drugs, rows.size, p=w / w.sum())
    _, keep = np.unique(phys * n_drugs + drug, return_index=True)
    phys, drug = phys[keep], drug[keep]
    created = _times(rng, joined[phys], launch[drug])
    world = World(
        quality,
        drug_class,
        manufacturer,
        launch,
        popularity,
        leniency,
        specialty,
        spec_class,
        affinity,
        hospital,
        hosp_class,
        joined,
        network,
        device,
        table=None,  # type: ignore[arg-type]
        next_network=100_000,
        next_device=next_device,
    )
    phys, drug, created = _news_surges(rng, world, phys, drug, created)
    scores = honest_scores(world, phys, drug, rng)
    table = make_table(world, np.arange(phys.size) + 1, phys, drug, created, scores)
    return World(**{**world.__dict__, "table": table})


def _news_surges(rng, world: World, phys, drug, created):
    """Twenty popular drugs get a week of extra, ordinary ratings after a news event."""
    n_drugs = world.quality.shape[0]
    counts = np.bincount(drug, minlength=n_drugs)
    popular = np.argsort(-counts)[: max(20, n_drugs // 4)]
    extra_p, extra_d, extra_t = [], [], []
    for d in rng.choice(popular, min(20, popular.size), replace=False):
        start = T0 + rng.uniform(0.1, 0.95) * SPAN
        k = max(15, int(2 * counts[d] * 7 * DAY / SPAN))
        eligible = np.flatnonzero(world.joined < start + 7 * DAY)
        who = rng.choice(eligible, k, replace=False)
        extra_p.append(who)
        extra_d.append(np.full(k, d))
        extra_t.append(np.maximum(start + rng.uniform(0, 7 * DAY, k), world.joined[who] + 600))
    phys = np.concatenate([phys, *extra_p])
    drug = np.concatenate([drug, *extra_d])
    created = np.concatenate([created, *extra_t])
    _, keep = np.unique(phys * n_drugs + drug, return_index=True)
    return phys[keep], drug[keep], created[keep]


def make_table(world: World, rating_id, phys, drug, created, scores) -> RatingTable:
    """Assemble a RatingTable, hiding 2% of manufacturers and 1% of classes as unknown."""
    n_drugs = world.quality.shape[0]
    hide = np.random.default_rng(n_drugs).random((2, n_drugs))  # fixed per catalogue
    manu = np.where(hide[0] < 0.02, -1, world.manufacturer)
    cls = np.where(hide[1] < 0.01, -1, world.drug_class)
    return RatingTable(
        rating_id=rating_id,
        physician=phys,
        drug=drug,
        manufacturer=manu[drug],
        drug_class=cls[drug],
        created=created,
        scores=scores,
        physician_joined=world.joined[phys],
        physician_network=world.network[phys],
        physician_device=world.device[phys],
    )
