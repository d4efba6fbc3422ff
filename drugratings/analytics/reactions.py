"""How analytics reacts to other apps' events (subscribed in AnalyticsConfig.ready)."""

from __future__ import annotations

from drugratings.analytics.actions import request_refit
from drugratings.core.events import RatingChanged


def refit_on_rating_change(event: RatingChanged) -> None:
    """Scores are refitted after ratings go quiet (the worker debounces the requests)."""
    request_refit("withdrawal" if event.withdrawn else "rating")
