"""Two web servers as behind a load balancer, on one PostgreSQL database and one Redis: nothing a
request needs lives in a server process. A browser signs in on one server and goes on with that
session on the other; signing out on either ends it on both; the hourly write limit and sign-in
throttling count attempts made on both. The servers read the catalogue through the replica
router (DATABASE_REPLICA_URL names the same database under another application_name), so the
router and its sticky cookie run under uvicorn too.

Needs DATABASE_URL=postgres://... (a database `<name>_servers` is created beside it and dropped
after) and REDIS_URL (its database is flushed, as test_two_servers.py does); skips otherwise.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlparse

import psycopg
import pytest
import redis
from psycopg import sql

from drugratings.web.tests.test_two_servers import _manage, _start_servers, _stop

RATINGS_PER_HOUR = 3
FREE_SIGN_IN_FAILURES = 2
REPLICA_APP = "drugratings-replica"
SCORES = ("efficacy", "safety", "tolerability", "accessibility", "adherence")
SEED = """
import json
from drugratings.accounts.actions import issue_token
from drugratings.testing.catalog import make_small_catalog
from drugratings.testing.personas import PASSWORD, make_physician, make_personas
catalog = make_small_catalog()
make_personas()
make_physician("browser@two.test")
make_physician("throttled@two.test")
print(json.dumps({
    "drug": catalog.atorvastatin.pk,
    "indications": [catalog.hyperlipidemia.pk, catalog.migraine.pk, catalog.depression.pk],
    "limited": issue_token(make_physician("limited@two.test"))[1],
    "password": PASSWORD,
}))
"""


@dataclass
class Servers:
    seed: dict
    ports: tuple[int, int]
    database: dict[str, str]


def _postgres_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://...")
    try:
        _admin(url).close()
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL at {url} does not answer: {exc}")
    return url


def _redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        pytest.skip("needs Redis: run with REDIS_URL=redis://host:6379/N (N is flushed)")
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at {url} does not answer: {exc}")
    return url


def _admin(url: str) -> psycopg.Connection:
    parsed = urlparse(url)
    return psycopg.connect(
        host=parsed.hostname,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        dbname="postgres",
        autocommit=True,
    )


def _recreate(url: str, name: str, *, drop_only: bool = False) -> None:
    with _admin(url) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if not drop_only:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _env(tmp: Path, url: str, redis_url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "REDIS_", "CACHE_", "LOGIN_THROTTLE_"))
        and k != "DJANGO_SETTINGS_MODULE"
    }
    return {
        **env,
        "DATABASE_URL": url,
        "DATABASE_REPLICA_URL": f"{url}?application_name={REPLICA_APP}",
        "REDIS_URL": redis_url,
        "DRUGRATINGS_VAR_DIR": str(tmp / "var"),
        "DEBUG": "0",
        "DRUGRATINGS_MODE": "development",
        "RATINGS_PER_HOUR": str(RATINGS_PER_HOUR),
        "LOGIN_THROTTLE_FREE_ATTEMPTS": str(FREE_SIGN_IN_FAILURES),
        "LOGIN_THROTTLE_BASE_DELAY_SECONDS": "600",
    }


@pytest.fixture(scope="module")
def servers(tmp_path_factory) -> Iterator[Servers]:
    base, redis_url = _postgres_url(), _redis_url()
    parsed = urlparse(base)
    name = f"{parsed.path.lstrip('/') or 'postgres'}_servers"
    url = parsed._replace(path=f"/{name}", query="").geturl()
    replica = f"{name}_replica"
    replica_url = parsed._replace(path=f"/{replica}", query="").geturl()
    tmp = tmp_path_factory.mktemp("servers")
    _recreate(base, name)
    env = _env(tmp, url, redis_url)
    procs: list[subprocess.Popen] = []
    try:
        _manage(env, "migrate", "--no-input", "-v0")
        _manage(env, "shell", "-c", "from django.core.cache import cache; cache.clear()")
        seed = json.loads(_manage(env, "shell", "-c", SEED).splitlines()[-1])
        # The replica: a copy of the seeded database, so a read served from it is told apart
        # from one served by the primary (the connection itself closes after each request).
        with _admin(base) as admin:
            admin.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(replica), sql.Identifier(name)
                )
            )
        env["DATABASE_REPLICA_URL"] = f"{replica_url}?application_name={REPLICA_APP}"
        procs, ports = _start_servers(env, tmp)
        yield Servers(seed, (ports[0], ports[1]), {"url": base, "name": name, "primary": url})
    finally:
        _stop(procs)
        _recreate(base, replica, drop_only=True)
        _recreate(base, name, drop_only=True)


@dataclass
class Browser:
    """Cookies kept per host, as a browser's are: both servers are 127.0.0.1."""

    cookies: dict[str, str] = field(default_factory=dict)

    def call(
        self,
        port: int,
        method: str,
        path: str,
        form: dict | None = None,
        payload: dict | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, http.client.HTTPResponse, str]:
        headers = dict(headers or {})
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if payload is not None:
            body = json.dumps(payload)
            headers["Content-Type"] = "application/json"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode(errors="replace")
        conn.close()
        for raw in response.msg.get_all("Set-Cookie") or []:
            for key, morsel in SimpleCookie(raw).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = morsel.value
        return response.status, response, text

    def form_token(self, port: int, path: str) -> str:
        status, _, page = self.call(port, "GET", path)
        assert status == 200, page[:500]
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def _signed_in_page(browser: Browser, port: int) -> bool:
    status, response, page = browser.call(port, "GET", "/me/ratings/")
    if status == 302:
        assert "/accounts/login/" in response.getheader("Location", "")
        return False
    assert status == 200, page[:500]
    return "Sign out" in page


@pytest.mark.slow
def test_a_session_started_on_one_server_works_on_the_other_and_ends_on_both(servers):
    one, other = servers.ports
    browser = Browser()
    token = browser.form_token(one, "/accounts/login/")
    status, _, page = browser.call(
        one,
        "POST",
        "/accounts/login/",
        form={
            "csrfmiddlewaretoken": token,
            "email": "browser@two.test",
            "password": servers.seed["password"],
        },
    )
    assert status == 302, page[:500]
    assert "sessionid" in browser.cookies
    assert _signed_in_page(browser, other)
    # A write with that session (CSRF token from the first server's cookie) on the second.
    status, _, page = browser.call(
        other,
        "PUT",
        f"/api/v1/drugs/{servers.seed['drug']}/ratings/mine",
        payload={"indication_id": servers.seed["indications"][0], **dict.fromkeys(SCORES, 4)},
        headers={"X-CSRFToken": browser.cookies["csrftoken"]},
    )
    assert status in (200, 201), page[:500]
    assert "dr_primary" in browser.cookies  # the writer's sticky window, set under uvicorn
    status, _, page = browser.call(one, "GET", "/me/ratings/")
    assert status == 200
    assert "Atorvastatin" in page  # the rating made through the other server
    # Signing out on the first server ends the session on the second, even for a client that
    # presents the old cookie again.
    old = dict(browser.cookies)
    token = browser.form_token(one, "/me/ratings/")
    status, _, _ = browser.call(
        one, "POST", "/accounts/logout/", form={"csrfmiddlewaretoken": token}
    )
    assert status == 302
    assert not _signed_in_page(browser, one)
    assert not _signed_in_page(Browser(old), other)


@pytest.mark.slow
def test_the_hourly_write_limit_counts_writes_on_both_servers(servers):
    ports = servers.ports
    auth = {"Authorization": f"Bearer {servers.seed['limited']}"}
    statuses = []
    for n in range(RATINGS_PER_HOUR + 2):
        indication = servers.seed["indications"][n % 3]
        status, _, _ = Browser().call(
            ports[n % 2],
            "PUT",
            f"/api/v1/drugs/{servers.seed['drug']}/ratings/mine",
            payload={"indication_id": indication, **dict.fromkeys(SCORES, 1 + n % 5)},
            headers=auth,
        )
        statuses.append(status)
    assert all(s in (200, 201) for s in statuses[:RATINGS_PER_HOUR]), statuses
    assert statuses[RATINGS_PER_HOUR:] == [429, 429], statuses


@pytest.mark.slow
def test_sign_in_throttling_counts_failures_on_both_servers(servers):
    ports = servers.ports
    statuses = []
    for n in range(FREE_SIGN_IN_FAILURES + 1):
        browser = Browser()
        port = ports[n % 2]
        token = browser.form_token(port, "/accounts/login/")
        password = "wrong-password-0" if n < FREE_SIGN_IN_FAILURES else servers.seed["password"]
        status, response, _ = browser.call(
            port,
            "POST",
            "/accounts/login/",
            form={
                "csrfmiddlewaretoken": token,
                "email": "throttled@two.test",
                "password": password,
            },
        )
        statuses.append((status, response.getheader("Retry-After")))
    # Even the right password waits: the failures on both servers are this client's.
    assert [s for s, _ in statuses] == [400] * FREE_SIGN_IN_FAILURES + [429], statuses
    assert int(statuses[-1][1]) > 500


@pytest.mark.slow
def test_the_servers_read_the_catalogue_through_their_replica_connections(servers):
    """A catalogue fact changed on the primary only: the page shows the replica's."""
    with psycopg.connect(servers.database["primary"], autocommit=True) as primary:
        primary.execute(
            "UPDATE catalog_drug SET generic_name = 'atorvastatin primaryonly' "
            "WHERE slug = 'atorvastatin-calcium'"
        )
    redis.Redis.from_url(_redis_url()).flushdb()  # no page body stored before the change
    status, _, body = Browser().call(servers.ports[0], "GET", "/drugs/atorvastatin-calcium/")
    assert status == 200
    assert "atorvastatin" in body.lower() and "primaryonly" not in body.lower()
