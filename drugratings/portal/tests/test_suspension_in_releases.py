"""A suspended physician's ratings leave the next pharma release and come back after
reinstatement (issue 10)."""

from __future__ import annotations

from drugratings.portal.models import IncludedRating
from drugratings.portal.releases import build_release
from drugratings.testing.personas import make_staff
from drugratings.verification.actions import decide
from drugratings.verification.models import Decision


def test_a_suspension_removes_the_ratings_from_the_release_and_reinstatement_restores_them(
    world,
):
    verifier = make_staff("verifier@staff.test", role="admin")
    suspended = world.physicians[0].physician
    own = suspended.ratings.count()
    assert own >= 1
    build_release()
    before = IncludedRating.objects.count()
    assert IncludedRating.objects.filter(physician_id=suspended.pk).count() == own

    decide(suspended, Decision.SUSPENDED, "NPI deactivated", by=verifier)
    during = build_release()
    assert not IncludedRating.objects.filter(physician_id=suspended.pk).exists()
    assert IncludedRating.objects.count() == before - own
    assert during.n_events == own

    decide(suspended, Decision.REINSTATED, "NPI reactivated", by=verifier)
    after = build_release()
    assert IncludedRating.objects.filter(physician_id=suspended.pk).count() == own
    assert IncludedRating.objects.count() == before
    assert after.n_events == own
