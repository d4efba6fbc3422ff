"""The NPPES importer streams the dissemination file and suspends deactivated physicians."""

from __future__ import annotations

import csv
from io import StringIO
from pathlib import Path

from django.core.management import call_command

from drugratings.accounts.models import VerificationStatus
from drugratings.testing.personas import make_physician
from drugratings.verification.models import Decision, RegistryRecord, VerificationDecision
from drugratings.verification.tests.conftest import LOVELACE_MD, NPPES_TEST_ROWS, SNOW_DEACTIVATED


def run(path: Path) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_nppes", str(path), "--no-progress", "--batch", "3", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_loads_every_row_and_keeps_only_what_verification_needs(registry):
    assert RegistryRecord.objects.count() == 10
    snow = RegistryRecord.objects.get(npi=SNOW_DEACTIVATED)
    assert not snow.is_active and snow.deactivation_date.isoformat() == "2025-01-15"
    ada = RegistryRecord.objects.get(npi=LOVELACE_MD)
    assert (ada.last_name, ada.first_name, ada.primary_taxonomy, ada.entity_type) == (
        "LOVELACE",
        "ADA",
        "207R00000X",
        1,
    )


def test_malformed_rows_are_reported_by_line_and_skipped(registry, tmp_path: Path):
    rows = list(csv.reader(NPPES_TEST_ROWS.open(newline="")))
    bad_date = list(rows[4])
    bad_date[0] = "1000000095"
    bad_date[39] = "2025-01-15"  # NPI Deactivation Date must be MM/DD/YYYY
    path = tmp_path / "npidata.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerows([rows[0], rows[4], ["123", "1"], bad_date, rows[5]])
    out, err = run(path)
    assert "npidata.csv:3: expected 330 columns, found 2" in err
    assert "npidata.csv:4: NPI Deactivation Date '2025-01-15'" in err
    assert "2 records loaded, 2 rows skipped" in out


def test_a_refresh_that_deactivates_an_npi_suspends_the_physician(registry, tmp_path: Path):
    user = make_physician(
        "ada@clinic.test", npi=LOVELACE_MD, first_name="Ada", last_name="Lovelace"
    )
    rows = list(csv.reader(NPPES_TEST_ROWS.open(newline="")))
    header = rows[0]
    ada = next(r for r in rows if r[0] == LOVELACE_MD)
    ada[header.index("NPI Deactivation Date")] = "11/01/2026"
    path = tmp_path / "weekly.csv"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([header, ada])
    out, _ = run(path)
    assert "1 physician(s) suspended" in out
    user.physician.refresh_from_db()
    assert user.physician.verification_status == VerificationStatus.SUSPENDED
    decision = VerificationDecision.objects.get(physician=user.physician)
    assert decision.decision == Decision.SUSPENDED and decision.decided_by is None
    assert "deactivated" in decision.reason
