"""Smoke test of the validation study machinery (the study itself is `make validate`)."""

from __future__ import annotations

import numpy as np

from ratingstats.validation.druglib import held_out
from ratingstats.validation.report import summary_table, write_report
from ratingstats.validation.simulate import draw, evaluate
from ratingstats.validation.study import run_study


def test_scenarios_draw_and_truth():
    rng = np.random.default_rng(0)
    for name in (
        "random",
        "specialty_confounded",
        "new_drugs",
        "severity_confounded",
        "no_rater_variance",
        "rank_classes",
        "ordinal",
    ):
        d = draw(name, rng)
        assert d.item.size == d.rater.size == d.score.size > 1000
        assert d.truth.shape == (d.n_items,)
        rec = evaluate(d, rng, ranks=name == "rank_classes")
        assert 0.7 < rec.covered.mean() <= 1.0


def test_druglib_heldout_uses_bundled_data():
    res = held_out()
    assert [h.n_test for h in res] == [1036] * 3
    assert all(np.isfinite(h.rmse_model) for h in res)


def test_tiny_study_writes_report(tmp_path):
    st = run_study(reps=2, large_reps=1, log=lambda s: None)
    path = write_report(st, tmp_path, "test")
    assert path.exists() and (tmp_path / "coverage.png").stat().st_size > 1000
    assert "coverage: (a) random assignment" in summary_table(st)
