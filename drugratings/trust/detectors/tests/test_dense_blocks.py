"""FRAUDAR dense blocks: the peeling itself, a planted block, and honest data."""

from __future__ import annotations

import numpy as np

from drugratings.trust.detectors import dense_blocks
from drugratings.trust.detectors._fraudar import column_weights, peel

from .helpers import flagged, plant_bashing, small_world


def test_peeling_finds_a_planted_complete_block():
    rng = np.random.default_rng(0)
    # Background: 300 rows with one random edge each over 200 columns; block: rows 0-7 x cols
    # 0-4 complete.
    row = np.concatenate([np.repeat(np.arange(8), 5), np.arange(8, 308)])
    col = np.concatenate([np.tile(np.arange(5), 8), rng.integers(5, 200, 300)])
    block = peel(row, col, np.ones(row.size), 308, 200, min_rows=2, min_cols=2)
    np.testing.assert_array_equal(block.rows, np.arange(8))
    np.testing.assert_array_equal(block.cols, np.arange(5))
    assert block.density == 40 / 13


def test_column_weights_discount_popular_columns():
    w = column_weights(np.array([0, 0, 0, 1]), 2, c=5.0)
    assert w[0] == 1 / np.log(8) and w[3] == 1 / np.log(6)


def test_planted_block_is_found():
    table, planted, who, manu = plant_bashing(small_world().table, k=14)
    found = dense_blocks.detect(table)
    ids, phys = flagged(found)
    assert np.isin(phys, who).mean() >= 0.8  # precision
    assert np.isin(who, phys).mean() >= 0.6  # FRAUDAR keeps raters with 2+ block edges
    assert np.isin(ids, planted).mean() >= 0.8
    assert f"manufacturer {manu}" in found[0].reason


def test_honest_data_with_lenient_raters_raise_nothing():
    # A tenth of the simulated raters are lenient or harsh by 0.9 points and give many 5s or
    # 1-2s to the popular drugs of their specialty: the look-alike of a block.
    assert dense_blocks.detect(small_world().table) == []


def test_a_single_drug_is_not_a_block():
    table = small_world().table
    counts = np.bincount(table.drug)
    drug = int(np.argsort(-counts)[20])
    rng = np.random.default_rng(4)
    from .helpers import append, new_physicians

    who = new_physicians(table, 30)
    table, _ = append(
        table, who, np.full(30, drug), 1.7e9 + rng.uniform(0, 1e6, 30), np.full((30, 5), 5.0)
    )
    assert dense_blocks.detect(table) == []
