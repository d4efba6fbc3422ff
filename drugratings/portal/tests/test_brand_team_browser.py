"""The demo brand analyst, in a browser: signs in with TOTP, lands on the portfolio, answers
"my drug vs competitors on tolerability among cardiologists, by month", and downloads that
answer as CSV and as the slide-ready PDF."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pandas as pd
import pyotp
import pytest

from drugratings.accounts.models import Specialty
from drugratings.demo.accounts import PASSWORD, TOTP_SECRET, ensure_demo_accounts
from drugratings.portal.releases import build_release
from drugratings.portal.tests.test_combined_breakdowns import _spread_over_months
from drugratings.testing.browser import no_horizontal_overflow, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DESKTOP = {"width": 1280, "height": 900}


def test_the_demo_brand_analyst_answers_tolerability_among_cardiologists_by_month(
    live_server, browser, world
):
    ensure_demo_accounts()
    # Month cells show once their month has closed (issue 13): four closed months of ratings.
    _spread_over_months(world, extra=330, months_back=4)
    release = build_release()
    cardiology = Specialty.objects.get(slug="cardiology")
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/portal/")
    page.fill("#id_email", "analyst@demo.drugratings.org")
    page.fill("#id_password", PASSWORD)
    page.click("button.primary")
    page.fill("#id_otp", pyotp.TOTP(TOTP_SECRET).now())
    page.click("button.primary")
    page.wait_for_url("**/portal/")
    # The portfolio: Pfizer's Lipitor with its score, rank, change and trend.
    page.select_option("select[name=dimension]", "tolerability")
    page.wait_for_url("**dimension=tolerability**")
    portfolio = page.inner_text("table.portfolio")
    assert "atorvastatin calcium" in portfolio and "Lipitor" in portfolio
    assert "of 2" in portfolio  # ranked against its competitor
    assert page.locator("table.portfolio svg.sparkline").count() >= 1
    shot(page, "30-brand-portfolio")
    assert no_horizontal_overflow(page)
    # One click: by specialty and month, then the cardiologists.
    page.click("text=by specialty and month")
    page.wait_for_url(lambda url: "breakdown=specialty" in url and "month" in url)
    page.select_option("select[name=focus]", cardiology.name)
    page.wait_for_url(lambda url: "focus=Cardiology" in url)
    heading = page.inner_text("#months-h")
    assert "Tolerability by month" in heading and "Cardiology" in heading
    assert page.locator("svg.lines polyline").count() == 2  # one line per drug
    table = page.inner_text("section[aria-labelledby=months-h] table")
    assert "atorvastatin calcium" in table and "rosuvastatin calcium" in table
    shot(page, "31-brand-tolerability-cardiology-by-month")
    with page.expect_download() as info:
        page.click("a.button:has-text('CSV')")
    assert f"specialty,month-r{release.pk}.csv" in info.value.suggested_filename
    frame = pd.read_csv(BytesIO(Path(info.value.path()).read_bytes()))
    mine = frame[
        (frame["dimension"] == "tolerability")
        & frame["breakdown_value"].str.startswith("specialty=Cardiology;")
        & ~frame["suppressed"].astype(bool)
    ]
    assert set(mine["drug_name"]) == {"atorvastatin calcium", "rosuvastatin calcium"}
    with page.expect_download() as info:
        page.click("a.button:has-text('PDF')")
    pdf = Path(info.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF") and info.value.suggested_filename.endswith(".pdf")
    (Path(__file__).resolve().parents[3] / "reports" / "screenshots").mkdir(
        parents=True, exist_ok=True
    )
    (Path(__file__).resolve().parents[3] / "reports" / "screenshots" / "32-brand.pdf").write_bytes(
        pdf
    )
    context.close()
