"""The replica router alone: which model is read where, in and out of a web request."""

from __future__ import annotations

import subprocess

import pytest
from django.apps import apps
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, transaction

from drugratings.accounts.models import ApiToken, User
from drugratings.analytics.models import Score
from drugratings.catalog.models import CatalogErrorReport, Drug, DrugIndication, Indication
from drugratings.core.dbrouter import (
    BOOKKEEPING,
    PRIMARY,
    REPLICA,
    REPLICA_MODELS,
    ReplicaRouter,
    request_reads,
    retry_on_primary,
    use_primary,
)
from drugratings.portal.models import (
    CellState,
    CellVersion,
    IncludedRating,
    LedgerEntry,
    PharmaAnalyst,
    PortalRequest,
    Release,
    Subscription,
)
from drugratings.ratings.models import Rating
from drugratings.testing.processes import manage
from drugratings.testing.replica import replica_alias, route_reads_to_replica

router = ReplicaRouter()
PUBLIC = (Drug, Indication, DrugIndication, Drug.other_classes.through, Release, CellVersion)
PRIVATE = (
    Rating,
    User,
    Score,
    CatalogErrorReport,
    Subscription,
    PharmaAnalyst,
    CellState,
    IncludedRating,
    LedgerEntry,
    PortalRequest,
)


@pytest.fixture
def replica(settings):
    # No query runs here: only that the alias exists matters to the router.
    route_reads_to_replica(settings)
    with replica_alias():
        yield


def test_every_listed_model_exists():
    labels = {m._meta.label_lower for m in apps.get_models(include_auto_created=True)}
    cache = DatabaseCache("t", {}).cache_model_class._meta
    assert REPLICA_MODELS.issubset(labels)
    assert BOOKKEEPING.issubset(labels | {f"{cache.app_label}.{cache.model_name}"})


@pytest.mark.parametrize("model", PUBLIC + PRIVATE)
def test_outside_a_web_request_everything_is_read_from_the_primary(replica, model):
    # The worker and management commands: a release built from a lagging copy stays wrong.
    assert router.db_for_read(model) == PRIMARY


@pytest.mark.parametrize("model", PUBLIC)
def test_a_request_reads_the_catalogue_and_releases_from_the_replica(replica, model):
    with request_reads(replica=True):
        assert router.db_for_read(model) == REPLICA


@pytest.mark.parametrize("model", PRIVATE)
def test_a_request_reads_live_private_and_permission_data_from_the_primary(replica, model):
    with request_reads(replica=True):
        # An explicit alias, never None: else Django reads `drug.ratings` wherever `drug` came from.
        assert router.db_for_read(model, instance=Drug(pk=1)) == PRIMARY


def test_inside_the_sticky_window_a_request_reads_the_primary(replica):
    with request_reads(replica=False):
        assert router.db_for_read(Drug) == PRIMARY


def test_after_a_write_the_request_reads_the_primary(replica):
    with request_reads(replica=True) as reads:
        assert router.db_for_write(Rating) == PRIMARY
        assert router.db_for_read(Drug) == PRIMARY
    assert reads.wrote


@pytest.mark.parametrize(
    "model", [ApiToken, PortalRequest, DatabaseCache("t", {}).cache_model_class]
)
def test_bookkeeping_writes_do_not_make_a_writer(replica, model):
    with request_reads(replica=True) as reads:
        assert router.db_for_write(model) == PRIMARY
        assert router.db_for_read(Release) == REPLICA
    assert not reads.wrote


def test_every_write_goes_to_the_primary_even_of_a_row_read_from_the_replica(replica):
    drug = Drug(pk=1)
    drug._state.db = REPLICA
    assert router.db_for_write(Drug, instance=drug) == PRIMARY


def test_use_primary_overrides_a_replica_request(replica):
    with request_reads(replica=True), use_primary():
        assert router.db_for_read(Drug) == PRIMARY


@pytest.mark.django_db
def test_inside_a_transaction_on_the_primary_reads_stay_there(replica):
    with request_reads(replica=True):
        assert connections[PRIMARY].in_atomic_block  # the test's own transaction
        assert router.db_for_read(Drug) == PRIMARY


def test_without_a_replica_alias_the_router_reads_the_primary():
    assert REPLICA not in connections.settings
    with request_reads(replica=True):
        assert router.db_for_read(Drug) == PRIMARY


def test_rows_of_primary_and_replica_may_be_related():
    rating, drug, elsewhere = Rating(), Drug(), Drug()
    rating._state.db, drug._state.db, elsewhere._state.db = PRIMARY, REPLICA, "archive"
    assert router.allow_relation(rating, drug) is True
    assert router.allow_relation(rating, elsewhere) is None


def test_nothing_is_migrated_on_the_replica():
    assert router.allow_migrate(REPLICA, "catalog") is False
    assert router.allow_migrate(PRIMARY, "catalog") is None


def test_a_row_missing_on_the_replica_is_looked_for_on_the_primary(replica):
    seen = []

    def fetch():
        seen.append(router.db_for_read(Release))
        return None if len(seen) == 1 else "found"

    with request_reads(replica=True):
        assert retry_on_primary(fetch) == "found"
        assert router.db_for_read(Drug) == PRIMARY  # and what it refers to, from now on
    assert seen == [REPLICA, PRIMARY]


def test_a_row_found_on_the_replica_is_not_fetched_again(replica):
    with request_reads(replica=True):
        assert retry_on_primary(lambda: "found") == "found"
        assert router.db_for_read(Drug) == REPLICA


def test_a_transaction_is_still_the_primary_after_the_replica_was_read(replica, db):
    with request_reads(replica=True), transaction.atomic():
        assert router.db_for_read(Indication) == PRIMARY


def _settings(**env: str) -> subprocess.CompletedProcess:
    show = (
        "from django.conf import settings; d = settings.DATABASES; "
        "print(sorted(d), d.get('replica', {}).get('NAME'), "
        "d.get('replica', {}).get('TEST', {}).get('MIRROR'), settings.DATABASE_ROUTERS, "
        "'drugratings.core.middleware.ReplicaReadsMiddleware' in settings.MIDDLEWARE)"
    )
    return manage("shell", "-c", show, env=env, drop=("DATABASE_",))


def test_settings_add_the_replica_only_with_database_replica_url():
    plain = _settings()
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.split("\n")[-2] == "['default'] None None [] False"
    with_replica = _settings(DATABASE_REPLICA_URL="postgres://reader@replica.example:5432/dr")
    assert with_replica.returncode == 0, with_replica.stderr
    assert with_replica.stdout.split("\n")[-2] == (
        "['default', 'replica'] dr default ['drugratings.core.dbrouter.ReplicaRouter'] True"
    )


def test_a_wrong_replica_url_names_its_variable():
    done = _settings(DATABASE_REPLICA_URL="mysql://replica/dr")
    assert done.returncode != 0
    assert "DATABASE_REPLICA_URL scheme 'mysql' is not supported" in done.stderr
