"""Measure how much each database transaction writes, for tests of the worker's lock holding."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


@contextmanager
def rows_per_transaction() -> Iterator[list[int]]:
    """Rows written per transaction while the block runs, in order.

    SQLite only (tests run on it by default): Django opens its transactions there with an
    explicit `BEGIN`, which marks where one ends and the next starts; a write outside any atomic
    block is its own transaction. Use in `django_db(transaction=True)` tests so that the test
    itself is not one enclosing transaction.
    """
    sizes: list[int] = []

    def record(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        head = sql.lstrip()[:8].upper()
        if head.startswith("BEGIN"):
            sizes.append(0)
        elif head.startswith(_WRITES):
            rows = _rows(sql, context["cursor"].rowcount)
            if connection.in_atomic_block and sizes:
                sizes[-1] += rows
            else:
                sizes.append(rows)
        return result

    with connection.execute_wrapper(record):
        yield sizes


def _rows(sql: str, rowcount: int) -> int:
    # A multi-row INSERT ... RETURNING reports no rowcount on SQLite: count its value tuples.
    if sql.lstrip().upper().startswith("INSERT") and " VALUES " in sql:
        values = sql.split(" VALUES ", 1)[1].split(" RETURNING ", 1)[0]
        return values.count("), (") + 1
    return max(rowcount, 1)
