"""Import or refresh the local NPPES registry from an `npidata_pfile_*.csv` dissemination file.

    manage.py import_nppes npidata_pfile_20261109-20261115.csv

Streams the file in batches, so the full multi-gigabyte file loads in bounded memory. After the
import, verified physicians whose NPI is now deactivated are suspended (with an audited reason).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from drugratings.catalog.importers.rows import ImportReport
from drugratings.verification import actions
from drugratings.verification.importers.nppes import read_nppes


class Command(BaseCommand):
    help = "Import an NPPES npidata_pfile CSV into the local registry (streaming)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--batch", type=int, default=5000)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        if options["batch"] < 1:
            raise CommandError("--batch must be at least 1")
        report = ImportReport()
        batch: list = []
        total = 0
        with tqdm(
            total=path.stat().st_size,
            unit="B",
            unit_scale=True,
            desc="NPPES",
            disable=options["no_progress"],
        ) as bar:
            for row in read_nppes(path, report, on_bytes=bar.update):
                batch.append(row)
                if len(batch) >= options["batch"]:
                    actions.upsert_registry(batch)
                    total += len(batch)
                    batch.clear()
            if batch:
                actions.upsert_registry(batch)
                total += len(batch)
        for problem in report.problems[:200]:
            self.stderr.write(self.style.WARNING(f"skipped {problem}"))
        if report.skipped > 200:
            self.stderr.write(self.style.WARNING(f"... and {report.skipped - 200} more"))
        suspended = actions.suspend_deactivated()
        self.stdout.write(
            f"Registry: {total:,} records loaded, {report.skipped:,} rows skipped, "
            f"{suspended} physician(s) suspended for a deactivated NPI."
        )
