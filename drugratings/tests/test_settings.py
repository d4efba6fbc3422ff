"""Settings come from the environment; production mode refuses unsafe ones."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from drugratings.env import parse_database_url
from drugratings.testing.processes import manage

GOOD_KEY = "k" * 20 + "9f8e7d6c5b4a3928171605f4e3d2c1b0a9"


def check(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return manage("check", *args, env=env, drop=("SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"))


def test_production_mode_refuses_the_default_secret_key():
    result = check({"DRUGRATINGS_MODE": "production", "ALLOWED_HOSTS": "example.org"})
    assert result.returncode != 0
    assert "production mode needs SECRET_KEY" in result.stderr


def test_production_mode_refuses_debug():
    result = check(
        {
            "DRUGRATINGS_MODE": "production",
            "SECRET_KEY": GOOD_KEY,
            "DEBUG": "1",
            "ALLOWED_HOSTS": "example.org",
        }
    )
    assert result.returncode != 0
    assert "refuses DEBUG" in result.stderr


def test_production_settings_pass_the_deploy_checklist():
    result = check(
        {"DRUGRATINGS_MODE": "production", "SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "example.org"},
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_unknown_mode_is_refused():
    result = check({"DRUGRATINGS_MODE": "staging"})
    assert result.returncode != 0 and "DRUGRATINGS_MODE='staging'" in result.stderr


def test_database_urls_pick_sqlite_or_postgresql(tmp_path: Path):
    sqlite = parse_database_url("sqlite:///var/x.sqlite3", tmp_path)
    assert sqlite["ENGINE"].endswith("sqlite3") and sqlite["NAME"] == tmp_path / "var/x.sqlite3"
    pg = parse_database_url("postgres://u:p%40ss@db.example:6543/ratings?sslmode=require", tmp_path)
    assert (pg["ENGINE"], pg["NAME"], pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"]) == (
        "django.db.backends.postgresql",
        "ratings",
        "u",
        "p@ss",
        "db.example",
        "6543",
    )
    assert pg["OPTIONS"] == {"sslmode": "require"}
    with pytest.raises(Exception, match="mysql"):
        parse_database_url("mysql://x/y", tmp_path)


def test_postgresql_connections_are_closed_after_each_request(tmp_path: Path):
    # Persistent connections leak one per request under ASGI (see env.py).
    assert parse_database_url("postgres://u@db/ratings", tmp_path)["CONN_MAX_AGE"] == 0


def test_postgresql_connections_come_from_a_pool_when_sized(tmp_path: Path):
    pooled = parse_database_url("postgres://u@db/ratings?sslmode=require", tmp_path, pool_size=6)
    assert pooled["OPTIONS"] == {
        "sslmode": "require",
        "pool": {"min_size": 1, "max_size": 6, "timeout": 10},
    }
    assert pooled["CONN_MAX_AGE"] == 0  # Django refuses a pool with persistent connections
    assert "pool" not in parse_database_url("postgres://u@db/ratings", tmp_path)["OPTIONS"]
    sqlite = parse_database_url("sqlite:///x.sqlite3", tmp_path, pool_size=6)
    assert "pool" not in sqlite["OPTIONS"]


@pytest.mark.parametrize(
    ("value", "message"),
    [("-1", "DATABASE_POOL_SIZE=-1: use 0 (no pool) or more"), ("eight", "is not an integer")],
)
def test_a_wrong_pool_size_is_a_clear_error(value, message):
    result = check({"DATABASE_POOL_SIZE": value})
    assert result.returncode != 0
    assert message in result.stderr and "DATABASE_POOL_SIZE" in result.stderr
