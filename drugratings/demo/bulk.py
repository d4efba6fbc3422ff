"""Bulk writes of the demo loader: rows streamed with COPY on PostgreSQL, batched INSERTs
elsewhere (SQLite). Both take an iterable, so a table of millions of rows is never held in
memory as a list of tuples or model instances."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import islice

from django.db import connection, models

BATCH = 5000


def copy_available() -> bool:
    """COPY ... FROM STDIN is PostgreSQL's (psycopg 3 `cursor.copy`)."""
    return connection.vendor == "postgresql"


def write_rows(
    model: type[models.Model], columns: list[str], rows: Iterable[tuple], *, copy: bool
) -> int:
    """Write `rows` (values in the order of `columns`, already in database form) into the
    model's table; returns how many. `copy` streams them with COPY (PostgreSQL only)."""
    if copy and not copy_available():
        raise ValueError(f"COPY needs PostgreSQL, not {connection.vendor}")
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    written = 0
    with connection.cursor() as cursor:
        if copy:
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as stream:
                for row in rows:
                    stream.write_row(row)
                    written += 1
            return written
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
        for batch in _batches(rows, BATCH):
            cursor.executemany(sql, batch)
            written += len(batch)
    return written


def write_objects(model: type[models.Model], objects: Iterable[models.Model], *, copy: bool) -> int:
    """Unsaved instances written as `write_rows` writes tuples: every concrete field but the
    automatic primary key, prepared as Django's INSERT prepares them (defaults, JSON)."""
    fields = [f for f in model._meta.concrete_fields if f is not model._meta.auto_field]
    rows = (
        tuple(f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields)
        for obj in objects
    )
    return write_rows(model, [f.column for f in fields], rows, copy=copy)


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


def _batches(rows: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch
