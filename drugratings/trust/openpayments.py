"""Streaming reader of the CMS Open Payments general-payments CSV (e.g. OP_DTL_GNRL_PGYR2023_*)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from drugratings.catalog.importers.rows import (
    ImportProblem,
    ImportReport,
    RowError,
    read_rows,
    require,
)
from drugratings.trust.models import OpenPayment

NPI = "Covered_Recipient_NPI"
MANUFACTURER = "Applicable_Manufacturer_or_Applicable_GPO_Making_Payment_Name"
AMOUNT = "Total_Amount_of_Payment_USDollars"
PAID_ON = "Date_of_Payment"
NATURE = "Nature_of_Payment_or_Transfer_of_Value"
RECORD = "Record_ID"
YEAR = "Program_Year"
REQUIRED = (NPI, MANUFACTURER, AMOUNT, PAID_ON, RECORD, YEAR)
PRODUCT_COLUMNS = tuple(
    f"Name_of_Drug_or_Biological_or_Device_or_Medical_Supply_{n}" for n in range(1, 6)
)


def _date(value: str) -> date:
    try:
        month, day, year = (int(p) for p in value.strip().split("/"))
        return date(year, month, day)
    except ValueError as exc:
        raise RowError(f"{PAID_ON} {value!r} is not a date in MM/DD/YYYY form") from exc


def _record(row: dict[str, str]) -> OpenPayment:
    npi = row[NPI].strip()
    if len(npi) != 10 or not npi.isdigit():
        raise RowError(f"{NPI} {npi!r} is not a 10-digit NPI")
    try:
        amount = Decimal(require(row, AMOUNT))
    except InvalidOperation as exc:
        raise RowError(f"{AMOUNT} {row[AMOUNT]!r} is not a number") from exc
    year = require(row, YEAR)
    if not year.isdigit():
        raise RowError(f"{YEAR} {year!r} is not a year")
    return OpenPayment(
        record_id=require(row, RECORD),
        npi=npi,
        manufacturer=require(row, MANUFACTURER)[:200],
        amount_usd=amount,
        paid_on=_date(require(row, PAID_ON)),
        nature=row.get(NATURE, "")[:200],
        products=[row[c].strip() for c in PRODUCT_COLUMNS if row.get(c, "").strip()],
        program_year=int(year),
    )


def read_payments(path: Path, report: ImportReport) -> Iterator[OpenPayment]:
    for line, row in read_rows(path, REQUIRED, report):
        if not row[NPI].strip():
            continue  # payments to teaching hospitals carry no NPI
        try:
            yield _record(row)
        except RowError as exc:
            report.problems.append(ImportProblem(path.name, line, str(exc)))
