"""The settings choose the shared cache: Redis with REDIS_URL, else the database's cache table;
local memory only when asked for, and then sessions live in the database alone."""

from __future__ import annotations

import subprocess

import pytest
from django.core.cache import caches

from drugratings.testing.processes import manage

SHOW = (
    "from django.conf import settings; "
    "print(settings.CACHES['default']['BACKEND'], settings.SESSION_ENGINE)"
)


def _settings(**env: str) -> subprocess.CompletedProcess:
    return manage("shell", "-c", SHOW, env=env, drop=("REDIS_URL", "CACHE_BACKEND"))


@pytest.mark.parametrize(
    ("env", "backend", "sessions"),
    [
        ({}, "django.core.cache.backends.db.DatabaseCache", "cached_db"),
        (
            {"REDIS_URL": "redis://127.0.0.1:6379/3"},
            "django_redis.cache.RedisCache",
            "cached_db",
        ),
        ({"CACHE_BACKEND": "locmem"}, "django.core.cache.backends.locmem.LocMemCache", ".db"),
    ],
)
def test_the_cache_and_sessions_follow_the_environment(env, backend, sessions):
    done = _settings(**env)
    assert done.returncode == 0, done.stderr
    chosen, engine = done.stdout.splitlines()[-1].split()
    assert chosen == backend
    assert engine.endswith(sessions)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CACHE_BACKEND": "memcached"}, "'memcached': use redis, database or locmem"),
        ({"CACHE_BACKEND": "redis"}, "CACHE_BACKEND=redis needs REDIS_URL"),
    ],
)
def test_a_wrong_cache_setting_is_a_clear_error(env, message):
    done = _settings(**env)
    assert done.returncode != 0
    assert message in done.stderr


@pytest.mark.django_db
def test_the_configured_cache_round_trips_bytes_in_this_run():
    # Runs on whichever backend this test run uses (CI: database, and Redis with REDIS_URL).
    cache = caches["default"]
    cache.set("h17:probe", b"\x00stored bytes\xff", 60)
    assert cache.get("h17:probe") == b"\x00stored bytes\xff"
    cache.delete("h17:probe")
    assert cache.get("h17:probe") is None
