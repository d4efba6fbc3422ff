"""The release stream: checks and audit as every portal endpoint, Last-Event-ID, live events."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from drugratings.accounts.actions import issue_token
from drugratings.accounts.models import TokenKind
from drugratings.portal import stream
from drugratings.portal.models import PortalRequest, Release

pytestmark = pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume")


def _release() -> Release:
    return Release.objects.create(methodology_version="test")


def _key(user, scopes):
    return issue_token(user, TokenKind.API_KEY, days=1, name="t", scopes=scopes)[1]


def _get(client, key, **headers):
    # The sync test client reads the asynchronous body to its end: streams end at once here.
    response = client.get(
        "/api/v1/portal/stream", headers={"Authorization": f"Bearer {key}", **headers}
    )
    body = b"".join(response).decode() if response.streaming else ""
    return response, body


@pytest.fixture
def short_streams(settings):
    settings.PORTAL_STREAM_SECONDS = 0
    settings.PORTAL_STREAM_POLL_SECONDS = 0.05


def test_last_event_id_replays_only_what_the_client_missed(world, client, short_streams):
    first, second, third = _release(), _release(), _release()
    key = _key(world.analyst, ["releases:read"])
    response, body = _get(client, key, **{"Last-Event-ID": str(first.pk)})
    assert response.status_code == 200 and response["Content-Type"] == "text/event-stream"
    assert f"id: {first.pk}\n" not in body
    assert body.index(f"id: {second.pk}\n") < body.index(f"id: {third.pk}\n")
    fresh, body = _get(client, key)  # no Last-Event-ID: from the newest release on
    assert fresh.status_code == 200 and "event: release" not in body


def test_the_stream_checks_the_key_scope_and_writes_the_audit_row(world, client, short_streams):
    _release()
    reports_only = _key(world.analyst, ["reports:read"])
    assert _get(client, reports_only)[0].status_code == 403
    assert client.get("/api/v1/portal/stream").status_code == 401
    before = PortalRequest.objects.filter(path="/api/v1/portal/stream").count()
    assert _get(client, _key(world.analyst, ["releases:read"]))[0].status_code == 200
    assert PortalRequest.objects.filter(path="/api/v1/portal/stream").count() == before + 1


@pytest.mark.parametrize("value", ["abc", "-1", "9223372036854775808", "1" * 40])
def test_a_bad_last_event_id_is_a_4xx_naming_it(world, client, short_streams, value):
    response, _ = _get(client, _key(world.analyst, ["releases:read"]), **{"Last-Event-ID": value})
    assert response.status_code in (400, 422)
    assert response.json()["errors"][0]["field"] == "Last-Event-ID"


def test_an_open_stream_announces_a_release_published_meanwhile(world, settings):
    settings.PORTAL_STREAM_POLL_SECONDS = 0.05
    start = _release()

    async def scenario() -> list[str]:
        events: list[str] = []
        reader = stream.release_events(after=start.pk, seconds=5)
        events.append(await anext(reader))  # retry: ...
        waiting = asyncio.ensure_future(anext(reader))
        await asyncio.sleep(0.2)  # the stream is open and idle
        assert not waiting.done()
        published = await sync_to_async(_release)()
        events.append(await asyncio.wait_for(waiting, 3))
        await reader.aclose()
        return [published.pk, *events]

    published, *events = async_to_sync(scenario)()
    assert events[0].startswith("retry:")
    assert events[1].startswith(f"id: {published}\nevent: release")


def test_one_poll_serves_every_open_stream(world, settings, monkeypatch):
    """Subscribers share the watch's poll: the table is not queried once per stream."""
    settings.PORTAL_STREAM_POLL_SECONDS = 0.05
    start = _release()
    polls = []
    real = stream._latest_id

    def counting() -> int:
        polls.append(1)
        return real()

    monkeypatch.setattr(stream, "_latest_id_async", sync_to_async(counting))

    async def scenario() -> None:
        readers = [stream.release_events(after=start.pk, seconds=0.5) for _ in range(50)]
        for reader in readers:
            await anext(reader)
        tasks = [asyncio.ensure_future(_drain(r)) for r in readers]
        await asyncio.gather(*tasks)

    async_to_sync(scenario)()
    # About 0.5 s / 0.05 s = 10 polls for all 50 streams together (not 500).
    assert 1 <= len(polls) <= 20


async def _drain(reader) -> None:
    async for _ in reader:
        pass
