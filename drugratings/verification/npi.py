"""National Provider Identifier format: 10 digits whose last is a Luhn check digit computed over
the 9 leading digits prefixed with 80840 (the NPI's ISO 7812 issuer prefix)."""

from __future__ import annotations

NPI_PREFIX = "80840"


def luhn_check_digit(digits: str) -> int:
    """The digit that makes `digits` + it pass the Luhn check."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:  # these are doubled once the check digit is appended
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def npi_problem(npi: str) -> str | None:
    """Why `npi` is not a well-formed NPI, or None when it is."""
    if len(npi) != 10 or not npi.isdigit():
        return "An NPI is exactly 10 digits."
    if luhn_check_digit(NPI_PREFIX + npi[:9]) != int(npi[9]):
        return "This NPI's check digit is wrong; please check for a typo."
    return None


def is_valid_npi(npi: str) -> bool:
    return npi_problem(npi) is None
