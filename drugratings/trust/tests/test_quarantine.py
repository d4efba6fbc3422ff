"""Quarantine: suspect ratings leave scores and releases until a moderator decides."""

from __future__ import annotations

import pytest

from drugratings.errors import InvalidInput
from drugratings.moderation.models import ModeratorAction, ModeratorActionKind
from drugratings.portal.models import IncludedRating
from drugratings.portal.releases import build_release
from drugratings.ratings.models import RatingRevision, RatingStatus, RevisionAction
from drugratings.trust import actions
from drugratings.trust.models import CaseStatus


@pytest.fixture
def moderator(db):
    from drugratings.testing.personas import make_staff

    return make_staff("mod@staff.test")


def ring(world, n=6):
    return list(world.catalog.atorvastatin.ratings.all()[:n])


def test_quarantined_ratings_leave_scores_and_the_next_release(world, api_as):
    build_release()
    included = IncludedRating.objects.count()
    suspects = ring(world)
    case = actions.open_case(
        "dense_blocks",
        9.5,
        "20 accounts rating one drug 5",
        [r.pk for r in suspects],
        [r.physician_id for r in suspects],
    )
    assert case.ratings.count() == 6
    assert all(r.status == RatingStatus.QUARANTINED for r in case.ratings.all())
    assert (
        api_as(None).get("/api/v1/stats").json()["ratings"]
        == world.catalog.atorvastatin.ratings.model.objects.filter(status="active").count()
    )
    build_release()
    assert IncludedRating.objects.count() == included - 6
    assert RatingRevision.objects.filter(action=RevisionAction.QUARANTINED).count() == 6


def test_the_rater_is_not_told_which_signal_fired(world, web_as):
    suspects = ring(world, 1)
    actions.open_case(
        "manufacturer_bias",
        4.0,
        "SECRET-DETECTOR-REASON",
        [suspects[0].pk],
        [suspects[0].physician_id],
    )
    rater = suspects[0].physician.user
    page = web_as(rater).get("/me/ratings/")
    assert b"under review" in page.content
    assert (
        b"SECRET-DETECTOR-REASON" not in page.content and b"manufacturer_bias" not in page.content
    )


def test_a_moderator_clears_a_case_and_the_ratings_return(world, moderator, web_as):
    suspects = ring(world, 3)
    case = actions.open_case("bursts", 3.0, "burst", [r.pk for r in suspects], [])
    response = web_as(moderator).post(
        f"/moderation/quarantine/{case.pk}/", {"decision": "cleared", "reason": "Genuine surge"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.CLEARED and case.decided_by == moderator
    assert case.ratings.count() == 3
    assert all(r.status == RatingStatus.ACTIVE for r in case.ratings.all())
    assert ModeratorAction.objects.filter(kind=ModeratorActionKind.CLEAR_RATING).count() == 3
    # The same detector does not quarantine them again.
    assert actions.open_case("bursts", 3.0, "burst", [r.pk for r in suspects], []) is None


def test_removal_keeps_them_out_for_good_and_is_audited(world, moderator):
    suspects = ring(world, 2)
    case = actions.open_case("cohorts", 2.0, "cohort", [r.pk for r in suspects], [])
    actions.decide_case(moderator, case.pk, CaseStatus.REMOVED, "Ring confirmed")
    assert {r.status for r in case.ratings.all()} == {RatingStatus.REMOVED}
    assert ModeratorAction.objects.filter(kind=ModeratorActionKind.REMOVE_RATING).count() == 2
    with pytest.raises(InvalidInput) as error:
        actions.decide_case(moderator, case.pk, CaseStatus.CLEARED, "Oops")
    assert error.value.status == 409


def test_only_moderators_decide_and_a_reason_is_required(world, moderator, web_as):
    case = actions.open_case("cohorts", 2.0, "cohort", [ring(world, 1)[0].pk], [])
    for user in (world.physicians[0], world.analyst):
        assert (
            web_as(user)
            .post(f"/moderation/quarantine/{case.pk}/", {"decision": "cleared", "reason": "x"})
            .status_code
            == 403
        )
    web_as(moderator).post(f"/moderation/quarantine/{case.pk}/", {"decision": "cleared"})
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
