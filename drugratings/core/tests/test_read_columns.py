"""`read_columns`: rows of a query as typed numpy columns, parsed from one text (PostgreSQL)."""

from __future__ import annotations

from datetime import UTC

import numpy as np
import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

from drugratings.core.batches import read_columns  # noqa: E402

KINDS = {"n": "int", "x": "float", "label": "str"}


def _needs_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("one text through string_agg is PostgreSQL's")


def test_columns_come_typed_with_null_floats_as_nan():
    _needs_postgresql()
    columns = read_columns(
        "SELECT g AS n, CASE WHEN g = 2 THEN NULL ELSE g / 4.0 END AS x, "
        "CASE WHEN g = 3 THEN '' ELSE 'US-' || g END AS label FROM generate_series(1, 3) g",
        [],
        KINDS,
    )
    assert columns["n"].dtype == np.int64 and columns["n"].tolist() == [1, 2, 3]
    np.testing.assert_array_equal(columns["x"], [0.25, np.nan, 0.75])
    assert columns["label"].dtype.kind == "U" and columns["label"].tolist() == ["US-1", "US-2", ""]


def test_no_rows_give_empty_columns_of_each_kind():
    _needs_postgresql()
    columns = read_columns("SELECT 1 AS n, 0.5 AS x, 'a' AS label WHERE false", [], KINDS)
    assert {name: values.size for name, values in columns.items()} == {"n": 0, "x": 0, "label": 0}


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT NULL::int AS n, 1.0 AS x, 'a' AS label", "a NULL"),
        ("SELECT 1 AS n, 1.0 AS x, NULL::text AS label", "a NULL"),
        ("SELECT 1 AS n, 1.0 AS x, E'two\\nlines' AS label", "line break"),
        ("SELECT 1 AS n, 1.0 AS x, E'a\\tb' AS label", "tab"),
    ],
)
def test_a_null_tab_or_line_break_is_a_clear_error_not_shifted_columns(sql, message):
    _needs_postgresql()
    with pytest.raises(ValueError, match=message):
        read_columns(sql, [], KINDS)


def test_outside_postgresql_it_refuses_and_an_unknown_kind_is_named():
    if connection.vendor == "postgresql":
        with pytest.raises(ValueError, match="'date'"):
            read_columns("SELECT 1 AS n", [], {"n": "date"})
    else:
        with pytest.raises(ValueError, match="needs PostgreSQL"):
            read_columns("SELECT 1 AS n", [], {"n": "int"})


def test_plain_rows_written_as_copy_lines_are_stored_as_given():
    """`write_plain_rows` stores choices members, None, booleans, text with tabs and
    backslashes, and JSON as Django reads them back; anything else is refused by name."""
    _needs_postgresql()
    from datetime import datetime

    from drugratings.core.batches import write_plain_rows
    from drugratings.portal.models import Breakdown, CellState, CellVersion, Level, Release
    from drugratings.testing.catalog import make_small_catalog

    release = Release.objects.create(published_at=datetime(2026, 1, 1, tzinfo=UTC))
    drug = make_small_catalog().atorvastatin
    values = {"efficacy": {"score": 3.25, "n_raters": 12}, "note": None}
    columns = ["first_release_id", "level", "drug_id", "indication_id", "breakdown"]
    columns += ["breakdown_value", "suppressed", "values"]
    row = (release.pk, Level.DRUG, drug.pk, None, Breakdown.REGION, "odd\tvalue\\", False, values)
    write_plain_rows(CellVersion, columns, [row])
    state = {"nodes": [[1, 2.5, None]]}
    write_plain_rows(
        CellState, ["key", "drug_id", "step", "state"], [("1:2:3:none:", drug.pk, 4, state)]
    )
    version = CellVersion.objects.get()
    assert (version.level, version.breakdown, version.breakdown_value) == (
        0,
        "region",
        "odd\tvalue\\",
    )
    assert version.indication_id is None and version.suppressed is False
    assert version.values == values and version.first_release_id == release.pk
    stored = CellState.objects.get()
    assert (stored.key, stored.step, stored.state) == ("1:2:3:none:", 4, state)
    with pytest.raises(ValueError, match="datetime is not a plain value"):
        write_plain_rows(Release, ["published_at"], [(datetime(2026, 1, 2, tzinfo=UTC),)])
