"""Server-sent events of new releases, served asynchronously so open streams cost no thread.

Each server process keeps one `ReleaseWatch` per event loop: a single task polls the newest
release id every few seconds while anyone is subscribed, and wakes every subscriber when it
changes. Five hundred open streams therefore cost one cheap query per poll interval, not five
hundred, and no thread at all between events (the view that checks the key, scope and
subscription runs as usual; only the body is asynchronous). Under WSGI an async body would be
buffered, so the site is served by an ASGI server (`manage.py serve`, README "Production").
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import time
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from drugratings.portal.actions import release_event
from drugratings.portal.models import Release

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0
# Events kept in memory for subscribers that are a little behind; older ones come from the table.
CACHED_EVENTS = 50
BACKLOG_LIMIT = 100  # at most this many missed releases are replayed to a reconnecting client


def _format(release: Release) -> tuple[int, str]:
    data = json.dumps(release_event(release))
    return release.pk, f"id: {release.pk}\nevent: release\ndata: {data}\n\n"


def _releases_after(after: int) -> list[tuple[int, str]]:
    releases = Release.objects.filter(pk__gt=after).order_by("pk")[:BACKLOG_LIMIT]
    return [_format(r) for r in releases]


def _latest_id() -> int:
    return Release.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


# Thread-sensitive: inside a request, the request's own thread (and connection, closed when the
# request finishes); in the watch's task, which runs in an empty context, asgiref's one shared
# thread, so a process polls over a single long-lived connection.
_releases_after_async = sync_to_async(_releases_after)
_latest_id_async = sync_to_async(_latest_id)
_close_old_connections_async = sync_to_async(close_old_connections)


@dataclass
class ReleaseWatch:
    """The newest release id of one event loop's process, polled once for every subscriber."""

    poll_seconds: float
    latest: int = -1
    cache: dict[int, str] = field(default_factory=dict)  # every release in (cache_floor, latest]
    cache_floor: int = 0
    subscribers: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task | None = None

    def subscribe(self) -> None:
        self.subscribers += 1
        if self.task is None or self.task.done():
            # An empty context: the task outlives the request that happened to start it.
            self.task = asyncio.get_running_loop().create_task(
                self._poll(), context=contextvars.Context()
            )

    def unsubscribe(self) -> None:
        self.subscribers -= 1

    async def _poll(self) -> None:
        # Stops by itself once the last subscriber has gone.
        while self.subscribers > 0:
            try:
                await self._refresh()
            except Exception:  # a database hiccup: streams keep beating, the next poll retries
                log.warning("release watch: polling failed", exc_info=True)
                await _close_old_connections_async()  # drop a broken connection
            await asyncio.sleep(self.poll_seconds)

    async def _refresh(self) -> None:
        latest = await _latest_id_async()
        if latest == self.latest:
            return
        if self.latest < 0 or latest < self.latest:
            # First look, or releases were deleted: start caching from here.
            self.cache.clear()
            self.cache_floor = latest
        else:
            for pk, text in await _releases_after_async(self.latest):
                self.cache[pk] = text
            for pk in sorted(self.cache)[:-CACHED_EVENTS]:
                del self.cache[pk]
                self.cache_floor = pk
        self.latest = latest
        self.changed.set()
        self.changed = asyncio.Event()

    async def events_after(self, after: int) -> list[tuple[int, str]]:
        """Releases newer than `after`: from memory when it holds all of them (the usual case,
        one query per process for every subscriber), else from the table."""
        if self.latest < 0 or after >= self.latest:
            return []
        if after >= self.cache_floor:
            return [(pk, self.cache[pk]) for pk in sorted(self.cache) if pk > after]
        return await _releases_after_async(after)

    async def wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.changed.wait(), timeout)


_watches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ReleaseWatch] = (
    weakref.WeakKeyDictionary()
)


def watch_for_this_loop() -> ReleaseWatch:
    loop = asyncio.get_running_loop()
    if loop not in _watches:
        _watches[loop] = ReleaseWatch(poll_seconds=settings.PORTAL_STREAM_POLL_SECONDS)
    return _watches[loop]


async def release_events(after: int, seconds: float | None = None) -> AsyncIterator[str]:
    """One `release` event per release newer than `after`, heartbeats between; ends after
    `seconds` (clients reconnect with Last-Event-ID and miss nothing)."""
    seconds = settings.PORTAL_STREAM_SECONDS if seconds is None else seconds
    watch = watch_for_this_loop()
    watch.subscribe()
    try:
        yield "retry: 5000\n\n"
        deadline = time.monotonic() + seconds
        last_beat = time.monotonic()
        # Missed releases first, straight from the table (the watch may not know them yet).
        for pk, text in await _releases_after_async(after):
            after = pk
            yield text
        while (remaining := deadline - time.monotonic()) > 0:
            for pk, text in await watch.events_after(after):
                after = pk
                yield text
            if time.monotonic() - last_beat >= HEARTBEAT_SECONDS:
                yield ": keep-alive\n\n"
                last_beat = time.monotonic()
            await watch.wait(min(remaining, HEARTBEAT_SECONDS))
    finally:
        watch.unsubscribe()
