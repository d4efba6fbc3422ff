"""Where a physician practises, as an ISO code: a US state as ISO 3166-2 (`US-CA`), any other
country as ISO 3166-1 alpha-2 (`GB`, `CA`). Plain two-letter codes were ambiguous: CA, IN, DE,
CO and GA are each a US state and a country. Names come from pycountry (the ISO tables)."""

from __future__ import annotations

from functools import cache

import pycountry


@cache
def _us_states() -> dict[str, str]:
    """ISO 3166-2 code -> name for US states, DC and the outlying areas."""
    return {s.code: s.name for s in pycountry.subdivisions.get(country_code="US")}


@cache
def _state_by_name() -> dict[str, str]:
    return {name.lower(): code for code, name in _us_states().items()}


def us_state_code(text: str) -> str | None:
    """`US-CA` for "CA", "ca", "US-CA" or "California"; None when it names no state."""
    value = " ".join(text.strip().split())
    if not value:
        return None
    upper = value.upper()
    code = upper if upper.startswith("US-") else f"US-{upper}"
    if code in _us_states():
        return code
    return _state_by_name().get(value.lower())


def iso_region(country: str, region_text: str = "") -> str:
    """The region a physician's ratings are counted under: the US state where one is given
    (just "US" if the text names none), otherwise the country itself, so that cells of small
    countries' subdivisions never exist."""
    country = country.strip().upper()
    if country == "US":
        return us_state_code(region_text) or "US"
    return country


def region_name(code: str) -> str:
    """ "California (US-CA)" / "United Kingdom (GB)"; the code itself when unknown."""
    if code in _us_states():
        return f"{_us_states()[code]} ({code})"
    country = pycountry.countries.get(alpha_2=code) if len(code) == 2 else None
    return f"{country.name} ({code})" if country else code
