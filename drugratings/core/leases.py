"""Database leases: several workers may run, and each scheduled job is claimed here first."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from drugratings.core.models import JobLease


@transaction.atomic
def claim_lease(name: str, seconds: int) -> bool:
    """Take a named lease if free; exactly one worker wins (conditional UPDATE)."""
    now = timezone.now()
    JobLease.objects.get_or_create(name=name, defaults={"held_until": now - timedelta(seconds=1)})
    return bool(
        JobLease.objects.filter(name=name, held_until__lte=now).update(
            held_until=now + timedelta(seconds=seconds)
        )
    )


def release_lease(name: str) -> None:
    """Free the lease at once (the job finished before its time was up)."""
    JobLease.objects.filter(name=name).update(held_until=timezone.now())
