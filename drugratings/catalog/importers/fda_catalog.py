"""Reader of the bundled FDA NDC-derived catalogue (`fda_ndc_rx_drug_catalog.csv`) and brands."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from drugratings.catalog.importers.records import BrandRecord, DrugRecord, moiety_key
from drugratings.catalog.importers.rows import (
    ImportProblem,
    ImportReport,
    RowError,
    parse_yyyymmdd,
    read_rows,
    require,
    split_multi,
)

CATALOG_COLUMNS = (
    "drug_id",
    "generic_name",
    "approval_status",
    "product_type",
    "active_moieties",
    "epc_classes",
    "primary_epc_class",
    "brand_names",
    "brand_manufacturers",
    "nda_bla_applications",
    "routes",
    "dosage_forms",
    "dea_schedule",
    "listed_2019",
    "first_marketed",
    "mesh_pharmacologic_actions",
    "n_ndc_products",
)
BRAND_COLUMNS = (
    "brand_name",
    "active_moieties",
    "application_number",
    "application_holder",
    "routes",
    "first_marketed",
)


def _drug_from_row(row: dict[str, str]) -> DrugRecord:
    source_id = require(row, "drug_id")
    generic = require(row, "generic_name").lower()
    moieties = split_multi(require(row, "active_moieties"), ";")
    classes = split_multi(row["epc_classes"])
    primary = row["primary_epc_class"].strip() or (classes[0] if classes else "")
    source = "FDA EPC" if primary else ""
    if not primary:
        mesh = split_multi(row["mesh_pharmacologic_actions"])
        if mesh:
            primary, source = mesh[0], "MeSH"
    listed = row["listed_2019"].strip().upper()
    if listed not in ("Y", "N", "E", ""):
        raise RowError(f"listed_2019 {listed!r} is not Y, N or E")
    return DrugRecord(
        source_id=source_id,
        generic_name=generic,
        moiety_key=moiety_key(moieties),
        approval_status=row["approval_status"].strip(),
        product_type=row["product_type"].strip(),
        classes=classes,
        primary_class=primary,
        class_source=source,
        brand_names=[b.upper() for b in split_multi(row["brand_names"])],
        manufacturers=split_multi(row["brand_manufacturers"]),
        application_numbers=split_multi(row["nda_bla_applications"]),
        routes=split_multi(row["routes"]),
        dosage_forms=split_multi(row["dosage_forms"]),
        dea_schedule=row["dea_schedule"].strip(),
        first_marketed=parse_yyyymmdd(row["first_marketed"], "first_marketed"),
        is_listed=listed != "E",
        n_products=int(row["n_ndc_products"]) if row["n_ndc_products"].strip().isdigit() else 0,
    )


def read_catalog(path: Path, report: ImportReport) -> Iterator[DrugRecord]:
    for line, row in read_rows(path, CATALOG_COLUMNS, report):
        try:
            yield _drug_from_row(row)
        except RowError as exc:
            report.problems.append(ImportProblem(path.name, line, str(exc)))


def read_brands(path: Path, report: ImportReport) -> Iterator[BrandRecord]:
    for line, row in read_rows(path, BRAND_COLUMNS, report):
        try:
            yield BrandRecord(
                brand_name=require(row, "brand_name").upper(),
                moiety_key=moiety_key(split_multi(require(row, "active_moieties"), ";")),
                application_number=require(row, "application_number"),
                application_holder=row["application_holder"].strip(),
                routes=row["routes"].strip(),
                first_marketed=parse_yyyymmdd(row["first_marketed"], "first_marketed"),
            )
        except RowError as exc:
            report.problems.append(ImportProblem(path.name, line, str(exc)))
