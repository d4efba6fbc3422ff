"""Reader of the NUCC Health Care Provider Taxonomy CSV."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from drugratings.catalog.importers.rows import ImportProblem, ImportReport, read_rows

COLUMNS = ("Code", "Grouping", "Classification", "Specialization", "Display Name", "Section")


def read_taxonomy(path: Path, report: ImportReport) -> Iterator[dict[str, str]]:
    for line, row in read_rows(path, COLUMNS, report):
        code = row["Code"].strip()
        if len(code) != 10:
            report.problems.append(
                ImportProblem(path.name, line, f"Code {code!r} is not 10 characters")
            )
            continue
        yield {
            "code": code,
            "grouping": row["Grouping"].strip(),
            "classification": row["Classification"].strip(),
            "specialization": row["Specialization"].strip(),
            "display_name": row["Display Name"].strip(),
            "section": row["Section"].strip(),
        }
