"""Streaming reader of the CMS NPPES dissemination file (`npidata_pfile_*.csv`, V2 layout).

The full file has ~9 million rows and 330 columns (~10 GB). It is read row by row with the csv
module and only the columns verification needs are kept, so memory stays bounded by one batch.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from drugratings.catalog.importers.rows import ImportProblem, ImportReport

csv.field_size_limit(sys.maxsize)

NPI = "NPI"
ENTITY = "Entity Type Code"
LAST = "Provider Last Name (Legal Name)"
FIRST = "Provider First Name"
CREDENTIAL = "Provider Credential Text"
PRACTICE_STATE = "Provider Business Practice Location Address State Name"
ENUMERATED = "Provider Enumeration Date"
UPDATED = "Last Update Date"
DEACTIVATED = "NPI Deactivation Date"
REACTIVATED = "NPI Reactivation Date"
REQUIRED = (
    NPI,
    ENTITY,
    LAST,
    FIRST,
    DEACTIVATED,
    REACTIVATED,
    "Healthcare Provider Taxonomy Code_1",
)
TAXONOMY_SLOTS = 15


@dataclass(frozen=True)
class RegistryRow:
    npi: str
    entity_type: int
    last_name: str
    first_name: str
    credential: str
    primary_taxonomy: str
    license_number: str
    license_state: str
    practice_state: str
    enumeration_date: date | None
    last_update: date | None
    deactivation_date: date | None
    reactivation_date: date | None


class _BadRow(ValueError):
    pass


def _date(value: str, column: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        month, day, year = (int(part) for part in value.split("/"))
        return date(year, month, day)
    except ValueError as exc:
        raise _BadRow(f"{column} {value!r} is not a date in MM/DD/YYYY form") from exc


def _primary_taxonomy(row: list[str], col: dict[str, int]) -> tuple[str, str, str]:
    """(taxonomy, licence number, licence state) of the slot flagged primary, else slot 1."""
    chosen = 1
    for slot in range(1, TAXONOMY_SLOTS + 1):
        switch = col.get(f"Healthcare Provider Primary Taxonomy Switch_{slot}")
        if switch is not None and row[switch].strip().upper() == "Y":
            chosen = slot
            break

    def cell(name: str) -> str:
        index = col.get(f"{name}_{chosen}")
        return row[index].strip() if index is not None else ""

    return (
        cell("Healthcare Provider Taxonomy Code"),
        cell("Provider License Number"),
        cell("Provider License Number State Code"),
    )


def _parse(row: list[str], col: dict[str, int]) -> RegistryRow:
    npi = row[col[NPI]].strip()
    if len(npi) != 10 or not npi.isdigit():
        raise _BadRow(f"NPI {npi!r} is not 10 digits")
    entity = row[col[ENTITY]].strip()
    deactivated = _date(row[col[DEACTIVATED]], DEACTIVATED)
    if entity not in ("1", "2") and deactivated is None:
        raise _BadRow(f"Entity Type Code {entity!r} is not 1 or 2")
    taxonomy, license_number, license_state = _primary_taxonomy(row, col)

    def optional(name: str) -> str:
        return row[col[name]].strip() if name in col else ""

    return RegistryRow(
        npi=npi,
        # Deactivated NPIs are published with most fields blank, entity type included.
        entity_type=int(entity) if entity in ("1", "2") else 0,
        last_name=row[col[LAST]].strip(),
        first_name=row[col[FIRST]].strip(),
        credential=optional(CREDENTIAL),
        primary_taxonomy=taxonomy,
        license_number=license_number,
        license_state=license_state,
        practice_state=optional(PRACTICE_STATE),
        enumeration_date=_date(optional(ENUMERATED), ENUMERATED),
        last_update=_date(optional(UPDATED), UPDATED),
        deactivation_date=deactivated,
        reactivation_date=_date(row[col[REACTIVATED]], REACTIVATED),
    )


class _CountingReader(io.RawIOBase):
    """Counts bytes read, so a progress bar can follow a text stream through a huge file."""

    def __init__(self, raw: io.RawIOBase, on_bytes: Callable[[int], None]) -> None:
        self.raw, self.on_bytes = raw, on_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        count = self.raw.readinto(buffer) or 0
        self.on_bytes(count)
        return count


def read_nppes(
    path: Path, report: ImportReport, on_bytes: Callable[[int], None] = lambda n: None
) -> Iterator[RegistryRow]:
    name = path.name
    with path.open("rb", buffering=0) as raw:
        handle = io.TextIOWrapper(
            io.BufferedReader(_CountingReader(raw, on_bytes), 1 << 20),
            encoding="utf-8",
            errors="replace",
            newline="",
        )
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            report.problems.append(ImportProblem(name, 1, "file is empty (no header row)"))
            return
        col = {column.strip(): i for i, column in enumerate(header)}
        missing = [c for c in REQUIRED if c not in col]
        if missing:
            report.problems.append(
                ImportProblem(name, 1, f"header lacks required column(s): {', '.join(missing)}")
            )
            return
        start = reader.line_num + 1
        for row in reader:
            line, start = start, reader.line_num + 1
            if len(row) != len(header):
                report.problems.append(
                    ImportProblem(name, line, f"expected {len(header)} columns, found {len(row)}")
                )
                continue
            try:
                yield _parse(row, col)
            except _BadRow as exc:
                report.problems.append(ImportProblem(name, line, str(exc)))
