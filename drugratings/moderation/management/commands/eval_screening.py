"""Measure the comment screen on the labelled set.

    manage.py eval_screening                 # the bundled set (moderation/data/phi_labelled.tsv)
    manage.py eval_screening --file my.tsv   # another set: label<TAB>kind<TAB>text per line

Prints the recall of identifiers and the hold rate of ordinary comments, lists every miss and
every ordinary comment held, and exits non-zero when a target is missed (recall below 0.98,
hold rate above 10%).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from drugratings.moderation.evaluation import (
    HOLD_RATE_TARGET,
    LABELLED,
    RECALL_TARGET,
    evaluate,
    read_labelled,
)


class Command(BaseCommand):
    help = "Recall of patient identifiers and hold rate of ordinary comments on a labelled set."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, default=LABELLED)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            examples = read_labelled(options["file"])
        except (OSError, ValueError) as error:
            raise CommandError(str(error)) from error
        result = evaluate(examples)
        for example in result.missed:
            self.stdout.write(f"MISSED  line {example.line} [{example.kind}]: {example.text}")
        for example, reasons in result.held_ordinary:
            self.stdout.write(
                f"HELD    line {example.line}: {example.text}  ({'; '.join(reasons)})"
            )
        self.stdout.write(
            f"Identifiers held (recall): {result.n_identifier - len(result.missed)}"
            f"/{result.n_identifier} = {result.recall:.3f} (target >= {RECALL_TARGET})\n"
            f"Ordinary comments held:    {len(result.held_ordinary)}/{result.n_ordinary}"
            f" = {result.hold_rate:.3f} (target <= {HOLD_RATE_TARGET})\n"
            f"Screening time: {result.mean_ms:.2f} ms per comment"
            f" (recognizers loaded once in {result.first_load_s:.1f} s)"
        )
        if not result.meets_targets:
            raise CommandError("screening targets missed")
