"""Sensitivity of the linear model to two of its assumptions (METHODOLOGY.md, sections 3 and 10).

1. **Ordinal scores with a ceiling.**  Real ratings are integers 1-5 and pile up at 5; the
   linear model treats them as Gaussian.  The reference is a cumulative-logit mixed model
   ``clmm(ordered(score) ~ 1 + (1|item) + (1|rater))`` fitted by R's ``ordinal`` package (Laplace
   approximation; Christensen 2022) to a sample generated *from* that model
   (:func:`ordinal_sample`, written to ``ratingstats/tests/results/ordinal.csv.gz`` and fitted by
   ``make_clmm_reference.R`` there).  We report Kendall's tau between our REML scores and clmm's
   drug effects, and of both with the true drug effects.
2. **Rater severity that differs by drug class.**  The model has one severity per rater and one
   per specialty, the same for every drug.  :func:`class_severity_sample` makes each specialty
   harsher (by ``shift`` points) on the drug class it mostly prescribes; we report the bias per
   class and the rank agreement with the truth, overall and within class.

Both run in ``make validate`` (:func:`run_sensitivity`); ``test_sensitivity.py`` checks the
stored reference without R.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.stats import kendalltau

from ratingstats import fit_crossed

__all__ = [
    "ClassSeverity",
    "OrdinalCheck",
    "class_severity_check",
    "class_severity_sample",
    "ordinal_check",
    "ordinal_sample",
    "run_sensitivity",
    "write_ordinal_sample",
]

RESULTS = Path(__file__).resolve().parents[1] / "tests" / "results"
ORDINAL_SEED = 20261130
#: Cut points of the latent logistic scale: with drug effects centred at 0.6 about 45% of the
#: ratings are 5 (the ceiling) and under 5% are 1.
CUTS = np.array([-2.6, -1.5, -0.4, 0.6])


@dataclass(frozen=True)
class OrdinalSample:
    item: np.ndarray
    rater: np.ndarray
    score: np.ndarray
    truth: np.ndarray  # latent drug effect


def ordinal_sample(
    seed: int = ORDINAL_SEED, n_items: int = 120, n_raters: int = 600, per_rater: int = 10
) -> OrdinalSample:
    """Integer 1-5 scores from a cumulative-logit model with crossed drug and rater effects."""
    rng = np.random.default_rng(seed)
    a = rng.normal(0.6, 0.9, n_items)
    b = rng.normal(0.0, 0.7, n_raters)
    popularity = rng.lognormal(0.0, 0.8, n_items)
    p = popularity / popularity.sum()
    items, raters = [], []
    for r in range(n_raters):
        k = min(n_items, 2 + rng.poisson(per_rater - 2))
        items.append(rng.choice(n_items, k, replace=False, p=p))
        raters.append(np.full(k, r))
    item = np.concatenate(items)
    rater = np.concatenate(raters)
    latent = a[item] + b[rater] + rng.logistic(0.0, 1.0, item.size)
    score = 1 + (latent[:, None] > CUTS[None, :]).sum(axis=1)
    return OrdinalSample(item, rater, score.astype(np.int64), a)


def write_ordinal_sample(path: Path = RESULTS / "ordinal.csv.gz") -> Path:
    """The clmm reference's input (deterministic bytes: fixed gzip mtime)."""
    s = ordinal_sample()
    text = io.StringIO()
    w = csv.writer(text, lineterminator="\n")
    w.writerow(("item", "rater", "score", "truth"))
    for i, r, y in zip(s.item.tolist(), s.rater.tolist(), s.score.tolist(), strict=True):
        w.writerow((f"d{i:03d}", f"r{r:03d}", y, f"{s.truth[i]:.6f}"))
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="ordinal.csv", mode="wb", fileobj=raw, mtime=0) as gz,
    ):
        gz.write(text.getvalue().encode())
    return path


@dataclass(frozen=True)
class OrdinalCheck:
    n: int
    n_items: int
    share_at_ceiling: float
    tau_ours_clmm: float
    tau_ours_truth: float
    tau_clmm_truth: float
    tau_naive_truth: float
    tau_ours_clmm_top_quartile: float


def _tau(x: np.ndarray, y: np.ndarray) -> float:
    return float(kendalltau(x, y).statistic)


def ordinal_check(results: Path = RESULTS) -> OrdinalCheck:
    """Our REML scores against the stored clmm fit of ``ordinal.csv.gz``."""
    s = ordinal_sample()
    res = fit_crossed(s.item, s.rater, s.score.astype(float), method="reml")
    with gzip.open(results / "ordinal_clmm_items.csv.gz", "rt", newline="") as fh:
        ref = {row["item"]: float(row["clmm_effect"]) for row in csv.DictReader(fh)}
    labels = [f"d{i:03d}" for i in range(s.truth.size)]
    rated = res.n_ratings > 0
    clmm = np.array([ref.get(label, np.nan) for label in labels])
    keep = rated & np.isfinite(clmm)
    naive = np.bincount(s.item, weights=s.score, minlength=s.truth.size) / np.maximum(
        res.n_ratings, 1
    )
    top = keep & (clmm >= np.quantile(clmm[keep], 0.75))
    return OrdinalCheck(
        n=int(s.score.size),
        n_items=int(keep.sum()),
        share_at_ceiling=float((s.score == 5).mean()),
        tau_ours_clmm=_tau(res.estimate[keep], clmm[keep]),
        tau_ours_truth=_tau(res.estimate[keep], s.truth[keep]),
        tau_clmm_truth=_tau(clmm[keep], s.truth[keep]),
        tau_naive_truth=_tau(naive[keep], s.truth[keep]),
        tau_ours_clmm_top_quartile=_tau(res.estimate[top], clmm[top]),
    )


@dataclass(frozen=True)
class ClassSeverity:
    shift: float
    bias_by_class: tuple[float, ...]  # mean (estimate - truth) per class, centred; 0: harsh
    tau_truth: float
    tau_truth_within_class: float  # mean over classes
    tau_truth_no_shift: float


def class_severity_sample(
    shift: float, seed: int = 7, n_classes: int = 6, per_class: int = 40, n_raters: int = 3000
):
    """Specialty s mostly rates class s (80%).  Specialty 0 is ``shift`` points harsher on its
    own class only, specialty 1 ``shift`` points more lenient on its own class only; the others
    rate every class alike (the model's assumption)."""
    rng = np.random.default_rng(seed)
    n_items = n_classes * per_class
    cls = np.arange(n_items) // per_class
    a = rng.normal(0.0, 0.5, n_items)
    b = rng.normal(0.0, 0.5, n_raters)
    spec = rng.integers(0, n_classes, n_raters)
    k = 2 + rng.poisson(8, n_raters)
    rater = np.repeat(np.arange(n_raters), k)
    own = rng.random(rater.size) < 0.8
    item = np.where(
        own,
        spec[rater] * per_class + rng.integers(0, per_class, rater.size),
        rng.integers(0, n_items, rater.size),
    )
    _, first = np.unique(item * n_raters + rater, return_index=True)
    item, rater = item[first], rater[first]
    own_shift = np.zeros(n_classes)
    own_shift[:2] = (-shift, shift)
    harsh = np.where(cls[item] == spec[rater], own_shift[cls[item]], 0.0)
    y = 3.5 + a[item] + b[rater] + harsh + rng.normal(0.0, 0.8, item.size)
    return item, rater, spec[rater], np.clip(np.rint(y), 1, 5), a, cls


def class_severity_check(shift: float = 0.5) -> ClassSeverity:
    def fit(sh: float):
        item, rater, group, y, a, cls = class_severity_sample(sh)
        res = fit_crossed(item, rater, y, group, method="reml", intervals=False)
        return res.estimate - res.mu, a, cls

    est, a, cls = fit(shift)
    est0, _, _ = fit(0.0)
    err = est - (a - a.mean())
    bias = np.array([err[cls == c].mean() for c in np.unique(cls)])
    within = [_tau(est[cls == c], a[cls == c]) for c in np.unique(cls)]
    return ClassSeverity(
        shift=shift,
        bias_by_class=tuple(float(v) for v in bias - bias.mean()),
        tau_truth=_tau(est, a),
        tau_truth_within_class=float(np.mean(within)),
        tau_truth_no_shift=_tau(est0, a),
    )


def run_sensitivity() -> tuple[OrdinalCheck, ClassSeverity, dict]:
    """Both checks, plus the stored clmm reference's own summary (versions, thresholds)."""
    meta = json.loads((RESULTS / "ordinal_clmm.json").read_text())
    return ordinal_check(), class_severity_check(), meta


if __name__ == "__main__":
    print(write_ordinal_sample())
