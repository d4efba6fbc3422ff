"""The typed records every catalogue source is turned into before loading."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass
class DrugRecord:
    source_id: str
    generic_name: str
    moiety_key: str
    approval_status: str = ""
    product_type: str = ""
    classes: list[str] = field(default_factory=list)
    primary_class: str = ""
    class_source: str = ""
    brand_names: list[str] = field(default_factory=list)
    manufacturers: list[str] = field(default_factory=list)
    application_numbers: list[str] = field(default_factory=list)
    routes: list[str] = field(default_factory=list)
    dosage_forms: list[str] = field(default_factory=list)
    dea_schedule: str = ""
    first_marketed: date | None = None
    is_listed: bool = True


@dataclass(frozen=True)
class BrandRecord:
    brand_name: str
    moiety_key: str
    application_number: str
    application_holder: str
    routes: str
    first_marketed: date | None


@dataclass(frozen=True)
class IndicationRecord:
    name: str
    icd10_codes: tuple[str, ...]
    doid: str
    umls_cui: str
    drug_source_ids: tuple[str, ...]


def moiety_key(moieties: list[str]) -> str:
    """Canonical key of a set of active moieties: lower-cased, sorted, '; '-joined."""
    return "; ".join(sorted({m.strip().lower() for m in moieties if m.strip()}))
