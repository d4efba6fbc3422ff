"""Derive catalogue records from a raw FDA NDC `product.txt`, so operators can refresh it.

The derivation follows the one documented for the bundled catalogue (data/SOURCES.md): keep
prescription products of approved or listed-unapproved categories, group products by their set
of active moieties (salt and hydrate words stripped), take the most frequent non-proprietary name,
the FDA Established Pharmacologic Classes present on at least a quarter of the group's classed
products, brand names of NDA/BLA products, and per application the labeler of its earliest product.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from drugratings.catalog.importers.records import (
    BrandRecord,
    DrugRecord,
    canonical_moiety,
    moiety_key,
)
from drugratings.catalog.importers.rows import (
    ImportProblem,
    ImportReport,
    RowError,
    parse_yyyymmdd,
    read_rows,
    require,
    split_multi,
)

COLUMNS = (
    "PRODUCTTYPENAME",
    "PROPRIETARYNAME",
    "NONPROPRIETARYNAME",
    "DOSAGEFORMNAME",
    "ROUTENAME",
    "STARTMARKETINGDATE",
    "MARKETINGCATEGORYNAME",
    "APPLICATIONNUMBER",
    "LABELERNAME",
    "SUBSTANCENAME",
    "PHARM_CLASSES",
    "DEASCHEDULE",
)
PRODUCT_TYPES = {"HUMAN PRESCRIPTION DRUG", "VACCINE", "PLASMA DERIVATIVE", "CELLULAR THERAPY"}
APPROVED = {"NDA", "ANDA", "BLA", "NDA AUTHORIZED GENERIC"}
UNAPPROVED = {"UNAPPROVED DRUG OTHER", "UNAPPROVED DRUG FOR USE IN DRUG SHORTAGE"}
BRANDED = {"NDA", "BLA"}


def strip_salt(substance: str) -> str:
    return canonical_moiety(substance)


@dataclass
class _Group:
    names: Counter[str] = field(default_factory=Counter)
    classes: Counter[str] = field(default_factory=Counter)
    classed_products: int = 0
    products: int = 0
    approved: bool = False
    product_types: Counter[str] = field(default_factory=Counter)
    brands: dict[str, None] = field(default_factory=dict)
    application_first: dict[str, tuple[date, str]] = field(default_factory=dict)
    routes: dict[str, None] = field(default_factory=dict)
    forms: dict[str, None] = field(default_factory=dict)
    dea: str = ""
    first_marketed: date | None = None


def _epc_classes(pharm_classes: str) -> list[str]:
    return [
        c[: -len(" [EPC]")].strip() for c in pharm_classes.split(",") if c.strip().endswith("[EPC]")
    ]


def _add_product(groups: dict[str, _Group], brands: list[BrandRecord], row: dict[str, str]) -> None:
    category = row["MARKETINGCATEGORYNAME"].strip().upper()
    if row["PRODUCTTYPENAME"].strip().upper() not in PRODUCT_TYPES:
        return
    if category not in APPROVED | UNAPPROVED:
        return
    generic = require(row, "NONPROPRIETARYNAME").lower()
    substances = split_multi(row["SUBSTANCENAME"], ";") or [generic]
    key = moiety_key([strip_salt(s) for s in substances])
    started = parse_yyyymmdd(row["STARTMARKETINGDATE"], "STARTMARKETINGDATE")
    group = groups[key]
    group.products += 1
    group.names[generic] += 1
    group.product_types[row["PRODUCTTYPENAME"].strip()] += 1
    group.approved |= category in APPROVED
    classes = _epc_classes(row["PHARM_CLASSES"])
    if classes:
        group.classed_products += 1
        group.classes.update(set(classes))
    group.routes.update(dict.fromkeys(split_multi(row["ROUTENAME"], ";")))
    group.forms.setdefault(row["DOSAGEFORMNAME"].strip(), None)
    group.dea = group.dea or row["DEASCHEDULE"].strip()
    if started and (group.first_marketed is None or started < group.first_marketed):
        group.first_marketed = started
    application = row["APPLICATIONNUMBER"].strip()
    brand = row["PROPRIETARYNAME"].strip()
    if category in BRANDED and application:
        earliest = group.application_first.get(application)
        labeler = row["LABELERNAME"].strip()
        if started and (earliest is None or started < earliest[0]):
            group.application_first[application] = (started, labeler)
        elif earliest is None:
            group.application_first[application] = (date.max, labeler)
        if brand and brand.lower() != generic:
            group.brands.setdefault(brand.upper(), None)
            brands.append(
                BrandRecord(
                    brand.upper(), key, application, labeler, row["ROUTENAME"].strip(), started
                )
            )


def new_source_id(key: str) -> str:
    return "NDC-" + hashlib.sha1(key.encode()).hexdigest()[:10].upper()


def read_product_file(
    path: Path, report: ImportReport, source_id_for_key: dict[str, str]
) -> tuple[list[DrugRecord], list[BrandRecord]]:
    """Read a raw NDC `product.txt` (tab-separated) into drug and brand records.

    `source_id_for_key` maps existing moiety keys to drug ids, so a refresh updates those drugs.
    """
    groups: dict[str, _Group] = defaultdict(_Group)
    brands: list[BrandRecord] = []
    for line, row in read_rows(path, COLUMNS, report, delimiter="\t", quoting=csv.QUOTE_NONE):
        try:
            _add_product(groups, brands, row)
        except RowError as exc:
            report.problems.append(ImportProblem(path.name, line, str(exc)))
    drugs = []
    for key, group in groups.items():
        threshold = 0.25 * group.classed_products
        classes = [c for c, n in group.classes.most_common() if n >= threshold and n > 0]
        applications = sorted(group.application_first.items(), key=lambda item: item[1][0])
        drugs.append(
            DrugRecord(
                source_id=source_id_for_key.get(key) or new_source_id(key),
                generic_name=group.names.most_common(1)[0][0],
                moiety_key=key,
                approval_status=(
                    "FDA-approved (NDA/ANDA/BLA)" if group.approved else "marketed unapproved Rx"
                ),
                product_type=group.product_types.most_common(1)[0][0],
                classes=classes,
                primary_class=classes[0] if classes else "",
                class_source="FDA EPC" if classes else "",
                brand_names=list(group.brands),
                manufacturers=list(dict.fromkeys(labeler for _, (_, labeler) in applications)),
                application_numbers=[application for application, _ in applications],
                routes=list(group.routes),
                dosage_forms=[f for f in group.forms if f],
                dea_schedule=group.dea,
                first_marketed=group.first_marketed,
                is_listed=True,
                n_products=group.products,
            )
        )
    return drugs, brands
