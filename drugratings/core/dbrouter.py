"""Reads of the public catalogue and of released pharma figures from a read replica.

Installed only when DATABASE_REPLICA_URL is set (settings.py). Every write, every migration and
every other read goes to the primary. A read goes to the replica only when all of these hold:

- its model is in REPLICA_MODELS: public catalogue facts and released (immutable) pharma
  figures. A replica a moment behind can only lack something new there, never show something
  wrong or private. Physicians' live figures, accounts, ratings, subscriptions and every
  permission or privacy decision (who may see what) are read from the primary;
- it runs inside a web request (ReplicaReadsMiddleware). The worker, management commands and
  shells read the primary only: a release built from a lagging copy of the last one would be
  wrong for good;
- the request has not written (read-your-writes), did not come within the sticky window after
  one of its client's writes (the middleware's cookie), and is not inside a transaction on the
  primary (an action's reads and its writes see one state).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model

PRIMARY = DEFAULT_DB_ALIAS
REPLICA = "replica"

REPLICA_MODELS = frozenset(
    {
        "catalog.drug",
        "catalog.drug_other_classes",  # the automatic through table of Drug.other_classes
        "catalog.drugclass",
        "catalog.indication",
        "catalog.drugindication",
        "catalog.brandproduct",
        "catalog.officialdruginfo",
        "portal.release",
        "portal.cellversion",
        "portal.engagementversion",
        "portal.quarterlyreport",
    }
)
# Writes that reads make as a side effect and that no replica read depends on: they do not
# turn a request into a writer (else every pharma request, audited, would read the primary).
BOOKKEEPING = frozenset(
    {
        "sessions.session",
        "django_cache.cacheentry",  # the database cache's table
        "portal.portalrequest",  # the pharma audit log
        "accounts.apitoken",  # a token's last use, touched once a minute
        "analytics.drugviewdaily",  # buffered page-view counts
    }
)

ModelType = type[Model]
T = TypeVar("T")


@dataclass
class RequestReads:
    """Where the current request reads. Mutable and shared by reference, so a write made in a
    copied context (asgiref runs sync code in one) still turns the whole request to the primary."""

    replica: bool = True
    wrote: bool = False


_request: ContextVar[RequestReads | None] = ContextVar("replica_reads", default=None)
_forced_primary: ContextVar[bool] = ContextVar("replica_forced_primary", default=False)


@contextmanager
def request_reads(replica: bool) -> Iterator[RequestReads]:
    """Mark the code inside as one web request; `replica=False` inside the sticky window."""
    state = RequestReads(replica=replica)
    token = _request.set(state)
    try:
        yield state
    finally:
        _request.reset(token)


@contextmanager
def use_primary() -> Iterator[None]:
    """Read everything inside from the primary, in a request or not."""
    token = _forced_primary.set(True)
    try:
        yield
    finally:
        _forced_primary.reset(token)


def reads_replica() -> bool:
    """Whether a read of a replica model here would go to the replica."""
    state = _request.get()
    return (
        state is not None
        and state.replica
        and not _forced_primary.get()
        and REPLICA in connections.settings
        and not connections[PRIMARY].in_atomic_block
    )


def stick_to_primary() -> None:
    """Read the primary for the rest of this request (it saw the replica lag behind)."""
    state = _request.get()
    if state is not None:
        state.replica = False


def retry_on_primary(fetch: Callable[[], T | None]) -> T | None:
    """`fetch()`, and again on the primary if it found nothing on the replica: a row the caller
    was told of elsewhere (a release id from a webhook or a stream) may not be there yet."""
    found = fetch()
    if found is None and reads_replica():
        stick_to_primary()  # and what the row refers to, for the rest of the request
        found = fetch()
    return found


def _label(model: ModelType) -> str:
    # Not `_meta.label_lower`: the database cache routes a stand-in whose `_meta` has no such
    # attribute, only these two.
    return f"{model._meta.app_label}.{model._meta.model_name}"


class ReplicaRouter:
    """DATABASE_ROUTERS entry. Returns an alias for every model, never None: Django would
    otherwise read a related object from wherever the instance came from (the replica)."""

    def db_for_read(self, model: ModelType, **hints: Any) -> str:
        if _label(model) in REPLICA_MODELS and reads_replica():
            return REPLICA
        return PRIMARY

    def db_for_write(self, model: ModelType, **hints: Any) -> str:
        # Django asks this for writes and for reads meant to precede one (select_for_update,
        # get_or_create): from here on the request reads what it may have written.
        state = _request.get()
        if state is not None and _label(model) not in BOOKKEEPING:
            state.wrote = True
            state.replica = False
        return PRIMARY

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        # The replica holds the primary's rows: a rating may point at a drug read from it.
        if {obj1._state.db, obj2._state.db} <= {PRIMARY, REPLICA}:
            return True
        return None

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool | None:
        # The replica receives the primary's schema by replication, never by `migrate`.
        return False if db == REPLICA else None
