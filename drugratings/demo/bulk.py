"""Bulk loading of the demo: keys and indexes built after the rows (PostgreSQL). The rows
themselves are streamed by core/batches.py (COPY on PostgreSQL, batched INSERTs elsewhere)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, models


@contextmanager
def keys_and_indexes_built_after(*tables: type[models.Model]) -> Iterator[None]:
    """Drop the tables' foreign keys, unique constraints and secondary indexes for the block and
    build them again after it (PostgreSQL, in the caller's transaction; primary keys stay).
    Django's foreign keys are deferred: PostgreSQL queues a check of every inserted row and runs
    them one by one at commit, and every index takes each row at a random place. Built after
    the load, a key is checked in one join and an index is sorted once. The tables stay locked
    until commit: this is for loading, not for a live database."""
    if not connection.in_atomic_block:
        raise RuntimeError("keys and indexes are dropped and rebuilt inside one transaction")
    names = [m._meta.db_table for m in tables]
    with connection.cursor() as cursor:
        # ALTER TABLE refuses a table with checks still queued (rows written earlier in this
        # transaction, the physicians): run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype IN ('f', 'u') AND conrelid = ANY(%s::regclass[]) "
            "ORDER BY contype = 'u', 1, 2",  # foreign keys first: dropped first, added last
            [names],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = ANY(%s::regclass[]) AND NOT indisprimary AND indexrelid NOT IN "
            "(SELECT conindid FROM pg_constraint WHERE conindid <> 0) ORDER BY 1",
            [names],
        )
        indexes = cursor.fetchall()
        for table, name, _ in constraints:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {connection.ops.quote_name(name)}")
        for index, _ in indexes:
            cursor.execute(f"DROP INDEX {index}")
    yield
    # An error in the block leaves them dropped, but only in a transaction that rolls back.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")  # index sorts in memory
        for _, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in reversed(constraints):
            quoted = connection.ops.quote_name(name)
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quoted} {definition}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # Django's keys are initially deferred
