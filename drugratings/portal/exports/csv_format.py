"""CSV export: one row per cell, the data dictionary's columns in order."""

from __future__ import annotations

import csv
import io

from drugratings.portal.access import Report
from drugratings.portal.exports.dictionary import FIELDS, rows


def render(report: Report) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows(report):
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return buffer.getvalue().encode("utf-8")
