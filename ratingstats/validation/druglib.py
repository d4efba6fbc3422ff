"""Held-out prediction on the real Druglib.com reviews (bundled, CC BY 4.0; see data/README.md).

The data set's own split is used: fit on the 3,107 ``train`` reviews, predict the 1,036 ``test``
reviews.  Three dimensions are mapped to 1-5: ``rating`` (1-10) as ``ceil(rating / 2)``,
``effectiveness`` (Ineffective=1 ... Highly Effective=5) and ``sideEffects`` (Extremely Severe=1
... No Side Effects=5).  Reviewers are anonymous, so each review gets a synthetic rater id
``(druglib_id * 7919) mod 500`` (the same rule as the lme4 fixture); the comparison therefore
measures the item part of the model (partial pooling of drugs with few reviews), not the rater
adjustment, which needs real rater ids.  A test review is predicted by its drug's adjusted score
(``mu`` for drugs absent from the training split); the baseline is the drug's training mean
(the overall training mean for absent drugs).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ratingstats import fit_crossed

__all__ = ["DATA", "HeldOut", "held_out"]

DATA = Path(__file__).resolve().parent / "data" / "druglib_ratings.csv"

EFFECTIVENESS = {
    "Ineffective": 1,
    "Marginally Effective": 2,
    "Moderately Effective": 3,
    "Considerably Effective": 4,
    "Highly Effective": 5,
}
SIDE_EFFECTS = {
    "Extremely Severe Side Effects": 1,
    "Severe Side Effects": 2,
    "Moderate Side Effects": 3,
    "Mild Side Effects": 4,
    "No Side Effects": 5,
}


@dataclass(frozen=True)
class HeldOut:
    dimension: str
    n_train: int
    n_test: int
    rmse_model: float
    rmse_naive: float
    rmse_grand_mean: float


def _load() -> dict[str, np.ndarray]:
    cols: dict[str, list] = {k: [] for k in ("id", "train", "drug", "rating", "eff", "side")}
    with open(DATA, newline="", encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            cols["id"].append(int(rec["druglib_id"]))
            cols["train"].append(rec["split"] == "train")
            cols["drug"].append(rec["urlDrugName"])
            cols["rating"].append((int(rec["rating"]) + 1) // 2)
            cols["eff"].append(EFFECTIVENESS[rec["effectiveness"]])
            cols["side"].append(SIDE_EFFECTS[rec["sideEffects"]])
    out = {k: np.array(v) for k, v in cols.items()}
    _, out["drug_code"] = np.unique(out["drug"], return_inverse=True)
    out["rater"] = (out["id"] * 7919) % 500
    return out


def held_out() -> list[HeldOut]:
    d = _load()
    n_items = int(d["drug_code"].max()) + 1
    tr, te = d["train"], ~d["train"]
    results = []
    for name, key in (
        ("rating (1-10 -> 1-5)", "rating"),
        ("effectiveness", "eff"),
        ("side effects", "side"),
    ):
        y = d[key].astype(float)
        res = fit_crossed(d["drug_code"][tr], d["rater"][tr], y[tr], n_items=n_items)
        pred = res.estimate[d["drug_code"][te]]
        s = np.bincount(d["drug_code"][tr], weights=y[tr], minlength=n_items)
        c = np.bincount(d["drug_code"][tr], minlength=n_items)
        naive_item = np.where(c > 0, s / np.maximum(c, 1), y[tr].mean())
        naive = naive_item[d["drug_code"][te]]
        results.append(
            HeldOut(
                dimension=name,
                n_train=int(tr.sum()),
                n_test=int(te.sum()),
                rmse_model=float(np.sqrt(np.mean((y[te] - pred) ** 2))),
                rmse_naive=float(np.sqrt(np.mean((y[te] - naive) ** 2))),
                rmse_grand_mean=float(np.sqrt(np.mean((y[te] - y[tr].mean()) ** 2))),
            )
        )
    return results
