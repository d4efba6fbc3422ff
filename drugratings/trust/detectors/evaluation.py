"""Evaluation harness: inject the three attacks into honest simulated data and score detectors.

Run ``python -m drugratings.trust.detectors.evaluation [--seeds 0 1 ...]`` (seeds 0-9 by
default, about 90 s).  For each attack the flags of all detectors are attributed to it when
they fall on its scope (the attacked drug; for the bashing attack, the attacked drugs of the
manufacturer), and scored at the account and the rating level.  Honest accounts flagged
anywhere count against the false-positive target.  The process exits with status 1 when a
target is missed for any seed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from . import DETECTORS
from ._common import rating_means
from .attacks import Attack, Scenario, inject_attacks
from .simulation import simulate_honest
from .table import RatingTable, Suspicion

TARGET_PRECISION = 0.8
TARGET_RECALL = 0.8
TARGET_HONEST_RATE = 0.01


@dataclass(frozen=True)
class AttackScore:
    """Precision/recall of the union of flags on one attack's scope, and the score it moved."""

    name: str
    n_accounts: int
    n_ratings: int
    account_precision: float
    account_recall: float
    rating_precision: float
    rating_recall: float
    mean_before: float  # honest ratings of the attacked drug(s)
    mean_with: float  # honest and attack ratings
    mean_after: float  # honest and attack ratings minus every flagged rating
    recall_by_detector: Mapping[str, float]

    @property
    def passed(self) -> bool:
        return (
            min(self.account_precision, self.rating_precision) >= TARGET_PRECISION
            and min(self.account_recall, self.rating_recall) >= TARGET_RECALL
        )


@dataclass(frozen=True)
class Evaluation:
    seed: int
    n_ratings: int
    n_physicians: int
    attacks: tuple[AttackScore, ...]
    honest_flagged: int
    n_honest: int
    flagged_by_detector: Mapping[str, int]  # honest accounts flagged, per detector
    detector_seconds: float

    @property
    def honest_rate(self) -> float:
        return self.honest_flagged / max(1, self.n_honest)

    @property
    def passed(self) -> bool:
        return all(a.passed for a in self.attacks) and self.honest_rate <= TARGET_HONEST_RATE


def _ratio(num: int, den: int) -> float:
    # An empty set of flags has no false positives: precision 1 by convention, recall 0.
    return num / den if den else 1.0


def score_attack(
    table: RatingTable,
    honest: RatingTable,
    attack: Attack,
    found: list[Suspicion],
    names: tuple[str, ...] = tuple(DETECTORS),
) -> AttackScore:
    """Score the union of ``found`` on ``attack``'s scope."""
    scope = np.isin(table.drug, attack.drugs)
    is_attack = np.isin(table.rating_id, attack.rating_ids)
    flagged_ids = np.unique(np.concatenate([s.rating_ids for s in found] or [np.zeros(0)]))
    flagged = scope & np.isin(table.rating_id, flagged_ids)
    hit = int((flagged & is_attack).sum())
    accounts = np.unique(table.physician[flagged])
    acc_hit = int(np.isin(accounts, attack.physician_ids).sum())
    y = rating_means(table)
    y_honest = rating_means(honest)[np.isin(honest.drug, attack.drugs)]
    by_detector = {}
    for name in names:
        ids = [s.rating_ids for s in found if s.detector == name]
        mine = np.isin(attack.rating_ids, np.concatenate(ids)) if ids else np.zeros(1, bool)
        by_detector[name] = float(mine.mean())
    return AttackScore(
        name=attack.name,
        n_accounts=int(attack.physician_ids.size),
        n_ratings=int(attack.rating_ids.size),
        account_precision=_ratio(acc_hit, accounts.size),
        account_recall=acc_hit / attack.physician_ids.size,
        rating_precision=_ratio(hit, int(flagged.sum())),
        rating_recall=hit / attack.rating_ids.size,
        mean_before=float(np.nanmean(y_honest)),
        mean_with=float(np.nanmean(y[scope])),
        mean_after=float(np.nanmean(y[scope & ~flagged])),
        recall_by_detector=by_detector,
    )


def evaluate(
    seed: int = 0,
    detectors: Mapping[str, Callable[[RatingTable], list[Suspicion]]] | None = None,
    scenario: Scenario | None = None,
    ring_days: float = 21.0,
) -> Evaluation:
    """Simulate (unless ``scenario`` is given), run the detectors and score them."""
    scenario = scenario or inject_attacks(simulate_honest(seed), seed, ring_days=ring_days)
    table = scenario.table
    detectors = DETECTORS if detectors is None else detectors
    started = time.perf_counter()
    found = [s for detect in detectors.values() for s in detect(table)]
    seconds = time.perf_counter() - started
    attackers = np.unique(np.concatenate([a.physician_ids for a in scenario.attacks]))
    honest_accounts = np.setdiff1d(np.unique(table.physician), attackers)
    by_detector = {}
    all_flagged: list[np.ndarray] = []
    for name in detectors:
        accounts = [s.physician_ids for s in found if s.detector == name]
        flagged = np.unique(np.concatenate(accounts)) if accounts else np.zeros(0, np.int64)
        flagged = np.setdiff1d(flagged, attackers)
        by_detector[name] = int(flagged.size)
        all_flagged.append(flagged)
    honest_flagged = np.unique(np.concatenate(all_flagged)) if all_flagged else np.zeros(0)
    return Evaluation(
        seed=seed,
        n_ratings=len(table),
        n_physicians=int(np.unique(table.physician).size),
        attacks=tuple(
            score_attack(table, scenario.honest, a, found, tuple(detectors))
            for a in scenario.attacks
        ),
        honest_flagged=int(honest_flagged.size),
        n_honest=int(honest_accounts.size),
        flagged_by_detector=by_detector,
        detector_seconds=seconds,
    )


def format_evaluation(ev: Evaluation) -> str:
    """A plain-text table of one seed's results."""
    head = (
        f"seed {ev.seed}: {ev.n_ratings} ratings, {ev.n_physicians} physicians, detectors "
        f"{ev.detector_seconds:.1f} s"
    )
    cols = (
        f"{'attack':<8} {'accts':>5} {'rtgs':>5} {'acc P':>6} {'acc R':>6} {'rtg P':>6} "
        f"{'rtg R':>6} {'before':>7} {'with':>6} {'after':>6}  recall by detector"
    )
    lines = [head, cols]
    for a in ev.attacks:
        per = ", ".join(f"{k} {v:.2f}" for k, v in a.recall_by_detector.items())
        lines.append(
            f"{a.name:<8} {a.n_accounts:>5} {a.n_ratings:>5} {a.account_precision:>6.2f} "
            f"{a.account_recall:>6.2f} {a.rating_precision:>6.2f} {a.rating_recall:>6.2f} "
            f"{a.mean_before:>7.2f} {a.mean_with:>6.2f} {a.mean_after:>6.2f}  {per}"
            + ("" if a.passed else "  MISSED")
        )
    per = ", ".join(f"{k} {v}" for k, v in ev.flagged_by_detector.items())
    lines.append(
        f"honest accounts flagged: {ev.honest_flagged} of {ev.n_honest} "
        f"({100 * ev.honest_rate:.2f}%; {per})"
        + ("" if ev.honest_rate <= TARGET_HONEST_RATE else "  MISSED")
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument(
        "--ring-days",
        type=float,
        default=21.0,
        help="days over which the ring posts its 5s (sensitivity check)",
    )
    args = parser.parse_args(argv)
    ok = True
    for seed in args.seeds:
        ev = evaluate(seed, ring_days=args.ring_days)
        print(format_evaluation(ev), flush=True)
        print()
        ok &= ev.passed
    print("all targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
