import pytest

from drugratings.verification.npi import is_valid_npi, luhn_check_digit, npi_problem


@pytest.mark.parametrize("npi", ["1234567893", "1851806699", "1699600866", "1000000012"])
def test_real_and_test_npis_pass_the_check_digit(npi):
    assert is_valid_npi(npi)


@pytest.mark.parametrize(
    ("npi", "message"),
    [
        ("1234567890", "check digit"),
        ("123456789", "10 digits"),
        ("12345678901", "10 digits"),
        ("12345678a3", "10 digits"),
        ("", "10 digits"),
    ],
)
def test_malformed_npis_say_why(npi, message):
    assert message in npi_problem(npi)


def test_the_check_digit_follows_the_cms_worked_example():
    # CMS: NPI 123456789_ -> prefix 80840 -> check digit 3.
    assert luhn_check_digit("80840123456789") == 3
