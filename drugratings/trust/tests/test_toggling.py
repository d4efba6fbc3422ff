"""The coordinated-toggling detector: a batch that repeatedly flips one rating in step is
quarantined and so held out of scores and releases; honest editing is left alone."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from drugratings.accounts.actions import sync_specialties
from drugratings.portal.tests.conftest import add_physicians, rate
from drugratings.ratings.models import RatingRevision, RatingStatus, RevisionAction
from drugratings.ratings.queries import scored_ratings
from drugratings.testing.catalog import make_small_catalog
from drugratings.trust.detection import run_detection


def _change(rating, at, action=RevisionAction.UPDATED) -> None:
    RatingRevision.objects.create(
        rating=rating,
        physician_id=rating.physician_id,
        drug_id=rating.drug_id,
        indication_id=rating.indication_id,
        action=action,
        at=at,
        **rating.scores(),
    )


@pytest.mark.django_db
def test_a_batch_flipping_one_rating_in_step_is_held_out_of_releases():
    sync_specialties()
    catalog = make_small_catalog()
    rng = random.Random(3)
    # The detector counts changes in fixed clock-hour windows: the batch flips in the first 25
    # minutes of an hour (a batch straddling an hour boundary is a known gap, METHODOLOGY.md).
    start = (timezone.now() - timedelta(days=20)).replace(minute=5, second=0, microsecond=0)
    colluders = add_physicians(10)
    honest = add_physicians(40, start=100)
    batch = []
    for user in colluders:
        rating = rate(user, catalog.atorvastatin, catalog.hyperlipidemia, 5)
        _change(rating, start, RevisionAction.CREATED)
        batch.append(rating)
    for round_ in range(4):  # four releases' worth of in-step flips, a day apart
        for rating in batch:
            _change(rating, start + timedelta(days=round_ + 1, minutes=rng.randint(0, 20)))
    others = []
    for n, user in enumerate(honest):
        rating = rate(user, catalog.atorvastatin, catalog.hyperlipidemia, 3)
        _change(rating, start, RevisionAction.CREATED)
        # Honest edits: at random times; one physician edits the same rating five times alone.
        for _ in range(5 if n == 0 else rng.randint(0, 2)):
            _change(rating, start + timedelta(hours=rng.uniform(0, 24 * 19)))
        others.append(rating)
    cases = run_detection()
    toggling = [c for c in cases if c.detector == "toggling"]
    assert len(toggling) == 1
    assert set(toggling[0].ratings.values_list("pk", flat=True)) == {r.pk for r in batch}
    assert not scored_ratings().filter(pk__in=[r.pk for r in batch]).exists()
    assert scored_ratings().filter(pk__in=[r.pk for r in others]).count() == len(others)
    assert all(
        r.status == RatingStatus.QUARANTINED
        for r in type(batch[0]).objects.filter(pk__in=[r.pk for r in batch])
    )
