"""Database constraints hold even when application code is bypassed."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from drugratings.ratings.models import Rating


def rating(personas, catalog, **scores) -> Rating:
    values = {"efficacy": 4, **scores}
    return Rating(
        physician=personas.verified.physician,
        drug=catalog.atorvastatin,
        indication=catalog.hyperlipidemia,
        **values,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field", ["efficacy", "safety", "tolerability", "accessibility", "adherence"]
)
@pytest.mark.parametrize("value", [0, 6])
def test_a_score_outside_1_to_5_is_refused_by_the_database(personas, small_catalog, field, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        rating(personas, small_catalog, **{field: value}).save()
    assert not Rating.objects.exists()


@pytest.mark.django_db
def test_a_rating_with_no_score_at_all_is_refused(personas, small_catalog):
    with pytest.raises(IntegrityError), transaction.atomic():
        rating(personas, small_catalog, efficacy=None).save()


@pytest.mark.django_db
def test_a_second_rating_for_the_same_physician_drug_and_indication_is_refused(
    personas, small_catalog
):
    rating(personas, small_catalog).save()
    with pytest.raises(IntegrityError), transaction.atomic():
        rating(personas, small_catalog, efficacy=2).save()
    assert Rating.objects.get().efficacy == 4


@pytest.mark.django_db
def test_the_same_physician_may_rate_the_drug_for_another_indication(personas, small_catalog):
    rating(personas, small_catalog).save()
    Rating.objects.create(
        physician=personas.verified.physician,
        drug=small_catalog.atorvastatin,
        indication=small_catalog.migraine,
        off_label=True,
        safety=3,
    )
    assert Rating.objects.count() == 2


@pytest.mark.django_db
def test_a_rating_for_a_drug_that_does_not_exist_is_refused(personas, small_catalog):
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(
            physician=personas.verified.physician,
            drug_id=987654,
            indication=small_catalog.hyperlipidemia,
            efficacy=3,
        )
        connection.check_constraints()  # SQLite checks foreign keys at commit; force it now
    assert not Rating.objects.exists()
