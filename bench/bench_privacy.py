"""Privacy cost and utility of pharma releases, before and after issue 13.

    python bench/bench_privacy.py [--quick]

"Before" uses the parameters and formula of the release engine before issue 13 (count noise 3,
sum noise 6, trees of 1,024 steps, 8 noisy cells per rating: none/specialty/region/month at the
drug x indication and drug levels, replace sensitivity); "after" uses today's settings
(`current_policy()`). Prints and writes bench/results/privacy.json:
  1. rho of one new rating across every cell it feeds (target: after <= before / 4);
  2. the noise SD on the published mean of a 300-physician cell, from the formula (all tree
     levels, the worst case) and measured over simulated trees with OpenDP's Gaussian sampler
     at a random step (target: after <= before);
  3. the same for a drug-level cell of 300 physicians split over two indications (after: the
     sum of two drug x indication cells), for the record;
  4. a colluding batch attack on the tree mechanism: 10 physicians who know their own changes
     and that the target changes in the same step (the residual risk METHODOLOGY.md states),
     and a batch of 4, which moves nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "drugratings.settings")

import django  # noqa: E402

django.setup()

from drugratings.portal.privacy import tree  # noqa: E402
from drugratings.portal.privacy.noise import noisy_nodes  # noqa: E402
from drugratings.portal.privacy.policy import PrivacyPolicy, current_policy  # noqa: E402

BEFORE = PrivacyPolicy(
    min_raters=11,
    count_noise=3.0,
    sum_noise=6.0,
    max_steps=1024,
    min_batch=5,
    rho_budget=50000,
    within_cell_sd=1.0,
    leniency_shrinkage=5.0,
)
BEFORE_CELLS_PER_RATING = 8


def rho_before(policy: PrivacyPolicy) -> float:
    return BEFORE_CELLS_PER_RATING * policy.levels * policy.rho_node


def measured_noise_sd(policy: PrivacyPolicy, n: int, parts: int, trials: int, seed: int) -> float:
    """SD of (published mean - true mean) of a cell of n physicians, split over `parts` trees
    (summed, as drug-level cells are after issue 13), each at a random step."""
    rng = np.random.default_rng(seed)
    errors = []
    for _ in range(trials):
        values = rng.uniform(-2, 2, size=(n, 5))
        true = np.hstack([np.full(5, float(n)), values.sum(axis=0)])
        noisy_total = np.zeros(10)
        for share in np.array_split(np.arange(n), parts):
            part_true = np.hstack([np.full(5, float(len(share))), values[share].sum(axis=0)])
            steps = int(rng.integers(1, policy.max_steps + 1))
            nodes = bin(steps).count("1")
            noise = noisy_nodes(np.zeros((nodes, 10)), policy)
            noisy_total += part_true + noise.sum(axis=0)
        mean = noisy_total[5:] / noisy_total[:5]
        errors.append(mean - true[5:] / true[:5])
    return float(np.std(np.concatenate(errors)))


def collusion_accuracy(
    policy: PrivacyPolicy,
    step_min: int,
    cells: tuple[int, ...],
    colluders: int,
    trials: int,
    seed: int,
) -> float:
    """The noisy cells the target feeds (sizes in physicians: before issue 13 the drug-level
    trees had noise of their own, so each of none/specialty/region counts twice; after, the
    drug-level cells are sums and add nothing). The batch changes with the target between two
    releases; the attacker subtracts its own known changes from the difference of the noisy
    totals and guesses 1 or 5. A cell steps only when `step_min` physicians' changes are
    pending (5 before, k = 11 after): with fewer, nothing moves and the guess is a coin."""
    rng = np.random.default_rng(seed)
    k = step_min
    correct = 0
    for _ in range(trials):
        secret = rng.choice((1, 5))
        if colluders + 1 < k:
            correct += rng.choice((1, 5)) == secret
            continue
        evidence = 0.0
        for size in cells:
            state = tree.empty_state()
            base = rng.uniform(-2, 2, size=(size, 5))
            first = np.hstack([np.full(5, float(size)), base.sum(axis=0)])
            planned, node = tree.plan_step(state, first)
            for _ in range(int(rng.integers(0, 6))):  # some earlier steps
                planned = tree.attach_noise(planned, noisy_nodes(node[None, :], policy)[0])
                planned, node = tree.plan_step(planned, np.zeros(10))
            state = tree.attach_noise(planned, noisy_nodes(node[None, :], policy)[0])
            before = tree.totals(state)[0]
            known_old = rng.uniform(-2, 2, size=(colluders, 5))
            known_new = rng.uniform(-2, 2, size=(colluders, 5))
            target = np.full(5, secret - 3.0)
            change = np.hstack([np.ones(5), known_new.sum(0) - known_old.sum(0) + target])
            planned, node = tree.plan_step(state, change)
            after = tree.totals(tree.attach_noise(planned, noisy_nodes(node[None, :], policy)[0]))[
                0
            ]
            estimate = after[5:] - before[5:] - (known_new.sum(0) - known_old.sum(0))
            evidence += float(estimate.sum())
        correct += (5 if evidence > 0 else 1) == secret
    return correct / trials


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    trials = 200 if args.quick else 1000
    after = current_policy()
    rows = []

    def row(measurement: str, before: float, now: float, target: str, ok: bool | None) -> None:
        verdict = "" if ok is None else "PASS" if ok else "FAIL"
        rows.append(
            {
                "section": "privacy",
                "measurement": measurement,
                "before": round(before, 4),
                "after": round(now, 4),
                "target": target,
                "verdict": verdict,
            }
        )
        print(f"{measurement:58s} {before:10.4f} {now:10.4f}  {target:22s} {verdict}")

    print(f"{'measurement':58s} {'before':>10s} {'after':>10s}  target")
    old_rho, new_rho = rho_before(BEFORE), after.rho_per_new_rating
    row(
        "rho of one new rating (all cells it feeds)",
        old_rho,
        new_rho,
        "after <= before/4",
        new_rho <= old_rho / 4,
    )
    row(
        "noise SD, 300-physician cell mean (formula, all levels)",
        BEFORE.noise_sd_of_mean(300),
        after.noise_sd_of_mean(300),
        "after <= before",
        after.noise_sd_of_mean(300) <= BEFORE.noise_sd_of_mean(300),
    )
    m_before = measured_noise_sd(BEFORE, 300, 1, trials, seed=1)
    m_after = measured_noise_sd(after, 300, 1, trials, seed=1)
    row(
        "noise SD, 300-physician cell mean (measured, OpenDP)",
        m_before,
        m_after,
        "after <= before",
        m_after <= m_before,
    )
    d_after = measured_noise_sd(after, 300, 2, trials, seed=2)
    row(
        "noise SD, drug cell of 300 over 2 indications (measured)",
        m_before,
        d_after,
        "for the record",
        None,
    )
    row(
        "epsilon (delta 1e-6) of one new rating",
        epsilon(old_rho),
        epsilon(new_rho),
        "for the record",
        None,
    )
    attack_trials = 200 if args.quick else 600
    for colluders in (4, 10):
        acc_before = collusion_accuracy(
            BEFORE, BEFORE.min_batch, (300, 60, 40) * 2, colluders, attack_trials, colluders
        )
        acc_after = collusion_accuracy(
            after, after.step_min_physicians, (300, 60, 40), colluders, attack_trials, colluders
        )
        row(
            f"attack: batch of {colluders} + target, accuracy (1 vs 5)",
            acc_before,
            acc_after,
            "for the record",
            None,
        )
    out = BENCH / "results" / "privacy.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"rows": rows}, indent=2))
    print(f"wrote {out}")
    return 0


def epsilon(rho: float) -> float:
    from drugratings.portal.privacy.policy import epsilon_for

    return epsilon_for(rho)


if __name__ == "__main__":
    sys.exit(main())
