"""Score the manipulation detectors on injected attacks, in a disposable copy of the demo data.

    manage.py eval_safety            # copies the demo SQLite database (or builds one), then runs
    manage.py eval_safety --inner    # runs on the configured database itself: only for copies

Exits non-zero when a target is missed (precision or recall below 0.8 for an attack, more than
1% of honest raters flagged, or a target drug's adjusted score off by more than 0.1).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from drugratings.demo.load import DEMO_EMAIL_DOMAIN
from drugratings.demo.safety_eval import evaluate

ROOT = Path(settings.BASE_DIR)


class Command(BaseCommand):
    help = "Inject rating attacks into a copy of the demo data and score the detectors."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--inner",
            action="store_true",
            help="Run on the configured database (which must be a copy).",
        )
        parser.add_argument("--seed", type=int, default=2017)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["inner"]:
            if not settings.DATABASES["default"]["NAME"].__str__().endswith("eval-safety.sqlite3"):
                raise CommandError("--inner only runs on an eval-safety copy")
            if not evaluate(options["seed"], write=self.stdout.write):
                raise CommandError("trust and safety targets missed")
            self.stdout.write("All trust and safety targets met.")
            return
        with tempfile.TemporaryDirectory(prefix="eval-safety-") as tmp:
            copy = Path(tmp) / "eval-safety.sqlite3"
            env = {
                **os.environ,
                "DATABASE_URL": f"sqlite:///{copy}",
                "DRUGRATINGS_VAR_DIR": tmp,
                "DRUGRATINGS_MODE": "demo",
            }
            if not self._copy_demo(copy):
                self.stdout.write("No demo database to copy: building one (about two minutes)…")
                for step in (
                    ["migrate", "-v0"],
                    ["import_catalog", "--no-progress"],
                    ["import_taxonomy"],
                    ["load_demo"],
                ):
                    self._manage(step, env)
            self._manage(["migrate", "-v0"], env)
            self._manage(["eval_safety", "--inner", "--seed", str(options["seed"])], env)

    def _copy_demo(self, copy: Path) -> bool:
        source = settings.DATABASES["default"]
        if (
            source["ENGINE"] != "django.db.backends.sqlite3"
            or not Path(str(source["NAME"])).exists()
        ):
            return False
        with sqlite3.connect(str(source["NAME"])) as src:
            try:
                has_demo = src.execute(
                    "SELECT 1 FROM accounts_user WHERE email LIKE ? LIMIT 1",
                    (f"%@{DEMO_EMAIL_DOMAIN}",),
                ).fetchone()
            except sqlite3.Error:
                return False
            if not has_demo:
                return False
            with sqlite3.connect(str(copy)) as dst:
                src.backup(dst)  # consistent even while the demo server writes
        self.stdout.write(f"Copied the demo database to {copy}")
        return True

    def _manage(self, args: list[str], env: dict[str, str]) -> None:
        result = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, check=False
        )
        if result.returncode != 0:
            raise CommandError(f"manage.py {' '.join(args)} failed ({result.returncode})")
