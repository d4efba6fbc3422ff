"""Run the manipulation detectors now and quarantine what they find."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from drugratings.trust.detection import run_detection


class Command(BaseCommand):
    help = "Run the manipulation detectors on all active ratings and quarantine suspects."

    def handle(self, *args: Any, **options: Any) -> None:
        cases = run_detection()
        for case in cases:
            self.stdout.write(
                f"case #{case.pk} {case.detector}: {case.ratings.count()} ratings — {case.reason}"
            )
        self.stdout.write(f"{len(cases)} new quarantine case(s).")
