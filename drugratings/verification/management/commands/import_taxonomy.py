"""Import the NUCC Health Care Provider Taxonomy (bundled v25.1 by default). Idempotent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from drugratings.catalog.importers.rows import ImportReport
from drugratings.verification import actions
from drugratings.verification.importers.nucc import read_taxonomy

DEFAULT = Path(__file__).resolve().parents[2] / "data" / "nucc_taxonomy_251.csv"


class Command(BaseCommand):
    help = "Import the NUCC provider taxonomy CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", type=Path, default=DEFAULT)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        report = ImportReport()
        count = actions.load_taxonomy(read_taxonomy(path, report))
        for problem in report.problems:
            self.stderr.write(self.style.WARNING(f"skipped {problem}"))
        self.stdout.write(f"Taxonomy: {count} codes loaded, {report.skipped} rows skipped.")
