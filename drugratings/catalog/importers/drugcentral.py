"""Reader of DrugCentral 2016 drug-indication pairs with ICD-10-CM codes (CC BY 4.0)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from drugratings.catalog.importers.records import IndicationRecord
from drugratings.catalog.importers.rows import (
    ImportProblem,
    ImportReport,
    RowError,
    read_rows,
    require,
    split_multi,
)

COLUMNS = ("indication", "catalog_drug_ids", "icd10cm_codes", "doid", "umls_cui")
# ICD-10-CM code (A00-Z99 with optional subdivisions) or a DO range such as I20-I25.
_ICD10 = re.compile(
    r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?(-[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?)?$"
)


def _record(row: dict[str, str]) -> IndicationRecord:
    name = " ".join(require(row, "indication").split())
    codes = tuple(code.upper() for code in split_multi(row["icd10cm_codes"]))
    for code in codes:
        if not _ICD10.match(code):
            raise RowError(f"icd10cm_codes has {code!r}, which is not an ICD-10-CM code")
    drug_ids = tuple(split_multi(row["catalog_drug_ids"].replace(";", "|")))
    return IndicationRecord(
        name=name,
        icd10_codes=codes,
        doid=row["doid"].strip(),
        umls_cui=row["umls_cui"].strip(),
        drug_source_ids=drug_ids,
    )


def read_indications(path: Path, report: ImportReport) -> Iterator[IndicationRecord]:
    for line, row in read_rows(path, COLUMNS, report):
        try:
            yield _record(row)
        except RowError as exc:
            report.problems.append(ImportProblem(path.name, line, str(exc)))
