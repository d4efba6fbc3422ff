"""The slide-ready PDF: a real PDF of 16:9 pages that poppler renders, from the pinned release."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from drugratings.portal.releases import build_release
from drugratings.portal.tests.conftest import add_physicians, rate

SHOTS = Path(__file__).resolve().parents[3] / "reports" / "screenshots"


def _render_pages(pdf: bytes, tmp_path: Path, name: str) -> list[Path]:
    source = tmp_path / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(source), str(tmp_path / name)], check=True)
    pages = sorted(tmp_path.glob(f"{name}-*.png"))
    if os.environ.get("DRUGRATINGS_KEEP_SCREENSHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        for page in pages:
            shutil.copy(page, SHOTS / page.name)
    return pages


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils (pdftoppm)")
def test_the_pdf_report_is_slides_with_charts_tables_method_notes_and_its_release(
    world, api_as, tmp_path
):
    first = build_release()
    for user in add_physicians(8, start=500):
        rate(user, world.catalog.atorvastatin, world.catalog.hyperlipidemia, 1)
    build_release()
    client = api_as(world.analyst)
    path = f"/api/v1/portal/reports/indications/{world.catalog.hyperlipidemia.pk}"
    response = client.get(path, format="pdf", release=first.pk)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert f"-r{first.pk}.pdf" in response["Content-Disposition"]
    pdf = response.content
    assert pdf.startswith(b"%PDF")
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout
    assert b"960 x 540 pts" in info  # 16:9 slides
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert "Hyperlipidemia" in text and f"Release #{first.pk}" in text
    assert "atorvastatin calcium (Lipitor)" in text and "Method notes" in text
    assert "Tolerability" in text and "95% interval" in text
    pages = _render_pages(pdf, tmp_path, "indication-none")
    assert len(pages) >= 12  # title, two slides per dimension, notes
    by_month = client.get(path, format="pdf", breakdown="month").content
    assert len(_render_pages(by_month, tmp_path, "indication-month")) >= 7
    web = client.get(f"/api/v1/portal/reports/drugs/{world.catalog.atorvastatin.pk}", format="pdf")
    assert web.status_code == 200
    assert client.get(path, format="docx").status_code == 422


def test_the_worker_makes_each_quarters_decks_once_for_each_subscribed_area(world, web_as):
    from datetime import date

    from drugratings.portal.models import QuarterlyReport
    from drugratings.portal.quarterly import generate_quarterly_reports, last_completed_quarter

    assert last_completed_quarter(date(2026, 2, 10)) == "2025-Q4"
    assert last_completed_quarter(date(2026, 11, 30)) == "2026-Q3"
    assert generate_quarterly_reports() == 0  # no release yet
    release = build_release()
    made = generate_quarterly_reports()
    org = world.analyst.pharma_analyst.organization
    decks = QuarterlyReport.objects.filter(organization=org)
    assert made >= 2 and {d.kind for d in decks} == {"indications", "classes"}
    assert {d.subject_name for d in decks} >= {"Hyperlipidemia", "HMG-CoA Reductase Inhibitor"}
    assert all(bytes(d.pdf).startswith(b"%PDF") and d.release_id == release.pk for d in decks)
    assert generate_quarterly_reports() == 0  # once per quarter
    deck = decks.first()
    mine = web_as(world.analyst).get(f"/portal/quarterly/{deck.pk}.pdf")
    assert mine.status_code == 200 and mine.content.startswith(b"%PDF")
    assert web_as(world.outsider).get(f"/portal/quarterly/{deck.pk}.pdf").status_code == 404
    home = web_as(world.analyst).get("/portal/").content.decode()
    assert f"/portal/quarterly/{deck.pk}.pdf" in home
