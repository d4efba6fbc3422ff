"""The organisation runs itself: invites within seats, removal, its own audit log, and each
analyst's own password and second factor."""

from __future__ import annotations

import re

import pyotp
from django.core import mail
from django.test import Client

from drugratings.accounts.models import User
from drugratings.portal.models import PortalRequest
from drugratings.portal.releases import build_release


def _admin(world):
    analyst = world.analyst.pharma_analyst
    analyst.is_org_admin = True
    analyst.save(update_fields=["is_org_admin"])
    return world.analyst


def test_an_admin_invites_an_analyst_who_signs_in_with_totp_and_sees_only_their_areas(
    world, web_as
):
    build_release()
    admin = web_as(_admin(world))
    response = admin.post(
        "/portal/organisation/", {"email": "New.Analyst@Pharma.test", "display_name": "New"}
    )
    assert response.status_code == 302
    invited = User.objects.get(email="new.analyst@pharma.test")
    assert invited.pharma_analyst.organization == world.analyst.pharma_analyst.organization
    assert not invited.has_usable_password()
    link = re.search(r"https?://[^/]+(/portal/invite/\S+/)", mail.outbox[-1].body).group(1)
    browser = Client()
    weak = browser.post(link, {"new_password1": "short", "new_password2": "short"})
    assert weak.status_code == 400
    set_pw = browser.post(
        link,
        {"new_password1": "a-long-new-passphrase-7", "new_password2": "a-long-new-passphrase-7"},
    )
    assert set_pw.status_code == 302 and "/accounts/two-factor/" in set_pw["Location"]
    assert Client().get(link).status_code == 404  # the link works once
    # Until the second factor is enrolled the portal is out of reach.
    assert browser.get("/portal/").status_code == 302
    browser.get("/accounts/two-factor/")  # enrolment shows the secret
    invited.refresh_from_db()
    code = pyotp.TOTP(invited.totp_secret).now()
    assert browser.post("/accounts/two-factor/?next=/portal/", {"otp": code}).status_code == 302
    assert browser.get("/portal/").status_code == 200
    ours = browser.get(f"/portal/indications/{world.catalog.hyperlipidemia.pk}/")
    theirs = browser.get(f"/portal/indications/{world.catalog.depression.pk}/")
    assert ours.status_code == 200 and theirs.status_code == 403
    admin.get("/portal/")
    export = admin.get("/portal/organisation/audit.csv")
    assert export.status_code == 200
    text = export.content.decode()
    assert "new.analyst@pharma.test" in text and world.analyst.email in text
    assert f"/portal/indications/{world.catalog.depression.pk}/" in text and ",403" in text
    assert world.outsider.email not in text


def test_seats_bound_invites_and_removal_frees_a_seat_and_ends_access(world, web_as, api_as):
    admin_user = _admin(world)
    org = admin_user.pharma_analyst.organization
    org.seats = 2
    org.save(update_fields=["seats"])
    admin = web_as(admin_user)
    assert admin.post("/portal/organisation/", {"email": "one@pharma.test"}).status_code == 302
    full = admin.post("/portal/organisation/", {"email": "two@pharma.test"})
    assert full.status_code == 400 and "seats are taken" in full.content.decode()
    assert not User.objects.filter(email="two@pharma.test").exists()
    assert admin.post("/portal/organisation/", {"email": "not-an-email"}).status_code == 400
    taken = admin.post("/portal/organisation/", {"email": world.outsider.email})
    assert taken.status_code == 400
    one = User.objects.get(email="one@pharma.test")
    client = api_as(one)
    assert client.get("/api/v1/portal/areas").status_code == 200
    assert admin.post("/portal/organisation/", {"remove": one.pharma_analyst.pk}).status_code == 302
    one.refresh_from_db()
    assert not one.is_active
    assert client.get("/api/v1/portal/areas").status_code == 401
    assert admin.post("/portal/organisation/", {"email": "two@pharma.test"}).status_code == 302
    # An outsider's admin cannot remove our analysts; a plain analyst cannot administer.
    outsider = world.outsider.pharma_analyst
    outsider.is_org_admin = True
    outsider.save(update_fields=["is_org_admin"])
    other = User.objects.get(email="two@pharma.test")
    assert (
        web_as(world.outsider)
        .post("/portal/organisation/", {"remove": other.pharma_analyst.pk})
        .status_code
        == 404
    )
    assert web_as(other).get("/portal/organisation/").status_code == 403
    assert web_as(other).get("/portal/organisation/audit.csv").status_code == 403


def test_an_analyst_changes_their_password_and_second_factor(world, web_as):
    client = web_as(world.analyst)
    wrong = client.post(
        "/portal/account/",
        {
            "current_password": "nope",
            "new_password1": "another-long-pass-8",
            "new_password2": "another-long-pass-8",
        },
    )
    assert wrong.status_code == 400
    ok = client.post(
        "/portal/account/",
        {
            "current_password": "correct-horse-battery-9",
            "new_password1": "another-long-pass-8",
            "new_password2": "another-long-pass-8",
        },
    )
    assert ok.status_code == 302
    world.analyst.refresh_from_db()
    assert world.analyst.check_password("another-long-pass-8")
    old_secret = world.analyst.totp_secret
    restart = client.post(
        "/portal/account/", {"action": "second-factor", "password": "another-long-pass-8"}
    )
    assert restart.status_code == 302 and "/accounts/two-factor/" in restart["Location"]
    world.analyst.refresh_from_db()
    assert world.analyst.totp_secret != old_secret and not world.analyst.has_two_factor
    assert PortalRequest.objects.filter(user=world.analyst, path="/portal/account/").exists()
