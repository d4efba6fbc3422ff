"""What makes the demo look like the real thing: how widely each drug is used, and how good it
is per dimension, from real data shipped with the product.

Popularity (how many ratings a drug draws) combines the number of FDA NDC products and generic
labellers (catalog/data/fda_ndc_rx_drug_catalog.csv: a drug sold by a hundred labellers is
prescribed widely), the number of patient reviews in the Drugs.com and Druglib.com review sets
(demo/data/review_signals.csv) and first-line status in a current guideline for a common
indication (demo/data/first_line.csv; each row names the guideline). Brand-only drugs such as
semaglutide have few NDC products, so first-line status also sets a floor.

Latent quality per dimension shifts towards what patients reported: Druglib effectiveness moves
efficacy, its side-effect ratings move tolerability and safety, and the Drugs.com positive share
moves all five a little; each shift is shrunk by the number of reviews, so one review moves
little. First-line drugs get a small efficacy and safety lift (guidelines choose them for it).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drugratings.catalog.importers.records import moiety_key
from drugratings.catalog.models import is_clinical  # noqa: F401  (re-exported for the loader)

DATA = Path(__file__).resolve().parent / "data"
CATALOG_DATA = Path(__file__).resolve().parents[1] / "catalog" / "data"
FIRST_LINE_FLOOR = 260.0  # popularity of a first-line drug at least that of a common generic
FIRST_LINE_FACTOR = 2.5
FIRST_LINE_INDICATION_SHARE = 0.75  # of a first-line drug's ratings go to that indication
NONCLINICAL_SHARE = 0.03
# Druglib scales are 1-5; shifts are in score points at full weight.
EFFICACY, SAFETY, TOLERABILITY, ACCESSIBILITY, ADHERENCE = range(5)


@dataclass(frozen=True)
class DrugSignals:
    ndc_products: int = 0
    labelers: int = 0
    reviews: int = 0
    effectiveness: float | None = None
    side_effects: float | None = None
    positive_share: float | None = None
    drugscom_reviews: int = 0


def _float(value: str) -> float | None:
    return float(value) if value.strip() else None


def read_signals() -> dict[str, DrugSignals]:
    """Signals by moiety key."""
    counts: dict[str, tuple[int, int]] = {}
    for name in ("fda_ndc_rx_drug_catalog.csv", "curated_drugs.csv"):
        path = CATALOG_DATA / name
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):
                key = moiety_key(row["active_moieties"].split(";"))
                products = int(row.get("n_ndc_products") or 0)
                labelers = int(row.get("n_generic_labelers") or 0)
                old = counts.get(key, (0, 0))
                counts[key] = (old[0] + products, old[1] + labelers)
    signals = {k: DrugSignals(ndc_products=p, labelers=n) for k, (p, n) in counts.items()}
    with (DATA / "review_signals.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            base = signals.get(row["moiety_key"], DrugSignals())
            signals[row["moiety_key"]] = DrugSignals(
                ndc_products=base.ndc_products,
                labelers=base.labelers,
                reviews=int(row["druglib_reviews"]) + int(row["drugscom_reviews"]),
                effectiveness=_float(row["effectiveness_mean"]),
                side_effects=_float(row["side_effects_mean"]),
                positive_share=_float(row["positive_share"]),
                drugscom_reviews=int(row["drugscom_reviews"]),
            )
    return signals


def read_first_line() -> dict[str, set[str]]:
    """First-line indications (lower-cased names) by moiety key."""
    first: dict[str, set[str]] = {}
    with (DATA / "first_line.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            key = moiety_key(row["moiety_key"].split(";"))
            first.setdefault(key, set()).add(row["indication"].strip().lower())
    return first


def popularity(signals: DrugSignals | None, first_line: bool) -> float:
    s = signals or DrugSignals()
    value = 1.0 + s.ndc_products + 0.5 * s.labelers + 2.0 * s.reviews
    if first_line:
        value = max(value, FIRST_LINE_FLOOR) * FIRST_LINE_FACTOR
    return value


def quality_shift(signals: DrugSignals | None, first_line: bool) -> np.ndarray:
    """Offsets (score points) of a drug's latent quality on the five dimensions."""
    shift = np.zeros(5)
    s = signals or DrugSignals()
    weight = s.reviews / (s.reviews + 8.0)
    if s.effectiveness is not None:
        shift[EFFICACY] += 0.5 * (s.effectiveness - 3.8) * weight
    if s.side_effects is not None:
        delta = 0.5 * (s.side_effects - 3.6) * weight
        shift[TOLERABILITY] += delta
        shift[SAFETY] += 0.6 * delta
    if s.positive_share is not None:
        n = s.drugscom_reviews
        shift += 0.4 * (s.positive_share - 0.65) * n / (n + 8.0)
    if first_line:
        shift[EFFICACY] += 0.45
        shift[SAFETY] += 0.3
        shift[ADHERENCE] += 0.15
    return shift
