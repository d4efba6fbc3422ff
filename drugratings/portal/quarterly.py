"""Quarterly slide decks: when a quarter ends, the worker renders one PDF per subscribed
indication or class of every active organisation, from the latest release."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone

from drugratings.portal import access
from drugratings.portal.areas import subscribed_areas
from drugratings.portal.exports.pdf_format import render
from drugratings.portal.models import (
    Level,
    PharmaOrganization,
    QuarterlyReport,
    Release,
)
from drugratings.portal.portfolio import portfolio_drug_ids
from drugratings.portal.releases import versions_at

MAX_AREAS = 20  # an all-areas organisation gets decks for its portfolio's indications


def last_completed_quarter(today: date) -> str:
    quarter = (today.month - 1) // 3  # 0-based current quarter
    if quarter == 0:
        return f"{today.year - 1}-Q4"
    return f"{today.year}-Q{quarter}"


def _areas(org: PharmaOrganization, release: Release) -> list[tuple[str, int]]:
    indications, classes = subscribed_areas(org)
    if org.all_areas:
        mine = portfolio_drug_ids(org)
        indications = set(
            versions_at(release)
            .filter(level=Level.DRUG_INDICATION, drug_id__in=mine, breakdown="none")
            .values_list("indication_id", flat=True)
            .distinct()[:MAX_AREAS]
        )
        classes = set()
    return [("indications", i) for i in sorted(indications)] + [
        ("classes", c) for c in sorted(classes)
    ]


def generate_quarterly_reports(now: datetime | None = None) -> int:
    """Decks for the last completed quarter that do not exist yet; returns how many were made."""
    now = now or timezone.now()
    release = Release.objects.order_by("-pk").first()
    if release is None:
        return 0
    quarter = last_completed_quarter(timezone.localdate(now))
    made = 0
    for org in PharmaOrganization.objects.filter(is_active=True):
        analyst = org.analysts.filter(user__is_active=True).select_related("user").first()
        if analyst is None:
            continue
        done = set(org.quarterly_reports.filter(quarter=quarter).values_list("kind", "subject_id"))
        for kind, subject_id in _areas(org, release):
            if (kind, subject_id) in done:
                continue
            build = access.indication_report if kind == "indications" else access.drug_class_report
            report = build(analyst.user, subject_id, "none", release.pk)
            QuarterlyReport.objects.create(
                organization=org,
                kind=kind,
                subject_id=subject_id,
                subject_name=str(report.subject.get("name"))[:250],
                quarter=quarter,
                release=release,
                pdf=render(report),
            )
            made += 1
    return made
