"""A pharma analyst, on a phone, opens an indication report with its chart and downloads the
three export formats; the files open and match the JSON API."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pyotp
import pytest
from openpyxl import load_workbook

from drugratings.conftest import ApiClient
from drugratings.portal.releases import build_release
from drugratings.testing.browser import PHONE, no_horizontal_overflow, shot
from drugratings.testing.personas import PASSWORD, TOTP_SECRET

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_analyst_sees_the_report_chart_and_downloads_every_format(live_server, browser, world):
    build_release()
    indication = world.catalog.hyperlipidemia
    context = browser.new_context(viewport=PHONE, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_email", "analyst@pharma.test")
    page.fill("#id_password", PASSWORD)
    page.click("button.primary")
    page.fill("#id_otp", pyotp.TOTP(TOTP_SECRET).now())
    page.click("button.primary")
    page.goto(f"{live_server.url}/portal/")
    shot(page, "20-portal-dashboard")
    page.click(f"text={indication.name}")
    page.wait_for_url(f"**/portal/indications/{indication.pk}/")
    assert page.locator("svg.forest circle.pt").count() >= 2
    assert "atorvastatin calcium" in page.inner_text("table.compare")
    shot(page, "21-portal-indication-report")
    assert no_horizontal_overflow(page)
    expected = (
        ApiClient(world.analyst)
        .get(f"/api/v1/portal/reports/indications/{indication.pk}")
        .json()["cells"]
    )
    frames = {}
    for fmt in ("CSV", "XLSX", "PARQUET"):
        with page.expect_download() as info:
            page.click(f"a.button:has-text('{fmt}')")
        data = Path(info.value.path()).read_bytes()
        if fmt == "CSV":
            frames[fmt] = pd.read_csv(BytesIO(data))
        elif fmt == "XLSX":
            rows = list(load_workbook(BytesIO(data))["cells"].values)
            frames[fmt] = pd.DataFrame(rows[1:], columns=rows[0])
        else:
            frames[fmt] = pq.read_table(BytesIO(data)).to_pandas()
    for fmt, frame in frames.items():
        assert len(frame) == len(expected), fmt
        published = frame[~frame["suppressed"].astype(bool)]
        want = [c for c in expected if not c["suppressed"]]
        assert list(published["score"].round(6)) == [round(c["score"], 6) for c in want], fmt
    page.select_option("select[name=breakdown]", "specialty")
    page.wait_for_url("**breakdown=specialty**")
    shot(page, "22-portal-breakdown-specialty")
    assert no_horizontal_overflow(page)
    context.close()
