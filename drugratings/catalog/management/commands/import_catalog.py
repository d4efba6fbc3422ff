"""Import the drug catalogue: FDA NDC-derived drugs and brands, DrugCentral indications.

    manage.py import_catalog                       # the bundled data (see catalog/data/SOURCES.md)
    manage.py import_catalog --ndc-product product.txt   # refresh from a newer FDA NDC file

Idempotent: a second run changes nothing. Malformed rows are reported as FILE:LINE: message
and skipped; the rest still load.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from drugratings.catalog import actions
from drugratings.catalog.importers.drugcentral import read_indications
from drugratings.catalog.importers.fda_catalog import read_brands, read_catalog
from drugratings.catalog.importers.labels import (
    LabelRow,
    read_curated,
    read_do_codes,
    read_do_labels,
    read_labeledin,
    read_pharmacotherapydb,
)
from drugratings.catalog.importers.ndc_product import read_product_file
from drugratings.catalog.importers.rows import ImportReport, count_data_lines
from drugratings.catalog.models import CatalogImport, Drug

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
CATALOG_FILE = "fda_ndc_rx_drug_catalog.csv"
BRANDS_FILE = "fda_ndc_rx_brand_products.csv"
INDICATIONS_FILE = "drug_indications_icd10.csv"
CURATED_DRUGS_FILE = "curated_drugs.csv"
LABELEDIN_FILE = "labeledin_indications.tsv"
PTDB_FILE = "pharmacotherapydb_indications.tsv"
DO_FILE = "disease_ontology_icd10cm_xrefs.tsv"
CURATED_LABELS_FILE = "curated_label_indications.csv"
LABEL_FILES = (LABELEDIN_FILE, PTDB_FILE, DO_FILE, CURATED_LABELS_FILE)


class Command(BaseCommand):
    help = "Import or refresh the drug catalogue (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--data-dir",
            type=Path,
            default=DATA_DIR,
            help="Folder with the catalogue, brand and indication files.",
        )
        parser.add_argument(
            "--ndc-product",
            type=Path,
            help="A raw FDA NDC product.txt to refresh drugs and brands from.",
        )
        parser.add_argument("--no-progress", action="store_true", help="Hide progress bars.")
        parser.add_argument(
            "--dropped-pairs",
            type=Path,
            help="Write the DrugCentral pairs no label source confirms to this CSV file.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        data_dir: Path = options["data_dir"]
        product: Path | None = options["ndc_product"]
        self.progress = not options["no_progress"]
        for path in [
            data_dir / CATALOG_FILE,
            data_dir / BRANDS_FILE,
            data_dir / INDICATIONS_FILE,
            *(data_dir / name for name in LABEL_FILES),
            *([product] if product else []),
        ]:
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
        run = CatalogImport.objects.create(source=str(product or data_dir))
        report = ImportReport()
        if product is None or not Drug.objects.exists():
            self._load_bundled(data_dir, report)
        if product is not None:
            self._load_product_file(product, report)
        indications = list(
            self._bar(
                read_indications(data_dir / INDICATIONS_FILE, report),
                data_dir / INDICATIONS_FILE,
                "indications",
            )
        )
        stats = actions.load_indications(
            indications,
            self._labels(data_dir, report),
            report,
            read_do_labels(data_dir / DO_FILE, report),
        )
        self._finish(run, report)
        self.stdout.write(
            f"Labelled indications: {stats.pairs_listed:,} pairs on "
            f"{stats.drugs_listed_after:,} drugs (DrugCentral alone listed indications for "
            f"{stats.drugs_listed_before:,} drugs); {len(stats.dropped):,} DrugCentral pairs "
            f"no label source confirms are not listed; {stats.unresolved_label_rows:,} label "
            "rows name a drug or disease outside the catalogue."
        )
        if options["dropped_pairs"]:
            with options["dropped_pairs"].open("w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["drug", "indication"])
                writer.writerows(stats.dropped)

    def _labels(self, data_dir: Path, report: ImportReport) -> list[LabelRow]:
        do_codes = read_do_codes(data_dir / DO_FILE, report)
        return [
            *read_labeledin(data_dir / LABELEDIN_FILE, report),
            *read_pharmacotherapydb(data_dir / PTDB_FILE, do_codes, report),
            *read_curated(data_dir / CURATED_LABELS_FILE, report),
        ]

    def _bar(self, rows: Any, path: Path, label: str) -> Any:
        return tqdm(
            rows,
            total=count_data_lines(path),
            desc=label,
            unit=" rows",
            disable=not self.progress,
            leave=False,
        )

    def _load_bundled(self, data_dir: Path, report: ImportReport) -> None:
        drugs = list(
            self._bar(
                read_catalog(data_dir / CATALOG_FILE, report), data_dir / CATALOG_FILE, "drugs"
            )
        )
        curated = data_dir / CURATED_DRUGS_FILE
        if curated.is_file():
            # Drugs approved after the bundled NDC snapshot (see SOURCES.md).
            drugs.extend(read_catalog(curated, report))
        actions.load_drugs(drugs, report)
        brands = list(
            self._bar(read_brands(data_dir / BRANDS_FILE, report), data_dir / BRANDS_FILE, "brands")
        )
        actions.load_brands(brands, report)

    def _load_product_file(self, product: Path, report: ImportReport) -> None:
        keys = dict(Drug.objects.values_list("moiety_key", "source_id").order_by("-pk"))
        self.stderr.write(f"Reading {product} ({count_data_lines(product):,} products)…")
        drugs, brands = read_product_file(product, report, keys)
        actions.load_drugs(drugs, report, mark_unlisted=False)
        actions.load_brands(brands, report)

    def _finish(self, run: CatalogImport, report: ImportReport) -> None:
        for problem in report.problems:
            self.stderr.write(self.style.WARNING(f"skipped {problem}"))
        run.created, run.updated, run.skipped = report.created, report.updated, report.skipped
        run.problems = [str(p) for p in report.problems[:1000]]
        run.finished_at = timezone.now()
        run.save()
        self.stdout.write(
            f"Catalogue: {Drug.objects.count():,} drugs. This run: {report.created:,} created, "
            f"{report.updated:,} updated, {report.unchanged:,} unchanged, "
            f"{report.skipped:,} rows skipped."
        )
