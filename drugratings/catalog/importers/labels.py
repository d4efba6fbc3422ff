"""Readers of the sources that say which indications are on a drug's label.

LabeledIn (NLM; indications annotated in FDA labels) is the primary source, PharmacotherapyDB
(physician-curated) confirms or extends it, and a short curated list covers drugs approved after
LabeledIn was built (each row names the FDA label it was read from). DrugCentral 2016 lists many
loose and historical uses; a DrugCentral pair is on-label only where one of these sources agrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from drugratings.catalog.importers.records import canonical_moiety, moiety_key
from drugratings.catalog.importers.rows import (
    ImportProblem,
    ImportReport,
    RowError,
    read_rows,
    require,
    split_multi,
)

LABELEDIN = "FDA label (LabeledIn)"
PHARMACOTHERAPYDB = "PharmacotherapyDB"
DRUGCENTRAL = "DrugCentral 2016"
# PharmacotherapyDB categories: DM disease-modifying, SYM symptomatic, NOT a non-indication.
# Only disease-modifying uses backed by two or more of the resources it was compiled from
# confirm a pair: single-resource rows include cardiovascular-risk uses such as "atorvastatin
# for hypertension", and SYM rows symptomatic ones ("omeprazole for kidney cancer").
PTDB_INDICATED = {"DM"}
PTDB_MIN_RESOURCES = 2


@dataclass(frozen=True)
class LabelRow:
    """One drug-indication pair a label source lists. `drug` is a moiety key."""

    drug: str
    name: str
    source: str
    cui: str = ""
    doid: str = ""
    icd10_codes: tuple[str, ...] = ()


def mesh_to_plain(name: str) -> str:
    """MeSH's inverted headings in reading order: "Diabetes Mellitus, Type 2" -> "Type 2
    Diabetes Mellitus", so they meet DrugCentral's names for the same disease."""
    parts = [p.strip() for p in name.split(",") if p.strip()]
    return " ".join(reversed(parts))


def read_labeledin(path: Path, report: ImportReport) -> list[LabelRow]:
    rows = []
    columns = ("rxnorm_name", "disease_cui", "disease_mesh_name")
    for line, row in read_rows(path, columns, report, delimiter="\t"):
        if not row["rxnorm_name"].strip():
            # 39 upstream rows name only an RxNorm id the parser could not resolve: not a
            # malformed row, just nothing to match (counted as unresolved label rows).
            rows.append(LabelRow(drug="", name="", source=LABELEDIN))
            continue
        try:
            drug = canonical_moiety(require(row, "rxnorm_name"))
            cui = require(row, "disease_cui")
        except RowError as exc:
            report.problems.append(ImportProblem(path.name, line, str(exc)))
            continue
        name = mesh_to_plain(row["disease_mesh_name"])
        rows.append(LabelRow(drug=drug, name=name, source=LABELEDIN, cui=cui))
    return rows


def read_do_codes(path: Path, report: ImportReport) -> dict[str, tuple[str, ...]]:
    """ICD-10-CM codes of Disease Ontology terms, by DOID."""
    codes: dict[str, tuple[str, ...]] = {}
    for _line, row in read_rows(path, ("id", "xrefs"), report, delimiter="\t"):
        doid = row["id"].strip().strip('"')
        xrefs = row["xrefs"].strip().strip('"')
        codes[doid] = tuple(
            x.removeprefix("ICD10CM:") for x in split_multi(xrefs, ",") if x.startswith("ICD10CM:")
        )
    return codes


def read_do_labels(path: Path, report: ImportReport) -> dict[str, str]:
    """Disease Ontology label by DOID (a synonym of the indication that carries the DOID)."""
    return {
        row["id"].strip().strip('"'): row["label"].strip().strip('"')
        for _line, row in read_rows(path, ("id", "label"), report, delimiter="\t")
        if row["label"].strip().strip('"')
    }


def read_pharmacotherapydb(
    path: Path, do_codes: dict[str, tuple[str, ...]], report: ImportReport
) -> list[LabelRow]:
    rows = []
    columns = ("doid_id", "disease", "drug", "category", "n_resources")
    for line, row in read_rows(path, columns, report, delimiter="\t"):
        try:
            category = require(row, "category").upper()
            if category not in {"DM", "SYM", "NOT"}:
                raise RowError(f"category {category!r} is not DM, SYM or NOT")
            resources = require(row, "n_resources")
            if not resources.isdigit():
                raise RowError(f"n_resources {resources!r} is not a whole number")
            drug = canonical_moiety(require(row, "drug"))
            doid = require(row, "doid_id")
            disease = require(row, "disease")
        except RowError as exc:
            report.problems.append(ImportProblem(path.name, line, str(exc)))
            continue
        if category in PTDB_INDICATED and int(resources) >= PTDB_MIN_RESOURCES:
            name = disease[:1].upper() + disease[1:]
            codes = do_codes.get(doid, ())
            rows.append(LabelRow(drug, name, PHARMACOTHERAPYDB, doid=doid, icd10_codes=codes))
    return rows


def read_curated(path: Path, report: ImportReport) -> list[LabelRow]:
    rows = []
    for line, row in read_rows(path, ("moiety_key", "indication", "source"), report):
        try:
            drug = moiety_key(split_multi(require(row, "moiety_key"), ";"))
            name = require(row, "indication")
            source = require(row, "source")
        except RowError as exc:
            report.problems.append(ImportProblem(path.name, line, str(exc)))
            continue
        codes = tuple(split_multi(row.get("icd10cm_codes", ""), "|"))
        rows.append(LabelRow(drug, name, source, icd10_codes=codes))
    return rows
