"""RatingTable and Suspicion validation."""

from __future__ import annotations

import numpy as np
import pytest

from drugratings.trust.detectors import RatingTable, Suspicion


def _columns(n: int = 4) -> dict:
    return {
        "rating_id": np.arange(n),
        "physician": np.arange(n),
        "drug": np.zeros(n, dtype=int),
        "manufacturer": np.full(n, -1),
        "drug_class": np.full(n, -1),
        "created": np.arange(n, dtype=float),
        "scores": np.full((n, 5), 3.0),
        "physician_joined": np.zeros(n),
        "physician_network": np.full(n, -1),
        "physician_device": np.full(n, -1),
    }


@pytest.mark.parametrize("field", [k for k in _columns() if k != "rating_id"])
def test_mismatched_length_names_the_field(field):
    cols = _columns()
    cols[field] = cols[field][:-1]
    with pytest.raises(ValueError, match=rf"RatingTable\.{field} has length 3 but rating_id has 4"):
        RatingTable(**cols)


def test_scores_must_have_five_dimensions():
    cols = _columns()
    cols["scores"] = np.full((4, 4), 3.0)
    with pytest.raises(ValueError, match=r"RatingTable\.scores must have shape \(n, 5\)"):
        RatingTable(**cols)


def test_two_dimensional_field_is_rejected_by_name():
    cols = _columns()
    cols["drug"] = np.zeros((4, 2), dtype=int)
    with pytest.raises(ValueError, match=r"RatingTable\.drug must be one-dimensional"):
        RatingTable(**cols)


def test_out_of_range_scores_and_duplicate_ids_are_rejected():
    cols = _columns()
    cols["scores"] = cols["scores"].copy()
    cols["scores"][0, 0] = 6
    with pytest.raises(ValueError, match=r"RatingTable\.scores must lie in \[1, 5\]"):
        RatingTable(**cols)
    cols = _columns()
    cols["rating_id"] = np.array([1, 1, 2, 3])
    with pytest.raises(ValueError, match="rating_id contains duplicates"):
        RatingTable(**cols)


def test_non_finite_times_are_rejected():
    cols = _columns()
    cols["created"] = np.array([0.0, np.nan, 1.0, 2.0])
    with pytest.raises(ValueError, match=r"RatingTable\.created contains non-finite"):
        RatingTable(**cols)


def test_table_is_read_only_and_copies_its_input():
    cols = _columns()
    table = RatingTable(**cols)
    cols["drug"][0] = 7  # the caller's array is not shared
    assert table.drug[0] == 0
    with pytest.raises(ValueError):
        table.drug[0] = 1
    assert np.isnan(RatingTable(**{**cols, "scores": np.full((4, 5), np.nan)}).scores).all()


def test_subset_and_concat_round_trip():
    table = RatingTable(**_columns())
    a, b = table.subset(np.array([True, True, False, False])), table.subset(np.array([2, 3]))
    both = RatingTable.concat([a, b])
    assert len(both) == 4
    np.testing.assert_array_equal(both.rating_id, table.rating_id)


def test_suspicion_sorts_and_deduplicates_ids():
    s = Suspicion("x", np.array([3, 1, 3]), [2, 2], 1, "why")
    np.testing.assert_array_equal(s.rating_ids, [1, 3])
    np.testing.assert_array_equal(s.physician_ids, [2])
    assert isinstance(s.score, float)
