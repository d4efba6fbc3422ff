"""Row reading shared by every importer: line numbers, column checks, problem reports."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

csv.field_size_limit(sys.maxsize)


@dataclass(frozen=True)
class ImportProblem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class RowError(ValueError):
    """A row that cannot be imported; the message says which field and why."""


@dataclass
class ImportReport:
    problems: list[ImportProblem] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def skipped(self) -> int:
        return len(self.problems)


def count_data_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return max(sum(1 for _ in handle) - 1, 0)


def read_rows(
    path: Path,
    required: tuple[str, ...],
    report: ImportReport,
    delimiter: str = ",",
    quoting: int = csv.QUOTE_MINIMAL,
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) for each well-formed row; report malformed ones and go on.

    The line number is where the record starts in the file (records may span lines).
    """
    name = path.name
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        reader = csv.reader(handle, delimiter=delimiter, quoting=quoting)
        try:
            header = [column.strip() for column in next(reader)]
        except StopIteration:
            report.problems.append(ImportProblem(name, 1, "file is empty (no header row)"))
            return
        missing = [column for column in required if column not in header]
        if missing:
            report.problems.append(
                ImportProblem(name, 1, f"header lacks required column(s): {', '.join(missing)}")
            )
            return
        start = reader.line_num + 1
        for values in reader:
            line, start = start, reader.line_num + 1
            if not values or all(not v.strip() for v in values):
                continue
            if len(values) != len(header):
                report.problems.append(
                    ImportProblem(
                        name, line, f"expected {len(header)} columns, found {len(values)}"
                    )
                )
                continue
            yield line, dict(zip(header, values, strict=True))


def split_multi(value: str, separator: str = "|") -> list[str]:
    seen: dict[str, None] = {}
    for part in value.split(separator):
        part = part.strip()
        if part:
            seen.setdefault(part, None)
    return list(seen)


def parse_yyyymmdd(value: str, column: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    if len(value) != 8 or not value.isdigit():
        raise RowError(f"{column} {value!r} is not a date in YYYYMMDD form")
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError as exc:
        raise RowError(f"{column} {value!r} is not a valid date") from exc


def require(row: dict[str, str], column: str) -> str:
    value = row[column].strip()
    if not value:
        raise RowError(f"{column} is empty")
    return value
