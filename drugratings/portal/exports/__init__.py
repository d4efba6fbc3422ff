"""Report exports, one module per format; each turns a Report into (bytes, content type)."""

from __future__ import annotations

from collections.abc import Callable

from drugratings.portal.access import Report
from drugratings.portal.exports import csv_format, parquet_format, pdf_format, xlsx_format

FORMATS: dict[str, tuple[Callable[[Report], bytes], str, str]] = {
    "csv": (csv_format.render, "text/csv; charset=utf-8", "csv"),
    "xlsx": (
        xlsx_format.render,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
    ),
    "parquet": (parquet_format.render, "application/vnd.apache.parquet", "parquet"),
    "pdf": (pdf_format.render, "application/pdf", "pdf"),
}
