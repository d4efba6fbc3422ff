"""Token and browser sign-in: passwords, TOTP for pharma and staff, throttling."""

from __future__ import annotations

import pyotp
import pytest

from drugratings.accounts.models import ApiToken, LoginAttempt
from drugratings.testing.personas import PASSWORD, TOTP_SECRET


def token(client, email, password=PASSWORD, otp=None):
    body = {"email": email, "password": password}
    if otp is not None:
        body["otp"] = otp
    return client.post("/api/v1/auth/token", body, content_type="application/json")


def test_a_physician_gets_a_token_and_uses_it(personas, client):
    response = token(client, "verified@doc.test")
    assert response.status_code == 200
    body = response.json()
    assert body["role"] == "physician" and body["verification_status"] == "verified"
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"}).json()
    assert me["email"] == "verified@doc.test" and me["handle"] == personas.verified.physician.handle
    assert ApiToken.objects.get().digest != body["token"]  # only a digest is stored


def test_a_wrong_password_is_a_401_and_is_counted(personas, client):
    response = token(client, "verified@doc.test", "wrong-password")
    assert response.status_code == 401
    assert response.json()["errors"][0]["field"] == "password"
    assert LoginAttempt.objects.filter(succeeded=False).count() == 1


def test_pharma_needs_a_valid_totp_code(personas, client):
    missing = token(client, "analyst@pharma.test")
    assert missing.status_code == 401 and missing.json()["errors"][0]["field"] == "otp"
    wrong = token(client, "analyst@pharma.test", otp="000000")
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "otp"
    ok = token(client, "analyst@pharma.test", otp=pyotp.TOTP(TOTP_SECRET).now())
    assert ok.status_code == 200 and ok.json()["role"] == "pharma"


def test_a_totp_code_cannot_be_replayed(personas, client):
    code = pyotp.TOTP(TOTP_SECRET).now()
    assert token(client, "moderator@staff.test", otp=code).status_code == 200
    assert token(client, "moderator@staff.test", otp=code).status_code == 422


def test_failed_sign_ins_are_throttled_per_account(personas, client, settings):
    settings.LOGIN_THROTTLE_PER_ACCOUNT = 3
    for _ in range(3):
        assert token(client, "verified@doc.test", "nope").status_code == 401
    throttled = token(client, "verified@doc.test")  # even the right password waits
    assert throttled.status_code == 429
    assert "Too many failed sign-ins for this account" in throttled.json()["errors"][0]["message"]
    assert token(client, "other@doc.test").status_code == 200


def test_failed_sign_ins_are_throttled_per_address(personas, client, settings):
    settings.LOGIN_THROTTLE_PER_ADDRESS = 2
    token(client, "a@x.test", "nope")
    token(client, "b@x.test", "nope")
    response = token(client, "verified@doc.test")
    assert (
        response.status_code == 429
        and "from your address"
        in response.json()["detail"] + response.json()["errors"][0]["message"]
    )


def test_a_revoked_token_stops_working(personas, client):
    secret = token(client, "verified@doc.test").json()["token"]
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_the_web_sign_in_throttles_too_and_says_so(personas, client, settings):
    settings.LOGIN_THROTTLE_PER_ACCOUNT = 1
    client.post("/accounts/login/", {"email": "verified@doc.test", "password": "nope"})
    page = client.post("/accounts/login/", {"email": "verified@doc.test", "password": PASSWORD})
    # Issue 10: a throttled sign-in is a 429 with Retry-After (it was a 400).
    assert page.status_code == 429 and b"Too many failed sign-ins" in page.content
    assert int(page["Retry-After"]) > 0


@pytest.mark.parametrize("email", ["analyst@pharma.test", "moderator@staff.test"])
def test_pharma_and_staff_web_sessions_must_pass_the_second_factor(personas, client, email):
    response = client.post("/accounts/login/", {"email": email, "password": PASSWORD})
    assert response.status_code == 302
    blocked = client.get("/drugs/")
    assert blocked.status_code == 302 and blocked["Location"].startswith("/accounts/two-factor/")
    assert client.get("/api/v1/me").status_code == 401  # the session alone is not enough
    wrong = client.post("/accounts/two-factor/", {"otp": "000000"})
    assert wrong.status_code == 400
    ok = client.post("/accounts/two-factor/", {"otp": pyotp.TOTP(TOTP_SECRET).now(), "next": "/"})
    assert ok.status_code == 302
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/me").json()["email"] == email


def test_a_new_staff_member_enrols_a_second_factor(personas, client):
    from drugratings.testing.personas import make_staff

    fresh = make_staff("new@staff.test")
    fresh.totp_secret, fresh.totp_confirmed_at = "", None
    fresh.save()
    client.post("/accounts/login/", {"email": "new@staff.test", "password": PASSWORD})
    page = client.get("/accounts/two-factor/")
    assert page.status_code == 200 and b"<svg" in page.content
    fresh.refresh_from_db()
    response = client.post("/accounts/two-factor/", {"otp": pyotp.TOTP(fresh.totp_secret).now()})
    assert response.status_code == 302
    fresh.refresh_from_db()
    assert fresh.has_two_factor


def test_totp_codes_are_compared_in_constant_time(personas, monkeypatch):
    """The code check goes through hmac.compare_digest (no early-exit string comparison)."""
    from drugratings.accounts import actions
    from drugratings.errors import InvalidInput

    calls = []

    def spy(a, b):
        calls.append((a, b))
        return False

    monkeypatch.setattr(actions.hmac, "compare_digest", spy)
    code = pyotp.TOTP(TOTP_SECRET).now()
    with pytest.raises(InvalidInput):  # the spy never matches, so even the right code fails
        actions.verify_totp(personas.moderator, code)
    assert len(calls) == 3  # one per accepted drift step, none decided by a plain ==
    assert all(len(expected) == 6 and given == code for expected, given in calls)
