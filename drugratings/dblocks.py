"""Short lock waits for writes that must never hold up (or fail) the request they belong to."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection, transaction


@contextmanager
def short_lock_wait(seconds: float) -> Iterator[None]:
    """Run the block in a transaction that waits at most `seconds` for a database lock, then
    fails with OperationalError instead of waiting the connection's full busy timeout (30 s on
    SQLite, which turned a pharma 403 into a 500 while the worker wrote a release)."""
    millis = max(1, int(seconds * 1000))
    if connection.vendor == "sqlite":
        default = int(float(settings.DATABASES["default"].get("OPTIONS", {}).get("timeout", 5)))
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {millis}")
        try:
            with transaction.atomic():
                yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA busy_timeout = {default * 1000}")
    else:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = %s", [f"{millis}ms"])
                    cursor.execute("SET LOCAL statement_timeout = %s", [f"{millis}ms"])
            yield
