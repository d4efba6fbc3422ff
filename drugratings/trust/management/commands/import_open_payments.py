"""Import CMS Open Payments general payments; physicians with payments from a drug's maker or a
class competitor get their ratings flagged as conflicts of interest.

    manage.py import_open_payments OP_DTL_GNRL_PGYR2023_P01182025.csv
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from drugratings.catalog.importers.rows import ImportReport
from drugratings.trust import actions
from drugratings.trust.openpayments import read_payments


class Command(BaseCommand):
    help = "Import a CMS Open Payments general-payments CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--batch", type=int, default=5000)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        report = ImportReport()
        npis: set[str] = set()
        batch, total = [], 0
        for record in read_payments(path, report):
            batch.append(record)
            if len(batch) >= options["batch"]:
                npis |= actions.store_payments(batch)
                total += len(batch)
                batch = []
        npis |= actions.store_payments(batch)
        total += len(batch)
        for problem in report.problems[:200]:
            self.stderr.write(self.style.WARNING(f"skipped {problem}"))
        flagged = actions.reflag_npis(npis)
        self.stdout.write(
            f"Open Payments: {total:,} records read, {report.skipped:,} rows "
            f"skipped, {flagged} rating flag(s) changed."
        )
