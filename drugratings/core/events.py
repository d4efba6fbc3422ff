"""Named in-process events: how one app reacts to another's change without importing it.

The announcing app calls ``event.announce(payload)`` inside its own action; the reacting apps
subscribe in their ``AppConfig.ready``. Handlers run synchronously, in subscription order
(INSTALLED_APPS order), inside the announcer's transaction, so a failure rolls the whole write
back and a test sees every reaction at once. Not Django signals: STYLE.md keeps domain side
effects explicit, and ``python -c "from drugratings.core import events; ..."`` lists who listens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

P = TypeVar("P")

# A handler may return a short note for the caller's log (the worker prints them), or None.
Handler = Callable[[P], str | None]


class Event(Generic[P]):
    """One named event with a typed payload and an ordered list of handlers."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._handlers: list[Handler[P]] = []

    def subscribe(self, handler: Handler[P]) -> Handler[P]:
        """Add a handler once (``ready`` may run more than once in tests); returns it."""
        if handler not in self._handlers:
            self._handlers.append(handler)
        return handler

    def announce(self, payload: P) -> list[str]:
        """Call every handler with the payload, in order; returns their notes."""
        notes = [handler(payload) for handler in list(self._handlers)]
        return [note for note in notes if note]

    def subscribers(self) -> list[str]:
        return [f"{h.__module__}.{h.__qualname__}" for h in self._handlers]


@dataclass(frozen=True)
class RatingChanged:
    """A physician's rating of a drug for an indication was saved or withdrawn."""

    rating_id: int
    physician_id: int
    drug_id: int
    indication_id: int
    withdrawn: bool


@dataclass(frozen=True)
class CommentWritten:
    """A comment's text was created or changed; it stays held until screening publishes it."""

    comment_id: int


@dataclass(frozen=True)
class ScoresRefitted:
    """A new score fit became current."""

    fit_id: int


# Announced by ratings.actions; analytics (refit request) and trust (conflicts) subscribe.
rating_changed: Event[RatingChanged] = Event("rating changed")
# Announced by ratings.actions; moderation screens the text and publishes or holds it.
comment_written: Event[CommentWritten] = Event("comment written")
# Announced by the analytics refit job; trust runs the manipulation detectors.
scores_refitted: Event[ScoresRefitted] = Event("scores refitted")

ALL: tuple[Event, ...] = (rating_changed, comment_written, scores_refitted)
