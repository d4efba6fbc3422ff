"""Parquet export: typed columns, with the data dictionary in the schema's field metadata."""

from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq

from drugratings.portal.access import Report
from drugratings.portal.exports.dictionary import COLUMNS, about, rows

TYPES = {
    "integer": pa.int64(),
    "integer|null": pa.int64(),
    "string": pa.string(),
    "string|null": pa.string(),
    "number|null": pa.float64(),
    "boolean": pa.bool_(),
}


def render(report: Report) -> bytes:
    schema = pa.schema(
        [
            pa.field(name, TYPES[kind], metadata={"description": meaning})
            for name, kind, meaning in COLUMNS
        ],
        metadata={"about": json.dumps(dict(about(report)))},
    )
    data = rows(report)
    table = pa.Table.from_pylist(
        [{name: row.get(name) for name, _, _ in COLUMNS} for row in data], schema=schema
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()
