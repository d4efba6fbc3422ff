"""Generate ``large.csv.gz``: 150,000 specialty-confounded ratings of 1,600 drugs by 20,000 raters.

    python ratingstats/tests/results/make_large.py

The file is the input of ``make_large_reference.R`` (lme4) and of ``test_lme4_large.py``; it is
deterministic (numpy PCG64, seed below) and gzip-compressed with a fixed mtime, so regenerating
it gives the same bytes.  Integer scores 1-5; 12 specialties that differ in severity, each
rating mostly (70%) the drugs of "its" therapeutic area, so the specialty effect is confounded
with the drugs (the case issue 14 checked from outside).  Drug popularity is skewed (a few
drugs with hundreds of ratings, many with a handful) and rater activity is geometric.
"""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 20261130
N_ITEMS, N_RATERS, N_GROUPS, TARGET = 1600, 20000, 12, 150_000


def generate() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(item, rater, group_of_rating, score)`` with exactly ``TARGET`` rows."""
    rng = np.random.default_rng(SEED)
    item_eff = rng.normal(0.0, 0.4, N_ITEMS)
    rater_eff = rng.normal(0.0, 0.5, N_RATERS)
    severity = rng.normal(0.0, 0.3, N_GROUPS)
    area = np.arange(N_ITEMS) % N_GROUPS
    popularity = rng.pareto(1.2, N_ITEMS) + 0.2
    group = rng.integers(0, N_GROUPS, N_RATERS)
    k = 1 + rng.geometric(1 / 10.0, N_RATERS)
    rater = np.repeat(np.arange(N_RATERS), k)
    own = rng.random(rater.size) < 0.7
    item = np.empty(rater.size, dtype=np.int64)
    p_all = popularity / popularity.sum()
    item[~own] = rng.choice(N_ITEMS, int((~own).sum()), p=p_all)
    for g in range(N_GROUPS):
        pool = np.flatnonzero(area == g)
        sel = own & (group[rater] == g)
        p = popularity[pool] / popularity[pool].sum()
        item[sel] = pool[rng.choice(pool.size, int(sel.sum()), p=p)]
    # One rating per (drug, rater), then exactly TARGET of them in a random order.
    _, first = np.unique(item * N_RATERS + rater, return_index=True)
    pick = rng.permutation(first)[:TARGET]
    item, rater = item[pick], rater[pick]
    mean = 3.4 + item_eff[item] + rater_eff[rater] + severity[group[rater]]
    score = np.clip(np.rint(mean + rng.normal(0.0, 0.8, item.size)), 1, 5).astype(np.int64)
    return item, rater, group[rater], score


def main() -> None:
    item, rater, group, score = generate()
    assert item.size == TARGET, item.size
    text = io.StringIO()
    w = csv.writer(text, lineterminator="\n")
    w.writerow(("item", "rater", "rater_group", "score"))
    rows = zip(item.tolist(), rater.tolist(), group.tolist(), score.tolist(), strict=True)
    for i, r, g, s in rows:
        w.writerow((f"d{i:04d}", f"r{r:05d}", f"s{g:02d}", s))
    with (
        open(HERE / "large.csv.gz", "wb") as raw,
        gzip.GzipFile(filename="large.csv", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
    ):
        gz.write(text.getvalue().encode())
    print(f"{TARGET} ratings, {np.unique(item).size} drugs, {np.unique(rater).size} raters")


if __name__ == "__main__":
    main()
