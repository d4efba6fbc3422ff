"""Cross-app reactions go through named events: who listens is visible, and each reaction
happens inside the announcing write (a failing subscriber rolls the write back)."""

from __future__ import annotations

import pytest

from drugratings.analytics.models import RefitRequest
from drugratings.core.events import (
    RatingChanged,
    comment_written,
    rating_changed,
    scores_refitted,
    standing_changed,
    status_changed,
)
from drugratings.core.jobs import registered_jobs
from drugratings.moderation.actions import screen_written_comment
from drugratings.ratings.actions import RatingInput, upsert_rating, withdraw_rating
from drugratings.ratings.models import Comment, CommentStatus, Rating


def test_each_app_subscribes_in_its_ready():
    assert rating_changed.subscribers() == [
        "drugratings.analytics.reactions.refit_on_rating_change",
        "drugratings.trust.reactions.flag_conflict_on_rating",
    ]
    assert comment_written.subscribers() == [
        "drugratings.moderation.actions.screen_written_comment"
    ]
    assert scores_refitted.subscribers() == ["drugratings.trust.detection.detect_after_refit"]
    assert status_changed.subscribers() == [
        "drugratings.ratings.actions.recount_after_status_change"
    ]
    assert standing_changed.subscribers() == [
        "drugratings.analytics.reactions.refit_on_standing_change"
    ]
    assert [job.name for job in registered_jobs()] == [
        "initial-fit",
        "refit",
        "release",
        "quarterly-reports",
        "digests",
    ]


@pytest.fixture
def heard():
    events: list[RatingChanged] = []

    def listen(event: RatingChanged) -> None:
        events.append(event)

    rating_changed.subscribe(listen)
    yield events
    rating_changed.unsubscribe(listen)


def test_a_rating_write_is_announced_and_analytics_reacts(small_catalog, personas, heard):
    user, drug = personas.verified, small_catalog.atorvastatin
    data = RatingInput(small_catalog.hyperlipidemia.pk, {"efficacy": 4})
    rating = upsert_rating(user, drug.pk, data).rating
    assert heard == [
        RatingChanged(rating.pk, user.physician.pk, drug.pk, small_catalog.hyperlipidemia.pk, False)
    ]
    assert list(RefitRequest.objects.values_list("reason", flat=True)) == ["rating"]
    withdraw_rating(user, drug.pk, small_catalog.hyperlipidemia.pk)
    assert heard[-1].withdrawn and heard[-1].rating_id == rating.pk
    assert RefitRequest.objects.filter(reason="withdrawal").count() == 1


def test_a_failing_subscriber_rolls_the_rating_back(small_catalog, personas):
    def broken(event: RatingChanged) -> None:
        raise RuntimeError("subscriber failed")

    rating_changed.subscribe(broken)
    try:
        with pytest.raises(RuntimeError):
            upsert_rating(
                personas.verified,
                small_catalog.atorvastatin.pk,
                RatingInput(small_catalog.hyperlipidemia.pk, {"efficacy": 4}),
            )
    finally:
        rating_changed.unsubscribe(broken)
    assert not Rating.objects.exists() and not RefitRequest.objects.exists()


def test_comment_text_is_published_only_by_moderation_screening(small_catalog, personas):
    def rate(comment: str) -> Comment:
        return upsert_rating(
            personas.verified,
            small_catalog.atorvastatin.pk,
            RatingInput(small_catalog.hyperlipidemia.pk, {"efficacy": 4}, comment),
        ).comment

    assert rate("Works well for most of my patients.").status == CommentStatus.PUBLISHED
    held = rate("Call my patient at 555-867-5309 about it.")
    assert held.status == CommentStatus.HELD and held.hold_reasons
    comment_written.unsubscribe(screen_written_comment)
    try:  # without moderation listening nothing unscreened is shown: the text stays held
        assert rate("Changed my mind: fine.").status == CommentStatus.HELD
    finally:
        comment_written.subscribe(screen_written_comment)
