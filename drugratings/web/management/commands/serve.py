"""Serve the site with gunicorn and run the background worker beside it.

    manage.py serve --port 8000

Stops both on Ctrl-C. In production run `gunicorn drugratings.wsgi` and `manage.py worker`
under a process supervisor instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from drugratings.demo.accounts import LOGINS, PASSWORD


class Command(BaseCommand):
    help = "Serve the site (gunicorn) with the background worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--workers", type=int, default=2)

    def handle(self, *args: Any, **options: Any) -> None:
        manage = [sys.executable, "manage.py"]
        # The worker's fits are CPU-heavy; pages and API answers come first on a shared machine.
        worker = subprocess.Popen([*manage, "worker", "--nice", "10"])
        server = [
            sys.executable,
            "-m",
            "gunicorn",
            "drugratings.wsgi",
            "--bind",
            f"{options['host']}:{options['port']}",
            "--workers",
            str(options["workers"]),
            "--threads",
            "4",
            "--access-logfile",
            "-",
            "--log-level",
            "warning",
        ]
        url = f"http://{options['host']}:{options['port']}"
        self.stdout.write(f"\nDrug Ratings is serving on {url}  (Ctrl-C stops it)")
        if settings.DEMO_MODE:
            self.stdout.write(f"Demo logins, password {PASSWORD}:")
            for login in LOGINS:
                self.stdout.write(f"  {login.email:<36} {login.role}: {login.note}")
        self.stdout.flush()
        try:
            subprocess.run(server, check=False)
        except KeyboardInterrupt:
            pass
        finally:
            worker.terminate()
            worker.wait(timeout=30)
