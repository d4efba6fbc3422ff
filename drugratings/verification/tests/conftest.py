from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

FIXTURES = Path(__file__).parent / "fixtures"
NPPES_TEST_ROWS = FIXTURES / "nppes_test_rows.csv"

# NPIs of the made-up rows in nppes_test_rows.csv (see make_nppes_test_rows.py).
LOVELACE_MD = "1000000012"
HARVEY_CARDIOLOGY = "1000000020"
NIGHTINGALE_RN = "1000000038"
SNOW_DEACTIVATED = "1000000046"
HOSPITAL_ORG = "1000000053"
APGAR_REACTIVATED = "1000000061"
POTTER_COUNSELOR = "1851806699"  # a real row of the NPPES sample: not a physician


@pytest.fixture
def registry(db):
    call_command("import_taxonomy", verbosity=0, stdout=StringIO())
    call_command(
        "import_nppes", str(NPPES_TEST_ROWS), "--no-progress", stdout=StringIO(), stderr=StringIO()
    )
