"""Included ratings are kept in drug order on disk (PostgreSQL): the first release writes them
so, and the worker restores the order with CLUSTER once it has decayed, losing no row."""

from __future__ import annotations

import random

import pytest
from django.db import connection

from drugratings.portal import included_order
from drugratings.portal.models import IncludedRating
from drugratings.portal.releases import build_release


def _included(n: int, drug_of) -> list[IncludedRating]:
    return [
        IncludedRating(
            physician_id=p,
            drug_id=drug_of(p),
            indication_id=1,
            specialty_id=1,
            region="US-WA",
            month="2026-10",
            raw=[3, 3, 3, 3, 3],
            adjusted=[0.0, 0.0, 0.0, 0.0, 0.0],
        )
        for p in range(1, n + 1)
    ]


def _analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {IncludedRating._meta.db_table}")


def _rows() -> set[tuple]:
    return set(IncludedRating.objects.values_list("physician_id", "drug_id", "region"))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="CLUSTER is PostgreSQL's")
@pytest.mark.django_db
def test_scattered_rows_are_put_back_in_drug_order_and_none_is_lost():
    rng = random.Random(3)
    IncludedRating.objects.bulk_create(_included(3000, lambda p: rng.randint(1, 60)))
    _analyze()
    before = _rows()
    assert included_order.drug_order() < included_order.MIN_DRUG_ORDER
    assert included_order.keep_in_drug_order() is True
    assert included_order.drug_order() > 0.99
    assert _rows() == before
    assert included_order.keep_in_drug_order() is False  # in order: nothing to do


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_stats is PostgreSQL's")
@pytest.mark.django_db
def test_the_first_release_writes_its_rows_in_drug_order(world):
    build_release()
    _analyze()
    assert IncludedRating.objects.values("drug_id").distinct().count() > 1
    assert included_order.drug_order() > 0.99


@pytest.mark.skipif(connection.vendor == "postgresql", reason="SQLite has no order to keep")
@pytest.mark.django_db
def test_elsewhere_there_is_nothing_to_keep():
    IncludedRating.objects.bulk_create(_included(10, lambda p: 11 - p))
    assert included_order.drug_order() is None
    assert included_order.keep_in_drug_order() is False
