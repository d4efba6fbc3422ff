"""How trust reacts to other apps' events (subscribed in TrustConfig.ready)."""

from __future__ import annotations

from drugratings.core.events import RatingChanged
from drugratings.ratings.models import Rating
from drugratings.trust.conflicts import flag_conflict_of_interest


def flag_conflict_on_rating(event: RatingChanged) -> None:
    """A saved rating under a declared or Open Payments interest is flagged at once."""
    if event.withdrawn:
        return
    flag_conflict_of_interest(Rating.objects.get(pk=event.rating_id))
