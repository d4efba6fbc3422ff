"""Load synthetic demo data at launch scale and create the fixed demo logins.

Deterministic for a given --seed. Re-running it keeps what is there: the demo logins are
reused, and the synthetic physicians, ratings and comments are loaded only once.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from drugratings.accounts.models import User
from drugratings.catalog.models import Drug
from drugratings.demo.accounts import LOGINS, PASSWORD, ensure_demo_accounts
from drugratings.demo.extras import rate_as_demo_physician
from drugratings.demo.load import DEMO_EMAIL_DOMAIN, load_demo


class Command(BaseCommand):
    help = "Load demo physicians, ratings, comments and view counts; create the demo logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2017)
        parser.add_argument("--physicians", type=int, default=12000)
        parser.add_argument("--ratings", type=int, default=252000)
        parser.add_argument("--comments", type=int, default=20500)
        parser.add_argument(
            "--logins-only", action="store_true", help="Only create the demo logins."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # The demo creates an administrator whose password and TOTP secret are published in the
        # README: on a production database that would be an open door.
        if settings.PRODUCTION:
            raise CommandError(
                "load_demo refuses to run with DRUGRATINGS_MODE=production: it creates logins "
                "(an administrator among them) with a published password."
            )
        if not Drug.objects.exists():
            raise CommandError("The catalogue is empty: run `manage.py import_catalog` first.")
        for name in ("physicians", "ratings", "comments"):
            if options[name] < 1:
                raise CommandError(f"--{name} must be at least 1")
        ensure_demo_accounts()
        if options["logins_only"]:
            pass
        elif User.objects.filter(email__endswith=DEMO_EMAIL_DOMAIN).exists():
            self.stdout.write("Demo data already loaded: reusing it.")
        else:
            started = time.monotonic()
            counts = load_demo(
                seed=options["seed"],
                n_physicians=options["physicians"],
                n_ratings=options["ratings"],
                n_comments=options["comments"],
                log=lambda m: self.stderr.write(f"  {m}"),
            )
            self.stdout.write(
                f"Loaded {counts['physicians']:,} physicians, {counts['ratings']:,} ratings and "
                f"{counts['comments']:,} comments in {time.monotonic() - started:.1f} s."
            )

        rate_as_demo_physician(LOGINS[0].email)
        self.stdout.write(f"\nDemo logins (password for all: {PASSWORD}):")
        for login in LOGINS:
            self.stdout.write(f"  {login.email:<36} {login.role}: {login.note}")
