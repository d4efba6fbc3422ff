"""Cohorts: accounts created together that rate alike, and an honest hospital wave."""

from __future__ import annotations

import numpy as np

from drugratings.trust.detectors import cohorts

from .helpers import (
    DAY,
    MID,
    append,
    bootstrap_scores,
    drug_mean,
    flagged,
    new_physicians,
    small_world,
)


def _ordinary_drug(table) -> int:
    counts = np.bincount(table.drug)
    for d in np.argsort(-counts)[10:]:
        if drug_mean(table, int(d)) < 3.8:
            return int(d)
    raise AssertionError("no drug fits")


def test_sign_up_cohort_rating_alike_is_flagged():
    table = small_world().table
    drug = _ordinary_drug(table)
    rng = np.random.default_rng(3)
    who = new_physicians(table, 12)
    joined = MID + rng.uniform(0, 3 * 3600, who.size)  # one evening, one network
    # Spread over two weeks, so this is not a burst: only the shared origin gives it away.
    created = joined + rng.uniform(DAY, 14 * DAY, who.size)
    table, planted = append(
        table,
        who,
        np.full(who.size, drug),
        created,
        np.full((who.size, 5), 5.0),
        joined=joined,
        network=np.full(who.size, 777_777),
    )
    found = cohorts.detect(table)
    ids, _ = flagged(found)
    assert np.isin(planted, ids).mean() >= 0.9
    assert np.isin(ids, planted).all()
    assert "network cohort" in found[0].reason


def test_honest_hospital_wave_is_left_alone():
    table = small_world().table
    rng = np.random.default_rng(4)
    counts = np.bincount(table.drug)
    popular = np.argsort(-counts)[:8]
    who = new_physicians(table, 30)
    joined = MID + rng.uniform(0, 6 * 3600, who.size)  # on-boarding day, shared kiosks
    phys = np.repeat(who, 6)
    drug = np.concatenate([rng.choice(popular, 6, replace=False) for _ in who])
    created = np.repeat(joined, 6) + rng.uniform(DAY, 60 * DAY, phys.size)
    scores = bootstrap_scores(table, drug, rng)  # they disagree as much as anyone does
    table, planted = append(
        table,
        phys,
        drug,
        created,
        scores,
        joined=np.repeat(joined, 6),
        network=np.full(phys.size, 888_888),
        device=np.repeat(rng.integers(0, 3, who.size) + 999_000, 6),
    )
    ids, _ = flagged(cohorts.detect(table))
    assert not np.isin(planted, ids).any()


def test_spike_of_sign_ups_from_many_networks_is_a_cohort():
    table = small_world().table
    drug = _ordinary_drug(table)
    rng = np.random.default_rng(5)
    who = new_physicians(table, 15)
    joined = MID + rng.uniform(0, 6 * 3600, who.size)  # distinct networks and devices
    created = joined + rng.uniform(DAY, 20 * DAY, who.size)
    table, planted = append(
        table, who, np.full(who.size, drug), created, np.full((who.size, 5), 1.0), joined=joined
    )
    found = cohorts.detect(table)
    ids, _ = flagged(found)
    assert np.isin(planted, ids).mean() >= 0.9
    assert "spike cohort" in found[0].reason


def test_honest_data_raise_nothing():
    assert cohorts.detect(small_world().table) == []


def test_indications_of_one_drug_do_not_make_a_cohort_cell():
    table = small_world().table
    drug = _ordinary_drug(table)
    rng = np.random.default_rng(6)
    who = new_physicians(table, 4)  # four members, below ``min_cell`` = 5 raters
    joined = MID + rng.uniform(0, 3 * 3600, who.size)
    phys = np.repeat(who, 3)  # each rates the drug for three indications
    created = np.repeat(joined, 3) + rng.uniform(DAY, 14 * DAY, phys.size)
    table, planted = append(
        table,
        phys,
        np.full(phys.size, drug),
        created,
        np.full((phys.size, 5), 5.0),
        joined=np.repeat(joined, 3),
        network=np.full(phys.size, 777_777),
    )
    ids, _ = flagged(cohorts.detect(table))
    assert not np.isin(planted, ids).any()
