"""Sign-in throttling that a stranger cannot turn into a lockout (issue 10).

Per (account, client address): free attempts, then growing delays. Per account: a ceiling past
which every check is slowed and the holder is emailed once per burst, but the right password
from a client that has not failed is never refused. Per address: a limit across accounts.
Client addresses come from X-Forwarded-For only behind a configured trusted proxy.
"""

from __future__ import annotations

from datetime import timedelta
from ipaddress import ip_network

import pytest
from django.core import mail
from django.test import RequestFactory
from django.utils import timezone

from drugratings.accounts import actions
from drugratings.accounts.addresses import client_address
from drugratings.accounts.models import LoginAttempt
from drugratings.testing.personas import PASSWORD

EMAIL = "verified@doc.test"


@pytest.fixture(autouse=True)
def _rules(settings):
    settings.LOGIN_THROTTLE_WINDOW_SECONDS = 900
    settings.LOGIN_THROTTLE_FREE_ATTEMPTS = 2
    settings.LOGIN_THROTTLE_BASE_DELAY_SECONDS = 2
    settings.LOGIN_THROTTLE_MAX_DELAY_SECONDS = 600
    settings.LOGIN_THROTTLE_PER_ACCOUNT = 10
    settings.LOGIN_THROTTLE_SLOWDOWN_SECONDS = 0.01
    settings.LOGIN_THROTTLE_PER_ADDRESS = 30
    settings.TRUSTED_PROXIES = ()


def token(client, password=PASSWORD, address="198.51.100.1", email=EMAIL, **headers):
    return client.post(
        "/api/v1/auth/token",
        {"email": email, "password": password},
        content_type="application/json",
        REMOTE_ADDR=address,
        headers=headers,
    )


def failures(n, address="198.51.100.1", email=EMAIL, at=None):
    at = at or timezone.now()
    for i in range(n):
        LoginAttempt.objects.create(
            email=email, address=address, succeeded=False, at=at - timedelta(seconds=n - i)
        )


def test_a_client_gets_free_attempts_then_growing_delays(personas):
    now = timezone.now()
    failures(2, at=now)
    first = actions.login_throttle(EMAIL, "198.51.100.1", now)
    assert first.wait_seconds == 1  # 2 s after the last failure, which was 1 s ago
    waits = []
    for _ in range(3):
        LoginAttempt.objects.create(email=EMAIL, address="198.51.100.1", at=now)
        waits.append(actions.login_throttle(EMAIL, "198.51.100.1", now).wait_seconds)
    assert waits == [4, 8, 16]  # each further failure doubles the wait
    later = now + timedelta(seconds=16)
    assert actions.login_throttle(EMAIL, "198.51.100.1", later).wait_seconds == 0


def test_the_delay_is_capped(personas, settings):
    settings.LOGIN_THROTTLE_MAX_DELAY_SECONDS = 60
    now = timezone.now()
    failures(9, at=now)
    assert actions.login_throttle(EMAIL, "198.51.100.1", now).wait_seconds <= 60


def test_a_throttled_client_gets_a_429_with_retry_after_even_with_the_right_password(
    personas, client
):
    for _ in range(2):
        assert token(client, "wrong-password").status_code == 401
    throttled = token(client)
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) > 0
    assert throttled.json()["errors"][0]["field"] == "email"
    assert LoginAttempt.objects.count() == 2  # a refused attempt checks no password


def test_another_client_signs_in_while_one_is_guessing(personas, client):
    for _ in range(2):
        token(client, "wrong-password", address="203.0.113.66")
    assert token(client, address="203.0.113.66").status_code == 429
    assert token(client, address="198.51.100.7").status_code == 200


def test_past_the_account_ceiling_the_right_password_is_slowed_but_never_refused(
    personas, client, monkeypatch
):
    """Twenty addresses guessing (a botnet): the holder's own client still gets in."""
    for n in range(20):
        failures(2, address=f"203.0.113.{n}")
    slept = []
    monkeypatch.setattr(actions.time, "sleep", slept.append)
    response = token(client, address="198.51.100.200")
    assert response.status_code == 200 and slept == [0.01]
    # A client that has failed on the account has no free attempts left past the ceiling.
    failures(1, address="198.51.100.201")
    assert token(client, address="198.51.100.201").status_code == 429


def test_a_success_starts_the_client_afresh(personas, client):
    token(client, "wrong-password")
    assert token(client).status_code == 200
    token(client, "wrong-password")
    assert token(client).status_code == 200  # one failure since the success: still free


def test_one_address_guessing_across_accounts_is_stopped(personas, client, settings):
    settings.LOGIN_THROTTLE_PER_ADDRESS = 5
    for n in range(5):
        failures(1, address="203.0.113.9", email=f"victim{n}@doc.test")
    response = token(client, address="203.0.113.9")
    assert response.status_code == 429 and "from your address" in response.content.decode()
    assert token(client, address="203.0.113.10").status_code == 200


def test_the_holder_is_emailed_once_per_burst(personas, client):
    for n in range(12):
        token(client, "wrong-password", address=f"203.0.113.{n}")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [EMAIL] and "failed" in message.subject.lower()
    assert "not locked" in message.body
    # A new burst after the window has passed is told again.
    LoginAttempt.objects.update(at=timezone.now() - timedelta(seconds=1000))
    personas.verified.refresh_from_db()
    personas.verified.login_alert_sent_at = timezone.now() - timedelta(seconds=1000)
    personas.verified.save(update_fields=["login_alert_sent_at"])
    for n in range(12):
        token(client, "wrong-password", address=f"203.0.113.{100 + n}")
    assert len(mail.outbox) == 2


def test_no_email_for_an_address_that_is_not_an_account(personas, client):
    for n in range(12):
        token(client, "wrong-password", address=f"203.0.113.{n}", email="nobody@doc.test")
    assert mail.outbox == []


def test_the_web_sign_in_lets_the_holder_in_past_the_ceiling(personas, client):
    for n in range(20):
        failures(2, address=f"203.0.113.{n}")
    page = client.post(
        "/accounts/login/", {"email": EMAIL, "password": PASSWORD}, REMOTE_ADDR="198.51.100.9"
    )
    assert page.status_code == 302


# --- Client addresses -------------------------------------------------------------------------


def _request(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_x_forwarded_for_is_ignored_without_trusted_proxies():
    assert client_address(_request("198.51.100.4", "1.2.3.4")) == "198.51.100.4"


def test_behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client(settings):
    settings.TRUSTED_PROXIES = (ip_network("10.0.0.0/8"), ip_network("192.0.2.10/32"))
    # The client forged "6.6.6.6"; our edge proxy appended the real peer 203.0.113.5, and an
    # inner proxy (10.1.1.1) appended the edge's address.
    request = _request("10.1.1.1", "6.6.6.6, 203.0.113.5, 192.0.2.10")
    assert client_address(request) == "203.0.113.5"


def test_a_peer_that_is_not_a_trusted_proxy_cannot_forward(settings):
    settings.TRUSTED_PROXIES = (ip_network("10.0.0.0/8"),)
    assert client_address(_request("198.51.100.4", "10.2.2.2, 1.2.3.4")) == "198.51.100.4"


def test_the_proxy_own_address_is_never_the_client(settings):
    settings.TRUSTED_PROXIES = (ip_network("10.0.0.0/8"),)
    assert client_address(_request("10.1.1.1")) is None
    assert client_address(_request("10.1.1.1", "10.3.3.3")) is None
    assert client_address(_request("10.1.1.1", "not-an-address")) is None
    assert client_address(_request("10.1.1.1", "[2001:db8::7]:443")) == "2001:db8::7"


def test_clients_behind_one_trusted_proxy_are_throttled_separately(personas, client, settings):
    settings.TRUSTED_PROXIES = (ip_network("10.0.0.0/8"),)
    for _ in range(2):
        token(client, "wrong-password", address="10.0.0.2", **{"X-Forwarded-For": "203.0.113.1"})
    assert (
        token(client, address="10.0.0.2", **{"X-Forwarded-For": "203.0.113.1"}).status_code == 429
    )
    assert (
        token(client, address="10.0.0.2", **{"X-Forwarded-For": "203.0.113.2"}).status_code == 200
    )
    assert set(LoginAttempt.objects.values_list("address", flat=True)) == {
        "203.0.113.1",
        "203.0.113.2",
    }
