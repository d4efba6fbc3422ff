"""How trust reacts to other apps' events (subscribed in TrustConfig.ready)."""

from __future__ import annotations

from drugratings.core.events import RatingChanged, ScoresRefitted
from drugratings.ratings.models import Rating
from drugratings.trust.conflicts import flag_conflict_of_interest
from drugratings.trust.detection import run_detection


def flag_conflict_on_rating(event: RatingChanged) -> None:
    """A saved rating under a declared or Open Payments interest is flagged at once."""
    if event.withdrawn:
        return
    flag_conflict_of_interest(Rating.objects.get(pk=event.rating_id))


def detect_after_refit(event: ScoresRefitted) -> str:
    """The detectors run after each refit; quarantines trigger the next refit."""
    cases = run_detection()
    return f"{len(cases)} new quarantine case(s)"
