"""Synthetic but realistic demo data: physicians, ratings and comments over the real catalogue.

Pure numpy: given the catalogue and a seed it returns arrays, so it is fast and deterministic.
The data follow the model the scores assume, with the complications real data have: raters
differ in leniency (a tenth of them strongly), specialties differ in severity, specialists rate
mostly drugs of their own field (so severity is confounded with drug choice), popularity is
heavy-tailed, and some dimensions are left as "no opinion".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from drugratings.demo.fields import GENERALISTS

N_DIMENSIONS = 5
# Chance of "no opinion" per dimension: efficacy, safety, tolerability, accessibility, adherence.
NULL_RATE = np.array([0.02, 0.04, 0.04, 0.12, 0.09])
COUNTRIES = (
    ("US", 0.62),
    ("GB", 0.08),
    ("CA", 0.07),
    ("DE", 0.05),
    ("FR", 0.04),
    ("AU", 0.03),
    ("IN", 0.03),
    ("ES", 0.02),
    ("IT", 0.02),
    ("NL", 0.02),
    ("BR", 0.02),
)
US_STATES = (
    "CA",
    "TX",
    "FL",
    "NY",
    "PA",
    "IL",
    "OH",
    "GA",
    "NC",
    "MI",
    "NJ",
    "VA",
    "WA",
    "AZ",
    "MA",
    "TN",
    "IN",
    "MD",
    "MO",
    "WI",
    "CO",
    "MN",
    "SC",
    "AL",
    "LA",
    "KY",
    "OR",
    "OK",
)
SPECIALTY_WEIGHT = {
    "family-medicine": 9.0,
    "internal-medicine": 9.0,
    "cardiology": 4.0,
    "psychiatry": 4.0,
    "pediatrics": 3.0,
    "obstetrics-gynecology": 2.5,
    "endocrinology": 2.0,
    "neurology": 2.0,
    "emergency-medicine": 2.5,
    "hematology-oncology": 2.0,
    "gastroenterology": 1.5,
    "pulmonology": 1.5,
    "dermatology": 1.5,
    "rheumatology": 1.2,
    "infectious-disease": 1.2,
    "geriatrics": 1.0,
    "nephrology": 1.0,
    "urology": 1.0,
    "ophthalmology": 1.0,
    "anesthesiology": 1.2,
    "surgery": 1.5,
    "allergy-immunology": 0.8,
    "otolaryngology": 0.8,
    "pain-medicine": 0.8,
    "other": 0.5,
}
# A few specialties are systematically severe or lenient on some dimensions (score points).
SPECIALTY_SHIFT = {
    "cardiology": -0.35,
    "hematology-oncology": -0.3,
    "psychiatry": 0.25,
    "family-medicine": 0.1,
    "emergency-medicine": -0.2,
    "dermatology": 0.2,
}


@dataclass(frozen=True)
class CatalogView:
    """What the generator needs of the catalogue, as plain arrays."""

    pair_drug: np.ndarray  # rated (drug, indication) pairs: drug ids
    pair_indication: np.ndarray  # indication ids
    pair_off_label: np.ndarray  # bool
    pair_field: np.ndarray  # specialty index of the pair's indication
    pair_weight: np.ndarray  # relative popularity
    specialty_slugs: tuple[str, ...]
    # (n_pairs, 5) shifts of latent quality per dimension from real data (demo/realism.py).
    pair_quality: np.ndarray | None = None


@dataclass(frozen=True)
class DemoRatings:
    physician_specialty: np.ndarray  # specialty index per physician
    physician_country: np.ndarray  # country code per physician (str)
    physician_region: np.ndarray
    physician_joined: np.ndarray  # datetime64[s]
    physician_leniency: np.ndarray
    rating_physician: np.ndarray  # physician index per rating
    rating_pair: np.ndarray  # pair index per rating
    scores: np.ndarray  # (n, 5) int, 0 = no opinion
    created: np.ndarray  # datetime64[s]
    updated: np.ndarray


def _ratings_per_physician(rng: np.random.Generator, n: int, total: int) -> np.ndarray:
    # Heavy-tailed activity: most physicians rate a handful, a few rate a hundred or more.
    raw = rng.lognormal(mean=0.0, sigma=1.0, size=n)
    counts = np.maximum(1, np.round(raw / raw.sum() * total)).astype(np.int64)
    return np.minimum(counts, 400)


def generate(
    view: CatalogView, *, seed: int, n_physicians: int, n_ratings: int, now: datetime
) -> DemoRatings:
    rng = np.random.default_rng(seed)
    now = now.replace(tzinfo=None)  # numpy datetimes are naive; everything here is UTC
    slugs = view.specialty_slugs
    n_spec = len(slugs)
    spec_weight = np.array([SPECIALTY_WEIGHT.get(s, 0.5) for s in slugs])
    specialty = rng.choice(n_spec, size=n_physicians, p=spec_weight / spec_weight.sum())
    codes = np.array([c for c, _ in COUNTRIES])
    shares = np.array([w for _, w in COUNTRIES])
    country = rng.choice(codes, size=n_physicians, p=shares / shares.sum())
    # ISO codes: US-CA for a state (ISO 3166-2), the country code elsewhere (ISO 3166-1).
    states = np.array([f"US-{s}" for s in US_STATES])
    region = np.where(country == "US", rng.choice(states, size=n_physicians), country)
    start = np.datetime64(now - timedelta(days=3 * 365), "s")
    span = int((np.datetime64(now - timedelta(days=20), "s") - start).astype(np.int64))
    joined = start + rng.integers(0, span, size=n_physicians).astype("timedelta64[s]")
    # Leniency: most raters within ±0.4 points, a tenth strongly lenient or severe.
    leniency = rng.normal(0.0, 0.35, size=n_physicians)
    extreme = rng.random(n_physicians) < 0.10
    leniency[extreme] += rng.choice([-0.9, 0.9], size=int(extreme.sum()))

    quota = _ratings_per_physician(rng, n_physicians, int(n_ratings * 1.04))
    n_pairs = view.pair_drug.size
    generalist = np.array([s in GENERALISTS for s in slugs])
    # Per specialty, sampling weights over pairs: own field x8, generalists see common pairs.
    cumulative = []
    for s in range(n_spec):
        w = view.pair_weight * np.where(view.pair_field == s, 8.0, 1.0)
        if generalist[s]:
            w = view.pair_weight**1.3
        cumulative.append(np.cumsum(w) / w.sum())
    rating_physician_parts, rating_pair_parts = [], []
    for p in range(n_physicians):
        want = int(min(quota[p], n_pairs))
        draw = np.searchsorted(cumulative[specialty[p]], rng.random(int(want * 1.5) + 3))
        draw = np.unique(np.minimum(draw, n_pairs - 1))[:want]
        rating_pair_parts.append(draw)
        rating_physician_parts.append(np.full(draw.size, p, dtype=np.int64))
    rating_pair = np.concatenate(rating_pair_parts)
    rating_physician = np.concatenate(rating_physician_parts)
    if rating_pair.size > n_ratings:
        keep = np.sort(rng.choice(rating_pair.size, size=n_ratings, replace=False))
        rating_pair, rating_physician = rating_pair[keep], rating_physician[keep]

    scores = _scores(rng, view, slugs, specialty, leniency, rating_physician, rating_pair)
    joined_r = joined[rating_physician]
    until = (np.datetime64(now, "s") - joined_r).astype(np.int64)
    # Ratings come after joining, more of them recently (the platform grows).
    created = joined_r + (until * rng.random(rating_pair.size) ** 0.7).astype("timedelta64[s]")
    edited = rng.random(rating_pair.size) < 0.05
    later = (np.datetime64(now, "s") - created).astype(np.int64) * rng.random(rating_pair.size)
    updated = np.where(edited, created + later.astype("timedelta64[s]"), created)
    return DemoRatings(
        specialty,
        country,
        region,
        joined,
        leniency,
        rating_physician,
        rating_pair,
        scores,
        created,
        updated,
    )


def _scores(
    rng: np.random.Generator,
    view: CatalogView,
    slugs: tuple[str, ...],
    specialty: np.ndarray,
    leniency: np.ndarray,
    rating_physician: np.ndarray,
    rating_pair: np.ndarray,
) -> np.ndarray:
    drugs, drug_index = np.unique(view.pair_drug, return_inverse=True)
    # Where real data shift quality (pair_quality), the random part is smaller.
    spread = 1.0 if view.pair_quality is None else 0.5
    base = rng.normal(0.0, 0.45 * spread, size=drugs.size)
    drug_dim = base[:, None] + rng.normal(0.0, 0.3 * spread, size=(drugs.size, N_DIMENSIONS))
    pair_dim = drug_dim[drug_index] + rng.normal(
        0.0, 0.12, size=(view.pair_drug.size, N_DIMENSIONS)
    )
    if view.pair_quality is not None:
        pair_dim += view.pair_quality
    spec_dim = rng.normal(0.0, 0.12, size=(len(slugs), N_DIMENSIONS))
    for s, slug in enumerate(slugs):
        spec_dim[s] += SPECIALTY_SHIFT.get(slug, 0.0)
    n = rating_pair.size
    latent = (
        3.45
        + pair_dim[rating_pair]
        + spec_dim[specialty[rating_physician]]
        + leniency[rating_physician][:, None]
        + rng.normal(0.0, 0.65, size=(n, N_DIMENSIONS))
    )
    scores = np.clip(np.rint(latent), 1, 5).astype(np.int64)
    scores[rng.random((n, N_DIMENSIONS)) < NULL_RATE] = 0
    # A rating needs at least one score: restore efficacy where all five came out empty.
    empty = (scores == 0).all(axis=1)
    scores[empty, 0] = np.clip(np.rint(latent[empty, 0]), 1, 5)
    return scores
