"""Match a physician's claimed NPI and name against the local NPPES registry copy.

A match needs: an active individual record (entity type 1, not deactivated), the same last name
and first initial (compared without case, accents or punctuation), and a primary taxonomy that
NUCC groups under "Allopathic & Osteopathic Physicians". Anything else is pending (a person can
still be a physician: a verifier looks) or rejected (the registry says they are not).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from drugratings.accounts.models import VerificationStatus
from drugratings.verification.models import RegistryRecord, Taxonomy


@dataclass(frozen=True)
class MatchOutcome:
    status: str
    reason: str
    taxonomy: Taxonomy | None = None


def normalise_name(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if c.isalpha()).upper()


def match_registry(npi: str, first_name: str, last_name: str) -> MatchOutcome:
    record = RegistryRecord.objects.filter(npi=npi).first()
    if record is None:
        return MatchOutcome(
            VerificationStatus.PENDING,
            "This NPI is not in our copy of the NPPES registry; a verifier will "
            "review your licence.",
        )
    if not record.is_active:
        return MatchOutcome(
            VerificationStatus.REJECTED, "The NPPES registry lists this NPI as deactivated."
        )
    if record.entity_type != 1:
        return MatchOutcome(
            VerificationStatus.REJECTED,
            "This NPI belongs to an organisation, not an individual physician.",
        )
    taxonomy = Taxonomy.objects.filter(code=record.primary_taxonomy).first()
    if taxonomy is None:
        return MatchOutcome(
            VerificationStatus.PENDING,
            f"The registry's taxonomy {record.primary_taxonomy or '(none)'} is "
            "unknown to us; a verifier will review your licence.",
        )
    if not taxonomy.is_physician:
        return MatchOutcome(
            VerificationStatus.REJECTED,
            f"The registry lists this NPI as {taxonomy.display_name or taxonomy.classification}"
            ", which is not a physician taxonomy.",
            taxonomy,
        )
    same_last = normalise_name(record.last_name) == normalise_name(last_name)
    same_initial = normalise_name(record.first_name)[:1] == normalise_name(first_name)[:1]
    if not (same_last and same_initial):
        return MatchOutcome(
            VerificationStatus.PENDING,
            "Your name does not match the registry record of this NPI; a verifier "
            "will review your licence.",
            taxonomy,
        )
    return MatchOutcome(
        VerificationStatus.VERIFIED,
        f"Matched the NPPES registry ({taxonomy.display_name or taxonomy.classification}).",
        taxonomy,
    )
