"""Time windows for scores: all time and the trailing twelve months."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone


def trailing_12m_start(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=365)
