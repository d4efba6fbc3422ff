"""How analytics reacts to other apps' events (subscribed in AnalyticsConfig.ready)."""

from __future__ import annotations

from drugratings.analytics.actions import request_refit
from drugratings.core.events import RatingChanged, StandingChanged


def refit_on_rating_change(event: RatingChanged) -> None:
    """Scores are refitted after ratings go quiet (the worker debounces the requests)."""
    request_refit("withdrawal" if event.withdrawn else "rating")


def refit_on_standing_change(event: StandingChanged) -> None:
    """A suspension (or its lifting) takes a physician's ratings out of the scores (or puts them
    back): refit so the published scores and the next release follow."""
    request_refit("reinstatement" if event.counting else "suspension")
