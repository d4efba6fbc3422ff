"""Engagement over time (comments and page views per drug and completed month).

Each completed month is published once, with Gaussian noise from OpenDP, and again only if its
true value later changes (a comment removed, say). Comment counts below k distinct commenters
are suppressed, and each commenter is charged for every publication that counts them. Page
views carry no identity (counts only), so they are noised but never suppressed.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import numpy as np
from django.db.models import Sum
from django.db.models.functions import TruncMonth

from drugratings.analytics.models import DrugViewDaily
from drugratings.portal.models import EngagementVersion, Release
from drugratings.portal.privacy.noise import gaussian_rho, noisy_values
from drugratings.portal.privacy.policy import PrivacyPolicy
from drugratings.ratings.models import Comment, CommentStatus

ENGAGEMENT_NOISE = 3.0


def _month(value) -> str:
    return value.strftime("%Y-%m")


def _true_values(before_month: str) -> tuple[dict, dict, dict]:
    comments = defaultdict(int)
    commenters: dict[tuple[int, str], set[int]] = defaultdict(set)
    rows = (
        Comment.objects.filter(status=CommentStatus.PUBLISHED)
        .annotate(m=TruncMonth("created_at"))
        .values_list("drug_id", "m", "physician_id")
    )
    for drug_id, month, physician_id in rows.iterator(chunk_size=10000):
        key = (drug_id, _month(month))
        if key[1] < before_month:
            comments[key] += 1
            commenters[key].add(physician_id)
    views = defaultdict(int)
    for drug_id, month, total in (
        DrugViewDaily.objects.annotate(m=TruncMonth("day"))
        .values_list("drug_id", "m")
        .annotate(total=Sum("views"))
        .values_list("drug_id", "m", "total")
    ):
        if _month(month) < before_month:
            views[(drug_id, _month(month))] += int(total)
    return comments, commenters, views


def update_engagement(
    release: Release,
    previous: Release | None,
    policy: PrivacyPolicy,
    now: datetime,
    charges: dict[int, float],
) -> int:
    """Publish new or changed completed months; returns how many were (re)published."""
    comments, commenters, views = _true_values(_month(now))
    current = {}
    if previous is not None:
        for version in EngagementVersion.objects.filter(last_release__isnull=True):
            current[(version.drug_id, version.month)] = version
    changed = [
        key
        for key in set(comments) | set(views)
        if key not in current
        or (current[key].true_comments, current[key].true_views)
        != (comments.get(key, 0), views.get(key, 0))
    ]
    if not changed:
        return 0
    true = np.array([[comments.get(k, 0), views.get(k, 0)] for k in changed], dtype=float)
    noisy = noisy_values(ENGAGEMENT_NOISE, true).reshape(-1, 2)
    rho = gaussian_rho(1.0, ENGAGEMENT_NOISE)  # one comment moves one count by 1
    new = []
    for (drug_id, month), (n_comments, n_views), (true_comments, true_views) in zip(
        changed, noisy, true, strict=True
    ):
        people = commenters.get((drug_id, month), set())
        shown = len(people) >= policy.min_raters
        if shown:
            for physician in people:
                charges[physician] += rho
        new.append(
            EngagementVersion(
                first_release=release,
                drug_id=drug_id,
                month=month,
                comments=max(0, int(np.rint(n_comments))) if shown else None,
                page_views=max(0, int(np.rint(n_views))),
                true_comments=int(true_comments),
                true_views=int(true_views),
            )
        )
    EngagementVersion.objects.filter(
        pk__in=[current[k].pk for k in changed if k in current]
    ).update(last_release=previous)
    EngagementVersion.objects.bulk_create(new, batch_size=5000)
    return len(new)


def engagement_at(release: Release, drug_id: int) -> list[dict]:
    from django.db.models import Q

    rows = (
        EngagementVersion.objects.filter(drug_id=drug_id, first_release__lte=release.pk)
        .filter(Q(last_release__isnull=True) | Q(last_release__gte=release.pk))
        .order_by("month")
    )
    return [{"month": r.month, "comments": r.comments, "page_views": r.page_views} for r in rows]
