"""Manufacturer bias: a bashing group and a lone promoter; harsh raters are left alone."""

from __future__ import annotations

import numpy as np

from drugratings.trust.detectors import manufacturer_bias
from drugratings.trust.detectors._common import loo_residuals

from .helpers import DAY, SPAN, T0, append, flagged, plant_bashing, small_world


def test_bashing_group_is_flagged():
    table, planted, who, manu = plant_bashing(small_world().table, k=12)
    found = manufacturer_bias.detect(table)
    ids, phys = flagged(found)
    assert np.isin(who, phys).mean() >= 0.8
    assert np.isin(planted, ids).mean() >= 0.8
    mine = [s for s in found if f"manufacturer {manu}'s" in s.reason]
    assert np.isin(np.concatenate([s.physician_ids for s in mine]), who).mean() >= 0.8


def test_lone_promoter_is_flagged():
    table = small_world().table
    rng = np.random.default_rng(8)
    counts = np.bincount(table.physician)
    rater = int(rng.choice(np.flatnonzero(counts >= 25)))
    mine = np.unique(table.manufacturer[table.physician == rater])
    # A manufacturer the rater never rated; they give its four lowest-rated drugs 5s.
    for manu in np.unique(table.manufacturer[table.manufacturer >= 0]):
        drugs = np.unique(table.drug[table.manufacturer == manu])
        if manu not in mine and drugs.size >= 4:
            break
    means = np.array([np.nanmean(table.scores[table.drug == d]) for d in drugs])
    drugs = drugs[np.argsort(means)[:4]]
    created = T0 + SPAN - rng.uniform(0, 9, 4) * DAY
    table, planted = append(table, np.full(4, rater), drugs, created, np.full((4, 5), 5.0))
    found = manufacturer_bias.detect(table)
    ids, phys = flagged(found)
    assert np.isin(planted, ids).all()
    # The promoter and nobody else (honest data alone raise nothing here).
    assert phys.tolist() == [rater]


def test_harsh_rater_is_compared_with_themself():
    table = small_world().table
    counts = np.bincount(table.physician)
    rater = int(np.flatnonzero(counts >= 30)[0])
    scores = table.scores.copy()
    mine = table.physician == rater
    scores[mine] = np.clip(scores[mine] - 2, 1, 5)  # harsh about everything, every company
    harsh = type(table)(**{**table.__dict__, "scores": scores})
    assert np.nanmean(loo_residuals(harsh)[mine]) < -1.0
    _, phys = flagged(manufacturer_bias.detect(harsh))
    assert rater not in phys


def test_honest_data_raise_at_most_a_handful():
    table = small_world().table
    _, phys = flagged(manufacturer_bias.detect(table))
    assert phys.size <= 0.002 * np.unique(table.physician).size + 1


def test_indications_of_one_drug_are_one_opinion():
    table = small_world().table
    rng = np.random.default_rng(9)
    counts = np.bincount(table.physician)
    rater = int(rng.choice(np.flatnonzero(counts >= 25)))
    mine = np.unique(table.manufacturer[table.physician == rater])
    for manu in np.unique(table.manufacturer[table.manufacturer >= 0]):
        drugs = np.unique(table.drug[table.manufacturer == manu])
        if manu not in mine and drugs.size >= 1:
            break
    means = np.array([np.nanmean(table.scores[table.drug == d]) for d in drugs])
    drug = drugs[np.argmin(means)]
    # Three indications of one drug, all 5s: one opinion, short of ``min_ratings`` drugs.
    created = T0 + SPAN - rng.uniform(0, 9, 3) * DAY
    table, planted = append(
        table, np.full(3, rater), np.full(3, drug), created, np.full((3, 5), 5.0)
    )
    ids, _ = flagged(manufacturer_bias.detect(table))
    assert not np.isin(planted, ids).any()
