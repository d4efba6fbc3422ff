"""Inserts in short transactions, for the worker's big writes.

On SQLite a writer holds the database's one write lock until it commits, so a single
transaction of a fit's scores or of the first release's rows kept sign-ins and rating writes
waiting past the busy timeout (issue 10). Each batch commits on its own; the callers write rows
that no reader sees until a final small transaction makes them current.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import models, transaction


def insert_in_batches(model: type[models.Model], rows: Sequence[models.Model], size: int) -> None:
    """``bulk_create`` ``rows`` in transactions of at most ``size`` rows each."""
    for start in range(0, len(rows), size):
        with transaction.atomic():
            model.objects.bulk_create(rows[start : start + size])
