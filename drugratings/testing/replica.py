"""A `replica` database alias for one test, set up as settings.py does with DATABASE_REPLICA_URL.

Added after the test database exists (the suite runs without a replica): by default a mirror
of the test database (Django's TEST MIRROR: a second connection to the same database), or a
database of the caller's (a copy taken before a write stands for a replica that lags).
Transactional tests only: a mirror is another connection, so it sees committed rows alone.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from drugratings.core.dbrouter import PRIMARY, REPLICA

ROUTER = "drugratings.core.dbrouter.ReplicaRouter"
MIDDLEWARE = "drugratings.core.middleware.ReplicaReadsMiddleware"


@contextmanager
def replica_alias(settings, name: str | Path | None = None) -> Iterator[BaseDatabaseWrapper]:
    """`settings` is pytest-django's fixture; `name` the replica database (default: the test
    database itself, as a mirror)."""
    entry = copy.deepcopy(connections[PRIMARY].settings_dict)
    entry["TEST"] = {**entry["TEST"], "MIRROR": PRIMARY if name is None else None}
    if name is not None:
        entry["NAME"] = name
    connections.settings[REPLICA] = entry
    settings.DATABASE_ROUTERS = [ROUTER]
    middleware = list(settings.MIDDLEWARE)
    after = middleware.index("whitenoise.middleware.WhiteNoiseMiddleware") + 1
    middleware.insert(after, MIDDLEWARE)
    settings.MIDDLEWARE = middleware
    try:
        yield connections[REPLICA]
    finally:
        connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]
