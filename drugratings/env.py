"""Tiny helpers that read settings from environment variables and fail loudly on bad values."""

from __future__ import annotations

import os
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

IPNetwork = IPv4Network | IPv6Network

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def envstr(name: str, default: str = "") -> str:
    """Read a string; `NAME_FILE` (a path) wins over `NAME`, for secrets mounted as files."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        try:
            return Path(file_path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_path!r} cannot be read: {exc}") from exc
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false)")


def envint(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from exc


def envlist(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


def envnetworks(name: str, default: list[str]) -> tuple[IPNetwork, ...]:
    """A comma-separated list of addresses or CIDR networks (`10.0.0.0/8, ::1`)."""
    networks = []
    for part in envlist(name, default):
        try:
            networks.append(ip_network(part, strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}: {part!r} is not an address or network") from exc
    return tuple(networks)


def parse_database_url(
    url: str, base_dir: Path, name: str = "DATABASE_URL", *, pool_size: int = 0
) -> dict:
    """Turn `sqlite:///path` or `postgres://user:pw@host:port/name` into a DATABASES entry;
    PostgreSQL connections come from a pool of up to `pool_size` per process (0: no pool)."""
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme == "sqlite":
        raw_path = unquote(parsed.path)
        # sqlite:///relative.db -> "relative.db"; sqlite:////abs/path.db -> "/abs/path.db"
        path = raw_path[1:] if raw_path.startswith("/") else raw_path
        if path in ("", ":memory:"):
            name: str | Path = ":memory:"
        else:
            name = Path(path) if Path(path).is_absolute() else base_dir / path
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name,
            # WAL lets the web server read while the worker refits scores.
            "OPTIONS": {
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
            },
        }
    if scheme in ("postgres", "postgresql", "pgsql"):
        options: dict = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
        if pool_size > 0:
            # Opening a connection costs PostgreSQL a process fork and us about 7 ms, on every
            # request since connections are not persistent (below): a pool hands each request
            # an open one and takes it back when the request ends (Django 5.1+, psycopg_pool).
            # A request waits at most `timeout` seconds for one, then fails.
            options["pool"] = {"min_size": 1, "max_size": pool_size, "timeout": 10}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")) or "postgres",
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            # Not persistent: under ASGI (uvicorn) each request runs in a thread of its own, and
            # a connection kept for reuse stays open after its thread is gone (the pool above
            # is how connections are reused). With 60 s, 8
            # clients left 76 idle connections after 530 requests and hit PostgreSQL's
            # max_connections (bench_10x): 5xx "too many clients". Django's advice for ASGI.
            "CONN_MAX_AGE": 0,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
        }
    raise ImproperlyConfigured(
        f"{name} scheme {scheme!r} is not supported (use sqlite:/// or postgres://)"
    )
