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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connections

from drugratings.core.dbrouter import PRIMARY, REPLICA

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
        connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]


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
    connections[REPLICA].close()
    entry["NAME"] = name
    try:
        yield
    finally:
        connections[REPLICA].close()
        entry["NAME"] = mirrored
