"""A `replica` database alias for tests, set up as settings.py does with DATABASE_REPLICA_URL.

The suite runs without a replica, so the alias is added once the test database exists: a mirror
of it (Django's TEST MIRROR: a second connection to the same database), which a test may point
at a database of its own (a copy taken before a write stands for a replica that lags).

Register the alias before pytest-django sets up the test's database access (a module-scoped
fixture), and list it: `django_db(transaction=True, databases=["default", "replica"])`.
Transactional tests only: the mirror is another connection, so it sees committed rows alone.
"""

from __future__ import annotations

import copy
import os
import re
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psycopg
from django.apps import apps
from django.db import connections
from psycopg import sql

from drugratings.core.dbrouter import PRIMARY, REPLICA, REPLICA_MODELS

ROUTER = "drugratings.core.dbrouter.ReplicaRouter"
MIDDLEWARE = "drugratings.core.middleware.ReplicaReadsMiddleware"


@contextmanager
def replica_alias() -> Iterator[None]:
    entry = copy.deepcopy(connections[PRIMARY].settings_dict)
    entry["TEST"] = {**entry["TEST"], "MIRROR": PRIMARY}
    connections.settings[REPLICA] = entry
    try:
        yield
    finally:
        _close(REPLICA)
        del connections[REPLICA]
        del connections.settings[REPLICA]


def _close(alias: str) -> None:
    """Close the alias's connection and, on PostgreSQL with DATABASE_POOL_SIZE, its pool: a
    pooled connection stays open to the database it was made for, whatever NAME says now."""
    connection = connections[alias]
    connection.close()
    close_pool = getattr(connection, "close_pool", None)
    if close_pool is not None:
        close_pool()


def route_reads_to_replica(settings) -> None:
    """Install the router and the middleware (`settings`: pytest-django's fixture)."""
    settings.DATABASE_ROUTERS = [ROUTER]
    middleware = list(settings.MIDDLEWARE)
    after = middleware.index("whitenoise.middleware.WhiteNoiseMiddleware") + 1
    middleware.insert(after, MIDDLEWARE)
    settings.MIDDLEWARE = middleware


@contextmanager
def replica_reading(name: str | Path) -> Iterator[None]:
    """Point the replica alias at another database (closing its connection) for a while."""
    entry = connections[REPLICA].settings_dict
    mirrored = entry["NAME"]
    # Renamed first: SQLite ignores close() on a connection to an in-memory database.
    entry["NAME"] = name
    _close(REPLICA)
    try:
        yield
    finally:
        _close(REPLICA)
        entry["NAME"] = mirrored


def _pipe_dump(entry: dict, target: str) -> None:
    """``pg_dump <test database> | psql <target>``: the committed state, whoever is connected."""
    env = {**os.environ, **({"PGPASSWORD": entry["PASSWORD"]} if entry["PASSWORD"] else {})}
    where = [
        *(["-h", entry["HOST"]] if entry["HOST"] else []),
        *(["-p", str(entry["PORT"])] if entry["PORT"] else []),
        *(["-U", entry["USER"]] if entry["USER"] else []),
    ]
    dump = subprocess.run(
        ["pg_dump", "--no-owner", "--no-privileges", *where, entry["NAME"]],
        capture_output=True,
        check=True,
        env=env,
    )
    subprocess.run(
        ["psql", "-q", "-v", "ON_ERROR_STOP=1", *where, "-d", target],
        input=dump.stdout,
        capture_output=True,
        check=True,
        env=env,
    )


@contextmanager
def admin_connection() -> Iterator[psycopg.Connection]:
    """PostgreSQL: an autocommit connection to the server's `postgres` database."""
    entry = connections[PRIMARY].settings_dict
    with psycopg.connect(
        host=entry["HOST"] or None,
        port=entry["PORT"] or None,
        user=entry["USER"] or None,
        password=entry["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        yield admin


@contextmanager
def database_copy(tmp_path: Path) -> Iterator[str | Path]:
    """A copy of the test database as committed now: a replica that will lag behind writes."""
    primary = connections[PRIMARY]
    if primary.vendor == "sqlite":
        target = tmp_path / "replica.sqlite3"
        primary.ensure_connection()
        copied = sqlite3.connect(target)
        primary.connection.backup(copied)
        copied.close()
        yield target
        return
    name = f"{primary.settings_dict['NAME']}_copy"
    connections.close_all()
    with admin_connection() as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    # A dump, not CREATE DATABASE ... TEMPLATE: that needs the source without other sessions,
    # and a live server's threads from earlier tests may still hold one (CI failed on it).
    _pipe_dump(primary.settings_dict, name)
    try:
        yield name
    finally:
        _close(REPLICA)
        with admin_connection() as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


REPLICA_TABLES = frozenset(
    m._meta.db_table
    for m in apps.get_models(include_auto_created=True)
    if m._meta.label_lower in REPLICA_MODELS
)
_TABLE = re.compile(r'(?:FROM|JOIN)\s+"?(\w+)"?', re.IGNORECASE)


def tables(sql: str) -> set[str]:
    return set(_TABLE.findall(sql))


@contextmanager
def timeline() -> Iterator[list[tuple[str, str]]]:
    """(alias, sql) of every query on the primary and the replica, in the order they ran."""
    seen: list[tuple[str, str]] = []

    def recorder(alias: str):
        def record(execute, sql, params, many, context):
            seen.append((alias, sql))
            return execute(sql, params, many, context)

        return record

    with ExitStack() as stack:
        for alias in (PRIMARY, REPLICA):
            stack.enter_context(connections[alias].execute_wrapper(recorder(alias)))
        yield seen


def on(seen: list[tuple[str, str]], alias: str) -> list[str]:
    return [sql for a, sql in seen if a == alias]


def catalogue_reads_on_primary(seen: list[tuple[str, str]]) -> list[str]:
    """Queries on the primary that read only replica tables (none should, in a request that
    has not written)."""
    return [sql for sql in on(seen, PRIMARY) if tables(sql) and tables(sql) <= REPLICA_TABLES]
