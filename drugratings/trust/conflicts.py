"""Conflict-of-interest flagging of ratings (declarations arrive with the trust-and-safety work)."""

from __future__ import annotations

from drugratings.ratings.models import Rating


def flag_conflict_of_interest(rating: Rating) -> bool:
    """Set `conflict_of_interest` on a rating whose rater declared a relationship with the
    drug's manufacturer or a class competitor. Returns whether it is flagged."""
    return rating.conflict_of_interest
