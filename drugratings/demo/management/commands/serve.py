"""Serve the site with uvicorn (ASGI) and run the background worker beside it.

    manage.py serve --port 8000

One port serves everything. The site runs under an ASGI server because the pharma release
stream (`/api/v1/portal/stream`) holds a connection open for minutes: under gunicorn each open
stream held a thread, so 200 subscribers starved every other request. Under ASGI an open stream
is a waiting coroutine; ordinary (synchronous) views still run in threads, one per request.

Stops both on Ctrl-C. In production run the command of `server_command()` (README,
"Production") and `manage.py worker` under a process supervisor instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from drugratings.demo.accounts import LOGINS, PASSWORD


def server_command(host: str, port: int, workers: int) -> list[str]:
    """The uvicorn command line that serves the site (also used by the load test)."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "drugratings.asgi:application",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        # The client address stays the socket's peer: X-Forwarded-For is read by the product
        # itself, and only from TRUSTED_PROXIES (accounts/addresses.py).
        "--no-proxy-headers",
        "--timeout-graceful-shutdown",
        "5",
        # Django has no lifespan events; the access log goes to stdout as gunicorn's did.
        "--lifespan",
        "off",
        "--log-level",
        "info",
    ]


class Command(BaseCommand):
    help = "Serve the site (uvicorn, ASGI) with the background worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--workers", type=int, default=2)

    def handle(self, *args: Any, **options: Any) -> None:
        manage = [sys.executable, "manage.py"]
        # The worker's fits are CPU-heavy; pages and API answers come first on a shared machine.
        worker = subprocess.Popen([*manage, "worker", "--nice", "10"])
        server = server_command(options["host"], options["port"], options["workers"])
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
