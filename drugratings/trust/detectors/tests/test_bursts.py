"""The burst detector finds a campaign of new accounts and leaves natural surges alone."""

from __future__ import annotations

import numpy as np

from drugratings.trust.detectors import bursts

from .helpers import (
    DAY,
    MID,
    append,
    bootstrap_scores,
    drug_counts,
    flagged,
    new_physicians,
    small_world,
)


def _drug_with(table, lo: int, hi: int) -> int:
    counts = drug_counts(table)
    return int(np.flatnonzero((counts >= lo) & (counts <= hi))[0])


def test_campaign_of_new_accounts_is_flagged():
    table = small_world().table
    drug = _drug_with(table, 80, 200)
    rng = np.random.default_rng(1)
    who = new_physicians(table, 25)
    joined = MID + rng.uniform(0, DAY, who.size)
    table, planted = append(
        table,
        who,
        np.full(who.size, drug),
        joined + rng.uniform(600, DAY, who.size),
        np.full((who.size, 5), 5.0),
        joined=joined,
    )
    found = [s for s in bursts.detect(table) if np.isin(s.rating_ids, planted).any()]
    assert len(found) == 1
    ids, _ = flagged(found)
    assert np.isin(planted, ids).mean() >= 0.9
    assert np.isin(ids, planted).mean() >= 0.9
    assert "Burst of" in found[0].reason and found[0].score > 4


def test_natural_surge_of_ordinary_ratings_is_left_alone():
    table = small_world().table
    counts = drug_counts(table)
    drug = int(np.argmax(counts))  # a genuinely popular drug
    rng = np.random.default_rng(2)
    k = 80  # many times its usual three days' worth, half of them from brand-new accounts
    who = np.concatenate(
        [
            new_physicians(table, k // 2),
            rng.choice(np.unique(table.physician), k // 2, replace=False),
        ]
    )
    created = MID + rng.uniform(0, 3 * DAY, k)
    scores = bootstrap_scores(table, np.full(k, drug), rng)
    table, planted = append(
        table, who, np.full(k, drug), created, scores, joined=created - rng.uniform(600, DAY, k)
    )
    suspicious = [s for s in bursts.detect(table) if np.isin(s.rating_ids, planted).any()]
    assert suspicious == []


def test_honest_data_alone_raise_nothing():
    assert bursts.detect(small_world().table) == []


def test_established_raters_inside_a_burst_are_not_flagged():
    table = small_world().table
    drug = _drug_with(table, 80, 200)
    rng = np.random.default_rng(3)
    counts = np.bincount(table.physician)
    old = np.unique(table.physician[table.physician_joined < MID - 200 * DAY])
    veterans = rng.choice(old[counts[old] >= 20], 25, replace=False)
    veterans = veterans[~np.isin(veterans, table.physician[table.drug == drug])]
    created = MID + rng.uniform(0, DAY, veterans.size)
    table, planted = append(
        table, veterans, np.full(veterans.size, drug), created, np.full((veterans.size, 5), 5.0)
    )
    ids, _ = flagged(bursts.detect(table))
    assert not np.isin(planted, ids).any()
