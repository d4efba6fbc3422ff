"""The public interface and the evaluation harness's arithmetic."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from drugratings.trust.detectors import DETECTORS, RatingTable, Suspicion, run_all
from drugratings.trust.detectors.attacks import Attack, inject_attacks
from drugratings.trust.detectors.evaluation import score_attack

from .helpers import small_world


def test_registry_and_run_all():
    assert list(DETECTORS) == ["bursts", "dense_blocks", "manufacturer_bias", "cohorts"]
    # Honest data alone raise nothing; the planted attacks are found by every detector.
    assert run_all(small_world().table) == []
    table = inject_attacks(small_world(), seed=0).table
    found = run_all(table)
    assert found, "the planted attacks raised nothing"
    assert all(isinstance(s, Suspicion) for s in found)
    assert {s.detector for s in found} == set(DETECTORS)
    # run_all is each detector in registry order, nothing dropped or added.
    assert [s.detector for s in found] == [
        name for name, detect in DETECTORS.items() for _ in detect(table)
    ]
    assert all(np.isin(s.rating_ids, table.rating_id).all() for s in found)


def test_package_does_not_import_django():
    code = (
        "import sys, drugratings.trust.detectors.evaluation; "
        "sys.exit(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_score_attack_counts_only_the_attack_scope():
    n = 6
    table = RatingTable(
        rating_id=np.arange(n),
        physician=np.array([1, 2, 3, 4, 5, 6]),
        drug=np.array([7, 7, 7, 7, 8, 8]),
        manufacturer=np.full(n, -1),
        drug_class=np.full(n, -1),
        created=np.zeros(n),
        scores=np.array([[5.0] * 5, [5.0] * 5, [3.0] * 5, [3.0] * 5, [1.0] * 5, [1.0] * 5]),
        physician_joined=np.zeros(n),
        physician_network=np.full(n, -1),
        physician_device=np.full(n, -1),
    )
    honest = table.subset(np.array([2, 3, 4, 5]))
    attack = Attack("ring", np.array([0, 1]), np.array([1, 2]), np.array([7]), -1)
    # Flags: one attack rating, one honest rating of the drug, one rating of another drug.
    found = [Suspicion("bursts", np.array([0, 2, 4]), np.array([1, 3, 5]), 1.0, "")]
    s = score_attack(table, honest, attack, found, ("bursts",))
    assert (s.rating_precision, s.rating_recall) == (0.5, 0.5)
    assert (s.account_precision, s.account_recall) == (0.5, 0.5)
    assert (s.mean_before, s.mean_with, s.mean_after) == (3.0, 4.0, 4.0)
    assert s.recall_by_detector == {"bursts": 0.5}
