"""The background worker: debounced score refits (and, with the portal, scheduled releases).

Runs until stopped. Several workers may run: each job is claimed in the database first.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connection

from drugratings.core.jobs import registered_jobs

log = logging.getLogger("drugratings.worker")


class Command(BaseCommand):
    help = "Run background jobs: score refits and scheduled releases."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Run each due job once and exit.")
        parser.add_argument("--poll", type=float, default=2.0, help="Seconds between checks.")
        parser.add_argument(
            "--nice",
            type=int,
            default=0,
            help="Lower this process's CPU priority by N (serve uses 10: on a small machine "
            "shared with the web server, a refit must not slow the pages down).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.running = True
        if options["nice"] > 0:
            os.nice(options["nice"])
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        while self.running:
            for job in registered_jobs():
                try:
                    outcome = job.run()
                except Exception:  # a failing job must not stop the others
                    log.exception("job %s failed", job.name)
                    outcome = None
                if outcome:
                    self.stdout.write(f"{job.name}: {outcome}")
                if not connection.in_atomic_block:  # e.g. a test's transaction
                    close_old_connections()
            if options["once"]:
                return
            time.sleep(options["poll"])

    def _stop(self, *_: object) -> None:
        self.running = False
