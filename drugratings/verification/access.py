"""Reads of verification data. Identities (name, NPI, licence) are shown to verification staff
only, through the admin; other apps get the one fact they need, never the identity itself."""

from __future__ import annotations

from drugratings.verification.models import PhysicianIdentity


def npi_of(physician_id: int) -> str | None:
    """The physician's NPI, for matching Open Payments records (trust's conflict check)."""
    return (
        PhysicianIdentity.objects.filter(physician_id=physician_id)
        .values_list("npi", flat=True)
        .first()
    ) or None


def physicians_with_npis(npis: set[str]) -> list[int]:
    """Physician ids behind a set of NPIs (new Open Payments records touch these)."""
    return list(
        PhysicianIdentity.objects.filter(npi__in=npis).values_list("physician_id", flat=True)
    )
