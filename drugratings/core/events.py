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

from django.utils.module_loading import import_string

P = TypeVar("P")

# A handler may return a short note for the caller's log (the worker prints them), or None.
Handler = Callable[[P], str | None]


def resolve(target: Callable | str) -> Callable:
    """A callable, or the dotted path of one: handlers in modules that import scipy (the
    detectors, the model fit) are named by path so that starting Django stays light; the
    module is imported on the first call (and then cached by Python)."""
    return import_string(target) if isinstance(target, str) else target


class Event(Generic[P]):
    """One named event with a typed payload and an ordered list of handlers."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._handlers: list[Handler[P] | str] = []

    def subscribe(self, handler: Handler[P] | str) -> None:
        """Add a handler (or its dotted path) once: ``ready`` may run more than once."""
        if handler not in self._handlers:
            self._handlers.append(handler)

    def unsubscribe(self, handler: Handler[P] | str) -> None:
        self._handlers.remove(handler)

    def announce(self, payload: P) -> list[str]:
        """Call every handler with the payload, in order; returns their notes."""
        notes = [resolve(handler)(payload) for handler in list(self._handlers)]
        return [note for note in notes if note]

    def subscribers(self) -> list[str]:
        return [
            h if isinstance(h, str) else f"{h.__module__}.{h.__qualname__}" for h in self._handlers
        ]


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


@dataclass(frozen=True)
class StatusChanged:
    """A physician's verification status changed (verified, suspended, reinstated, ...)."""

    physician_id: int
    old_status: str
    new_status: str


@dataclass(frozen=True)
class StandingChanged:
    """A physician's ratings started or stopped counting (suspension, or its lifting)."""

    physician_id: int
    counting: bool


# Announced by ratings.actions; analytics (refit request) and trust (conflicts) subscribe.
rating_changed: Event[RatingChanged] = Event("rating changed")
# Announced by ratings.actions; moderation screens the text and publishes or holds it.
comment_written: Event[CommentWritten] = Event("comment written")
# Announced by the analytics refit job; trust runs the manipulation detectors.
scores_refitted: Event[ScoresRefitted] = Event("scores refitted")
# Announced by verification.actions; ratings decides whether the physician's ratings still count.
status_changed: Event[StatusChanged] = Event("status changed")
# Announced by ratings.actions when a physician's ratings start or stop counting; analytics
# asks for a refit so scores and the next release follow.
standing_changed: Event[StandingChanged] = Event("standing changed")

ALL: tuple[Event, ...] = (
    rating_changed,
    comment_written,
    scores_refitted,
    status_changed,
    standing_changed,
)
