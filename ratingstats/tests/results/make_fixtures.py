"""Generate the fixed data sets that are checked against lme4 (run once; outputs are committed).

    python ratingstats/tests/results/make_fixtures.py

Every file is deterministic (numpy PCG64 with the seeds below).  Scores are integers 1-5, as in
the product.  Item, rater and group labels are strings so that the CLI path is exercised too.

* ``confounded.csv``  -- 60 drugs, 250 physicians in 5 specialties.  Each specialty rates
  mostly its own 12 drugs (80% of its ratings) and specialties differ in severity, so the
  group effect is confounded with the drugs; this is the case the fixed group effect is for.
* ``unbalanced.csv``  -- 20 established drugs with many ratings and 180 new drugs with 1-3
  ratings each; 120 raters with very unequal activity (several rate once); no groups.
* ``druglib.csv``     -- the real Druglib.com reviews (UCI dataset 461, CC BY 4.0; Graesser et
  al. 2018): item = urlDrugName, score = ceil(rating / 2) (the 1-10 rating mapped to 1-5).
  Druglib reviewers are anonymous, so rater ids are SYNTHETIC: review ``druglib_id`` is
  assigned to rater ``(druglib_id * 7919) mod 500``.  The true rater variance is therefore
  zero (a boundary case).  No groups.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "validation" / "data" / "druglib_ratings.csv"


def _write(name: str, rows: list[tuple], header: tuple[str, ...]) -> None:
    with open(HERE / name, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def _scores(mean: np.ndarray, rng: np.random.Generator, sd: float) -> np.ndarray:
    return np.clip(np.rint(mean + rng.normal(0.0, sd, mean.size)), 1, 5).astype(int)


def confounded() -> None:
    rng = np.random.default_rng(20240601)
    n_items, n_raters, n_groups = 60, 250, 5
    item_eff = rng.normal(0.0, 0.6, n_items)
    rater_eff = rng.normal(0.0, 0.5, n_raters)
    severity = np.array([0.0, -0.8, 0.5, -0.3, 0.3])
    group = np.arange(n_raters) % n_groups
    rows = []
    for r in range(n_raters):
        k = int(rng.integers(4, 13))
        own = np.arange(n_items)[np.arange(n_items) % n_groups == group[r]]
        pool = np.where(rng.random(k) < 0.8, rng.choice(own, k), rng.integers(0, n_items, k))
        items = np.unique(pool)
        mean = 3.3 + item_eff[items] + rater_eff[r] + severity[group[r]]
        for i, s in zip(items, _scores(mean, rng, 0.7), strict=True):
            rows.append((f"drug_{i:02d}", f"dr_{r:03d}", f"spec_{'ABCDE'[group[r]]}", s))
    _write("confounded.csv", rows, ("item", "rater", "rater_group", "score"))


def unbalanced() -> None:
    rng = np.random.default_rng(20240602)
    n_old, n_new, n_raters = 20, 180, 120
    item_eff = rng.normal(0.0, 0.5, n_old + n_new)
    rater_eff = rng.normal(0.0, 0.6, n_raters)
    activity = rng.pareto(1.2, n_raters) + 0.2
    prob = activity / activity.sum()
    pairs = set()
    for i in range(n_old):
        for r in rng.choice(n_raters, int(rng.integers(15, 40)), replace=False, p=prob):
            pairs.add((i, int(r)))
    for i in range(n_old, n_old + n_new):
        for r in rng.choice(n_raters, int(rng.integers(1, 4)), replace=False, p=prob):
            pairs.add((i, int(r)))
    pairs = sorted(pairs)
    it = np.array([p[0] for p in pairs])
    ra = np.array([p[1] for p in pairs])
    s = _scores(3.5 + item_eff[it] + rater_eff[ra], rng, 0.8)
    rows = [(f"drug_{i:03d}", f"dr_{r:03d}", int(v)) for i, r, v in zip(it, ra, s, strict=True)]
    _write("unbalanced.csv", rows, ("item", "rater", "score"))


def druglib() -> None:
    rows = []
    with open(DATA, newline="") as fh:
        for rec in csv.DictReader(fh):
            rid = int(rec["druglib_id"])
            score = (int(rec["rating"]) + 1) // 2
            rows.append((rec["urlDrugName"], f"r{(rid * 7919) % 500:03d}", score))
    _write("druglib.csv", rows, ("item", "rater", "score"))


if __name__ == "__main__":
    confounded()
    unbalanced()
    druglib()
