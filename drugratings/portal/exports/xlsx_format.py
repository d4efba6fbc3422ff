"""Excel export: the cells, the data dictionary and the release's facts on three sheets."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font

from drugratings.portal.access import Report
from drugratings.portal.exports.dictionary import COLUMNS, FIELDS, about, rows


def render(report: Report) -> bytes:
    book = Workbook(write_only=False)
    cells = book.active
    cells.title = "cells"
    cells.append(FIELDS)
    for row in rows(report):
        cells.append([row.get(f) for f in FIELDS])
    for cell in cells[1]:
        cell.font = Font(bold=True)
    cells.freeze_panes = "A2"
    dictionary = book.create_sheet("data dictionary")
    dictionary.append(["column", "type", "meaning"])
    for column in COLUMNS:
        dictionary.append(list(column))
    facts = book.create_sheet("about")
    for item in about(report):
        facts.append(list(item))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
